#include "metrics.h"

#include "strbuf.h"

static const uint64_t bucket_bounds_us[METRICS_NUM_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static const int status_codes[METRICS_NUM_STATUS] = {
#define CODE(code) code,
    METRICS_STATUSES(CODE)
#undef CODE
    0,
};

static enum metrics_status_slot status_slot(int status)
{
    switch (status) {
#define CASE(code) case code: return METRICS_S##code;
        METRICS_STATUSES(CASE)
#undef CASE
    default: return METRICS_S_OTHER;
    }
}

void metrics_record_request(struct metrics *m, int status, uint64_t body_bytes, uint64_t duration_us)
{
    metrics_add(&m->requests[status_slot(status)], 1);
    metrics_add(&m->response_bytes, body_bytes);
    metrics_add(&m->duration_us_sum, duration_us);
    for (unsigned i = 0; i < METRICS_NUM_BUCKETS; i++) {
        if (duration_us <= bucket_bounds_us[i]) {
            metrics_add(&m->duration_buckets[i], 1);
            break;
        }
    }
}

static uint64_t sum(struct metrics *const *w, unsigned n, size_t offset)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += atomic_load_explicit((_Atomic uint64_t *)((char *)w[i] + offset), memory_order_relaxed);
    return total;
}
#define SUM(field) sum(per_worker, n, offsetof(struct metrics, field))

void metrics_render(struct strbuf *out, struct metrics *const *per_worker, unsigned n, int ready)
{
    strbuf_puts(out, "# HELP dcn_hoster_requests_total Requests answered, by status code.\n"
                     "# TYPE dcn_hoster_requests_total counter\n");
    uint64_t count = 0;
    for (unsigned s = 0; s < METRICS_NUM_STATUS; s++) {
        uint64_t v = SUM(requests[s]);
        count += v;
        if (s == METRICS_S_OTHER)
            strbuf_printf(out, "dcn_hoster_requests_total{status=\"other\"} %llu\n", (unsigned long long)v);
        else
            strbuf_printf(out, "dcn_hoster_requests_total{status=\"%d\"} %llu\n", status_codes[s], (unsigned long long)v);
    }
    strbuf_printf(out,
                  "# HELP dcn_hoster_response_bytes_total Response body bytes sent.\n"
                  "# TYPE dcn_hoster_response_bytes_total counter\n"
                  "dcn_hoster_response_bytes_total %llu\n"
                  "# HELP dcn_hoster_connections_active Open client connections.\n"
                  "# TYPE dcn_hoster_connections_active gauge\n"
                  "dcn_hoster_connections_active %llu\n"
                  "# HELP dcn_hoster_connections_total Client connections accepted.\n"
                  "# TYPE dcn_hoster_connections_total counter\n"
                  "dcn_hoster_connections_total %llu\n"
                  "# HELP dcn_hoster_cache_hits_total Small-file cache hits.\n"
                  "# TYPE dcn_hoster_cache_hits_total counter\n"
                  "dcn_hoster_cache_hits_total %llu\n"
                  "# HELP dcn_hoster_cache_misses_total Small-file cache misses.\n"
                  "# TYPE dcn_hoster_cache_misses_total counter\n"
                  "dcn_hoster_cache_misses_total %llu\n"
                  "# HELP dcn_hoster_ready Whether the server reports ready.\n"
                  "# TYPE dcn_hoster_ready gauge\n"
                  "dcn_hoster_ready %d\n",
                  (unsigned long long)SUM(response_bytes), (unsigned long long)SUM(connections_active),
                  (unsigned long long)SUM(connections_total), (unsigned long long)SUM(cache_hits),
                  (unsigned long long)SUM(cache_misses), ready);
    strbuf_puts(out, "# HELP dcn_hoster_request_duration_seconds Time from complete request head to response handed to the kernel.\n"
                     "# TYPE dcn_hoster_request_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (unsigned b = 0; b < METRICS_NUM_BUCKETS; b++) {
        cumulative += SUM(duration_buckets[b]);
        strbuf_printf(out, "dcn_hoster_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      (double)bucket_bounds_us[b] / 1e6, (unsigned long long)cumulative);
    }
    strbuf_printf(out, "dcn_hoster_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                       "dcn_hoster_request_duration_seconds_sum %.6f\n"
                       "dcn_hoster_request_duration_seconds_count %llu\n",
                  (unsigned long long)count, (double)SUM(duration_us_sum) / 1e6, (unsigned long long)count);
}
