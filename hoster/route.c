#include "route.h"

#include "config.h"
#include "conn.h"
#include "fleet.h"
#include "kickstart.h"
#include "ops.h"
#include "path_norm.h"
#include "request.h"
#include "respond.h"
#include "server.h"
#include "static_file.h"
#include "summary_pair.h"
#include "worker.h"

#include <string.h>

/* Makes r's path from the request target; false when it was answered
 * (refused) instead. */
static bool route_path(struct request *r)
{
    struct worker *w = r->w;
    size_t path_len = 0;
    bool slash = false;
    const char *authority = NULL;
    size_t authority_len = 0;
    switch (path_normalise(r->head->target, r->head->target_len, w->path_buf, w->path_cap, &path_len, &slash,
                           &authority, &authority_len)) {
    case PATH_OK: break;
    case PATH_BAD: respond_error(r, 400); return false;
    case PATH_FORBIDDEN: respond_error(r, 403); return false;
    case PATH_HIDDEN: respond_error(r, 404); return false;
    case PATH_TOO_LONG: respond_error(r, 414); return false;
    }
    if (authority) { /* absolute form: its authority replaces Host (RFC 9112 3.2.2) */
        if (!http_host_valid(authority, authority_len)) {
            respond_error(r, 400);
            return false;
        }
        r->info.host = authority;
        r->info.host_len = authority_len;
    }
    r->path = w->path_buf;
    r->path_len = path_len;
    r->trailing_slash = slash;
    return true;
}

/* The handler for r's path. */
static void route_to_handler(struct conn *c, struct request *r)
{
    bool ops_path = r->path_len >= 1 && r->path[0] == '-' && (r->path_len == 1 || r->path[1] == '/');
    enum summary_path summary =
        r->trailing_slash ? SUMMARY_PATH_NONE : summary_pair_path(r->cfg->repo_path, r->path, r->path_len);
    if (summary == SUMMARY_PATH_NONE && c->paired)
        summary_pair_forget(c); /* summary.sig was not followed by summary */

    if (r->cfg->num_ops_listen && ops_path != c->ops)
        respond_error(r, 404); /* with --ops-listen, /-/ there only, and only /-/ there */
    else if (summary != SUMMARY_PATH_NONE)
        summary_pair_respond(r, summary);
    else if (ops_path)
        ops_respond(r);
    else if (r->path_len > 3 && !memcmp(r->path + r->path_len - 3, ".ks", 3))
        kickstart_respond(r);
    else {
        if (r->head->method_id == HTTP_METHOD_GET && fleet_may_fetch_commit(r->path, r->path_len))
            fleet_note_request(r->w->srv->fleet, r); /* adoption: who fetches which commit */
        static_file_respond(r);
    }
}

void route_request(struct conn *c, const struct http_request_head *head, uint64_t start_ns)
{
    struct worker *w = c->w;
    struct request r = {
        .conn = c,
        .w = w,
        .cfg = w->srv->cfg,
        .head = head,
        .start_ns = start_ns,
        .head_only = head->method_id == HTTP_METHOD_HEAD,
        .peer = c->peer,
    };
    const int refused = http_request_interpret(head, &r.info);
    if (refused) {
        respond_error(&r, refused); /* keep_alive is false: closes */
        return;
    }
    r.keep_alive = r.info.keep_alive && !w->draining;
    if (r.info.has_body) {
        r.keep_alive = false; /* we never read request bodies: the connection cannot be reused */
        respond_error(&r, head->method_id == HTTP_METHOD_OTHER ? 405 : 400);
        return;
    }
    if (head->method_id == HTTP_METHOD_OTHER) {
        respond_error(&r, 405);
        return;
    }
    if (!route_path(&r))
        return;
    worker_refresh_root(w);
    r.root = w->root;
    route_to_handler(c, &r);
}
