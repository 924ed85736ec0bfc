/* definition: YAML image definition parser (libyaml document API).
 * See definition.h and docs/builder.md for the keys. */
#include "definition.h"
#include "error.h"
#include "kickstart/ks_syntax.h"

#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <yaml.h>

typedef enum {
    KT_MAP,     /* a nested mapping: its keys are "parent.child" entries */
    KT_STRING,  /* a non-empty single-line string, checked by `check` */
    KT_STRING0, /* the same, or "" (kickstart.disk: "" is the default, all disks) */
    KT_TEXT,    /* any string, newlines allowed (kickstart.extra) */
    KT_PATH,    /* a path: relative ones resolve against the definition's directory */
    KT_UINT,    /* a decimal integer in [min, max] */
    KT_DURATION,/* seconds in [min, max]: N, or N with s, m, h or d (90s, 30m, 1h, 7d) */
    KT_BOOL,    /* true/false (also yes/no, on/off) */
    KT_BACKEND, /* tree | edge-commit | weldr */
    KT_LIST,    /* a YAML list of single-line strings (GStrv), each checked by `check`; from a flag: comma-separated */
} KeyType;

/* Returns NULL when value is acceptable, else what was expected. */
typedef const char *(*KeyCheck)(const char *value);

typedef struct {
    const char *key; /* dotted path as written in YAML */
    KeyType type;
    size_t offset;   /* field in DcnDefinition (unused for KT_MAP) */
    KeyCheck check;  /* KT_STRING, KT_STRING0 and KT_LIST items; NULL: any single-line string */
    guint min, max;  /* KT_UINT, KT_DURATION (seconds) only */
} KeyDef;

static gboolean is_name_char(char c) { return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }

static const char *check_name(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!is_name_char(*p))
            return "letters, digits, '.', '_' and '-' only";
    return NULL;
}

static const char *check_version(const char *v)
{
    if (!g_ascii_isalnum(v[0]) || check_name(v) || strlen(v) > 128)
        return "a version such as 2.0.0: a letter or digit first, then letters, digits, '.', '_', '-' (at most 128)";
    return NULL;
}

/* ostree's ref syntax: components [\w\d][-._\w\d]* joined by '/'. */
static const char *check_ref(const char *v)
{
    static const char *const expected = "an ostree ref such as rhel/9/x86_64/edge";
    gboolean start = TRUE;
    for (const char *p = v; *p; p++) {
        if (*p == '/') {
            if (start)
                return expected;
            start = TRUE;
        } else if (start) {
            if (!g_ascii_isalnum(*p) && *p != '_')
                return expected;
            start = FALSE;
        } else if (!is_name_char(*p)) {
            return expected;
        }
    }
    return start ? expected : NULL;
}

/* composer.parent: a ref composer resolves at composer.url. A commit
 * checksum is refused: osbuild-composer's pkg/ostree took only refs as
 * parent for a long time (VerifyRef: "Invalid ostree parent ref"), and the
 * oldest versions refuse parent and url together; only the images
 * library's ImageOptions.Validate takes "a valid ref or a checksum". */
const char *dcn_definition_check_parent(const char *v)
{
    gboolean checksum = strlen(v) == 64;
    for (const char *p = v; checksum && *p; p++)
        checksum = g_ascii_isdigit(*p) || (*p >= 'a' && *p <= 'f');
    if (checksum)
        return "a ref on the hosted repo such as rhel/9/x86_64/edge, not a commit checksum (most osbuild-composer "
               "versions take only a ref as parent; leave composer.parent out to build on the hosted head)";
    return check_ref(v) ? "an ostree ref such as rhel/9/x86_64/edge (composer resolves it at composer.url)" : NULL;
}

static const char *check_key_id(const char *v)
{
    for (const char *p = v; *p; p++)
        if (g_ascii_isspace(*p) || !g_ascii_isprint(*p))
            return "a GPG key id or fingerprint (no spaces)";
    return NULL;
}

static const char *check_url(const char *v)
{
    if (!g_str_has_prefix(v, "http://") && !g_str_has_prefix(v, "https://") && !g_str_has_prefix(v, "@URL@"))
        return "a URL starting with http://, https:// or @URL@";
    return NULL;
}

/* kickstart.gpg_key_url goes into the kickstart's %pre/%post between
 * single quotes (curl -o FILE 'URL'): nothing that could end them. */
static const char *check_key_url(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p <= ' ' || *p > '~' || strchr("'\"\\`", *p))
            return "a URL starting with http://, https:// or @URL@, without blanks, quotes or backslashes";
    return check_url(v);
}

static const char *check_one_of(const char *v, const char *const *allowed, const char *expected)
{
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return NULL;
    return expected;
}

static const char *check_provider(const char *v)
{
    static const char *const ok[] = {"local", "ssh", "libvirt", "kubevirt", NULL};
    return check_one_of(v, ok, "one of local, ssh, libvirt, kubevirt");
}

static const char *check_ssh_via(const char *v)
{
    static const char *const ok[] = {"address", "virtctl", NULL};
    return check_one_of(v, ok, "address or virtctl");
}

static const char *check_domain_type(const char *v)
{
    static const char *const ok[] = {"kvm", "qemu", NULL};
    return check_one_of(v, ok, "kvm or qemu");
}

/* A DNS-1123 label (Kubernetes object and namespace names, libvirt domains). */
static const char *check_dns_label(const char *v)
{
    size_t n = strlen(v);
    gboolean ok = n <= 63 && g_ascii_isalnum(v[0]) && g_ascii_isalnum(v[n - 1]);
    for (const char *p = v; ok && *p; p++)
        ok = (g_ascii_isdigit(*p) || g_ascii_islower(*p) || *p == '-');
    return ok ? NULL : "lower-case letters, digits and '-' (at most 63, a letter or digit at both ends)";
}

