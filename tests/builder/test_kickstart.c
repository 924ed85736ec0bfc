/* Unit tests for the kickstart dcn-builder writes (builder/kickstart/):
 * which values may go into it (ks_syntax.c), which commands a text has,
 * the CA file's certificates, and the text render.c makes from a
 * definition. Table-driven: one line per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "definition.h"
#include "kickstart.h"
#include "ks_syntax.h"

#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMz9+tRnAGvdKKdXrdgU7Hr4SSo7k950f2VeSLpTxS1M"
#define RSA                                                                                                            \
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDLYN9euP4y0GDQvgns8OJBZb20fXPrK4ziIlpd5lOeo/vdBrC3lv3lvY7ElGelz/"          \
    "M4Ps8ZFAdFbZSIatKqoBwaXKPRrHk1QFkjmHSDaxqOCoLhPObacZvKfAY3NZjxB/X9G3IzZof9aBhu221WuZgp9NzgW1J1zwm8xnpZs2wRpQ=="
#define ECDSA                                                                                                          \
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFstDeZPY1kvQTfT7ALHwcZsjjgFLrsehKCa4goo" \
    "CogoPsQNTbv8IaN8N7SXIOR0X6I8VcwmPpTYrafqvj8KUkI="
#define HASH "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"

typedef const char *(*Check)(const char *);

static const struct {
    Check check;
    const char *value;
    gboolean ok;
} value_cases[] = {
    {dcn_ks_check_lang, "en_US.UTF-8", TRUE},
    {dcn_ks_check_lang, "de_DE.UTF-8", TRUE},
    {dcn_ks_check_lang, "sr_RS.UTF-8@latin", TRUE},
    {dcn_ks_check_lang, "fil_PH", TRUE},
    {dcn_ks_check_lang, "en", TRUE},
    {dcn_ks_check_lang, "en_US.UTF-8 --addsupport=x", FALSE},
    {dcn_ks_check_lang, "en_US.UTF-8\nreboot", FALSE},
    {dcn_ks_check_lang, "EN_us", FALSE},
    {dcn_ks_check_lang, "en_US.", FALSE},
    {dcn_ks_check_lang, "en_US@URL@", FALSE},
    {dcn_ks_check_lang, "en_US#x", FALSE},
    {dcn_ks_check_keyboard, "us", TRUE},
    {dcn_ks_check_keyboard, "de-nodeadkeys", TRUE},
    {dcn_ks_check_keyboard, "fr_CH-latin1", TRUE},
    {dcn_ks_check_keyboard, "us --xlayouts=cz", FALSE},
    {dcn_ks_check_keyboard, "-us", FALSE},
    {dcn_ks_check_keyboard, "'us'", FALSE},
    {dcn_ks_check_timezone, "UTC", TRUE},
    {dcn_ks_check_timezone, "Europe/Berlin", TRUE},
    {dcn_ks_check_timezone, "America/Argentina/Buenos_Aires", TRUE},
    {dcn_ks_check_timezone, "Etc/GMT+5", TRUE},
    {dcn_ks_check_timezone, "EST5EDT", TRUE},
    {dcn_ks_check_timezone, "../etc/passwd", FALSE},
    {dcn_ks_check_timezone, "Europe/", FALSE},
    {dcn_ks_check_timezone, "/Europe", FALSE},
    {dcn_ks_check_timezone, "Europe//Berlin", FALSE},
    {dcn_ks_check_timezone, "UTC --nontp", FALSE},
    {dcn_ks_check_timezone, "Europe/Berlin#", FALSE},
    {dcn_ks_check_disk, "vda", TRUE},
    {dcn_ks_check_disk, "sda", TRUE},
    {dcn_ks_check_disk, "nvme0n1", TRUE},
    {dcn_ks_check_disk, "/dev/sda", TRUE},
    {dcn_ks_check_disk, "/dev/disk/by-id/ata-ST3160815AS_6RA0C882", TRUE},
    {dcn_ks_check_disk, "/dev/disk/by-path/pci-0000:00:05.0-scsi-0:0:0:0", TRUE},
    {dcn_ks_check_disk, "/dev/disk/by-id/wwn-0x5000c50015ea71ac", TRUE},
    {dcn_ks_check_disk, "/dev/disk/by-foo/x", FALSE},
    {dcn_ks_check_disk, "/dev/disk/by-id/", FALSE},
    {dcn_ks_check_disk, "/dev/disk/by-id/../../sda", FALSE},
    {dcn_ks_check_disk, "sda,sdb", FALSE},
    {dcn_ks_check_disk, "sda sdb", FALSE},
    {dcn_ks_check_disk, "Sda", FALSE},
    {dcn_ks_check_disk, "/etc/passwd", FALSE},
    {dcn_ks_check_network, "dhcp", TRUE},
    {dcn_ks_check_network, "boot", TRUE},
    {dcn_ks_check_network, "dhcp:eno1", TRUE},
    {dcn_ks_check_network, "dhcp:link", TRUE},
    {dcn_ks_check_network, "dhcp:52:54:00:12:34:56", TRUE},
    {dcn_ks_check_network, "dhcp:", FALSE},
    {dcn_ks_check_network, "dhcp:eno1 --mtu=9000", FALSE},
    {dcn_ks_check_network, "dhcp:averyveryverylongname", FALSE},
    {dcn_ks_check_network, "static", FALSE},
    {dcn_ks_check_network, "DHCP", FALSE},
    {dcn_ks_check_user, "core", TRUE},
    {dcn_ks_check_user, "_ansible", TRUE},
    {dcn_ks_check_user, "ops-admin2", TRUE},
    {dcn_ks_check_user, "root", FALSE},
    {dcn_ks_check_user, "Core", FALSE},
    {dcn_ks_check_user, "2core", FALSE},
    {dcn_ks_check_user, "core --uid=0", FALSE},
    {dcn_ks_check_user, "a.b", FALSE},
    {dcn_ks_check_user, "abcdefghijklmnopqrstuvwxyz0123456", FALSE}, /* 33 */
    {dcn_ks_check_ssh_key, ED25519, TRUE},
    {dcn_ks_check_ssh_key, ED25519 " ops@example", TRUE},
    {dcn_ks_check_ssh_key, RSA " ", TRUE},
    {dcn_ks_check_ssh_key, ECDSA " a b c", TRUE},
    {dcn_ks_check_ssh_key, ED25519 " it's #1", TRUE},
    {dcn_ks_check_ssh_key, ED25519 " a\"b", FALSE},
    {dcn_ks_check_ssh_key, ED25519 " a\\", FALSE},
    {dcn_ks_check_ssh_key, ED25519 " a\tb", FALSE},
    {dcn_ks_check_ssh_key, ED25519 " @REF@", FALSE},
    {dcn_ks_check_ssh_key, "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIMz9+tRnAGvdKKdXrdgU7Hr4SSo7k950f2VeSLpTxS1M", FALSE},
    {dcn_ks_check_ssh_key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMz9+tRnAGvdKKdXrdgU7Hr4SSo7k950f2VeSLpTxS1", FALSE},
    {dcn_ks_check_ssh_key, "from=\"10.0.0.1\" " ED25519, FALSE},
    {dcn_ks_check_ssh_key, "ssh-dss AAAAB3NzaC1kc3MAAACBAP", FALSE},
    {dcn_ks_check_ssh_key, "ssh-ed25519", FALSE},
    {dcn_ks_check_ssh_key, "AAAAC3NzaC1lZDI1NTE5AAAAIMz9+tRnAGvdKKdXrdgU7Hr4SSo7k950f2VeSLpTxS1M", FALSE},
    {dcn_ks_check_password_hash, HASH, TRUE},
    {dcn_ks_check_password_hash, "$6$rounds=5000$saltsalt$abcdefghijkl", TRUE},
    {dcn_ks_check_password_hash, "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7", TRUE},
    {dcn_ks_check_password_hash, "$2b$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012", TRUE},
    {dcn_ks_check_password_hash, "hunter2", FALSE},
    {dcn_ks_check_password_hash, "$6$", FALSE},
    {dcn_ks_check_password_hash, "$6$saltsalt$", FALSE},
    {dcn_ks_check_password_hash, "$6$salt salt$abcdefghijkl", FALSE},
    {dcn_ks_check_password_hash, "$6$salt$abcdefghijkl --lock", FALSE},
    {dcn_ks_check_password_hash, "$6$salt#$abcdefghijkl", FALSE},
    {dcn_ks_check_password_hash, "$$abcdefghijkl", FALSE},
    {dcn_ks_check_updates, "none", TRUE},
    {dcn_ks_check_updates, "check", TRUE},
    {dcn_ks_check_updates, "stage", TRUE},
    {dcn_ks_check_updates, "apply", FALSE},
    {dcn_ks_check_updates, "Stage", FALSE},
};

