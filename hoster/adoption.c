#include "adoption.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct adoption_entry {
    struct ip_addr client;
    uint64_t commit;       /* first 8 bytes of the checksum, big-endian */
    uint32_t seen;         /* Unix seconds */
    uint32_t newer, older; /* recency list */
    uint32_t chain;        /* next in the hash bucket, or in the free list */
};

struct adoption {
    pthread_mutex_t lock;
    struct adoption_entry *e;
    uint32_t cap, used;
    uint32_t *buckets;
    uint32_t mask;
    uint32_t newest, oldest;
    uint32_t free_list;
    uint64_t seed;
    struct hosted_key {
        uint64_t prefix;
        uint32_t index; /* into hosted[] */
    } by_prefix[ADOPTION_MAX_HOSTED]; /* sorted by prefix */
    uint8_t hosted[ADOPTION_MAX_HOSTED][32]; /* in the caller's order */
    size_t num_hosted;
    uint64_t recorded, evicted_live;
};

_Static_assert(sizeof(struct adoption_entry) + sizeof(uint32_t) == ADOPTION_ENTRY_BYTES,
               "docs/hoster.md states the bytes per pair");

static uint64_t prefix_of(const uint8_t commit[32])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | commit[i];
    return v;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint32_t bucket_of(const struct adoption *a, const struct ip_addr *client, uint64_t commit)
{
    uint64_t w0, w1;
    memcpy(&w0, client->b, 8);
    memcpy(&w1, client->b + 8, 8);
    uint64_t h = mix(a->seed ^ w0);
    h = mix(h ^ w1);
    h = mix(h ^ commit);
    return (uint32_t)h & a->mask;
}

struct adoption *adoption_new(uint32_t capacity, uint64_t seed)
{
    if (capacity == 0)
        capacity = 1;
    struct adoption *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    uint32_t nb = 1;
    while (nb < capacity && nb < (1u << 31))
        nb <<= 1;
    a->e = calloc(capacity, sizeof *a->e);
    a->buckets = malloc((size_t)nb * sizeof *a->buckets);
    if (!a->e || !a->buckets) {
        adoption_free(a);
        return NULL;
    }
    for (uint32_t i = 0; i < nb; i++)
        a->buckets[i] = NIL;
    for (uint32_t i = 0; i < capacity; i++)
        a->e[i].chain = i + 1 < capacity ? i + 1 : NIL;
    a->free_list = 0;
    a->cap = capacity;
    a->mask = nb - 1;
    a->newest = a->oldest = NIL;
    a->seed = seed;
    pthread_mutex_init(&a->lock, NULL);
    return a;
}

void adoption_free(struct adoption *a)
{
    if (!a)
        return;
    if (a->cap)
        pthread_mutex_destroy(&a->lock);
    free(a->e);
    free(a->buckets);
    free(a);
}

static void list_unlink(struct adoption *a, uint32_t i)
{
    struct adoption_entry *x = &a->e[i];
    if (x->newer != NIL)
        a->e[x->newer].older = x->older;
    else
        a->newest = x->older;
    if (x->older != NIL)
        a->e[x->older].newer = x->newer;
    else
        a->oldest = x->newer;
}

static void list_push_newest(struct adoption *a, uint32_t i)
{
    a->e[i].newer = NIL;
    a->e[i].older = a->newest;
    if (a->newest != NIL)
        a->e[a->newest].newer = i;
    a->newest = i;
    if (a->oldest == NIL)
        a->oldest = i;
}

static void remove_entry(struct adoption *a, uint32_t i)
{
    struct adoption_entry *x = &a->e[i];
    uint32_t *link = &a->buckets[bucket_of(a, &x->client, x->commit)];
    while (*link != i)
        link = &a->e[*link].chain;
    *link = x->chain;
    list_unlink(a, i);
    x->chain = a->free_list;
    a->free_list = i;
    a->used--;
}

static bool within(uint32_t seen, uint32_t now)
{
    return seen > now || now - seen < ADOPTION_WINDOW_SECONDS;
}

