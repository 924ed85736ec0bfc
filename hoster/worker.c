#include "worker.h"

#include "config.h"
#include "conn.h"
#include "content_root.h"
#include "file_cache.h"
#include "http_date.h"
#include "http_parse.h"
#include "log.h"
#include "server.h"

#include <stdio.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_FLUSH_INTERVAL_US 100000
#define ACCEPT_PAUSE_MS 100 /* out of descriptors, even the reserve one: try again after this */

void worker_tick(struct worker *w)
{
    event_base_gettimeofday_cached(w->base, &w->now);
    if (w->now.tv_sec == w->date_sec)
        return;
    char date[HTTP_DATE_LEN + 1];
    http_date_format(w->now.tv_sec, date);
    w->date_line_len = (size_t)snprintf(w->date_line, sizeof w->date_line,
                                        "Server: dcn-hoster\r\nDate: %s\r\n", date);
    w->date_sec = w->now.tv_sec;
}

void worker_refresh_root(struct worker *w)
{
    uint64_t epoch = atomic_load_explicit(&w->srv->cache_epoch, memory_order_acquire);
    if (epoch != w->cache_epoch) {
        /* before this request reads any file: entries made from now on are fresh */
        w->cache_epoch = epoch;
        if (w->cache)
            file_cache_clear(w->cache);
    }
    if (atomic_load_explicit(&w->srv->root_gen, memory_order_acquire) == w->root->gen)
        return;
    struct content_root *fresh = server_acquire_root(w->srv);
    content_root_unref(w->root); /* responses in flight hold their own fds */
    w->root = fresh;
    if (w->cache)
        file_cache_clear(w->cache);
}

char *worker_inbuf_get(struct worker *w)
{
    if (w->inbuf_pool_len)
        return w->inbuf_pool[--w->inbuf_pool_len];
    return malloc(w->srv->cfg->max_head_size);
}

void worker_inbuf_put(struct worker *w, char *buf)
{
    if (w->inbuf_pool_len < WORKER_INBUF_POOL)
        w->inbuf_pool[w->inbuf_pool_len++] = buf;
    else
        free(buf);
}

static void worker_set_accepting(struct worker *w, bool on)
{
    if (w->accepting == on)
        return;
    for (size_t i = 0; i < w->num_listeners; i++) {
        if (on)
            evconnlistener_enable(w->listeners[i]);
        else
            evconnlistener_disable(w->listeners[i]);
    }
    w->accepting = on;
}

void worker_conn_opened(struct worker *w, struct conn *c)
{
    c->prev = NULL;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->num_conns++;
    metrics_add(&w->metrics.connections_total, 1);
    atomic_store_explicit(&w->metrics.connections_active, w->num_conns, memory_order_relaxed);
    if (w->num_conns >= w->max_conns)
        worker_set_accepting(w, false); /* the kernel's backlog holds the rest */
}

void worker_conn_closed(struct worker *w, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->num_conns--;
    atomic_store_explicit(&w->metrics.connections_active, w->num_conns, memory_order_relaxed);
    if (w->draining) {
        if (w->num_conns == 0)
            event_base_loopbreak(w->base);
    } else if (w->num_conns < w->max_conns) {
        worker_set_accepting(w, true);
    }
}

static void accept_conn(struct worker *w, evutil_socket_t fd, struct sockaddr *sa, int len, bool ops)
{
    worker_tick(w);
    if (w->short_of_fds) {
        w->short_of_fds = false;
        log_info("worker %u: accepting connections again", w->id);
    }
    if (w->draining) {
        close(fd);
        return;
    }
    conn_accept(w, fd, sa, (socklen_t)len, ops);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
    (void)l;
    accept_conn(arg, fd, sa, len, false);
}

/* An --ops-listen listener: its connections get only the /-/ endpoints. */
static void on_accept_ops(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
    (void)l;
    accept_conn(arg, fd, sa, len, true);
}

/* Answers a connection we have no descriptor to serve with: 503 with
 * Retry-After, then close. The request is usually in already
 * (TCP_DEFER_ACCEPT): it is read first, so the close does not reset the
 * connection and lose the answer. */
static void refuse_no_fd(struct worker *w, int fd)
{
    char discard[4096];
    while (recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0)
        ;
    static const char body[] = "Service Unavailable\n";
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 503 Service Unavailable\r\n%.*sRetry-After: 1\r\nConnection: close\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
                     (int)w->date_line_len, w->date_line, sizeof body - 1, body);
    if (n > 0 && (size_t)n < sizeof head && send(fd, head, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
        shutdown(fd, SHUT_WR);
    close(fd);
    metrics_add(&w->metrics.connections_refused, 1);
    metrics_record_request(&w->metrics, 503, sizeof body - 1, 0);
}

static void on_resume_accepts(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (w->reserve_fd < 0)
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (!w->draining && w->num_conns < w->max_conns)
        worker_set_accepting(w, true);
}

/* Out of descriptors (EMFILE: this process's limit, ENFILE: the system's).
 * The listener is level-triggered: returning with the connection still in
 * the backlog would call us again at once, a busy loop. So the connection
 * is taken with the descriptor kept in reserve and answered 503; when even
 * that fails, accepts pause for ACCEPT_PAUSE_MS. Either way nothing waits
 * for a connection of this worker to close (it may have none): accepts go
 * on by themselves once descriptors are free again. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
    int err = EVUTIL_SOCKET_ERROR();
    if (err != EMFILE && err != ENFILE)
        return;
    struct worker *w = arg;
    worker_tick(w);
    if (!w->short_of_fds) {
        w->short_of_fds = true;
        log_info("worker %u: accept: %s; new connections get 503 until descriptors are free (raise the open-file "
                 "limit, ulimit -n / LimitNOFILE=, above --max-connections)",
                 w->id, strerror(err));
    }
    if (w->reserve_fd >= 0) {
        close(w->reserve_fd);
        w->reserve_fd = -1;
        int fd = accept4(evconnlistener_get_fd(l), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            refuse_no_fd(w, fd);
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && w->reserve_fd >= 0)
            return;
    }
    worker_set_accepting(w, false);
    struct timeval pause = {0, ACCEPT_PAUSE_MS * 1000};
    evtimer_add(w->resume_ev, &pause);
}

static void worker_start_drain(struct worker *w)
{
    w->draining = true;
    for (size_t i = 0; i < w->num_listeners; i++) {
        evconnlistener_free(w->listeners[i]); /* closes the socket: new connections are refused */
        w->listeners[i] = NULL;
    }
    w->num_listeners = 0;
    struct conn *c = w->conns;
    while (c) {
        struct conn *next = c->next;
        conn_drain(c);
        c = next;
    }
    if (w->num_conns == 0)
        event_base_loopbreak(w->base);
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct worker *w = arg;
    uint64_t v;
    if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
        return;
    worker_tick(w);
    if (atomic_load(&w->srv->force_close)) {
        while (w->conns)
            conn_close(w->conns);
        event_base_loopbreak(w->base);
        return;
    }
    if (atomic_load(&w->srv->draining) && !w->draining)
        worker_start_drain(w);
}

