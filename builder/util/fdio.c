/* fdio: see fdio.h. */
#include "fdio.h"

#include <errno.h>
#include <unistd.h>

gboolean dcn_write_all(int fd, const void *data, gsize len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FALSE;
        if (n == 0) {
            errno = ENOSPC; /* only a full file system returns 0 for a non-empty write */
            return FALSE;
        }
        p += n;
        len -= (gsize)n;
    }
    return TRUE;
}