static const char *check_platform(const char *v)
{
    return g_str_equal(v, "openshift") || g_str_equal(v, "kubernetes") ? NULL : "openshift or kubernetes";
}

/* A Kubernetes namespace: an RFC 1123 label. */
static const char *check_namespace(const char *v)
{
    size_t n = strlen(v);
    gboolean ok = n <= 63 && g_ascii_isalnum(v[0]) && g_ascii_isalnum(v[n - 1]);
    for (const char *p = v; *p && ok; p++)
        ok = (g_ascii_isdigit(*p) || g_ascii_islower(*p) || *p == '-');
    return ok ? NULL : "a namespace: lower-case letters, digits and '-' (at most 63)";
}

static const char *check_registry(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p == '/' || *p == '@' || g_ascii_isspace(*p) || !g_ascii_isprint(*p))
            return "a registry host[:port], such as image-registry.openshift-image-registry.svc:5000";
    return NULL;
}

static const char *check_http_url(const char *v)
{
    if (!g_str_has_prefix(v, "http://") && !g_str_has_prefix(v, "https://"))
        return "a URL starting with http:// or https://";
    return NULL;
}

static const char *check_iso_mode(const char *v)
{
    static const char *const modes[] = {"network", "offline", NULL};
    return check_one_of(v, modes, "network or offline");
}

static const char *check_compression(const char *v)
{
    return g_str_equal(v, "gzip") || g_str_equal(v, "zstd") ? NULL : "gzip or zstd";
}

/* http:// must be written out: plain HTTP is never assumed. */
static const char *check_registry_url(const char *v)
{
    const char *host = g_str_has_prefix(v, "https://") ? v + 8 : g_str_has_prefix(v, "http://") ? v + 7 : NULL;
    const char *slash = host ? strchr(host, '/') : NULL;
    if (!host || !*host || *host == '/' || (slash && slash[1]) || strchr(host, '?') || strchr(host, '@'))
        return "a registry URL such as https://registry.example.com or http://127.0.0.1:5000 (scheme, host, port; no path)";
    return NULL;
}

/* A distribution repository name: lower-case components separated by '/'. */
static const char *check_repository(const char *v)
{
    static const char *const expected = "a repository such as ns/dcn-edge: lower-case letters, digits and '.', '_', '-' "
                                        "between them, components separated by '/'";
    gboolean start = TRUE;
    for (const char *p = v; *p; p++) {
        gboolean alnum = g_ascii_isdigit(*p) || g_ascii_islower(*p);
        if (start && !alnum)
            return expected;
        if (*p == '/' || *p == '.' || *p == '_' || *p == '-')
            start = TRUE;
        else if (!alnum)
            return expected;
        else
            start = FALSE;
    }
    return start || strlen(v) > 255 ? expected : NULL;
}

