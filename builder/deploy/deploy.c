/* deploy: the deploy stage. Rolls the image push pushed (read from
 * <state_dir>/push.json, or --image REF@sha256:...) out on the cluster:
 * render the manifests with the digest pinned, apply, wait for the
 * rollout, verify through /-/status that the expected commit is served.
 * See docs/rollout.md. */
#include "error.h"
#include "json.h"
#include "plan.h"
#include "rollout.h"
#include "state.h"

#include <gio/gio.h>
#include <string.h>

/* "host[:port]/path[:tag][@digest]" → "host[:port]/path". */
static char *strip_tag_and_digest(const char *ref)
{
    g_autofree char *r = g_strdup(ref);
    char *at = strchr(r, '@');
    if (at)
        *at = '\0';
    char *slash = strrchr(r, '/');
    char *colon = strrchr(slash ? slash : r, ':');
    if (colon)
        *colon = '\0';
    return g_steal_pointer(&r);
}

char *dcn_deploy_repository_for_cluster(const char *repo, const char *registry)
{
    if (!registry)
        return g_strdup(repo);
    const char *slash = strchr(repo, '/');
    g_autofree char *first = slash ? g_strndup(repo, (gsize)(slash - repo)) : NULL;
    gboolean has_host = first && (strchr(first, '.') || strchr(first, ':') || g_str_equal(first, "localhost"));
    return g_strdup_printf("%s/%s", registry, has_host ? slash + 1 : repo);
}

/* What push left (builder/push/push.c): "reference" host/ns/name@digest,
 * "registry" (URL), "repository" (ns/name), "digest", "version"; the commit
 * the image serves is package's (package.json "commit", same
 * "manifest_digest"). */
static gboolean target_from_push(DcnStageCtx *ctx, DcnRolloutTarget *t, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(JsonObject) push = dcn_state_read_result(def, "push", error);
    if (!push) {
        g_prefix_error(error, "no image to deploy (give --image REF@sha256:... or run push first): ");
        return FALSE;
    }
    const char *digest = dcn_json_str(push, "digest");
    const char *reference = dcn_json_str(push, "reference");
    const char *repository = dcn_json_str(push, "repository");
    const char *registry = dcn_json_str(push, "registry");
    g_autofree char *bare = NULL;
    if (reference) {
        bare = strip_tag_and_digest(reference);
    } else if (repository && registry) {
        const char *host = strstr(registry, "://") ? strstr(registry, "://") + 3 : registry;
        g_autofree char *h = g_strndup(host, strcspn(host, "/"));
        bare = g_strdup_printf("%s/%s", h, repository);
    }
    if (!bare || !digest || !g_str_has_prefix(digest, "sha256:")) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                    "%s/push.json has no \"reference\" (or \"registry\" and \"repository\") and \"digest\" members",
                    def->state_dir);
        return FALSE;
    }
    g_autofree char *cluster_repo = dcn_deploy_repository_for_cluster(bare, def->deploy_registry);
    t->image = g_strdup_printf("%s@%s", cluster_repo, digest);
    t->version = g_strdup(dcn_json_str(push, "version"));
    const char *commit = dcn_json_str(push, "commit");
    g_autoptr(JsonObject) pkg = commit ? NULL : dcn_state_read_result(def, "package", NULL);
    if (pkg) {
        const char *pkg_digest = dcn_json_str(pkg, "manifest_digest");
        if (pkg_digest ? g_str_equal(pkg_digest, digest) : g_strcmp0(dcn_json_str(pkg, "version"), t->version) == 0)
            commit = dcn_json_str(pkg, "commit");
    }
    t->commit = g_strdup(commit);
    return TRUE;
}

/* A dry run before push has a result (`run --dry-run` on a fresh state
 * directory): the image push would push, with a digest of zeros standing
 * for the one it will get. Said in the plan and in the result. */
static void placeholder_target(DcnStageCtx *ctx, DcnRolloutTarget *t, const GError *why)
{
    const DcnDefinition *def = ctx->def;
    const char *url = def->registry_url;
    const char *host = url && strstr(url, "://") ? strstr(url, "://") + 3 : "registry.invalid";
    g_autofree char *h = g_strndup(host, strcspn(host, "/"));
    g_autofree char *repository = g_strdup(def->registry_repository);
    g_autofree char *bare = g_strdup_printf("%s/%s", h, repository);
    g_autofree char *cluster_repo = dcn_deploy_repository_for_cluster(bare, def->deploy_registry);
    t->image = g_strdup_printf("%s@" DCN_DEPLOY_PLACEHOLDER_DIGEST, cluster_repo);
    t->version = g_strdup(def->version);
    g_autofree char *reason = g_error_matches(why, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
                                  ? g_strdup_printf("push has not run yet (no %s/push.json)", def->state_dir)
                                  : g_strdup(why->message);
    dcn_plan(ctx,
             "%s: the image below is a PLACEHOLDER, %s (the digest of zeros stands for the one push will record; "
             "the served commit is not known yet, so verification would only expect the ref)",
             reason, t->image);
    json_object_set_boolean_member(ctx->result, "placeholder_image", TRUE);
}

gboolean dcn_stage_deploy(DcnStageCtx *ctx, GError **error)
{
    DcnRollout r;
    g_auto(DcnRolloutTarget) t = {0};
    gboolean ok = FALSE;
    if (!dcn_rollout_init(&r, ctx, error))
        goto out;
    if (ctx->image) {
        if (!dcn_image_is_pinned(ctx->image)) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                        "--image %s: give the image pinned by digest, REF@sha256:<64 hex>", ctx->image);
            goto out;
        }
        t.image = g_strdup(ctx->image);
        /* the same digest push reported: we know what it serves */
        g_auto(DcnRolloutTarget) pushed = {0};
        if (target_from_push(ctx, &pushed, NULL) &&
            g_str_equal(strrchr(pushed.image, '@'), strrchr(t.image, '@'))) {
            t.version = g_steal_pointer(&pushed.version);
            t.commit = g_steal_pointer(&pushed.commit);
        }
    } else if (ctx->dry_run) {
        g_autoptr(GError) none = NULL;
        if (!target_from_push(ctx, &t, &none))
            placeholder_target(ctx, &t, none);
    } else if (!target_from_push(ctx, &t, error)) {
        goto out;
    }
    ok = dcn_rollout_run(&r, &t, error);
out:
    dcn_rollout_clear(&r);
    return ok;
}
