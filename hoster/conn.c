#include "conn.h"

#include "access_log.h"
#include "config.h"
#include "http_parse.h"
#include "log.h"
#include "metrics.h"
#include "respond.h"
#include "route.h"
#include "server.h"
#include "summary_pair.h"
#include "worker.h"

#include <stdio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes one connection may write per event-loop turn: a sendfile of a large
 * body would otherwise fill a multi-megabyte socket buffer while the other
 * connections wait (nginx's sendfile_max_chunk does the same). The socket
 * stays writable, so the loop comes back to it at once. */
#define FLUSH_BYTES_MAX (2u << 20)
#define LINGER_SECONDS 2 /* after a final response, how long unread input is drained before close */

/* A response queued but not yet fully written; logged when it is. */
struct pending_log {
    struct pending_log *next;
    uint64_t end;        /* conn->bytes_queued once this response was queued */
    uint64_t body_len;
    uint64_t start_ns;
    int status;
    const char *reason;  /* static string or NULL */
    size_t request_len;  /* text = request part, then ua part */
    size_t ua_len;
    char text[];
};

static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_process(struct conn *c);
static void conn_update_events(struct conn *c);

uint64_t conn_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void format_peer(char *out, size_t cap, const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(out, cap, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(out, cap, "[%s]:%u", host, port);
    } else {
        snprintf(out, cap, "unknown");
    }
}

void conn_accept(struct worker *w, int fd, const struct sockaddr *peer, socklen_t peer_len, bool ops)
{
    (void)peer_len;
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->w = w;
    c->fd = fd;
    c->first_request = true;
    c->ops = ops;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    format_peer(c->peer, sizeof c->peer, peer);
    event_assign(&c->rev, w->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
    event_assign(&c->wev, w->base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
    worker_conn_opened(w, c);
    c->state = CONN_IDLE;
    event_add(&c->rev, w->head_tv);
    /* Listeners use TCP_DEFER_ACCEPT, so the request is usually here already. */
    conn_on_read(fd, EV_READ, c);
}

static void log_response(struct conn *c, const struct access_log_entry *e)
{
    struct worker *w = c->w;
    metrics_record_request(&w->metrics, e->status, e->bytes, e->duration_us);
    if (w->srv->cfg->access_log)
        access_log_append(&w->log, &w->now, e);
}

/* Logs every pending response whose bytes have all been written; on close
 * (final), logs the rest with the body bytes that did get out. */
static void conn_complete_pending(struct conn *c, bool final)
{
    uint64_t now = 0;
    while (c->pending && (final || c->bytes_sent >= c->pending->end)) {
        struct pending_log *p = c->pending;
        if (!now)
            now = conn_now_ns();
        uint64_t body_start = p->end - p->body_len;
        uint64_t body_sent = c->bytes_sent >= p->end ? p->body_len
                             : c->bytes_sent > body_start ? c->bytes_sent - body_start : 0;
        struct access_log_entry e = {
            .request_part = p->text,
            .request_part_len = p->request_len,
            .ua_part = p->text + p->request_len,
            .ua_part_len = p->ua_len,
            .peer = c->peer,
            .status = p->status,
            .bytes = body_sent,
            .duration_us = (now - p->start_ns) / 1000,
            .reason = p->reason,
        };
        log_response(c, &e);
        c->pending = p->next;
        free(p);
    }
    if (!c->pending)
        c->pending_tail = NULL;
}

/* Records a response of `bytes` total just queued (and maybe written). */
static void conn_account(struct conn *c, uint64_t bytes, const struct response_info *ri)
{
    struct worker *w = c->w;
    c->close_after |= ri->close;
    c->broken |= ri->broken;
    c->bytes_queued += bytes;
    bool done = c->bytes_sent >= c->bytes_queued && !c->pending;
    char request_part[2048 + 128], ua_part[600];
    size_t request_len = 0, ua_len = 0;
    if (w->srv->cfg->access_log) {
        request_len = access_log_format_request(request_part, sizeof request_part,
                                                ri->method ? ri->method : "-", ri->method ? ri->method_len : 1,
                                                ri->target ? ri->target : "-", ri->target ? ri->target_len : 1);
        ua_len = access_log_format_ua(ua_part, sizeof ua_part, ri->ua ? ri->ua : "-", ri->ua ? ri->ua_len : 1);
    }
    if (done) {
        struct access_log_entry e = {
            .request_part = request_part,
            .request_part_len = request_len,
            .ua_part = ua_part,
            .ua_part_len = ua_len,
            .peer = c->peer,
            .status = ri->status,
            .bytes = ri->body_len,
            .duration_us = (conn_now_ns() - ri->start_ns) / 1000,
            .reason = ri->reason,
        };
        log_response(c, &e);
        return;
    }
    struct pending_log *p = malloc(sizeof *p + request_len + ua_len);
    if (!p)
        return;
    p->next = NULL;
    p->end = c->bytes_queued;
    p->body_len = ri->body_len;
    p->start_ns = ri->start_ns;
    p->status = ri->status;
    p->reason = ri->reason;
    p->request_len = request_len;
    p->ua_len = ua_len;
    memcpy(p->text, request_part, request_len);
    memcpy(p->text + request_len, ua_part, ua_len);
    if (c->pending_tail)
        c->pending_tail->next = p;
    else
        c->pending = p;
    c->pending_tail = p;
}

struct evbuffer *conn_output(struct conn *c)
{
    if (!c->out) {
        c->out = evbuffer_new();
        if (c->out)
            evbuffer_set_flags(c->out, EVBUFFER_FLAG_DRAINS_TO_FD); /* file segments go by sendfile */
    }
    return c->out;
}

static bool conn_has_output(const struct conn *c) { return c->out && evbuffer_get_length(c->out) > 0; }

/* Writes what the output buffer holds until the socket would block or
 * FLUSH_BYTES_MAX went out.
 * Returns -1 when the connection broke. */
static int conn_flush(struct conn *c)
{
    size_t budget = FLUSH_BYTES_MAX;
    while (conn_has_output(c) && budget > 0) {
        int n = evbuffer_write_atmost(c->out, c->fd, (ev_ssize_t)budget);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            return -1;
        }
        if (n == 0)
            break;
        c->bytes_sent += (uint64_t)n;
        budget -= (size_t)n < budget ? (size_t)n : budget;
    }
    conn_complete_pending(c, false);
    return 0;
}

void conn_send_iov(struct conn *c, const struct iovec *iov, int iovcnt, const struct response_info *ri)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    size_t written = 0;
    if (!conn_has_output(c) && !c->broken) {
        ssize_t n = writev(c->fd, iov, iovcnt);
        if (n >= 0)
            written = (size_t)n;
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            c->broken = true;
    }
    c->bytes_sent += written;
    if (written < total && !c->broken) {
        struct evbuffer *out = conn_output(c);
        if (!out)
            c->broken = true; /* out of memory: the rest cannot be queued */
        size_t skip = written;
        for (int i = 0; i < iovcnt && out; i++) {
            if (skip >= iov[i].iov_len) {
                skip -= iov[i].iov_len;
                continue;
            }
            evbuffer_add(out, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
            skip = 0;
        }
    }
    conn_account(c, total, ri);
}

void conn_queued(struct conn *c, uint64_t bytes, const struct response_info *ri)
{
    conn_account(c, bytes, ri);
    if (conn_flush(c) < 0)
        c->broken = true;
}

void conn_close(struct conn *c)
{
    struct worker *w = c->w;
    conn_complete_pending(c, true);
    summary_pair_forget(c);
    event_del(&c->rev);
    event_del(&c->wev);
    if (c->out)
        evbuffer_free(c->out); /* releases file segments: their fds close */
    if (c->in)
        worker_inbuf_put(w, c->in);
    close(c->fd);
    worker_conn_closed(w, c);
    free(c);
}

static void conn_release_inbuf(struct conn *c)
{
    if (c->in && c->in_len == 0) {
        worker_inbuf_put(c->w, c->in);
        c->in = NULL;
    }
}

static void conn_start_linger(struct conn *c)
{
    struct timeval tv = {LINGER_SECONDS, 0};
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    c->in_len = 0;
    conn_release_inbuf(c);
    event_del(&c->wev);
    event_add(&c->rev, &tv);
}

/* Arms the events the connection's state needs, or closes it. */
static void conn_update_events(struct conn *c)
{
    struct worker *w = c->w;
    if (c->broken) {
        conn_close(c);
        return;
    }
    if (conn_has_output(c)) {
        if (c->state != CONN_SENDING) {
            c->state = CONN_SENDING;
            c->send_queue_seen = UINT32_MAX;
            event_del(&c->rev);
            event_add(&c->wev, w->send_tv);
        }
        return;
    }
    if (c->state == CONN_SENDING)
        event_del(&c->wev);
    if (c->close_after) {
        conn_start_linger(c);
        return;
    }
    if (c->in_len > 0) {
        c->state = CONN_HEAD;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left_us = (long long)(c->head_deadline.tv_sec - now.tv_sec) * 1000000 +
                            (c->head_deadline.tv_nsec - now.tv_nsec) / 1000;
        if (left_us < 1)
            left_us = 1;
        struct timeval tv = {(time_t)(left_us / 1000000), (suseconds_t)(left_us % 1000000)};
        event_add(&c->rev, &tv);
        return;
    }
    conn_release_inbuf(c);
    if (w->draining) {
        conn_close(c);
        return;
    }
    c->state = CONN_IDLE;
    event_add(&c->rev, c->first_request ? w->head_tv : w->idle_tv);
}

/* The head timeout runs from the first byte of a request head. */
static void conn_start_head_timer(struct conn *c)
{
    double timeout = c->w->srv->cfg->head_timeout;
    double whole = (double)(long long)timeout;
    clock_gettime(CLOCK_MONOTONIC, &c->head_deadline);
    c->head_deadline.tv_sec += (time_t)whole;
    c->head_deadline.tv_nsec += (long)((timeout - whole) * 1e9);
    if (c->head_deadline.tv_nsec >= 1000000000L) {
        c->head_deadline.tv_sec++;
        c->head_deadline.tv_nsec -= 1000000000L;
    }
}

/* Handles every complete request head buffered, in order, while responses
 * go out immediately; stops when output backs up (reading pauses). */
static void conn_process(struct conn *c)
{
    struct worker *w = c->w;
    const struct hoster_config *cfg = w->srv->cfg;
    while (c->in_len > 0 && !c->close_after && !c->broken && !conn_has_output(c)) {
        struct http_request_head req;
        enum http_parse_error err = HTTP_PERR_NONE;
        int r = http_parse_request(c->in, c->in_len, &req, w->headers, cfg->max_headers, &err);
        if (r == HTTP_PARSE_INCOMPLETE) {
            if (c->in_len >= cfg->max_head_size)
                respond_reject(c, memchr(c->in, '\n', c->in_len) ? 431 : 414);
            break;
        }
        if (r < 0) {
            respond_reject(c, err == HTTP_PERR_TOO_MANY_HEADERS ? 431 : err == HTTP_PERR_BAD_VERSION ? 505 : 400);
            break;
        }
        route_request(c, &req, conn_now_ns());
        c->first_request = false;
        memmove(c->in, c->in + r, c->in_len - (size_t)r);
        c->in_len -= (size_t)r;
        if (c->in_len > 0)
            conn_start_head_timer(c); /* a pipelined request: its head timeout starts now */
    }
}

static void conn_read(struct conn *c)
{
    struct worker *w = c->w;
    const struct hoster_config *cfg = w->srv->cfg;
    if (!c->in) {
        c->in = worker_inbuf_get(w);
        c->in_len = 0;
        if (!c->in) {
            conn_close(c);
            return;
        }
    }
    for (;;) {
        size_t room = cfg->max_head_size - c->in_len;
        if (room == 0)
            break; /* conn_process rejects a full buffer */
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n == 0) {
            conn_close(c); /* peer closed; a partial head is dropped */
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_close(c);
            return;
        }
        if (c->in_len == 0)
            conn_start_head_timer(c);
        c->in_len += (size_t)n;
        if ((size_t)n < room)
            break; /* the socket is most likely empty: save a recv */
    }
    conn_process(c);
    conn_update_events(c);
}

static void conn_linger_read(struct conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t n = recv(c->fd, sink, sizeof sink, 0);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        conn_close(c);
        return;
    }
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct conn *c = arg;
    worker_tick(c->w);
    if (what & EV_TIMEOUT) {
        if (c->state == CONN_HEAD) {
            respond_reject(c, 408); /* slow or stalled request head */
            conn_update_events(c);
        } else {
            conn_close(c);
        }
        return;
    }
    if (c->state == CONN_LINGER) {
        conn_linger_read(c);
        return;
    }
    conn_read(c);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    struct conn *c = arg;
    worker_tick(c->w);
    if (what & EV_TIMEOUT) {
        /* Writable events come only when the socket buffer drains below its
         * low mark, which can take longer than the timeout for a slow reader
         * with a large buffer: progress is the kernel's queue shrinking. */
        int queued = 0;
        if (ioctl(c->fd, SIOCOUTQ, &queued) == 0 && (uint32_t)queued < c->send_queue_seen) {
            c->send_queue_seen = (uint32_t)queued;
            return; /* EV_PERSIST re-arms the timeout */
        }
        conn_close(c); /* the client stopped reading */
        return;
    }
    c->send_queue_seen = UINT32_MAX;
    if (conn_flush(c) < 0) {
        conn_close(c);
        return;
    }
    if (conn_has_output(c))
        return;
    event_del(&c->wev);
    c->state = CONN_IDLE;
    if (!c->close_after)
        conn_process(c); /* pipelined requests waiting behind the response */
    conn_update_events(c); /* resumes reading (level-triggered: nothing is missed) */
}

void conn_drain(struct conn *c)
{
    if (c->state == CONN_IDLE && !conn_has_output(c))
        conn_close(c);
    /* busy ones: responses made while draining say "Connection: close" */
}
