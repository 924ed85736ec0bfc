/* status_page: the operator's page at /-/: the hosted versions per ref
 * with commit, date and size, the static deltas between them, adoption per
 * version as bars, request and byte rates. Server-rendered HTML with inline
 * SVG: no scripts, no external resources (the response's
 * Content-Security-Policy forbids both), readable without its stylesheet;
 * every text from the repository is HTML-escaped. A pure function of its
 * input, which ops.c gathers. */
#ifndef DCN_STATUS_PAGE_H
#define DCN_STATUS_PAGE_H

#include "adoption.h"
#include "catalog.h"
#include "fleet.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct strbuf;

struct status_page_data {
    const char *build_version, *build_commit;
    bool ready, draining;
    long long uptime_seconds;
    const char *root_path;       /* the resolved content root */
    const char *repo_path;       /* "" when the root is the repository */
    time_t now;
    const struct catalog *catalog;
    const struct adoption_count *counts; /* per hosted commit */
    size_t num_counts;
    struct adoption_stats adoption;
    struct fleet_rate rate_short, rate_long; /* last minute, last 10 minutes */
    const struct fleet_rate *series;         /* FLEET_SAMPLE_SECONDS apart, oldest first */
    size_t num_series;
    uint64_t requests_total, bytes_total;
};

void status_page_render(struct strbuf *out, const struct status_page_data *d);

/* Appends s[0..len) with & < > " ' as character references. */
void html_escape(struct strbuf *out, const char *s, size_t len);

#endif
