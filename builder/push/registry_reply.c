/* registry_reply: token and error bodies. See registry_reply.h. */
#include "registry_reply.h"
#include "error.h"
#include "json.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* The body's JSON object, or NULL (empty, not JSON, not an object). */
static JsonObject *parse_object(JsonParser *p, const char *body, gsize len)
{
    return len ? dcn_json_parse_object(p, body, len, "reply", NULL) : NULL;
}

static gboolean header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return FALSE;
    return TRUE;
}

char *dcn_registry_parse_token(const char *body, gsize len, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = parse_object(p, body, len);
    static const char *const names[] = {"token", "access_token"};
    for (guint i = 0; o && i < G_N_ELEMENTS(names); i++) {
        const char *t = dcn_json_str(o, names[i]);
        if (!t || !*t)
            continue;
        if (!header_safe(t))
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "the \"%s\" it answered holds characters that cannot go in an HTTP header "
                               "(only visible ASCII can)",
                               names[i]),
                   NULL;
        return g_strdup(t);
    }
    return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "it answered without a token (expected JSON with \"token\" or \"access_token\")"),
           NULL;
}

/* Control characters as spaces, cut at DCN_REGISTRY_ERROR_TEXT_MAX bytes
 * (on a UTF-8 character boundary when the text is UTF-8), trimmed. */
static char *one_line(const char *s, gsize len)
{
    gsize n = MIN(len, (gsize)DCN_REGISTRY_ERROR_TEXT_MAX);
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--; /* do not cut a character in two */
    char *out = g_strndup(s, n);
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    return g_strstrip(out);
}

char *dcn_registry_error_text(const char *body, gsize len)
{
    if (!body || !len)
        return g_strdup("no details");
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = parse_object(p, body, len);
    JsonObject *e = dcn_json_arr_obj(dcn_json_arr(o, "errors"), 0);
    if (e) {
        const char *code = dcn_json_str(e, "code"), *msg = dcn_json_str(e, "message");
        g_autofree char *text = g_strdup_printf("%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
        g_autofree char *line = one_line(text, strlen(text));
        if (*line)
            return g_steal_pointer(&line);
        /* neither a code nor a message as text: show the body */
    }
    g_autofree char *shown = one_line(body, len);
    return *shown ? g_steal_pointer(&shown) : g_strdup("no details");
}