static void test_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(value_cases); i++) {
        const char *expected = value_cases[i].check(value_cases[i].value);
        if ((expected == NULL) != value_cases[i].ok)
            fail_msg("case %zu '%s': %s", i, value_cases[i].value, expected ? expected : "accepted, should not be");
    }
}

static const struct {
    const char *text;
    const char *commands; /* sorted, space-separated */
} command_cases[] = {
    {"", ""},
    {"text\nlang en_US.UTF-8\n", "lang text"},
    {"  part / --size=1\n\tlogvol x\n", "logvol part"},
    {"# reboot\n   # poweroff\n\n", ""},
    {"%post\nreboot\n%end\npoweroff\n", "poweroff"},
    {"%pre --erroronfail\n  %end  \nlang x\n", "lang"},
    {"%packages\n@core\n%end\n%include /tmp/part.ks\nreboot\r\n", "reboot"},
    {"%post\nreboot\n", ""}, /* no %end: all of it is the section */
};

static void test_commands(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(command_cases); i++) {
        g_autoptr(GHashTable) set = dcn_ks_commands(command_cases[i].text);
        g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(set), (GCompareFunc)strcmp);
        g_autoptr(GString) got = g_string_new(NULL);
        for (GList *l = keys; l; l = l->next)
            g_string_append_printf(got, "%s%s", got->len ? " " : "", (const char *)l->data);
        if (strcmp(got->str, command_cases[i].commands) != 0)
            fail_msg("case %zu: got '%s', expected '%s'", i, got->str, command_cases[i].commands);
    }
}

