/* adoption: for each hosted version, how many distinct clients fetched it
 * in the last 24 hours and when the last one did, in bounded memory.
 *
 * Exact up to the capacity: every (client address, commit) pair is kept as
 * it is (16 bytes of address, the commit's first 64 bits), with the second
 * it was last seen, in a hash table with least-recently-seen eviction. A
 * pair older than the window no longer counts, and is the first to go when
 * room is needed; only when more distinct pairs than the capacity were seen
 * within the window is a live pair evicted, and then the counts are lower
 * bounds (adoption_stats says how many were lost). Memory: 44 bytes per
 * pair of capacity, allocated once (see docs/hoster.md).
 *
 * Thread-safe: one mutex, taken only when a commit object or a delta
 * superblock is fetched, when the hosted set changes, and when counts are
 * read; never for other requests. */
#ifndef DCN_ADOPTION_H
#define DCN_ADOPTION_H

#include "trusted_proxy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADOPTION_WINDOW_SECONDS 86400u
#define ADOPTION_MAX_HOSTED 1024 /* commits whose fetches are counted */
#define ADOPTION_ENTRY_BYTES 44  /* per pair of capacity: entry (40) + hash bucket (4) */

struct adoption;

/* capacity: pairs kept (at least 1); seed: hash seed (random in the server,
 * fixed in tests). NULL when memory cannot be had. */
struct adoption *adoption_new(uint32_t capacity, uint64_t seed);
void adoption_free(struct adoption *a);

/* The commits (32-byte binary checksums) whose fetches count. Pairs of
 * commits no longer hosted are dropped. At most ADOPTION_MAX_HOSTED. */
void adoption_set_hosted(struct adoption *a, const uint8_t (*commits)[32], size_t n);

/* client fetched commit at now (Unix seconds). Returns false when the
 * commit is not hosted (nothing recorded). */
bool adoption_record(struct adoption *a, const struct ip_addr *client, const uint8_t commit[32], uint32_t now);

struct adoption_count {
    uint8_t commit[32];
    uint32_t clients;    /* distinct clients within the window before now */
    uint32_t last_fetch; /* Unix seconds of the latest fetch within the window, 0: none */
};

/* One count per hosted commit, in the order adoption_set_hosted gave them;
 * returns how many were written (at most cap). */
size_t adoption_count(struct adoption *a, uint32_t now, struct adoption_count *out, size_t cap);

struct adoption_stats {
    uint32_t capacity;
    uint32_t pairs;         /* pairs held (some may be older than the window) */
    uint64_t recorded;      /* fetches of hosted commits recorded */
    uint64_t evicted_live;  /* pairs still inside the window dropped for room */
};
void adoption_get_stats(struct adoption *a, struct adoption_stats *out);

#endif
