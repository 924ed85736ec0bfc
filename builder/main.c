/* dcn-builder: the release pipeline's command line.
 *   dcn-builder <stage> [options] -f FILE [--json]
 * Reads the image definition, applies environment and flag overrides (flags
 * win), runs the stage, and prints one JSON line on stdout with --json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_info.h"
#include "error.h"
#include "preflight.h"
#include "stage.h"

/* Flags that override definition keys; the environment variable is
 * DCN_BUILDER_ + the flag in upper case with '-' as '_'. */
typedef struct {
    const char *flag;
    const char *key;
    const char *arg;
    const char *help;
} OverrideDef;

static const OverrideDef overrides[] = {
    {"name", "name", "NAME", "image name"},
    {"version", "version", "VERSION", "version to compose or publish"},
    {"ref", "ref", "REF", "ostree ref devices follow"},
    {"osname", "osname", "NAME", "stateroot name used in the kickstart"},
    {"subject", "subject", "TEXT", "commit subject"},
    {"backend", "compose.backend", "tree|edge-commit|weldr", "compose backend"},
    {"source", "compose.source", "PATH", "compose source: directory or tarball"},
    {"staging", "compose.staging", "DIR", "staging repository"},
    {"repo", "repo", "DIR", "hosted archive repository"},
    {"keep", "keep", "N", "versions kept for rollback"},
    {"deltas-from", "deltas_from", "N", "static deltas from this many previous versions"},
    {"delta-min-fallback-mb", "delta_min_fallback_mb", "MB", "objects larger than this are fetched loose (0: none)"},
    {"scratch-delta", "scratch_delta", "BOOL", "also write a from-scratch delta"},
    {"prune-grace", "prune_grace", "DURATION", "keep what a replaced summary named this long (default 1h)"},
    {"gpg-key-id", "sign.gpg_key_id", "KEYID", "GPG key that signs commits and summary"},
    {"gpg-homedir", "sign.gpg_homedir", "DIR", "GnuPG home directory holding the key"},
    {"ed25519-key", "sign.ed25519_key", "FILE", "ed25519 secret key file (needs libostree with ed25519)"},
    {"kickstart-path", "kickstart.path", "FILE", "where the kickstart template is written"},
    {"kickstart-gpg-key-url", "kickstart.gpg_key_url", "URL", "where installed devices fetch the public key"},
    {"deploy-platform", "deploy.platform", "openshift|kubernetes", "deploy: Route and oc, or Ingress and kubectl"},
    {"deploy-manifests", "deploy.manifests", "DIR", "deploy: kustomize directory with the hoster's manifests"},
    {"deploy-namespace", "deploy.namespace", "NS", "deploy: namespace (default: the kubeconfig context's)"},
    {"deploy-registry", "deploy.registry", "HOST[:PORT]", "deploy: registry the cluster pulls from"},
    {"deploy-url", "deploy.url", "URL", "deploy: URL devices reach the hoster at (verification, kickstarts)"},
    {"deploy-kubectl", "deploy.kubectl", "CMD", "deploy: kubectl or oc command"},
    {"deploy-ca-file", "deploy.ca_file", "FILE", "deploy: CA bundle for an https deploy URL"},
    {"deploy-timeout", "deploy.timeout", "SECONDS", "deploy: time for the rollout and for verification"},
    {"boot-iso", "iso.boot_iso", "FILE", "iso: the installer boot ISO to start from (RHEL's boot.iso)"},
    {"iso-output", "iso.output", "FILE", "iso: where the installer ISO goes (@VERSION@ is filled in)"},
    {"iso-mode", "iso.mode", "network|offline", "iso: inst.ks= the served kickstart, or the version on the ISO"},
    {"image-layout", "image.layout", "DIR", "package: OCI image layout directory (default <state_dir>/oci)"},
    {"image-archive", "image.archive", "FILE", "package: also write this version as an oci-archive tar"},
    {"compression", "image.compression", "gzip|zstd", "package: compression of new layers"},
    {"hoster", "image.hoster", "FILE", "package: the dcn-hoster binary to ship (default: next to dcn-builder)"},
    {"registry", "registry.url", "URL", "push: registry, https://HOST[:PORT] (http:// only when written)"},
    {"repository", "registry.repository", "NS/NAME", "push: repository in the registry (default: name)"},
    {"registry-username", "registry.username", "USER", "push: user (password from DCN_BUILDER_REGISTRY_PASSWORD or the file)"},
    {"registry-password-file", "registry.password_file", "FILE", "push: file holding the password or token"},
    {"registry-ca-file", "registry.ca_file", "FILE", "push: CA bundle for the registry's certificate"},
    {"insecure", "registry.insecure", "BOOL", "push: do not verify the registry's TLS certificate"},
    {"chunk-mb", "registry.chunk_mb", "MB", "push: larger blobs go up in PATCH chunks of this size"},
    {"retries", "registry.retries", "N", "push: retries after 5xx and connection errors"},
    {"mount-from", "registry.mount_from", "REPO,...", "push: repositories to mount existing blobs from"},
    {"provider", "provider.kind", "local|ssh|libvirt|kubevirt", "provision: where the builder runs"},
    {"vm-image", "vm.image", "URL|FILE", "provision: RHEL KVM guest image of the build VM"},
    {"vm-name", "vm.name", "NAME", "provision: build VM name (default <name>-builder)"},
    {"ssh-host", "ssh.host", "HOST", "provision ssh: the builder host"},
    {"ssh-port", "ssh.port", "PORT", "SSH port of the builder"},
    {"ssh-user", "ssh.user", "USER", "SSH user on the builder"},
    {"ssh-key", "ssh.key", "FILE", "provision ssh: private key for the builder"},
    {"composer-url", "composer.url", "URL", "compose weldr: the hosted repo as the builder reaches it (ostree.url)"},
    {"composer-socket", "composer.socket", "PATH", "compose weldr: osbuild-composer's API socket on the builder"},
    {"composer-timeout", "composer.timeout_s", "SECONDS", "compose weldr: how long to wait for the compose"},
    {"run-skip", "run.skip", "STAGE,...", "run: stages to leave out"},
};

