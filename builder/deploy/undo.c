/* undo: the undo stage. Rolls the Deployment back to an image it ran
 * before: the previous one (or --steps N back, or --to VERSION, or --image
 * REF@sha256:...). What ran before comes from the cluster (the Deployment's
 * ReplicaSets, whose pod templates carry the image and the dcn-builder/version
 * and dcn-builder/commit annotations deploy set), then from the rollouts
 * recorded in <state_dir>/deploy/history.json. The target goes through the
 * same render/apply/wait/verify path as deploy, so `kubectl apply` stays the
 * one source of the Deployment's configuration. Content-level problems are
 * for `rollback` instead: see docs/rollout.md. */
#include "error.h"
#include "json.h"
#include "kube_output.h"
#include "rollout.h"

#include <stdlib.h>
#include <string.h>

typedef DcnKubePastImage Candidate;
#define candidate_free dcn_kube_past_image_free

static gboolean has_image(GPtrArray *cands, const char *image)
{
    for (guint i = 0; i < cands->len; i++)
        if (g_str_equal(((Candidate *)cands->pdata[i])->image, image))
            return TRUE;
    return FALSE;
}

/* Earlier images, newest first, without the current one. */
static GPtrArray *candidates(DcnRollout *r, const DcnRendered *rd, const char *current, GError **error)
{
    g_autofree char *sel = g_strdup_printf("-l%s", rd->selector);
    const char *argv[] = {"get", "replicasets", sel, "-o", "json", NULL};
    g_autofree char *out = NULL;
    if (!dcn_kube_run(&r->kube, DCN_KUBE_READ, 60, &out, NULL, error, argv))
        return NULL;
    g_autoptr(GPtrArray) all = dcn_kube_parse_replicasets(out, strlen(out), rd->deployment, error);
    if (!all)
        return NULL;

    GPtrArray *cands = g_ptr_array_new_with_free_func(candidate_free);
    for (guint i = 0; i < all->len; i++) {
        Candidate *c = all->pdata[i];
        if ((current && g_str_equal(c->image, current)) || has_image(cands, c->image))
            continue;
        g_ptr_array_add(cands, g_steal_pointer(&all->pdata[i]));
    }
    /* ReplicaSets beyond revisionHistoryLimit are gone: the local record goes further back */
    g_autoptr(JsonArray) hist = dcn_rollout_history(r);
    for (guint i = json_array_get_length(hist); i-- > 0;) {
        JsonObject *h = dcn_json_arr_obj(hist, i);
        const char *image = dcn_json_str(h, "image");
        if (!image || !dcn_image_is_pinned(image) || (current && g_str_equal(image, current)) || has_image(cands, image))
            continue;
        Candidate *c = g_new0(Candidate, 1);
        c->image = g_strdup(image);
        c->version = g_strdup(dcn_json_str(h, "version"));
        c->commit = g_strdup(dcn_json_str(h, "commit"));
        g_ptr_array_add(cands, c);
    }
    return cands;
}

static char *describe(GPtrArray *cands)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < cands->len; i++) {
        Candidate *c = cands->pdata[i];
        g_string_append_printf(s, "%s%s", i ? ", " : "", c->version ? c->version : c->image);
    }
    return g_string_free(s, FALSE);
}

static gboolean check_flags(const DcnStageCtx *ctx, GError **error)
{
    if (ctx->image && !dcn_image_is_pinned(ctx->image))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                           "--image %s: give the image pinned by digest, REF@sha256:<64 hex>", ctx->image),
               FALSE;
    if ((ctx->image != NULL) + (ctx->rollback_to != NULL) + (ctx->rollback_steps != 0) > 1)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                           "give at most one of --image, --to, --steps"),
               FALSE;
    return TRUE;
}

/* Which Deployment (rendered once with a placeholder image to learn its
 * name) and what it runs now. */
static JsonObject *read_current(DcnRollout *r, DcnRendered **rd, GError **error)
{
    DcnRolloutTarget probe = {.image = (char *)"dcn-hoster@sha256:0000000000000000000000000000000000000000000000000000000000000000"};
    if (!(*rd = dcn_rollout_render(r, &probe, error)))
        return NULL;
    gboolean found = FALSE;
    JsonObject *current = dcn_rollout_get_deployment(r, *rd, &found, error);
    if (!current && !found && !(error && *error))
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                    "nothing to undo: deployment/%s does not exist%s%s", (*rd)->deployment,
                    r->kube.ns ? " in namespace " : "", r->kube.ns ? r->kube.ns : "");
    return current;
}

