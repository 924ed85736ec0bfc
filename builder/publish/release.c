/* release: see release.h. */
#include "release.h"
#include "fdio.h"
#include "delta.h"
#include "error.h"
#include "kickstart.h"
#include "lock.h"
#include "prune.h"
#include "repo.h"
#include "summary.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean dcn_release_check_signing(const DcnDefinition *def, GError **error)
{
    if (!def->ed25519_key)
        return TRUE;
    g_autoptr(GError) local = NULL;
    g_autoptr(OstreeSign) sign = ostree_sign_get_by_name("ed25519", &local);
    if (!sign)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_UNSUPPORTED,
                           "sign.ed25519_key is set, but this libostree (%s) has no ed25519 signing (%s); "
                           "use sign.gpg_key_id instead",
                           OSTREE_VERSION_S, local->message),
               FALSE;
    return TRUE;
}

int dcn_release_open_locked(DcnStageCtx *ctx, gboolean create, OstreeRepo **repo, GError **error)
{
    const char *repo_path = ctx->def->repo;
    if (!dcn_repo_open(repo_path, create, repo, error))
        return -1;
    /* another publish, rollback or prune runs: as long as it takes */
    g_autofree char *path = g_build_filename(repo_path, ".dcn-release.lock", NULL);
    return dcn_lock_wait(path, &ctx->progress, error);
}

/* ---- sign-commit ---- */

gboolean dcn_read_ed25519_key(const char *path, GVariant **out, GError **error)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return g_prefix_error(error, "sign.ed25519_key: "), FALSE;
    g_strstrip(text);
    *out = g_variant_ref_sink(g_variant_new_string(text));
    return TRUE;
}

/* Whether commit already carries a good signature by sign.gpg_key_id.
 * (libostree 2022.7's own "already signed" check verifies against the
 * repo's keyrings, not the signing homedir, so on its own every rerun would
 * append another signature.) */
static gboolean gpg_signed_by(const DcnDefinition *def, OstreeRepo *repo, const char *commit, gboolean *out,
                              GError **error)
{
    *out = FALSE;
    g_autoptr(GVariant) detached = NULL;
    if (!ostree_repo_read_commit_detached_metadata(repo, commit, &detached, NULL, error))
        return FALSE;
    g_autoptr(GVariant) sigs = detached ? g_variant_lookup_value(detached, "ostree.gpgsigs", NULL) : NULL;
    if (!sigs)
        return TRUE;
    g_autoptr(GBytes) key = NULL;
    if (!dcn_gpg_export_public_key(def, &key, error))
        return FALSE;
    g_autofree char *tmp = NULL;
    int fd = g_file_open_tmp("dcn-builder-key-XXXXXX.gpg", &tmp, error);
    if (fd < 0)
        return FALSE;
    gsize len;
    const char *data = g_bytes_get_data(key, &len);
    gboolean written = dcn_write_all(fd, data, len);
    close(fd);
    if (written) {
        g_autoptr(GFile) keyring = g_file_new_for_path(tmp);
        g_autoptr(OstreeGpgVerifyResult) result = ostree_repo_verify_commit_ext(repo, commit, NULL, keyring, NULL, NULL);
        guint idx;
        *out = result && ostree_gpg_verify_result_lookup(result, def->gpg_key_id, &idx);
    }
    (void)unlink(tmp);
    return TRUE;
}

static gboolean sign_commit(DcnStageCtx *ctx, OstreeRepo *repo, const char *commit, gboolean *changed,
                            GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (def->gpg_key_id) {
        gboolean signed_already = FALSE;
        if (!gpg_signed_by(def, repo, commit, &signed_already, error))
            return FALSE;
        g_autoptr(GError) local = NULL;
        if (signed_already) {
            /* nothing to do */
        } else if (ostree_repo_sign_commit(repo, commit, def->gpg_key_id, def->gpg_homedir, NULL, &local)) {
            *changed = TRUE;
            dcn_progress_event(&ctx->progress, "signed", "object=commit key=%s", def->gpg_key_id);
        } else if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_EXISTS)) {
            g_propagate_prefixed_error(error, g_steal_pointer(&local), "GPG-signing commit %s with key %s: ", commit,
                                       def->gpg_key_id);
            return FALSE;
        }
    }
    if (def->ed25519_key) {
        g_autoptr(OstreeSign) sign = ostree_sign_get_by_name("ed25519", error);
        g_autoptr(GVariant) sk = NULL;
        if (!sign || !dcn_read_ed25519_key(def->ed25519_key, &sk, error) || !ostree_sign_set_sk(sign, sk, error))
            return g_prefix_error(error, "ed25519 key %s: ", def->ed25519_key), FALSE;
        /* ostree_sign_commit appends: sign only when this key has not signed yet */
        g_autoptr(GVariant) detached = NULL;
        g_autoptr(GVariant) existing = NULL;
        if (!ostree_repo_read_commit_detached_metadata(repo, commit, &detached, NULL, error))
            return FALSE;
        if (detached)
            existing = g_variant_lookup_value(detached, ostree_sign_metadata_key(sign), NULL);
        if (!existing) {
            if (!ostree_sign_commit(sign, repo, commit, NULL, error))
                return g_prefix_error(error, "ed25519-signing commit %s: ", commit), FALSE;
            *changed = TRUE;
            dcn_progress_event(&ctx->progress, "signed", "object=commit key=ed25519");
        }
    }
    return TRUE;
}

