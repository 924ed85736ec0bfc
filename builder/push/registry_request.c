/* registry_request: one exchange with the registry, retried and
 * authenticated; see registry_request.h. */
#include "registry_request.h"
#include "registry_reply.h"

#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

static void req_clear_response(RegistryReq *q)
{
    q->status = 0;
    g_clear_pointer(&q->location, g_free);
    g_clear_pointer(&q->www_auth, g_free);
    g_clear_pointer(&q->digest_hdr, g_free);
    g_clear_pointer(&q->range, g_free);
    q->curl_error[0] = '\0';
    q->sent = 0;
}

void dcn_registry_req_clear(RegistryReq *q)
{
    g_free(q->url);
    g_free(q->content_range);
    g_free(q->extra_header);
    dcn_http_body_clear(&q->body);
    g_free(q->location);
    g_free(q->www_auth);
    g_free(q->digest_hdr);
    g_free(q->range);
}

static size_t on_header(char *ptr, size_t size, size_t n, void *data)
{
    RegistryReq *q = data;
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
    RegistryReq *q = data;
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
static char *registry_error_text(const RegistryReq *q)
{
    const GString *b = q->body.data;
    return dcn_registry_error_text(b ? b->str : NULL, b ? b->len : 0);
}

void dcn_registry_set_http_error(GError **error, const RegistryReq *q, const char *doing)
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
static CURLcode perform_once(DcnRegistry *r, RegistryReq *q)
{
    CURL *c = r->curl;
    req_clear_response(q);
    r->stats.requests++;
    const DcnHttpOptions opts = {
        .user_agent = "dcn-builder/" DCN_VERSION,
        .ca_file = r->ca_file,
        .insecure = r->o.insecure,
        .no_proxy = r->no_proxy, /* proxies from the environment apply, never to loopback */
        .http_only = TRUE,
        .connect_timeout_s = 30,
        .low_speed_time_s = 120,
    };
    dcn_http_setup(c, &opts, q->curl_error);
    dcn_http_body_sink(c, &q->body, DCN_REGISTRY_BODY_MAX);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
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
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);

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

gboolean dcn_registry_perform(DcnRegistry *r, RegistryReq *q, GError **error)
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
            g_autofree char *why = dcn_http_error_text(q->rc, q->curl_error, &q->body);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s %s: %s", q->method, r->host, why);
            return FALSE;
        }
        if (q->status == 401 && !q->no_auth && !refreshed) {
            /* learn (or refresh) credentials from the challenge, then once more */
            if (!dcn_registry_authenticate(r, q, error))
                return FALSE;
            refreshed = TRUE;
            attempt = 0;
            continue;
        }
        if (q->status == 401 && !q->no_auth)
            return dcn_registry_set_refused(error, r, q), FALSE;
        return TRUE;
    }
}
