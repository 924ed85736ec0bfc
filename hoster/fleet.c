#include "fleet.h"

#include "adoption.h"
#include "catalog.h"
#include "config.h"
#include "content_root.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "server.h"
#include "strbuf.h"
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct fleet_sample {
    time_t t;                 /* CLOCK_MONOTONIC seconds */
    struct metrics_totals m;
};

struct fleet {
    struct server *srv;
    const char *repo_path;
    size_t repo_path_len;
    struct adoption *adoption;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;     /* guards everything below */
    pthread_cond_t wake;
    bool stop;
    struct catalog *catalog;
    struct fleet_sample samples[FLEET_SAMPLES]; /* ring */
    unsigned num_samples, next_sample;
};

static time_t mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Publishes c (taking over the caller's reference) and the hosted set. */
static void fleet_publish(struct fleet *f, struct catalog *c)
{
    uint8_t (*hosted)[OSTREE_CSUM_LEN] = calloc(c->num_versions ? c->num_versions : 1, sizeof *hosted);
    size_t n = 0;
    for (size_t i = 0; hosted && i < c->num_versions; i++) {
        bool dup = false;
        for (size_t j = 0; j < n && !dup; j++)
            dup = !memcmp(hosted[j], c->versions[i].commit, OSTREE_CSUM_LEN);
        if (!dup)
            memcpy(hosted[n++], c->versions[i].commit, OSTREE_CSUM_LEN);
    }
    if (hosted)
        adoption_set_hosted(f->adoption, (const uint8_t (*)[OSTREE_CSUM_LEN])hosted, n);
    free(hosted);
    pthread_mutex_lock(&f->lock);
    struct catalog *old = f->catalog;
    f->catalog = c;
    pthread_mutex_unlock(&f->lock);
    catalog_unref(old);
}

/* Reads the catalog again; publishes it when something changed. Returns
 * the current catalog, referenced. */
static struct catalog *fleet_refresh(struct fleet *f)
{
    struct content_root *root = server_acquire_root(f->srv);
    struct catalog *cur = fleet_catalog(f);
    struct catalog *fresh = catalog_build(root, f->repo_path, cur, time(NULL));
    content_root_unref(root);
    if (cur && catalog_same(cur, fresh)) {
        catalog_unref(fresh);
        return cur;
    }
    if (cur && fresh->num_versions)
        log_info("hosted versions: %zu (refs and history), %zu static deltas", fresh->num_versions, fresh->num_deltas);
    catalog_unref(cur);
    catalog_ref(fresh);
    fleet_publish(f, fresh);
    return fresh;
}

/* Counts the size of one version that has none yet; returns whether there
 * was one (the caller loops, checking for stop between versions). */
static bool fleet_size_one(struct fleet *f, struct catalog *c)
{
    for (size_t i = 0; i < c->num_versions; i++) {
        struct catalog_version *v = &c->versions[i];
        if (atomic_load(&v->size) != -1)
            continue;
        struct content_root *root = server_acquire_root(f->srv);
        uint64_t size = 0;
        int64_t result = catalog_commit_size(root, f->repo_path, v->commit, &size) == 0 ? (int64_t)size : -2;
        content_root_unref(root);
        for (size_t j = i; j < c->num_versions; j++) /* the same commit under other refs */
            if (!memcmp(c->versions[j].commit, v->commit, OSTREE_CSUM_LEN))
                atomic_store(&c->versions[j].size, result);
        return true;
    }
    return false;
}

static void fleet_sample(struct fleet *f)
{
    struct server *srv = f->srv;
    struct metrics *per_worker[HOSTER_MAX_THREADS];
    unsigned n = server_worker_metrics(srv, per_worker);
    struct fleet_sample s = {.t = mono_seconds()};
    metrics_totals(per_worker, n, &s.m);
    pthread_mutex_lock(&f->lock);
    f->samples[f->next_sample] = s;
    f->next_sample = (f->next_sample + 1) % FLEET_SAMPLES;
    if (f->num_samples < FLEET_SAMPLES)
        f->num_samples++;
    pthread_mutex_unlock(&f->lock);
}

static void *fleet_main(void *arg)
{
    struct fleet *f = arg;
    time_t next_sample = 0;
    pthread_mutex_lock(&f->lock);
    while (!f->stop) {
        pthread_mutex_unlock(&f->lock);
        if (mono_seconds() >= next_sample) {
            fleet_sample(f);
            next_sample = mono_seconds() + FLEET_SAMPLE_SECONDS;
        }
        struct catalog *c = fleet_refresh(f);
        bool more = true;
        while (more) {
            more = fleet_size_one(f, c);
            pthread_mutex_lock(&f->lock);
            bool stop = f->stop;
            pthread_mutex_unlock(&f->lock);
            if (stop)
                break;
        }
        catalog_unref(c);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += FLEET_REFRESH_SECONDS;
        pthread_mutex_lock(&f->lock);
        while (!f->stop && pthread_cond_timedwait(&f->wake, &f->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

struct fleet *fleet_new(struct server *srv)
{
    struct fleet *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
        seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)f;
    f->adoption = adoption_new(srv->cfg->adoption_max, seed);
    if (!f->adoption) {
        free(f);
        return NULL;
    }
    f->srv = srv;
    f->repo_path = srv->cfg->repo_path;
    f->repo_path_len = strlen(f->repo_path);
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->wake, &ca);
    pthread_condattr_destroy(&ca);
    catalog_unref(fleet_refresh(f));
    return f;
}

int fleet_start(struct fleet *f)
{
    int rc = pthread_create(&f->thread, NULL, fleet_main, f);
    if (rc) {
        errno = rc;
        return -1;
    }
    f->started = true;
    return 0;
}

void fleet_stop(struct fleet *f)
{
    if (!f || !f->started)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    f->started = false;
}

void fleet_free(struct fleet *f)
{
    if (!f)
        return;
    fleet_stop(f);
    catalog_unref(f->catalog);
    adoption_free(f->adoption);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->wake);
    free(f);
}

void fleet_note_request(struct fleet *f, const struct request *r)
{
    const char *p = r->path;
    size_t len = r->path_len;
    if (f->repo_path_len) {
        if (len <= f->repo_path_len || p[f->repo_path_len] != '/' || memcmp(p, f->repo_path, f->repo_path_len))
            return;
        p += f->repo_path_len + 1;
        len -= f->repo_path_len + 1;
    }
    uint8_t commit[OSTREE_CSUM_LEN];
    if (!ostree_fetched_commit(p, len, commit))
        return;
    struct ip_addr peer;
    if (!ip_addr_parse(r->peer, strlen(r->peer), &peer))
        return;
    const struct hoster_config *cfg = r->cfg;
    struct ip_addr client = trusted_proxy_client(&peer, cfg->trusted_proxy, cfg->num_trusted_proxy,
                                                 r->head->headers, r->head->num_headers);
    adoption_record(f->adoption, &client, commit, (uint32_t)r->w->now.tv_sec);
}

struct catalog *fleet_catalog(struct fleet *f)
{
    pthread_mutex_lock(&f->lock);
    struct catalog *c = f->catalog;
    if (c)
        catalog_ref(c);
    pthread_mutex_unlock(&f->lock);
    return c;
}

struct adoption *fleet_adoption(struct fleet *f) { return f->adoption; }

static void version_labels(struct strbuf *out, const struct catalog_version *v)
{
    strbuf_puts(out, "{ref=");
    metrics_label_value(out, v->ref);
    strbuf_puts(out, ",version=");
    metrics_label_value(out, v->version);
    strbuf_printf(out, ",commit=\"%s\"}", v->hex);
}

static const struct adoption_count *count_of(const struct adoption_count *counts, size_t n, const uint8_t *commit)
{
    for (size_t i = 0; i < n; i++)
        if (!memcmp(counts[i].commit, commit, OSTREE_CSUM_LEN))
            return &counts[i];
    return NULL;
}

void fleet_render_metrics(struct fleet *f, struct strbuf *out, time_t now)
{
    struct catalog *c = fleet_catalog(f);
    struct adoption_count *counts = calloc(ADOPTION_MAX_HOSTED, sizeof *counts);
    size_t nc = counts ? adoption_count(f->adoption, (uint32_t)now, counts, ADOPTION_MAX_HOSTED) : 0;

    strbuf_puts(out, "# HELP dcn_hoster_ref_info The commit each ref under refs/heads points at, and its version (value 1).\n"
                     "# TYPE dcn_hoster_ref_info gauge\n");
    for (size_t i = 0; i < c->num_versions; i++) {
        const struct catalog_version *v = &c->versions[i];
        if (!v->head)
            continue;
        strbuf_puts(out, "dcn_hoster_ref_info");
        version_labels(out, v);
        strbuf_puts(out, " 1\n");
    }
    static const struct {
        const char *name, *help;
    } families[] = {
        {"dcn_hoster_version_clients", "Distinct clients (addresses, behind --trusted-proxy the X-Forwarded-For client) "
                                       "that fetched the version's commit object or a delta to it in the last 24 hours."},
        {"dcn_hoster_version_last_fetch_timestamp_seconds", "When a client last fetched the version (within the last 24 hours)."},
        {"dcn_hoster_version_hosted_since_timestamp_seconds", "When this process first saw the version in the repository."},
        {"dcn_hoster_version_commit_timestamp_seconds", "The version's commit date."},
        {"dcn_hoster_version_size_bytes", "Bytes the version's objects take in the repository (once counted)."},
    };
    for (size_t fam = 0; fam < sizeof families / sizeof families[0]; fam++) {
        strbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", families[fam].name, families[fam].help, families[fam].name);
        for (size_t i = 0; i < c->num_versions; i++) {
            const struct catalog_version *v = &c->versions[i];
            const struct adoption_count *ac = count_of(counts, nc, v->commit);
            int64_t size = atomic_load(&v->size);
            long long value;
            switch (fam) {
            case 0: value = ac ? (long long)ac->clients : 0; break;
            case 1: if (!ac || !ac->last_fetch) continue; value = ac->last_fetch; break;
            case 2: value = (long long)v->hosted_since; break;
            case 3: value = (long long)v->timestamp; break;
            default: if (size < 0) continue; value = size; break;
            }
            strbuf_puts(out, families[fam].name);
            version_labels(out, v);
            strbuf_printf(out, " %lld\n", value);
        }
    }
    struct adoption_stats st;
    adoption_get_stats(f->adoption, &st);
    strbuf_printf(out,
                  "# HELP dcn_hoster_adoption_pairs (client, version) pairs held for the adoption counts.\n"
                  "# TYPE dcn_hoster_adoption_pairs gauge\n"
                  "dcn_hoster_adoption_pairs %u\n"
                  "# HELP dcn_hoster_adoption_capacity (client, version) pairs the adoption counts can hold (--adoption-max).\n"
                  "# TYPE dcn_hoster_adoption_capacity gauge\n"
                  "dcn_hoster_adoption_capacity %u\n"
                  "# HELP dcn_hoster_adoption_fetches_total Fetches of hosted commits (commit objects, delta superblocks) recorded.\n"
                  "# TYPE dcn_hoster_adoption_fetches_total counter\n"
                  "dcn_hoster_adoption_fetches_total %llu\n"
                  "# HELP dcn_hoster_adoption_evicted_total Pairs dropped for room while still inside the 24-hour window: "
                  "when this rises, the client counts are lower bounds (raise --adoption-max).\n"
                  "# TYPE dcn_hoster_adoption_evicted_total counter\n"
                  "dcn_hoster_adoption_evicted_total %llu\n",
                  st.pairs, st.capacity, (unsigned long long)st.recorded, (unsigned long long)st.evicted_live);
    free(counts);
    catalog_unref(c);
}

static void rate_between(const struct fleet_sample *a, const struct fleet_sample *b, struct fleet_rate *out)
{
    double dt = (double)(b->t - a->t);
    memset(out, 0, sizeof *out);
    if (dt <= 0)
        return;
    out->seconds = dt;
    out->requests = (double)(b->m.requests - a->m.requests) / dt;
    out->bytes = (double)(b->m.bytes - a->m.bytes) / dt;
    out->errors = (double)(b->m.errors - a->m.errors) / dt;
}

void fleet_rate(struct fleet *f, unsigned seconds, struct fleet_rate *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&f->lock);
    if (f->num_samples >= 2) {
        unsigned newest = (f->next_sample + FLEET_SAMPLES - 1) % FLEET_SAMPLES;
        unsigned oldest = newest;
        for (unsigned k = 1; k < f->num_samples; k++) {
            unsigned i = (newest + FLEET_SAMPLES - k) % FLEET_SAMPLES;
            oldest = i;
            if (f->samples[newest].t - f->samples[i].t >= (time_t)seconds)
                break;
        }
        rate_between(&f->samples[oldest], &f->samples[newest], out);
    }
    pthread_mutex_unlock(&f->lock);
}

size_t fleet_rate_series(struct fleet *f, struct fleet_rate *out, size_t cap)
{
    pthread_mutex_lock(&f->lock);
    size_t n = 0;
    unsigned first = (f->next_sample + FLEET_SAMPLES - f->num_samples) % FLEET_SAMPLES;
    for (unsigned k = 1; k < f->num_samples && n < cap; k++) {
        unsigned a = (first + k - 1) % FLEET_SAMPLES, b = (first + k) % FLEET_SAMPLES;
        rate_between(&f->samples[a], &f->samples[b], &out[n++]);
    }
    pthread_mutex_unlock(&f->lock);
    return n;
}
