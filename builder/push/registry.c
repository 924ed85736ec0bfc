/* registry: OCI distribution client over libcurl. See registry.h. */
#include "registry.h"
#include "challenge.h"
#include "error.h"
#include "registry_reply.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

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
    int fd;
    guint64 file_off, file_len;
    guint64 sent; /* body bytes handed to curl in this attempt */
    gboolean retryable; /* retry this request on 5xx/connection errors */
    gboolean no_auth;   /* the token request itself: credentials go in its own header */
    char *extra_header;
    /* response */
    long status;
    GString *body;
    char *location, *www_auth, *digest_hdr, *range;
    char curl_error[CURL_ERROR_SIZE];
    CURLcode rc;
    DcnRegistry *r;
} Req;

static void req_clear_response(Req *q)
{
    q->status = 0;
    if (q->body)
        g_string_truncate(q->body, 0);
    else
        q->body = g_string_new(NULL);
    g_clear_pointer(&q->location, g_free);
    g_clear_pointer(&q->www_auth, g_free);
    g_clear_pointer(&q->digest_hdr, g_free);
    g_clear_pointer(&q->range, g_free);
    q->curl_error[0] = '\0';
    q->sent = 0;
}

static void req_free(Req *q)
{
    g_free(q->url);
    g_free(q->content_range);
    g_free(q->extra_header);
    if (q->body)
        g_string_free(q->body, TRUE);
    g_free(q->location);
    g_free(q->www_auth);
    g_free(q->digest_hdr);
    g_free(q->range);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Req, req_free)

static size_t on_body(char *ptr, size_t size, size_t n, void *data)
{
    Req *q = data;
    if (q->body->len < (1u << 20)) /* error bodies and tokens are small; never keep blobs */
        g_string_append_len(q->body, ptr, (gssize)(size * n));
    return size * n;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *data)
{
    Req *q = data;
    size_t len = size * n;
    g_autofree char *line = g_strndup(ptr, len);
    g_strchomp(line);
    if (g_str_has_prefix(line, "HTTP/")) { /* a new response (after 100 Continue): forget the last */
        g_clear_pointer(&q->location, g_free);
        g_clear_pointer(&q->www_auth, g_free);
        g_clear_pointer(&q->digest_hdr, g_free);
        g_clear_pointer(&q->range, g_free);
        return len;
    }
    char *colon = strchr(line, ':');
    if (!colon)
        return len;
    *colon = '\0';
    char *value = g_strstrip(colon + 1);
    char **slot = NULL;
    if (g_ascii_strcasecmp(line, "Location") == 0)
        slot = &q->location;
    else if (g_ascii_strcasecmp(line, "WWW-Authenticate") == 0)
        slot = &q->www_auth;
    else if (g_ascii_strcasecmp(line, "Docker-Content-Digest") == 0)
        slot = &q->digest_hdr;
    else if (g_ascii_strcasecmp(line, "Range") == 0)
        slot = &q->range;
    if (slot && !*slot) /* the first WWW-Authenticate wins */
        *slot = g_strdup(value);
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *data)
{
    Req *q = data;
    size_t want = size * n;
    if (q->data) {
        size_t left = q->data_len - (size_t)q->sent;
        size_t k = MIN(left, want);
        memcpy(buf, q->data + q->sent, k);
        q->sent += k;
        return k;
    }
    guint64 left = q->file_len - q->sent;
    size_t k = (size_t)MIN(left, (guint64)want);
    if (k == 0)
        return 0;
    ssize_t got = pread(q->fd, buf, k, (off_t)(q->file_off + q->sent));
    if (got <= 0)
        return CURL_READFUNC_ABORT;
    q->sent += (guint64)got;
    q->r->stats.bytes_uploaded += (guint64)got;
    dcn_progress_add(q->r->o.progress, 0, (guint64)got);
    return (size_t)got;
}

static gboolean transient_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return TRUE;
    default:
        return FALSE;
    }
}

static gboolean transient_status(long s) { return s == 429 || s >= 500; }

