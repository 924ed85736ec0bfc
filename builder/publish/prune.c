/* prune: see prune.h. Also the `prune` stage. */
#include "prune.h"
#include "error.h"
#include "grace.h"
#include "release.h"
#include "repo.h"

#include <string.h>
#include <unistd.h>

void dcn_prune_waiting_free(DcnPruneWaiting *w)
{
    if (!w)
        return;
    g_free(w->commit);
    g_ptr_array_unref(w->deltas);
    g_free(w);
}

/* What decides a prune: the ref's head and newest `keep` commits, and the
 * commits summaries still protect (commit -> until, G_MAXINT64 for the
 * served summary's). */
typedef struct {
    char *head;
    GHashTable *keep;    /* commit checksums, newest `keep` of the ref */
    GHashTable *pinned;  /* commit -> gint64 * until */
    GPtrArray *entries;  /* the grace record (DcnReplaced *) */
} Plan;

static void plan_clear(Plan *p)
{
    g_free(p->head);
    g_clear_pointer(&p->keep, g_hash_table_unref);
    g_clear_pointer(&p->pinned, g_hash_table_unref);
    g_clear_pointer(&p->entries, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Plan, plan_clear)

static void pin(GHashTable *pinned, const char *commit, gint64 until)
{
    gint64 *have = g_hash_table_lookup(pinned, commit);
    if (have) {
        *have = MAX(*have, until);
        return;
    }
    gint64 *v = g_new(gint64, 1);
    *v = until;
    g_hash_table_insert(pinned, g_strdup(commit), v);
}

/* with_expired: also pin the entries whose grace has passed (status shows
 * them as due); prune leaves them out. */
static gboolean plan_load(const DcnDefinition *def, OstreeRepo *repo, gboolean with_expired, gint64 now, Plan *p,
                          GError **error)
{
    const char *repo_path = g_file_peek_path(ostree_repo_get_path(repo));
    g_autoptr(GPtrArray) history = NULL;
    if (!ostree_repo_resolve_rev(repo, def->ref, TRUE, &p->head, error) ||
        !dcn_repo_history(repo, def->ref, def->keep, &history, error) ||
        !dcn_grace_load(repo_path, &p->entries, error))
        return FALSE;
    p->keep = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < history->len; i++)
        g_hash_table_add(p->keep, g_strdup(((DcnVersion *)history->pdata[i])->commit));
    p->pinned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < p->entries->len; i++) {
        const DcnReplaced *r = p->entries->pdata[i];
        gint64 until = r->replaced_at + (gint64)def->prune_grace;
        if (until <= now && !with_expired)
            continue;
        for (guint j = 0; j < r->commits->len; j++)
            pin(p->pinned, r->commits->pdata[j], until);
    }
    /* the summary being served protects what it names, whatever the record says */
    g_autofree char *path = g_build_filename(repo_path, "summary", NULL);
    g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, NULL);
    if (mf) {
        g_autoptr(GBytes) bytes = g_mapped_file_get_bytes(mf);
        g_autoptr(GPtrArray) commits = NULL;
        if (dcn_summary_commits(bytes, &commits, NULL))
            for (guint i = 0; i < commits->len; i++)
                pin(p->pinned, commits->pdata[i], G_MAXINT64);
    }
    return TRUE;
}

static gboolean have_commit(OstreeRepo *repo, const char *commit, gboolean *out, GError **error)
{
    return ostree_repo_has_object(repo, OSTREE_OBJECT_TYPE_COMMIT, commit, out, NULL, error);
}

/* The target of a delta name ("from-to" or "to"). */
static const char *delta_to(const char *name)
{
    const char *dash = strchr(name, '-');
    return dash ? dash + 1 : name;
}

/* Deltas whose target is gone, and deltas to anything but the head that
 * no kept summary leads to (clients pull the head); their indexes too. */
