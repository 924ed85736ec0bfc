/* check: the check stage, the preflight alone (preflight.h). It ran before
 * this, and passed: what is left is saying so, and which stages `run`
 * would run now. Changes nothing. */
#include <stdio.h>

#include "stage.h"

gboolean dcn_stage_check(DcnStageCtx *ctx, GError **error)
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
