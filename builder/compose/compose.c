/* compose: the compose stage. Runs the definition's backend and records its
 * tree as a commit on the staging ref dcn-staging/<ref>/<version>, with the
 * version metadata. Composing the same tree again changes nothing (the
 * existing staged commit is kept, so publish stays deterministic); a
 * different tree replaces the staged one (staging is a scratch area:
 * publish is where published versions are protected). */
#include "compose.h"
#include "error.h"
#include "plan.h"
#include "repo.h"
#include "stage.h"
#include "weldr.h"

#include <errno.h>

void dcn_compose_output_clear(DcnComposeOutput *out)
{
    g_free(out->contents);
    g_free(out->meta);
    g_free(out->source_desc);
    if (out->extra)
        g_variant_dict_unref(out->extra);
    *out = (DcnComposeOutput){0};
}

static const DcnComposeBackend *backend_for(DcnComposeBackendKind kind)
{
    switch (kind) {
    case DCN_COMPOSE_TREE: return &dcn_compose_tree;
    case DCN_COMPOSE_EDGE_COMMIT: return &dcn_compose_edge_commit;
    case DCN_COMPOSE_WELDR: return &dcn_compose_weldr;
    }
    return NULL;
}

/* Says (a warning per reason, and in the result) when `ostree admin deploy`
 * would refuse the tree: a device could pull it but never boot it. */
static void record_deployability(DcnStageCtx *ctx, GFile *root)
{
    g_autoptr(GPtrArray) why = dcn_tree_undeployable_reasons(root);
    JsonArray *reasons = json_array_new();
    for (guint i = 0; i < why->len; i++) {
        const char *reason = g_ptr_array_index(why, i);
        dcn_progress_event(&ctx->progress, "warning", "msg=\"ostree admin deploy would refuse this tree: %s\"",
                           reason);
        json_array_add_string_element(reasons, reason);
    }
    json_object_set_boolean_member(ctx->result, "deployable", why->len == 0);
    json_object_set_array_member(ctx->result, "not_deployable_because", reasons);
}

/* Inside a transaction on staging: run the backend, write the commit if the
 * tree is new. */
static gboolean compose_in_txn(DcnStageCtx *ctx, OstreeRepo *staging, const char *sref, DcnVersion *prev,
                               char **out_commit, gboolean *out_changed, GError **error)
{
    const DcnDefinition *def = ctx->def;
    const DcnComposeBackend *backend = backend_for(def->compose_backend);
    g_auto(DcnComposeOutput) out = {0};
    if (!backend->run(def, staging, &ctx->progress, &out, error))
        return FALSE;
    g_autoptr(GFile) root = NULL;
    if (!dcn_repo_root_from_checksums(staging, out.contents, out.meta, &root, error))
        return FALSE;
    record_deployability(ctx, root);
    if (prev && prev->version && g_str_equal(prev->version, def->version) && g_str_equal(prev->contents, out.contents) &&
        g_str_equal(prev->meta, out.meta)) {
        *out_commit = g_strdup(prev->commit);
        *out_changed = FALSE;
        return TRUE;
    }
    g_autoptr(GVariantDict) meta = out.extra ? g_variant_dict_ref(out.extra) : g_variant_dict_new(NULL);
    g_variant_dict_insert(meta, OSTREE_COMMIT_META_KEY_VERSION, "s", def->version);
    g_variant_dict_insert(meta, "dcn.name", "s", def->name);
    g_variant_dict_insert(meta, "dcn.source", "s", out.source_desc);
    g_autoptr(GVariant) metadata = g_variant_ref_sink(g_variant_dict_end(meta));
    if (!ostree_repo_write_commit(staging, NULL, def->subject, NULL, metadata, OSTREE_REPO_FILE(root), out_commit,
                                  NULL, error))
        return g_prefix_error(error, "Writing staged commit: "), FALSE;
    ostree_repo_transaction_set_ref(staging, NULL, sref, *out_commit);
    *out_changed = TRUE;
    return TRUE;
}

/* compose --dry-run (any backend): what would be read and staged. */
static gboolean compose_plan(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (def->compose_backend == DCN_COMPOSE_WELDR && !dcn_weldr_plan(ctx, error))
        return FALSE;
    if (def->compose_backend != DCN_COMPOSE_WELDR)
        dcn_plan(ctx, "would read %s with backend %s", def->compose_source ? def->compose_source : "(compose.source)",
                 dcn_compose_backend_name(def->compose_backend));
    dcn_plan(ctx, "would stage the tree as dcn-staging/%s/%s in %s", def->ref, def->version, def->staging);
    return TRUE;
}

gboolean dcn_stage_compose(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (ctx->dry_run)
        return compose_plan(ctx, error);
    if (!def->compose_source && def->compose_backend != DCN_COMPOSE_WELDR)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "no compose.source in %s (or --source)", def->path ? def->path : "the definition"),
               FALSE;
    g_autoptr(OstreeRepo) staging = NULL;
    if (!dcn_repo_open(def->staging, TRUE, &staging, error))
        return FALSE;
    g_autofree char *sref = dcn_repo_staging_ref(def);
    g_autofree char *prev_commit = NULL;
    g_autoptr(DcnVersion) prev = NULL;
    if (!ostree_repo_resolve_rev(staging, sref, TRUE, &prev_commit, error) ||
        (prev_commit && !dcn_repo_load_version(staging, prev_commit, &prev, error)))
        return FALSE;

    dcn_progress_event(&ctx->progress, "start", "backend=%s source=\"%s\" staging=%s version=%s",
                       dcn_compose_backend_name(def->compose_backend), def->compose_source ? def->compose_source : "",
                       def->staging, def->version);
    g_autofree char *commit = NULL;
    gboolean changed = FALSE;
    if (!ostree_repo_prepare_transaction(staging, NULL, NULL, error))
        return FALSE;
    if (!compose_in_txn(ctx, staging, sref, prev, &commit, &changed, error)) {
        ostree_repo_abort_transaction(staging, NULL, NULL);
        return FALSE;
    }
    if (!ostree_repo_commit_transaction(staging, NULL, NULL, error))
        return g_prefix_error(error, "Committing to staging repo %s: ", def->staging), FALSE;
    dcn_stage_step(ctx, "staged");

    dcn_progress_event(&ctx->progress, changed ? "staged" : "unchanged", "version=%s commit=%s ref=%s", def->version,
                       commit, sref);
    json_object_set_string_member(ctx->result, "version", def->version);
    json_object_set_string_member(ctx->result, "commit", commit);
    json_object_set_string_member(ctx->result, "staging", def->staging);
    json_object_set_string_member(ctx->result, "staging_ref", sref);
    json_object_set_boolean_member(ctx->result, "changed", changed);
    return TRUE;
}
