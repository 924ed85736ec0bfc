#include "ops.h"

#include "build_info.h"

#include "adoption.h"
#include "catalog.h"
#include "config.h"
#include "content_root.h"
#include "fleet.h"
#include "metrics.h"
#include "refs.h"
#include "respond.h"
#include "server.h"
#include "status_page.h"
#include "strbuf.h"
#include "worker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NO_STORE "Cache-Control: no-store\r\n"

static void respond_text(struct request *r, int status, const char *type, const char *body, size_t len)
{
    respond_memory(r, status, type, NO_STORE, strlen(NO_STORE), body, len);
}

static void ops_status(struct request *r, bool ready)
{
    struct server *srv = r->w->srv;
    struct strbuf sb = STRBUF_INIT;
    struct ref_list refs;
    int rc = refs_list(r->root, r->cfg->repo_path, &refs);
    strbuf_printf(&sb, "{\"ready\":%s,\"draining\":%s,\"root\":", ready ? "true" : "false",
                  atomic_load(&srv->draining) ? "true" : "false");
    strbuf_json_string(&sb, r->root->real_path, strlen(r->root->real_path));
    strbuf_puts(&sb, ",\"repo_path\":");
    strbuf_json_string(&sb, r->cfg->repo_path, strlen(r->cfg->repo_path));
    strbuf_printf(&sb, ",\"symlink_policy\":\"%s\"", server_symlink_policy(r->cfg));
    strbuf_puts(&sb, ",\"refs\":{");
    for (size_t i = 0; rc == 0 && i < refs.n; i++) {
        if (i)
            strbuf_puts(&sb, ",");
        strbuf_json_string(&sb, refs.refs[i].name, strlen(refs.refs[i].name));
        strbuf_puts(&sb, ":");
        if (refs.refs[i].checksum[0])
            strbuf_json_string(&sb, refs.refs[i].checksum, REFS_CHECKSUM_LEN);
        else
            strbuf_puts(&sb, "null");
    }
    strbuf_printf(&sb, "},\"content_generation\":%llu,\"uptime_seconds\":%lld,\"version\":\"%s\",\"commit\":\"%s\"}\n",
                  (unsigned long long)r->root->gen, (long long)(time(NULL) - srv->started), dcn_build_version(),
                  dcn_build_commit());
    if (rc == 0)
        refs_free(&refs);
    respond_text(r, 200, "application/json", sb.data, sb.len);
    strbuf_free(&sb);
}

static void ops_metrics(struct request *r, bool ready)
{
    struct server *srv = r->w->srv;
    struct metrics *per_worker[HOSTER_MAX_THREADS];
    unsigned n = server_worker_metrics(srv, per_worker);
    struct strbuf sb = STRBUF_INIT;
    metrics_render_build_info(&sb);
    metrics_render(&sb, per_worker, n, ready);
    fleet_render_metrics(srv->fleet, &sb, r->w->now.tv_sec);
    metrics_render_process(&sb);
    respond_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", sb.data, sb.len);
    strbuf_free(&sb);
}

/* The status page: what the repository hosts and who fetches it. */
static void ops_page(struct request *r, bool ready)
{
    static const char headers[] = NO_STORE
        "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\r\n"
        "X-Content-Type-Options: nosniff\r\n";
    struct server *srv = r->w->srv;
    struct metrics *per_worker[HOSTER_MAX_THREADS];
    unsigned n = server_worker_metrics(srv, per_worker);
    struct metrics_totals totals;
    metrics_totals(per_worker, n, &totals);
    struct catalog *c = fleet_catalog(srv->fleet);
    struct adoption_count *counts = calloc(ADOPTION_MAX_HOSTED, sizeof *counts);
    struct fleet_rate *series = calloc(FLEET_SAMPLES, sizeof *series);
    if (!counts || !series) {
        free(counts);
        free(series);
        catalog_unref(c);
        respond_error(r, 500);
        return;
    }
    struct status_page_data d = {
        .build_version = dcn_build_version(),
        .build_commit = dcn_build_commit(),
        .ready = ready,
        .draining = atomic_load(&srv->draining),
        .uptime_seconds = (long long)(time(NULL) - srv->started),
        .root_path = r->root->real_path,
        .repo_path = r->cfg->repo_path,
        .now = r->w->now.tv_sec,
        .catalog = c,
        .counts = counts,
        .num_counts = adoption_count(fleet_adoption(srv->fleet), (uint32_t)r->w->now.tv_sec, counts, ADOPTION_MAX_HOSTED),
        .series = series,
        .num_series = fleet_rate_series(srv->fleet, series, FLEET_SAMPLES),
        .requests_total = totals.requests,
        .bytes_total = totals.bytes,
    };
    adoption_get_stats(fleet_adoption(srv->fleet), &d.adoption);
    fleet_rate(srv->fleet, 60, &d.rate_short);
    fleet_rate(srv->fleet, 600, &d.rate_long);
    struct strbuf sb = STRBUF_INIT;
    status_page_render(&sb, &d);
    respond_memory(r, 200, "text/html; charset=utf-8", headers, sizeof headers - 1, sb.data, sb.len);
    strbuf_free(&sb);
    free(counts);
    free(series);
    catalog_unref(c);
}

void ops_respond(struct request *r)
{
    const char *name = r->path_len > 2 ? r->path + 2 : "";
    struct server *srv = r->w->srv;
    if (!*name) {
        ops_page(r, server_is_ready(srv, r->root));
    } else if (!strcmp(name, "live")) {
        respond_text(r, 200, "text/plain; charset=utf-8", "ok\n", 3);
    } else if (!strcmp(name, "ready")) {
        if (server_is_ready(srv, r->root))
            respond_text(r, 200, "text/plain; charset=utf-8", "ready\n", 6);
        else
            respond_text(r, 503, "text/plain; charset=utf-8", "not ready\n", 10);
    } else if (!strcmp(name, "metrics")) {
        ops_metrics(r, server_is_ready(srv, r->root));
    } else if (!strcmp(name, "status")) {
        ops_status(r, server_is_ready(srv, r->root));
    } else {
        respond_error(r, 404);
    }
}
