/* content_root: the directory being served, opened once and shared by the
 * workers. A content swap (the root symlink re-pointed, or SIGHUP) opens a
 * new content_root; requests in flight keep the old one alive through their
 * reference until they finish. */
#ifndef DCN_CONTENT_ROOT_H
#define DCN_CONTENT_ROOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct content_root {
    int fd;               /* O_PATH|O_DIRECTORY descriptor every open is relative to */
    uint64_t gen;         /* generation, increases with every swap */
    dev_t dev;            /* identity of the directory the root resolved to */
    ino_t ino;
    char *real_path;      /* the resolved directory, for status */
    bool follow_symlinks; /* --follow-symlinks: links may lead anywhere */
    atomic_uint refs;
};

/* Opens path (following symlinks) as generation gen. follow_symlinks is the
 * policy for paths below it (see content_root_openat). Returns NULL and logs
 * on error. */
struct content_root *content_root_open(const char *path, uint64_t gen, bool follow_symlinks);
void content_root_ref(struct content_root *root);
void content_root_unref(struct content_root *root);

/* Opens rel (a normalised relative path, "" for the root itself) under the
 * root. By default no component may leave the root, through ".." or a
 * symlink (an absolute link counts as leaving, wherever it points); with
 * follow_symlinks, links are followed wherever they lead (".." is still
 * resolved lexically before, by path_norm). Magic links (/proc/PID/fd/N)
 * are never followed.
 * Returns an fd, or -1 with errno (EXDEV for a link leading out, ELOOP for a
 * loop or a magic link, ENOENT...). */
int content_root_openat(const struct content_root *root, const char *rel, int flags);

/* A refusal because of a symlink, as the logs explain it. */
struct link_refusal {
    const char *reason; /* access log word: "symlink-outside-root", "symlink-loop" */
    const char *advice; /* what it means and what to do, for stderr */
    unsigned bit;       /* distinct per kind, for "explained once" masks */
};

/* When a failed content_root_openat's errno means "refused because of a
 * symlink", what it means; otherwise NULL. */
const struct link_refusal *content_root_link_refusal(int err);

#endif
