/* http: the builder's one libcurl setup, for every client that talks HTTP
 * (push's registry client, compose's Weldr client, deploy's /-/status
 * check).
 *
 * dcn_http_handle() makes a handle (curl_global_init once per process);
 * dcn_http_setup() resets it and sets what every request of a client
 * shares: no signals, timeouts, TLS (verified unless insecure, with an
 * optional CA bundle), a User-Agent, a unix socket or proxy exceptions,
 * and an error buffer. The caller then adds what is its own (method, URL,
 * headers, an upload) and runs curl_easy_perform.
 *
 * A reply body kept in memory goes into a DcnHttpBody: once it would pass
 * its cap the transfer stops (CURLE_WRITE_ERROR) and dcn_http_error_text
 * says so, so a runaway or hostile server never grows the builder's
 * memory without bound. */
#ifndef DCN_BUILDER_HTTP_H
#define DCN_BUILDER_HTTP_H

#include <curl/curl.h>
#include <glib.h>

typedef struct {
    const char *user_agent;    /* User-Agent; NULL: none */
    const char *ca_file;       /* CA bundle; NULL: the system's */
    gboolean insecure;         /* skip TLS verification (peer and host name) */
    const char *unix_socket;   /* HTTP over this unix socket; NULL: TCP */
    const char *no_proxy;      /* hosts never reached through the environment's proxy; NULL: curl's default */
    gboolean http_only;        /* refuse any scheme but http and https (also on redirects) */
    gboolean fresh_connection; /* a new connection for this request (another backend may answer) */
    long timeout_s;            /* the whole transfer; 0: no limit */
    long connect_timeout_s;    /* 0: curl's default */
    long low_speed_time_s;     /* abort when under 1 byte/s for this long; 0: never */
} DcnHttpOptions;

/* A reply body in memory, at most cap bytes. */
typedef struct {
    GString *data;
    gsize cap;
    gboolean overflow; /* the reply was larger than cap: the transfer stopped */
} DcnHttpBody;

/* A new easy handle, or NULL with an error. */
CURL *dcn_http_handle(GError **error);

/* Resets c and sets the shared options; errbuf (CURL_ERROR_SIZE bytes,
 * emptied here) gets curl's message for a failed transfer. */
void dcn_http_setup(CURL *c, const DcnHttpOptions *o, char *errbuf);

/* Empties body (allocating its GString the first time) with cap, and makes
 * it c's write target. */
void dcn_http_body_sink(CURL *c, DcnHttpBody *body, gsize cap);
void dcn_http_body_clear(DcnHttpBody *body);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnHttpBody, dcn_http_body_clear)

/* What went wrong in a transfer that returned rc: "reply larger than N
 * bytes" when body (may be NULL) overflowed, else curl's message in errbuf,
 * else curl's text for rc. */
char *dcn_http_error_text(CURLcode rc, const char *errbuf, const DcnHttpBody *body);

#endif
