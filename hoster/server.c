#include "server.h"

#include "build_info.h"

#include "config.h"
#include "content_root.h"
#include "content_watch.h"
#include "fleet.h"
#include "log.h"
#include "summary_pair.h"
#include "worker.h"

#include <stdio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096
#define ROOT_POLL_SECONDS 1 /* fallback to inotify: catches changes deeper in the root's path */

struct content_root *server_acquire_root(struct server *srv)
{
    pthread_mutex_lock(&srv->root_lock);
    struct content_root *root = srv->root;
    content_root_ref(root);
    pthread_mutex_unlock(&srv->root_lock);
    return root;
}

unsigned server_worker_metrics(struct server *srv, struct metrics *per_worker[HOSTER_MAX_THREADS])
{
    unsigned n = srv->num_workers < HOSTER_MAX_THREADS ? srv->num_workers : HOSTER_MAX_THREADS;
    for (unsigned i = 0; i < n; i++)
        per_worker[i] = &srv->workers[i]->metrics;
    return n;
}

bool server_is_ready(struct server *srv, const struct content_root *root)
{
    if (atomic_load(&srv->stopping))
        return false;
    char path[4096];
    snprintf(path, sizeof path, "%s%sconfig", srv->cfg->repo_path, *srv->cfg->repo_path ? "/" : "");
    int fd = content_root_openat(root, path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    char c;
    ok = ok && read(fd, &c, 1) >= 0;
    close(fd);
    return ok;
}

static void on_content_change(void *arg)
{
    struct server *srv = arg;
    atomic_store(&srv->cache_trusted, content_watch_complete(srv->watch));
    atomic_fetch_add_explicit(&srv->cache_epoch, 1, memory_order_acq_rel);
}

/* Says once, when a root is opened, that the repository itself cannot be
 * served because of a link, rather than leaving a user with only 403s. */
static void server_check_repo_links(const struct server *srv, const struct content_root *root)
{
    int fd = content_root_openat(root, srv->cfg->repo_path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        close(fd);
        return;
    }
    const struct link_refusal *why = content_root_link_refusal(errno);
    if (why)
        log_info("repository /%s: every request below it will get 403 (reason=%s): %s", srv->cfg->repo_path,
                 why->reason, why->advice);
}

/* The access log's first line: which server wrote the lines that follow
 * (a log shipped elsewhere no longer has stderr beside it). */
static void server_log_start(struct server *srv)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    pthread_mutex_lock(&srv->stdout_lock);
    dprintf(STDOUT_FILENO, "ts=%s.%03dZ event=start program=dcn-hoster version=%s commit=%s threads=%u symlinks=%s\n",
            ts, (int)(now.tv_usec / 1000), dcn_build_version(), dcn_build_commit(), srv->num_workers,
            server_symlink_policy(srv->cfg));
    pthread_mutex_unlock(&srv->stdout_lock);
}

const char *server_symlink_policy(const struct hoster_config *cfg)
{
    return cfg->follow_symlinks ? "follow" : "inside-root";
}

/* (Re)starts the content watch for the current root. */
static void server_watch_content(struct server *srv)
{
    if (!srv->cfg->cache_size)
        return;
    content_watch_free(srv->watch);
    srv->watch = content_watch_new(srv->base, srv->root->real_path, srv->cfg->repo_path, on_content_change, srv);
    on_content_change(srv);
}

/* Opens the root again; with force false only when it now resolves to a
 * different directory (a re-pointed symlink). */
static void server_check_root(struct server *srv, bool force)
{
    struct stat st;
    if (stat(srv->cfg->root, &st) < 0) {
        if (force)
            log_errno("content root %s", srv->cfg->root);
        return; /* mid-swap or gone: keep serving what we have */
    }
    if (!force && st.st_dev == srv->root->dev && st.st_ino == srv->root->ino)
        return;
    struct content_root *fresh = content_root_open(srv->cfg->root, srv->root->gen + 1, srv->cfg->follow_symlinks);
    if (!fresh)
        return;
    pthread_mutex_lock(&srv->root_lock);
    struct content_root *old = srv->root;
    srv->root = fresh;
    atomic_store_explicit(&srv->root_gen, fresh->gen, memory_order_release);
    pthread_mutex_unlock(&srv->root_lock);
    log_info("content root %s -> %s (generation %llu)", srv->cfg->root, fresh->real_path,
             (unsigned long long)fresh->gen);
    content_root_unref(old);
    server_check_repo_links(srv, fresh);
    server_watch_content(srv);
}

static void on_root_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    server_check_root(arg, false);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(fd, buf, sizeof buf) > 0)
        ;
    server_check_root(arg, false);
}

