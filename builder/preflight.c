/* preflight: see preflight.h. One function per stage, each adding what it
 * finds to the definition's problem list; the messages say what to set
 * (and the flag that sets it) or what to run first. */
#include "preflight.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

#include "error.h"
#include "ks_syntax.h"
#include "iso.h"
#include "provision.h"
#include "release.h"
#include "kickstart.h"
#include "repo.h"
#include "runtime.h"
#include "state.h"
#include "blueprint.h"

typedef struct {
    DcnDefinition *def;
    const DcnPreflightPlan *plan;
    GPtrArray *warnings;
} Preflight;

static gboolean runs(const Preflight *pf, const char *stage)
{
    for (const char *const *s = pf->plan->stages; s && *s; s++)
        if (strcmp(*s, stage) == 0)
            return TRUE;
    return FALSE;
}

/* Where to point at about key: where it (or its section) is set, else
 * where `because` (the key that makes key needed) is, else the file. */
static const char *anchor(const Preflight *pf, const char *key, const char *because)
{
    g_autofree char *k = g_strdup(key);
    for (char *dot; (dot = strrchr(k, '.'));) {
        *dot = '\0';
        if (dcn_definition_origin(pf->def, key) || dcn_definition_origin(pf->def, k))
            return dcn_definition_where(pf->def, key);
    }
    if (because && dcn_definition_origin(pf->def, because))
        return dcn_definition_origin(pf->def, because);
    return dcn_definition_where(pf->def, key);
}

