/* conn: one client connection's life: read request heads, parse them and
 * hand each to route.c, write responses (writev fast path, evbuffer with
 * sendfile file segments otherwise), keep-alive, pipelining, timeouts,
 * lingering close. Its state is its own: a response says whether the
 * connection closes after it (response_info.close) and conn acts on that. */
#ifndef DCN_CONN_H
#define DCN_CONN_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

struct worker;
struct evbuffer;
struct pending_log;
struct summary_pair;

enum conn_state {
    CONN_IDLE,    /* waiting for a request (no partial head buffered) */
    CONN_HEAD,    /* part of a request head buffered: head timeout runs */
    CONN_SENDING, /* output pending: reading paused, send timeout runs */
    CONN_LINGER,  /* response sent, write side shut: draining input before close */
};

struct conn {
    struct worker *w;
    int fd;
    enum conn_state state;
    bool close_after;        /* a response said "Connection: close": close once the output is sent */
    bool first_request;      /* no request completed yet */
    bool broken;             /* a write or a response's queueing failed: close at the next chance */
    bool ops;                /* accepted on an --ops-listen address */
    struct event rev, wev;
    struct evbuffer *out;    /* bytes not yet written (created on first need) */
    char *in;                /* buffered request bytes, from the worker's pool; NULL when none */
    size_t in_len;
    struct timespec head_deadline; /* CONN_HEAD: when the head timeout fires */
    uint64_t bytes_queued;   /* total response bytes handed to this conn */
    uint64_t bytes_sent;     /* of which written to the socket */
    uint32_t send_queue_seen; /* SIOCOUTQ at the last send timeout: progress check */
    struct pending_log *pending, *pending_tail; /* responses not yet fully written */
    struct conn *prev, *next; /* worker's list */
    char peer[64];           /* "addr:port" */
    struct summary_pair *paired; /* the summary pair its last summary.sig came from (summary_pair.h), or NULL */
};

/* Takes ownership of a connected, non-blocking socket; ops: it came to an
 * --ops-listen address. */
void conn_accept(struct worker *w, int fd, const struct sockaddr *peer, socklen_t peer_len, bool ops);
void conn_close(struct conn *c);
/* Server draining: closes the connection if idle; a busy one closes after
 * its current response, which says "Connection: close". */
void conn_drain(struct conn *c);

/* What the access log and metrics need about a response, and what it means
 * for the connection. */
struct response_info {
    int status;
    uint64_t body_len;
    const char *method; size_t method_len;
    const char *target; size_t target_len;
    const char *ua; size_t ua_len;
    uint64_t start_ns;       /* CLOCK_MONOTONIC when the head was complete */
    const char *reason;      /* a refusal's reason for the access log (static string), or NULL */
    bool close;              /* it says "Connection: close": no request after it is read */
    bool broken;             /* it could not be queued whole: close without sending more */
};

/* Sends a response made of iov (head and in-memory body): one writev when
 * nothing is pending, the rest copied into the output buffer. */
void conn_send_iov(struct conn *c, const struct iovec *iov, int iovcnt, const struct response_info *ri);

/* For responses built directly in the output buffer (file segments,
 * multipart): returns the buffer to append to; then call conn_queued with the
 * number of bytes appended. */
struct evbuffer *conn_output(struct conn *c);
void conn_queued(struct conn *c, uint64_t bytes, const struct response_info *ri);

uint64_t conn_now_ns(void);

#endif
