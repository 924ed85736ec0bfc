/* Unit tests of what provision renders: the template engine (table), the
 * KubeVirt VirtualMachine and Secret (parsed back with libyaml, values
 * checked against the definition), the cloud-init user data inside the
 * Secret, the libvirt domain XML (parsed with GMarkup), and the blueprint
 * TOML compose/weldr pushes. No cluster, no libvirt, no composer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "definition.h"
#include "provision.h"
#include "template.h"
#include "blueprint.h"

/* ---- helpers ---- */

static DcnDefinition *def_from(const char *extra)
{
    g_autofree char *text = g_strdup_printf("name: dcn-edge\nversion: 2.0.0\nref: rhel/9/x86_64/edge\nrepo: /srv/dcn/repo\n"
                                            "vm:\n  templates: %s\n%s",
                                            DCN_TEMPLATES, extra);
    DcnDefinition *def = dcn_definition_new();
    g_autoptr(GError) error = NULL;
    gboolean ok = dcn_definition_parse(def, text, strlen(text), "test.yaml", "/tmp", &error) &&
                  dcn_definition_finish(def, &error);
    if (!ok)
        fail_msg("definition: %s", error->message);
    return def;
}

typedef struct {
    yaml_document_t doc;
    gboolean loaded;
} Yaml;

static void yaml_load(Yaml *y, const char *text)
{
    yaml_parser_t p;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&p, &y->doc))
        fail_msg("YAML does not parse: %s at line %zu\n%s", p.problem, p.problem_mark.line + 1, text);
    yaml_parser_delete(&p);
    assert_non_null(yaml_document_get_root_node(&y->doc));
    y->loaded = TRUE;
}

static void yaml_free(Yaml *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
}

/* The scalar at a dotted path ("spec.volumes.1.name": numbers index lists), or NULL. */
static const char *yget(Yaml *y, const char *path)
{
    yaml_node_t *n = yaml_document_get_root_node(&y->doc);
    g_auto(GStrv) parts = g_strsplit(path, ".", -1);
    for (char **p = parts; *p && n; p++) {
        if (n->type == YAML_MAPPING_NODE) {
            yaml_node_t *next = NULL;
            for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
                yaml_node_t *k = yaml_document_get_node(&y->doc, pair->key);
                if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, *p) == 0)
                    next = yaml_document_get_node(&y->doc, pair->value);
            }
            n = next;
        } else if (n->type == YAML_SEQUENCE_NODE) {
            long i = strtol(*p, NULL, 10);
            yaml_node_item_t *it = n->data.sequence.items.start + i;
            n = it < n->data.sequence.items.top ? yaml_document_get_node(&y->doc, *it) : NULL;
        } else {
            n = NULL;
        }
    }
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

#define assert_yaml(y, path, expected)                                                                               \
    do {                                                                                                               \
        const char *v_ = yget(y, path);                                                                                \
        if (!v_ || strcmp(v_, expected) != 0)                                                                          \
            fail_msg("%s: expected '%s', got '%s'", path, expected, v_ ? v_ : "(none)");                             \
    } while (0)

/* ---- the template engine ---- */

typedef struct {
    const char *tmpl;
    const char *vars; /* "NAME=value;NAME=value", value "~" for NULL, "\n" as is */
    const char *expected; /* NULL: an error containing `error` */
    const char *error;
} TemplateCase;

static const TemplateCase template_cases[] = {
    {"a: @X@\n", "X=1", "a: 1\n", NULL},
    {"a: @X@ @Y@\nb\n", "X=1;Y=2", "a: 1 2\nb\n", NULL},
    {"keep\ndrop: @X@\nkeep2\n", "X=~", "keep\nkeep2\n", NULL},
    {"  key:\n    @BLOCK@\n  next: 1\n", "BLOCK=a:\n  b: c", "  key:\n    a:\n      b: c\n  next: 1\n", NULL},
    {"mail: a@b.c and @ alone\n", "", "mail: a@b.c and @ alone\n", NULL},
    {"no newline @X@", "X=end", "no newline end", NULL},
    {"x\n@UNKNOWN@\n", "", NULL, "t.yaml:2: unknown placeholder @UNKNOWN@"},
};

