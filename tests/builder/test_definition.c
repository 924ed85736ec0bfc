/* Unit tests for the image definition parser (builder/definition.c):
 * table-driven, one line per case: a YAML document, and either the values
 * it must give or the exact error (with its line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "definition.h"
#include "error.h"

#define BASE "/base"
#define BASIC "name: n\nversion: 1.0.0\nref: a/b\nrepo: /r\n"

typedef struct {
    const char *yaml;
    const char *error; /* expected message, NULL: must parse and finish */
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"", "t.yaml: the definition is empty"},
    {"- a\n- b\n", "t.yaml:1: expected a mapping of keys, got a list"},
    {BASIC "colour: blue\n", "t.yaml:5: unknown key 'colour'"},
    {BASIC "compose:\n  backend: tree\n  sorce: ./x\n", "t.yaml:7: unknown key 'compose.sorce'"},
    {BASIC "name: again\n", "t.yaml:5: duplicate key 'name'"},
    {BASIC "keep: five\n", "t.yaml:5: key 'keep': expected an integer from 1 to 1000, got 'five'"},
    {BASIC "keep: 0\n", "t.yaml:5: key 'keep': expected an integer from 1 to 1000, got '0'"},
    {BASIC "keep: -3\n", "t.yaml:5: key 'keep': expected an integer from 1 to 1000, got '-3'"},
    {BASIC "deltas_from: [1]\n", "t.yaml:5: key 'deltas_from': expected a single value, got a list"},
    {BASIC "keep:\n", "t.yaml:5: key 'keep': no value (remove the key to use the default)"},
    {BASIC "scratch_delta: maybe\n", "t.yaml:5: key 'scratch_delta': expected true or false, got 'maybe'"},
    {BASIC "prune_grace: 1 hour\n",
     "t.yaml:5: key 'prune_grace': expected a duration from 0s to 2592000s: seconds, or a number with s, m, h or d "
     "(90s, 30m, 1h), got '1 hour'"},
    {BASIC "prune_grace: 31d\n",
     "t.yaml:5: key 'prune_grace': expected a duration from 0s to 2592000s: seconds, or a number with s, m, h or d "
     "(90s, 30m, 1h), got '31d'"},
    {BASIC "prune_grace: 1hs\n",
     "t.yaml:5: key 'prune_grace': expected a duration from 0s to 2592000s: seconds, or a number with s, m, h or d "
     "(90s, 30m, 1h), got '1hs'"},
    {BASIC "compose:\n  backend: docker\n",
     "t.yaml:6: key 'compose.backend': expected one of tree, edge-commit, weldr, got 'docker'"},
    {BASIC "compose: ./rootfs\n", "t.yaml:5: key 'compose': expected a mapping of keys, got a scalar"},
    {BASIC "sign:\n  gpg_key_id: 'AB CD'\n",
     "t.yaml:6: key 'sign.gpg_key_id': expected a GPG key id or fingerprint (no spaces), got 'AB CD'"},
    {"name: n\nversion: 1.0.0\nref: /bad//ref\nrepo: /r\n",
     "t.yaml:3: key 'ref': expected an ostree ref such as rhel/9/x86_64/edge, got '/bad//ref'"},
    {"name: n\nversion: .1\nref: a\nrepo: /r\n",
     "t.yaml:2: key 'version': expected a version such as 2.0.0: a letter or digit first, then letters, digits, "
     "'.', '_', '-' (at most 128), got '.1'"},
    {"name: 'my image'\n", "t.yaml:1: key 'name': expected letters, digits, '.', '_' and '-' only, got 'my image'"},
    {"name: n\nversion: 1.0\nref: a\n", "t.yaml:1: missing required key 'repo'"},
    {BASIC "keep: 3\ndeltas_from: 3\n",
     "t.yaml:6: key 'deltas_from' (3) must be less than 'keep' (3, t.yaml:5): deltas from pruned versions would be "
     "deleted at once"},
    {BASIC "kickstart:\n  gpg_key_url: ftp://x\n",
     "t.yaml:6: key 'kickstart.gpg_key_url': expected a URL starting with http://, https:// or @URL@, got 'ftp://x'"},
    {BASIC "deploy:\n  platform: nomad\n", "t.yaml:6: key 'deploy.platform': expected openshift or kubernetes, got 'nomad'"},
    {BASIC "deploy:\n  namespace: Dcn_Prod\n",
     "t.yaml:6: key 'deploy.namespace': expected a namespace: lower-case letters, digits and '-' (at most 63), got 'Dcn_Prod'"},
    {BASIC "deploy:\n  registry: reg:5000/dcn\n",
     "t.yaml:6: key 'deploy.registry': expected a registry host[:port], such as image-registry.openshift-image-registry.svc:5000, got 'reg:5000/dcn'"},
    {BASIC "deploy:\n  url: dcn.apps.example.com\n",
     "t.yaml:6: key 'deploy.url': expected a URL starting with http:// or https://, got 'dcn.apps.example.com'"},
    {BASIC "deploy:\n  timeout: 0\n", "t.yaml:6: key 'deploy.timeout': expected an integer from 1 to 86400, got '0'"},
    {BASIC "deploy:\n  platform: kubernetes\n  namespace: dcn-prod\n  url: https://dcn.example.com\n  timeout: 120\n", NULL},
    {"name: [unclosed\n", "t.yaml:2: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence"},
    {"name: n\n\tversion: 1\n", "t.yaml:2: YAML syntax error: found a tab character that violates "
                                 "indentation while scanning a plain scalar"},
    {BASIC, NULL},
    {BASIC "sign:\n", NULL},
    /* every problem of a document at once, in document order, each with its line */
    {BASIC "colour: blue\nkeep: five\ncompose:\n  sorce: ./x\n  backend: docker\nkeep: 4\n",
     "t.yaml:5: unknown key 'colour'\n"
     "t.yaml:6: key 'keep': expected an integer from 1 to 1000, got 'five'\n"
     "t.yaml:8: unknown key 'compose.sorce'\n"
     "t.yaml:9: key 'compose.backend': expected one of tree, edge-commit, weldr, got 'docker'\n"
     "t.yaml:10: duplicate key 'keep'"},
    {"name: n\nkeep: 2\ndeltas_from: 2\n",
     "t.yaml:1: missing required key 'version'\n"
     "t.yaml:1: missing required key 'ref'\n"
     "t.yaml:1: missing required key 'repo'\n"
     "t.yaml:3: key 'deltas_from' (2) must be less than 'keep' (2, t.yaml:2): deltas from pruned versions would be "
     "deleted at once"},
    /* a rejected required key is not also reported missing */
    {"name: 'a b'\nversion: 1\nref: a\nrepo: /r\n",
     "t.yaml:1: key 'name': expected letters, digits, '.', '_' and '-' only, got 'a b'"},
    /* composer.parent: a ref composer resolves at composer.url, never a commit */
    {BASIC "composer:\n  parent: rhel/9/x86_64/edge-stable\n", NULL},
    {BASIC "composer:\n  parent: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
     "t.yaml:6: key 'composer.parent': expected a ref on the hosted repo such as rhel/9/x86_64/edge, not a commit "
     "checksum (most osbuild-composer versions take only a ref as parent; leave composer.parent out to build on the "
     "hosted head), got '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'"},
    {BASIC "composer:\n  parent: 'a ref'\n",
     "t.yaml:6: key 'composer.parent': expected an ostree ref such as rhel/9/x86_64/edge (composer resolves it at "
     "composer.url), got 'a ref'"},
    /* kickstart: values that could add a command are refused, each with its line; the cross-checks */
    {BASIC "kickstart:\n  lang: de_DE.UTF-8\n  keyboard: de-nodeadkeys\n  timezone: Europe/Berlin\n  disk: \"\"\n"
           "  network: dhcp:eno1\n  updates: stage\n  user:\n    name: core\n"
           "    password_hash: $6$rounds=5000$saltsalt$abcdefghijklmnop\n",
     NULL},
    {BASIC "kickstart:\n  lang: \"en_US.UTF-8\\nreboot\"\n  user:\n    name: \"core\\rx\"\n",
     "t.yaml:6: key 'kickstart.lang': expected a single line, got 'en_US.UTF-8\\nreboot'\n"
     "t.yaml:8: key 'kickstart.user.name': expected a single line, got 'core\\rx'"},
    {BASIC "kickstart:\n  keyboard: \"us\\0x\"\n", "t.yaml:6: key 'kickstart.keyboard': contains a NUL character"},
    {BASIC "kickstart:\n  extra: \"a\\0b\"\n", "t.yaml:6: key 'kickstart.extra': contains a NUL character"},
    {BASIC "kickstart:\n  disk: 'sda --drives=sdb'\n",
     "t.yaml:6: key 'kickstart.disk': expected a disk such as vda, sda, nvme0n1, /dev/sda or /dev/disk/by-id/NAME "
     "(by-id, by-path, by-uuid, by-label, by-partuuid, by-partlabel), got 'sda --drives=sdb'"},
    {BASIC "kickstart:\n  user:\n    name: core\n    ssh_keys: ['ssh-ed25519 AAAA\" x', 'ssh-rsa ok']\n",
     "t.yaml:8: key 'kickstart.user.ssh_keys': expected an OpenSSH public key \"TYPE BASE64 [COMMENT]\" (TYPE "
     "ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or sk-...@openssh.com; BASE64 a key of that type; COMMENT "
     "printable, without '\"', '\\' or @NAME@; no options such as from=), got 'ssh-ed25519 AAAA\\\" x'\n"
     "t.yaml:8: key 'kickstart.user.ssh_keys': expected an OpenSSH public key \"TYPE BASE64 [COMMENT]\" (TYPE "
     "ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521 or sk-...@openssh.com; BASE64 a key of that type; COMMENT "
     "printable, without '\"', '\\' or @NAME@; no options such as from=), got 'ssh-rsa ok'"},
    {BASIC "kickstart:\n  user:\n    ssh_keys: []\n",
     "t.yaml:6: kickstart.user has ssh_keys but no name: the account's name (kickstart.user.name)"},
    {BASIC "kickstart:\n  gpg_key_url: \"https://x/k.gpg';reboot;'\"\n",
     "t.yaml:6: key 'kickstart.gpg_key_url': expected a URL starting with http://, https:// or @URL@, without "
     "blanks, quotes or backslashes, got 'https://x/k.gpg';reboot;''"},
    {BASIC "kickstart:\n  template: ./my.ks.in\n  timezone: UTC\n  updates: check\n",
     "t.yaml:7: kickstart.timezone does nothing with kickstart.template (t.yaml:6), which replaces the built-in "
     "kickstart: remove one of them\n"
     "t.yaml:8: kickstart.updates does nothing with kickstart.template (t.yaml:6), which replaces the built-in "
     "kickstart: remove one of them"},
    {BASIC "kickstart:\n  template: ./my.ks.in\n  extra: 'reboot'\n", NULL},
    {BASIC "kickstart:\n  keyboard: us\n  disk: vda\n  extra: |\n    keyboard --xlayouts=cz\n    ignoredisk --drives=sdb\n"
           "    part / --size=8000\n",
     "t.yaml:6: kickstart.keyboard and a keyboard command in kickstart.extra (t.yaml:8) set the same thing: remove "
     "one\n"
     "t.yaml:7: kickstart.disk and a ignoredisk command in kickstart.extra (t.yaml:8) set the same thing: remove one"},
    /* a command only inside %post is not one of extra's commands */
    {BASIC "kickstart:\n  lang: en_GB.UTF-8\n  extra: |\n    %post\n    lang x\n    %end\n", NULL},
    {BASIC "composer:\n  parent: '-x'\n",
     "t.yaml:6: key 'composer.parent': expected an ostree ref such as rhel/9/x86_64/edge (composer resolves it at "
     "composer.url), got '-x'"},
};