#define CERT_BODY                                                                                                      \
    "MIIBeTCCAR+gAwIBAgIUfMiujV65sfP6s3/sxIIdU8X8e54wCgYIKoZIzj0EAwIw\n"                                               \
    "EjEQMA4GA1UEAwwHdGVzdC1jYTAeFw0yNjEyMDQxNDMwMzFaFw0zNjEyMDExNDMw\n"                                               \
    "MzFaMBIxEDAOBgNVBAMMB3Rlc3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"                                               \
    "AAQOZWryGwzrHxV1m1DK4gKX9CwKMUlqd24Cr8I/dRXtI0XBD/uwXL4dVA5TLdG1\n"                                               \
    "+AsW5QY//gWM4RY6dUBwBtFfo1MwUTAdBgNVHQ4EFgQUrEDhgeiOEqZIsjHSvz+9\n"                                               \
    "LlknrMUwHwYDVR0jBBgwFoAUrEDhgeiOEqZIsjHSvz+9LlknrMUwDwYDVR0TAQH/\n"                                               \
    "BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA4lBk3jAky/DT8rQCEMPOoaZz6VB+\n"                                               \
    "7gPos685gvF2knwCIAtxri0qlPWSZ9KecjM0Fte9JMtkAS0UCcy/KH2xUbvL\n"
#define CERT "-----BEGIN CERTIFICATE-----\n" CERT_BODY "-----END CERTIFICATE-----\n"

