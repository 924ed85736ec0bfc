/* respond: the helpers every handler answers with. A response is built
 * here (status line, Date, Connection, the fields, the body) and handed to
 * the connection (conn.h) together with what the access log records and
 * whether the connection stays open: the request's keep_alive, cleared for
 * errors after which the request stream cannot be trusted. Handlers never
 * touch the connection themselves. */
#ifndef DCN_RESPOND_H
#define DCN_RESPOND_H

#include "request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct conn;
struct evbuffer;

/* An error response with a short text body (empty for 404). After 400,
 * 408, 414, 431 and 505 the connection closes, as it does when r is not
 * keep_alive. */
void respond_error(const struct request *r, int status);

/* An error response to bytes on c that are not a request (the parser
 * refused them, or the head did not arrive in time): the connection
 * closes after it. */
void respond_reject(struct conn *c, int status);

/* The answer when opening or reading the request's file failed with err:
 * the status http_status_for_errno gives (404, 403, 503 with Retry-After,
 * 500). A refusal because of a symlink sets r->reason, and the worker's
 * first one of each kind also says on stderr what to do. */
void respond_open_failed(struct request *r, int err);

/* Writes "HTTP/1.1 <status>\r\n", Server, Date and, when needed, Connection into
 * out (at least 256 bytes); returns the length. */
size_t respond_head_begin(const struct request *r, int status, char *out);

/* A whole response from memory. extra: complete header lines ("X: y\r\n"),
 * may be NULL; content_type NULL: no Content-Type. The body is left out for
 * HEAD and 304 but Content-Length still describes it (except for 304). */
void respond_memory(const struct request *r, int status, const char *content_type,
                    const char *extra, size_t extra_len, const void *body, size_t body_len);

/* Sends head (already complete, blank line included) and an in-memory body
 * as one write when possible, logging it as status/body_len. */
void respond_send(const struct request *r, int status, const char *head, size_t head_len,
                  const void *body, size_t body_len);

/* The same for a response in iovcnt pieces (head first) of which the last
 * body_len bytes are the body. */
void respond_iov(const struct request *r, int status, const struct iovec *iov, int iovcnt, uint64_t body_len);

/* For a response built in the connection's output buffer (file segments,
 * multipart): the buffer to append to (NULL when none can be had), then
 * respond_queued with the bytes appended; complete false when appending
 * failed part way: the connection then closes without sending more. */
struct evbuffer *respond_output(const struct request *r);
void respond_queued(const struct request *r, int status, uint64_t body_len, uint64_t bytes, bool complete);

#endif