#define F(field) offsetof(DcnDefinition, field)
static const KeyDef keys[] = {
    {"name", KT_STRING, F(name), check_name, 0, 0},
    {"version", KT_STRING, F(version), check_version, 0, 0},
    {"ref", KT_STRING, F(ref), check_ref, 0, 0},
    {"osname", KT_STRING, F(osname), check_name, 0, 0},
    {"subject", KT_STRING, F(subject), NULL, 0, 0},
    {"compose", KT_MAP, 0, NULL, 0, 0},
    {"compose.backend", KT_BACKEND, F(compose_backend), NULL, 0, 0},
    {"compose.source", KT_PATH, F(compose_source), NULL, 0, 0},
    {"compose.staging", KT_PATH, F(staging), NULL, 0, 0},
    {"repo", KT_PATH, F(repo), NULL, 0, 0},
    {"state_dir", KT_PATH, F(state_dir), NULL, 0, 0},
    {"keep", KT_UINT, F(keep), NULL, 1, 1000},
    {"deltas_from", KT_UINT, F(deltas_from), NULL, 0, 100},
    {"delta_min_fallback_mb", KT_UINT, F(delta_min_fallback_mb), NULL, 0, 1u << 20},
    {"scratch_delta", KT_BOOL, F(scratch_delta), NULL, 0, 0},
    {"prune_grace", KT_DURATION, F(prune_grace), NULL, 0, 30 * 86400},
    {"sign", KT_MAP, 0, NULL, 0, 0},
    {"sign.gpg_key_id", KT_STRING, F(gpg_key_id), check_key_id, 0, 0},
    {"sign.gpg_homedir", KT_PATH, F(gpg_homedir), NULL, 0, 0},
    {"sign.ed25519_key", KT_PATH, F(ed25519_key), NULL, 0, 0},
    {"kickstart", KT_MAP, 0, NULL, 0, 0},
    {"kickstart.extra", KT_TEXT, F(kickstart_extra), NULL, 0, 0},
    {"kickstart.path", KT_PATH, F(kickstart_path), NULL, 0, 0},
    {"kickstart.gpg_key_url", KT_STRING, F(kickstart_gpg_url), check_key_url, 0, 0},
    {"kickstart.lang", KT_STRING, F(kickstart_lang), dcn_ks_check_lang, 0, 0},
    {"kickstart.keyboard", KT_STRING, F(kickstart_keyboard), dcn_ks_check_keyboard, 0, 0},
    {"kickstart.timezone", KT_STRING, F(kickstart_timezone), dcn_ks_check_timezone, 0, 0},
    {"kickstart.disk", KT_STRING0, F(kickstart_disk), dcn_ks_check_disk, 0, 0},
    {"kickstart.network", KT_STRING, F(kickstart_network), dcn_ks_check_network, 0, 0},
    {"kickstart.user", KT_MAP, 0, NULL, 0, 0},
    {"kickstart.user.name", KT_STRING, F(kickstart_user), dcn_ks_check_user, 0, 0},
    {"kickstart.user.ssh_keys", KT_LIST, F(kickstart_ssh_keys), dcn_ks_check_ssh_key, 0, 0},
    {"kickstart.user.password_hash", KT_STRING, F(kickstart_password_hash), dcn_ks_check_password_hash, 0, 0},
    {"kickstart.updates", KT_STRING, F(kickstart_updates), dcn_ks_check_updates, 0, 0},
    {"kickstart.ca_file", KT_PATH, F(kickstart_ca_file), NULL, 0, 0},
    {"kickstart.template", KT_PATH, F(kickstart_template), NULL, 0, 0},
    {"deploy", KT_MAP, 0, NULL, 0, 0},
    {"deploy.platform", KT_STRING, F(deploy_platform), check_platform, 0, 0},
    {"deploy.manifests", KT_PATH, F(deploy_manifests), NULL, 0, 0},
    {"deploy.namespace", KT_STRING, F(deploy_namespace), check_namespace, 0, 0},
    {"deploy.registry", KT_STRING, F(deploy_registry), check_registry, 0, 0},
    {"deploy.url", KT_STRING, F(deploy_url), check_http_url, 0, 0},
    {"deploy.kubectl", KT_STRING, F(deploy_kubectl), NULL, 0, 0},
    {"deploy.ca_file", KT_PATH, F(deploy_ca_file), NULL, 0, 0},
    {"deploy.timeout", KT_UINT, F(deploy_timeout), NULL, 1, 86400},
    {"iso", KT_MAP, 0, NULL, 0, 0},
    {"iso.boot_iso", KT_PATH, F(iso_boot_iso), NULL, 0, 0},
    {"iso.output", KT_PATH, F(iso_output), NULL, 0, 0},
    {"iso.mode", KT_STRING, F(iso_mode), check_iso_mode, 0, 0},
    {"image", KT_MAP, 0, NULL, 0, 0},
    {"image.layout", KT_PATH, F(image_layout), NULL, 0, 0},
    {"image.archive", KT_PATH, F(image_archive), NULL, 0, 0},
    {"image.compression", KT_STRING, F(image_compression), check_compression, 0, 0},
    {"image.hoster", KT_PATH, F(image_hoster), NULL, 0, 0},
    {"registry", KT_MAP, 0, NULL, 0, 0},
    {"registry.url", KT_STRING, F(registry_url), check_registry_url, 0, 0},
    {"registry.repository", KT_STRING, F(registry_repository), check_repository, 0, 0},
    {"registry.username", KT_STRING, F(registry_username), NULL, 0, 0},
    {"registry.password_file", KT_PATH, F(registry_password_file), NULL, 0, 0},
    {"registry.ca_file", KT_PATH, F(registry_ca_file), NULL, 0, 0},
    {"registry.insecure", KT_BOOL, F(registry_insecure), NULL, 0, 0},
    {"registry.chunk_mb", KT_UINT, F(registry_chunk_mb), NULL, 1, 4096},
    {"registry.retries", KT_UINT, F(registry_retries), NULL, 0, 20},
    {"registry.mount_from", KT_LIST, F(registry_mount_from), NULL, 0, 0}, /* names checked by push */
    /* build infrastructure: provision, install, compose weldr (docs/build-infra.md) */
    {"provider", KT_MAP, 0, NULL, 0, 0},
    {"provider.kind", KT_STRING, F(provider), check_provider, 0, 0},
    {"provider.timeout_s", KT_UINT, F(provider_timeout_s), NULL, 1, 86400},
    {"vm", KT_MAP, 0, NULL, 0, 0},
    {"vm.name", KT_STRING, F(vm_name), check_dns_label, 0, 0},
    {"vm.cpus", KT_UINT, F(vm_cpus), NULL, 1, 256},
    {"vm.memory_mib", KT_UINT, F(vm_memory_mib), NULL, 512, 4u << 20},
    {"vm.disk_gib", KT_UINT, F(vm_disk_gib), NULL, 1, 1u << 16},
    {"vm.image", KT_STRING, F(vm_image), NULL, 0, 0},
    {"vm.user", KT_STRING, F(vm_user), check_name, 0, 0},
    {"vm.cloud_config", KT_TEXT, F(vm_cloud_config), NULL, 0, 0},
    {"vm.templates", KT_PATH, F(vm_templates), NULL, 0, 0},
    {"kubevirt", KT_MAP, 0, NULL, 0, 0},
    {"kubevirt.namespace", KT_STRING, F(kubevirt_namespace), check_dns_label, 0, 0},
    {"kubevirt.kubectl", KT_STRING, F(kubevirt_kubectl), NULL, 0, 0},
    {"kubevirt.storage_class", KT_STRING, F(kubevirt_storage_class), check_name, 0, 0},
    {"kubevirt.ssh_via", KT_STRING, F(kubevirt_ssh_via), check_ssh_via, 0, 0},
    {"libvirt", KT_MAP, 0, NULL, 0, 0},
    {"libvirt.uri", KT_STRING, F(libvirt_uri), NULL, 0, 0},
    {"libvirt.domain_type", KT_STRING, F(libvirt_domain_type), check_domain_type, 0, 0},
    {"libvirt.network", KT_STRING, F(libvirt_network), check_name, 0, 0},
    {"libvirt.kernel", KT_PATH, F(libvirt_kernel), NULL, 0, 0},
    {"libvirt.initrd", KT_PATH, F(libvirt_initrd), NULL, 0, 0},
    {"libvirt.cmdline", KT_STRING, F(libvirt_cmdline), NULL, 0, 0},
    {"ssh", KT_MAP, 0, NULL, 0, 0},
    {"ssh.host", KT_STRING, F(ssh_host), check_key_id, 0, 0},
    {"ssh.port", KT_UINT, F(ssh_port), NULL, 1, 65535},
    {"ssh.user", KT_STRING, F(ssh_user), check_name, 0, 0},
    {"ssh.key", KT_PATH, F(ssh_key), NULL, 0, 0},
    {"ssh.known_hosts", KT_PATH, F(ssh_known_hosts), NULL, 0, 0},
    {"ssh.options", KT_LIST, F(ssh_options), NULL, 0, 0},
    {"install", KT_MAP, 0, NULL, 0, 0},
    {"install.packages", KT_LIST, F(install_packages), NULL, 0, 0},
    {"install.commands", KT_LIST, F(install_commands), NULL, 0, 0},
    {"install.check", KT_STRING, F(install_check), NULL, 0, 0},
    {"blueprint", KT_MAP, 0, NULL, 0, 0},
    {"blueprint.file", KT_PATH, F(blueprint_file), NULL, 0, 0},
    {"blueprint.description", KT_STRING, F(blueprint_description), NULL, 0, 0},
    {"blueprint.packages", KT_LIST, F(blueprint_packages), NULL, 0, 0},
    {"blueprint.groups", KT_LIST, F(blueprint_groups), NULL, 0, 0},
    {"blueprint.customizations", KT_TEXT, F(blueprint_customizations), NULL, 0, 0},
    {"composer", KT_MAP, 0, NULL, 0, 0},
    {"composer.socket", KT_STRING, F(composer_socket), NULL, 0, 0},
    {"composer.url", KT_STRING, F(composer_url), check_url, 0, 0},
    {"composer.parent", KT_STRING, F(composer_parent), dcn_definition_check_parent, 0, 0},
    {"composer.timeout_s", KT_UINT, F(composer_timeout_s), NULL, 1, 7 * 86400},
    {"composer.poll_s", KT_UINT, F(composer_poll_s), NULL, 1, 3600},
    {"composer.size_mib", KT_UINT, F(composer_size_mib), NULL, 0, 1u << 24},
    {"run", KT_MAP, 0, NULL, 0, 0},
    {"run.skip", KT_LIST, F(run_skip), NULL, 0, 0},
};
#undef F
#define N_KEYS G_N_ELEMENTS(keys)

