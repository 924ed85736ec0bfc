/* rollout: what deploy and undo share. Render the manifests for one pinned
 * image, apply them, wait for the Deployment's rollout, verify through the
 * hoster's /-/status that the expected commit is served, and report. */
#ifndef DCN_BUILDER_ROLLOUT_H
#define DCN_BUILDER_ROLLOUT_H

#include "kube.h"
#include "render.h"
#include "stage.h"

/* The digest a dry run uses before push has recorded one (deploy.c). */
#define DCN_DEPLOY_PLACEHOLDER_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

typedef struct {
    char *image;   /* REPO@sha256:<64 hex> */
    char *version; /* the version it serves, or NULL when unknown */
    char *commit;  /* the commit it serves (checked in /-/status), or NULL: only "ready and serving the ref" */
} DcnRolloutTarget;

void dcn_rollout_target_clear(DcnRolloutTarget *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnRolloutTarget, dcn_rollout_target_clear)

typedef struct {
    DcnStageCtx *ctx;
    DcnKube kube;
    const char *platform; /* openshift | kubernetes */
    char *manifests;      /* kustomize directory used */
    char *out_dir;        /* <state_dir>/deploy: overlay, rendered.yaml, history.json */
    guint timeout;        /* seconds, for the rollout and again for verification */
} DcnRollout;

gboolean dcn_rollout_init(DcnRollout *r, DcnStageCtx *ctx, GError **error);
void dcn_rollout_clear(DcnRollout *r);

/* Renders for t (also used by undo to learn the Deployment's name). */
DcnRendered *dcn_rollout_render(DcnRollout *r, const DcnRolloutTarget *t, GError **error);

/* Reads the Deployment: NULL and *found = FALSE when the cluster has none. */
JsonObject *dcn_rollout_get_deployment(DcnRollout *r, const DcnRendered *rd, gboolean *found, GError **error);

/* The hoster container's image in a Deployment or ReplicaSet object, and
 * the template's annotation (NULL when absent). */
const char *dcn_rollout_object_image(JsonObject *o);
const char *dcn_rollout_object_annotation(JsonObject *o, const char *key);

/* Render, apply, wait, verify; fills ctx->result. */
gboolean dcn_rollout_run(DcnRollout *r, const DcnRolloutTarget *t, GError **error);

/* Earlier rollouts recorded in <state_dir>/deploy/history.json, oldest
 * first: objects {"image","version","commit","time"}. Empty when none. */
JsonArray *dcn_rollout_history(DcnRollout *r);

/* Replaces the registry host of repo ("host[:port]/path") with registry
 * (deploy.registry: the name the cluster pulls by); registry NULL: repo. */
char *dcn_deploy_repository_for_cluster(const char *repo, const char *registry);

#endif
