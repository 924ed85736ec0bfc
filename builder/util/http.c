/* http.c: the shared libcurl setup; see http.h. */
#include "http.h"

#include <gio/gio.h>

CURL *dcn_http_handle(GError **error)
{
    static gsize ready;
    if (g_once_init_enter(&ready)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&ready, 1);
    }
    CURL *c = curl_easy_init();
    if (!c)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "libcurl: cannot create a handle");
    return c;
}

void dcn_http_setup(CURL *c, const DcnHttpOptions *o, char *errbuf)
{
    curl_easy_reset(c);
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (o->user_agent)
        curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
    if (o->timeout_s)
        curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_s);
    if (o->connect_timeout_s)
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
    if (o->low_speed_time_s) {
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
    }
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    if (o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (o->unix_socket)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket);
    if (o->no_proxy)
        curl_easy_setopt(c, CURLOPT_NOPROXY, o->no_proxy);
    if (o->http_only)
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (o->fresh_connection)
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
}

static size_t on_body(char *ptr, size_t size, size_t n, void *data)
{
    DcnHttpBody *b = data;
    size_t len = size * n;
    if (len > b->cap - b->data->len) {
        b->overflow = TRUE;
        return 0; /* curl stops the transfer: CURLE_WRITE_ERROR */
    }
    g_string_append_len(b->data, ptr, (gssize)len);
    return len;
}

void dcn_http_body_sink(CURL *c, DcnHttpBody *body, gsize cap)
{
    if (body->data)
        g_string_truncate(body->data, 0);
    else
        body->data = g_string_new(NULL);
    body->cap = cap;
    body->overflow = FALSE;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
}

void dcn_http_body_clear(DcnHttpBody *body)
{
    if (body->data)
        g_string_free(body->data, TRUE);
    *body = (DcnHttpBody){0};
}

char *dcn_http_error_text(CURLcode rc, const char *errbuf, const DcnHttpBody *body)
{
    if (body && body->overflow)
        return g_strdup_printf("the reply is larger than %" G_GSIZE_FORMAT " bytes (the most this request reads)",
                               body->cap);
    return g_strdup(errbuf && *errbuf ? errbuf : curl_easy_strerror(rc));
}
