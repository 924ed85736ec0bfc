/* request: what a handler knows about the request it answers. route.c
 * makes one per request head, once: the parsed head and what was read
 * from it, the normalised path, the content root and the configuration.
 * Handlers read it and answer through respond.h; keep_alive is the only
 * field about the connection, and the response carries it there. */
#ifndef DCN_REQUEST_H
#define DCN_REQUEST_H

#include "http_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct worker;
struct content_root;
struct hoster_config;

struct request {
    struct conn *conn;       /* where the response goes: for respond.c (and summary_pair.c's per-connection pair) */
    struct worker *w;        /* the worker serving it: scratch buffers, cache, metrics, clock */
    const struct hoster_config *cfg;
    const struct http_request_head *head;
    struct http_request_info info;
    const char *path;        /* normalised, relative to the root, NUL-terminated */
    size_t path_len;
    bool trailing_slash;     /* the target's path ended in '/' */
    bool keep_alive;         /* the response may leave the connection open */
    bool head_only;          /* HEAD: headers without the body */
    uint64_t start_ns;       /* CLOCK_MONOTONIC when the head was complete */
    struct content_root *root;
    const char *peer;        /* the connection's "addr:port" */
    const char *reason;      /* why it is refused, for the access log (static string), or NULL */
};

#endif
