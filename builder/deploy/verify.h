/* verify: what a rolled-out hoster serves, read from its /-/status JSON
 * ({"ready":true,"draining":false,"refs":{"<ref>":"<commit>"},...}, see
 * docs/hoster.md) through the URL devices use, or through the API server's
 * proxy to the Service when there is no such URL. */
#ifndef DCN_BUILDER_VERIFY_H
#define DCN_BUILDER_VERIFY_H

#include <glib.h>

#include "kube.h"

typedef struct {
    gboolean ready;    /* "ready" */
    gboolean draining; /* "draining" */
    char *commit;      /* refs[ref], or NULL when the ref is not served */
} DcnServed;

void dcn_served_clear(DcnServed *s);

/* Parses a /-/status body (pure). */
gboolean dcn_verify_parse_status(const char *body, gsize len, const char *ref, DcnServed *out, GError **error);

/* GET <base_url>/-/status with libcurl (TLS verified; ca_file may be NULL
 * for the system CAs), at most timeout_s; the body on HTTP 200. */
gboolean dcn_verify_fetch_url(const char *base_url, const char *ca_file, guint timeout_s, char **body,
                              GError **error);

/* The same through `kubectl get --raw /api/v1/namespaces/NS/services/SVC:PORT/proxy/-/status`. */
gboolean dcn_verify_fetch_proxy(DcnKube *kube, const char *ns, const char *service, const char *port,
                                guint timeout_s, char **body, GError **error);

#endif