/* Where each key was set ("file.yaml:7", "--keep"), for messages that involve
 * two keys. Kept beside the definition, freed with it. */
typedef struct {
    DcnDefinition def;
    char *origin[N_KEYS];
    gboolean seen[N_KEYS];     /* set already (duplicate keys are errors) */
    gboolean rejected[N_KEYS]; /* its value was refused: a problem names it */
    GPtrArray *problems;       /* "WHERE: what", in the order found */
    char *first_line;          /* "FILE:1" of the parsed file: where to point at keys it lacks */
    gboolean finished;         /* dcn_definition_finish() filled the defaults */
} DefinitionPriv;

DcnDefinition *dcn_definition_new(void)
{
    DefinitionPriv *p = g_new0(DefinitionPriv, 1);
    p->problems = g_ptr_array_new_with_free_func(g_free);
    p->def.compose_backend = DCN_COMPOSE_TREE;
    p->def.keep = 5;
    p->def.deltas_from = 3;
    p->def.delta_min_fallback_mb = 0;
    p->def.scratch_delta = TRUE;
    p->def.prune_grace = 3600;
    p->def.provider_timeout_s = 900;
    p->def.vm_cpus = 4;
    p->def.vm_memory_mib = 8192;
    p->def.vm_disk_gib = 100;
    p->def.composer_timeout_s = 7200;
    p->def.composer_poll_s = 10;
    p->def.registry_retries = 4;
    return &p->def;
}

void dcn_definition_free(DcnDefinition *def)
{
    if (!def)
        return;
    DefinitionPriv *p = (DefinitionPriv *)def;
    for (size_t i = 0; i < N_KEYS; i++) {
        g_free(p->origin[i]);
        if (keys[i].type == KT_STRING || keys[i].type == KT_STRING0 || keys[i].type == KT_TEXT ||
            keys[i].type == KT_PATH)
            g_free(*(char **)((char *)def + keys[i].offset));
        else if (keys[i].type == KT_LIST)
            g_strfreev(*(char ***)((char *)def + keys[i].offset));
    }
    g_ptr_array_unref(p->problems);
    g_free(p->first_line);
    g_free(def->path);
    g_free(p);
}

const GPtrArray *dcn_definition_problems(const DcnDefinition *def) { return ((const DefinitionPriv *)def)->problems; }

void dcn_definition_add_problem(DcnDefinition *def, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(((DefinitionPriv *)def)->problems, g_strdup_printf("%s: %s", where, what));
}

GError *dcn_definition_problems_error(const DcnDefinition *def)
{
    const GPtrArray *a = dcn_definition_problems(def);
    if (!a->len)
        return NULL;
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < a->len; i++)
        g_string_append_printf(s, "%s%s", i ? "\n" : "", (const char *)a->pdata[i]);
    GError *e = g_error_new_literal(DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, s->str);
    g_string_free(s, TRUE);
    return e;
}

gboolean dcn_definition_finished(const DcnDefinition *def) { return ((const DefinitionPriv *)def)->finished; }

const char *dcn_compose_backend_name(DcnComposeBackendKind kind)
{
    switch (kind) {
    case DCN_COMPOSE_TREE: return "tree";
    case DCN_COMPOSE_EDGE_COMMIT: return "edge-commit";
    case DCN_COMPOSE_WELDR: return "weldr";
    }
    return "?";
}

static const KeyDef *find_key(const char *key, size_t *index)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].key, key) == 0) {
            *index = i;
            return &keys[i];
        }
    return NULL;
}