static const struct {
    const char *pem;
    const char *want;  /* NULL: an error */
    const char *error; /* the error's message, when want is NULL */
} pem_cases[] = {
    {CERT, CERT, NULL},
    {"subject=CN = test-ca\nissuer=CN = test-ca\n" CERT "\n" CERT, CERT CERT, NULL},
    {"-----BEGIN CERTIFICATE-----\r\n" CERT_BODY "-----END CERTIFICATE-----\r\n", CERT, NULL},
    {"", NULL, "no -----BEGIN CERTIFICATE----- block"},
    {"not a pem\n", NULL, "no -----BEGIN CERTIFICATE----- block"},
    {"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n", NULL,
     "line 1: -----BEGIN PRIVATE KEY-----: only certificates belong in a CA file"},
    {"-----BEGIN CERTIFICATE-----\nMIIB'x\n-----END CERTIFICATE-----\n", NULL,
     "line 2: not a line of base64 inside the certificate that begins on line 1"},
    {"-----BEGIN CERTIFICATE-----\nDCN_CA_PEM\n-----END CERTIFICATE-----\n", NULL,
     "line 2: not a line of base64 inside the certificate that begins on line 1"},
    {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", NULL,
     "the certificate that begins on line 1 is not one (its base64 is not a DER SEQUENCE)"},
    {"-----BEGIN CERTIFICATE-----\n" CERT_BODY, NULL,
     "the certificate that begins on line 1 has no -----END CERTIFICATE----- line"},
    {"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", NULL,
     "the certificate that begins on line 1 has no body"},
};

static void test_pem(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(pem_cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *got = dcn_ks_pem_certificates(pem_cases[i].pem, strlen(pem_cases[i].pem), &error);
        if (pem_cases[i].want && (!got || strcmp(got, pem_cases[i].want) != 0))
            fail_msg("case %zu: got %s", i, got ? got : error->message);
        if (!pem_cases[i].want && (got || strcmp(error->message, pem_cases[i].error) != 0))
            fail_msg("case %zu: got %s, expected error %s", i, got ? got : error->message, pem_cases[i].error);
    }
    g_autoptr(GError) error = NULL;
    assert_null(dcn_ks_pem_certificates(CERT "\0", sizeof CERT, &error));
}

/* ---- render ---- */

#define BASIC "name: dcn-edge\nversion: 1.0.0\nref: rhel/9/x86_64/edge\nrepo: /srv/dcn/root/repo\n"

static char *render_yaml(const char *yaml, const char *template_text, const char *ca)
{
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    g_autoptr(GError) error = NULL;
    if (!dcn_definition_parse(def, yaml, strlen(yaml), "t.yaml", "/srv/dcn", &error) ||
        !dcn_definition_finish(def, &error))
        fail_msg("%s", error->message);
    DcnKickstartInputs in = {template_text, ca};
    return dcn_kickstart_render(def, &in);
}

/* No kickstart key: the whole text, which installs with nobody at the console. */
static void test_render_defaults(void **state)
{
    (void)state;
    g_autofree char *ks = render_yaml(BASIC, NULL, NULL);
    assert_string_equal(
        ks, "# Kickstart for dcn-edge (rhel/9/x86_64/edge), written by dcn-builder: installs with nobody at the console.\n"
            "# dcn-hoster fills in @URL@, @REPO_URL@, @REF@ and @COMMIT@ in the commands when it\n"
            "# serves this file; comment lines such as these are served as they are.\n"
            "text\n"
            "lang en_US.UTF-8\n"
            "keyboard --vckeymap=us\n"
            "timezone UTC --utc\n"
            "# every disk is wiped (kickstart.disk names the one to use)\n"
            "zerombr\n"
            "clearpart --all --initlabel\n"
            "autopart --type=plain --fstype=xfs --nohome\n"
            "network --bootproto=dhcp --device=link --activate --onboot=on\n"
            "rootpw --lock\n"
            "reboot --eject\n"
            "ostreesetup --osname=rhel --remote=rhel --url=@REPO_URL@ --ref=@REF@ --nogpg\n");
}