static gboolean prune_deltas(DcnStageCtx *ctx, OstreeRepo *repo, const char *head, const Plan *plan, guint *out_pruned,
                             GError **error)
{
    g_autoptr(GPtrArray) before = NULL, after = NULL;
    if (!ostree_repo_list_static_delta_names(repo, &before, NULL, error) ||
        !ostree_repo_prune_static_deltas(repo, NULL, NULL, error))
        return g_prefix_error(error, "Pruning deltas: "), FALSE;
    g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < before->len; i++) {
        const char *to = delta_to(before->pdata[i]);
        if ((head && g_str_equal(to, head)) || g_hash_table_contains(plan->pinned, to) || !g_hash_table_add(done, (char *)to))
            continue;
        if (!ostree_repo_prune_static_deltas(repo, to, NULL, error))
            return g_prefix_error(error, "Pruning deltas to %s: ", to), FALSE;
        /* what it decided on, for the log: a delta gone too soon is traced here */
        dcn_progress_event(&ctx->progress, "pruned-deltas", "to=%s head=%s pinned=%u grace_entries=%u", to,
                           head ? head : "-", g_hash_table_size(plan->pinned), plan->entries->len);
    }
    if (!ostree_repo_list_static_delta_names(repo, &after, NULL, error))
        return FALSE;
    *out_pruned = before->len - after->len;
    /* the indexes of removed deltas go too (reindex drops an index whose deltas are gone) */
    if (*out_pruned > 0 &&
        !ostree_repo_static_delta_reindex(repo, OSTREE_STATIC_DELTA_INDEX_FLAGS_NONE, NULL, NULL, error))
        return g_prefix_error(error, "Rewriting delta indexes: "), FALSE;
    return TRUE;
}

/* The grace record without the entries whose grace has passed. */
static gboolean forget_expired(const char *repo_path, guint prune_grace, gint64 now, GPtrArray *entries,
                               GError **error)
{
    g_autoptr(GPtrArray) left = g_ptr_array_new_with_free_func((GDestroyNotify)dcn_replaced_free);
    for (guint i = 0; i < entries->len; i++) {
        DcnReplaced *r = entries->pdata[i];
        if (r->replaced_at + (gint64)prune_grace > now)
            g_ptr_array_add(left, g_steal_pointer(&entries->pdata[i]));
    }
    return left->len == entries->len || dcn_grace_save(repo_path, left, error);
}

gboolean dcn_prune(DcnStageCtx *ctx, OstreeRepo *repo, const char *head, gboolean *changed, GError **error)
{
    const DcnDefinition *def = ctx->def;
    const char *repo_path = g_file_peek_path(ostree_repo_get_path(repo));
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_auto(Plan) plan = {0};
    if (!plan_load(def, repo, FALSE, now, &plan, error))
        return FALSE;
    g_autoptr(GHashTable) refs = NULL;
    if (!ostree_repo_list_refs(repo, NULL, &refs, NULL, error))
        return FALSE;

    g_autoptr(GHashTable) reachable = ostree_repo_traverse_new_reachable();
    dcn_progress_begin(&ctx->progress, "prune", NULL); /* blocking calls: the ticker shows time */
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, plan.keep);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!ostree_repo_traverse_commit_union(repo, key, 0, reachable, NULL, error))
            return FALSE;
    g_hash_table_iter_init(&it, refs);
    while (g_hash_table_iter_next(&it, &key, &value))
        if (!g_str_equal(key, def->ref) && !ostree_repo_traverse_commit_union(repo, value, -1, reachable, NULL, error))
            return FALSE; /* other refs in a shared repo: keep their whole history */
    guint waiting = 0;
    g_hash_table_iter_init(&it, plan.pinned);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        gboolean have = FALSE;
        if (!have_commit(repo, key, &have, error))
            return FALSE;
        if (have && !ostree_repo_traverse_commit_union(repo, key, 0, reachable, NULL, error))
            return FALSE;
        waiting += have && !g_hash_table_contains(plan.keep, key);
    }
    OstreeRepoPruneOptions opts = {.flags = OSTREE_REPO_PRUNE_FLAGS_NONE, .reachable = reachable};
    gint total = 0, pruned = 0;
    guint64 freed = 0;
    if (!ostree_repo_prune_from_reachable(repo, &opts, &total, &pruned, &freed, NULL, error))
        return g_prefix_error(error, "Pruning: "), FALSE;

    guint deltas_pruned = 0;
    if (!prune_deltas(ctx, repo, head, &plan, &deltas_pruned, error))
        return FALSE;
    dcn_progress_end(&ctx->progress);
    if (!forget_expired(repo_path, def->prune_grace, now, plan.entries, error))
        return FALSE;

    json_object_set_int_member(ctx->result, "pruned_objects", pruned);
    json_object_set_int_member(ctx->result, "pruned_deltas", deltas_pruned);
    json_object_set_int_member(ctx->result, "prune_waiting", waiting);
    if (pruned > 0 || deltas_pruned > 0) {
        *changed = TRUE;
        dcn_progress_event(&ctx->progress, "pruned", "objects=%d deltas=%u bytes=%" G_GUINT64_FORMAT, pruned,
                           deltas_pruned, freed);
    }
    if (waiting)
        dcn_progress_event(&ctx->progress, "waiting", "commits=%u prune_grace_s=%u", waiting, def->prune_grace);
    return TRUE;
}