static gboolean parse_uint(const char *v, guint min, guint max, guint *out)
{
    if (!*v || strlen(v) > 9)
        return FALSE;
    guint64 n = 0;
    for (const char *p = v; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
        n = n * 10 + (guint64)(*p - '0');
    }
    if (n < min || n > max)
        return FALSE;
    *out = (guint)n;
    return TRUE;
}

/* N (seconds) or N followed by one of s, m, h, d. */
static gboolean parse_duration(const char *v, guint min, guint max, guint *out)
{
    static const struct {
        char unit;
        guint seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    size_t len = strlen(v);
    guint scale = 1;
    for (size_t i = 0; len > 1 && i < G_N_ELEMENTS(units); i++)
        if (v[len - 1] == units[i].unit) {
            scale = units[i].seconds;
            len--;
            break;
        }
    g_autofree char *digits = g_strndup(v, len);
    guint n;
    if (!parse_uint(digits, 0, G_MAXUINT32 / 86400, &n))
        return FALSE;
    guint64 seconds = (guint64)n * scale;
    if (seconds < min || seconds > max)
        return FALSE;
    *out = (guint)seconds;
    return TRUE;
}

static gboolean parse_bool(const char *v, gboolean *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(v, yes[i]) == 0 || g_ascii_strcasecmp(v, no[i]) == 0) {
            *out = g_ascii_strcasecmp(v, yes[i]) == 0;
            return TRUE;
        }
    }
    return FALSE;
}

/* Validates value for keys[i] and stores it. origin prefixes errors. */
static gboolean set_value(DcnDefinition *def, size_t i, const char *value, const char *origin,
                          const char *base_dir, GError **error)
{
    const KeyDef *k = &keys[i];
    void *field = (char *)def + k->offset;
    const char *expected = NULL;
    g_autofree char *stored = NULL;

    switch (k->type) {
    case KT_MAP:
        expected = "a mapping of keys";
        break;
    case KT_TEXT:
        stored = g_strdup(value);
        break;
    case KT_LIST: {
        /* from a flag or variable: comma-separated, blanks around items ignored */
        g_auto(GStrv) items = g_strsplit(value, ",", -1);
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
        for (char **it = items; *it && !expected; it++) {
            g_strstrip(*it);
            if (**it && strpbrk(*it, "\r\n"))
                expected = "single-line items";
            else if (**it && k->check)
                expected = k->check(*it);
            if (**it)
                g_ptr_array_add(list, g_strdup(*it));
        }
        if (expected)
            break;
        g_ptr_array_add(list, NULL);
        g_strfreev(*(char ***)field);
        *(char ***)field = (char **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
        break;
    }
    case KT_STRING:
    case KT_STRING0:
    case KT_PATH:
        if (!*value && k->type != KT_STRING0)
            expected = "a non-empty value";
        else if (strpbrk(value, "\r\n"))
            expected = "a single line";
        else if (k->type != KT_PATH && k->check && *value)
            expected = k->check(value);
        if (!expected)
            stored = (k->type == KT_PATH && !g_path_is_absolute(value))
                         ? g_canonicalize_filename(value, base_dir)
                         : g_strdup(value);
        break;
    case KT_UINT: {
        guint n;
        if (!parse_uint(value, k->min, k->max, &n)) {
            g_autofree char *shown = g_strescape(value, NULL);
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                        "%s: key '%s': expected an integer from %u to %u, got '%s'", origin, k->key, k->min, k->max,
                        shown);
            return FALSE;
        }
        *(guint *)field = n;
        break;
    }
    case KT_DURATION: {
        guint n;
        if (!parse_duration(value, k->min, k->max, &n)) {
            g_autofree char *shown = g_strescape(value, NULL);
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                        "%s: key '%s': expected a duration from %us to %us: seconds, or a number with s, m, h or d "
                        "(90s, 30m, 1h), got '%s'",
                        origin, k->key, k->min, k->max, shown);
            return FALSE;
        }
        *(guint *)field = n;
        break;
    }
    case KT_BOOL:
        if (!parse_bool(value, (gboolean *)field))
            expected = "true or false";
        break;
    case KT_BACKEND:
        if (strcmp(value, "tree") == 0)
            *(DcnComposeBackendKind *)field = DCN_COMPOSE_TREE;
        else if (strcmp(value, "edge-commit") == 0)
            *(DcnComposeBackendKind *)field = DCN_COMPOSE_EDGE_COMMIT;
        else if (strcmp(value, "weldr") == 0)
            *(DcnComposeBackendKind *)field = DCN_COMPOSE_WELDR;
        else
            expected = "one of tree, edge-commit, weldr";
        break;
    }
    if (expected) {
        g_autofree char *shown = g_strescape(value, NULL);
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s: key '%s': expected %s, got '%s'",
                    origin, k->key, expected, shown);
        return FALSE;
    }
    if (stored) {
        g_free(*(char **)field);
        *(char **)field = g_steal_pointer(&stored);
    }
    DefinitionPriv *p = (DefinitionPriv *)def;
    g_free(p->origin[i]);
    p->origin[i] = g_strdup(origin);
    p->seen[i] = TRUE;
    return TRUE;
}

/* A YAML list for a KT_LIST key: every item a non-empty single-line scalar
 * that passes the key's check. FALSE when one does not (each bad item is a
 * problem of its own). */