static const struct {
    const char *yaml;
    const char *present; /* lines that must be there, '\n'-separated */
    const char *absent;  /* lines (or starts of lines, ending in '*') that must not */
} render_cases[] = {
    {BASIC "kickstart:\n  disk: vda\n", "ignoredisk --only-use=vda\nzerombr\nclearpart --all --initlabel",
     "# every disk is wiped (kickstart.disk names the one to use)"},
    {BASIC "kickstart:\n  disk: /dev/disk/by-path/pci-0000:00:05.0-scsi-0:0:0:0\n",
     "ignoredisk --only-use=/dev/disk/by-path/pci-0000:00:05.0-scsi-0:0:0:0", NULL},
    {BASIC "kickstart:\n  network: dhcp:eno1\n", "network --bootproto=dhcp --device=eno1 --activate --onboot=on", NULL},
    {BASIC "kickstart:\n  network: boot\n",
     "# network: the installer's own, from its boot options (kickstart.network: boot)", "network*"},
    {BASIC "kickstart:\n  lang: de_DE.UTF-8\n  keyboard: de-nodeadkeys\n  timezone: Europe/Berlin\n",
     "lang de_DE.UTF-8\nkeyboard --vckeymap=de-nodeadkeys\ntimezone Europe/Berlin --utc", NULL},
    {BASIC "kickstart:\n  user:\n    name: core\n    ssh_keys: ['" ED25519 " ops@example', '" ECDSA " a b c']\n",
     "user --name=core --groups=wheel\n"
     "sshkey --username=core \"" ED25519 " ops@example\"\n"
     "sshkey --username=core \"" ECDSA " a b c\"\n"
     "%post --erroronfail\n"
     "echo 'core ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/dcn-admin",
     "%pre*"},
    {BASIC "kickstart:\n  user:\n    name: core\n    password_hash: '" HASH "'\n",
     "user --name=core --groups=wheel --iscrypted --password=" HASH, "echo 'core*\nsshkey*\n%post*"},
    {BASIC "kickstart:\n  updates: stage\n",
     "%post --erroronfail\npolicy=stage\nconf=/etc/rpm-ostreed.conf\nsystemctl enable rpm-ostreed-automatic.timer\n%end",
     "%pre*"},
    {BASIC "kickstart:\n  updates: none\n", NULL, "%post*\npolicy=*\nsystemctl*"},
    {BASIC "sign:\n  gpg_key_id: ABCD\n",
     "ostreesetup --osname=rhel --remote=rhel --url=@REPO_URL@ --ref=@REF@\n"
     "%pre --erroronfail\n"
     "curl -fsS -o /usr/share/ostree/trusted.gpg.d/dcn-edge.gpg '@URL@/dcn-edge.gpg'\n"
     "%post --erroronfail\n"
     "curl -fsS -o /etc/pki/dcn-edge-ostree.gpg '@URL@/dcn-edge.gpg'\n"
     "ostree remote gpg-import --keyring=/etc/pki/dcn-edge-ostree.gpg rhel",
     "ostreesetup*--nogpg"},
    {BASIC "sign:\n  gpg_key_id: ABCD\nkickstart:\n  gpg_key_url: https://keys.example.com/k.gpg\n",
     "curl -fsS -o /usr/share/ostree/trusted.gpg.d/dcn-edge.gpg 'https://keys.example.com/k.gpg'", NULL},
    /* extra's commands replace the built-in ones of their kind */
    {BASIC "kickstart:\n  extra: |\n    part / --size=8000 --grow\n    poweroff\n    clearpart --none\n    graphical\n",
     "# autopart: left out, kickstart.extra has part\n# reboot: left out, kickstart.extra has poweroff\n"
     "# clearpart: left out, kickstart.extra has clearpart\n# text: left out, kickstart.extra has graphical\n"
     "# kickstart.extra\npart / --size=8000 --grow\npoweroff\nzerombr",
     "autopart*\nreboot*\nclearpart --all*\ntext"},
    {BASIC "kickstart:\n  extra: |\n    logvol / --vgname=vg --size=1 --name=root\n    network --device=eno2 --bootproto=dhcp\n",
     "# autopart: left out, kickstart.extra has logvol\n# network: left out, kickstart.extra has network",
     "network --bootproto=dhcp --device=link*"},
    /* a command inside extra's own %post does not count */
    {BASIC "kickstart:\n  extra: |\n    %post\n    reboot\n    %end\n", "reboot --eject\n%post\nreboot\n%end", NULL},
};

