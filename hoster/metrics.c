#include "metrics.h"

#include "build_info.h"
#include "strbuf.h"

#include <dirent.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

static const uint64_t bucket_bounds_us[METRICS_NUM_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 120000000, 300000000,
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
                  "# HELP dcn_hoster_connections_refused_total Client connections answered 503 and closed at accept: "
                  "no descriptor left to serve them with (EMFILE/ENFILE).\n"
                  "# TYPE dcn_hoster_connections_refused_total counter\n"
                  "dcn_hoster_connections_refused_total %llu\n"
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
                  (unsigned long long)SUM(connections_total), (unsigned long long)SUM(connections_refused),
                  (unsigned long long)SUM(cache_hits),
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

void metrics_totals(struct metrics *const *per_worker, unsigned n, struct metrics_totals *out)
{
    out->requests = out->errors = 0;
    for (unsigned s = 0; s < METRICS_NUM_STATUS; s++) {
        uint64_t v = SUM(requests[s]);
        out->requests += v;
        if (status_codes[s] >= 500)
            out->errors += v;
    }
    out->bytes = SUM(response_bytes);
}

void metrics_label_value(struct strbuf *out, const char *s)
{
    strbuf_puts(out, "\"");
    for (; *s; s++) {
        if (*s == '\\')
            strbuf_puts(out, "\\\\");
        else if (*s == '"')
            strbuf_puts(out, "\\\"");
        else if (*s == '\n')
            strbuf_puts(out, "\\n");
        else
            strbuf_append(out, s, 1);
    }
    strbuf_puts(out, "\"");
}

void metrics_render_build_info(struct strbuf *out)
{
    strbuf_puts(out, "# HELP dcn_hoster_build_info The dcn-hoster build that is running (value 1).\n"
                     "# TYPE dcn_hoster_build_info gauge\n"
                     "dcn_hoster_build_info{version=");
    metrics_label_value(out, dcn_build_version());
    strbuf_puts(out, ",commit=");
    metrics_label_value(out, dcn_build_commit());
    strbuf_puts(out, "} 1\n");
}

/* The process's start, from /proc/self/stat (clock ticks after boot) and
 * the boot time in /proc/stat, as Prometheus' own client libraries do. */
static double process_start_time(void)
{
    char buf[1024];
    double boot = 0, start_ticks = -1;
    FILE *fp = fopen("/proc/stat", "re");
    if (fp) {
        while (fgets(buf, sizeof buf, fp))
            if (sscanf(buf, "btime %lf", &boot) == 1)
                break;
        fclose(fp);
    }
    fp = fopen("/proc/self/stat", "re");
    if (fp) {
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        buf[n] = '\0';
        fclose(fp);
        const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
        /* after ") ": state is field 3; starttime is field 22 */
        for (int field = 2; p && field < 22; field++)
            p = strchr(p + 1, ' ');
        if (p)
            start_ticks = strtod(p + 1, NULL);
    }
    long hz = sysconf(_SC_CLK_TCK);
    if (boot <= 0 || start_ticks < 0 || hz <= 0)
        return 0;
    return boot + start_ticks / (double)hz;
}

void metrics_render_process(struct strbuf *out)
{
    struct rusage ru;
    double cpu = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
              (double)ru.ru_stime.tv_usec / 1e6;
    unsigned long long vsize_pages = 0, rss_pages = 0;
    FILE *fp = fopen("/proc/self/statm", "re");
    if (fp) {
        if (fscanf(fp, "%llu %llu", &vsize_pages, &rss_pages) != 2)
            vsize_pages = rss_pages = 0;
        fclose(fp);
    }
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.')
                fds++;
        closedir(d);
        fds--; /* the directory's own descriptor */
    }
    struct rlimit nofile = {0, 0};
    getrlimit(RLIMIT_NOFILE, &nofile);
    strbuf_printf(out,
                  "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
                  "# TYPE process_cpu_seconds_total counter\n"
                  "process_cpu_seconds_total %.6f\n"
                  "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                  "# TYPE process_resident_memory_bytes gauge\n"
                  "process_resident_memory_bytes %llu\n"
                  "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                  "# TYPE process_virtual_memory_bytes gauge\n"
                  "process_virtual_memory_bytes %llu\n"
                  "# HELP process_open_fds Number of open file descriptors.\n"
                  "# TYPE process_open_fds gauge\n"
                  "process_open_fds %llu\n"
                  "# HELP process_max_fds Maximum number of open file descriptors.\n"
                  "# TYPE process_max_fds gauge\n"
                  "process_max_fds %llu\n"
                  "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
                  "# TYPE process_start_time_seconds gauge\n"
                  "process_start_time_seconds %.2f\n",
                  cpu, rss_pages * (unsigned long long)page, vsize_pages * (unsigned long long)page, fds,
                  (unsigned long long)nofile.rlim_cur, process_start_time());
}