static gboolean set_list(DcnDefinition *def, size_t i, yaml_document_t *doc, yaml_node_t *seq, const char *filename)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = TRUE;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *n = yaml_document_get_node(doc, *it);
        const char *v = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
        g_autofree char *where = g_strdup_printf("%s:%zu", filename, n->start_mark.line + 1);
        const char *expected = NULL;
        if (!v || !*v || strpbrk(v, "\r\n") || strlen(v) != n->data.scalar.length)
            dcn_definition_add_problem(def, where, "key '%s': expected a list of single-line strings", keys[i].key);
        else if (keys[i].check && (expected = keys[i].check(v))) {
            g_autofree char *shown = g_strescape(v, NULL);
            dcn_definition_add_problem(def, where, "key '%s': expected %s, got '%s'", keys[i].key, expected, shown);
        } else {
            g_ptr_array_add(list, g_strdup(v));
            continue;
        }
        ok = FALSE; /* every bad item is listed, each with its line */
    }
    if (!ok)
        return FALSE;
    g_ptr_array_add(list, NULL);
    char ***field = (char ***)((char *)def + keys[i].offset);
    g_strfreev(*field);
    *field = (char **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
    DefinitionPriv *p = (DefinitionPriv *)def;
    g_free(p->origin[i]);
    p->origin[i] = g_strdup_printf("%s:%zu", filename, seq->start_mark.line + 1);
    p->seen[i] = TRUE;
    return TRUE;
}

/* ---- YAML walking ---- */

typedef struct {
    DcnDefinition *def;
    yaml_document_t *doc;
    const char *filename;
    const char *base_dir;
} ParseCtx;

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static gboolean is_null_scalar(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return FALSE;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

/* Records a problem of the document and goes on: one run lists them all. */
static void problem(ParseCtx *c, const char *where, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void problem(ParseCtx *c, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    dcn_definition_add_problem(c->def, where, "%s", what);
}

static void rejected(ParseCtx *c, size_t i, GError *e)
{
    g_ptr_array_add(((DefinitionPriv *)c->def)->problems, g_strdup(e->message));
    ((DefinitionPriv *)c->def)->rejected[i] = TRUE;
    g_error_free(e);
}

static void parse_mapping(ParseCtx *c, yaml_node_t *map, const char *prefix)
{
    DefinitionPriv *priv = (DefinitionPriv *)c->def;
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, pair->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, pair->value);
        g_autofree char *origin = g_strdup_printf("%s:%zu", c->filename, kn->start_mark.line + 1);
        if (kn->type != YAML_SCALAR_NODE) {
            problem(c, origin, "expected a key name, got %s", node_kind(kn));
            continue;
        }
        const char *name = (const char *)kn->data.scalar.value;
        g_autofree char *key = prefix ? g_strconcat(prefix, ".", name, NULL) : g_strdup(name);
        size_t i;
        const KeyDef *k = find_key(key, &i);
        if (!k) {
            problem(c, origin, "unknown key '%s'", key);
            continue;
        }
        if (priv->seen[i]) {
            problem(c, origin, "duplicate key '%s'", key);
            continue;
        }
        g_autofree char *vorigin = g_strdup_printf("%s:%zu", c->filename, vn->start_mark.line + 1);
        GError *e = NULL;
        if (k->type == KT_MAP) {
            priv->seen[i] = TRUE;
            g_free(priv->origin[i]);
            priv->origin[i] = g_strdup(origin);
            if (is_null_scalar(vn))
                continue; /* "sign:" with nothing under it */
            if (vn->type != YAML_MAPPING_NODE)
                problem(c, vorigin, "key '%s': expected a mapping of keys, got %s", key, node_kind(vn));
            else
                parse_mapping(c, vn, key);
            continue;
        }
        if (k->type == KT_LIST && vn->type == YAML_SEQUENCE_NODE) {
            if (!set_list(c->def, i, c->doc, vn, c->filename))
                priv->rejected[i] = TRUE;
            continue;
        }
        if (vn->type != YAML_SCALAR_NODE || k->type == KT_LIST) {
            problem(c, vorigin, "key '%s': expected %s, got %s", key, k->type == KT_LIST ? "a list" : "a single value",
                    node_kind(vn));
            priv->rejected[i] = TRUE;
        } else if (strlen((const char *)vn->data.scalar.value) != vn->data.scalar.length) {
            /* "\0" in a double-quoted scalar: the C string would end there */
            problem(c, vorigin, "key '%s': contains a NUL character", key);
            priv->rejected[i] = TRUE;
        } else if (is_null_scalar(vn) && k->type != KT_TEXT) {
            problem(c, vorigin, "key '%s': no value (remove the key to use the default)", key);
            priv->rejected[i] = TRUE;
        } else if (!set_value(c->def, i, (const char *)vn->data.scalar.value, vorigin, c->base_dir, &e)) {
            rejected(c, i, e);
        }
        priv->seen[i] = TRUE; /* a rejected key given twice is still a duplicate */
    }
}

typedef yaml_parser_t DcnYamlParser;
static void dcn_yaml_parser_free(DcnYamlParser *p) { yaml_parser_delete(p); }
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnYamlParser, dcn_yaml_parser_free)
typedef yaml_document_t DcnYamlDocument;
static void dcn_yaml_document_free(DcnYamlDocument *d) { yaml_document_delete(d); }

gboolean dcn_definition_parse(DcnDefinition *def, const char *buf, size_t len, const char *filename,
                              const char *base_dir, GError **error)
{
    g_auto(DcnYamlParser) parser;
    yaml_document_t doc;
    g_autofree char *cwd = base_dir ? NULL : g_get_current_dir();

    if (!yaml_parser_initialize(&parser))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s: out of memory", filename),
               FALSE;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s:%zu: YAML syntax error: %s%s%s",
                           filename, parser.problem_mark.line + 1, parser.problem ? parser.problem : "?",
                           parser.context ? " " : "", parser.context ? parser.context : ""),
               FALSE;

    gboolean ok = FALSE;
    DefinitionPriv *priv = (DefinitionPriv *)def;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || is_null_scalar(root)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s: the definition is empty", filename);
    } else if (root->type != YAML_MAPPING_NODE) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s:%zu: expected a mapping of keys, got %s",
                    filename, root->start_mark.line + 1, node_kind(root));
    } else {
        ParseCtx c = {def, &doc, filename, base_dir ? base_dir : cwd};
        guint before = priv->problems->len;
        g_free(priv->first_line);
        priv->first_line = g_strdup_printf("%s:1", filename);
        parse_mapping(&c, root, NULL);
        ok = priv->problems->len == before;
        if (!ok) {
            /* this document's problems, one per line */
            GString *s = g_string_new(NULL);
            for (guint i = before; i < priv->problems->len; i++)
                g_string_append_printf(s, "%s%s", i > before ? "\n" : "", (const char *)priv->problems->pdata[i]);
            g_set_error_literal(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, s->str);
            g_string_free(s, TRUE);
        }
    }
    dcn_yaml_document_free(&doc);
    return ok;
}