static void test_errors(void **state)
{
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const ErrorCase *c = &error_cases[i];
        g_autoptr(DcnDefinition) def = dcn_definition_new();
        g_autoptr(GError) error = NULL;
        gboolean ok = dcn_definition_parse(def, c->yaml, strlen(c->yaml), "t.yaml", BASE, &error) &&
                      dcn_definition_finish(def, &error);
        if (!c->error) {
            if (!ok)
                fail_msg("case %zu: unexpected error: %s", i, error->message);
            continue;
        }
        if (ok)
            fail_msg("case %zu: parsed, expected error: %s", i, c->error);
        if (strcmp(error->message, c->error) != 0)
            fail_msg("case %zu:\n  got:      %s\n  expected: %s", i, error->message, c->error);
        assert_true(error->domain == DCN_BUILDER_ERROR);
    }
}

static void test_full_example_values(void **state)
{
    static const char yaml[] = "name: dcn-edge\n"
                               "version: 2.0.0\n"
                               "ref: rhel/9/x86_64/edge\n"
                               "osname: rhel\n"
                               "compose:\n"
                               "  backend: edge-commit     # comment\n"
                               "  source: ./rootfs.tar.zst\n"
                               "repo: /srv/dcn/repo\n"
                               "keep: 5\n"
                               "deltas_from: 3\n"
                               "delta_min_fallback_mb: 4\n"
                               "scratch_delta: no\n"
                               "sign:\n"
                               "  gpg_key_id: 23C11EA36B39360D\n"
                               "  gpg_homedir: gnupg\n"
                               "kickstart:\n"
                               "  extra: |\n"
                               "    zerombr\n"
                               "    clearpart --all --initlabel\n";
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    g_autoptr(GError) error = NULL;
    assert_true(dcn_definition_parse(def, yaml, strlen(yaml), "t.yaml", BASE, &error));
    assert_true(dcn_definition_finish(def, &error));
    assert_string_equal(def->name, "dcn-edge");
    assert_string_equal(def->version, "2.0.0");
    assert_string_equal(def->ref, "rhel/9/x86_64/edge");
    assert_string_equal(def->osname, "rhel");
    assert_int_equal(def->compose_backend, DCN_COMPOSE_EDGE_COMMIT);
    assert_string_equal(def->compose_source, BASE "/rootfs.tar.zst");
    assert_string_equal(def->repo, "/srv/dcn/repo");
    assert_int_equal(def->keep, 5);
    assert_int_equal(def->deltas_from, 3);
    assert_int_equal(def->delta_min_fallback_mb, 4);
    assert_false(def->scratch_delta);
    assert_string_equal(def->gpg_key_id, "23C11EA36B39360D");
    assert_string_equal(def->gpg_homedir, BASE "/gnupg");
    assert_string_equal(def->kickstart_extra, "zerombr\nclearpart --all --initlabel\n");
    /* defaults derived by finish() */
    assert_string_equal(def->subject, "dcn-edge 2.0.0");
    assert_string_equal(def->staging, "/srv/dcn/.repo-staging");
    assert_string_equal(def->kickstart_path, "/srv/dcn/dcn-edge.ks");
}

