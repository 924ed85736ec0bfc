/* weldr_reply: osbuild-composer's Weldr API replies (shapes in
 * docs and /work/shared/platform.md: internal/weldr/api.go), read as pure
 * functions: no I/O. Composer is input the builder does not control. */
#ifndef DCN_BUILDER_WELDR_REPLY_H
#define DCN_BUILDER_WELDR_REPLY_H

#include <glib.h>
#include <json-glib/json-glib.h>

/* The JSON object of a reply (borrowed from parser), or NULL when the
 * Content-Type is not application/json, the body is empty, not JSON, or
 * not an object. */
JsonObject *dcn_weldr_reply_object(JsonParser *parser, const char *content_type, const void *body, gsize len);

/* "ID: msg; ID: msg" of an error reply's "errors", or NULL when it lists
 * none. What composer sends is one line here: control characters become
 * spaces (also in the texts below). */
char *dcn_weldr_reply_errors(JsonObject *o);

/* "a, b" from a depsolve error text ("... missing packages: a, b" or
 * "No match for argument: a"), or NULL. */
char *dcn_weldr_reply_missing_packages(const char *msg);

/* GET /api/status: "backend=B build=V api=N" for an event line (each "?"
 * when absent, bytes outside visible ASCII as '?'). */
char *dcn_weldr_reply_server(JsonObject *o);

/* GET /api/v1/blueprints/depsolve/<name>: how many dependencies the first
 * blueprint has. */
guint dcn_weldr_reply_dependencies(JsonObject *o);

/* GET /api/v1/compose/status/<id>: the queue_status of id ("?" when it
 * has none; visible ASCII, others as '?'), NULL when the reply does not
 * list id (listed twice: the last); *size (may be NULL) gets its
 * image_size (0 when it is not an integer). */
char *dcn_weldr_reply_queue_status(JsonObject *o, const char *id, gint64 *size);

/* POST /api/v1/compose: the build_id when it is a UUID, else NULL. */
char *dcn_weldr_reply_build_id(JsonObject *o);

/* DELETE /api/v1/compose/delete/<id>: TRUE when "uuids" lists id with
 * status true. Each of "errors" goes into not_deleted as "ID: msg". */
gboolean dcn_weldr_reply_deleted(JsonObject *o, const char *id, GPtrArray *not_deleted);

/* GET /api/v1/compose/log/<id> (200): the last 8 lines joined with " | ",
 * or "(no log: ...)" for composer's error object. */
char *dcn_weldr_reply_log_tail(const void *body, gsize len);

#endif
