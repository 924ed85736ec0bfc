/* run: the whole release in one command, driven by the table below:
 *   provision -> install -> compose -> publish -> iso -> package -> push ->
 *   teardown -> deploy
 * A step runs only when its stage exists in this build (dcn_stage_find),
 * applies to the definition (provision and install only serve a weldr
 * compose; iso only runs for a definition with iso.boot_iso, before
 * package so the hosting image carries the ISO) and is not in run.skip.
 * Progress is recorded in <state_dir>/run.json after every step: a rerun
 * of the same version resumes at the first step not done (provision and
 * install are redone when a pending step needs the builder: teardown
 * removed it). teardown runs after a failure and after SIGINT/SIGTERM
 * too, so no VM is left behind.
 * --dry-run prints what each step would do, with its commands and
 * manifests, and changes nothing. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "plan.h"
#include "stage.h"
#include "state.h"

typedef enum {
    STEP_BUILDER_SETUP = 1 << 0, /* makes the builder ready: needed only when a pending step needs it */
    STEP_FINALLY = 1 << 1,       /* runs after a failure or interrupt too (teardown) */
    STEP_DRY_RUN = 1 << 2,       /* the stage itself honours ctx->dry_run */
} StepFlags;

typedef struct {
    const char *stage;
    guint flags;
    /* does this step apply to def? NULL: always */
    gboolean (*applies)(const DcnDefinition *def);
    /* does it need the builder (provision + install) when it runs? */
    gboolean (*needs_builder)(const DcnDefinition *def);
    /* dry run for stages that do not honour ctx->dry_run: prints the plan */
    gboolean (*plan)(DcnStageCtx *ctx, GError **error);
    /* why it is skipped when applies says no (NULL: the builder's reason) */
    const char *not_applied;
} RunStep;

static gboolean uses_builder(const DcnDefinition *def) { return def->compose_backend == DCN_COMPOSE_WELDR; }

static gboolean plan_publish(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    dcn_plan(ctx,
             "would publish %s on %s in %s: commit with the current head as parent, %ssigning, deltas from %u "
             "previous version(s)%s, ref, summary, prune to %u (what replaced summaries named: after %us), "
             "kickstart %s",
             def->version, def->ref, def->repo, def->gpg_key_id ? "" : "no ", def->deltas_from,
             def->scratch_delta ? " and a scratch delta" : "", def->keep, def->prune_grace, def->kickstart_path);
    return TRUE;
}

