/* fdio.h: writing a whole buffer to a file descriptor.
 *
 * write(2) may write less than asked (a full disk part-way, a signal) and
 * may be interrupted before writing anything; every writer in the builder
 * wants "all of it, or an errno that says why". */
#ifndef DCN_BUILDER_FDIO_H
#define DCN_BUILDER_FDIO_H

#include <glib.h>

/* Writes len bytes of data to fd, retrying short writes and EINTR.
 * Returns TRUE when all were written; FALSE with errno set otherwise
 * (ENOSPC when write(2) wrote nothing and gave no reason). */
gboolean dcn_write_all(int fd, const void *data, gsize len);

#endif