typedef struct {
    GPtrArray *set; /* pairs: flag, value (in command-line order) */
    char *file;
    gboolean json;
    char *abort_after;
    char *to;
    int steps;
    gboolean dry_run;
    char *image;
    char *progress;          /* auto|tty|log|none */
    double progress_interval; /* seconds between log-mode progress lines (0: the default) */
} Cli;

static gboolean on_override(const char *option_name, const char *value, gpointer data, GError **error)
{
    Cli *cli = data;
    g_ptr_array_add(cli->set, g_strdup(option_name + 2)); /* skip "--" */
    g_ptr_array_add(cli->set, g_strdup(value));
    return TRUE;
}

static char *env_name(const char *flag)
{
    g_autofree char *up = g_ascii_strup(flag, -1);
    g_strdelimit(up, "-", '_');
    return g_strconcat("DCN_BUILDER_", up, NULL);
}

static const OverrideDef *find_override(const char *flag)
{
    for (size_t i = 0; i < G_N_ELEMENTS(overrides); i++)
        if (strcmp(overrides[i].flag, flag) == 0)
            return &overrides[i];
    return NULL;
}

static char *usage_description(void)
{
    GString *s = g_string_new("Stages:\n");
    size_t n = 0;
    const DcnStageDef *stages = dcn_stages(&n);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "  %-10s %s\n", stages[i].name, stages[i].summary);
    g_string_append_printf(s, "  %-10s %s\n", "version",
                           "print dcn-builder's own version and the commit it was built from (no -f needed); "
                           "--version is the image's version");
    g_string_append(s, "\nEvery flag has an environment variable (flags win):\n"
                       "  -f/--file DCN_BUILDER_FILE, --json DCN_BUILDER_JSON=1, --to DCN_BUILDER_TO,\n"
                       "  --steps DCN_BUILDER_STEPS, --dry-run DCN_BUILDER_DRY_RUN=1, --image DCN_BUILDER_IMAGE,\n"
                       "  --progress DCN_BUILDER_PROGRESS, --progress-interval DCN_BUILDER_PROGRESS_INTERVAL");
    for (size_t i = 0; i < G_N_ELEMENTS(overrides); i++) {
        g_autofree char *env = env_name(overrides[i].flag);
        g_string_append_printf(s, "%s--%s %s", i % 2 ? ", " : ",\n  ", overrides[i].flag, env);
    }
    g_string_append(s, "\n\nExit status: 0 done (also when nothing needed doing), 1 failed, 2 bad usage or definition.\n"
                       "See docs/builder.md.");
    return g_string_free(s, FALSE);
}