/* The registry's error text (registry_reply.h). */
static char *registry_error_text(const Req *q)
{
    return dcn_registry_error_text(q->body ? q->body->str : NULL, q->body ? q->body->len : 0);
}

static void set_http_error(GError **error, const Req *q, const char *doing)
{
    g_autofree char *text = registry_error_text(q);
    g_autofree char *path = g_strdup(q->url);
    char *qm = strchr(path, '?');
    if (qm)
        *qm = '\0';
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s %s: HTTP %ld (%s)", doing, q->method, path, q->status,
                text);
}

/* One attempt. */
static CURLcode perform_once(DcnRegistry *r, Req *q)
{
    CURL *c = r->curl;
    curl_easy_reset(c);
    req_clear_response(q);
    r->stats.requests++;
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    h = curl_slist_append(h, "User-Agent: dcn-builder/" DCN_VERSION);
    if (q->content_type) {
        g_autofree char *ct = g_strconcat("Content-Type: ", q->content_type, NULL);
        h = curl_slist_append(h, ct);
    }
    if (q->accept) {
        g_autofree char *a = g_strconcat("Accept: ", q->accept, NULL);
        h = curl_slist_append(h, a);
    }
    if (q->content_range) {
        g_autofree char *cr = g_strconcat("Content-Range: ", q->content_range, NULL);
        h = curl_slist_append(h, cr);
    }
    if (q->extra_header)
        h = curl_slist_append(h, q->extra_header);
    else if (!q->no_auth && r->auth_header)
        h = curl_slist_append(h, r->auth_header);
    curl_easy_setopt(c, CURLOPT_URL, q->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* proxies from the environment apply, never to loopback */
    curl_easy_setopt(c, CURLOPT_NOPROXY, r->no_proxy);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, q->curl_error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r->o.insecure ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r->o.insecure ? 0L : 2L);
    if (r->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");

    gboolean has_body = q->data != NULL || q->fd >= 0;
    guint64 body_len = q->data ? q->data_len : q->fd >= 0 ? q->file_len : 0;
    if (g_str_equal(q->method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (g_str_equal(q->method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (g_str_equal(q->method, "POST") && !has_body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    } else {
        /* PUT and PATCH, with or without a body */
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, q);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
        if (!g_str_equal(q->method, "PUT"))
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    }
    q->rc = curl_easy_perform(c);
    if (q->rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &q->status);
    curl_slist_free_all(h);
    return q->rc;
}

/* Performs q with retries (when q->retryable) and auth. FALSE only for
 * transport failures that outlasted the retries; HTTP errors are left in
 * q->status for the caller. */
static gboolean fetch_token(DcnRegistry *r, const DcnChallenge *ch, GError **error);

static gboolean perform(DcnRegistry *r, Req *q, GError **error)
{
    gboolean refreshed = FALSE;
    guint attempt = 0;
    for (;;) {
        perform_once(r, q);
        gboolean transient = q->rc != CURLE_OK ? transient_curl_error(q->rc) : transient_status(q->status);
        if (transient && q->retryable && attempt < r->o.retries) {
            double delay = MIN(0.25 * (double)(1u << MIN(attempt, 6u)), 8.0);
            r->stats.retries++;
            dcn_progress_event(r->o.progress, "retry", "method=%s status=%ld curl=\"%s\" attempt=%u delay_s=%.2f",
                               q->method, q->status, q->rc != CURLE_OK ? curl_easy_strerror(q->rc) : "",
                               attempt + 1, delay);
            g_usleep((gulong)(delay * G_USEC_PER_SEC));
            attempt++;
            continue;
        }
        if (q->rc != CURLE_OK) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s: %s", q->method, r->host,
                        q->curl_error[0] ? q->curl_error : curl_easy_strerror(q->rc));
            return FALSE;
        }
        if (q->status == 401 && !q->no_auth && !refreshed) {
            /* learn (or refresh) credentials from the challenge, then once more */
            DcnChallenge ch;
            if (!q->www_auth || dcn_challenge_parse(q->www_auth, strlen(q->www_auth), &ch) < 0 ||
                ch.scheme == DCN_AUTH_NONE) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "%s %s: HTTP 401 without a usable WWW-Authenticate challenge (%s)", q->method, r->host,
                            q->www_auth ? q->www_auth : "none");
                return FALSE;
            }
            refreshed = TRUE;
            if (ch.scheme == DCN_AUTH_BASIC) {
                if (!r->password) {
                    g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                                "%s requires credentials (Basic realm \"%s\"): set registry.username and the "
                                "password (DCN_BUILDER_REGISTRY_PASSWORD or registry.password_file)",
                                r->host, ch.realm);
                    return FALSE;
                }
                if (r->auth == DCN_AUTH_BASIC) {
                    g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                                "%s refused the credentials of user '%s' (HTTP 401, Basic realm \"%s\"): wrong "
                                "username or password",
                                r->host, r->username, ch.realm);
                    return FALSE;
                }
                g_autofree char *pair = g_strconcat(r->username, ":", r->password, NULL);
                g_autofree char *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
                g_free(r->auth_header);
                r->auth_header = g_strconcat("Authorization: Basic ", b64, NULL);
                r->auth = DCN_AUTH_BASIC;
            } else {
                if (!fetch_token(r, &ch, error))
                    return FALSE;
            }
            attempt = 0;
            continue;
        }
        if (q->status == 401 && !q->no_auth) {
            if (r->auth == DCN_AUTH_BASIC)
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "%s refused the credentials of user '%s' (HTTP 401 to %s): wrong username or password",
                            r->host, r->username, q->method);
            else
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                            "%s refused the token from %s (HTTP 401 to %s): no pull/push access to %s for user '%s'",
                            r->host, r->challenge.realm, q->method, r->repo, r->username ? r->username : "(anonymous)");
            return FALSE;
        }
        return TRUE;
    }
}

