/* kube_output: see kube_output.h. */
#include "kube_output.h"
#include "error.h"
#include "json.h"
#include "rollout.h"

#include <string.h>

JsonObject *dcn_kube_parse_object(const char *text, gsize len, const char *what, GError **error)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = dcn_json_parse_object(p, text, len, what, error);
    return o ? json_object_ref(o) : NULL;
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
    JsonObject *meta = dcn_json_obj(rs, "metadata"); /* a ReplicaSet without metadata is owned by nobody */
    JsonArray *owners = dcn_json_arr(meta, "ownerReferences");
    for (guint i = 0; owners && i < json_array_get_length(owners); i++) {
        JsonObject *o = dcn_json_arr_obj(owners, i);
        if (g_strcmp0(dcn_json_str(o, "kind"), "Deployment") == 0 && g_strcmp0(dcn_json_str(o, "name"), deployment) == 0)
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
    JsonArray *list = dcn_json_arr(root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL, "items");
    for (guint i = 0; list && i < json_array_get_length(list); i++) {
        JsonObject *rs = dcn_json_arr_obj(list, i);
        const char *image = dcn_rollout_object_image(rs);
        if (!rs || !image || !owned_by(rs, deployment) || !dcn_image_is_pinned(image))
            continue;
        const char *rev = dcn_json_str(dcn_json_obj(dcn_json_obj(rs, "metadata"), "annotations"),
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