gboolean dcn_definition_load_file(DcnDefinition *def, const char *path, GError **error)
{
    g_autofree char *contents = NULL;
    gsize len = 0;
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    if (!g_file_get_contents(abs, &contents, &len, error)) {
        g_prefix_error(error, "definition: ");
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(abs);
    g_free(def->path);
    def->path = g_strdup(abs);
    return dcn_definition_parse(def, contents, len, path, dir, error);
}

gboolean dcn_definition_set(DcnDefinition *def, const char *key, const char *value, const char *origin,
                            GError **error)
{
    size_t i;
    if (!find_key(key, &i) || keys[i].type == KT_MAP)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE, "%s: unknown key '%s'", origin, key),
               FALSE;
    g_autofree char *cwd = g_get_current_dir();
    return set_value(def, i, value, origin, cwd, error);
}

/* Index of a key the code itself names (always in the table). */
static size_t key_index(const char *key)
{
    size_t i = 0;
    if (!find_key(key, &i))
        g_error("definition: no key '%s' in the table", key);
    return i;
}

static const char *origin_of(DcnDefinition *def, const char *key)
{
    size_t i = key_index(key);
    const char *o = ((DefinitionPriv *)def)->origin[i];
    return o ? o : "default";
}

const char *dcn_definition_origin(const DcnDefinition *def, const char *key)
{
    size_t i;
    return find_key(key, &i) ? ((const DefinitionPriv *)def)->origin[i] : NULL;
}

const char *dcn_definition_where(const DcnDefinition *def, const char *key)
{
    g_autofree char *k = g_strdup(key);
    for (;;) {
        const char *o = dcn_definition_origin(def, k);
        if (o)
            return o;
        char *dot = strrchr(k, '.');
        if (!dot)
            break;
        *dot = '\0';
    }
    const DefinitionPriv *p = (const DefinitionPriv *)def;
    return p->first_line ? p->first_line : def->path ? def->path : "definition";
}

gboolean dcn_definition_rejected(const DcnDefinition *def, const char *key)
{
    size_t i;
    return find_key(key, &i) && ((const DefinitionPriv *)def)->rejected[i];
}

/* Defaults of the build-infrastructure keys (provision, install, weldr). */
static void finish_build_infra(DcnDefinition *def)
{
#define DEFAULT(field, value)                                                                                          \
    if (!def->field)                                                                                                   \
    def->field = g_strdup(value)
    DEFAULT(provider, "local");
    DEFAULT(vm_user, "cloud-user");
    DEFAULT(kubevirt_namespace, "default");
    DEFAULT(kubevirt_kubectl, "kubectl");
    /* the VMI's pod-network address is reachable from inside the cluster
     * (a pod has KUBERNETES_SERVICE_HOST); from outside, tunnel through
     * the API server with virtctl */
    DEFAULT(kubevirt_ssh_via, g_getenv("KUBERNETES_SERVICE_HOST") ? "address" : "virtctl");
    DEFAULT(libvirt_uri, "qemu:///system");
    DEFAULT(libvirt_domain_type, "kvm");
    DEFAULT(libvirt_network, "user");
    DEFAULT(composer_socket, "/run/weldr/api.socket");
#undef DEFAULT
    if (!def->vm_name) {
        /* <name>-builder as a DNS label: lower case, other characters as '-' */
        GString *s = g_string_new(NULL);
        for (const char *p = def->name; *p && s->len < 54; p++)
            g_string_append_c(s, g_ascii_isalnum(*p) ? g_ascii_tolower(*p) : '-');
        while (s->len && s->str[0] == '-')
            g_string_erase(s, 0, 1);
        g_string_append(s, s->len ? "-builder" : "dcn-builder");
        def->vm_name = g_string_free(s, FALSE);
    }
    if (!def->install_packages) {
        static const char *const pkgs[] = {"osbuild-composer", "composer-cli", NULL};
        def->install_packages = g_strdupv((char **)pkgs);
    }
}

/* Defaults of the installer ISO's keys: network mode, the ISO next to the
 * kickstart (so dcn-hoster serves it from the same root), @VERSION@ in the
 * output path filled in. */
static void finish_iso(DcnDefinition *def)
{
    if (!def->iso_mode)
        def->iso_mode = g_strdup("network");
    if (!def->iso_output) {
        g_autofree char *dir = g_path_get_dirname(def->kickstart_path);
        g_autofree char *base = g_strdup_printf("%s-@VERSION@.iso", def->name);
        def->iso_output = g_build_filename(dir, base, NULL);
    }
    if (strstr(def->iso_output, "@VERSION@")) {
        g_auto(GStrv) parts = g_strsplit(def->iso_output, "@VERSION@", -1);
        g_free(def->iso_output);
        def->iso_output = g_strjoinv(def->version, parts);
    }
}

static void fill_defaults(DcnDefinition *def);

/* The built-in kickstart's keys against each other, kickstart.template
 * and the commands kickstart.extra has (builder/kickstart/render.c leaves a
 * built-in command out when extra has one of its kind; a key that sets
 * that command too would then do nothing). */