static gboolean fetch_token(DcnRegistry *r, const DcnChallenge *ch, GError **error)
{
    r->challenge = *ch;
    /* scopes: ours (pull,push), pull on the repositories we mount from, and
     * the one the challenge names (it may differ in spelling) */
    GString *url = g_string_new(ch->realm);
    char sep = strchr(ch->realm, '?') ? '&' : '?';
    if (ch->service[0]) {
        g_autofree char *s = g_uri_escape_string(ch->service, NULL, FALSE);
        g_string_append_printf(url, "%cservice=%s", sep, s);
        sep = '&';
    }
    g_autofree char *own = g_strdup_printf("repository:%s:pull,push", r->repo);
    g_autoptr(GPtrArray) scopes = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(scopes, g_strdup(own));
    for (char **m = r->mount_scopes; m && *m; m++)
        g_ptr_array_add(scopes, g_strdup_printf("repository:%s:pull", *m));
    if (ch->scope[0] && !g_str_equal(ch->scope, own))
        g_ptr_array_add(scopes, g_strdup(ch->scope));
    for (guint i = 0; i < scopes->len; i++) {
        g_autofree char *s = g_uri_escape_string(scopes->pdata[i], NULL, FALSE);
        g_string_append_printf(url, "%cscope=%s", sep, s);
        sep = '&';
    }
    if (r->username) {
        g_autofree char *a = g_uri_escape_string(r->username, NULL, FALSE);
        g_string_append_printf(url, "%caccount=%s", sep, a);
    }
    g_auto(Req) q = {.method = "GET", .url = g_string_free(url, FALSE), .fd = -1, .retryable = TRUE, .no_auth = TRUE,
                     .r = r};
    if (r->password) {
        g_autofree char *pair = g_strconcat(r->username ? r->username : "", ":", r->password, NULL);
        g_autofree char *b64 = g_base64_encode((const guchar *)pair, strlen(pair));
        q.extra_header = g_strconcat("Authorization: Basic ", b64, NULL);
    }
    if (!perform(r, &q, error))
        return g_prefix_error(error, "getting a token: "), FALSE;
    if (q.status == 401 || q.status == 403) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                    "token endpoint %s refused %s (HTTP %ld): %s", ch->realm,
                    r->password ? "the credentials" : "anonymous access", q.status,
                    r->password ? "wrong username or password/token" : "set registry.username and the password");
        return FALSE;
    }
    if (q.status != 200) {
        set_http_error(error, &q, "getting a token");
        return FALSE;
    }
    g_autofree char *token = dcn_registry_parse_token(q.body->str, q.body->len, error);
    if (!token)
        return g_prefix_error(error, "token endpoint %s: ", ch->realm), FALSE;
    g_free(r->auth_header);
    r->auth_header = g_strconcat("Authorization: Bearer ", token, NULL);
    r->auth = DCN_AUTH_BEARER;
    dcn_progress_event(r->o.progress, "token", "realm=%s service=%s scopes=%u", ch->realm,
                       ch->service[0] ? ch->service : "-", scopes->len);
    return TRUE;
}

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
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&init, 1);
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
    r->curl = curl_easy_init();
    if (!r->curl) {
        dcn_registry_free(r);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "libcurl: cannot create a handle");
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
    g_auto(Req) q = {.method = "GET", .url = g_strconcat(r->base, "/v2/", NULL), .fd = -1, .retryable = TRUE, .r = r};
    if (!perform(r, &q, error))
        return FALSE;
    if (q.status == 200)
        return TRUE;
    if (q.status == 404) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s does not speak the registry API (GET /v2/: 404)",
                    r->base);
        return FALSE;
    }
    set_http_error(error, &q, "checking the registry");
    return FALSE;
}

