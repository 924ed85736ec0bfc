/* file_cache: a worker's bounded cache of small content-addressed files
 * (ostree objects, delta superblocks, delta indexes: content_addressed.h,
 * chosen by static_file.c): their bytes and the constant part of their 200
 * response head. Single-threaded by design: each worker has its own, so
 * lookups take no lock. Entries record the file's
 * identity (dev, inode, size, mtime, ctime) so the caller can check them
 * against a fresh stat before use. */
#ifndef DCN_FILE_CACHE_H
#define DCN_FILE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct file_cache;

struct file_cache_entry {
    struct file_cache_entry *hash_next;
    struct file_cache_entry *lru_prev, *lru_next; /* insertion order, newest first (CLOCK) */
    bool referenced;        /* hit since the eviction hand last passed: spared once */
    uint64_t hash;
    size_t cost;            /* bytes charged against the cache's budget */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    bool verify;            /* the path ends in a symlink, whose target the content watch
                               does not see change: check every hit with a stat */
    char *head_tail;        /* "Content-Type: ...\r\n...Accept-Ranges: bytes\r\n\r\n" */
    size_t head_tail_len;
    char *validators;       /* "Last-Modified: ...\r\nETag: ...\r\n" inside head_tail */
    size_t validators_len;
    char *etag;             /* the tag inside head_tail, quotes included */
    size_t etag_len;
    char *body;
    size_t path_len;
    char path[];            /* NUL-terminated; head_tail and body follow */
};

struct file_cache *file_cache_new(size_t max_bytes);
void file_cache_free(struct file_cache *fc);

/* Looks path up and marks it referenced. */
struct file_cache_entry *file_cache_get(struct file_cache *fc, const char *path, size_t path_len);

/* Allocates an entry for path with room for head_cap + body_len bytes
 * (e->head_tail and e->body point there), replacing an entry of the same
 * path and evicting entries not referenced since the eviction hand last
 * passed them (CLOCK, an LRU approximation). Returns NULL when it does not
 * fit in the budget at all. */
struct file_cache_entry *file_cache_put(struct file_cache *fc, const char *path, size_t path_len,
                                        size_t head_cap, size_t body_len);

void file_cache_remove(struct file_cache *fc, struct file_cache_entry *e);
void file_cache_clear(struct file_cache *fc);

/* True when st describes the same file, unchanged, as when e was filled. */
int file_cache_entry_fresh(const struct file_cache_entry *e, const struct stat *st);

#endif
