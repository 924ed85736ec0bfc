/* status: the status stage. The kept versions of the ref (newest first):
 * commit, date, size (bytes the version's objects take in the repo), the
 * deltas that lead to it, and what the ref points at; then what prune
 * keeps only for prune_grace and until when; as a table on stdout, or with
 * --json as one JSON line. Reads only. */
#include "error.h"
#include "prune.h"
#include "repo.h"
#include "stage.h"

#include <stdio.h>
#include <string.h>

static gboolean version_size(OstreeRepo *repo, const char *commit, guint64 *out, GError **error)
{
    g_autoptr(GHashTable) reachable = NULL;
    if (!ostree_repo_traverse_commit(repo, commit, 0, &reachable, NULL, error))
        return FALSE;
    guint64 total = 0;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, reachable);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *csum;
        OstreeObjectType type;
        guint64 size = 0;
        ostree_object_name_deserialize(key, &csum, &type);
        if (!ostree_repo_query_object_storage_size(repo, type, csum, &size, NULL, error))
            return FALSE;
        total += size;
    }
    *out = total;
    return TRUE;
}

static char *utc(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static const char *label(GPtrArray *history, const char *commit)
{
    for (guint i = 0; i < history->len; i++) {
        const DcnVersion *v = history->pdata[i];
        if (g_str_equal(v->commit, commit))
            return v->version ? v->version : v->commit;
    }
    return commit;
}

/* What prune keeps only for prune_grace: "waiting" in the JSON, and lines
 * after the table. */
static gboolean waiting(DcnStageCtx *ctx, OstreeRepo *repo, GPtrArray *history, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(GPtrArray) list = NULL;
    if (!dcn_prune_waiting(def, repo, &list, error))
        return FALSE;
    json_object_set_int_member(ctx->result, "prune_grace", def->prune_grace);
    JsonArray *wa = json_array_new();
    json_object_set_array_member(ctx->result, "waiting", wa);
    if (!ctx->json && list->len)
        printf("waiting for prune (prune_grace %us: named by a summary served until less than that ago):\n",
               def->prune_grace);
    for (guint i = 0; i < list->len; i++) {
        const DcnPruneWaiting *w = list->pdata[i];
        g_autofree char *until = utc(w->until);
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "commit", w->commit);
        const char *version = label(history, w->commit);
        json_object_set_string_member(o, "version", version == w->commit ? "" : version);
        json_object_set_string_member(o, "until", until);
        json_object_set_int_member(o, "until_timestamp", w->until);
        json_object_set_boolean_member(o, "due", w->due);
        json_object_set_boolean_member(o, "commit_waits", w->objects);
        JsonArray *da = json_array_new();
        for (guint j = 0; j < w->deltas->len; j++)
            json_array_add_string_element(da, w->deltas->pdata[j]);
        json_object_set_array_member(o, "deltas", da);
        json_array_add_object_element(wa, o);
        if (!ctx->json) {
            g_autofree char *short_commit = g_strndup(w->commit, 12);
            printf("  until %s%s  %s%s%s: %s%s%u delta(s) to it\n", until, w->due ? " (due)" : "", short_commit,
                   version == w->commit ? "" : " ", version == w->commit ? "" : version,
                   w->objects ? "the commit and its objects, " : "", "", w->deltas->len);
        }
    }
    return TRUE;
}

gboolean dcn_stage_status(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(OstreeRepo) repo = NULL;
    g_autoptr(GPtrArray) history = NULL;
    g_autoptr(GPtrArray) deltas = NULL;
    if (!dcn_repo_open(def->repo, FALSE, &repo, error) || !dcn_repo_history(repo, def->ref, 0, &history, error) ||
        !ostree_repo_list_static_delta_names(repo, &deltas, NULL, error))
        return FALSE;

    json_object_set_string_member(ctx->result, "ref", def->ref);
    json_object_set_string_member(ctx->result, "repo", def->repo);
    if (history->len)
        json_object_set_string_member(ctx->result, "head", ((DcnVersion *)history->pdata[0])->commit);
    else
        json_object_set_null_member(ctx->result, "head");
    JsonArray *versions = json_array_new();
    json_object_set_array_member(ctx->result, "versions", versions);
    if (!ctx->json)
        printf("%-1s %-16s %-12s %-20s %10s  %s\n", "", "VERSION", "COMMIT", "DATE (UTC)", "SIZE", "DELTAS FROM");

    for (guint i = 0; i < history->len; i++) {
        const DcnVersion *v = history->pdata[i];
        guint64 size = 0;
        if (!version_size(repo, v->commit, &size, error))
            return g_prefix_error(error, "Sizing %s: ", v->commit), FALSE;
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc((gint64)v->timestamp);
        g_autofree char *date = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
        JsonObject *o = json_object_new();
        JsonArray *from = json_array_new();
        g_autoptr(GString) from_text = g_string_new(NULL);
        gboolean scratch = FALSE;
        for (guint j = 0; j < deltas->len; j++) {
            const char *name = deltas->pdata[j], *dash = strchr(name, '-');
            if (!g_str_equal(dash ? dash + 1 : name, v->commit))
                continue;
            if (!dash) {
                scratch = TRUE;
                continue;
            }
            g_autofree char *fc = g_strndup(name, (gsize)(dash - name));
            json_array_add_string_element(from, fc);
            g_string_append_printf(from_text, "%s%s", from_text->len ? ", " : "", label(history, fc));
        }
        if (scratch)
            g_string_append_printf(from_text, "%sscratch", from_text->len ? ", " : "");
        json_object_set_string_member(o, "version", v->version ? v->version : "");
        json_object_set_string_member(o, "commit", v->commit);
        if (v->parent)
            json_object_set_string_member(o, "parent", v->parent);
        else
            json_object_set_null_member(o, "parent");
        json_object_set_string_member(o, "date", date);
        json_object_set_int_member(o, "timestamp", (gint64)v->timestamp);
        json_object_set_int_member(o, "size", (gint64)size);
        json_object_set_array_member(o, "deltas_from", from);
        json_object_set_boolean_member(o, "scratch_delta", scratch);
        json_object_set_boolean_member(o, "head", i == 0);
        json_object_set_boolean_member(o, "kept", i < def->keep);
        if (v->rollback_of)
            json_object_set_string_member(o, "rollback_of", v->rollback_of);
        json_array_add_object_element(versions, o);
        if (!ctx->json) {
            g_autofree char *short_commit = g_strndup(v->commit, 12);
            g_autofree char *note =
                v->rollback_of ? g_strdup_printf("  (rollback to %s)", label(history, v->rollback_of)) : g_strdup("");
            printf("%-1s %-16s %-12s %-20s %10" G_GUINT64_FORMAT "  %s%s\n", i == 0 ? "*" : "",
                   v->version ? v->version : "-", short_commit, date, size, from_text->len ? from_text->str : "-",
                   note);
        }
    }
    if (!ctx->json)
        printf("ref %s -> %s (%u version(s), keep %u)\n", def->ref,
               history->len ? ((DcnVersion *)history->pdata[0])->commit : "(nothing published)", history->len,
               def->keep);
    return waiting(ctx, repo, history, error);
}