gboolean dcn_registry_blob_exists(DcnRegistry *r, const char *digest, gboolean *exists, GError **error)
{
    g_auto(Req) q = {.method = "HEAD", .url = api_url(r, "/blobs/%s", digest), .fd = -1, .retryable = TRUE, .r = r};
    if (!perform(r, &q, error))
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
    set_http_error(error, &q, "checking a blob");
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
    g_auto(Req) q = {.method = "POST", .url = g_steal_pointer(&url), .fd = -1, .retryable = TRUE, .r = r};
    if (!perform(r, &q, error))
        return FALSE;
    if (from && q.status == 201) {
        *location = NULL;
        return TRUE;
    }
    if (q.status != 202 || !q.location) {
        set_http_error(error, &q, from ? "mounting a blob" : "starting an upload");
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
            g_auto(Req) q = {.method = "PATCH", .url = g_strdup(loc), .content_type = "application/octet-stream",
                             .content_range = g_strdup_printf("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, off, off + n - 1),
                             .fd = fd, .file_off = off, .file_len = n, .r = r};
            if (!perform(r, &q, error))
                return FALSE;
            if (q.status != 202) {
                set_http_error(error, &q, "uploading a chunk");
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
    g_auto(Req) q = {.method = "PUT", .url = g_steal_pointer(&put_url), .content_type = "application/octet-stream",
                     .fd = off < size ? fd : -1, .file_off = 0, .file_len = off < size ? size : 0, .r = r};
    if (off >= size)
        q.data = "", q.data_len = 0; /* closing a chunked upload: empty body */
    if (!perform(r, &q, error))
        return FALSE;
    if (q.status != 201) {
        set_http_error(error, &q, "finishing an upload");
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
    g_auto(Req) q = {.method = "HEAD", .url = api_url(r, "/manifests/%s", tag), .accept = media_type, .fd = -1,
                     .retryable = TRUE, .r = r};
    if (!perform(r, &q, error))
        return FALSE;
    if (q.status == 404)
        return TRUE;
    if (q.status != 200) {
        set_http_error(error, &q, "checking the manifest");
        return FALSE;
    }
    *digest = g_strdup(q.digest_hdr);
    return TRUE;
}

gboolean dcn_registry_put_manifest(DcnRegistry *r, const char *tag, const char *media_type, const char *data,
                                   gsize len, char **digest, GError **error)
{
    g_auto(Req) q = {.method = "PUT", .url = api_url(r, "/manifests/%s", tag), .content_type = media_type,
                     .data = data, .data_len = len, .fd = -1, .retryable = TRUE, .r = r};
    if (!perform(r, &q, error))
        return FALSE;
    if (q.status != 201 && q.status != 200) {
        set_http_error(error, &q, "putting the manifest");
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