/* --to VERSION: the newest earlier image that served it; a rerun (already
 * there) targets the current image. */
static gboolean pick_version(const char *to, const DcnRendered *rd, JsonObject *current, GPtrArray *cands,
                             DcnRolloutTarget *t, Candidate **pick, GError **error)
{
    const char *cur_version = dcn_rollout_object_annotation(current, DCN_ANNOTATION_VERSION);
    if (g_strcmp0(cur_version, to) == 0) {
        t->image = g_strdup(dcn_rollout_object_image(current));
        t->version = g_strdup(cur_version);
        t->commit = g_strdup(dcn_rollout_object_annotation(current, DCN_ANNOTATION_COMMIT));
        return TRUE;
    }
    for (guint i = 0; i < cands->len && !*pick; i++)
        if (g_strcmp0(((Candidate *)cands->pdata[i])->version, to) == 0)
            *pick = cands->pdata[i];
    if (*pick)
        return TRUE;
    g_autofree char *known = describe(cands);
    g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                "no earlier rollout of deployment/%s served version %s (earlier: %s)", rd->deployment, to,
                *known ? known : "none");
    return FALSE;
}

/* The image to go back to: --image, --to or --steps (default 1). */
static gboolean pick_target(const DcnStageCtx *ctx, const DcnRendered *rd, JsonObject *current, GPtrArray *cands,
                            DcnRolloutTarget *t, GError **error)
{
    const char *cur_image = dcn_rollout_object_image(current);
    Candidate *pick = NULL;
    if (ctx->image) {
        t->image = g_strdup(ctx->image);
        for (guint i = 0; i < cands->len; i++)
            if (g_str_equal(((Candidate *)cands->pdata[i])->image, ctx->image))
                pick = cands->pdata[i];
    } else if (ctx->rollback_to) {
        if (!pick_version(ctx->rollback_to, rd, current, cands, t, &pick, error))
            return FALSE;
    } else {
        guint steps = ctx->rollback_steps ? ctx->rollback_steps : 1;
        if (steps > cands->len) {
            g_autofree char *known = describe(cands);
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                        "cannot go %u rollout(s) back from %s: deployment/%s ran %u other image(s) before (%s)", steps,
                        cur_image ? cur_image : "(no image)", rd->deployment, cands->len, *known ? known : "none");
            return FALSE;
        }
        pick = cands->pdata[steps - 1];
    }
    if (pick) {
        if (!t->image)
            t->image = g_strdup(pick->image);
        t->version = g_strdup(pick->version);
        t->commit = g_strdup(pick->commit);
    }
    return TRUE;
}

static gboolean undo(DcnRollout *r, GError **error)
{
    DcnStageCtx *ctx = r->ctx;
    g_auto(DcnRolloutTarget) t = {0};
    g_autoptr(DcnRendered) rd = NULL;
    if (!check_flags(ctx, error))
        return FALSE;
    g_autoptr(JsonObject) current = read_current(r, &rd, error);
    if (!current)
        return FALSE;
    const char *cur_image = dcn_rollout_object_image(current);
    g_autoptr(GPtrArray) cands = candidates(r, rd, cur_image, error);
    if (!cands || !pick_target(ctx, rd, current, cands, &t, error))
        return FALSE;
    dcn_progress_event(&ctx->progress, "target", "from=%s to=%s version=%s", cur_image ? cur_image : "-", t.image,
                       t.version ? t.version : "-");
    if (!dcn_rollout_run(r, &t, error))
        return FALSE;
    if (cur_image)
        json_object_set_string_member(ctx->result, "undone_image", cur_image);
    return TRUE;
}

gboolean dcn_stage_undo(DcnStageCtx *ctx, GError **error)
{
    DcnRollout r;
    gboolean ok = dcn_rollout_init(&r, ctx, error) && undo(&r, error);
    dcn_rollout_clear(&r);
    return ok;
}
