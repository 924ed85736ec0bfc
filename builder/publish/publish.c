/* publish/: the stages that act on the hosted repository: publish
 * (publish.c), rollback (rollback.c), prune (prune.c), status (status.c),
 * and the steps that make a commit the served version (release.h).
 *
 * publish: the publish stage. Imports the staged version into the hosted
 * archive repo as a new commit on the ref (parent: the current head, same
 * tree, version metadata, ostree.ref-binding), then releases it (release.h).
 *
 * The new commit is deterministic (timestamp taken from the staged commit,
 * bumped past the parent's), so a publish killed before the ref moved
 * writes the very same commit when rerun, and a version already at the
 * head with the same tree only completes what is missing. A version already
 * published with another tree is refused. */
#include "error.h"
#include "release.h"
#include "repo.h"

#include <unistd.h>

/* Decides what to publish: *out_commit is set to the head when this version
 * is already the head with the same tree; left NULL when a new commit is needed. */
static gboolean check_existing(const DcnDefinition *def, GPtrArray *history, const DcnVersion *staged,
                               char **out_commit, GError **error)
{
    for (guint i = 0; i < history->len; i++) {
        const DcnVersion *v = history->pdata[i];
        if (!v->version || !g_str_equal(v->version, def->version))
            continue;
        if (!dcn_version_same_tree(v, staged))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_CONFLICT,
                               "version %s is already published (commit %s) with different content (tree %s, "
                               "staged tree %s): give the new content a new version",
                               def->version, v->commit, v->contents, staged->contents),
                   FALSE;
        if (i > 0) {
            const DcnVersion *head = history->pdata[0];
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_CONFLICT,
                               "version %s is already published (commit %s), but %s points at version %s: to serve "
                               "%s again use `dcn-builder rollback --to %s`",
                               def->version, v->commit, def->ref, head->version ? head->version : head->commit,
                               def->version, def->version),
                   FALSE;
        }
        *out_commit = g_strdup(v->commit);
        return TRUE;
    }
    return TRUE;
}

static gboolean write_commit(DcnStageCtx *ctx, OstreeRepo *repo, OstreeRepo *staging, const DcnVersion *staged,
                             const DcnVersion *head, char **out_commit, GError **error)
{
    const DcnDefinition *def = ctx->def;
    guint64 timestamp = staged->timestamp;
    if (head && timestamp <= head->timestamp)
        timestamp = head->timestamp + 1; /* rpm-ostree refuses to go back in time */
    g_autoptr(GVariant) smeta = g_variant_get_child_value(staged->variant, 0);
    g_autoptr(GVariantDict) meta = g_variant_dict_new(smeta);
    g_variant_dict_insert(meta, OSTREE_COMMIT_META_KEY_VERSION, "s", def->version);
    const char *refs[] = {def->ref, NULL};
    g_variant_dict_insert_value(meta, OSTREE_COMMIT_META_KEY_REF_BINDING, g_variant_new_strv(refs, -1));
    g_autoptr(GVariant) metadata = g_variant_ref_sink(g_variant_dict_end(meta));

    if (!ostree_repo_prepare_transaction(repo, NULL, NULL, error))
        return FALSE;
    g_autoptr(GFile) root = NULL;
    if (!dcn_repo_import_tree(repo, staging, staged->commit, &ctx->progress, error) ||
        !dcn_repo_root_from_checksums(repo, staged->contents, staged->meta, &root, error) ||
        !ostree_repo_write_commit_with_time(repo, head ? head->commit : NULL, def->subject, NULL, metadata,
                                            OSTREE_REPO_FILE(root), timestamp, out_commit, NULL, error)) {
        ostree_repo_abort_transaction(repo, NULL, NULL);
        return g_prefix_error(error, "Importing staged commit %s: ", staged->commit), FALSE;
    }
    if (!ostree_repo_commit_transaction(repo, NULL, NULL, error))
        return g_prefix_error(error, "Committing transaction: "), FALSE;
    return TRUE;
}

static gboolean publish_locked(DcnStageCtx *ctx, OstreeRepo *repo, OstreeRepo *staging, const DcnVersion *staged,
                               GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(GPtrArray) history = NULL;
    if (!dcn_repo_history(repo, def->ref, 0, &history, error))
        return FALSE;
    g_autofree char *commit = NULL;
    if (!check_existing(def, history, staged, &commit, error))
        return FALSE;
    const DcnVersion *head = history->len ? history->pdata[0] : NULL;
    gboolean changed = FALSE;
    if (!commit) {
        if (!write_commit(ctx, repo, staging, staged, head, &commit, error))
            return FALSE;
        changed = TRUE; /* (the same commit again after an interrupted run: objects already there) */
        dcn_progress_event(&ctx->progress, "commit", "version=%s commit=%s parent=%s", def->version, commit,
                           head ? head->commit : "-");
    }
    dcn_stage_step(ctx, "commit");
    g_autoptr(DcnVersion) pub = NULL;
    if (!dcn_repo_load_version(repo, commit, &pub, error))
        return FALSE;
    json_object_set_string_member(ctx->result, "version", def->version);
    json_object_set_string_member(ctx->result, "ref", def->ref);
    json_object_set_string_member(ctx->result, "commit", commit);
    if (pub->parent)
        json_object_set_string_member(ctx->result, "parent", pub->parent);
    else
        json_object_set_null_member(ctx->result, "parent");
    if (!dcn_release_apply(ctx, repo, commit, &changed, error))
        return FALSE;
    json_object_set_boolean_member(ctx->result, "changed", changed);
    dcn_progress_event(&ctx->progress, changed ? "published" : "unchanged", "version=%s commit=%s ref=%s",
                       def->version, commit, def->ref);
    return TRUE;
}

gboolean dcn_stage_publish(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (!dcn_release_check_signing(def, error))
        return FALSE;
    g_autofree char *staging_config = g_build_filename(def->staging, "config", NULL);
    if (!g_file_test(staging_config, G_FILE_TEST_EXISTS))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "nothing staged: no staging repo %s (run compose first)", def->staging),
               FALSE;
    g_autoptr(OstreeRepo) staging = NULL;
    g_autofree char *sref = dcn_repo_staging_ref(def);
    g_autofree char *scommit = NULL;
    g_autoptr(DcnVersion) staged = NULL;
    if (!dcn_repo_open(def->staging, FALSE, &staging, error) ||
        !ostree_repo_resolve_rev(staging, sref, TRUE, &scommit, error))
        return FALSE;
    if (!scommit)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "version %s is not staged in %s (no ref %s): run compose first", def->version, def->staging,
                           sref),
               FALSE;
    if (!dcn_repo_load_version(staging, scommit, &staged, error))
        return FALSE;

    g_autoptr(OstreeRepo) repo = NULL;
    int lock = dcn_release_open_locked(ctx, TRUE, &repo, error);
    if (lock < 0)
        return FALSE;
    gboolean ok = publish_locked(ctx, repo, staging, staged, error);
    close(lock);
    if (!ok)
        g_prefix_error(error, "%s %s: ", def->ref, def->version);
    return ok;
}
