/* registry: a client for the OCI distribution API (distribution-spec v1.0,
 * the "Docker Registry HTTP API V2") over libcurl, for one repository:
 *   HEAD  /v2/<repo>/blobs/<digest>                     blob present?
 *   POST  /v2/<repo>/blobs/uploads/?mount=<d>&from=<r>  cross-repository mount (201), or a session (202)
 *   POST  /v2/<repo>/blobs/uploads/                     upload session (202, Location)
 *   PUT   <location>?digest=<d>  (body)                  monolithic upload (201)
 *   PATCH <location> Content-Range: a-b (chunk)          chunked upload (202, new Location)
 *   PUT   <location>?digest=<d>  (empty)                 close the chunked upload (201)
 *   PUT   /v2/<repo>/manifests/<tag>                     manifest by tag (201, Docker-Content-Digest)
 * Auth follows the 401 challenge (challenge.h): Basic with the credentials,
 * or Bearer with a token fetched from the realm (Basic credentials sent
 * there when given: an OpenShift token is the password); tokens are
 * refreshed once when refused. TLS is verified unless insecure is set.
 * 5xx, 429 and connection errors are retried with exponential backoff;
 * an upload that fails midway starts over with a new session. */
#ifndef DCN_BUILDER_REGISTRY_H
#define DCN_BUILDER_REGISTRY_H

#include <glib.h>

#include "progress.h"

typedef struct {
    const char *url;        /* http(s)://host[:port] */
    const char *repository; /* ns/name */
    const char *username;   /* NULL: anonymous (unless password is set) */
    const char *password;   /* password or token; NULL: none */
    const char *ca_file;    /* CA bundle; NULL: the system's */
    gboolean insecure;      /* skip TLS verification */
    guint retries;          /* retries per request (and per blob upload) */
    guint64 chunk_size;     /* blobs larger than this go up in PATCH chunks of this size */
    const char *const *mount_scopes; /* other repositories we may mount from (for the token scope); NULL-terminated or NULL */
    DcnProgress *progress;  /* events and upload progress */
} DcnRegistryOptions;

/* What a push did, for the result and the tests. */
typedef struct {
    guint requests;          /* HTTP requests sent (retries included) */
    guint retries;           /* requests sent again after 5xx/connection errors */
    guint64 bytes_uploaded;  /* blob bytes sent in PUT/PATCH bodies (retries included) */
    guint blobs_uploaded, blobs_existing, blobs_mounted;
} DcnRegistryStats;

typedef struct DcnRegistry DcnRegistry;

DcnRegistry *dcn_registry_new(const DcnRegistryOptions *opts, GError **error);
void dcn_registry_free(DcnRegistry *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnRegistry, dcn_registry_free)

const DcnRegistryStats *dcn_registry_stats(const DcnRegistry *r);

/* GET /v2/: reachable, speaks the API, and our credentials work. */
gboolean dcn_registry_check(DcnRegistry *r, GError **error);

/* HEAD the blob; *exists says whether the registry has it in this repository. */
gboolean dcn_registry_blob_exists(DcnRegistry *r, const char *digest, gboolean *exists, GError **error);

/* Ensures the registry has the blob (digest, size bytes in file path): a
 * cross-repository mount from one of from_repos when possible, else an
 * upload. *how gets "mounted" or "uploaded". */
gboolean dcn_registry_put_blob(DcnRegistry *r, const char *digest, const char *path, guint64 size,
                               const char *const *from_repos, const char **how, GError **error);

/* The digest the registry has for tag (NULL in *digest when it has none). */
gboolean dcn_registry_manifest_digest(DcnRegistry *r, const char *tag, const char *media_type, char **digest,
                                      GError **error);

/* PUT the manifest by tag; *digest gets the registry's Docker-Content-Digest
 * (checked against the bytes' own digest). */
gboolean dcn_registry_put_manifest(DcnRegistry *r, const char *tag, const char *media_type, const char *data,
                                   gsize len, char **digest, GError **error);

/* host[:port] of the registry URL (for image references). */
const char *dcn_registry_host(const DcnRegistry *r);

#endif