static void test_template_table(void **state)
{
    for (size_t i = 0; i < G_N_ELEMENTS(template_cases); i++) {
        const TemplateCase *c = &template_cases[i];
        g_autoptr(GHashTable) vars = dcn_template_vars_new();
        g_auto(GStrv) pairs = g_strsplit(c->vars, ";", -1);
        for (char **p = pairs; *p && **p; p++) {
            char *eq = strchr(*p, '=');
            *eq = 0;
            dcn_template_set(vars, *p, strcmp(eq + 1, "~") == 0 ? NULL : eq + 1);
        }
        g_autoptr(GError) error = NULL;
        g_autofree char *out = dcn_template_render(c->tmpl, vars, "t.yaml", &error);
        if (c->expected) {
            if (!out)
                fail_msg("case %zu: %s", i, error->message);
            assert_string_equal(out, c->expected);
        } else {
            assert_null(out);
            assert_non_null(strstr(error->message, c->error));
        }
    }
}

static void test_yaml_str_escapes(void **state)
{
    g_autofree char *s = dcn_template_yaml_str("a \"q\" \\ \n\t\x01");
    assert_string_equal(s, "\"a \\\"q\\\" \\\\ \\n\\t\\u0001\"");
}

/* ---- KubeVirt ---- */

static const char *const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheRendererTest dcn-builder@vm";

static void render_kubevirt(DcnDefinition *def, Yaml *vm, Yaml *secret, char **out_user_data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *ud = dcn_provision_user_data(def, KEY, &error);
    if (!ud)
        fail_msg("user-data: %s", error->message);
    g_autofree char *vm_text = NULL, *secret_text = NULL;
    if (!dcn_kubevirt_render(def, ud, &vm_text, &secret_text, &error))
        fail_msg("render: %s", error->message);
    yaml_load(vm, vm_text);
    yaml_load(secret, secret_text);
    if (out_user_data)
        *out_user_data = g_steal_pointer(&ud);
}

static void test_kubevirt_datavolume_http(void **state)
{
    g_autoptr(DcnDefinition) def = def_from("  name: edge-build-7\n  cpus: 2\n  memory_mib: 6144\n  disk_gib: 150\n"
                                            "  image: https://images.example.com/rhel-9.4-x86_64-kvm.qcow2\n"
                                            "  user: builder\n"
                                            "  cloud_config: |\n    rh_subscription:\n      activation-key: \"k: 1\"\n"
                                            "kubevirt:\n  namespace: dcn-build\n  storage_class: fast-rbd\n");
    Yaml vm = {0}, secret = {0}, ud = {0};
    g_autofree char *user_data = NULL;
    render_kubevirt(def, &vm, &secret, &user_data);
    assert_yaml(&vm, "apiVersion", "kubevirt.io/v1");
    assert_yaml(&vm, "kind", "VirtualMachine");
    assert_yaml(&vm, "metadata.name", "edge-build-7");
    assert_yaml(&vm, "metadata.namespace", "dcn-build");
    assert_yaml(&vm, "spec.runStrategy", "Always");
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.kind", "DataVolume");
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.metadata.name", "edge-build-7-rootdisk");
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.spec.storage.resources.requests.storage", "150Gi");
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.spec.storage.storageClassName", "fast-rbd");
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.spec.source.http.url",
                "https://images.example.com/rhel-9.4-x86_64-kvm.qcow2");
    assert_yaml(&vm, "spec.template.spec.domain.cpu.cores", "2");
    assert_yaml(&vm, "spec.template.spec.domain.resources.requests.memory", "6144Mi");
    assert_yaml(&vm, "spec.template.spec.domain.devices.interfaces.0.name", "default");
    assert_yaml(&vm, "spec.template.spec.networks.0.name", "default");
    assert_yaml(&vm, "spec.template.spec.volumes.0.dataVolume.name", "edge-build-7-rootdisk");
    assert_yaml(&vm, "spec.template.spec.volumes.1.cloudInitNoCloud.secretRef.name", "edge-build-7-cloud-init");
    assert_yaml(&secret, "kind", "Secret");
    assert_yaml(&secret, "metadata.name", "edge-build-7-cloud-init");
    assert_yaml(&secret, "metadata.namespace", "dcn-build");
    assert_string_equal(yget(&secret, "stringData.userdata"), user_data);
    /* the user data is cloud-config YAML carrying the key and the extra lines */
    assert_true(g_str_has_prefix(user_data, "#cloud-config\n"));
    yaml_load(&ud, user_data);
    assert_yaml(&ud, "users.0.name", "builder");
    assert_yaml(&ud, "users.0.ssh_authorized_keys.0", KEY);
    assert_yaml(&ud, "hostname", "edge-build-7");
    assert_yaml(&ud, "rh_subscription.activation-key", "k: 1");
    yaml_free(&vm), yaml_free(&secret), yaml_free(&ud);
}

