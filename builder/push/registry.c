/* registry: OCI distribution client over libcurl. See registry.h; the
 * exchange itself (retries, auth) is in registry_request.c and
 * registry_auth.c. */
#include "registry.h"
#include "error.h"
#include "registry_request.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

static char *api_url(DcnRegistry *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static char *api_url(DcnRegistry *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *rest = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return g_strconcat(r->base, "/v2/", r->repo, rest, NULL);
}

/* A Location header made absolute (registries may send a path). */
static char *absolute_location(DcnRegistry *r, const char *loc)
{
    if (g_str_has_prefix(loc, "http://") || g_str_has_prefix(loc, "https://"))
        return g_strdup(loc);
    if (loc[0] == '/')
        return g_strconcat(r->base, loc, NULL);
    return g_strconcat(r->base, "/", loc, NULL);
}

static char *with_param(const char *url, const char *name, const char *value)
{
    g_autofree char *v = g_uri_escape_string(value, NULL, FALSE);
    return g_strdup_printf("%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', name, v);
}

DcnRegistry *dcn_registry_new(const DcnRegistryOptions *opts, GError **error)
{
    const char *host = g_str_has_prefix(opts->url, "https://") ? opts->url + 8
                       : g_str_has_prefix(opts->url, "http://") ? opts->url + 7
                                                                 : NULL;
    if (!host || !*host) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                    "registry URL '%s': expected https://HOST[:PORT] (or http:// written out)", opts->url);
        return NULL;
    }
    DcnRegistry *r = g_new0(DcnRegistry, 1);
    r->o = *opts;
    r->base = g_strdup(opts->url);
    while (g_str_has_suffix(r->base, "/"))
        r->base[strlen(r->base) - 1] = '\0';
    r->host = g_strdup(host);
    char *slash = strchr(r->host, '/');
    if (slash)
        *slash = '\0';
    r->repo = g_strdup(opts->repository);
    r->password = g_strdup(opts->password);
    r->username = g_strdup(opts->username ? opts->username : opts->password ? "dcn-builder" : NULL);
    r->ca_file = g_strdup(opts->ca_file);
    r->mount_scopes = g_strdupv((char **)opts->mount_scopes);
    const char *np = g_getenv("no_proxy") ? g_getenv("no_proxy") : g_getenv("NO_PROXY");
    r->no_proxy = g_strconcat(np && *np ? np : "", np && *np ? "," : "", "127.0.0.1,localhost,::1", NULL);
    r->o.url = r->base;
    r->o.repository = r->repo;
    r->o.username = r->username;
    r->o.password = NULL; /* only r->password keeps it */
    r->o.ca_file = r->ca_file;
    r->o.mount_scopes = NULL;
    if (r->o.chunk_size == 0)
        r->o.chunk_size = 32u << 20;
    r->curl = dcn_http_handle(error);
    if (!r->curl) {
        dcn_registry_free(r);
        return NULL;
    }
    return r;
}

void dcn_registry_free(DcnRegistry *r)
{
    if (!r)
        return;
    if (r->curl)
        curl_easy_cleanup(r->curl);
    if (r->password)
        memset(r->password, 0, strlen(r->password));
    if (r->auth_header)
        memset(r->auth_header, 0, strlen(r->auth_header));
    g_free(r->base);
    g_free(r->host);
    g_free(r->repo);
    g_free(r->username);
    g_free(r->password);
    g_free(r->ca_file);
    g_strfreev(r->mount_scopes);
    g_free(r->no_proxy);
    g_free(r->auth_header);
    g_free(r);
}

const DcnRegistryStats *dcn_registry_stats(const DcnRegistry *r) { return &r->stats; }
const char *dcn_registry_host(const DcnRegistry *r) { return r->host; }

gboolean dcn_registry_check(DcnRegistry *r, GError **error)
{
    g_auto(RegistryReq) q = {.method = "GET", .url = g_strconcat(r->base, "/v2/", NULL), .fd = -1, .retryable = TRUE, .r = r};
    if (!dcn_registry_perform(r, &q, error))
        return FALSE;
    if (q.status == 200)
        return TRUE;
    if (q.status == 404) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s does not speak the registry API (GET /v2/: 404)",
                    r->base);
        return FALSE;
    }
    dcn_registry_set_http_error(error, &q, "checking the registry");
    return FALSE;
}

gboolean dcn_registry_blob_exists(DcnRegistry *r, const char *digest, gboolean *exists, GError **error)
{
    g_auto(RegistryReq) q = {.method = "HEAD", .url = api_url(r, "/blobs/%s", digest), .fd = -1, .retryable = TRUE, .r = r};
    if (!dcn_registry_perform(r, &q, error))
        return FALSE;
    if (q.status == 200 || q.status == 307 || q.status == 302) {
        *exists = TRUE;
        r->stats.blobs_existing++;
        return TRUE;
    }
    if (q.status == 404) {
        *exists = FALSE;
        return TRUE;
    }
    dcn_registry_set_http_error(error, &q, "checking a blob");
    return FALSE;
}

/* Starts an upload session (or mounts); *location gets the session URL,
 * NULL when the mount succeeded. */
static gboolean start_upload(DcnRegistry *r, const char *digest, const char *from, char **location, GError **error)
{
    g_autofree char *url = api_url(r, "/blobs/uploads/");
    if (from) {
        g_autofree char *u1 = with_param(url, "mount", digest);
        g_free(url);
        url = with_param(u1, "from", from);
    }
    g_auto(RegistryReq) q = {.method = "POST", .url = g_steal_pointer(&url), .fd = -1, .retryable = TRUE, .r = r};
    if (!dcn_registry_perform(r, &q, error))
        return FALSE;
    if (from && q.status == 201) {
        *location = NULL;
        return TRUE;
    }
    if (q.status != 202 || !q.location) {
        dcn_registry_set_http_error(error, &q, from ? "mounting a blob" : "starting an upload");
        return FALSE;
    }
    *location = absolute_location(r, q.location);
    return TRUE;
}