static void print_json(const char *stage, JsonObject *result, const GError *error)
{
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "stage", stage ? stage : "");
    json_object_set_boolean_member(o, "ok", error == NULL);
    if (error)
        json_object_set_string_member(o, "error", error->message);
    if (result) {
        GList *members = json_object_get_members(result);
        for (GList *l = members; l; l = l->next)
            json_object_set_member(o, l->data, json_node_copy(json_object_get_member(result, l->data)));
        g_list_free(members);
    }
    json_node_take_object(root, o);
    g_autofree char *line = json_to_string(root, FALSE);
    printf("%s\n", line);
    fflush(stdout);
}

static int fail(const char *stage, gboolean json, JsonObject *result, GError *error)
{
    fprintf(stderr, "dcn-builder: %s%s%s\n", stage ? stage : "", stage ? ": " : "", error->message);
    if (json)
        print_json(stage, result, error);
    int code = (error->domain == DCN_BUILDER_ERROR &&
                (error->code == DCN_BUILDER_ERROR_USAGE || error->code == DCN_BUILDER_ERROR_DEFINITION))
                   ? 2
                   : 1;
    g_error_free(error);
    return code;
}

static void cli_clear(Cli *cli)
{
    g_ptr_array_unref(cli->set);
    g_free(cli->file);
    g_free(cli->to);
    g_free(cli->abort_after);
    g_free(cli->image);
    g_free(cli->progress);
}

/* The options: the fixed ones, then one per override (on_override). */
static GOptionContext *option_context(Cli *cli)
{
    GOptionEntry fixed[] = {
        {"file", 'f', 0, G_OPTION_ARG_FILENAME, &cli->file, "image definition (YAML)", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &cli->json, "print one JSON line with the result on stdout", NULL},
        {"to", 0, 0, G_OPTION_ARG_STRING, &cli->to, "rollback: version to go back to", "VERSION"},
        {"steps", 0, 0, G_OPTION_ARG_INT, &cli->steps, "rollback: go back N versions", "N"},
        {"dry-run", 0, 0, G_OPTION_ARG_NONE, &cli->dry_run, "print what would be done (commands, manifests); change nothing", NULL},
        {"image", 0, 0, G_OPTION_ARG_STRING, &cli->image, "deploy/undo: image to roll out, REF@sha256:... (default: what push pushed)", "REF"},
        {"progress", 0, 0, G_OPTION_ARG_STRING, &cli->progress,
         "how long steps show on stderr: auto (tty at a terminal without --json, else log), tty (one live line), "
         "log (event=progress lines), none", "MODE"},
        {"progress-interval", 0, 0, G_OPTION_ARG_DOUBLE, &cli->progress_interval,
         "log mode: a progress line at least this often while a step runs (default 10)", "SECONDS"},
        {"abort-after", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &cli->abort_after, "test hook", "STEP"},
    };
    GOptionEntry all[G_N_ELEMENTS(fixed) + G_N_ELEMENTS(overrides) + 1];
    memset(all, 0, sizeof all);
    memcpy(all, fixed, sizeof fixed);
    for (size_t i = 0; i < G_N_ELEMENTS(overrides); i++)
        all[G_N_ELEMENTS(fixed) + i] = (GOptionEntry){overrides[i].flag, 0, 0, G_OPTION_ARG_CALLBACK,
                                                      (gpointer)on_override, overrides[i].help, overrides[i].arg};

    GOptionContext *octx = g_option_context_new("<stage> -f FILE");
    GOptionGroup *group = g_option_group_new("dcn-builder", "dcn-builder", "options", cli, NULL);
    g_option_group_add_entries(group, all); /* copies the entries */
    g_option_context_set_main_group(octx, group);
    g_autofree char *desc = usage_description();
    g_option_context_set_description(octx, desc);
    g_option_context_set_summary(octx, "Compose and publish OS versions into a hosted ostree repository.");
    return octx;
}