/* ---- deltas ---- */

static gboolean generate_deltas(DcnStageCtx *ctx, OstreeRepo *repo, const char *commit, gboolean *changed,
                                GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GPtrArray) history = NULL;
    if (!ostree_repo_list_static_delta_names(repo, &names, NULL, error) ||
        !dcn_repo_history(repo, commit, def->deltas_from + 1, &history, error))
        return FALSE;
    JsonArray *list = json_array_new();
    json_object_set_array_member(ctx->result, "deltas", list);

    g_autoptr(GPtrArray) froms = g_ptr_array_new(); /* borrowed; NULL = scratch */
    for (guint i = 1; i < history->len; i++)
        g_ptr_array_add(froms, ((DcnVersion *)history->pdata[i])->commit);
    if (def->scratch_delta)
        g_ptr_array_add(froms, NULL);

    for (guint i = 0; i < froms->len; i++) {
        const char *from = froms->pdata[i];
        g_autofree char *name = from ? g_strdup_printf("%s-%s", from, commit) : g_strdup(commit);
        json_array_add_string_element(list, name);
        gboolean have = FALSE;
        for (guint j = 0; j < names->len && !have; j++)
            have = g_str_equal(names->pdata[j], name);
        if (have)
            continue;
        const char *from_version = from ? ((DcnVersion *)history->pdata[i + 1])->version : NULL;
        g_autoptr(GVariantBuilder) params = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(params, "{sv}", "min-fallback-size", g_variant_new_uint32(def->delta_min_fallback_mb));
        g_autoptr(GVariant) pv = g_variant_ref_sink(g_variant_builder_end(params));
        gint64 t0 = g_get_monotonic_time();
        DcnDeltaStats stats;
        if (!dcn_delta_generate(repo, from, commit, pv, from_version ? from_version : from ? from : "scratch",
                                &ctx->progress, &stats, error))
            return g_prefix_error(error, "Writing delta %s: ", name), FALSE;
        *changed = TRUE;
        dcn_progress_event(&ctx->progress, "delta",
                           "from=%s from_version=%s to=%s seconds=%.2f parts=%u objects=%" G_GUINT64_FORMAT
                           " size=%" G_GUINT64_FORMAT " uncompressed=%" G_GUINT64_FORMAT,
                           from ? from : "scratch", from_version ? from_version : "-", commit,
                           (double)(g_get_monotonic_time() - t0) / 1e6, stats.parts, stats.objects, stats.compressed,
                           stats.uncompressed);
    }
    return TRUE;
}

/* ---- ref ---- */

static gboolean switch_ref(DcnStageCtx *ctx, OstreeRepo *repo, const char *commit, gboolean *changed,
                           GError **error)
{
    g_autofree char *current = NULL;
    if (!ostree_repo_resolve_rev(repo, ctx->def->ref, TRUE, &current, error))
        return FALSE;
    if (current && g_str_equal(current, commit))
        return TRUE;
    if (!ostree_repo_set_ref_immediate(repo, NULL, ctx->def->ref, commit, NULL, error))
        return g_prefix_error(error, "Setting ref %s: ", ctx->def->ref), FALSE;
    *changed = TRUE;
    dcn_progress_event(&ctx->progress, "ref", "ref=%s from=%s to=%s", ctx->def->ref, current ? current : "-", commit);
    return TRUE;
}

gboolean dcn_release_apply(DcnStageCtx *ctx, OstreeRepo *repo, const char *commit, gboolean *changed,
                           GError **error)
{
    if (!sign_commit(ctx, repo, commit, changed, error))
        return FALSE;
    dcn_stage_step(ctx, "sign-commit");
    if (!generate_deltas(ctx, repo, commit, changed, error))
        return FALSE;
    dcn_stage_step(ctx, "deltas");
    if (!switch_ref(ctx, repo, commit, changed, error))
        return FALSE;
    dcn_stage_step(ctx, "ref");
    if (!dcn_summary_update(ctx, repo, commit, changed, error))
        return FALSE;
    if (!dcn_prune(ctx, repo, commit, changed, error))
        return FALSE;
    dcn_stage_step(ctx, "prune");
    if (!dcn_kickstart_write(ctx->def, &ctx->progress, changed, error))
        return FALSE;
    dcn_stage_step(ctx, "kickstart");
    return TRUE;
}
