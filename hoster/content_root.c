#include "content_root.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct content_root *content_root_open(const char *path, uint64_t gen, bool follow_symlinks)
{
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        log_errno("content root %s", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        log_errno("content root %s: fstat", path);
        close(fd);
        return NULL;
    }
    struct content_root *root = calloc(1, sizeof *root);
    if (!root) {
        close(fd);
        return NULL;
    }
    root->fd = fd;
    root->gen = gen;
    root->follow_symlinks = follow_symlinks;
    root->dev = st.st_dev;
    root->ino = st.st_ino;
    root->real_path = realpath(path, NULL);
    if (!root->real_path)
        root->real_path = strdup(path);
    atomic_init(&root->refs, 1);
    return root;
}

void content_root_ref(struct content_root *root)
{
    atomic_fetch_add_explicit(&root->refs, 1, memory_order_relaxed);
}

void content_root_unref(struct content_root *root)
{
    if (!root || atomic_fetch_sub_explicit(&root->refs, 1, memory_order_acq_rel) != 1)
        return;
    close(root->fd);
    free(root->real_path);
    free(root);
}

/* openat2 arrived in Linux 5.6; on older kernels fall back to openat, which
 * still cannot leave the root through ".." (paths are normalised first) but
 * can through a symlink planted inside the root (which is then the
 * --follow-symlinks policy whatever the flag says). */
static atomic_bool openat2_missing;

int content_root_openat(const struct content_root *root, const char *rel, int flags)
{
    if (!*rel)
        rel = ".";
    if (!atomic_load_explicit(&openat2_missing, memory_order_relaxed)) {
        struct open_how how = {
            .flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY),
            .resolve = RESOLVE_NO_MAGICLINKS | (root->follow_symlinks ? 0 : RESOLVE_BENEATH),
        };
        long fd = syscall(SYS_openat2, root->fd, rel, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
        atomic_store_explicit(&openat2_missing, true, memory_order_relaxed);
    }
    return openat(root->fd, rel, flags | O_CLOEXEC | O_NOCTTY);
}

const struct link_refusal *content_root_link_refusal(int err)
{
    static const struct link_refusal outside = {
        "symlink-outside-root",
        "a symlink on its path leads outside the root (an absolute link always counts as outside); only links that "
        "stay inside are followed. To follow links wherever they point, start with --follow-symlinks "
        "(DCN_HOSTER_FOLLOW_SYMLINKS=on)",
        1u << 0,
    };
    static const struct link_refusal loop = {
        "symlink-loop", "a symlink on its path loops, or is a /proc magic link (never followed, even with --follow-symlinks)",
        1u << 1,
    };
    switch (err) {
    case EXDEV: return &outside; /* RESOLVE_BENEATH: paths are normalised, so only a link escapes */
    case ELOOP: return &loop;
    default: return NULL;
    }
}