static void test_defaults(void **state)
{
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    g_autoptr(GError) error = NULL;
    assert_true(dcn_definition_parse(def, BASIC, strlen(BASIC), "t.yaml", BASE, &error));
    assert_true(dcn_definition_finish(def, &error));
    assert_int_equal(def->compose_backend, DCN_COMPOSE_TREE);
    assert_int_equal(def->keep, 5);
    assert_int_equal(def->deltas_from, 3);
    assert_int_equal(def->delta_min_fallback_mb, 0);
    assert_true(def->scratch_delta);
    assert_int_equal(def->prune_grace, 3600);
    assert_string_equal(def->osname, "a"); /* first component of the ref */
    assert_null(def->gpg_key_id);
}

/* Durations: seconds, or a number with s, m, h, d; one table line each. */
static void test_durations(void **state)
{
    static const struct {
        const char *value;
        guint seconds;
    } cases[] = {{"0", 0}, {"90", 90}, {"90s", 90}, {"30m", 1800}, {"1h", 3600}, {"2d", 172800}, {"30d", 2592000}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(DcnDefinition) def = dcn_definition_new();
        g_autoptr(GError) error = NULL;
        assert_true(dcn_definition_parse(def, BASIC, strlen(BASIC), "t.yaml", BASE, &error));
        if (!dcn_definition_set(def, "prune_grace", cases[i].value, "--prune-grace", &error))
            fail_msg("case %s: %s", cases[i].value, error->message);
        assert_int_equal(def->prune_grace, cases[i].seconds);
    }
    static const char *const bad[] = {"", "h", "-1", "1.5h", "1w", "1 h", "99999999999", "1H"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(DcnDefinition) def = dcn_definition_new();
        g_autoptr(GError) error = NULL;
        assert_true(dcn_definition_parse(def, BASIC, strlen(BASIC), "t.yaml", BASE, &error));
        if (dcn_definition_set(def, "prune_grace", bad[i], "--prune-grace", &error))
            fail_msg("case '%s' accepted", bad[i]);
    }
}

