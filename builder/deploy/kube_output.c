/* kube_output: see kube_output.h. */
#include "kube_output.h"
#include "error.h"
#include "rollout.h"

#include <string.h>

static const char *str_member(JsonObject *o, const char *m)
{
    JsonNode *n = o ? json_object_get_member(o, m) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                        : NULL;
}

static JsonObject *obj_member(JsonObject *o, const char *m)
{
    JsonNode *n = o ? json_object_get_member(o, m) : NULL;
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonObject *dcn_kube_parse_object(const char *text, gsize len, const char *what, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, text, (gssize)len, error)) {
        g_prefix_error(error, "%s: not JSON: ", what);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s: not a JSON object", what);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

JsonArray *dcn_kube_parse_apply(const char *text, gboolean *changed)
{
    JsonArray *a = json_array_new();
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    *changed = FALSE;
    for (guint i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        char *sp = strrchr(l, ' ');
        if (!*l || !sp)
            continue;
        *sp = '\0';
        const char *action = sp + 1;
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "object", l);
        json_object_set_string_member(o, "action", action);
        json_array_add_object_element(a, o);
        if (!g_str_equal(action, "unchanged"))
            *changed = TRUE;
    }
    return a;
}

char *dcn_kube_stderr_tail(const char *err)
{
    g_autofree char *t = g_strstrip(g_strdup(err ? err : ""));
    if (!*t)
        return g_strdup("(no message)");
    g_auto(GStrv) lines = g_strsplit(t, "\n", -1);
    guint n = g_strv_length(lines);
    GString *s = g_string_new(NULL);
    for (guint i = n > 3 ? n - 3 : 0; i < n; i++)
        g_string_append_printf(s, "%s%s", s->len ? " / " : "", g_strstrip(lines[i]));
    return g_string_free(s, FALSE);
}

gboolean dcn_kube_said_not_found(const char *err)
{
    return err && (strstr(err, "NotFound") || strstr(err, " not found"));
}

void dcn_kube_past_image_free(gpointer p)
{
    DcnKubePastImage *c = p;
    if (!c)
        return; /* moved to another list */
    g_free(c->image);
    g_free(c->version);
    g_free(c->commit);
    g_free(c);
}

static gboolean owned_by(JsonObject *rs, const char *deployment)
{
    JsonObject *meta = obj_member(rs, "metadata"); /* a ReplicaSet without metadata is owned by nobody */
    JsonNode *n = meta ? json_object_get_member(meta, "ownerReferences") : NULL;
    JsonArray *owners = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
    for (guint i = 0; owners && i < json_array_get_length(owners); i++) {
        JsonNode *o = json_array_get_element(owners, i);
        if (JSON_NODE_HOLDS_OBJECT(o) && g_strcmp0(str_member(json_node_get_object(o), "kind"), "Deployment") == 0 &&
            g_strcmp0(str_member(json_node_get_object(o), "name"), deployment) == 0)
            return TRUE;
    }
    return FALSE;
}

static gint by_revision_desc(gconstpointer a, gconstpointer b)
{
    const DcnKubePastImage *x = *(DcnKubePastImage *const *)a, *y = *(DcnKubePastImage *const *)b;
    return x->revision < y->revision ? 1 : x->revision > y->revision ? -1 : 0;
}

GPtrArray *dcn_kube_parse_replicasets(const char *text, gsize len, const char *deployment, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, text, (gssize)len, error)) {
        g_prefix_error(error, "replicasets: not JSON: ");
        return NULL;
    }
    GPtrArray *all = g_ptr_array_new_with_free_func(dcn_kube_past_image_free);
    JsonNode *root = json_parser_get_root(p);
    JsonNode *items = root && JSON_NODE_HOLDS_OBJECT(root) ? json_object_get_member(json_node_get_object(root), "items")
                                                           : NULL;
    JsonArray *list = items && JSON_NODE_HOLDS_ARRAY(items) ? json_node_get_array(items) : NULL;
    for (guint i = 0; list && i < json_array_get_length(list); i++) {
        JsonNode *n = json_array_get_element(list, i);
        JsonObject *rs = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        const char *image = dcn_rollout_object_image(rs);
        if (!rs || !image || !owned_by(rs, deployment) || !dcn_image_is_pinned(image))
            continue;
        const char *rev = str_member(obj_member(obj_member(rs, "metadata"), "annotations"),
                                     "deployment.kubernetes.io/revision");
        DcnKubePastImage *c = g_new0(DcnKubePastImage, 1);
        c->image = g_strdup(image);
        c->version = g_strdup(dcn_rollout_object_annotation(rs, DCN_ANNOTATION_VERSION));
        c->commit = g_strdup(dcn_rollout_object_annotation(rs, DCN_ANNOTATION_COMMIT));
        c->revision = rev ? g_ascii_strtoll(rev, NULL, 10) : 0;
        g_ptr_array_add(all, c);
    }
    g_ptr_array_sort(all, by_revision_desc);
    return all;
}
