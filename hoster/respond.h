/* respond: a request's life after its head is parsed: interpret, normalise
 * the path, route (operations endpoint, kickstart, static file), and the
 * helpers every route uses to build and send a response. */
#ifndef DCN_RESPOND_H
#define DCN_RESPOND_H

#include "http_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct worker;
struct content_root;

struct request {
    struct conn *conn;
    struct worker *w;
    const struct http_request_head *head;
    struct http_request_info info;
    const char *path;        /* normalised, relative to the root, NUL-terminated */
    size_t path_len;
    bool trailing_slash;     /* the target's path ended in '/' */
    bool keep_alive;         /* this response leaves the connection open */
    bool head_only;          /* HEAD: headers without the body */
    uint64_t start_ns;
    struct content_root *root;
    const char *reason;      /* why it is refused, for the access log (static string), or NULL */
};

void respond_to_request(struct conn *c, const struct http_request_head *head, uint64_t start_ns);

/* An error response with a short text body. r may be NULL when the request
 * could not be parsed (the connection then closes). */
void respond_error(struct conn *c, const struct request *r, int status);

/* The answer when opening or reading the request's file failed with err:
 * the status http_status_for_errno gives (404, 403, 503 with Retry-After,
 * 500). A refusal because of a symlink sets r->reason, and the worker's
 * first one of each kind also says on stderr what to do. */
void respond_open_failed(struct request *r, int err);

/* Writes "HTTP/1.1 <status>\r\n", Server, Date and, when needed, Connection
 * into out (at least 256 bytes); returns the length. */
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

/* What the access log and metrics record about r's response. */
struct response_info;
void respond_info(const struct request *r, int status, uint64_t body_len, struct response_info *ri);

#endif