/* Overrides go through the same checks; their origin names the flag. */
static void test_overrides(void **state)
{
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    g_autoptr(GError) error = NULL;
    assert_true(dcn_definition_parse(def, BASIC "keep: 3\n", strlen(BASIC "keep: 3\n"), "t.yaml", BASE, &error));
    assert_true(dcn_definition_set(def, "version", "2.0.0", "--version", &error));
    assert_true(dcn_definition_set(def, "keep", "7", "DCN_BUILDER_KEEP", &error));
    assert_true(dcn_definition_set(def, "sign.gpg_key_id", "ABCD", "--gpg-key-id", &error));
    assert_true(dcn_definition_set(def, "compose.source", "/abs/tree", "--source", &error));
    assert_string_equal(def->version, "2.0.0");
    assert_int_equal(def->keep, 7);
    assert_string_equal(def->gpg_key_id, "ABCD");
    assert_string_equal(def->compose_source, "/abs/tree");

    assert_false(dcn_definition_set(def, "keep", "lots", "--keep", &error));
    assert_string_equal(error->message, "--keep: key 'keep': expected an integer from 1 to 1000, got 'lots'");
    g_clear_error(&error);
    assert_false(dcn_definition_set(def, "deltas_from", "9", "--deltas-from", &error) == FALSE);
    assert_false(dcn_definition_finish(def, &error));
    assert_string_equal(error->message, "--deltas-from: key 'deltas_from' (9) must be less than 'keep' (7, "
                                        "DCN_BUILDER_KEEP): deltas from pruned versions would be deleted at once");
}

