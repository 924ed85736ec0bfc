#include "respond.h"

#include "config.h"
#include "conn.h"
#include "fmt.h"
#include "content_root.h"
#include "fleet.h"
#include "http_status.h"
#include "kickstart.h"
#include "log.h"
#include "ops.h"
#include "path_norm.h"
#include "server.h"
#include "static_file.h"
#include "summary_pair.h"
#include "worker.h"

#include <errno.h>
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

void respond_info(const struct request *r, int status, uint64_t body_len, struct response_info *ri)
{
    memset(ri, 0, sizeof *ri);
    ri->status = status;
    ri->body_len = body_len;
    ri->start_ns = r->start_ns;
    if (r->head) {
        ri->method = r->head->method;
        ri->method_len = r->head->method_len;
        ri->target = r->head->target;
        ri->target_len = r->head->target_len;
        ri->ua = r->info.user_agent;
        ri->ua_len = r->info.user_agent_len;
    }
    ri->reason = r->reason;
}

void respond_send(const struct request *r, int status, const char *head, size_t head_len,
                  const void *body, size_t body_len)
{
    struct iovec iov[2] = {{(void *)head, head_len}, {(void *)body, body_len}};
    struct response_info ri;
    respond_info(r, status, body_len, &ri);
    conn_send_iov(r->conn, iov, body_len ? 2 : 1, &ri);
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

void respond_error(struct conn *c, const struct request *r, int status)
{
    struct request bare = {.conn = c, .w = c->w, .start_ns = conn_now_ns()};
    if (!r)
        r = &bare; /* keep_alive false */
    /* after these the request stream cannot be trusted */
    bool stream_broken = status == 400 || status == 408 || status == 414 || status == 431 || status == 505;
    if (!r->keep_alive || stream_broken) {
        c->close_after = true;
        if (r->keep_alive) {
            bare = *r;
            bare.keep_alive = false; /* the head says "Connection: close" */
            r = &bare;
        }
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
    respond_error(r->conn, r, status);
}

void respond_to_request(struct conn *c, const struct http_request_head *head, uint64_t start_ns)
{
    struct worker *w = c->w;
    struct request r = {
        .conn = c,
        .w = w,
        .head = head,
        .start_ns = start_ns,
        .head_only = head->method_id == HTTP_METHOD_HEAD,
    };
    const int refused = http_request_interpret(head, &r.info);
    if (refused) {
        respond_error(c, &r, refused); /* keep_alive is false: closes */
        return;
    }
    r.keep_alive = r.info.keep_alive && !w->draining;
    if (!r.keep_alive)
        c->close_after = true;
    if (r.info.has_body) {
        /* we never read request bodies: the connection cannot be reused */
        r.keep_alive = false;
        c->close_after = true;
        respond_error(c, &r, head->method_id == HTTP_METHOD_OTHER ? 405 : 400);
        return;
    }
    if (head->method_id == HTTP_METHOD_OTHER) {
        respond_error(c, &r, 405);
        return;
    }
    size_t path_len = 0;
    bool slash = false;
    const char *authority = NULL;
    size_t authority_len = 0;
    switch (path_normalise(head->target, head->target_len, w->path_buf, w->path_cap, &path_len, &slash,
                           &authority, &authority_len)) {
    case PATH_OK: break;
    case PATH_BAD: respond_error(c, &r, 400); return;
    case PATH_FORBIDDEN: respond_error(c, &r, 403); return;
    case PATH_HIDDEN: respond_error(c, &r, 404); return;
    case PATH_TOO_LONG: respond_error(c, &r, 414); return;
    }
    if (authority) { /* absolute form: its authority replaces Host (RFC 9112 3.2.2) */
        if (!http_host_valid(authority, authority_len)) {
            respond_error(c, &r, 400);
            return;
        }
        r.info.host = authority;
        r.info.host_len = authority_len;
    }
    r.path = w->path_buf;
    r.path_len = path_len;
    r.trailing_slash = slash;
    worker_refresh_root(w);
    r.root = w->root;

    bool ops_path = path_len >= 1 && r.path[0] == '-' && (path_len == 1 || r.path[1] == '/');
    enum summary_path summary = slash ? SUMMARY_PATH_NONE : summary_pair_path(w->srv->cfg->repo_path, r.path, path_len);
    if (summary == SUMMARY_PATH_NONE && c->paired)
        summary_pair_forget(c); /* summary.sig was not followed by summary */

    if (w->srv->cfg->num_ops_listen && ops_path != c->ops)
        respond_error(c, &r, 404); /* with --ops-listen, /-/ there only, and only /-/ there */
    else if (summary != SUMMARY_PATH_NONE)
        summary_pair_respond(&r, summary);
    else if (ops_path)
        ops_respond(&r);
    else if (path_len > 3 && !memcmp(r.path + path_len - 3, ".ks", 3))
        kickstart_respond(&r);
    else {
        if (head->method_id == HTTP_METHOD_GET && fleet_may_fetch_commit(r.path, r.path_len))
            fleet_note_request(w->srv->fleet, &r); /* adoption: who fetches which commit */
        static_file_respond(&r);
    }
}
