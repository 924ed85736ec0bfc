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
#include "state.h"

static gboolean stage_check(DcnStageCtx *ctx, GError **error);

typedef struct {
    const char *name;
    gboolean (*run)(DcnStageCtx *ctx, GError **error);
    const char *summary;
    gboolean dry_run_ok; /* honours --dry-run (the others refuse it rather than act) */
} StageDef;

static const StageDef stages[] = {
    {"run", dcn_stage_run, "the whole release: provision, install, compose, publish, package, push, teardown, deploy (resumes; --dry-run)", TRUE},
    {"provision", dcn_stage_provision, "create or find the builder (provider.kind local, ssh, libvirt, kubevirt)", TRUE},
    {"install", dcn_stage_install, "install and enable osbuild-composer on the builder over SSH (idempotent)", TRUE},
    {"teardown", dcn_stage_teardown, "delete the builder VM and everything provision made (idempotent)", TRUE},
    {"compose", dcn_stage_compose, "turn compose.source into a staged commit for this version", TRUE},
    {"publish", dcn_stage_publish, "publish the staged version: commit on the ref, deltas, signed summary, prune", FALSE},
    {"rollback", dcn_stage_rollback, "point the ref at an earlier kept version (--to VERSION or --steps N)", FALSE},
    {"prune", dcn_stage_prune, "remove what is beyond keep once prune_grace has passed (publish does this too)", FALSE},
    {"status", dcn_stage_status, "show kept versions, commits, dates, sizes, deltas, what waits for prune", TRUE},
    {"check", stage_check, "check the definition and everything `run` would need (the preflight alone); change nothing", TRUE},
    {"kickstart", dcn_stage_kickstart, "write the kickstart template next to the repo", FALSE},
    {"iso", dcn_stage_iso, "make the installer ISO from iso.boot_iso: inst.ks= the served kickstart (network) or the version on the ISO (offline)", FALSE},
    {"package", dcn_stage_package, "write the hosting image of the head version (OCI layout; layers shared across versions)", FALSE},
    {"push", dcn_stage_push, "push the packaged image to registry.url by tag; the digest goes to push.json", FALSE},
    {"deploy", dcn_stage_deploy, "roll the pushed image (pinned by digest) out on the cluster, wait, verify what is served", TRUE},
    {"undo", dcn_stage_undo, "roll the cluster back to the previous image (--to VERSION, --steps N or --image REF)", TRUE},
};

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
    for (size_t i = 0; i < G_N_ELEMENTS(stages); i++)
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

/* The preflight (preflight.h): the definition's problems and what the
 * stages about to run (run: those left; else the stage itself) will need,
 * all in one error (exit 2) before anything starts. Warnings become events.
 * result gets "problems" (and, for check, "stages" and "warnings"). */
static gboolean preflight(const StageDef *stage, DcnDefinition *def, const Cli *cli, DcnStageCtx *ctx, GError **error)
{
    if (dcn_definition_finished(def)) {
        gboolean whole_run = strcmp(stage->name, "run") == 0 || strcmp(stage->name, "check") == 0;
        const char *one[] = {stage->name, NULL};
        g_auto(GStrv) plan = whole_run ? dcn_run_plan(def, cli->dry_run) : g_strdupv((char **)one);
        DcnPreflightPlan p = {(const char *const *)plan, cli->dry_run, cli->image != NULL};
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        dcn_preflight_check(def, &p, warnings);
        JsonArray *wa = json_array_new();
        for (guint i = 0; i < warnings->len; i++) {
            g_autofree char *q = g_strescape(warnings->pdata[i], NULL);
            dcn_progress_event(&ctx->progress, "warning", "msg=\"%s\"", q);
            json_array_add_string_element(wa, warnings->pdata[i]);
        }
        if (strcmp(stage->name, "check") == 0) {
            JsonArray *sa = json_array_new();
            for (char **s = plan; *s; s++)
                json_array_add_string_element(sa, *s);
            json_object_set_array_member(ctx->result, "stages", sa);
            json_object_set_array_member(ctx->result, "warnings", json_array_ref(wa));
        }
        json_array_unref(wa);
    }
    const GPtrArray *problems = dcn_definition_problems(def);
    if (!problems->len)
        return TRUE;
    JsonArray *pa = json_array_new();
    GString *msg = g_string_new(NULL);
    g_string_printf(msg, "%u problem%s in %s; nothing was started:", problems->len, problems->len == 1 ? "" : "s",
                    cli->file);
    for (guint i = 0; i < problems->len; i++) {
        json_array_add_string_element(pa, problems->pdata[i]);
        g_string_append_printf(msg, "\n  %s", (const char *)problems->pdata[i]);
    }
    json_object_set_array_member(ctx->result, "problems", pa);
    g_set_error_literal(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, msg->str);
    g_string_free(msg, TRUE);
    return FALSE;
}

