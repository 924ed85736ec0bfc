/* weldr_reply: see weldr_reply.h. Every member is read through the helpers
 * below, which check its type first: json-glib's typed getters assume the
 * type is right (a critical, and a NULL or a wrong default, otherwise). */
#include "weldr_reply.h"

#include <string.h>

static JsonNode *member(JsonObject *o, const char *name)
{
    return o ? json_object_get_member(o, name) : NULL;
}

static const char *str_member(JsonObject *o, const char *name, const char *fallback)
{
    JsonNode *n = member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                        : fallback;
}

static gboolean bool_member(JsonObject *o, const char *name, gboolean fallback)
{
    JsonNode *n = member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN ? json_node_get_boolean(n)
                                                                                         : fallback;
}

static gint64 int_member(JsonObject *o, const char *name)
{
    JsonNode *n = member(o, name);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64 ? json_node_get_int(n) : 0;
}

static JsonArray *arr_member(JsonObject *o, const char *name)
{
    JsonNode *n = member(o, name);
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *obj_element(JsonArray *a, guint i)
{
    JsonNode *n = json_array_get_element(a, i);
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* Composer's text in a message: control characters (a newline would start
 * a line of its own in the builder's output) become spaces. */
static char *one_line(char *s)
{
    for (char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    return s;
}

/* A value that goes unquoted into a key=value event: visible ASCII only,
 * anything else as '?'; "?" when empty. */
static const char *one_word(const char *s, char *buf, gsize size)
{
    gsize n = 0;
    for (; *s && n + 1 < size; s++)
        buf[n++] = (unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f ? *s : '?';
    buf[n] = '\0';
    return n ? buf : "?";
}

JsonObject *dcn_weldr_reply_object(JsonParser *parser, const char *content_type, const void *body, gsize len)
{
    gboolean is_json = content_type && g_str_has_prefix(content_type, "application/json");
    if (!is_json || !len || len > G_MAXSSIZE || !json_parser_load_from_data(parser, body, (gssize)len, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(parser); /* NULL for a body of blanks */
    return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

char *dcn_weldr_reply_errors(JsonObject *o)
{
    JsonArray *errors = arr_member(o, "errors");
    GString *s = g_string_new(NULL);
    for (guint i = 0; errors && i < json_array_get_length(errors); i++) {
        JsonObject *e = obj_element(errors, i);
        if (e)
            g_string_append_printf(s, "%s%s: %s", s->len ? "; " : "", str_member(e, "id", "?"),
                                   str_member(e, "msg", ""));
    }
    return s->len ? one_line(g_string_free(s, FALSE)) : (g_string_free(s, TRUE), NULL);
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

char *dcn_weldr_reply_server(JsonObject *o)
{
    char b1[64], b2[64], b3[16];
    return g_strdup_printf("backend=%s build=%s api=%s", one_word(str_member(o, "backend", "?"), b1, sizeof b1),
                           one_word(str_member(o, "build", "?"), b2, sizeof b2),
                           one_word(str_member(o, "api", "?"), b3, sizeof b3));
}

guint dcn_weldr_reply_dependencies(JsonObject *o)
{
    JsonArray *bps = arr_member(o, "blueprints");
    JsonObject *bp = bps && json_array_get_length(bps) ? obj_element(bps, 0) : NULL;
    JsonArray *d = arr_member(bp, "dependencies");
    return d ? json_array_get_length(d) : 0;
}

char *dcn_weldr_reply_queue_status(JsonObject *o, const char *id, gint64 *size)
{
    char *status = NULL;
    JsonArray *uuids = arr_member(o, "uuids");
    for (guint i = 0; uuids && i < json_array_get_length(uuids); i++) {
        JsonObject *u = obj_element(uuids, i);
        if (!u || g_strcmp0(str_member(u, "id", NULL), id) != 0)
            continue;
        char buf[32];
        g_free(status); /* listed twice: the last one counts */
        status = g_strdup(one_word(str_member(u, "queue_status", "?"), buf, sizeof buf));
        if (size)
            *size = int_member(u, "image_size");
    }
    return status;
}

char *dcn_weldr_reply_build_id(JsonObject *o)
{
    const char *id = str_member(o, "build_id", NULL);
    return id && g_uuid_string_is_valid(id) ? g_strdup(id) : NULL;
}

gboolean dcn_weldr_reply_deleted(JsonObject *o, const char *id, GPtrArray *not_deleted)
{
    JsonArray *errors = arr_member(o, "errors");
    for (guint i = 0; errors && i < json_array_get_length(errors); i++) {
        JsonObject *e = obj_element(errors, i);
        if (e)
            g_ptr_array_add(not_deleted,
                            one_line(g_strdup_printf("%s: %s", str_member(e, "id", "?"), str_member(e, "msg", ""))));
    }
    gboolean deleted = FALSE;
    JsonArray *uuids = arr_member(o, "uuids");
    for (guint i = 0; uuids && i < json_array_get_length(uuids); i++) {
        JsonObject *u = obj_element(uuids, i);
        if (u && g_strcmp0(str_member(u, "uuid", NULL), id) == 0 && bool_member(u, "status", FALSE))
            deleted = TRUE;
    }
    return deleted;
}

char *dcn_weldr_reply_log_tail(const void *body, gsize len)
{
    g_autofree char *text = g_strndup(body, len);
    g_autoptr(JsonParser) jp = json_parser_new();
    JsonNode *root = *text == '{' && json_parser_load_from_data(jp, text, -1, NULL) ? json_parser_get_root(jp) : NULL;
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *o = json_node_get_object(root);
        if (json_object_has_member(o, "status") && !bool_member(o, "status", TRUE)) {
            g_autofree char *errs = dcn_weldr_reply_errors(o);
            return g_strdup_printf("(no log: %s)", errs ? errs : "composer gave none");
        }
    }
    g_auto(GStrv) lines = g_strsplit(g_strstrip(text), "\n", -1);
    guint n = g_strv_length(lines), from = n > 8 ? n - 8 : 0;
    return one_line(g_strjoinv(" | ", lines + from));
}