static void on_log_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    access_log_flush(&((struct worker *)arg)->log);
}

void worker_notify(struct worker *w)
{
    uint64_t one = 1;
    ssize_t n = write(w->notify_fd, &one, sizeof one);
    (void)n;
}

struct worker *worker_new(struct server *srv, unsigned id)
{
    const struct hoster_config *cfg = srv->cfg;
    struct worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->srv = srv;
    w->id = id;
    w->notify_fd = -1;
    w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    w->base = event_base_new();
    if (!w->base)
        goto fail;
    struct timeval idle = hoster_seconds_tv(cfg->idle_timeout), head = hoster_seconds_tv(cfg->head_timeout),
                   send = hoster_seconds_tv(cfg->send_timeout);
    w->idle_tv = event_base_init_common_timeout(w->base, &idle);
    w->head_tv = event_base_init_common_timeout(w->base, &head);
    w->send_tv = event_base_init_common_timeout(w->base, &send);
    for (size_t i = 0; i < cfg->num_listen + cfg->num_ops_listen; i++) {
        bool ops = i >= cfg->num_listen;
        w->listeners[i] = evconnlistener_new(w->base, ops ? on_accept_ops : on_accept, w,
                                             LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, srv->listen_fds[id][i]);
        if (!w->listeners[i]) {
            log_errno("worker %u: listener for %s", id,
                      ops ? cfg->ops_listen[i - cfg->num_listen].text : cfg->listen[i].text);
            goto fail;
        }
        srv->listen_fds[id][i] = -1; /* the listener owns it */
        evconnlistener_set_error_cb(w->listeners[i], on_accept_error);
        w->num_listeners++;
    }
    w->accepting = true;
    w->max_conns = cfg->max_connections / srv->num_workers;
    if (w->max_conns == 0)
        w->max_conns = 1;
    w->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->notify_fd < 0)
        goto fail;
    w->notify_ev = event_new(w->base, w->notify_fd, EV_READ | EV_PERSIST, on_notify, w);
    w->log_timer = event_new(w->base, -1, EV_PERSIST, on_log_timer, w);
    w->resume_ev = evtimer_new(w->base, on_resume_accepts, w);
    struct timeval flush = {0, LOG_FLUSH_INTERVAL_US};
    if (!w->notify_ev || !w->log_timer || !w->resume_ev || event_add(w->notify_ev, NULL) || event_add(w->log_timer, &flush))
        goto fail;
    if (cfg->cache_size) {
        w->cache = file_cache_new(cfg->cache_size / srv->num_workers);
        if (!w->cache)
            goto fail;
    }
    w->log.stdout_lock = &srv->stdout_lock;
    w->headers = calloc(cfg->max_headers, sizeof *w->headers);
    w->path_cap = cfg->max_head_size + 1; /* a decoded path is never longer than the target */
    w->path_buf = malloc(w->path_cap);
    w->file_buf = malloc(cfg->sendfile_min ? cfg->sendfile_min : 1);
    if (!w->headers || !w->path_buf || !w->file_buf)
        goto fail;
    w->root = server_acquire_root(srv);
    worker_tick(w);
    return w;
fail:
    worker_free(w);
    return NULL;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_loop(w->base, 0);
    while (w->conns)
        conn_close(w->conns);
    access_log_flush(&w->log);
    atomic_fetch_sub(&w->srv->workers_running, 1);
    return NULL;
}

int worker_start(struct worker *w)
{
    atomic_fetch_add(&w->srv->workers_running, 1);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc) {
        atomic_fetch_sub(&w->srv->workers_running, 1);
        errno = rc;
        return -1;
    }
    return 0;
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->num_listeners; i++)
        if (w->listeners[i])
            evconnlistener_free(w->listeners[i]);
    if (w->notify_ev)
        event_free(w->notify_ev);
    if (w->log_timer)
        event_free(w->log_timer);
    if (w->resume_ev)
        event_free(w->resume_ev);
    if (w->reserve_fd >= 0)
        close(w->reserve_fd);
    if (w->notify_fd >= 0)
        close(w->notify_fd);
    for (unsigned i = 0; i < w->inbuf_pool_len; i++)
        free(w->inbuf_pool[i]);
    file_cache_free(w->cache);
    if (w->root)
        content_root_unref(w->root);
    free(w->headers);
    free(w->path_buf);
    free(w->file_buf);
    if (w->base)
        event_base_free(w->base);
    free(w);
}
