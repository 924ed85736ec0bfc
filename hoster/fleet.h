/* fleet: what the hoster knows about the versions it hosts and the clients
 * that fetch them. A thread of its own re-reads the repository's catalog
 * (catalog.h) every few seconds, counts the size of new versions, tells
 * the adoption counter (adoption.h) which commits are hosted, and samples
 * the request counters for the status page's rates. Workers only call
 * fleet_note_request, which returns after comparing a path's last bytes
 * unless the request fetches a commit. */
#ifndef DCN_FLEET_H
#define DCN_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct server;
struct request;
struct strbuf;
struct catalog;
struct adoption;

#define FLEET_REFRESH_SECONDS 2 /* catalog re-read */
#define FLEET_SAMPLE_SECONDS 10 /* request counters sampled for rates */
#define FLEET_SAMPLES 91        /* 15 minutes of samples */

struct fleet;

/* Reads the first catalog (so that counts are right from the first
 * request). NULL when memory cannot be had. */
struct fleet *fleet_new(struct server *srv);
/* Starts the thread (the workers must exist: it samples their metrics). */
int fleet_start(struct fleet *f);
/* Stops and joins the thread; safe when it was never started. */
void fleet_stop(struct fleet *f);
void fleet_free(struct fleet *f);

/* Worker: records who fetched which hosted commit, if r does. */
void fleet_note_request(struct fleet *f, const struct request *r);

/* Whether a path can fetch a commit at all (".commit", "/superblock"):
 * one byte compared, so that other requests skip even the call. */
static inline bool fleet_may_fetch_commit(const char *path, size_t len)
{
    return len > 11 && (path[len - 1] == 't' || path[len - 1] == 'k');
}

/* The current catalog, referenced: catalog_unref when done. */
struct catalog *fleet_catalog(struct fleet *f);
struct adoption *fleet_adoption(struct fleet *f);

/* Prometheus text for refs, versions and adoption. */
void fleet_render_metrics(struct fleet *f, struct strbuf *out, time_t now);

struct fleet_rate {
    double seconds;      /* the span measured; 0: not enough samples yet */
    double requests;     /* per second */
    double bytes;        /* response body bytes per second */
    double errors;       /* 5xx per second */
};
/* Rates over the last `seconds` (as far back as samples go). */
void fleet_rate(struct fleet *f, unsigned seconds, struct fleet_rate *out);
/* Per-interval rates, oldest first, FLEET_SAMPLE_SECONDS apart; returns
 * how many (at most cap, at most FLEET_SAMPLES - 1). */
size_t fleet_rate_series(struct fleet *f, struct fleet_rate *out, size_t cap);

#endif
