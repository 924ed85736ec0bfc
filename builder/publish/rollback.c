/* rollback: the rollback stage. Makes the ref serve an earlier kept
 * version again, as a NEW commit (parent: the current head, tree and
 * metadata of the target, a newer timestamp) so devices move to it with a
 * plain upgrade (rpm-ostree refuses older timestamps unless told). The
 * commit records what happened in its metadata (dcn.rollback-of: the
 * target commit, dcn.rollback-from: the version it replaces), then it is
 * released like a publish (deltas from the previous versions, summary,
 * signatures, prune). Rolling back to what the head already is changes
 * nothing. */
#include "error.h"
#include "release.h"
#include "repo.h"

#include <string.h>
#include <unistd.h>

static gboolean find_target(DcnStageCtx *ctx, GPtrArray *history, const DcnVersion **out, GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (ctx->rollback_steps) {
        if (ctx->rollback_steps >= history->len)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                               "--steps %u: only %u earlier version(s) of %s are kept", ctx->rollback_steps,
                               history->len - 1, def->ref),
                   FALSE;
        *out = history->pdata[ctx->rollback_steps];
        return TRUE;
    }
    const DcnVersion *head = history->pdata[0];
    if (head->version && g_str_equal(head->version, ctx->rollback_to)) {
        *out = head;
        return TRUE;
    }
    for (guint i = 1; i < history->len; i++) {
        const DcnVersion *v = history->pdata[i];
        if (v->version && g_str_equal(v->version, ctx->rollback_to)) {
            *out = v;
            return TRUE;
        }
    }
    g_autoptr(GString) kept = g_string_new(NULL);
    for (guint i = 0; i < history->len; i++) {
        const DcnVersion *v = history->pdata[i];
        g_string_append_printf(kept, "%s%s", i ? ", " : "", v->version ? v->version : v->commit);
    }
    return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                       "version %s is not among the kept versions of %s (%s)", ctx->rollback_to, def->ref, kept->str),
           FALSE;
}

static gboolean rollback_locked(DcnStageCtx *ctx, OstreeRepo *repo, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(GPtrArray) history = NULL;
    if (!dcn_repo_history(repo, def->ref, def->keep, &history, error))
        return FALSE;
    if (history->len == 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND, "nothing is published on %s",
                           def->ref),
               FALSE;
    const DcnVersion *head = history->pdata[0], *target = NULL;
    if (!find_target(ctx, history, &target, error))
        return FALSE;

    gboolean changed = FALSE;
    g_autofree char *commit = NULL;
    if (target == head || (dcn_version_same_tree(head, target) && g_strcmp0(head->version, target->version) == 0)) {
        commit = g_strdup(head->commit); /* already serving it */
    } else {
        g_autoptr(GVariant) tmeta = g_variant_get_child_value(target->variant, 0);
        g_autoptr(GVariantDict) meta = g_variant_dict_new(tmeta);
        g_variant_dict_insert(meta, "dcn.rollback-of", "s", target->commit);
        g_variant_dict_insert(meta, "dcn.rollback-from", "s", head->version ? head->version : head->commit);
        g_autoptr(GVariant) metadata = g_variant_ref_sink(g_variant_dict_end(meta));
        g_autofree char *subject = g_strdup_printf("Roll back to %s (from %s)", target->version ? target->version : target->commit,
                                                   head->version ? head->version : head->commit);
        guint64 now = (guint64)g_get_real_time() / G_USEC_PER_SEC;
        guint64 timestamp = MAX(now, head->timestamp + 1);
        g_autoptr(GFile) root = NULL;
        if (!ostree_repo_prepare_transaction(repo, NULL, NULL, error))
            return FALSE;
        if (!dcn_repo_root_from_checksums(repo, target->contents, target->meta, &root, error) ||
            !ostree_repo_write_commit_with_time(repo, head->commit, subject, NULL, metadata, OSTREE_REPO_FILE(root),
                                                timestamp, &commit, NULL, error)) {
            ostree_repo_abort_transaction(repo, NULL, NULL);
            return g_prefix_error(error, "Writing rollback commit: "), FALSE;
        }
        if (!ostree_repo_commit_transaction(repo, NULL, NULL, error))
            return FALSE;
        changed = TRUE;
        dcn_progress_event(&ctx->progress, "commit", "version=%s commit=%s rollback_of=%s parent=%s",
                           target->version ? target->version : "-", commit, target->commit, head->commit);
    }
    dcn_stage_step(ctx, "commit");
    json_object_set_string_member(ctx->result, "ref", def->ref);
    json_object_set_string_member(ctx->result, "version", target->version ? target->version : "");
    json_object_set_string_member(ctx->result, "commit", commit);
    json_object_set_string_member(ctx->result, "rollback_of",
                                  target == head && head->rollback_of ? head->rollback_of : target->commit);
    json_object_set_string_member(ctx->result, "from_version", head->version ? head->version : "");
    if (!dcn_release_apply(ctx, repo, commit, &changed, error))
        return FALSE;
    json_object_set_boolean_member(ctx->result, "changed", changed);
    dcn_progress_event(&ctx->progress, changed ? "rolled-back" : "unchanged", "version=%s commit=%s ref=%s",
                       target->version ? target->version : "-", commit, def->ref);
    return TRUE;
}

gboolean dcn_stage_rollback(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (!!ctx->rollback_to == !!ctx->rollback_steps)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                           "give exactly one of --to VERSION and --steps N"),
               FALSE;
    if (!dcn_release_check_signing(def, error))
        return FALSE;
    g_autoptr(OstreeRepo) repo = NULL;
    int lock = dcn_release_open_locked(ctx, FALSE, &repo, error);
    if (lock < 0)
        return FALSE;
    gboolean ok = rollback_locked(ctx, repo, error);
    close(lock);
    if (!ok)
        g_prefix_error(error, "%s: ", def->ref);
    return ok;
}
