/* route: a parsed request head's way to its handler. Interprets the head
 * (http_parse.h), refuses what cannot be answered (a body, an unknown
 * method, a path that normalises to nothing servable), makes the request
 * (request.h) and picks the handler by path: the summary pair, the
 * operations endpoints /-/, kickstart templates *.ks, or a static file.
 * Knows no response format (respond.h) and no connection state beyond
 * which listener the connection came to. */
#ifndef DCN_ROUTE_H
#define DCN_ROUTE_H

#include <stdint.h>

struct conn;
struct http_request_head;

/* Answers one request head that arrived on c, complete at start_ns. */
void route_request(struct conn *c, const struct http_request_head *head, uint64_t start_ns);

#endif