static void test_kubevirt_datasource_defaults(void **state)
{
    g_autoptr(DcnDefinition) def = def_from("  image: datasource:rhel9\n");
    Yaml vm = {0}, secret = {0};
    render_kubevirt(def, &vm, &secret, NULL);
    assert_yaml(&vm, "metadata.name", "dcn-edge-builder");
    assert_yaml(&vm, "metadata.namespace", "default");
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.spec.sourceRef.kind", "DataSource");
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.spec.sourceRef.name", "rhel9");
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.spec.sourceRef.namespace", "openshift-virtualization-os-images");
    assert_null(yget(&vm, "spec.dataVolumeTemplates.0.spec.storage.storageClassName"));
    assert_yaml(&vm, "spec.dataVolumeTemplates.0.spec.storage.resources.requests.storage", "100Gi");
    assert_yaml(&vm, "spec.template.spec.domain.cpu.cores", "4");
    assert_yaml(&vm, "spec.template.spec.domain.resources.requests.memory", "8192Mi");
    yaml_free(&vm), yaml_free(&secret);
}

static void test_kubevirt_containerdisk_and_bad_images(void **state)
{
    g_autoptr(DcnDefinition) def = def_from("  image: containerdisk:registry.example.com/rhel9-kvm:9.4\n");
    Yaml vm = {0}, secret = {0};
    render_kubevirt(def, &vm, &secret, NULL);
    assert_null(yget(&vm, "spec.dataVolumeTemplates.0.kind"));
    assert_yaml(&vm, "spec.template.spec.volumes.0.containerDisk.image", "registry.example.com/rhel9-kvm:9.4");
    assert_yaml(&vm, "spec.template.spec.volumes.1.emptyDisk.capacity", "100Gi");
    yaml_free(&vm), yaml_free(&secret);

    static const char *const bad[] = {"ftp://x/y.qcow2", "datasource:", "pvc:onlyname", "containerdisk:"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *extra = g_strdup_printf("  image: \"%s\"\n", bad[i]);
        g_autoptr(DcnDefinition) d = def_from(extra);
        g_autoptr(GError) error = NULL;
        char *a = NULL, *b = NULL;
        assert_false(dcn_kubevirt_render(d, "#cloud-config\n", &a, &b, &error));
        assert_non_null(strstr(error->message, "vm.image"));
    }
    g_autoptr(DcnDefinition) none = def_from("");
    g_autoptr(GError) error = NULL;
    char *a = NULL, *b = NULL;
    assert_false(dcn_kubevirt_render(none, "#cloud-config\n", &a, &b, &error));
    assert_non_null(strstr(error->message, "provider kubevirt needs vm.image"));
}

/* Kubernetes label values: at most 63 characters, empty or starting and
 * ending alphanumeric, [-_.A-Za-z0-9] between (apimachinery's
 * IsValidLabelValue). */
static gboolean label_value_valid(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return TRUE;
    if (n > 63 || !g_ascii_isalnum(v[0]) || !g_ascii_isalnum(v[n - 1]))
        return FALSE;
    for (const char *p = v; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
            return FALSE;
    return TRUE;
}

/* The value of key in mapping n (keys may contain dots), or fails. */
static yaml_node_t *member(Yaml *y, yaml_node_t *n, const char *key)
{
    if (n && n->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
            yaml_node_t *k = yaml_document_get_node(&y->doc, pair->key);
            if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
                return yaml_document_get_node(&y->doc, pair->value);
        }
    fail_msg("no member '%s'", key);
    return NULL;
}

/* Every value under any "labels" mapping of the document; returns how many. */
static guint check_labels(Yaml *y, yaml_node_t *n, gboolean in_labels)
{
    guint count = 0;
    if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
            yaml_node_t *k = yaml_document_get_node(&y->doc, pair->key);
            yaml_node_t *v = yaml_document_get_node(&y->doc, pair->value);
            if (in_labels) {
                if (v->type != YAML_SCALAR_NODE || !label_value_valid((const char *)v->data.scalar.value))
                    fail_msg("label %s: invalid value '%s'", (const char *)k->data.scalar.value,
                             v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "(not a scalar)");
                count++;
            } else {
                count += check_labels(y, v, strcmp((const char *)k->data.scalar.value, "labels") == 0);
            }
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
            count += check_labels(y, yaml_document_get_node(&y->doc, *it), FALSE);
    }
    return count;
}