/* The hosted head on the ref, or NULL: what package would put in the image. */
static gboolean has_hosted_head(const DcnDefinition *def)
{
    g_autofree char *path = g_build_filename(def->repo, "refs", "heads", def->ref, NULL);
    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

static gboolean plan_package(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    dcn_plan(ctx, "would write the hosting image of %s (tag %s) into %s: dcn-hoster and the head of %s, %s layers",
             def->version, def->version, def->image_layout, def->ref, def->image_compression);
    dcn_plan(ctx, "  the head is the commit publish makes for %s%s", def->version,
             has_hosted_head(def) ? "" : " (nothing is published yet: in this plan that commit is a PLACEHOLDER)");
    return TRUE;
}

static gboolean has_iso(const DcnDefinition *def) { return def->iso_boot_iso != NULL; }

static gboolean plan_iso(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    dcn_plan(ctx, "would write the installer ISO %s from %s (%s): %s", def->iso_output, def->iso_boot_iso, def->iso_mode,
             g_strcmp0(def->iso_mode, "offline") == 0
                 ? "the version's commit in ostree/repo, ks.cfg, inst.ks=hd:LABEL=<label>:/ks.cfg"
                 : "inst.ks= the kickstart at deploy.url on every boot entry");
    return TRUE;
}

static gboolean plan_push(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    dcn_plan(ctx, "would push the image package writes as %s/%s:%s (%s)%s; the digest it gets goes to %s/push.json "
                  "for deploy",
             def->registry_url ? def->registry_url : "(registry.url)", def->registry_repository, def->version,
             def->registry_username ? "with registry.username and its password" : "anonymously",
             def->registry_mount_from ? ", mounting blobs from registry.mount_from" : "", def->state_dir);
    return TRUE;
}

static const RunStep steps[] = {
    {"provision", STEP_BUILDER_SETUP | STEP_DRY_RUN, uses_builder, NULL, NULL, NULL},
    {"install", STEP_BUILDER_SETUP | STEP_DRY_RUN, uses_builder, NULL, NULL, NULL},
    {"compose", STEP_DRY_RUN, NULL, uses_builder, NULL, NULL},
    {"publish", 0, NULL, NULL, plan_publish, NULL},
    {"iso", 0, has_iso, NULL, plan_iso, "no iso.boot_iso"},
    {"package", 0, NULL, NULL, plan_package, NULL},
    {"push", 0, NULL, NULL, plan_push, NULL},
    {"teardown", STEP_FINALLY | STEP_DRY_RUN, uses_builder, NULL, NULL, NULL},
    {"deploy", STEP_DRY_RUN, NULL, NULL, NULL, NULL},
};
#define N_STEPS G_N_ELEMENTS(steps)

typedef enum { ST_PENDING, ST_DONE, ST_FAILED, ST_SKIPPED } StepStatus;
static const char *const status_names[] = {"pending", "done", "failed", "skipped"};

typedef struct {
    StepStatus status[N_STEPS];
    char *why[N_STEPS];    /* skipped: why; failed: the error */
    double seconds[N_STEPS];
    gboolean changed[N_STEPS];
} RunState;

static void run_state_clear(RunState *s)
{
    for (size_t i = 0; i < N_STEPS; i++)
        g_free(s->why[i]);
}

static JsonObject *state_json(const DcnDefinition *def, const RunState *s, gboolean finished, const char *failed)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "stage", "run");
    json_object_set_string_member(o, "version", def->version);
    json_object_set_boolean_member(o, "finished", finished);
    if (failed)
        json_object_set_string_member(o, "failed_stage", failed);
    JsonArray *a = json_array_new();
    for (size_t i = 0; i < N_STEPS; i++) {
        JsonObject *e = json_object_new();
        json_object_set_string_member(e, "name", steps[i].stage);
        json_object_set_string_member(e, "status", status_names[s->status[i]]);
        if (s->why[i])
            json_object_set_string_member(e, s->status[i] == ST_FAILED ? "error" : "reason", s->why[i]);
        if (s->status[i] == ST_DONE || s->status[i] == ST_FAILED) {
            json_object_set_int_member(e, "ms", (gint64)(s->seconds[i] * 1000 + 0.5));
            json_object_set_boolean_member(e, "changed", s->changed[i]);
        }
        json_array_add_object_element(a, e);
    }
    json_object_set_array_member(o, "stages", a);
    return o;
}

static gboolean save_state(const DcnDefinition *def, const RunState *s, gboolean finished, const char *failed,
                           GError **error)
{
    JsonObject *o = state_json(def, s, finished, failed);
    gboolean ok = dcn_state_write_result(def, "run", o, error);
    json_object_unref(o);
    return ok;
}

/* Steps a previous run of this version finished. */
static void load_previous(const DcnDefinition *def, RunState *s, DcnProgress *progress, gboolean *out_finished)
{
    *out_finished = FALSE;
    g_autoptr(JsonObject) prev = dcn_state_read_result(def, "run", NULL);
    if (!prev)
        return;
    const char *version = json_object_get_string_member_with_default(prev, "version", "");
    if (strcmp(version, def->version) != 0) {
        if (progress)
            dcn_progress_event(progress, "fresh", "previous_version=%s version=%s", version, def->version);
        return;
    }
    *out_finished = json_object_get_boolean_member_with_default(prev, "finished", FALSE);
    JsonArray *a = json_object_has_member(prev, "stages") ? json_object_get_array_member(prev, "stages") : NULL;
    for (guint j = 0; a && j < json_array_get_length(a); j++) {
        JsonObject *e = json_array_get_object_element(a, j);
        const char *name = json_object_get_string_member_with_default(e, "name", "");
        const char *st = json_object_get_string_member_with_default(e, "status", "");
        for (size_t i = 0; i < N_STEPS; i++)
            if (strcmp(steps[i].stage, name) == 0 && strcmp(st, "done") == 0)
                s->status[i] = ST_DONE;
    }
}

