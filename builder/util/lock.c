/* lock.c: one run at a time over a directory; see lock.h. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sys/file.h>
#include <unistd.h>

/* "<doing>PATH: REASON"; closes fd */
static int lock_failed(int fd, int err, const char *doing, const char *path, const char *reason, GError **error)
{
    if (fd >= 0)
        close(fd);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s%s: %s", doing, path, reason);
    return -1;
}

static int open_lock_file(const char *path, GError **error)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        return lock_failed(-1, err, "Opening ", path, g_strerror(err), error);
    }
    return fd;
}

int dcn_lock_wait(const char *path, DcnProgress *progress, GError **error)
{
    int fd = open_lock_file(path, error);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    /* another holder runs: as long as it takes */
    dcn_progress_event(progress, "waiting", "lock=%s", path);
    dcn_progress_begin(progress, "wait-lock", NULL);
    dcn_progress_detail(progress, "lock=%s", path);
    if (flock(fd, LOCK_EX) < 0) {
        int err = errno;
        dcn_progress_cancel(progress);
        return lock_failed(fd, err, "Locking ", path, g_strerror(err), error);
    }
    dcn_progress_end(progress);
    return fd;
}

int dcn_lock_try(const char *path, const char *busy, GError **error)
{
    int fd = open_lock_file(path, error);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    int err = errno;
    return lock_failed(fd, err, "", path, err == EWOULDBLOCK ? busy : g_strerror(err), error);
}