static void problem(Preflight *pf, const char *key, const char *because, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void problem(Preflight *pf, const char *key, const char *because, const char *fmt, ...)
{
    if (key && dcn_definition_rejected(pf->def, key))
        return; /* its value was refused already: one message is enough */
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* a missing result of an earlier stage: about this version */
    dcn_definition_add_problem(pf->def, anchor(pf, key ? key : "version", because), "%s", what);
}

static void warning(Preflight *pf, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void warning(Preflight *pf, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(pf->warnings, g_strdup_printf("%s: %s", anchor(pf, key, NULL), what));
}

/* A command the stages will run: on PATH (or a path that is executable).
 * why: who runs it, for the message. */
static void need_program(Preflight *pf, const char *key, const char *because, const char *program, const char *why)
{
    g_autofree char *found = g_find_program_in_path(program);
    if (!found)
        problem(pf, key, because, "%s: command not found on PATH (%s)", program, why);
}

/* A file (or directory) a stage will read. */
static void need_path(Preflight *pf, const char *key, const char *path, gboolean dir)
{
    if (path && !g_file_test(path, dir ? G_FILE_TEST_IS_DIR : G_FILE_TEST_IS_REGULAR))
        problem(pf, key, NULL, "%s %s: no such %s", key, path, dir ? "directory" : "file");
}

static gboolean is_vm(const DcnDefinition *def)
{
    return strcmp(def->provider, "libvirt") == 0 || strcmp(def->provider, "kubevirt") == 0;
}

/* The hosted repo has a head on the ref (publish writes refs/heads/<ref>). */
static gboolean hosted_head_exists(const DcnDefinition *def)
{
    g_autofree char *path = g_build_filename(def->repo, "refs", "heads", def->ref, NULL);
    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

/* An earlier stage's result for this version, unless that stage runs
 * first, or this is a dry run (the plan then says it uses a placeholder). */
static void need_result(Preflight *pf, const char *stage, const char *earlier, const char *what)
{
    if (pf->plan->dry_run || runs(pf, earlier))
        return;
    g_autoptr(JsonObject) o = dcn_state_read_result(pf->def, earlier, NULL);
    if (!o)
        problem(pf, NULL, NULL, "%s needs %s (%s/%s.json): run %s first, or run", stage, what, pf->def->state_dir,
                earlier, earlier);
}

/* ---- provision, install, teardown: the builder ---- */

static void check_kubevirt(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    if (!def->vm_image) {
        problem(pf, "vm.image", "provider.kind",
                "provider kubevirt needs vm.image (--vm-image): a RHEL KVM guest image as an http(s) URL, "
                "datasource:[NAMESPACE/]NAME, pvc:NAMESPACE/NAME or containerdisk:IMAGE");
    } else {
        /* render what provision would apply: the image form and the templates */
        g_autoptr(GError) e = NULL;
        g_autofree char *ud = dcn_provision_user_data(def, "ssh-ed25519 AAAA preflight", &e);
        g_autofree char *vm = NULL, *secret = NULL;
        if (!ud || !dcn_kubevirt_render(def, ud, &vm, &secret, &e))
            problem(pf, g_str_has_prefix(e->message, "vm.image") || strstr(e->message, "needs vm.image") ? "vm.image"
                                                                                                        : "vm.templates",
                    NULL, "%s", e->message);
    }
    need_program(pf, "kubevirt.kubectl", "provider.kind", def->kubevirt_kubectl,
                 "provider kubevirt applies and deletes the build VM with it: kubevirt.kubectl");
    if (strcmp(def->kubevirt_ssh_via, "virtctl") == 0)
        need_program(pf, "kubevirt.ssh_via", "provider.kind", "virtctl",
                     "kubevirt.ssh_via is virtctl, the default outside a cluster: SSH to the build VM goes through "
                     "`virtctl port-forward`");
    else if (!g_getenv("KUBERNETES_SERVICE_HOST"))
        warning(pf, "kubevirt.ssh_via",
                "kubevirt.ssh_via is address: SSH goes to the VM's pod-network address, which only answers inside "
                "the cluster network, and KUBERNETES_SERVICE_HOST is not set here (not in a pod): use ssh_via: "
                "virtctl unless this host routes to the pod network");
}

static void check_libvirt(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    if (!def->vm_image) {
        problem(pf, "vm.image", "provider.kind",
                "provider libvirt needs vm.image (--vm-image): a local RHEL KVM guest image (qcow2 or raw)");
    } else {
        g_autofree char *base = def->path ? g_path_get_dirname(def->path) : g_get_current_dir();
        g_autofree char *image = g_canonicalize_filename(def->vm_image, base);
        need_path(pf, "vm.image", image, FALSE);
    }
    need_path(pf, "libvirt.kernel", def->libvirt_kernel, FALSE);
    need_path(pf, "libvirt.initrd", def->libvirt_initrd, FALSE);
    g_autoptr(GError) e = NULL;
    g_autofree char *ud = dcn_provision_user_data(def, "ssh-ed25519 AAAA preflight", &e);
    g_autofree char *xml = ud ? dcn_libvirt_render(def, "/disk", "/seed", "/console", 22, &e) : NULL;
    if (!xml)
        problem(pf, "vm.templates", NULL, "%s", e->message);
    need_program(pf, "provider.kind", NULL, "virsh", "provider libvirt defines and starts the VM with it");
    need_program(pf, "provider.kind", NULL, "qemu-img", "provider libvirt makes the VM's disk with it");
    need_program(pf, "provider.kind", NULL, "genisoimage", "provider libvirt makes the cloud-init seed with it");
}

static void check_provision(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    if (strcmp(def->provider, "ssh") == 0) {
        if (!def->ssh_host)
            problem(pf, "ssh.host", "provider.kind", "provider ssh needs ssh.host (--ssh-host): the builder host");
        need_path(pf, "ssh.key", def->ssh_key, FALSE);
        need_path(pf, "ssh.known_hosts", def->ssh_known_hosts, FALSE);
    } else if (strcmp(def->provider, "kubevirt") == 0) {
        check_kubevirt(pf);
    } else if (strcmp(def->provider, "libvirt") == 0) {
        check_libvirt(pf);
    }
    if (is_vm(def))
        need_program(pf, "provider.kind", NULL, "ssh-keygen", "provision makes the build VM's key with it");
    if (strcmp(def->provider, "local") != 0)
        need_program(pf, "provider.kind", NULL, "ssh", "install and compose reach the builder with it");
}

/* install or compose on a builder provision made: it must exist first. */
static void need_builder(Preflight *pf, const char *stage)
{
    if (is_vm(pf->def))
        need_result(pf, stage, "provision", "the build VM");
    if (strcmp(pf->def->provider, "local") != 0)
        need_program(pf, "provider.kind", NULL, "ssh", "the builder is reached over SSH");
}

static void check_teardown(Preflight *pf)
{
    if (strcmp(pf->def->provider, "kubevirt") == 0)
        need_program(pf, "kubevirt.kubectl", "provider.kind", pf->def->kubevirt_kubectl,
                     "teardown deletes the build VM with it: kubevirt.kubectl");
    else if (strcmp(pf->def->provider, "libvirt") == 0)
        need_program(pf, "provider.kind", NULL, "virsh", "teardown deletes the VM with it");
}

/* ---- compose, publish ---- */

static void check_compose(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    if (def->compose_backend == DCN_COMPOSE_TREE || def->compose_backend == DCN_COMPOSE_EDGE_COMMIT) {
        gboolean tarball = def->compose_backend == DCN_COMPOSE_EDGE_COMMIT;
        if (!def->compose_source)
            problem(pf, "compose.source", "compose.backend",
                    "compose.backend %s needs compose.source (--source): %s", dcn_compose_backend_name(def->compose_backend),
                    tarball ? "the edge-commit tarball" : "a root filesystem directory or tarball");
        else if (!g_file_test(def->compose_source, tarball ? G_FILE_TEST_IS_REGULAR : G_FILE_TEST_EXISTS))
            problem(pf, "compose.source", NULL, "compose.source %s: no such %s", def->compose_source,
                    tarball ? "file" : "file or directory");
        return;
    }
    /* weldr */
    g_autoptr(GError) e = NULL;
    g_autofree char *blueprint = dcn_blueprint_toml(def, &e);
    if (!blueprint)
        problem(pf, "blueprint.file", NULL, "%s", e->message);
    if (!def->composer_url) {
        if (def->composer_parent)
            problem(pf, "composer.url", "composer.parent",
                    "composer.parent is set but composer.url is not (--composer-url): composer resolves the parent "
                    "at <composer.url>/refs/heads/<parent>");
        else if (hosted_head_exists(def))
            problem(pf, "composer.url", "compose.backend",
                    "composer.url is not set (--composer-url): %s already has a version on %s, so composer must "
                    "build on it and reads <composer.url>/refs/heads/%s: the hosted repo as the builder reaches "
                    "it, e.g. https://dcn.apps.example.com/repo",
                    def->repo, def->ref, def->ref);
        else
            warning(pf, "compose.backend",
                    "composer.url is not set: fine for the first version of %s (nothing is published yet), but "
                    "every later version needs it (the hosted repo as the builder reaches it)",
                    def->ref);
    }
    need_builder(pf, "compose");
}

static void check_publish(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    if (!pf->plan->dry_run && !runs(pf, "compose")) {
        g_autofree char *sref = dcn_repo_staging_ref(def);
        g_autofree char *path = g_build_filename(def->staging, "refs", "heads", sref, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
            problem(pf, NULL, NULL, "publish needs version %s staged by compose (ref %s in %s): run compose first",
                    def->version, sref, def->staging);
    }
    g_autoptr(GError) e = NULL;
    if (!dcn_release_check_signing(def, &e))
        problem(pf, "sign.ed25519_key", NULL, "%s", e->message);
    need_path(pf, "sign.ed25519_key", def->ed25519_key, FALSE);
    if (!def->gpg_key_id)
        return;
    need_path(pf, "sign.gpg_homedir", def->gpg_homedir, TRUE);
    g_autofree char *gpg = g_find_program_in_path("gpg");
    if (!gpg) {
        problem(pf, "sign.gpg_key_id", NULL, "gpg not found on PATH (publish signs with sign.gpg_key_id)");
        return;
    }
    if (def->gpg_homedir && !g_file_test(def->gpg_homedir, G_FILE_TEST_IS_DIR))
        return;
    /* the secret key must be there: publish signs after the compose, hours in */
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, gpg);
    g_ptr_array_add(argv, "--batch");
    if (def->gpg_homedir) {
        g_ptr_array_add(argv, "--homedir");
        g_ptr_array_add(argv, def->gpg_homedir);
    }
    g_ptr_array_add(argv, "--list-secret-keys");
    g_ptr_array_add(argv, def->gpg_key_id);
    g_ptr_array_add(argv, NULL);
    g_autoptr(GSubprocess) p = g_subprocess_newv((const char *const *)argv->pdata,
                                                 G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                                 NULL);
    if (p && g_subprocess_wait(p, NULL, NULL) && !g_subprocess_get_successful(p))
        problem(pf, "sign.gpg_key_id", NULL, "gpg has no secret key %s in %s: publish could not sign",
                def->gpg_key_id, def->gpg_homedir ? def->gpg_homedir : "its default home (~/.gnupg or GNUPGHOME)");
}

/* ---- kickstart (its own stage, and publish writes it too) ---- */

static void check_kickstart(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    g_autofree char *template_text = NULL, *ca_pem = NULL;
    g_autoptr(GError) e = NULL;
    if (!dcn_kickstart_read_inputs(def, &template_text, &ca_pem, &e)) {
        problem(pf, g_str_has_prefix(e->message, "kickstart.ca_file") ? "kickstart.ca_file" : "kickstart.template",
                NULL, "%s", e->message);
        return;
    }
    g_autoptr(GHashTable) extra = dcn_ks_commands(def->kickstart_extra);
    if (template_text) {
        g_autoptr(GHashTable) own = dcn_ks_commands(template_text);
        if (!g_hash_table_contains(own, "ostreesetup") && !g_hash_table_contains(extra, "ostreesetup"))
            warning(pf, "kickstart.template",
                    "kickstart.template %s has no ostreesetup command (nor has kickstart.extra): devices would not "
                    "install from this repository (ostreesetup --osname=%s --url=@REPO_URL@ --ref=@REF@)",
                    def->kickstart_template, def->osname);
        return;
    }
    /* the build host's tzdata: a name it lacks is most likely a typo, but
     * RHEL's tzdata may be newer, so only a warning */
    if (g_file_test("/usr/share/zoneinfo", G_FILE_TEST_IS_DIR) && strcmp(def->kickstart_timezone, "UTC") != 0) {
        g_autofree char *zone = g_build_filename("/usr/share/zoneinfo", def->kickstart_timezone, NULL);
        if (!g_file_test(zone, G_FILE_TEST_IS_REGULAR))
            warning(pf, "kickstart.timezone",
                    "kickstart.timezone %s is not in this host's tzdata (/usr/share/zoneinfo): Anaconda installs an "
                    "unknown time zone as America/New_York, with only a warning in its log",
                    def->kickstart_timezone);
    }
    if (def->kickstart_user && !def->kickstart_ssh_keys && !def->kickstart_password_hash &&
        !g_hash_table_contains(extra, "sshkey"))
        warning(pf, "kickstart.user",
                "kickstart.user %s has neither ssh_keys nor password_hash: nobody could log in as %s",
                def->kickstart_user, def->kickstart_user);
}

/* ---- package, push ---- */

static void check_package(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    g_autoptr(GError) e = NULL;
    g_autofree char *hoster = dcn_runtime_find_hoster(def->image_hoster, &e);
    if (!hoster)
        problem(pf, "image.hoster", NULL, "%s", e->message);
    if (!runs(pf, "publish") && !hosted_head_exists(def))
        problem(pf, NULL, NULL, "package needs a published version: %s has nothing on %s (run publish first)",
                def->repo, def->ref);
}

static void check_push(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    if (!def->registry_url)
        problem(pf, "registry.url", NULL,
                "registry.url is not set (--registry https://HOST[:PORT]): push needs the registry%s",
                g_strv_length((char **)pf->plan->stages) > 1 ? " (or leave push and deploy out: run.skip)" : "");
    if (def->registry_password_file) {
        g_autofree char *text = NULL;
        g_autoptr(GError) e = NULL;
        if (!g_file_get_contents(def->registry_password_file, &text, NULL, &e))
            problem(pf, "registry.password_file", NULL, "registry.password_file: %s", e->message);
        else if (!*g_strstrip(text))
            problem(pf, "registry.password_file", NULL, "registry.password_file %s is empty",
                    def->registry_password_file);
    } else if (def->registry_username && !(g_getenv("DCN_BUILDER_REGISTRY_PASSWORD") &&
                                           *g_getenv("DCN_BUILDER_REGISTRY_PASSWORD"))) {
        problem(pf, "registry.username", NULL,
                "registry.username is set but there is no password: set registry.password_file or "
                "DCN_BUILDER_REGISTRY_PASSWORD");
    }
    need_path(pf, "registry.ca_file", def->registry_ca_file, FALSE);
    if (!pf->plan->dry_run && !runs(pf, "package")) {
        g_autoptr(JsonObject) pkg = dcn_state_read_result(def, "package", NULL);
        const char *v = pkg ? json_object_get_string_member_with_default(pkg, "version", NULL) : NULL;
        if (g_strcmp0(v, def->version) != 0)
            problem(pf, "version", NULL, "push needs version %s packaged (%s/package.json%s%s): run package first",
                    def->version, def->state_dir, v ? " is for " : " is missing", v ? v : "");
    }
}

/* ---- iso ---- */

static void check_iso(Preflight *pf)
{
    DcnDefinition *def = pf->def;
    gboolean offline = g_strcmp0(def->iso_mode, "offline") == 0;
    if (!def->iso_boot_iso)
        problem(pf, "iso.boot_iso", NULL,
                "iso needs iso.boot_iso (--boot-iso): the installer boot ISO to start from (RHEL's boot.iso)");
    else
        need_path(pf, "iso.boot_iso", def->iso_boot_iso, FALSE);
    if (!def->deploy_url) {
        problem(pf, "deploy.url", "iso.boot_iso", "iso needs deploy.url (--deploy-url): the URL devices reach dcn-hoster at (%s)",
                offline ? "the installed device's remote, for its upgrades" : "inst.ks= points at the kickstart there");
    } else {
        g_autofree char *ks = dcn_iso_kickstart_url(def);
        g_autofree char *repo = dcn_iso_repo_url(def);
        const char *bad = dcn_iso_arg_check(offline ? repo : ks);
        if (bad)
            problem(pf, "deploy.url", NULL, "deploy.url: %s cannot go into the installer ISO's %s: %s", offline ? repo : ks,
                    offline ? "kickstart" : "boot entries", bad);
    }
    need_path(pf, "deploy.ca_file", def->deploy_ca_file, FALSE);
    need_program(pf, "iso.boot_iso", NULL, "xorriso", "iso reads and writes the ISO with it (package xorriso)");
    need_program(pf, "iso.boot_iso", NULL, "mtype", "iso reads the grub.cfg inside images/efiboot.img with it (package mtools)");
    need_program(pf, "iso.boot_iso", NULL, "mcopy", "iso writes the grub.cfg inside images/efiboot.img with it (package mtools)");
    if (def->gpg_key_id)
        need_program(pf, "sign.gpg_key_id", NULL, "gpg", "iso exports the public key the kickstart installs with it");
    if (offline && !runs(pf, "publish") && !hosted_head_exists(def))
        problem(pf, "iso.mode", NULL, "iso.mode offline needs version %s published: %s has nothing on %s (run publish first)",
                def->version, def->repo, def->ref);
}

/* ---- deploy, undo ---- */

static void check_cluster(Preflight *pf, const char *stage)
{
    DcnDefinition *def = pf->def;
    const char *platform = def->deploy_platform;
    const char *kubectl = def->deploy_kubectl;
    g_autofree char *why = g_strdup_printf("%s talks to the cluster with it: deploy.kubectl, default %s on deploy.platform %s",
                                           stage, strcmp(platform, "openshift") == 0 ? "oc" : "kubectl", platform);
    need_program(pf, dcn_definition_origin(def, "deploy.kubectl") ? "deploy.kubectl" : "deploy.platform", "deploy", kubectl,
                 why);
    need_path(pf, "deploy.ca_file", def->deploy_ca_file, FALSE);
    if (def->deploy_manifests) {
        static const char *const names[] = {"kustomization.yaml", "kustomization.yml", "Kustomization"};
        gboolean found = FALSE;
        for (size_t i = 0; i < G_N_ELEMENTS(names) && !found; i++) {
            g_autofree char *k = g_build_filename(def->deploy_manifests, names[i], NULL);
            found = g_file_test(k, G_FILE_TEST_IS_REGULAR);
        }
        if (!found)
            problem(pf, "deploy.manifests", NULL, "deploy.manifests %s: no kustomization.yaml there",
                    def->deploy_manifests);
    }
}

static void check_deploy(Preflight *pf)
{
    check_cluster(pf, "deploy");
    if (!pf->plan->image_given)
        need_result(pf, "deploy", "push", "the image push pushed (or --image REF@sha256:...)");
}

/* ---- the table ---- */

typedef struct {
    const char *stage;
    void (*check)(Preflight *pf);
} StageCheck;

static void check_install(Preflight *pf) { need_builder(pf, "install"); }
static void check_undo(Preflight *pf) { check_cluster(pf, "undo"); }

static const StageCheck checks[] = {
    {"provision", check_provision}, {"install", check_install}, {"compose", check_compose},
    {"publish", check_publish},     {"publish", check_kickstart}, {"kickstart", check_kickstart},
    {"package", check_package},     {"push", check_push},         {"teardown", check_teardown},
    {"deploy", check_deploy},       {"undo", check_undo},         {"iso", check_iso},
};

void dcn_preflight_check(DcnDefinition *def, const DcnPreflightPlan *plan, GPtrArray *warnings)
{
    g_return_if_fail(dcn_definition_finished(def));
    Preflight pf = {def, plan, warnings};
    for (size_t i = 0; i < G_N_ELEMENTS(checks); i++)
        if (runs(&pf, checks[i].stage))
            checks[i].check(&pf);
}

/* The stage checks for what is about to run (run and check: the stages
 * left; else the stage itself); warnings become events. For check, result
 * gets "stages" and "warnings". */
static void check_stages(const char *stage, DcnStageCtx *ctx)
{
    gboolean whole_run = strcmp(stage, "run") == 0 || strcmp(stage, "check") == 0;
    const char *one[] = {stage, NULL};
    g_auto(GStrv) plan = whole_run ? dcn_run_plan(ctx->def, ctx->dry_run) : g_strdupv((char **)one);
    DcnPreflightPlan p = {(const char *const *)plan, ctx->dry_run, ctx->image != NULL};
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    dcn_preflight_check(ctx->def, &p, warnings);
    JsonArray *wa = json_array_new();
    for (guint i = 0; i < warnings->len; i++) {
        g_autofree char *q = g_strescape(warnings->pdata[i], NULL);
        dcn_progress_event(&ctx->progress, "warning", "msg=\"%s\"", q);
        json_array_add_string_element(wa, warnings->pdata[i]);
    }
    if (strcmp(stage, "check") == 0) {
        JsonArray *sa = json_array_new();
        for (char **s = plan; *s; s++)
            json_array_add_string_element(sa, *s);
        json_object_set_array_member(ctx->result, "stages", sa);
        json_object_set_array_member(ctx->result, "warnings", json_array_ref(wa));
    }
    json_array_unref(wa);
}

gboolean dcn_preflight_run(const char *stage, DcnStageCtx *ctx, const char *file, GError **error)
{
    if (dcn_definition_finished(ctx->def))
        check_stages(stage, ctx);
    const GPtrArray *problems = dcn_definition_problems(ctx->def);
    if (!problems->len)
        return TRUE;
    JsonArray *pa = json_array_new();
    GString *msg = g_string_new(NULL);
    g_string_printf(msg, "%u problem%s in %s; nothing was started:", problems->len, problems->len == 1 ? "" : "s",
                    file);
    for (guint i = 0; i < problems->len; i++) {
        json_array_add_string_element(pa, problems->pdata[i]);
        g_string_append_printf(msg, "\n  %s", (const char *)problems->pdata[i]);
    }
    json_object_set_array_member(ctx->result, "problems", pa);
    g_set_error_literal(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, msg->str);
    g_string_free(msg, TRUE);
    return FALSE;
}