static gboolean in_list(char **list, const char *s)
{
    for (char **p = list; p && *p; p++)
        if (strcmp(*p, s) == 0)
            return TRUE;
    return FALSE;
}

/* What applies, what is left: every step of s not done becomes pending or
 * skipped (with why); defs gets the stages (stage.h). */
static void plan_steps(const DcnDefinition *def, RunState *s, const DcnStageDef **defs, gboolean *out_builder_needed,
                       const char **out_resume_at)
{
    gboolean builder_needed = FALSE;
    const char *resume_at = NULL;
    for (size_t i = 0; i < N_STEPS; i++) {
        const RunStep *st = &steps[i];
        defs[i] = dcn_stage_find(st->stage);
        const char *why = !defs[i]                         ? "not in this build"
                          : in_list(def->run_skip, st->stage) ? "in run.skip"
                          : st->applies && !st->applies(def) ? (st->not_applied ? st->not_applied
                                                                                : "compose.backend needs no builder")
                                                             : NULL;
        if (why) {
            s->status[i] = ST_SKIPPED;
            s->why[i] = g_strdup(why);
            continue;
        }
        if (s->status[i] == ST_DONE && !(st->flags & (STEP_BUILDER_SETUP | STEP_FINALLY)))
            continue;
        if (!(st->flags & (STEP_BUILDER_SETUP | STEP_FINALLY))) {
            if (!resume_at)
                resume_at = st->stage;
            if (st->needs_builder && st->needs_builder(def))
                builder_needed = TRUE;
        }
        s->status[i] = ST_PENDING;
    }
    for (size_t i = 0; i < N_STEPS; i++)
        if ((steps[i].flags & STEP_BUILDER_SETUP) && s->status[i] != ST_SKIPPED && !builder_needed) {
            s->status[i] = ST_SKIPPED;
            g_free(s->why[i]);
            s->why[i] = g_strdup("no pending step needs the builder");
        }
    *out_builder_needed = builder_needed;
    *out_resume_at = resume_at;
}