static gint by_until(gconstpointer a, gconstpointer b)
{
    const DcnPruneWaiting *x = *(DcnPruneWaiting *const *)a, *y = *(DcnPruneWaiting *const *)b;
    return x->until < y->until ? -1 : x->until > y->until ? 1 : g_strcmp0(x->commit, y->commit);
}

gboolean dcn_prune_waiting(const DcnDefinition *def, OstreeRepo *repo, GPtrArray **out, GError **error)
{
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_auto(Plan) plan = {0};
    g_autoptr(GPtrArray) deltas = NULL;
    if (!plan_load(def, repo, TRUE, now, &plan, error) ||
        !ostree_repo_list_static_delta_names(repo, &deltas, NULL, error))
        return FALSE;
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)dcn_prune_waiting_free);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, plan.pinned);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        gint64 until = *(gint64 *)value;
        if (until == G_MAXINT64)
            continue; /* the served summary's: not waiting, current */
        gboolean have = FALSE;
        if (!have_commit(repo, key, &have, error))
            return FALSE;
        g_autoptr(DcnPruneWaiting) w = g_new0(DcnPruneWaiting, 1);
        w->deltas = g_ptr_array_new_with_free_func(g_free);
        w->objects = have && !g_hash_table_contains(plan.keep, key);
        for (guint i = 0; i < deltas->len; i++)
            if (g_str_equal(delta_to(deltas->pdata[i]), key) && g_strcmp0(key, plan.head) != 0)
                g_ptr_array_add(w->deltas, g_strdup(deltas->pdata[i]));
        if (!w->objects && w->deltas->len == 0)
            continue; /* nothing waits for it: kept anyway, or gone */
        w->commit = g_strdup(key);
        w->until = until;
        w->due = until <= now;
        g_ptr_array_add(list, g_steal_pointer(&w));
    }
    g_ptr_array_sort(list, by_until);
    *out = g_steal_pointer(&list);
    return TRUE;
}

gboolean dcn_stage_prune(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(OstreeRepo) repo = NULL;
    int lock = dcn_release_open_locked(ctx, FALSE, &repo, error);
    if (lock < 0)
        return FALSE;
    g_autofree char *head = NULL;
    gboolean changed = FALSE;
    gboolean ok = ostree_repo_resolve_rev(repo, def->ref, TRUE, &head, error) &&
                  dcn_prune(ctx, repo, head, &changed, error);
    close(lock);
    if (!ok)
        return g_prefix_error(error, "%s: ", def->ref), FALSE;
    json_object_set_string_member(ctx->result, "ref", def->ref);
    json_object_set_boolean_member(ctx->result, "changed", changed);
    dcn_progress_event(&ctx->progress, changed ? "done" : "unchanged", "ref=%s", def->ref);
    return TRUE;
}