static gboolean env_true(const char *name)
{
    const char *e = g_getenv(name);
    return e && strcmp(e, "1") == 0;
}

/* The environment's value of a flag the command line did not give. */
static void env_string(char **field, const char *name)
{
    const char *e;
    if (!*field && (e = g_getenv(name)) && *e)
        *field = g_strdup(e);
}

/* Parses the command line; the stage named on it goes to *out_stage
 * (NULL for the `version` command). */
static gboolean parse_command_line(Cli *cli, int *argc, char ***argv, const DcnStageDef **out_stage, GError **error)
{
    *out_stage = NULL;
    g_autoptr(GOptionContext) octx = option_context(cli);
    /* environment first, so flags win */
    cli->json = env_true("DCN_BUILDER_JSON");
    if (!g_option_context_parse(octx, argc, argv, error)) {
        g_prefix_error(error, "usage: ");
        (*error)->domain = DCN_BUILDER_ERROR, (*error)->code = DCN_BUILDER_ERROR_USAGE;
        return FALSE;
    }
    cli->json |= env_true("DCN_BUILDER_JSON");
    if (*argc == 2 && strcmp((*argv)[1], "version") == 0)
        return TRUE;
    const DcnStageDef *stage = *argc >= 2 ? dcn_stage_find((*argv)[1]) : NULL;
    if (!stage || *argc > 2)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                           *argc < 2 ? "no stage given (try --help)"
                           : stage   ? "unexpected argument '%s'"
                                     : "unknown stage '%s'",
                           *argc < 2 ? "" : (*argv)[*argc > 2 && stage ? 2 : 1]),
               FALSE;
    *out_stage = stage;
    return TRUE;
}

/* dcn-builder's own version: --version is the image version a stage works on. */
static int print_program_version(const Cli *cli)
{
    if (cli->json)
        printf("{\"program\":\"dcn-builder\",\"version\":\"%s\",\"commit\":\"%s\"}\n", dcn_build_version(),
               dcn_build_commit());
    else
        printf("dcn-builder %s (commit %s)\n", dcn_build_version(), dcn_build_commit());
    return 0;
}

/* The definition: the file, then the environment's overrides, then the
 * flags'. Its problems are listed by the preflight; NULL only when there is
 * nothing to look at (no file, unreadable, not YAML, a bad override). */
static DcnDefinition *load_definition(Cli *cli, GError **error)
{
    env_string(&cli->file, "DCN_BUILDER_FILE");
    if (!cli->file)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE, "no image definition: give -f FILE"),
               NULL;
    g_autoptr(DcnDefinition) def = dcn_definition_new();
    if (!dcn_definition_load_file(def, cli->file, error)) {
        if (!dcn_definition_problems(def)->len) /* unreadable, or not YAML: nothing more to look at */
            return NULL;
        g_clear_error(error); /* listed with the rest by the preflight */
    }
    for (size_t i = 0; i < G_N_ELEMENTS(overrides); i++) {
        g_autofree char *env = env_name(overrides[i].flag);
        const char *v = g_getenv(env);
        if (v && !dcn_definition_set(def, overrides[i].key, v, env, error))
            return NULL;
    }
    for (guint i = 0; i + 1 < cli->set->len; i += 2) {
        const char *flag = cli->set->pdata[i];
        g_autofree char *origin = g_strconcat("--", flag, NULL);
        if (!dcn_definition_set(def, find_override(flag)->key, cli->set->pdata[i + 1], origin, error))
            return NULL;
    }
    dcn_definition_finish(def, NULL); /* its problems are listed by the preflight */
    return g_steal_pointer(&def);
}

/* The stage's flags not given on the command line, from the environment,
 * and their checks. */
