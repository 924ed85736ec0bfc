/* weldr_reply: see weldr_reply.h. */
#include "weldr_reply.h"

#include <string.h>

JsonObject *dcn_weldr_reply_object(JsonParser *parser, const char *content_type, const void *body, gsize len)
{
    gboolean is_json = content_type && g_str_has_prefix(content_type, "application/json");
    if (is_json && len && json_parser_load_from_data(parser, body, len, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
        return json_node_get_object(json_parser_get_root(parser));
    return NULL;
}

char *dcn_weldr_reply_errors(JsonObject *o)
{
    JsonArray *errors = o && json_object_has_member(o, "errors") ? json_object_get_array_member(o, "errors") : NULL;
    GString *s = g_string_new(NULL);
    for (guint i = 0; errors && i < json_array_get_length(errors); i++) {
        JsonNode *n = json_array_get_element(errors, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            continue;
        JsonObject *e = json_node_get_object(n);
        g_string_append_printf(s, "%s%s: %s", s->len ? "; " : "", json_object_get_string_member_with_default(e, "id", "?"),
                               json_object_get_string_member_with_default(e, "msg", ""));
    }
    return g_string_free(s, s->len == 0);
}

char *dcn_weldr_reply_missing_packages(const char *msg)
{
    const char *m = strstr(msg, "missing packages:");
    if (!m)
        m = strstr(msg, "No match for argument:");
    if (!m)
        return NULL;
    m = strchr(m, ':') + 1;
    g_autofree char *rest = g_strstrip(g_strdup(m));
    g_strdelimit(rest, "\n", ' ');
    return g_strdup(rest);
}

void dcn_weldr_reply_server(JsonObject *o, const char **backend, const char **build, const char **api)
{
    *backend = json_object_get_string_member_with_default(o, "backend", "?");
    *build = json_object_get_string_member_with_default(o, "build", "?");
    *api = json_object_get_string_member_with_default(o, "api", "?");
}

guint dcn_weldr_reply_dependencies(JsonObject *o)
{
    guint deps = 0;
    JsonArray *bps = json_object_has_member(o, "blueprints") ? json_object_get_array_member(o, "blueprints") : NULL;
    if (bps && json_array_get_length(bps)) {
        JsonObject *bp = json_array_get_object_element(bps, 0);
        JsonArray *d = json_object_has_member(bp, "dependencies") ? json_object_get_array_member(bp, "dependencies") : NULL;
        deps = d ? json_array_get_length(d) : 0;
    }
    return deps;
}

char *dcn_weldr_reply_queue_status(JsonObject *o, const char *id, gint64 *size)
{
    char *status = NULL;
    JsonArray *uuids = json_object_has_member(o, "uuids") ? json_object_get_array_member(o, "uuids") : NULL;
    for (guint i = 0; uuids && i < json_array_get_length(uuids); i++) {
        JsonObject *u = json_array_get_object_element(uuids, i);
        if (g_strcmp0(json_object_get_string_member_with_default(u, "id", NULL), id) == 0) {
            status = g_strdup(json_object_get_string_member_with_default(u, "queue_status", "?"));
            if (size)
                *size = json_object_get_int_member_with_default(u, "image_size", 0);
        }
    }
    return status;
}

char *dcn_weldr_reply_build_id(JsonObject *o)
{
    const char *id = json_object_get_string_member_with_default(o, "build_id", NULL);
    return id && g_uuid_string_is_valid(id) ? g_strdup(id) : NULL;
}

gboolean dcn_weldr_reply_deleted(JsonObject *o, const char *id, GPtrArray *not_deleted)
{
    JsonArray *errors = json_object_has_member(o, "errors") ? json_object_get_array_member(o, "errors") : NULL;
    for (guint i = 0; errors && i < json_array_get_length(errors); i++) {
        JsonNode *n = json_array_get_element(errors, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            continue;
        JsonObject *eo = json_node_get_object(n);
        g_ptr_array_add(not_deleted, g_strdup_printf("%s: %s", json_object_get_string_member_with_default(eo, "id", "?"),
                                                     json_object_get_string_member_with_default(eo, "msg", "")));
    }
    gboolean deleted = FALSE;
    JsonArray *uuids = json_object_has_member(o, "uuids") ? json_object_get_array_member(o, "uuids") : NULL;
    for (guint i = 0; uuids && i < json_array_get_length(uuids); i++) {
        JsonNode *n = json_array_get_element(uuids, i);
        if (!JSON_NODE_HOLDS_OBJECT(n))
            continue;
        JsonObject *u = json_node_get_object(n);
        if (g_strcmp0(json_object_get_string_member_with_default(u, "uuid", NULL), id) == 0 &&
            json_object_get_boolean_member_with_default(u, "status", FALSE))
            deleted = TRUE;
    }
    return deleted;
}

char *dcn_weldr_reply_log_tail(const void *body, gsize len)
{
    g_autofree char *text = g_strndup(body, len);
    g_autoptr(JsonParser) jp = json_parser_new();
    if (*text == '{' && json_parser_load_from_data(jp, text, -1, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(jp))) {
        JsonObject *o = json_node_get_object(json_parser_get_root(jp));
        if (json_object_has_member(o, "status") && !json_object_get_boolean_member_with_default(o, "status", TRUE)) {
            g_autofree char *errs = dcn_weldr_reply_errors(o);
            return g_strdup_printf("(no log: %s)", errs ? errs : "composer gave none");
        }
    }
    g_auto(GStrv) lines = g_strsplit(g_strstrip(text), "\n", -1);
    guint n = g_strv_length(lines), from = n > 8 ? n - 8 : 0;
    return g_strjoinv(" | ", lines + from);
}
