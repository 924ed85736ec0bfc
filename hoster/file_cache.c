#include "file_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct file_cache {
    struct file_cache_entry **buckets;
    size_t mask;           /* buckets - 1, a power of two minus one */
    size_t max_bytes, used_bytes;
    struct file_cache_entry *lru_head, *lru_tail;
};

/* FNV-1a: paths are short, and this is not exposed to hash flooding because
 * only paths that exist as files become entries. */
static uint64_t path_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

struct file_cache *file_cache_new(size_t max_bytes)
{
    struct file_cache *fc = calloc(1, sizeof *fc);
    if (!fc)
        return NULL;
    size_t n = 1024;
    while (n < max_bytes / 1024 && n < (1u << 22)) /* ostree metadata averages 1-2 KB */
        n <<= 1;
    fc->buckets = calloc(n, sizeof *fc->buckets);
    if (!fc->buckets) {
        free(fc);
        return NULL;
    }
    fc->mask = n - 1;
    fc->max_bytes = max_bytes;
    return fc;
}

void file_cache_free(struct file_cache *fc)
{
    if (!fc)
        return;
    file_cache_clear(fc);
    free(fc->buckets);
    free(fc);
}

static void lru_unlink(struct file_cache *fc, struct file_cache_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        fc->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        fc->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct file_cache *fc, struct file_cache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = fc->lru_head;
    if (fc->lru_head)
        fc->lru_head->lru_prev = e;
    fc->lru_head = e;
    if (!fc->lru_tail)
        fc->lru_tail = e;
}

struct file_cache_entry *file_cache_get(struct file_cache *fc, const char *path, size_t path_len)
{
    uint64_t h = path_hash(path, path_len);
    for (struct file_cache_entry *e = fc->buckets[h & fc->mask]; e; e = e->hash_next) {
        if (e->hash == h && e->path_len == path_len && !memcmp(e->path, path, path_len)) {
            e->referenced = true; /* second chance at eviction: no relinking on the hot path */
            return e;
        }
    }
    return NULL;
}

void file_cache_remove(struct file_cache *fc, struct file_cache_entry *e)
{
    struct file_cache_entry **pp = &fc->buckets[e->hash & fc->mask];
    while (*pp && *pp != e)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = e->hash_next;
    lru_unlink(fc, e);
    fc->used_bytes -= e->cost;
    free(e);
}

void file_cache_clear(struct file_cache *fc)
{
    while (fc->lru_head)
        file_cache_remove(fc, fc->lru_head);
}

struct file_cache_entry *file_cache_put(struct file_cache *fc, const char *path, size_t path_len,
                                        size_t head_cap, size_t body_len)
{
    size_t cost = sizeof(struct file_cache_entry) + path_len + 1 + head_cap + body_len;
    if (cost > fc->max_bytes / 4)
        return NULL; /* one file must not flush a quarter of the cache */
    struct file_cache_entry *old = file_cache_get(fc, path, path_len);
    if (old)
        file_cache_remove(fc, old);
    while (fc->used_bytes + cost > fc->max_bytes && fc->lru_tail) {
        struct file_cache_entry *victim = fc->lru_tail;
        if (victim->referenced) {
            /* used since it last came round: keep it, at the front */
            victim->referenced = false;
            lru_unlink(fc, victim);
            lru_push_front(fc, victim);
            continue;
        }
        file_cache_remove(fc, victim);
    }
    struct file_cache_entry *e = malloc(cost);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->hash = path_hash(path, path_len);
    e->cost = cost;
    e->path_len = path_len;
    memcpy(e->path, path, path_len);
    e->path[path_len] = '\0';
    e->head_tail = e->path + path_len + 1;
    e->body = e->head_tail + head_cap;
    size_t b = e->hash & fc->mask;
    e->hash_next = fc->buckets[b];
    fc->buckets[b] = e;
    lru_push_front(fc, e);
    fc->used_bytes += cost;
    return e;
}

int file_cache_entry_fresh(const struct file_cache_entry *e, const struct stat *st)
{
    return e->ino == st->st_ino && e->dev == st->st_dev && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}
