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
    X(414) X(416) X(431) X(500) X(503) X(505)
enum metrics_status_slot {
#define SLOT(code) METRICS_S##code,
    METRICS_STATUSES(SLOT)
#undef SLOT
    METRICS_S_OTHER,
    METRICS_NUM_STATUS
};

#define METRICS_NUM_BUCKETS 16 /* request duration upper bounds, see metrics.c; +Inf is the count */

struct metrics {
    _Atomic uint64_t requests[METRICS_NUM_STATUS];
    _Atomic uint64_t response_bytes;   /* body bytes handed to the kernel */
    _Atomic uint64_t duration_us_sum;
    _Atomic uint64_t duration_buckets[METRICS_NUM_BUCKETS]; /* non-cumulative */
    _Atomic uint64_t connections_total;
    _Atomic uint64_t connections_active;
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

#endif
