#include "status_page.h"

#include "strbuf.h"

#include <stdio.h>
#include <string.h>

#define BAR_WIDTH 360     /* px of the longest adoption bar */
#define BAR_LABEL 170     /* px for the version label left of the bars */
#define BAR_ROW 24
#define SPARK_W 540
#define SPARK_H 60

void html_escape(struct strbuf *out, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *ref = NULL;
        switch (s[i]) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default: continue;
        }
        strbuf_append(out, s + start, i - start);
        strbuf_puts(out, ref);
        start = i + 1;
    }
    strbuf_append(out, s + start, len - start);
}

static void esc(struct strbuf *out, const char *s) { html_escape(out, s, strlen(s)); }

static void put_time(struct strbuf *out, time_t t)
{
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    strbuf_printf(out, "<time datetime=\"%04d-%02d-%02dT%02d:%02d:%02dZ\">%s</time>", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, buf);
}

/* Decimal units, as the benchmark and `dcn-builder status` print them. */
static void put_bytes(struct strbuf *out, double v)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    unsigned u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    strbuf_printf(out, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void put_duration(struct strbuf *out, long long s)
{
    if (s < 120)
        strbuf_printf(out, "%lld s", s);
    else if (s < 2 * 3600)
        strbuf_printf(out, "%lld min", s / 60);
    else if (s < 2 * 86400)
        strbuf_printf(out, "%lld h %lld min", s / 3600, s / 60 % 60);
    else
        strbuf_printf(out, "%lld days %lld h", s / 86400, s / 3600 % 24);
}

/* A version as people name it: its version, else the start of its commit. */
static void put_version_name(struct strbuf *out, const struct catalog_version *v)
{
    if (v->version[0])
        esc(out, v->version);
    else
        strbuf_printf(out, "%.12s", v->hex);
}

static const struct adoption_count *count_of(const struct status_page_data *d, const uint8_t *commit)
{
    for (size_t i = 0; i < d->num_counts; i++)
        if (!memcmp(d->counts[i].commit, commit, OSTREE_CSUM_LEN))
            return &d->counts[i];
    return NULL;
}

static void put_commit_ref(struct strbuf *out, const struct catalog *c, const uint8_t *commit)
{
    const struct catalog_version *v = catalog_find(c, commit);
    char hex[OSTREE_HEX_LEN + 1];
    ostree_csum_to_hex(commit, hex);
    if (v && v->version[0]) {
        esc(out, v->version);
        strbuf_puts(out, " ");
    }
    strbuf_printf(out, "<code title=\"%s\">%.12s</code>", hex, hex);
}

/* The adoption bars of one ref's versions [first, end). */
static void put_bars(struct strbuf *out, const struct status_page_data *d, size_t first, size_t end)
{
    const struct catalog *c = d->catalog;
    uint32_t max = 0;
    for (size_t i = first; i < end; i++) {
        const struct adoption_count *ac = count_of(d, c->versions[i].commit);
        if (ac && ac->clients > max)
            max = ac->clients;
    }
    size_t rows = end - first;
    unsigned width = BAR_LABEL + BAR_WIDTH + 80, height = (unsigned)rows * BAR_ROW + 8;
    strbuf_printf(out, "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"adoption\" role=\"img\" "
                       "width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" aria-label=\"Clients per version in the last 24 hours\">\n"
                       "<title>Clients per version in the last 24 hours</title>\n",
                  width, height, width, height);
    for (size_t i = first; i < end; i++) {
        const struct catalog_version *v = &c->versions[i];
        const struct adoption_count *ac = count_of(d, v->commit);
        uint32_t n = ac ? ac->clients : 0;
        unsigned w = max ? (unsigned)((double)n / max * BAR_WIDTH + 0.5) : 0;
        unsigned y = (unsigned)(i - first) * BAR_ROW + 4;
        strbuf_printf(out, "<g><text x=\"%u\" y=\"%u\" text-anchor=\"end\" font-family=\"sans-serif\" font-size=\"13\">",
                      BAR_LABEL - 8, y + 15);
        put_version_name(out, v);
        strbuf_puts(out, "</text><rect class=\"bar\" data-version=\"");
        esc(out, v->version);
        strbuf_printf(out, "\" data-commit=\"%s\" data-clients=\"%u\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
                           "fill=\"%s\"><title>",
                      v->hex, n, BAR_LABEL, y, w ? w : 1, BAR_ROW - 6, v->head ? "#2b6cb0" : "#90a4b8");
        put_version_name(out, v);
        strbuf_printf(out, ": %u client%s</title></rect><text x=\"%u\" y=\"%u\" font-family=\"sans-serif\" "
                           "font-size=\"13\">%u</text></g>\n",
                      n, n == 1 ? "" : "s", BAR_LABEL + (w ? w : 1) + 6, y + 15, n);
    }
    strbuf_puts(out, "</svg>\n<figcaption>Distinct clients that fetched each version (its commit or a delta to it) "
                     "in the last 24 hours; the ref's current version in dark blue.</figcaption>\n</figure>\n");
}

static void put_ref(struct strbuf *out, const struct status_page_data *d, size_t first, size_t end)
{
    const struct catalog *c = d->catalog;
    strbuf_puts(out, "<section class=\"ref\">\n<h3>Ref <code>");
    esc(out, c->versions[first].ref);
    strbuf_puts(out, "</code></h3>\n<table class=\"versions\">\n<thead><tr><th scope=\"col\">version</th>"
                     "<th scope=\"col\">commit</th><th scope=\"col\">date</th><th scope=\"col\">size</th>"
                     "<th scope=\"col\">clients (24 h)</th><th scope=\"col\">last fetch</th><th scope=\"col\">subject</th>"
                     "</tr></thead>\n<tbody>\n");
    for (size_t i = first; i < end; i++) {
        const struct catalog_version *v = &c->versions[i];
        const struct adoption_count *ac = count_of(d, v->commit);
        int64_t size = atomic_load(&((struct catalog_version *)v)->size);
        strbuf_printf(out, "<tr class=\"version\" data-commit=\"%s\"><td>", v->hex);
        if (v->version[0])
            esc(out, v->version);
        else
            strbuf_puts(out, "(no version)");
        if (v->head)
            strbuf_puts(out, " <strong>(current)</strong>");
        strbuf_printf(out, "</td><td><code title=\"%s\">%.12s</code></td><td>", v->hex, v->hex);
        if (v->timestamp)
            put_time(out, (time_t)v->timestamp);
        else
            strbuf_puts(out, "unknown");
        strbuf_puts(out, "</td><td class=\"n\">");
        if (size >= 0) {
            strbuf_printf(out, "<span title=\"%lld bytes\">", (long long)size);
            put_bytes(out, (double)size);
            strbuf_puts(out, "</span>");
        } else {
            strbuf_puts(out, size == -1 ? "counting" : "unknown");
        }
        strbuf_printf(out, "</td><td class=\"n\">%u</td><td>", ac ? ac->clients : 0);
        if (ac && ac->last_fetch)
            put_time(out, (time_t)ac->last_fetch);
        else
            strbuf_puts(out, "none");
        strbuf_puts(out, "</td><td>");
        esc(out, v->subject);
        strbuf_puts(out, "</td></tr>\n");
    }
    strbuf_puts(out, "</tbody>\n</table>\n");
    put_bars(out, d, first, end);
    strbuf_puts(out, "</section>\n");
}

static void put_deltas(struct strbuf *out, const struct status_page_data *d)
{
    const struct catalog *c = d->catalog;
    strbuf_puts(out, "<h2>Static deltas</h2>\n");
    if (!c->num_deltas) {
        strbuf_puts(out, "<p>None: clients fetch every changed object on its own.</p>\n");
        return;
    }
    strbuf_puts(out, "<table class=\"deltas\">\n<thead><tr><th scope=\"col\">from</th><th scope=\"col\">to</th>"
                     "<th scope=\"col\">parts</th><th scope=\"col\">size</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < c->num_deltas; i++) {
        const struct catalog_delta *dl = &c->deltas[i];
        strbuf_puts(out, "<tr class=\"delta\"><td>");
        if (dl->has_from)
            put_commit_ref(out, c, dl->from);
        else
            strbuf_puts(out, "nothing (scratch delta)");
        strbuf_puts(out, "</td><td>");
        put_commit_ref(out, c, dl->to);
        strbuf_printf(out, "</td><td class=\"n\">%u</td><td class=\"n\"><span title=\"%llu bytes\">", dl->parts,
                      (unsigned long long)dl->bytes);
        put_bytes(out, (double)dl->bytes);
        strbuf_puts(out, "</span></td></tr>\n");
    }
    strbuf_puts(out, "</tbody>\n</table>\n");
}

static void put_rate_row(struct strbuf *out, const char *label, const struct fleet_rate *r)
{
    strbuf_printf(out, "<tr><th scope=\"row\">%s</th>", label);
    if (r->seconds <= 0) {
        strbuf_puts(out, "<td colspan=\"4\">not measured yet (rates need two samples, 10 s apart)</td></tr>\n");
        return;
    }
    strbuf_puts(out, "<td>");
    put_duration(out, (long long)r->seconds);
    strbuf_puts(out, "</td>");
    strbuf_printf(out, "<td class=\"n\">%.1f</td><td class=\"n\">", r->requests);
    put_bytes(out, r->bytes);
    strbuf_printf(out, "/s</td><td class=\"n\">%.2f</td></tr>\n", r->errors);
}

/* A line of per-interval values as an SVG polyline. */
static void put_spark(struct strbuf *out, const struct status_page_data *d, bool bytes, const char *title)
{
    double max = 0;
    for (size_t i = 0; i < d->num_series; i++) {
        double v = bytes ? d->series[i].bytes : d->series[i].requests;
        if (v > max)
            max = v;
    }
    strbuf_printf(out, "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"rate\" role=\"img\" width=\"%u\" "
                       "height=\"%u\" viewBox=\"0 0 %u %u\" aria-label=\"%s\">\n<title>%s</title>\n"
                       "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"#f4f6f8\" stroke=\"#c8d0d8\"/>\n",
                  SPARK_W, SPARK_H + 4, SPARK_W, SPARK_H + 4, title, title, SPARK_W, SPARK_H + 4);
    if (d->num_series >= 2) {
        strbuf_puts(out, "<polyline fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"2\" points=\"");
        for (size_t i = 0; i < d->num_series; i++) {
            double v = bytes ? d->series[i].bytes : d->series[i].requests;
            double x = (double)i / (double)(FLEET_SAMPLES - 2) * (SPARK_W - 4) + 2;
            double y = SPARK_H + 2 - (max > 0 ? v / max * SPARK_H : 0);
            strbuf_printf(out, "%s%.1f,%.1f", i ? " " : "", x, y);
        }
        strbuf_puts(out, "\"/>\n");
    }
    strbuf_puts(out, "</svg>\n<figcaption>");
    esc(out, title);
    strbuf_puts(out, ", per 10 s over the last 15 minutes; top of the box: ");
    if (bytes) {
        put_bytes(out, max);
        strbuf_puts(out, "/s");
    } else {
        strbuf_printf(out, "%.1f requests/s", max);
    }
    strbuf_puts(out, ".</figcaption>\n</figure>\n");
}

static void put_traffic(struct strbuf *out, const struct status_page_data *d)
{
    strbuf_puts(out, "<h2>Requests</h2>\n<table class=\"rates\">\n<thead><tr><th scope=\"col\">over the last</th>"
                     "<th scope=\"col\">measured</th>"
                     "<th scope=\"col\">requests/s</th><th scope=\"col\">bytes/s</th><th scope=\"col\">5xx/s</th>"
                     "</tr></thead>\n<tbody>\n");
    put_rate_row(out, "minute", &d->rate_short);
    put_rate_row(out, "10 minutes", &d->rate_long);
    strbuf_printf(out, "</tbody>\n</table>\n<p>Since start: %llu requests, ", (unsigned long long)d->requests_total);
    put_bytes(out, (double)d->bytes_total);
    strbuf_puts(out, " of response bodies.</p>\n");
    put_spark(out, d, false, "Requests per second");
    put_spark(out, d, true, "Response bytes per second");
}

static const char style[] =
    "body{font-family:sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#1a202c}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "th,td{padding:.3em .7em;border-bottom:1px solid #d8dee4;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}td.n,th,time{white-space:nowrap}"
    "figure{margin:.5em 0 1.5em}figcaption{font-size:.85em;color:#4a5568}"
    "code{font-size:.92em}.state{font-weight:bold}";

void status_page_render(struct strbuf *out, const struct status_page_data *d)
{
    const struct catalog *c = d->catalog;
    strbuf_printf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<title>dcn-hoster: hosted versions</title>\n<style>%s</style>\n</head>\n<body>\n"
                       "<h1>dcn-hoster</h1>\n<p>",
                  style);
    strbuf_puts(out, "<span class=\"state\">");
    strbuf_puts(out, d->draining ? "draining" : d->ready ? "ready" : "not ready");
    strbuf_puts(out, "</span>; dcn-hoster ");
    esc(out, d->build_version);
    strbuf_puts(out, " (commit ");
    esc(out, d->build_commit);
    strbuf_puts(out, "), up ");
    put_duration(out, d->uptime_seconds);
    strbuf_puts(out, ". Content root <code>");
    esc(out, d->root_path);
    strbuf_puts(out, "</code>, repository at <code>/");
    esc(out, d->repo_path);
    strbuf_puts(out, "</code>. Page made ");
    put_time(out, d->now);
    strbuf_puts(out, ".</p>\n<h2>Hosted versions</h2>\n");
    if (!c->num_versions)
        strbuf_puts(out, c->repo_readable ? "<p>The repository has no refs.</p>\n"
                                          : "<p>No repository: its refs/heads cannot be read.</p>\n");
    for (size_t i = 0; i < c->num_versions;) {
        size_t end = i + 1;
        while (end < c->num_versions && !strcmp(c->versions[end].ref, c->versions[i].ref))
            end++;
        put_ref(out, d, i, end);
        i = end;
    }
    strbuf_printf(out, "<p>Adoption counts hold %u of %u (client, version) pairs",
                  d->adoption.pairs, d->adoption.capacity);
    if (d->adoption.evicted_live)
        strbuf_printf(out, "; <strong>%llu pairs were dropped for room while still counting, so the counts are lower "
                           "bounds</strong> (raise --adoption-max)",
                      (unsigned long long)d->adoption.evicted_live);
    strbuf_puts(out, ". A client is a peer address, or behind a --trusted-proxy the address in X-Forwarded-For.</p>\n");
    put_deltas(out, d);
    put_traffic(out, d);
    strbuf_puts(out, "<p>Also: <a href=\"/-/status\">/-/status</a> (JSON), <a href=\"/-/metrics\">/-/metrics</a> "
                     "(Prometheus).</p>\n</body>\n</html>\n");
}
