/* plan: dry-run output. See plan.h. */
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void dcn_plan(DcnStageCtx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    FILE *f = ctx->json ? stderr : stdout;
    fprintf(f, "%s: %s\n", ctx->progress.stage, text);
    fflush(f);
}

void dcn_plan_file(DcnStageCtx *ctx, const char *path, const char *contents)
{
    FILE *f = ctx->json ? stderr : stdout;
    size_t n = strlen(contents);
    fprintf(f, "%s: would write %s:\n--- %s\n%s%s--- end of %s\n", ctx->progress.stage, path, path, contents,
            n && contents[n - 1] == '\n' ? "" : "\n", path);
    fflush(f);
}
