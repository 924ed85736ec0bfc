#include "respond.h"

#include "conn.h"
#include "content_root.h"
#include "fmt.h"
#include "http_status.h"
#include "log.h"
#include "worker.h"

#include <string.h>

size_t respond_head_begin(const struct request *r, int status, char *out)
{
    struct worker *w = r->w;
    size_t len;
    const char *line = http_status_line(status, &len);
    memcpy(out, line, len);
    memcpy(out + len, w->date_line, w->date_line_len);
    len += w->date_line_len;
    if (!r->keep_alive) {
        memcpy(out + len, "Connection: close\r\n", 19);
        len += 19;
    } else if (r->head && r->head->minor_version == 0) {
        memcpy(out + len, "Connection: keep-alive\r\n", 24);
        len += 24;
    }
    return len;
}

/* What the connection records about r's response, and whether it closes
 * after it (the head said "Connection: close"). */
static void response_info(const struct request *r, int status, uint64_t body_len, struct response_info *ri)
{
    *ri = (struct response_info){
        .status = status,
        .body_len = body_len,
        .start_ns = r->start_ns,
        .reason = r->reason,
        .close = !r->keep_alive,
    };
    if (r->head) {
        ri->method = r->head->method;
        ri->method_len = r->head->method_len;
        ri->target = r->head->target;
        ri->target_len = r->head->target_len;
        ri->ua = r->info.user_agent;
        ri->ua_len = r->info.user_agent_len;
    }
}

void respond_iov(const struct request *r, int status, const struct iovec *iov, int iovcnt, uint64_t body_len)
{
    struct response_info ri;
    response_info(r, status, body_len, &ri);
    conn_send_iov(r->conn, iov, iovcnt, &ri);
}

void respond_send(const struct request *r, int status, const char *head, size_t head_len,
                  const void *body, size_t body_len)
{
    struct iovec iov[2] = {{(void *)head, head_len}, {(void *)body, body_len}};
    respond_iov(r, status, iov, body_len ? 2 : 1, body_len);
}

struct evbuffer *respond_output(const struct request *r) { return conn_output(r->conn); }

void respond_queued(const struct request *r, int status, uint64_t body_len, uint64_t bytes, bool complete)
{
    struct response_info ri;
    response_info(r, status, body_len, &ri);
    ri.broken = !complete;
    conn_queued(r->conn, bytes, &ri);
}

void respond_memory(const struct request *r, int status, const char *content_type,
                    const char *extra, size_t extra_len, const void *body, size_t body_len)
{
    char *h = r->w->head;
    size_t len = respond_head_begin(r, status, h);
    if (content_type) {
        size_t n = strlen(content_type);
        memcpy(h + len, "Content-Type: ", 14);
        memcpy(h + len + 14, content_type, n);
        memcpy(h + len + 14 + n, "\r\n", 2);
        len += 16 + n;
    }
    if (status != 304) {
        memcpy(h + len, "Content-Length: ", 16);
        len += 16;
        len += fmt_u64(h + len, body_len);
        memcpy(h + len, "\r\n", 2);
        len += 2;
    }
    if (extra_len > WORKER_HEAD_MAX - len - 4)
        extra_len = 0; /* cannot happen with the bounded headers callers pass */
    if (extra_len) {
        memcpy(h + len, extra, extra_len);
        len += extra_len;
    }
    memcpy(h + len, "\r\n", 2);
    len += 2;
    bool no_body = r->head_only || status == 304;
    respond_send(r, status, h, len, no_body ? NULL : body, no_body ? 0 : body_len);
}

void respond_reject(struct conn *c, int status)
{
    struct request bare = {.conn = c, .w = c->w, .start_ns = conn_now_ns(), .peer = c->peer}; /* keep_alive false */
    respond_error(&bare, status);
}

void respond_error(const struct request *r, int status)
{
    /* after these the request stream cannot be trusted */
    bool stream_broken = status == 400 || status == 408 || status == 414 || status == 431 || status == 505;
    struct request closing;
    if (r->keep_alive && stream_broken) {
        closing = *r;
        closing.keep_alive = false; /* the head says "Connection: close", and the connection closes */
        r = &closing;
    }
    /* The status line's text as the body, except for 404: libostree's curl
     * fetcher (2022.7) keeps the body of a 404 from one mirror (mirrorlist,
     * contenturl) in the file it then fills from the next, and the object
     * fails to parse ("File header size 875574304", i.e. "404 "). An empty
     * 404 is what ostree-trivial-httpd sends. */
    char body[64];
    size_t n = 0;
    const char *line = http_status_line(status, &n);
    if (status == 404) {
        n = 0;
    } else {
        n -= 9 + 2; /* "HTTP/1.1 " ... "\r\n" */
        memcpy(body, line + 9, n);
        body[n++] = '\n';
    }
    const char *extra = NULL;
    size_t extra_len = 0;
    if (status == 405) {
        extra = "Allow: GET, HEAD\r\n";
        extra_len = strlen(extra);
    } else if (status == 503) {
        extra = "Retry-After: 1\r\n"; /* a passing state (out of descriptors, no ref yet): ask again */
        extra_len = strlen(extra);
    }
    respond_memory(r, status, "text/plain; charset=utf-8", extra, extra_len, body, n);
}

void respond_open_failed(struct request *r, int err)
{
    int status = http_status_for_errno(err);
    const struct link_refusal *why = content_root_link_refusal(err);
    if (why) {
        r->reason = why->reason;
        if (!(r->w->link_warned & why->bit)) {
            r->w->link_warned |= why->bit;
            log_info("worker %u: 403 for /%s: %s; this worker logs further such refusals only in the access log, "
                     "as reason=%s", r->w->id, r->path, why->advice, why->reason);
        }
    }
    respond_error(r, status);
}