/* One try at uploading through the session at location. */
static gboolean upload_once(DcnRegistry *r, const char *location, const char *digest, int fd, guint64 size,
                            GError **error)
{
    g_autofree char *loc = g_strdup(location);
    guint64 off = 0;
    if (size > r->o.chunk_size) {
        while (off < size) {
            guint64 n = MIN(r->o.chunk_size, size - off);
            g_auto(RegistryReq) q = {.method = "PATCH", .url = g_strdup(loc), .content_type = "application/octet-stream",
                             .content_range = g_strdup_printf("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, off, off + n - 1),
                             .fd = fd, .file_off = off, .file_len = n, .r = r};
            if (!dcn_registry_perform(r, &q, error))
                return FALSE;
            if (q.status != 202) {
                dcn_registry_set_http_error(error, &q, "uploading a chunk");
                return FALSE;
            }
            if (q.location) {
                g_free(loc);
                loc = absolute_location(r, q.location);
            }
            off += n;
            dcn_progress_event(r->o.progress, "chunk", "digest=%s range=%s", digest, q.content_range);
        }
    }
    g_autofree char *put_url = with_param(loc, "digest", digest);
    g_auto(RegistryReq) q = {.method = "PUT", .url = g_steal_pointer(&put_url), .content_type = "application/octet-stream",
                     .fd = off < size ? fd : -1, .file_off = 0, .file_len = off < size ? size : 0, .r = r};
    if (off >= size)
        q.data = "", q.data_len = 0; /* closing a chunked upload: empty body */
    if (!dcn_registry_perform(r, &q, error))
        return FALSE;
    if (q.status != 201) {
        dcn_registry_set_http_error(error, &q, "finishing an upload");
        return FALSE;
    }
    if (q.digest_hdr && !g_str_equal(q.digest_hdr, digest)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the registry stored blob %s as %s", digest, q.digest_hdr);
        return FALSE;
    }
    return TRUE;
}

gboolean dcn_registry_put_blob(DcnRegistry *r, const char *digest, const char *path, guint64 size,
                               const char *const *from_repos, const char **how, GError **error)
{
    g_autofree char *location = NULL;
    for (const char *const *f = from_repos; f && *f && !location; f++) {
        if (g_str_equal(*f, r->repo))
            continue;
        if (!start_upload(r, digest, *f, &location, error))
            return FALSE;
        if (!location) {
            r->stats.blobs_mounted++;
            *how = "mounted";
            return TRUE;
        }
        /* not mountable from there: the 202 opened a session; use it */
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "opening %s: %s", path, g_strerror(err));
        return FALSE;
    }
    gboolean ok = FALSE;
    for (guint attempt = 0;; attempt++) {
        g_autoptr(GError) local = NULL;
        if (!location && !start_upload(r, digest, NULL, &location, &local)) {
            g_propagate_error(error, g_steal_pointer(&local));
            break;
        }
        if (upload_once(r, location, digest, fd, size, &local)) {
            ok = TRUE;
            break;
        }
        g_clear_pointer(&location, g_free);
        if (attempt >= r->o.retries) {
            g_propagate_error(error, g_steal_pointer(&local));
            break;
        }
        double delay = MIN(0.25 * (double)(1u << MIN(attempt, 6u)), 8.0);
        r->stats.retries++;
        dcn_progress_event(r->o.progress, "retry-upload", "digest=%s attempt=%u delay_s=%.2f error=\"%s\"", digest,
                           attempt + 1, delay, local->message);
        g_usleep((gulong)(delay * G_USEC_PER_SEC));
    }
    close(fd);
    if (!ok)
        return g_prefix_error(error, "blob %s: ", digest), FALSE;
    r->stats.blobs_uploaded++;
    *how = "uploaded";
    return TRUE;
}

gboolean dcn_registry_manifest_digest(DcnRegistry *r, const char *tag, const char *media_type, char **digest,
                                      GError **error)
{
    *digest = NULL;
    g_auto(RegistryReq) q = {.method = "HEAD", .url = api_url(r, "/manifests/%s", tag), .accept = media_type, .fd = -1,
                     .retryable = TRUE, .r = r};
    if (!dcn_registry_perform(r, &q, error))
        return FALSE;
    if (q.status == 404)
        return TRUE;
    if (q.status != 200) {
        dcn_registry_set_http_error(error, &q, "checking the manifest");
        return FALSE;
    }
    *digest = g_strdup(q.digest_hdr);
    return TRUE;
}

gboolean dcn_registry_put_manifest(DcnRegistry *r, const char *tag, const char *media_type, const char *data,
                                   gsize len, char **digest, GError **error)
{
    g_auto(RegistryReq) q = {.method = "PUT", .url = api_url(r, "/manifests/%s", tag), .content_type = media_type,
                     .data = data, .data_len = len, .fd = -1, .retryable = TRUE, .r = r};
    if (!dcn_registry_perform(r, &q, error))
        return FALSE;
    if (q.status != 201 && q.status != 200) {
        dcn_registry_set_http_error(error, &q, "putting the manifest");
        return FALSE;
    }
    g_autofree char *own = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
    g_autofree char *own_digest = g_strconcat("sha256:", own, NULL);
    if (q.digest_hdr && !g_str_equal(q.digest_hdr, own_digest)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "the registry stored the manifest as %s, but its bytes have digest %s", q.digest_hdr, own_digest);
        return FALSE;
    }
    *digest = g_steal_pointer(&own_digest);
    return TRUE;
}