/* Names and versions the definition accepts but label values would not
 * (128 characters, '.', '_' or '-' at an end) go into annotations: the VM
 * and Secret stay applicable, and the annotations carry them unchanged. */
static void test_kubevirt_labels_valid_for_any_name_and_version(void **state)
{
    static const struct {
        const char *name, *version;
    } cases[] = {
        {"dcn-edge", "2.0.0"},
        {"dcn-edge", "9.4.20240101-build.7_"},
        {"dcn-edge", "1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"_edge.", "1.0.0-"},
        {".Edge-Image_With_A_Rather_Long_Name_That_Goes_On_And_On_Past_Sixty_Three", "3"},
    };
    static const char *const images[] = {"https://images.example.com/rhel-9.4-x86_64-kvm.qcow2",
                                         "containerdisk:registry.example.com/rhel9-kvm:9.4"};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        for (size_t j = 0; j < G_N_ELEMENTS(images); j++) {
            g_autofree char *text = g_strdup_printf("name: %s\nversion: %s\nref: rhel/9/x86_64/edge\nrepo: /srv/r\n"
                                                    "vm:\n  templates: %s\n  image: %s\n",
                                                    cases[i].name, cases[i].version, DCN_TEMPLATES, images[j]);
            g_autoptr(DcnDefinition) def = dcn_definition_new();
            g_autoptr(GError) error = NULL;
            if (!dcn_definition_parse(def, text, strlen(text), "t.yaml", "/tmp", &error) ||
                !dcn_definition_finish(def, &error))
                fail_msg("case %zu: %s", i, error->message);
            Yaml vm = {0}, secret = {0};
            render_kubevirt(def, &vm, &secret, NULL);
            assert_true(check_labels(&vm, yaml_document_get_root_node(&vm.doc), FALSE) >= 4);
            assert_true(check_labels(&secret, yaml_document_get_root_node(&secret.doc), FALSE) >= 3);
            assert_string_equal(member(&vm, member(&vm, member(&vm, yaml_document_get_root_node(&vm.doc), "metadata"),
                                                   "annotations"), "dcn.builder/image")->data.scalar.value,
                                cases[i].name);
            assert_string_equal(member(&vm, member(&vm, member(&vm, yaml_document_get_root_node(&vm.doc), "metadata"),
                                                   "annotations"), "dcn.builder/version")->data.scalar.value,
                                cases[i].version);
            yaml_free(&vm), yaml_free(&secret);
        }
    }
}

/* ---- libvirt ---- */

typedef struct {
    GString *path;
    GHashTable *found; /* "domain/memory" -> text, "domain/devices/disk/source@file" -> ... */
} XmlWalk;

static void on_start(GMarkupParseContext *c, const char *name, const char **an, const char **av, gpointer data,
                     GError **error)
{
    XmlWalk *w = data;
    g_string_append_printf(w->path, "/%s", name);
    for (size_t i = 0; an[i]; i++) {
        g_autofree char *key = g_strdup_printf("%s@%s", w->path->str, an[i]);
        if (!g_hash_table_contains(w->found, key))
            g_hash_table_insert(w->found, g_steal_pointer(&key), g_strdup(av[i]));
        else {
            g_autofree char *key2 = g_strdup_printf("%s@%s#2", w->path->str, an[i]);
            g_hash_table_insert(w->found, g_steal_pointer(&key2), g_strdup(av[i]));
        }
    }
}

static void on_end(GMarkupParseContext *c, const char *name, gpointer data, GError **error)
{
    XmlWalk *w = data;
    g_string_truncate(w->path, (gsize)(strrchr(w->path->str, '/') - w->path->str));
}

