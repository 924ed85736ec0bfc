/* plan: what a dry run prints. Stages that honour --dry-run (provision,
 * install, compose weldr, teardown, deploy, undo, and run for every stage)
 * say what they would do instead of doing it: one "<stage>: text" line per
 * action, and the files they would write in full. The lines go to stdout,
 * or to stderr with --json so stdout keeps its one JSON line. */
#ifndef DCN_BUILDER_PLAN_H
#define DCN_BUILDER_PLAN_H

#include "stage.h"

/* "<stage>: text" (ctx->progress.stage names the stage). */
void dcn_plan(DcnStageCtx *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* A file the stage would write, between marker lines. */
void dcn_plan_file(DcnStageCtx *ctx, const char *path, const char *contents);

#endif
