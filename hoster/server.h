/* server: the process-wide context. The main thread owns signals, the
 * content-root watch and the drain; workers (worker.h) serve connections. */
#ifndef DCN_SERVER_H
#define DCN_SERVER_H

#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct hoster_config;
struct content_root;
struct worker;
struct event_base;
struct event;
struct fleet;

struct server {
    const struct hoster_config *cfg;
    struct event_base *base;      /* main thread's loop */
    struct worker **workers;
    unsigned num_workers;
    int (*listen_fds)[HOSTER_MAX_LISTEN];        /* [worker][listener]: one SO_REUSEPORT socket each; --listen, then --ops-listen */
    struct fleet *fleet;          /* hosted versions and adoption (fleet.h) */
    pthread_mutex_t root_lock;    /* guards root and the reference a worker takes on it */
    struct content_root *root;    /* current content root */
    _Atomic uint64_t root_gen;    /* root->gen, readable without the lock */
    struct content_watch *watch;  /* inotify on the root's content-addressed files */
    struct summary_store *summaries; /* the summary/summary.sig pair served (summary_pair.h) */
    _Atomic uint64_t cache_epoch; /* bumped when a cached file may have changed: workers drop their caches */
    atomic_bool cache_trusted;    /* the watch covers everything: cache hits need no stat */
    atomic_bool stopping;         /* SIGTERM seen: not ready (still serving during --shutdown-delay) */
    atomic_bool draining;         /* no new connections; connections close after their response */
    atomic_bool force_close;      /* drain timeout passed: workers drop all connections */
    pthread_mutex_t stdout_lock;  /* access-log buffers are written whole */
    time_t started;
    int inotify_fd;               /* watches the directory holding a symlinked root, or -1 */
    struct event *inotify_ev, *poll_ev, *sig_hup, *sig_term, *sig_int, *drain_timer, *delay_timer;
    struct event *exit_check;     /* while draining: polls workers_running */
    atomic_uint workers_running;
};

/* Returns the current root with a reference the caller must drop. */
struct content_root *server_acquire_root(struct server *srv);

/* Ready: not stopping and <root>/<repo-path>/config is a readable file. */
bool server_is_ready(struct server *srv, const struct content_root *root);

/* Points per_worker[i] at each worker's metrics; returns how many. */
struct metrics;
unsigned server_worker_metrics(struct server *srv, struct metrics *per_worker[HOSTER_MAX_THREADS]);

/* The symlink policy in force, as /-/status names it: "inside-root" or
 * "follow". */
const char *server_symlink_policy(const struct hoster_config *cfg);

/* Starts everything and blocks until the server has drained. Returns the
 * process exit status. */
int server_run(const struct hoster_config *cfg);

#endif
