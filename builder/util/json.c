/* json.c: typed reads of outside JSON; see json.h. */
#include "json.h"

#include "error.h"

static JsonNode *value_of(JsonObject *o, const char *member, GType type)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type ? n : NULL;
}

const char *dcn_json_str(JsonObject *o, const char *member)
{
    JsonNode *n = value_of(o, member, G_TYPE_STRING);
    return n ? json_node_get_string(n) : NULL;
}

const char *dcn_json_str_or(JsonObject *o, const char *member, const char *fallback)
{
    const char *s = dcn_json_str(o, member);
    return s ? s : fallback;
}

JsonObject *dcn_json_obj(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonArray *dcn_json_arr(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;
    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

gboolean dcn_json_int(JsonObject *o, const char *member, gint64 *out)
{
    JsonNode *n = value_of(o, member, G_TYPE_INT64);
    if (!n)
        return FALSE;
    *out = json_node_get_int(n);
    return TRUE;
}

gboolean dcn_json_bool_or(JsonObject *o, const char *member, gboolean fallback)
{
    JsonNode *n = value_of(o, member, G_TYPE_BOOLEAN);
    return n ? json_node_get_boolean(n) : fallback;
}

JsonObject *dcn_json_arr_obj(JsonArray *a, guint i)
{
    JsonNode *n = a && i < json_array_get_length(a) ? json_array_get_element(a, i) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

const char *dcn_json_arr_str(JsonArray *a, guint i)
{
    JsonNode *n = a && i < json_array_get_length(a) ? json_array_get_element(a, i) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                        : NULL;
}

JsonObject *dcn_json_parse_object(JsonParser *parser, const char *data, gsize len, const char *what, GError **error)
{
    g_autoptr(GError) local = NULL;
    if (!data || len == 0) { /* json-glib asserts on NULL data: an empty body is input, not a bug */
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s: empty", what);
        return NULL;
    }
    if (len > G_MAXSSIZE || !json_parser_load_from_data(parser, data, (gssize)len, &local)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s: not JSON: %s", what,
                    local ? local->message : "too large");
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s: not a JSON object", what);
        return NULL;
    }
    return json_node_get_object(root);
}