static void check_kickstart(DcnDefinition *def)
{
    static const char *const content[] = {"kickstart.lang",  "kickstart.keyboard", "kickstart.timezone",
                                          "kickstart.disk",  "kickstart.network",  "kickstart.user",
                                          "kickstart.updates", "kickstart.ca_file"};
    static const struct {
        const char *key, *command;
    } by_extra[] = {
        {"kickstart.lang", "lang"},         {"kickstart.keyboard", "keyboard"}, {"kickstart.timezone", "timezone"},
        {"kickstart.disk", "ignoredisk"},   {"kickstart.network", "network"},
    };
    if ((def->kickstart_ssh_keys || def->kickstart_password_hash) && !def->kickstart_user &&
        !dcn_definition_rejected(def, "kickstart.user.name"))
        dcn_definition_add_problem(def, dcn_definition_where(def, "kickstart.user"),
                                   "kickstart.user has %s but no name: the account's name (kickstart.user.name)",
                                   def->kickstart_ssh_keys ? "ssh_keys" : "password_hash");
    if (def->kickstart_template) {
        for (size_t i = 0; i < G_N_ELEMENTS(content); i++)
            if (dcn_definition_origin(def, content[i]))
                dcn_definition_add_problem(def, dcn_definition_origin(def, content[i]),
                                           "%s does nothing with kickstart.template (%s), which replaces the built-in "
                                           "kickstart: remove one of them",
                                           content[i], origin_of(def, "kickstart.template"));
        return;
    }
    g_autoptr(GHashTable) extra = dcn_ks_commands(def->kickstart_extra);
    for (size_t i = 0; i < G_N_ELEMENTS(by_extra); i++)
        if (dcn_definition_origin(def, by_extra[i].key) && g_hash_table_contains(extra, by_extra[i].command) &&
            !(strcmp(by_extra[i].key, "kickstart.disk") == 0 && !(def->kickstart_disk && *def->kickstart_disk)))
            dcn_definition_add_problem(def, dcn_definition_origin(def, by_extra[i].key),
                                       "%s and a %s command in kickstart.extra (%s) set the same thing: remove one",
                                       by_extra[i].key, by_extra[i].command, origin_of(def, "kickstart.extra"));
}

gboolean dcn_definition_finish(DcnDefinition *def, GError **error)
{
    DefinitionPriv *priv = (DefinitionPriv *)def;
    static const char *const required[] = {"name", "version", "ref", "repo"};
    gboolean complete = TRUE;
    for (size_t r = 0; r < G_N_ELEMENTS(required); r++) {
        size_t i = key_index(required[r]);
        if (!*(char **)((char *)def + keys[i].offset) && !priv->rejected[i]) {
            dcn_definition_add_problem(def, dcn_definition_where(def, required[r]), "missing required key '%s'",
                                       required[r]);
            complete = FALSE;
        } else if (!*(char **)((char *)def + keys[i].offset)) {
            complete = FALSE;
        }
    }
    if (def->deltas_from >= def->keep)
        dcn_definition_add_problem(def, origin_of(def, "deltas_from"),
                                   "key 'deltas_from' (%u) must be less than 'keep' (%u, %s): deltas from pruned "
                                   "versions would be deleted at once",
                                   def->deltas_from, def->keep, origin_of(def, "keep"));
    if (def->gpg_homedir && !def->gpg_key_id)
        dcn_definition_add_problem(def, origin_of(def, "sign.gpg_homedir"),
                                   "'sign.gpg_homedir' is set but 'sign.gpg_key_id' is not");
    if (!priv->finished)
        check_kickstart(def);
    if (complete && !priv->finished) {
        fill_defaults(def);
        priv->finished = TRUE;
    }
    GError *e = dcn_definition_problems_error(def);
    if (e) {
        g_propagate_error(error, e);
        return FALSE;
    }
    return TRUE;
}

/* The defaults that depend on other keys (name, ref, repo, the file). */
static void fill_defaults(DcnDefinition *def)
{
    if (!def->osname) {
        /* rhel/9/x86_64/edge -> rhel */
        const char *slash = strchr(def->ref, '/');
        g_autofree char *first = g_strndup(def->ref, slash ? (gsize)(slash - def->ref) : strlen(def->ref));
        def->osname = g_strdup(check_name(first) ? "dcn" : first);
    }
    if (!def->subject)
        def->subject = g_strdup_printf("%s %s", def->name, def->version);
    g_autofree char *repo_dir = g_path_get_dirname(def->repo);
    g_autofree char *repo_base = g_path_get_basename(def->repo);
    if (!def->staging) {
        /* next to the repo (same filesystem: objects are hardlinked on publish),
         * a dot-name so the hoster never serves it */
        g_autofree char *base = g_strdup_printf(".%s-staging", repo_base);
        def->staging = g_build_filename(repo_dir, base, NULL);
    }
    if (!def->state_dir) {
        /* beside the definition, never inside the served root */
        g_autofree char *def_dir = def->path ? g_path_get_dirname(def->path) : g_get_current_dir();
        def->state_dir = g_build_filename(def_dir, ".dcn-state", def->name, NULL);
    }
    if (!def->kickstart_path) {
        g_autofree char *base = g_strdup_printf("%s.ks", def->name);
        def->kickstart_path = g_build_filename(repo_dir, base, NULL);
    }
#define DEFAULT(field, value)                                                                                          \
    if (!def->field)                                                                                                   \
    def->field = g_strdup(value)
    DEFAULT(kickstart_lang, "en_US.UTF-8");
    DEFAULT(kickstart_keyboard, "us");
    DEFAULT(kickstart_timezone, "UTC");
    DEFAULT(kickstart_disk, "");
    DEFAULT(kickstart_network, "dhcp");
    DEFAULT(kickstart_updates, "none");
#undef DEFAULT
    finish_build_infra(def);
    finish_iso(def);
}