static void on_sighup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_info("SIGHUP: re-opening the content root");
    server_check_root(arg, true);
}

static void notify_workers(struct server *srv)
{
    for (unsigned i = 0; i < srv->num_workers; i++)
        worker_notify(srv->workers[i]);
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *srv = arg;
    log_info("drain timeout: closing remaining connections");
    atomic_store(&srv->force_close, true);
    notify_workers(srv);
}

static void on_exit_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *srv = arg;
    if (atomic_load(&srv->workers_running) == 0)
        event_base_loopbreak(srv->base);
}

static void start_drain(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct server *srv = arg;
    log_info("draining: no new connections, up to %.1f s for responses in flight", srv->cfg->drain_timeout);
    atomic_store(&srv->draining, true);
    notify_workers(srv);
    struct timeval tv = hoster_seconds_tv(srv->cfg->drain_timeout);
    srv->drain_timer = evtimer_new(srv->base, on_drain_timeout, srv);
    evtimer_add(srv->drain_timer, &tv);
    struct timeval poll = {0, 20000};
    srv->exit_check = event_new(srv->base, -1, EV_PERSIST, on_exit_check, srv);
    event_add(srv->exit_check, &poll);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct server *srv = arg;
    if (atomic_load(&srv->stopping)) {
        log_info("signal %d again: closing remaining connections", (int)sig);
        if (!atomic_load(&srv->draining))
            start_drain(-1, 0, srv);
        on_drain_timeout(-1, 0, srv);
        return;
    }
    atomic_store(&srv->stopping, true);
    if (srv->cfg->shutdown_delay > 0) {
        log_info("signal %d: reporting not ready, serving on for %.1f s before draining", (int)sig,
                 srv->cfg->shutdown_delay);
        struct timeval tv = hoster_seconds_tv(srv->cfg->shutdown_delay);
        srv->delay_timer = evtimer_new(srv->base, start_drain, srv);
        evtimer_add(srv->delay_timer, &tv);
    } else {
        log_info("signal %d: stopping", (int)sig);
        start_drain(-1, 0, srv);
    }
}

static void format_addr(char *out, size_t cap, const struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, ntohs(a->sin_port));
    }
}

/* One listening socket per worker per address, all on the same port with
 * SO_REUSEPORT: the kernel spreads connections, no accept lock. */