static bool hosted_index(const struct adoption *a, uint64_t prefix, size_t *idx)
{
    size_t lo = 0, hi = a->num_hosted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->by_prefix[mid].prefix < prefix)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == a->num_hosted || a->by_prefix[lo].prefix != prefix)
        return false;
    if (idx)
        *idx = a->by_prefix[lo].index;
    return true;
}

static int by_prefix_cmp(const void *x, const void *y)
{
    uint64_t p = ((const struct hosted_key *)x)->prefix, q = ((const struct hosted_key *)y)->prefix;
    return p < q ? -1 : p > q;
}

void adoption_set_hosted(struct adoption *a, const uint8_t (*commits)[32], size_t n)
{
    if (n > ADOPTION_MAX_HOSTED)
        n = ADOPTION_MAX_HOSTED;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < n; i++) {
        memcpy(a->hosted[i], commits[i], 32);
        a->by_prefix[i] = (struct hosted_key){prefix_of(commits[i]), (uint32_t)i};
    }
    a->num_hosted = n;
    qsort(a->by_prefix, n, sizeof a->by_prefix[0], by_prefix_cmp);
    for (uint32_t i = a->oldest; i != NIL;) {
        uint32_t next = a->e[i].newer;
        if (!hosted_index(a, a->e[i].commit, NULL))
            remove_entry(a, i);
        i = next;
    }
    pthread_mutex_unlock(&a->lock);
}

bool adoption_record(struct adoption *a, const struct ip_addr *client, const uint8_t commit[32], uint32_t now)
{
    uint64_t prefix = prefix_of(commit);
    pthread_mutex_lock(&a->lock);
    if (!hosted_index(a, prefix, NULL)) {
        pthread_mutex_unlock(&a->lock);
        return false;
    }
    a->recorded++;
    uint32_t b = bucket_of(a, client, prefix);
    for (uint32_t i = a->buckets[b]; i != NIL; i = a->e[i].chain) {
        struct adoption_entry *x = &a->e[i];
        if (x->commit == prefix && !memcmp(&x->client, client, sizeof *client)) {
            x->seen = now;
            list_unlink(a, i);
            list_push_newest(a, i);
            pthread_mutex_unlock(&a->lock);
            return true;
        }
    }
    if (a->free_list == NIL) {
        uint32_t victim = a->oldest;
        if (within(a->e[victim].seen, now))
            a->evicted_live++;
        remove_entry(a, victim);
        b = bucket_of(a, client, prefix); /* unchanged, but the bucket's chain may be */
    }
    uint32_t i = a->free_list;
    struct adoption_entry *x = &a->e[i];
    a->free_list = x->chain;
    x->client = *client;
    x->commit = prefix;
    x->seen = now;
    x->chain = a->buckets[b];
    a->buckets[b] = i;
    list_push_newest(a, i);
    a->used++;
    pthread_mutex_unlock(&a->lock);
    return true;
}

size_t adoption_count(struct adoption *a, uint32_t now, struct adoption_count *out, size_t cap)
{
    pthread_mutex_lock(&a->lock);
    size_t n = a->num_hosted < cap ? a->num_hosted : cap;
    for (size_t i = 0; i < n; i++) {
        memcpy(out[i].commit, a->hosted[i], 32);
        out[i].clients = 0;
        out[i].last_fetch = 0;
    }
    /* newest first: stop at the first pair older than the window */
    for (uint32_t i = a->newest; i != NIL && within(a->e[i].seen, now); i = a->e[i].older) {
        size_t h;
        if (!hosted_index(a, a->e[i].commit, &h) || h >= n)
            continue;
        out[h].clients++;
        if (a->e[i].seen > out[h].last_fetch)
            out[h].last_fetch = a->e[i].seen;
    }
    pthread_mutex_unlock(&a->lock);
    return n;
}

void adoption_get_stats(struct adoption *a, struct adoption_stats *out)
{
    pthread_mutex_lock(&a->lock);
    out->capacity = a->cap;
    out->pairs = a->used;
    out->recorded = a->recorded;
    out->evicted_live = a->evicted_live;
    pthread_mutex_unlock(&a->lock);
}
