/* http_status: the statuses dcn-hoster sends, their status lines, and the
 * one rule for which status answers a file that could not be opened or
 * read (RFC 9110 section 15). Pure: no I/O, no state. */
#ifndef DCN_HTTP_STATUS_H
#define DCN_HTTP_STATUS_H

#include <stddef.h>

/* "HTTP/1.1 404 Not Found\r\n" (CRLF included), its length in *len; a
 * status the hoster does not send gets the 500 line. */
const char *http_status_line(int status, size_t *len);

/* The answer when a request's file could not be opened or read with err:
 *   404  the name leads nowhere: ENOENT, ENOTDIR, ENAMETOOLONG
 *   403  refused: EACCES, EPERM, and EXDEV / ELOOP, a symlink the policy
 *        does not follow (content_root.h)
 *   503  out of descriptors or memory; the file is fine, ask again
 *        (the response carries Retry-After): EMFILE, ENFILE, ENOMEM,
 *        ENOBUFS, EAGAIN
 *   500  anything else: EIO, EOVERFLOW, ... a fault on our side, not a
 *        refusal. */
int http_status_for_errno(int err);

#endif