static int open_listeners(struct server *srv)
{
    const struct hoster_config *cfg = srv->cfg;
    srv->listen_fds = calloc(srv->num_workers, sizeof *srv->listen_fds);
    if (!srv->listen_fds)
        return -1;
    for (unsigned t = 0; t < srv->num_workers; t++)
        for (size_t i = 0; i < HOSTER_MAX_LISTEN; i++)
            srv->listen_fds[t][i] = -1;
    for (size_t i = 0; i < cfg->num_listen + cfg->num_ops_listen; i++) {
        bool ops = i >= cfg->num_listen;
        const struct listen_addr *la = ops ? &cfg->ops_listen[i - cfg->num_listen] : &cfg->listen[i];
        struct sockaddr_storage addr = la->addr;
        socklen_t len = la->addr_len;
        for (unsigned t = 0; t < srv->num_workers; t++) {
            int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            int one = 1, defer = 1;
            if (fd < 0) {
                log_errno("listen %s: socket", la->text);
                return -1;
            }
            srv->listen_fds[t][i] = fd;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
            if (addr.ss_family == AF_INET6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
            if (bind(fd, (struct sockaddr *)&addr, len) < 0) {
                log_errno("listen %s: bind", la->text);
                return -1;
            }
            if (listen(fd, LISTEN_BACKLOG) < 0) {
                log_errno("listen %s", la->text);
                return -1;
            }
            /* wake us when the request has arrived, not at the handshake */
            setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
            if (t == 0) {
                /* port 0: the others must share the port the kernel chose */
                len = sizeof addr;
                getsockname(fd, (struct sockaddr *)&addr, &len);
                char text[80];
                format_addr(text, sizeof text, &addr);
                log_info("listening on http://%s/%s", text, ops ? " (operations endpoints /-/ only)" : "");
            }
        }
    }
    return 0;
}

int server_run(const struct hoster_config *cfg)
{
    struct server srv_storage, *srv = &srv_storage;
    memset(srv, 0, sizeof *srv);
    srv->cfg = cfg;
    srv->started = time(NULL);
    srv->inotify_fd = -1;
    pthread_mutex_init(&srv->root_lock, NULL);
    pthread_mutex_init(&srv->stdout_lock, NULL);
    int status = 1;

    signal(SIGPIPE, SIG_IGN);
    /* Every connection is a descriptor: take all the kernel allows. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < (rlim_t)cfg->max_connections + 64)
        log_info("warning: open-file limit %llu is below --max-connections %u; when it runs out, new connections get 503",
                 (unsigned long long)nofile.rlim_cur, cfg->max_connections);
    srv->root = content_root_open(cfg->root, 1, cfg->follow_symlinks);
    if (!srv->root) {
        log_info("cannot serve: content root %s must be a readable directory (see --root)", cfg->root);
        return 1;
    }
    atomic_store(&srv->root_gen, 1);
    srv->num_workers = cfg->threads;
    srv->workers = calloc(srv->num_workers, sizeof *srv->workers);
    srv->base = event_base_new();
    srv->summaries = summary_store_new();
    if (!srv->workers || !srv->base || !srv->summaries || open_listeners(srv) < 0)
        goto out;
    srv->fleet = fleet_new(srv); /* reads the hosted versions before the first request */
    if (!srv->fleet)
        goto out;

    /* Workers inherit a blocked signal mask: signals go to this thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < srv->num_workers; i++) {
        srv->workers[i] = worker_new(srv, i);
        if (!srv->workers[i] || worker_start(srv->workers[i]) < 0) {
            log_errno("worker %u", i);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            atomic_store(&srv->force_close, true);
            goto stop_workers;
        }
    }
    if (fleet_start(srv->fleet) < 0)
        log_errno("fleet thread (versions, adoption, rates)"); /* serving goes on without fresh figures */
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    srv->sig_hup = evsignal_new(srv->base, SIGHUP, on_sighup, srv);
    srv->sig_term = evsignal_new(srv->base, SIGTERM, on_sigterm, srv);
    srv->sig_int = evsignal_new(srv->base, SIGINT, on_sigterm, srv);
    evsignal_add(srv->sig_hup, NULL);
    evsignal_add(srv->sig_term, NULL);
    evsignal_add(srv->sig_int, NULL);

    /* Watch the directory that holds the root: re-pointing a symlinked root
     * is a create/rename there. */
    char *copy = strdup(cfg->root);
    srv->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (copy && srv->inotify_fd >= 0 &&
        inotify_add_watch(srv->inotify_fd, dirname(copy), IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_ATTRIB) >= 0) {
        srv->inotify_ev = event_new(srv->base, srv->inotify_fd, EV_READ | EV_PERSIST, on_inotify, srv);
        event_add(srv->inotify_ev, NULL);
    }
    free(copy);
    server_watch_content(srv);
    struct timeval poll = {ROOT_POLL_SECONDS, 0};
    srv->poll_ev = event_new(srv->base, -1, EV_PERSIST, on_root_poll, srv);
    event_add(srv->poll_ev, &poll);

    log_info("dcn-hoster %s (commit %s) serving %s (repository at /%s) with %u worker threads; symlinks: %s",
             dcn_build_version(), dcn_build_commit(), srv->root->real_path, cfg->repo_path, srv->num_workers,
             cfg->follow_symlinks ? "followed wherever they lead (--follow-symlinks)"
                                  : "followed only inside the root (--follow-symlinks follows all)");
    server_check_repo_links(srv, srv->root);
    if (cfg->access_log)
        server_log_start(srv);
    event_base_dispatch(srv->base);
    status = 0;

stop_workers:
    notify_workers(srv);
    for (unsigned i = 0; i < srv->num_workers; i++) {
        if (srv->workers[i] && srv->workers[i]->thread) {
            if (!atomic_load(&srv->draining)) {
                atomic_store(&srv->force_close, true);
                worker_notify(srv->workers[i]);
            }
            pthread_join(srv->workers[i]->thread, NULL);
        }
    }
    log_info("stopped");
out:
    fleet_free(srv->fleet); /* stops its thread before the workers it samples go */
    for (unsigned i = 0; srv->workers && i < srv->num_workers; i++)
        worker_free(srv->workers[i]);
    if (srv->listen_fds)
        for (unsigned t = 0; t < srv->num_workers; t++)
            for (size_t i = 0; i < HOSTER_MAX_LISTEN; i++)
                if (srv->listen_fds[t][i] >= 0)
                    close(srv->listen_fds[t][i]);
    free(srv->listen_fds);
    free(srv->workers);
    struct event *events[] = {srv->sig_hup, srv->sig_term, srv->sig_int, srv->inotify_ev, srv->poll_ev,
                              srv->drain_timer, srv->exit_check, srv->delay_timer};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (events[i])
            event_free(events[i]);
    if (srv->inotify_fd >= 0)
        close(srv->inotify_fd);
    content_watch_free(srv->watch);
    summary_store_free(srv->summaries);
    if (srv->base)
        event_base_free(srv->base);
    content_root_unref(srv->root);
    return status;
}