/* check: the preflight alone (it ran before this, and passed). */
static gboolean stage_check(DcnStageCtx *ctx, GError **error)
{
    JsonArray *a = json_object_get_array_member(ctx->result, "stages");
    GString *s = g_string_new(NULL);
    for (guint i = 0; a && i < json_array_get_length(a); i++)
        g_string_append_printf(s, "%s%s", i ? " " : "", json_array_get_string_element(a, i));
    dcn_progress_event(&ctx->progress, "ok", "version=%s stages=\"%s\"", ctx->def->version, s->str);
    if (!ctx->json)
        printf("%s: ready for %s %s\n", ctx->def->path ? ctx->def->path : "definition",
               s->len ? s->str : "nothing (this version's run is finished)", ctx->def->version);
    g_string_free(s, TRUE);
    json_object_set_boolean_member(ctx->result, "changed", FALSE);
    return TRUE;
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

int main(int argc, char **argv)
{
    Cli cli = {.set = g_ptr_array_new_with_free_func(g_free)};
    GError *error = NULL;

    GOptionEntry fixed[] = {
        {"file", 'f', 0, G_OPTION_ARG_FILENAME, &cli.file, "image definition (YAML)", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &cli.json, "print one JSON line with the result on stdout", NULL},
        {"to", 0, 0, G_OPTION_ARG_STRING, &cli.to, "rollback: version to go back to", "VERSION"},
        {"steps", 0, 0, G_OPTION_ARG_INT, &cli.steps, "rollback: go back N versions", "N"},
        {"dry-run", 0, 0, G_OPTION_ARG_NONE, &cli.dry_run, "print what would be done (commands, manifests); change nothing", NULL},
        {"image", 0, 0, G_OPTION_ARG_STRING, &cli.image, "deploy/undo: image to roll out, REF@sha256:... (default: what push pushed)", "REF"},
        {"progress", 0, 0, G_OPTION_ARG_STRING, &cli.progress,
         "how long steps show on stderr: auto (tty at a terminal without --json, else log), tty (one live line), "
         "log (event=progress lines), none", "MODE"},
        {"progress-interval", 0, 0, G_OPTION_ARG_DOUBLE, &cli.progress_interval,
         "log mode: a progress line at least this often while a step runs (default 10)", "SECONDS"},
        {"abort-after", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &cli.abort_after, "test hook", "STEP"},
    };
    GOptionEntry all[G_N_ELEMENTS(fixed) + G_N_ELEMENTS(overrides) + 1];
    memset(all, 0, sizeof all);
    memcpy(all, fixed, sizeof fixed);
    for (size_t i = 0; i < G_N_ELEMENTS(overrides); i++)
        all[G_N_ELEMENTS(fixed) + i] = (GOptionEntry){overrides[i].flag, 0, 0, G_OPTION_ARG_CALLBACK,
                                                      (gpointer)on_override, overrides[i].help, overrides[i].arg};

    g_autoptr(GOptionContext) octx = g_option_context_new("<stage> -f FILE");
    GOptionGroup *group = g_option_group_new("dcn-builder", "dcn-builder", "options", &cli, NULL);
    g_option_group_add_entries(group, all);
    g_option_context_set_main_group(octx, group);
    g_autofree char *desc = usage_description();
    g_option_context_set_description(octx, desc);
    g_option_context_set_summary(octx, "Compose and publish OS versions into a hosted ostree repository.");

    /* environment first, so flags win */
    const char *e;
    if (!cli.json && (e = g_getenv("DCN_BUILDER_JSON")) && strcmp(e, "1") == 0)
        cli.json = TRUE;
    if (!g_option_context_parse(octx, &argc, &argv, &error)) {
        g_prefix_error(&error, "usage: ");
        error->domain = DCN_BUILDER_ERROR, error->code = DCN_BUILDER_ERROR_USAGE;
        return fail(NULL, cli.json, NULL, error);
    }
    if (!cli.json && (e = g_getenv("DCN_BUILDER_JSON")) && strcmp(e, "1") == 0)
        cli.json = TRUE;

    if (argc == 2 && strcmp(argv[1], "version") == 0) {
        /* the program's own version: --version is the image version a stage works on */
        if (cli.json)
            printf("{\"program\":\"dcn-builder\",\"version\":\"%s\",\"commit\":\"%s\"}\n", dcn_build_version(),
                   dcn_build_commit());
        else
            printf("dcn-builder %s (commit %s)\n", dcn_build_version(), dcn_build_commit());
        return 0;
    }
    const StageDef *stage = NULL;
    for (size_t i = 0; argc >= 2 && i < G_N_ELEMENTS(stages); i++)
        if (strcmp(argv[1], stages[i].name) == 0)
            stage = &stages[i];
    if (!stage || argc > 2) {
        g_set_error(&error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                    argc < 2 ? "no stage given (try --help)" : stage ? "unexpected argument '%s'" : "unknown stage '%s'",
                    argc < 2 ? "" : argv[argc > 2 && stage ? 2 : 1]);
        return fail(NULL, cli.json, NULL, error);
    }

    if (!cli.file && (e = g_getenv("DCN_BUILDER_FILE")) && *e)
        cli.file = g_strdup(e);
    if (!cli.file) {
        g_set_error(&error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE, "no image definition: give -f FILE");
        return fail(stage->name, cli.json, NULL, error);
    }

    g_autoptr(DcnDefinition) def = dcn_definition_new();
    if (!dcn_definition_load_file(def, cli.file, &error)) {
        if (!dcn_definition_problems(def)->len) /* unreadable, or not YAML: nothing more to look at */
            return fail(stage->name, cli.json, NULL, error);
        g_clear_error(&error); /* listed with the rest by the preflight */
    }
    for (size_t i = 0; i < G_N_ELEMENTS(overrides); i++) {
        g_autofree char *env = env_name(overrides[i].flag);
        const char *v = g_getenv(env);
        if (v && !dcn_definition_set(def, overrides[i].key, v, env, &error))
            return fail(stage->name, cli.json, NULL, error);
    }
    for (guint i = 0; i + 1 < cli.set->len; i += 2) {
        const char *flag = cli.set->pdata[i];
        g_autofree char *origin = g_strconcat("--", flag, NULL);
        if (!dcn_definition_set(def, find_override(flag)->key, cli.set->pdata[i + 1], origin, &error))
            return fail(stage->name, cli.json, NULL, error);
    }
    dcn_definition_finish(def, NULL); /* its problems are listed by the preflight */

    if (!cli.to && (e = g_getenv("DCN_BUILDER_TO")) && *e)
        cli.to = g_strdup(e);
    if (!cli.steps && (e = g_getenv("DCN_BUILDER_STEPS")) && *e)
        cli.steps = atoi(e);
    if (!cli.dry_run && (e = g_getenv("DCN_BUILDER_DRY_RUN")) && strcmp(e, "1") == 0)
        cli.dry_run = TRUE;
    if (cli.dry_run && !stage->dry_run_ok) {
        g_set_error(&error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                    "--dry-run is not supported by this stage (it would act); `run --dry-run` shows the whole plan");
        return fail(stage->name, cli.json, NULL, error);
    }
    if (!cli.image && (e = g_getenv("DCN_BUILDER_IMAGE")) && *e)
        cli.image = g_strdup(e);
    if (!cli.abort_after && (e = g_getenv("DCN_BUILDER_ABORT_AFTER")) && *e)
        cli.abort_after = g_strdup(e);
    if (cli.steps < 0) {
        g_set_error(&error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE, "--steps: expected N >= 1");
        return fail(stage->name, cli.json, NULL, error);
    }
    if (!cli.progress && (e = g_getenv("DCN_BUILDER_PROGRESS")) && *e)
        cli.progress = g_strdup(e);
    DcnProgressMode progress_mode = DCN_PROGRESS_LOG;
    gboolean progress_auto = TRUE;
    if (cli.progress && !dcn_progress_mode_parse(cli.progress, &progress_mode, &progress_auto)) {
        g_set_error(&error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                    "--progress: expected auto, tty, log or none, got '%s'", cli.progress);
        return fail(stage->name, cli.json, NULL, error);
    }
    if (progress_auto)
        progress_mode = dcn_progress_mode_auto(cli.json, isatty(STDERR_FILENO), g_getenv("TERM"));
    if (cli.progress_interval == 0 && (e = g_getenv("DCN_BUILDER_PROGRESS_INTERVAL")) && *e) {
        char *end = NULL;
        cli.progress_interval = g_ascii_strtod(e, &end);
        if (end == e || *end)
            cli.progress_interval = -1;
    }
    if (!(cli.progress_interval >= 0 && cli.progress_interval <= 86400)) {
        g_set_error(&error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                    "--progress-interval: expected seconds from 0 (the default, 10) to 86400");
        return fail(stage->name, cli.json, NULL, error);
    }
    DcnProgressOut progress_out;
    dcn_progress_out_init(&progress_out, stderr, progress_mode, (gint64)(cli.progress_interval * G_USEC_PER_SEC));

    DcnStageCtx ctx = {
        .def = def,
        .json = cli.json,
        .result = json_object_new(),
        .abort_after = cli.abort_after,
        .rollback_to = cli.to,
        .rollback_steps = (guint)cli.steps,
        .dry_run = cli.dry_run,
        .image = cli.image,
    };
    dcn_progress_init(&ctx.progress, stage->name, &progress_out);
    int rc = 0;
    if (!preflight(stage, def, &cli, &ctx, &error)) {
        rc = fail(stage->name, cli.json, ctx.result, error);
    } else if (!stage->run(&ctx, &error)) {
        dcn_progress_cancel(&ctx.progress); /* a task the failure cut short: its ticker stops, its line goes */
        rc = fail(stage->name, cli.json, ctx.result, error);
    } else {
        dcn_progress_cancel(&ctx.progress);
        /* later stages and reruns read this; status and check only read; a dry run changed nothing */
        if (strcmp(stage->name, "status") != 0 && strcmp(stage->name, "check") != 0 && !cli.dry_run) {
            JsonObject *saved = json_object_new();
            json_object_set_string_member(saved, "stage", stage->name);
            json_object_set_string_member(saved, "version", def->version);
            GList *members = json_object_get_members(ctx.result);
            for (GList *l = members; l; l = l->next)
                json_object_set_member(saved, l->data, json_node_copy(json_object_get_member(ctx.result, l->data)));
            g_list_free(members);
            if (!dcn_state_write_result(def, stage->name, saved, &error))
                rc = fail(stage->name, cli.json, ctx.result, error);
            json_object_unref(saved);
        }
        if (rc == 0 && cli.json)
            print_json(stage->name, ctx.result, NULL);
    }
    json_object_unref(ctx.result);
    g_ptr_array_unref(cli.set);
    g_free(cli.file);
    g_free(cli.to);
    g_free(cli.abort_after);
    g_free(cli.image);
    g_free(cli.progress);
    dcn_progress_out_clear(&progress_out);
    return rc;
}

DcnStageFn dcn_stage_find(const char *name, const char **out_summary)
{
    for (size_t i = 0; i < G_N_ELEMENTS(stages); i++)
        if (strcmp(stages[i].name, name) == 0) {
            if (out_summary)
                *out_summary = stages[i].summary;
            return stages[i].run;
        }
    return NULL;
}

void dcn_stage_step(DcnStageCtx *ctx, const char *step)
{
    dcn_progress_event(&ctx->progress, "step", "step=%s", step);
    if (ctx->abort_after && strcmp(ctx->abort_after, step) == 0) {
        fprintf(stderr, "dcn-builder: test hook: aborting after step %s\n", step);
        fflush(stderr);
        abort();
    }
}