static void on_text(GMarkupParseContext *c, const char *text, gsize len, gpointer data, GError **error)
{
    XmlWalk *w = data;
    g_autofree char *t = g_strstrip(g_strndup(text, len));
    if (*t && !g_hash_table_contains(w->found, w->path->str))
        g_hash_table_insert(w->found, g_strdup(w->path->str), g_steal_pointer(&t));
}

static void test_libvirt_domain(void **state)
{
    g_autoptr(DcnDefinition) def = def_from("  name: b1\n  cpus: 2\n  memory_mib: 4096\n  image: /var/lib/images/rhel.qcow2\n"
                                            "provider:\n  kind: libvirt\nlibvirt:\n  domain_type: qemu\n"
                                            "  kernel: /boot/vmlinuz\n  initrd: /boot/initrd.img\n"
                                            "  cmdline: root=/dev/vda rw console=ttyS0\n");
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = dcn_libvirt_render(def, "/s/disk.qcow2", "/s/seed & co.iso", "/s/console.log", 40022, &error);
    if (!xml)
        fail_msg("%s", error->message);
    XmlWalk w = {g_string_new(NULL), g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)};
    GMarkupParser parser = {on_start, on_end, on_text, NULL, NULL};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &w, NULL);
    if (!g_markup_parse_context_parse(ctx, xml, -1, &error) || !g_markup_parse_context_end_parse(ctx, &error))
        fail_msg("domain XML does not parse: %s\n%s", error->message, xml);
    g_markup_parse_context_free(ctx);
#define X(path, expected) assert_string_equal(g_hash_table_lookup(w.found, path) ?: "(none)", expected)
    X("/domain@type", "qemu");
    X("/domain/name", "b1");
    X("/domain/memory", "4096");
    X("/domain/memory@unit", "MiB");
    X("/domain/vcpu", "2");
    X("/domain/os/kernel", "/boot/vmlinuz");
    X("/domain/os/cmdline", "root=/dev/vda rw console=ttyS0");
    X("/domain/devices/disk/source@file", "/s/disk.qcow2");
    X("/domain/devices/disk/source@file#2", "/s/seed & co.iso");
    X("/domain/qemu:commandline/qemu:arg@value", "-netdev");
    assert_non_null(strstr(xml, "<qemu:arg value='user,id=n0,hostfwd=tcp:127.0.0.1:40022-:22'/>"));
    /* qemu:///system: QEMU runs as the user running dcn-builder (it owns the state directory) */
    X("/domain/seclabel@model", "dac");
    X("/domain/seclabel@relabel", "no");
    g_autofree char *label = g_strdup_printf("+%u:+%u", (unsigned)geteuid(), (unsigned)getegid());
    X("/domain/seclabel/label", label);
#undef X
    assert_null(strstr(xml, "<interface"));
    g_string_free(w.path, TRUE);
    g_hash_table_unref(w.found);

    /* a libvirt network instead of user networking; no kernel: no <kernel> line */
    g_autoptr(DcnDefinition) d2 = def_from("  image: /i.qcow2\nlibvirt:\n  network: default\n");
    g_autofree char *xml2 = dcn_libvirt_render(d2, "/d", "/s", "/c", 22, &error);
    assert_non_null(xml2);
    assert_non_null(strstr(xml2, "<source network='default'/>"));
    assert_null(strstr(xml2, "qemu:commandline>"));
    assert_null(strstr(xml2, "<kernel>"));
    assert_non_null(strstr(xml2, "<domain type='kvm'"));

    /* qemu:///session: QEMU already runs as the user; no seclabel */
    g_autoptr(DcnDefinition) d3 = def_from("  image: /i.qcow2\nlibvirt:\n  uri: qemu:///session\n");
    g_autofree char *xml3 = dcn_libvirt_render(d3, "/d", "/s", "/c", 22, &error);
    assert_non_null(xml3);
    assert_null(strstr(xml3, "<seclabel"));
}

/* ---- blueprint ---- */

