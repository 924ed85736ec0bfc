/* finish: what needs all keys at once: the required keys, keys against
 * each other, and the defaults, filled once here so the stages read the
 * values they use (definition.h says each default). */
#include "keys.h"

#include <string.h>

#include "ks_syntax.h"

/* A string key's default, when the key was not set. */
#define DEFAULT(field, value)                                                                                          \
    if (!def->field)                                                                                                   \
    def->field = g_strdup(value)

/* Defaults of the build-infrastructure keys (provision, install, weldr). */
static void finish_build_infra(DcnDefinition *def)
{
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

/* Defaults of the hosting image, the registry and the cluster (package,
 * push, deploy): the stages read the values, never a NULL meaning "the
 * default". deploy.manifests stays NULL when not set: its default is
 * where this dcn-builder's manifests are installed (deploy/rollout.c). */
static void finish_image_deploy(DcnDefinition *def)
{
    if (!def->image_layout)
        def->image_layout = g_build_filename(def->state_dir, "oci", NULL);
    DEFAULT(image_compression, "gzip");
    if (!def->registry_repository)
        def->registry_repository = g_ascii_strdown(def->name, -1);
    DEFAULT(deploy_platform, "openshift");
    DEFAULT(deploy_kubectl, strcmp(def->deploy_platform, "openshift") == 0 ? "oc" : "kubectl");
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
                                           content[i], dcn_def_origin_of(def, "kickstart.template"));
        return;
    }
    g_autoptr(GHashTable) extra = dcn_ks_commands(def->kickstart_extra);
    for (size_t i = 0; i < G_N_ELEMENTS(by_extra); i++)
        if (dcn_definition_origin(def, by_extra[i].key) && g_hash_table_contains(extra, by_extra[i].command) &&
            !(strcmp(by_extra[i].key, "kickstart.disk") == 0 && !(def->kickstart_disk && *def->kickstart_disk)))
            dcn_definition_add_problem(def, dcn_definition_origin(def, by_extra[i].key),
                                       "%s and a %s command in kickstart.extra (%s) set the same thing: remove one",
                                       by_extra[i].key, by_extra[i].command, dcn_def_origin_of(def, "kickstart.extra"));
}

gboolean dcn_definition_finish(DcnDefinition *def, GError **error)
{
    DefinitionPriv *priv = (DefinitionPriv *)def;
    static const char *const required[] = {"name", "version", "ref", "repo"};
    gboolean complete = TRUE;
    for (size_t r = 0; r < G_N_ELEMENTS(required); r++) {
        size_t i = dcn_def_key_index(required[r]);
        if (!*(char **)((char *)def + dcn_def_keys[i].offset) && !priv->rejected[i]) {
            dcn_definition_add_problem(def, dcn_definition_where(def, required[r]), "missing required key '%s'",
                                       required[r]);
            complete = FALSE;
        } else if (!*(char **)((char *)def + dcn_def_keys[i].offset)) {
            complete = FALSE;
        }
    }
    if (def->deltas_from >= def->keep)
        dcn_definition_add_problem(def, dcn_def_origin_of(def, "deltas_from"),
                                   "key 'deltas_from' (%u) must be less than 'keep' (%u, %s): deltas from pruned "
                                   "versions would be deleted at once",
                                   def->deltas_from, def->keep, dcn_def_origin_of(def, "keep"));
    if (def->gpg_homedir && !def->gpg_key_id)
        dcn_definition_add_problem(def, dcn_def_origin_of(def, "sign.gpg_homedir"),
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
        def->osname = g_strdup(dcn_def_check_name(first) ? "dcn" : first);
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
    DEFAULT(kickstart_lang, "en_US.UTF-8");
    DEFAULT(kickstart_keyboard, "us");
    DEFAULT(kickstart_timezone, "UTC");
    DEFAULT(kickstart_disk, "");
    DEFAULT(kickstart_network, "dhcp");
    DEFAULT(kickstart_updates, "none");
    finish_build_infra(def);
    finish_iso(def);
    finish_image_deploy(def);
}
