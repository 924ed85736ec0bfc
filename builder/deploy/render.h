/* render: the manifests of one rollout. A generated kustomize overlay
 * (<state_dir>/deploy/kustomization.yaml) takes the operator's manifests
 * (deploy.manifests: a kustomize directory such as manifests/hoster/openshift
 * or their own overlay of it) and pins the image by digest, sets the
 * namespace and annotates the pod template with version and commit;
 * `kubectl kustomize` renders it (<state_dir>/deploy/rendered.yaml), and
 * the result is parsed and checked here before anything is applied. */
#ifndef DCN_BUILDER_RENDER_H
#define DCN_BUILDER_RENDER_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "kube.h"

/* The container whose image deploy pins (as in manifests/hoster/base). */
#define DCN_DEPLOY_CONTAINER "hoster"
/* Pod template annotations recording what a revision serves. */
#define DCN_ANNOTATION_VERSION "dcn-builder/version"
#define DCN_ANNOTATION_COMMIT "dcn-builder/commit"

typedef struct {
    const char *manifests;   /* kustomize directory (absolute) */
    const char *out_dir;     /* where the overlay and rendered.yaml go (absolute) */
    const char *ns;          /* namespace for every object, or NULL: as the manifests say */
    const char *image;       /* pinned reference: REPO@sha256:<64 hex> */
    const char *version;     /* what the image serves (annotation), or NULL */
    const char *commit;      /* ostree commit the image serves (annotation), or NULL */
    const char *ref;         /* DCN_HOSTER_REF for kickstarts */
    const char *public_url;  /* DCN_HOSTER_PUBLIC_URL, or NULL */
} DcnRenderInput;

typedef struct {
    char *yaml;            /* the rendered manifests (multi-document YAML) */
    char *path;            /* rendered.yaml */
    JsonArray *objects;    /* the rendered objects, as JSON */
    char *deployment;      /* Deployment name */
    char *ns;              /* the namespace the objects carry, or NULL */
    char *selector;        /* the Deployment's matchLabels as "k=v,k2=v2" */
    char *service;         /* Service selecting the pods, or NULL */
    char *service_port;    /* its first port's name (or number) */
    gboolean ops_port;     /* the Service has a port named "ops": dcn-hoster's /-/ endpoints are there
                            * (manifests/hoster/ops-port), not on the Route */
    char *route_kind;      /* "route" or "ingress" when one has a host, else NULL */
    char *route_name;      /* its name (the Route without a host: the cluster assigns one) */
    char *url;             /* http(s)://host from the Route/Ingress host, or NULL */
} DcnRendered;

void dcn_rendered_free(DcnRendered *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnRendered, dcn_rendered_free)

/* Writes the overlay, renders it with `<kubectl> kustomize`, parses and
 * checks it: one Deployment with container "hoster" whose image is exactly
 * in->image. */
DcnRendered *dcn_render(DcnKube *kube, const DcnRenderInput *in, GError **error);

/* Parses a multi-document YAML text into JSON objects (pure: no I/O).
 * Plain scalars that look like integers, booleans or null become those;
 * everything else is a string. */
JsonArray *dcn_yaml_to_json(const char *text, gsize len, const char *name, GError **error);

/* Checks and analyses rendered objects (pure): fills r's names and url. */
gboolean dcn_render_analyse(JsonArray *objects, const char *image, DcnRendered *r, GError **error);

/* "REPO@sha256:<64 hex>": TRUE when ref is pinned by a well-formed digest. */
gboolean dcn_image_is_pinned(const char *ref);

/* Relative path from directory from to path to (both absolute, normalised). */
char *dcn_relative_path(const char *from, const char *to);

#endif