static gboolean stage_flags(Cli *cli, const DcnStageDef *stage, GError **error)
{
    const char *e;
    env_string(&cli->to, "DCN_BUILDER_TO");
    if (!cli->steps && (e = g_getenv("DCN_BUILDER_STEPS")) && *e)
        cli->steps = atoi(e);
    cli->dry_run |= env_true("DCN_BUILDER_DRY_RUN");
    if (cli->dry_run && !stage->dry_run_ok)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                           "--dry-run is not supported by this stage (it would act); `run --dry-run` shows the whole "
                           "plan"),
               FALSE;
    env_string(&cli->image, "DCN_BUILDER_IMAGE");
    env_string(&cli->abort_after, "DCN_BUILDER_ABORT_AFTER");
    if (cli->steps < 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE, "--steps: expected N >= 1"), FALSE;
    return TRUE;
}

/* Where progress goes (--progress, --progress-interval). */
static gboolean progress_setup(Cli *cli, DcnProgressOut *out, GError **error)
{
    const char *e;
    env_string(&cli->progress, "DCN_BUILDER_PROGRESS");
    DcnProgressMode mode = DCN_PROGRESS_LOG;
    gboolean automatic = TRUE;
    if (cli->progress && !dcn_progress_mode_parse(cli->progress, &mode, &automatic))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                           "--progress: expected auto, tty, log or none, got '%s'", cli->progress),
               FALSE;
    if (automatic)
        mode = dcn_progress_mode_auto(cli->json, isatty(STDERR_FILENO), g_getenv("TERM"));
    if (cli->progress_interval == 0 && (e = g_getenv("DCN_BUILDER_PROGRESS_INTERVAL")) && *e) {
        char *end = NULL;
        cli->progress_interval = g_ascii_strtod(e, &end);
        if (end == e || *end)
            cli->progress_interval = -1;
    }
    if (!(cli->progress_interval >= 0 && cli->progress_interval <= 86400))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                           "--progress-interval: expected seconds from 0 (the default, 10) to 86400"),
               FALSE;
    dcn_progress_out_init(out, stderr, mode, (gint64)(cli->progress_interval * G_USEC_PER_SEC));
    return TRUE;
}

/* The preflight, then the stage; the JSON line on success. */
static int run_stage(const DcnStageDef *stage, DcnDefinition *def, const Cli *cli, DcnProgressOut *progress_out)
{
    GError *error = NULL;
    DcnStageCtx ctx = {
        .def = def,
        .json = cli->json,
        .result = json_object_new(),
        .abort_after = cli->abort_after,
        .rollback_to = cli->to,
        .rollback_steps = (guint)cli->steps,
        .dry_run = cli->dry_run,
        .image = cli->image,
    };
    dcn_progress_init(&ctx.progress, stage->name, progress_out);
    int rc = 0;
    if (!dcn_preflight_run(stage->name, &ctx, cli->file, &error) || !dcn_stage_invoke(stage, &ctx, &error))
        rc = fail(stage->name, cli->json, ctx.result, error);
    else if (cli->json)
        print_json(stage->name, ctx.result, NULL);
    json_object_unref(ctx.result);
    return rc;
}

int main(int argc, char **argv)
{
    Cli cli = {.set = g_ptr_array_new_with_free_func(g_free)};
    GError *error = NULL;
    const DcnStageDef *stage = NULL;
    g_autoptr(DcnDefinition) def = NULL;
    DcnProgressOut progress_out;
    int rc;
    if (!parse_command_line(&cli, &argc, &argv, &stage, &error))
        rc = fail(NULL, cli.json, NULL, error);
    else if (!stage)
        rc = print_program_version(&cli);
    else if (!(def = load_definition(&cli, &error)) || !stage_flags(&cli, stage, &error) ||
             !progress_setup(&cli, &progress_out, &error))
        rc = fail(stage->name, cli.json, NULL, error);
    else {
        rc = run_stage(stage, def, &cli, &progress_out);
        dcn_progress_out_clear(&progress_out);
    }
    cli_clear(&cli);
    return rc;
}
