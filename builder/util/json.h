/* json.h: typed reads of JSON that came from outside (a registry, a
 * composer, kubectl, a state file).
 *
 * Every getter takes a possibly NULL object and returns NULL (or the given
 * fallback) when the member is missing or of another type: json-glib's own
 * typed getters abort on a type mismatch, so a hostile document must never
 * reach them. Chains such as dcn_json_obj(dcn_json_obj(o, "spec"), "template")
 * are safe for the same reason. The returned pointers are owned by the
 * object. */
#ifndef DCN_BUILDER_JSON_H
#define DCN_BUILDER_JSON_H

#include <glib.h>
#include <json-glib/json-glib.h>

const char *dcn_json_str(JsonObject *o, const char *member);
/* dcn_json_str, or fallback when the member is missing or not a string. */
const char *dcn_json_str_or(JsonObject *o, const char *member, const char *fallback);
JsonObject *dcn_json_obj(JsonObject *o, const char *member);
JsonArray *dcn_json_arr(JsonObject *o, const char *member);
/* An integer member; FALSE (out untouched) when missing or not an integer. */
gboolean dcn_json_int(JsonObject *o, const char *member, gint64 *out);
gboolean dcn_json_bool_or(JsonObject *o, const char *member, gboolean fallback);
/* Element i of a, when it is an object (NULL for a NULL array, out of range,
 * or another type). */
JsonObject *dcn_json_arr_obj(JsonArray *a, guint i);
/* Element i of a, when it is a string. */
const char *dcn_json_arr_str(JsonArray *a, guint i);

/* Parses len bytes whose root must be an object; what is wrong is said in
 * error, prefixed by what (e.g. "registry reply"). The parser owns the
 * returned object. */
JsonObject *dcn_json_parse_object(JsonParser *parser, const char *data, gsize len, const char *what, GError **error);

#endif
