/* registry_request: the insides of the registry client (registry.h), shared
 * by its three files and by nothing else:
 *   registry.c          the public calls: check, blobs (HEAD, mount, upload), manifests
 *   registry_request.c  one HTTP exchange on the client's curl handle, with
 *                       retries (5xx, 429, connection errors) and the 401 turn
 *   registry_auth.c     what a 401 teaches: Basic credentials, or a Bearer
 *                       token from the challenge's realm
 * A request is a RegistryReq the caller fills (method, url, body) and
 * dcn_registry_perform sends; the reply (status, small body, the headers
 * the client reads) lands in the same struct. */
#ifndef DCN_BUILDER_REGISTRY_REQUEST_H
#define DCN_BUILDER_REGISTRY_REQUEST_H

#include <curl/curl.h>
#include <glib.h>

#include "challenge.h"
#include "http.h"
#include "registry.h"

/* Error and token bodies are small; blobs are never kept in memory. */
#define DCN_REGISTRY_BODY_MAX (1u << 20)

struct DcnRegistry {
    DcnRegistryOptions o;
    char *base;     /* URL without a trailing slash */
    char *host;     /* host[:port] */
    char *repo;
    char *username, *password;
    char *ca_file;
    char **mount_scopes;
    char *no_proxy; /* the environment's no_proxy plus loopback */
    CURL *curl;     /* one handle: connections are reused */
    DcnAuthScheme auth;
    char *auth_header; /* "Authorization: ..." once known */
    DcnChallenge challenge; /* the last Bearer challenge (for refreshes) */
    DcnRegistryStats stats;
};

/* One HTTP exchange. */
typedef struct {
    const char *method;
    char *url;
    const char *content_type;
    const char *accept;
    char *content_range;
    /* body: from memory or from a file range */
    const char *data;
    gsize data_len;
    int fd;             /* -1: no file body */
    guint64 file_off, file_len;
    guint64 sent;       /* body bytes handed to curl in this attempt */
    gboolean retryable; /* retry this request on 5xx/connection errors */
    gboolean no_auth;   /* the token request itself: credentials go in its own header */
    char *extra_header;
    /* response */
    long status;
    DcnHttpBody body;   /* at most DCN_REGISTRY_BODY_MAX bytes */
    char *location, *www_auth, *digest_hdr, *range;
    char curl_error[CURL_ERROR_SIZE];
    CURLcode rc;
    DcnRegistry *r;
} RegistryReq;

void dcn_registry_req_clear(RegistryReq *q);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RegistryReq, dcn_registry_req_clear)

/* Performs q with retries (when q->retryable) and auth. FALSE only for
 * transport failures that outlasted the retries, and for credentials the
 * registry refuses; other HTTP errors are left in q->status for the caller. */
gboolean dcn_registry_perform(DcnRegistry *r, RegistryReq *q, GError **error);

/* "<doing>: METHOD URL-without-query: HTTP n (registry's error text)". */
void dcn_registry_set_http_error(GError **error, const RegistryReq *q, const char *doing);

/* After a 401 to q: learns the credentials its challenge asks for (Basic
 * header, or a token fetched from the realm). FALSE with an error when
 * there is no usable challenge, no credentials for Basic, or the token
 * endpoint refuses. */
gboolean dcn_registry_authenticate(DcnRegistry *r, const RegistryReq *q, GError **error);

/* The error for a 401 that came after authenticating: the credentials or
 * the token were refused. */
void dcn_registry_set_refused(GError **error, const DcnRegistry *r, const RegistryReq *q);

#endif
