/* keys: the definition's key table and the checks of single values.
 * See keys.h. */
#include "keys.h"

#include <string.h>

#include "ks_syntax.h"

static gboolean is_name_char(char c) { return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }

const char *dcn_def_check_name(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!is_name_char(*p))
            return "letters, digits, '.', '_' and '-' only";
    return NULL;
}

static const char *check_version(const char *v)
{
    if (!g_ascii_isalnum(v[0]) || dcn_def_check_name(v) || strlen(v) > 128)
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

const char *dcn_definition_check_repository(const char *v)
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
const KeyDef dcn_def_keys[] = {
    {"name", KT_STRING, F(name), dcn_def_check_name, 0, 0},
    {"version", KT_STRING, F(version), check_version, 0, 0},
    {"ref", KT_STRING, F(ref), check_ref, 0, 0},
    {"osname", KT_STRING, F(osname), dcn_def_check_name, 0, 0},
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
    {"registry.repository", KT_STRING, F(registry_repository), dcn_definition_check_repository, 0, 0},
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
    {"vm.user", KT_STRING, F(vm_user), dcn_def_check_name, 0, 0},
    {"vm.cloud_config", KT_TEXT, F(vm_cloud_config), NULL, 0, 0},
    {"vm.templates", KT_PATH, F(vm_templates), NULL, 0, 0},
    {"kubevirt", KT_MAP, 0, NULL, 0, 0},
    {"kubevirt.namespace", KT_STRING, F(kubevirt_namespace), check_dns_label, 0, 0},
    {"kubevirt.kubectl", KT_STRING, F(kubevirt_kubectl), NULL, 0, 0},
    {"kubevirt.storage_class", KT_STRING, F(kubevirt_storage_class), dcn_def_check_name, 0, 0},
    {"kubevirt.ssh_via", KT_STRING, F(kubevirt_ssh_via), check_ssh_via, 0, 0},
    {"libvirt", KT_MAP, 0, NULL, 0, 0},
    {"libvirt.uri", KT_STRING, F(libvirt_uri), NULL, 0, 0},
    {"libvirt.domain_type", KT_STRING, F(libvirt_domain_type), check_domain_type, 0, 0},
    {"libvirt.network", KT_STRING, F(libvirt_network), dcn_def_check_name, 0, 0},
    {"libvirt.kernel", KT_PATH, F(libvirt_kernel), NULL, 0, 0},
    {"libvirt.initrd", KT_PATH, F(libvirt_initrd), NULL, 0, 0},
    {"libvirt.cmdline", KT_STRING, F(libvirt_cmdline), NULL, 0, 0},
    {"ssh", KT_MAP, 0, NULL, 0, 0},
    {"ssh.host", KT_STRING, F(ssh_host), check_key_id, 0, 0},
    {"ssh.port", KT_UINT, F(ssh_port), NULL, 1, 65535},
    {"ssh.user", KT_STRING, F(ssh_user), dcn_def_check_name, 0, 0},
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
const size_t dcn_def_n_keys = G_N_ELEMENTS(dcn_def_keys);

const KeyDef *dcn_def_find_key(const char *key, size_t *index)
{
    for (size_t i = 0; i < dcn_def_n_keys; i++)
        if (strcmp(dcn_def_keys[i].key, key) == 0) {
            *index = i;
            return &dcn_def_keys[i];
        }
    return NULL;
}

size_t dcn_def_key_index(const char *key)
{
    size_t i = 0;
    if (!dcn_def_find_key(key, &i))
        g_error("definition: no key '%s' in the table", key);
    return i;
}