char **dcn_run_plan(const DcnDefinition *def, gboolean dry_run)
{
    RunState s = {0};
    gboolean finished = FALSE;
    if (!dry_run)
        load_previous(def, &s, NULL, &finished);
    GPtrArray *a = g_ptr_array_new();
    if (!finished) {
        const DcnStageDef *defs[N_STEPS] = {0};
        gboolean builder_needed = FALSE;
        const char *resume_at = NULL;
        plan_steps(def, &s, defs, &builder_needed, &resume_at);
        for (size_t i = 0; i < N_STEPS; i++)
            if (s.status[i] == ST_PENDING)
                g_ptr_array_add(a, g_strdup(steps[i].stage));
    }
    g_ptr_array_add(a, NULL);
    run_state_clear(&s);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* Runs one stage as main would: own progress and result, result saved. */
static gboolean run_stage(DcnStageCtx *ctx, const DcnStageDef *stage, gboolean *out_changed, GError **error)
{
    DcnStageCtx sub = *ctx;
    sub.result = json_object_new();
    dcn_progress_init(&sub.progress, stage->name, ctx->progress.out);
    gboolean ok = dcn_stage_invoke(stage, &sub, error);
    *out_changed = !ctx->dry_run && json_object_get_boolean_member_with_default(sub.result, "changed", TRUE);
    json_object_unref(sub.result);
    if (!ok)
        g_prefix_error(error, "%s: ", stage->name);
    return ok;
}

/* A dry run of a stage that does not honour ctx->dry_run: its plan. */
static gboolean plan_stage(DcnStageCtx *ctx, const RunStep *st, const DcnStageDef *stage, GError **error)
{
    DcnStageCtx sub = *ctx;
    dcn_progress_init(&sub.progress, st->stage, ctx->progress.out);
    gboolean ok = st->plan ? st->plan(&sub, error) : (dcn_plan(&sub, "would run: %s", stage->summary), TRUE);
    dcn_progress_cancel(&sub.progress);
    if (!ok)
        g_prefix_error(error, "%s: ", st->stage);
    return ok;
}

/* Test hook: DCN_BUILDER_RUN_FAIL=<stage> fails that step instead of running it. */
static gboolean injected_failure(const char *name, GError **error)
{
    const char *fail = g_getenv("DCN_BUILDER_RUN_FAIL");
    if (fail && strcmp(fail, name) == 0)
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: injected failure (DCN_BUILDER_RUN_FAIL)", name),
               TRUE;
    return FALSE;
}

/* One run of the table. */
typedef struct {
    DcnStageCtx *ctx;
    RunState s;
    const DcnStageDef *defs[N_STEPS]; /* the stages of the steps (NULL: not in this build) */
    const char *failed;               /* the first step that failed, or after which run was interrupted */
    GError *first_error;              /* its error (teardown's failure after it appended) */
    gboolean any_changed;
} Run;

/* This version's run already finished: says so and reports its steps. */
static void report_finished_before(DcnStageCtx *ctx, const RunState *s)
{
    dcn_progress_event(&ctx->progress, "unchanged", "version=%s msg=\"this version's run already finished\"",
                       ctx->def->version);
    JsonObject *o = state_json(ctx->def, s, TRUE, NULL);
    json_object_set_array_member(ctx->result, "stages", json_array_ref(json_object_get_array_member(o, "stages")));
    json_object_set_boolean_member(ctx->result, "finished", TRUE);
    json_object_set_boolean_member(ctx->result, "changed", FALSE);
    json_object_unref(o);
}

/* Step i's outcome: its status, the events, the first failure kept. */
static void record_outcome(Run *r, size_t i, gboolean ok, GError *e, gboolean finally)
{
    const RunStep *st = &steps[i];
    DcnProgress *progress = &r->ctx->progress;
    if (!ok && !e)
        g_set_error(&e, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed", st->stage);
    if (ok && dcn_interrupted() && !finally && !r->failed) {
        /* finished its work, but we were asked to stop: the rest waits for a rerun */
        r->s.status[i] = ST_DONE;
        dcn_interrupt_check(&e);
        g_prefix_error(&e, "after %s: ", st->stage);
        r->failed = st->stage;
        r->first_error = e;
        dcn_progress_event(progress, "interrupted", "after=%s", st->stage);
    } else if (ok) {
        r->s.status[i] = ST_DONE;
        dcn_progress_event(progress, "stage-done", "name=%s seconds=%.2f changed=%s", st->stage, r->s.seconds[i],
                           r->s.changed[i] ? "true" : "false");
    } else {
        r->s.status[i] = ST_FAILED;
        r->s.why[i] = g_strdup(e->message);
        dcn_progress_event(progress, "stage-failed", "name=%s seconds=%.2f", st->stage, r->s.seconds[i]);
        if (!r->failed) {
            r->failed = st->stage;
            r->first_error = e;
        } else {
            /* teardown failing after another failure: keep both */
            g_prefix_error(&r->first_error, "%s; and then ", e->message);
            g_error_free(e);
        }
    }
}

/* Runs step i when it is pending (after a failure or an interrupt only
 * teardown still runs), records the outcome and saves run.json. */
static void run_step(Run *r, size_t i)
{
    const RunStep *st = &steps[i];
    DcnStageCtx *ctx = r->ctx;
    if (r->s.status[i] != ST_PENDING)
        return;
    gboolean finally = (st->flags & STEP_FINALLY) != 0;
    if ((r->failed || dcn_interrupted()) && !finally)
        return;
    if (finally && dcn_interrupted() && !r->failed) {
        dcn_interrupt_check(&r->first_error);
        r->failed = i > 0 ? steps[i - 1].stage : st->stage;
    }
    dcn_progress_event(&ctx->progress, "stage-start", "name=%s%s", st->stage,
                       finally && r->failed ? " after_failure=true" : "");
    if (ctx->dry_run)
        dcn_plan(ctx, "--- stage %s ---", st->stage);
    gint64 t0 = g_get_monotonic_time();
    GError *e = NULL;
    gboolean changed = FALSE;
    gboolean ok;
    if (!ctx->dry_run && injected_failure(st->stage, &e))
        ok = FALSE;
    else if (ctx->dry_run && !(st->flags & STEP_DRY_RUN))
        ok = plan_stage(ctx, st, r->defs[i], &e);
    else
        ok = run_stage(ctx, r->defs[i], &changed, &e);
    r->s.seconds[i] = (double)(g_get_monotonic_time() - t0) / 1e6;
    r->s.changed[i] = changed;
    r->any_changed |= changed;
    record_outcome(r, i, ok, e, finally);
    if (!ctx->dry_run) {
        GError *se = NULL;
        if (!save_state(ctx->def, &r->s, FALSE, r->failed, &se)) {
            dcn_progress_event(&ctx->progress, "warning", "msg=\"%s\"", se->message);
            g_error_free(se);
        }
    }
}

/* The result of the run; on failure the error says whether the builder was
 * torn down and where a rerun resumes. */
static gboolean finish(Run *r, const char *resume_at, GError **error)
{
    DcnStageCtx *ctx = r->ctx;
    JsonObject *o = state_json(ctx->def, &r->s, !r->failed, r->failed);
    json_object_set_array_member(ctx->result, "stages", json_array_ref(json_object_get_array_member(o, "stages")));
    json_object_set_boolean_member(ctx->result, "finished", !r->failed && !ctx->dry_run);
    json_object_set_boolean_member(ctx->result, "changed", r->any_changed);
    if (resume_at)
        json_object_set_string_member(ctx->result, "started_at", resume_at);
    json_object_unref(o);
    gboolean torn_down = FALSE;
    const char *next = NULL;
    for (size_t i = 0; i < N_STEPS; i++) {
        if ((steps[i].flags & STEP_FINALLY) && r->s.status[i] == ST_DONE)
            torn_down = TRUE;
        if (!next && (r->s.status[i] == ST_PENDING || r->s.status[i] == ST_FAILED) &&
            !(steps[i].flags & (STEP_BUILDER_SETUP | STEP_FINALLY)))
            next = steps[i].stage;
    }
    run_state_clear(&r->s);
    if (r->failed) {
        json_object_set_string_member(ctx->result, "failed_stage", r->failed);
        g_propagate_prefixed_error(error, r->first_error, "stage %s failed (%s; a rerun resumes at %s): ", r->failed,
                                   torn_down ? "builder torn down" : "nothing to tear down",
                                   next ? next : r->failed);
        return FALSE;
    }
    dcn_progress_event(&ctx->progress, ctx->dry_run ? "dry-run-done" : "finished", "version=%s", ctx->def->version);
    return TRUE;
}

gboolean dcn_stage_run(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    dcn_interrupt_install();
    Run r = {.ctx = ctx};
    gboolean finished_before = FALSE;
    if (!ctx->dry_run)
        load_previous(def, &r.s, &ctx->progress, &finished_before);
    if (finished_before) {
        report_finished_before(ctx, &r.s);
        run_state_clear(&r.s);
        return TRUE;
    }
    gboolean builder_needed = FALSE;
    const char *resume_at = NULL;
    plan_steps(def, &r.s, r.defs, &builder_needed, &resume_at);
    dcn_progress_event(&ctx->progress, "plan", "version=%s resume_at=%s builder=%s dry_run=%s", def->version,
                       resume_at ? resume_at : "-", builder_needed ? def->provider : "none",
                       ctx->dry_run ? "true" : "false");
    for (size_t i = 0; i < N_STEPS; i++)
        run_step(&r, i);
    return finish(&r, resume_at, error);
}