/* Each line of list (a '\n'-separated list) as a whole line of ks, or, for
 * a pattern ending in '*', as the start of one; present: all must be there,
 * else none may. */
static void expect_lines(const char *ks, const char *list, gboolean present, size_t i)
{
    if (!list)
        return;
    g_auto(GStrv) want = g_strsplit(list, "\n", -1);
    g_auto(GStrv) lines = g_strsplit(ks, "\n", -1);
    for (char **w = want; *w; w++) {
        gboolean prefix = g_str_has_suffix(*w, "*");
        g_autofree char *pat = prefix ? g_strndup(*w, strlen(*w) - 1) : g_strdup(*w);
        char *star = strchr(pat, '*'); /* "a*b": starts with a, ends with b */
        g_autofree char *tail = star ? g_strdup(star + 1) : NULL;
        if (star)
            *star = '\0';
        gboolean found = FALSE;
        for (char **l = lines; *l && !found; l++)
            found = star ? g_str_has_prefix(*l, pat) && g_str_has_suffix(*l, tail)
                         : prefix ? g_str_has_prefix(*l, pat) : strcmp(*l, pat) == 0;
        if (found != present)
            fail_msg("case %zu: line '%s' %s:\n%s", i, *w, present ? "missing" : "should not be there", ks);
    }
}

static void test_render_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(render_cases); i++) {
        g_autofree char *ks = render_yaml(render_cases[i].yaml, NULL, NULL);
        expect_lines(ks, render_cases[i].present, TRUE, i);
        expect_lines(ks, render_cases[i].absent, FALSE, i);
    }
}

/* The CA: into the installer's trust in %pre, the device's in %post, as a
 * quoted here-document (nothing in it is expanded). */
static void test_render_ca(void **state)
{
    (void)state;
    g_autofree char *ks = render_yaml(BASIC "sign:\n  gpg_key_id: ABCD\n", NULL, CERT);
    const char *pre = strstr(ks, "%pre --erroronfail\n"), *post = strstr(ks, "%post --erroronfail\n");
    assert_non_null(pre);
    assert_non_null(post);
    static const char trust[] = "cat >/etc/pki/ca-trust/source/anchors/dcn-edge-ca.pem <<'DCN_CA_PEM'\n" CERT
                                "DCN_CA_PEM\n"
                                "if command -v update-ca-trust >/dev/null; then\n";
    const char *in_pre = strstr(pre, trust), *in_post = strstr(post, trust);
    /* before the key is fetched over the https URL, in both */
    assert_true(in_pre && in_pre < strstr(pre, "curl ") && in_pre < post);
    assert_true(in_post && in_post < strstr(post, "curl "));
    assert_null(strstr(in_post + 1, trust));
}

/* kickstart.template replaces the built-in text; extra is still appended. */
static void test_render_template(void **state)
{
    (void)state;
    g_autofree char *ks = render_yaml(BASIC "kickstart:\n  template: ./my.ks.in\n  extra: 'reboot'\n",
                                      "# mine\nostreesetup --osname=x --url=@REPO_URL@ --ref=@REF@", NULL);
    assert_string_equal(ks, "# mine\nostreesetup --osname=x --url=@REPO_URL@ --ref=@REF@\n\n# kickstart.extra\nreboot\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),         cmocka_unit_test(test_commands),
        cmocka_unit_test(test_pem),            cmocka_unit_test(test_render_defaults),
        cmocka_unit_test(test_render_cases),   cmocka_unit_test(test_render_ca),
        cmocka_unit_test(test_render_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
