/* stage: what every dcn-builder stage gets, the stages themselves, and the
 * table that names them.
 *
 * A stage reads the definition, does its work idempotently, reports
 * progress on stderr and fills `result` (printed as one JSON line with
 * --json). Errors are returned as GError, prefixed with what was being done;
 * main prefixes the stage name.
 *
 * The data goes one way: definition -> stage -> result. dcn_stage_invoke()
 * is the one place a stage is called: main calls it for the stage given on
 * the command line, run for each stage of the release. It saves the result
 * (plus "stage" and "version") to <state_dir>/<stage>.json (state.h), where
 * later stages and reruns read it. */
#ifndef DCN_BUILDER_STAGE_H
#define DCN_BUILDER_STAGE_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "definition.h"
#include "progress.h"

typedef struct {
    DcnDefinition *def;      /* the image definition with overrides applied */
    DcnProgress progress;    /* stderr progress/events for this stage */
    gboolean json;           /* --json: the result goes to stdout as JSON (else stages may print text) */
    JsonObject *result;      /* members of the --json line ("stage" and "ok" are added by main) */
    const char *abort_after; /* test hook: abort() right after the step of this name */
    const char *rollback_to; /* rollback --to VERSION, or NULL */
    guint rollback_steps;    /* rollback --steps N (0: not given) */
    gboolean dry_run;        /* --dry-run: print what would be done (commands, manifests), change nothing */
    const char *image;       /* deploy/undo --image REF@sha256:...: the image to roll out, or NULL */
} DcnStageCtx;

typedef gboolean (*DcnStageFn)(DcnStageCtx *ctx, GError **error);

/* One row of the stage table (stage.c). */
typedef struct {
    const char *name;      /* as on the command line: "publish" */
    DcnStageFn run;        /* the stage */
    const char *summary;   /* one line for --help and run's dry-run plan */
    gboolean dry_run_ok;   /* honours --dry-run (the others refuse it rather than act) */
    gboolean reads_only;   /* status, check: no result is saved */
} DcnStageDef;

/* The stage table, in --help order; *n gets its length. */
const DcnStageDef *dcn_stages(size_t *n);
/* The stage of that name, or NULL when this build has no such stage (run
 * uses it, so it only calls the stages that exist). */
const DcnStageDef *dcn_stage_find(const char *name);

/* Runs stage on ctx, whose progress and result the caller set up: a task a
 * failure cut short is cancelled (its ticker stops, its line goes); on
 * success the result is saved (state.h) unless the stage only reads or
 * ctx->dry_run. A failure to save is the stage's failure. */
gboolean dcn_stage_invoke(const DcnStageDef *stage, DcnStageCtx *ctx, GError **error);

/* Called after each durable step: logs it and, when the test hook names
 * this step, aborts the process (simulating a crash at that point). */
void dcn_stage_step(DcnStageCtx *ctx, const char *step);

gboolean dcn_stage_compose(DcnStageCtx *ctx, GError **error);   /* compose/compose.c */
gboolean dcn_stage_publish(DcnStageCtx *ctx, GError **error);   /* publish/publish.c */
gboolean dcn_stage_rollback(DcnStageCtx *ctx, GError **error);  /* publish/rollback.c */
gboolean dcn_stage_status(DcnStageCtx *ctx, GError **error);    /* publish/status.c */
gboolean dcn_stage_prune(DcnStageCtx *ctx, GError **error);     /* publish/prune.c */
gboolean dcn_stage_kickstart(DcnStageCtx *ctx, GError **error); /* kickstart/stage.c */
gboolean dcn_stage_iso(DcnStageCtx *ctx, GError **error);       /* iso/iso.c */
gboolean dcn_stage_package(DcnStageCtx *ctx, GError **error);   /* package/package.c */
gboolean dcn_stage_push(DcnStageCtx *ctx, GError **error);      /* push/push.c */
gboolean dcn_stage_check(DcnStageCtx *ctx, GError **error);     /* check.c */
/* Build infrastructure (docs/build-infra.md). */
gboolean dcn_stage_provision(DcnStageCtx *ctx, GError **error); /* provision/provision.c */
gboolean dcn_stage_install(DcnStageCtx *ctx, GError **error);   /* install.c */
gboolean dcn_stage_teardown(DcnStageCtx *ctx, GError **error);  /* teardown.c */
gboolean dcn_stage_run(DcnStageCtx *ctx, GError **error);       /* run.c */
/* run.c: the stages `run` would run now for def, in order: not done by an
 * earlier run of this version (a dry run: all), not skipped (NULL-terminated;
 * g_strfreev). What the preflight checks for run. */
char **dcn_run_plan(const DcnDefinition *def, gboolean dry_run);
gboolean dcn_stage_deploy(DcnStageCtx *ctx, GError **error);    /* deploy/deploy.c */
gboolean dcn_stage_undo(DcnStageCtx *ctx, GError **error);      /* deploy/undo.c */

#endif
