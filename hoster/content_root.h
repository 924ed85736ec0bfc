/* content_root: the directory being served, opened once and shared by the
 * workers. A content swap (the root symlink re-pointed, or SIGHUP) opens a
 * new content_root; requests in flight keep the old one alive through their
 * reference until they finish. */
#ifndef DCN_CONTENT_ROOT_H
#define DCN_CONTENT_ROOT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

struct content_root {
    int fd;               /* O_PATH|O_DIRECTORY descriptor every open is relative to */
    uint64_t gen;         /* generation, increases with every swap */
    dev_t dev;            /* identity of the directory the root resolved to */
    ino_t ino;
    char *real_path;      /* the resolved directory, for status */
    atomic_uint refs;
};

/* Opens path (following symlinks) as generation gen. Returns NULL and logs
 * on error. */
struct content_root *content_root_open(const char *path, uint64_t gen);
void content_root_ref(struct content_root *root);
void content_root_unref(struct content_root *root);

/* Opens rel (a normalised relative path, "" for the root itself) beneath the
 * root: no component may leave the root, through ".." or a symlink.
 * Returns an fd, or -1 with errno (EXDEV/ELOOP for escapes, ENOENT...). */
int content_root_openat(const struct content_root *root, const char *rel, int flags);

#endif