static void test_semver_table(void **state)
{
    static const struct {
        const char *v;
        gboolean ok;
    } cases[] = {{"1.0.0", TRUE},   {"2.10.3", TRUE},  {"1.0.0-rc.1", TRUE}, {"1.0.0+b5", TRUE}, {"1.0", FALSE},
                 {"01.0.0", FALSE}, {"1.0.0-", FALSE}, {"v1.0.0", FALSE},    {"2024.05", FALSE}, {"1.2.3.4", FALSE}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        if (dcn_blueprint_is_semver(cases[i].v) != cases[i].ok)
            fail_msg("semver '%s': expected %d", cases[i].v, cases[i].ok);
}

static void test_blueprint_generated(void **state)
{
    g_autoptr(DcnDefinition) def = def_from("blueprint:\n  description: 'Edge \"DCN\"'\n"
                                            "  packages: [vim-enhanced, \"tmux=3.*\"]\n  groups: [core]\n"
                                            "  customizations: |\n    [customizations.kernel]\n    append = \"q\"\n");
    g_autoptr(GError) error = NULL;
    g_autofree char *bp = dcn_blueprint_toml(def, &error);
    assert_non_null(bp);
    assert_non_null(strstr(bp, "\nname = \"dcn-edge\"\n"));
    assert_non_null(strstr(bp, "\ndescription = \"Edge \\\"DCN\\\"\"\n"));
    assert_non_null(strstr(bp, "\nversion = \"2.0.0\"\n"));
    assert_non_null(strstr(bp, "[[packages]]\nname = \"vim-enhanced\"\nversion = \"*\"\n"));
    assert_non_null(strstr(bp, "[[packages]]\nname = \"tmux\"\nversion = \"3.*\"\n"));
    assert_non_null(strstr(bp, "[[groups]]\nname = \"core\"\n"));
    assert_true(g_str_has_suffix(bp, "[customizations.kernel]\nappend = \"q\"\n"));

    /* not semantic: no version line (composer would refuse it) */
    g_autoptr(DcnDefinition) d2 = def_from("");
    g_free(d2->version);
    d2->version = g_strdup("2024.05");
    g_autofree char *bp2 = dcn_blueprint_toml(d2, &error);
    assert_null(strstr(bp2, "\nversion ="));
}

/* The list keys this work added to the definition (KT_LIST). */
static void test_definition_lists(void **state)
{
    static const struct {
        const char *yaml;
        const char *error; /* NULL: parses */
    } cases[] = {
        {"install:\n  packages: [a, b]\n", NULL},
        {"install:\n  packages:\n    - a\n    - b\n", NULL},
        {"install:\n  packages: []\n", NULL},
        {"install:\n  packages: a\n", "test.yaml:6: key 'install.packages': expected a list, got a scalar"},
        {"install:\n  packages: [a, [b]]\n", "test.yaml:6: key 'install.packages': expected a list of single-line strings"},
        {"provider:\n  kind: vmware\n", "key 'provider.kind': expected one of local, ssh, libvirt, kubevirt"},
        {"vm:\n  name: Bad_Name\n", "key 'vm.name': expected lower-case letters"},
        {"vm:\n  memory_mib: 100\n", "key 'vm.memory_mib': expected an integer from 512"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf("name: n\nversion: 1\nref: r\nrepo: /r\n%s", cases[i].yaml);
        g_autoptr(DcnDefinition) def = dcn_definition_new();
        g_autoptr(GError) error = NULL;
        gboolean ok = dcn_definition_parse(def, text, strlen(text), "test.yaml", "/tmp", &error);
        if (cases[i].error) {
            if (ok || !strstr(error->message, cases[i].error))
                fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].error, ok ? "success" : error->message);
        } else if (!ok) {
            fail_msg("case %zu: %s", i, error->message);
        }
    }
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    g_autoptr(GError) error = NULL;
    assert_true(dcn_definition_set(def, "run.skip", " deploy , push,", "--run-skip", &error));
    assert_int_equal(g_strv_length(def->run_skip), 2);
    assert_string_equal(def->run_skip[0], "deploy");
    assert_string_equal(def->run_skip[1], "push");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_table),
        cmocka_unit_test(test_yaml_str_escapes),
        cmocka_unit_test(test_kubevirt_datavolume_http),
        cmocka_unit_test(test_kubevirt_datasource_defaults),
        cmocka_unit_test(test_kubevirt_containerdisk_and_bad_images),
        cmocka_unit_test(test_kubevirt_labels_valid_for_any_name_and_version),
        cmocka_unit_test(test_libvirt_domain),
        cmocka_unit_test(test_semver_table),
        cmocka_unit_test(test_blueprint_generated),
        cmocka_unit_test(test_definition_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
