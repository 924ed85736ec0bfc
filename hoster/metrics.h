/* metrics: per-worker counters, written only by their worker (relaxed
 * stores, no locked instructions on the hot path) and summed by whoever
 * renders /-/metrics. */
#ifndef DCN_METRICS_H
#define DCN_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

struct strbuf;

/* The statuses dcn-hoster sends; anything else counts under "other". */
#define METRICS_STATUSES(X) X(200) X(206) X(304) X(400) X(403) X(404) X(405) X(408) \
    X(414) X(416) X(431) X(500) X(501) X(503) X(505)
enum metrics_status_slot {
#define SLOT(code) METRICS_S##code,
    METRICS_STATUSES(SLOT)
#undef SLOT
    METRICS_S_OTHER,
    METRICS_NUM_STATUS
};

/* request duration upper bounds, 100 µs to 300 s (a delta part over a
 * slow site link takes minutes), see metrics.c; +Inf is the count */
#define METRICS_NUM_BUCKETS 20

struct metrics {
    _Atomic uint64_t requests[METRICS_NUM_STATUS];
    _Atomic uint64_t response_bytes;   /* body bytes handed to the kernel */
    _Atomic uint64_t duration_us_sum;
    _Atomic uint64_t duration_buckets[METRICS_NUM_BUCKETS]; /* non-cumulative */
    _Atomic uint64_t connections_total;
    _Atomic uint64_t connections_active;
    _Atomic uint64_t connections_refused; /* answered 503 at accept: no descriptor to serve them with */
    _Atomic uint64_t cache_hits;
    _Atomic uint64_t cache_misses;
};

/* Owner-thread increment: a plain load and store, visible to readers. */
static inline void metrics_add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

void metrics_record_request(struct metrics *m, int status, uint64_t body_bytes, uint64_t duration_us);

/* Renders the Prometheus text exposition of the sum of n workers' metrics. */
void metrics_render(struct strbuf *out, struct metrics *const *per_worker, unsigned n, int ready);

/* dcn_hoster_build_info{version,commit} 1. */
void metrics_render_build_info(struct strbuf *out);

/* The standard process metrics (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds), from
 * getrusage, getrlimit and /proc/self. */
void metrics_render_process(struct strbuf *out);

/* Appends s as a quoted label value, with \, " and newline escaped. */
void metrics_label_value(struct strbuf *out, const char *s);

struct metrics_totals {
    uint64_t requests; /* all statuses */
    uint64_t bytes;    /* response body bytes */
    uint64_t errors;   /* 5xx */
};
void metrics_totals(struct metrics *const *per_worker, unsigned n, struct metrics_totals *out);

#endif