/* Where a message points: the key's own line, else its section's, else
 * the file's first line; overrides name their flag. */
static void test_where(void **state)
{
    static const char yaml[] = BASIC "registry:\n  username: u\nprovider:\n  kind: kubevirt\n";
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    g_autoptr(GError) error = NULL;
    assert_true(dcn_definition_parse(def, yaml, strlen(yaml), "t.yaml", BASE, &error));
    assert_true(dcn_definition_set(def, "vm.image", "https://x/y.qcow2", "--vm-image", &error));
    assert_true(dcn_definition_finish(def, &error));
    assert_string_equal(dcn_definition_where(def, "registry.username"), "t.yaml:6");
    assert_string_equal(dcn_definition_where(def, "registry.url"), "t.yaml:5");
    assert_string_equal(dcn_definition_where(def, "provider.kind"), "t.yaml:8");
    assert_string_equal(dcn_definition_where(def, "vm.image"), "--vm-image");
    assert_string_equal(dcn_definition_where(def, "deploy.url"), "t.yaml:1");
    assert_null(dcn_definition_origin(def, "deploy.url"));
    assert_int_equal(dcn_definition_problems(def)->len, 0);
}

/* kubevirt.ssh_via: the VMI's address inside the cluster (a pod has
 * KUBERNETES_SERVICE_HOST), virtctl outside it; a written value wins. */
static void test_ssh_via_default(void **state)
{
    static const struct {
        const char *env, *yaml, *expected;
    } cases[] = {
        {NULL, BASIC, "virtctl"},
        {"10.0.0.1", BASIC, "address"},
        {NULL, BASIC "kubevirt:\n  ssh_via: address\n", "address"},
        {"10.0.0.1", BASIC "kubevirt:\n  ssh_via: virtctl\n", "virtctl"},
    };
    g_autofree char *saved = g_strdup(g_getenv("KUBERNETES_SERVICE_HOST"));
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        if (cases[i].env)
            g_setenv("KUBERNETES_SERVICE_HOST", cases[i].env, TRUE);
        else
            g_unsetenv("KUBERNETES_SERVICE_HOST");
        g_autoptr(DcnDefinition) def = dcn_definition_new();
        g_autoptr(GError) error = NULL;
        assert_true(dcn_definition_parse(def, cases[i].yaml, strlen(cases[i].yaml), "t.yaml", BASE, &error));
        assert_true(dcn_definition_finish(def, &error));
        if (strcmp(def->kubevirt_ssh_via, cases[i].expected) != 0)
            fail_msg("case %zu: ssh_via %s, expected %s", i, def->kubevirt_ssh_via, cases[i].expected);
    }
    if (saved)
        g_setenv("KUBERNETES_SERVICE_HOST", saved, TRUE);
    else
        g_unsetenv("KUBERNETES_SERVICE_HOST");
}

/* The commented example in the repo is a valid definition. */
static void test_example_file(void **state)
{
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    g_autoptr(GError) error = NULL;
    if (!dcn_definition_load_file(def, DCN_EXAMPLE, &error) || !dcn_definition_finish(def, &error))
        fail_msg("%s", error->message);
    assert_string_equal(def->name, "dcn-edge");
    assert_string_equal(def->ref, "rhel/9/x86_64/edge");
    assert_int_equal(def->keep, 5);
    assert_non_null(def->kickstart_extra);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_full_example_values),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_ssh_via_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
