/* weldr_reply: see weldr_reply.h. Every member is read through util/json.h,
 * which checks its type first: json-glib's typed getters assume the type is
 * right (a critical, and a NULL or a wrong default, otherwise). */
#include "weldr_reply.h"

#include <string.h>

#include "json.h"

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
    return is_json && len ? dcn_json_parse_object(parser, body, len, "composer's reply", NULL) : NULL;
}

char *dcn_weldr_reply_errors(JsonObject *o)
{
    JsonArray *errors = dcn_json_arr(o, "errors");
    GString *s = g_string_new(NULL);
    for (guint i = 0; errors && i < json_array_get_length(errors); i++) {
        JsonObject *e = dcn_json_arr_obj(errors, i);
        if (e)
            g_string_append_printf(s, "%s%s: %s", s->len ? "; " : "", dcn_json_str_or(e, "id", "?"),
                                   dcn_json_str_or(e, "msg", ""));
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
    return g_strdup_printf("backend=%s build=%s api=%s", one_word(dcn_json_str_or(o, "backend", "?"), b1, sizeof b1),
                           one_word(dcn_json_str_or(o, "build", "?"), b2, sizeof b2),
                           one_word(dcn_json_str_or(o, "api", "?"), b3, sizeof b3));
}

guint dcn_weldr_reply_dependencies(JsonObject *o)
{
    JsonArray *bps = dcn_json_arr(o, "blueprints");
    JsonObject *bp = bps && json_array_get_length(bps) ? dcn_json_arr_obj(bps, 0) : NULL;
    JsonArray *d = dcn_json_arr(bp, "dependencies");
    return d ? json_array_get_length(d) : 0;
}

char *dcn_weldr_reply_queue_status(JsonObject *o, const char *id, gint64 *size)
{
    char *status = NULL;
    JsonArray *uuids = dcn_json_arr(o, "uuids");
    for (guint i = 0; uuids && i < json_array_get_length(uuids); i++) {
        JsonObject *u = dcn_json_arr_obj(uuids, i);
        if (!u || g_strcmp0(dcn_json_str_or(u, "id", NULL), id) != 0)
            continue;
        char buf[32];
        g_free(status); /* listed twice: the last one counts */
        status = g_strdup(one_word(dcn_json_str_or(u, "queue_status", "?"), buf, sizeof buf));
        if (size && !dcn_json_int(u, "image_size", size))
            *size = 0;
    }
    return status;
}

char *dcn_weldr_reply_build_id(JsonObject *o)
{
    const char *id = dcn_json_str_or(o, "build_id", NULL);
    return id && g_uuid_string_is_valid(id) ? g_strdup(id) : NULL;
}

gboolean dcn_weldr_reply_deleted(JsonObject *o, const char *id, GPtrArray *not_deleted)
{
    JsonArray *errors = dcn_json_arr(o, "errors");
    for (guint i = 0; errors && i < json_array_get_length(errors); i++) {
        JsonObject *e = dcn_json_arr_obj(errors, i);
        if (e)
            g_ptr_array_add(not_deleted,
                            one_line(g_strdup_printf("%s: %s", dcn_json_str_or(e, "id", "?"), dcn_json_str_or(e, "msg", ""))));
    }
    gboolean deleted = FALSE;
    JsonArray *uuids = dcn_json_arr(o, "uuids");
    for (guint i = 0; uuids && i < json_array_get_length(uuids); i++) {
        JsonObject *u = dcn_json_arr_obj(uuids, i);
        if (u && g_strcmp0(dcn_json_str_or(u, "uuid", NULL), id) == 0 && dcn_json_bool_or(u, "status", FALSE))
            deleted = TRUE;
    }
    return deleted;
}

char *dcn_weldr_reply_log_tail(const void *body, gsize len)
{
    g_autofree char *text = g_strndup(body, len);
    g_autoptr(JsonParser) jp = json_parser_new();
    JsonObject *o = *text == '{' ? dcn_json_parse_object(jp, text, strlen(text), "composer's log", NULL) : NULL;
    if (o) {
        if (json_object_has_member(o, "status") && !dcn_json_bool_or(o, "status", TRUE)) {
            g_autofree char *errs = dcn_weldr_reply_errors(o);
            return g_strdup_printf("(no log: %s)", errs ? errs : "composer gave none");
        }
    }
    g_auto(GStrv) lines = g_strsplit(g_strstrip(text), "\n", -1);
    guint n = g_strv_length(lines), from = n > 8 ? n - 8 : 0;
    return one_line(g_strjoinv(" | ", lines + from));
}
