/* worker: one thread, one event loop, its own SO_REUSEPORT listeners and
 * everything its connections share without locks: cache, log buffer,
 * metrics, scratch buffers, the formatted Date header. */
#ifndef DCN_WORKER_H
#define DCN_WORKER_H

#include "access_log.h"
#include "config.h"
#include "metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

struct server;
struct conn;
struct content_root;
struct file_cache;
struct evconnlistener;
struct http_header;

#define WORKER_HEAD_MAX 4096 /* response heads are built here */
#define WORKER_INBUF_POOL 64 /* idle input buffers kept for reuse */

struct worker {
    struct server *srv;
    unsigned id;
    pthread_t thread;
    struct event_base *base;
    struct evconnlistener *listeners[HOSTER_MAX_LISTEN];
    size_t num_listeners;
    bool accepting;                /* listeners enabled */
    unsigned max_conns;            /* this worker's share of --max-connections */
    unsigned num_conns;
    struct conn *conns;            /* all open connections (for drain) */
    int notify_fd;                 /* eventfd: the main thread's "look at srv flags" */
    struct event *notify_ev, *log_timer;
    int reserve_fd;                /* /dev/null, given up to answer 503 when accept() runs out of descriptors */
    struct event *resume_ev;       /* re-enables accepts after a pause for lack of descriptors */
    bool short_of_fds;             /* accept() failed with EMFILE/ENFILE since the last success (logged once) */
    bool draining;                 /* this worker has acted on srv->draining */
    struct content_root *root;     /* the root this worker serves, referenced */
    struct file_cache *cache;      /* NULL when --cache-size 0 */
    unsigned link_warned;          /* kinds of symlink refusal already explained on stderr (respond.c) */
    uint64_t cache_epoch;          /* srv->cache_epoch the cache was last valid for */
    struct access_log log;
    struct metrics metrics;
    const struct timeval *idle_tv, *head_tv, *send_tv; /* libevent common timeouts */
    struct timeval now;            /* refreshed once per callback */
    time_t date_sec;               /* second that date_line shows */
    char date_line[64];            /* "Date: ...\r\n" */
    size_t date_line_len;
    char *inbuf_pool[WORKER_INBUF_POOL];
    unsigned inbuf_pool_len;
    struct http_header *headers;   /* parser output, --max-headers entries */
    char head[WORKER_HEAD_MAX];
    char *path_buf;                /* normalised request path */
    size_t path_cap;
    char *file_buf;                /* reading small uncached files, --sendfile-min bytes */
};

struct worker *worker_new(struct server *srv, unsigned id);
int worker_start(struct worker *w);
void worker_free(struct worker *w);
/* Thread-safe: asks the worker to look at srv->draining / force flags. */
void worker_notify(struct worker *w);

/* Refreshes w->now and the Date line; cheap when the second is unchanged. */
void worker_tick(struct worker *w);
/* Makes w->root the server's current root if a swap happened, and drops
 * the cache when the content watch saw cached files change. */
void worker_refresh_root(struct worker *w);

char *worker_inbuf_get(struct worker *w);
void worker_inbuf_put(struct worker *w, char *buf);

/* Connection accounting, called by conn.c. */
void worker_conn_opened(struct worker *w, struct conn *c);
void worker_conn_closed(struct worker *w, struct conn *c);

#endif
