/* render: see render.h. */
#include "render.h"
#include "error.h"
#include "json.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <yaml.h>

void dcn_rendered_free(DcnRendered *r)
{
    if (!r)
        return;
    g_free(r->yaml);
    g_free(r->path);
    if (r->objects)
        json_array_unref(r->objects);
    g_free(r->deployment);
    g_free(r->ns);
    g_free(r->selector);
    g_free(r->service);
    g_free(r->service_port);
    g_free(r->route_kind);
    g_free(r->route_name);
    g_free(r->url);
    g_free(r);
}

gboolean dcn_image_is_pinned(const char *ref)
{
    const char *at = ref ? strrchr(ref, '@') : NULL;
    if (!at || at == ref || !g_str_has_prefix(at + 1, "sha256:") || strlen(at + 8) != 64)
        return FALSE;
    for (const char *p = at + 8; *p; p++)
        if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
            return FALSE;
    return TRUE;
}

char *dcn_relative_path(const char *from, const char *to)
{
    g_auto(GStrv) f = g_strsplit(from, "/", -1);
    g_auto(GStrv) t = g_strsplit(to, "/", -1);
    guint i = 0;
    while (f[i] && t[i] && g_str_equal(f[i], t[i]))
        i++;
    GString *s = g_string_new(NULL);
    for (guint j = i; f[j]; j++)
        if (*f[j])
            g_string_append(s, s->len ? "/.." : "..");
    for (guint j = i; t[j]; j++)
        if (*t[j])
            g_string_append_printf(s, "%s%s", s->len ? "/" : "", t[j]);
    if (!s->len)
        g_string_append(s, ".");
    return g_string_free(s, FALSE);
}

/* ---- YAML to JSON ---- */

static JsonNode *scalar_node(const yaml_node_t *n)
{
    const char *v = (const char *)n->data.scalar.value;
    JsonNode *j = json_node_new(JSON_NODE_VALUE);
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (!*v || g_str_equal(v, "~") || g_str_equal(v, "null")) {
            json_node_init_null(j);
            return j;
        }
        if (g_str_equal(v, "true") || g_str_equal(v, "false")) {
            json_node_set_boolean(j, g_str_equal(v, "true"));
            return j;
        }
        char *end = NULL;
        gint64 i = g_ascii_strtoll(v, &end, 10);
        if (end && !*end && (g_ascii_isdigit(*v) || (*v == '-' && g_ascii_isdigit(v[1])))) {
            json_node_set_int(j, i);
            return j;
        }
    }
    json_node_set_string(j, v);
    return j;
}

static JsonNode *yaml_node_to_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
    if (!n || depth > 64)
        return json_node_new(JSON_NODE_NULL);
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return scalar_node(n);
    case YAML_SEQUENCE_NODE: {
        JsonArray *a = json_array_new();
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
            json_array_add_element(a, yaml_node_to_json(doc, yaml_document_get_node(doc, *it), depth + 1));
        JsonNode *j = json_node_new(JSON_NODE_ARRAY);
        json_node_take_array(j, a);
        return j;
    }
    case YAML_MAPPING_NODE: {
        JsonObject *o = json_object_new();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE)
                continue;
            json_object_set_member(o, (const char *)k->data.scalar.value,
                                   yaml_node_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1));
        }
        JsonNode *j = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(j, o);
        return j;
    }
    default:
        return json_node_new(JSON_NODE_NULL);
    }
}

JsonArray *dcn_yaml_to_json(const char *text, gsize len, const char *name, GError **error)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s: out of memory", name);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    g_autoptr(JsonArray) out = json_array_new();
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc)) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s:%zu: YAML syntax error: %s", name,
                        parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
            yaml_parser_delete(&parser);
            return NULL;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        JsonNode *j = yaml_node_to_json(&doc, root, 0);
        if (JSON_NODE_HOLDS_OBJECT(j))
            json_array_add_element(out, j);
        else
            json_node_unref(j);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return g_steal_pointer(&out);
}

/* ---- looking at the objects ---- */

static char *scalar_text(JsonObject *o, const char *member)
{
    JsonNode *n = o ? json_object_get_member(o, member) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return NULL;
    if (json_node_get_value_type(n) == G_TYPE_STRING)
        return g_strdup(json_node_get_string(n));
    if (json_node_get_value_type(n) == G_TYPE_INT64)
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
    return NULL;
}

/* TRUE when every key=value of selector is in labels. */
static gboolean selects(JsonObject *selector, JsonObject *labels)
{
    if (!selector || json_object_get_size(selector) == 0)
        return FALSE;
    GList *keys = json_object_get_members(selector);
    gboolean all = TRUE;
    for (GList *l = keys; l && all; l = l->next) {
        const char *want = dcn_json_str(selector, l->data);
        const char *have = dcn_json_str(labels, l->data);
        all = want && have && g_str_equal(want, have);
    }
    g_list_free(keys);
    return all;
}

static char *selector_text(JsonObject *match)
{
    GString *s = g_string_new(NULL);
    GList *keys = json_object_get_members(match);
    keys = g_list_sort(keys, (GCompareFunc)strcmp);
    for (GList *l = keys; l; l = l->next)
        g_string_append_printf(s, "%s%s=%s", s->len ? "," : "", (char *)l->data,
                               dcn_json_str(match, l->data) ? dcn_json_str(match, l->data) : "");
    g_list_free(keys);
    return g_string_free(s, FALSE);
}

/* Every rendered object names its apiVersion, kind and metadata.name. */
static gboolean check_object(JsonObject *o, guint i, GError **error)
{
    if (dcn_json_str(o, "kind") && dcn_json_str(dcn_json_obj(o, "metadata"), "name") && dcn_json_str(o, "apiVersion"))
        return TRUE;
    g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                "rendered object %u has no apiVersion, kind or metadata.name", i + 1);
    return FALSE;
}

/* A Deployment's container ct is the hoster's: it must be the only one,
 * with exactly the image pinned, and its selector must match its pods. */
static gboolean take_deployment(JsonObject *o, JsonObject *ct, const char *image, DcnRendered *r,
                                JsonObject **pod_labels, GError **error)
{
    JsonObject *meta = dcn_json_obj(o, "metadata");
    const char *name = dcn_json_str(meta, "name");
    if (r->deployment)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "two Deployments (%s, %s) have a container named '%s': which one to roll out?",
                           r->deployment, name, DCN_DEPLOY_CONTAINER),
               FALSE;
    const char *img = dcn_json_str(ct, "image");
    if (g_strcmp0(img, image) != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "Deployment %s container '%s': image is '%s' after rendering, expected %s (does the "
                           "overlay set the image itself?)",
                           name, DCN_DEPLOY_CONTAINER, img ? img : "(none)", image),
               FALSE;
    r->deployment = g_strdup(name);
    r->ns = g_strdup(dcn_json_str(meta, "namespace"));
    JsonObject *match = dcn_json_obj(dcn_json_obj(dcn_json_obj(o, "spec"), "selector"), "matchLabels");
    *pod_labels = dcn_json_obj(dcn_json_obj(dcn_json_obj(dcn_json_obj(o, "spec"), "template"), "metadata"), "labels");
    if (!match || !selects(match, *pod_labels))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "Deployment %s: spec.selector.matchLabels missing or not matching the pod labels", name),
               FALSE;
    r->selector = selector_text(match);
    return TRUE;
}

/* The one Deployment with a container named DCN_DEPLOY_CONTAINER. */
static gboolean find_deployment(JsonArray *objects, const char *image, DcnRendered *r, JsonObject **pod_labels,
                                GError **error)
{
    for (guint i = 0; i < json_array_get_length(objects); i++) {
        JsonObject *o = dcn_json_arr_obj(objects, i);
        if (!check_object(o, i, error))
            return FALSE;
        if (!g_str_equal(dcn_json_str(o, "kind"), "Deployment"))
            continue;
        JsonArray *containers = dcn_json_arr(dcn_json_obj(dcn_json_obj(dcn_json_obj(o, "spec"), "template"), "spec"),
                                             "containers");
        for (guint c = 0; containers && c < json_array_get_length(containers); c++) {
            JsonObject *ct = dcn_json_arr_obj(containers, c);
            if (g_strcmp0(dcn_json_str(ct, "name"), DCN_DEPLOY_CONTAINER) == 0 &&
                !take_deployment(o, ct, image, r, pod_labels, error))
                return FALSE;
        }
    }
    if (!r->deployment)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "no Deployment with a container named '%s' in the rendered manifests", DCN_DEPLOY_CONTAINER),
               FALSE;
    return TRUE;
}

/* The Service: its first port (name, else number) and whether one is "ops". */
static void take_service(JsonObject *spec, const char *name, DcnRendered *r)
{
    JsonArray *ports = dcn_json_arr(spec, "ports");
    JsonObject *p0 = dcn_json_arr_obj(ports, 0);
    r->service = g_strdup(name);
    r->service_port = dcn_json_str(p0, "name") ? g_strdup(dcn_json_str(p0, "name")) : scalar_text(p0, "port");
    for (guint k = 0; ports && k < json_array_get_length(ports); k++) {
        const char *pname = dcn_json_str(dcn_json_arr_obj(ports, k), "name");
        r->ops_port |= pname && g_str_equal(pname, "ops");
    }
}

/* A Route wins over an Ingress; the first of each kind counts. */
static void take_route(const char *kind, JsonObject *spec, const char *name, DcnRendered *r)
{
    const char *host = NULL;
    gboolean tls = FALSE;
    if (g_str_equal(kind, "Route")) {
        host = dcn_json_str(spec, "host");
        tls = dcn_json_obj(spec, "tls") != NULL;
    } else {
        host = dcn_json_str(dcn_json_arr_obj(dcn_json_arr(spec, "rules"), 0), "host");
        tls = dcn_json_arr(spec, "tls") != NULL;
    }
    g_free(r->route_kind), g_free(r->route_name), g_free(r->url);
    r->route_kind = g_strdup(g_str_equal(kind, "Route") ? "route" : "ingress");
    r->route_name = g_strdup(name);
    r->url = host ? g_strdup_printf("%s://%s", tls ? "https" : "http", host) : NULL;
}

gboolean dcn_render_analyse(JsonArray *objects, const char *image, DcnRendered *r, GError **error)
{
    JsonObject *pod_labels = NULL;
    if (!find_deployment(objects, image, r, &pod_labels, error))
        return FALSE;
    for (guint i = 0; i < json_array_get_length(objects); i++) {
        JsonObject *o = dcn_json_arr_obj(objects, i);
        const char *kind = dcn_json_str(o, "kind");
        const char *name = dcn_json_str(dcn_json_obj(o, "metadata"), "name");
        JsonObject *spec = dcn_json_obj(o, "spec");
        if (g_str_equal(kind, "Service") && !r->service && selects(dcn_json_obj(spec, "selector"), pod_labels))
            take_service(spec, name, r);
        else if ((g_str_equal(kind, "Route") && (!r->route_kind || g_str_equal(r->route_kind, "ingress"))) ||
                 (g_str_equal(kind, "Ingress") && !r->route_kind))
            take_route(kind, spec, name, r);
    }
    if (!r->service)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "no Service selecting Deployment %s's pods in the rendered manifests", r->deployment),
               FALSE;
    return TRUE;
}

/* ---- the overlay ---- */

/* A YAML double-quoted scalar. */
static char *yq(const char *s)
{
    GString *q = g_string_new("\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_printf(q, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf(q, "\\x%02x", *p);
        else
            g_string_append_c(q, (char)*p);
    }
    g_string_append_c(q, '"');
    return g_string_free(q, FALSE);
}

static gboolean write_file(const char *path, const char *text, GError **error)
{
    if (!g_file_set_contents(path, text, -1, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    return TRUE;
}

static gboolean check_input(const DcnRenderInput *in, GError **error)
{
    if (!dcn_image_is_pinned(in->image))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE,
                           "image '%s' is not pinned by digest (expected REPO@sha256:<64 hex>)", in->image),
               FALSE;
    if (!g_file_test(in->manifests, G_FILE_TEST_IS_DIR))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "manifests %s: not a directory (deploy.manifests: a kustomize directory such as "
                           "manifests/hoster/openshift)", in->manifests),
               FALSE;
    if (g_mkdir_with_parents(in->out_dir, 0755) < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "creating %s: %s", in->out_dir, g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

/* "        KEY: "VALUE"\n" (indent and key as given) when value is set. */
static void append_quoted(GString *p, const char *line_start, const char *value)
{
    if (!value)
        return;
    g_autofree char *v = yq(value);
    g_string_append_printf(p, "%s%s\n", line_start, v);
}

/* pin-image.yaml: the patch setting the hoster container's image and env
 * and the pod template's annotations. */
static char *patch_yaml(const DcnRenderInput *in)
{
    GString *p = g_string_new("# Generated by dcn-builder deploy (rewritten on every run): pins the image.\n"
                              "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: dcn-hoster\n");
    g_autofree char *img = yq(in->image);
    g_autofree char *cause = g_strdup_printf("dcn-builder deploy: version %s commit %s image %s",
                                             in->version ? in->version : "?", in->commit ? in->commit : "?",
                                             in->image);
    g_autofree char *qcause = yq(cause);
    g_string_append_printf(p, "  annotations:\n    kubernetes.io/change-cause: %s\n", qcause);
    g_string_append(p, "spec:\n  template:\n");
    if (in->version || in->commit) {
        g_string_append(p, "    metadata:\n      annotations:\n");
        append_quoted(p, "        " DCN_ANNOTATION_VERSION ": ", in->version);
        append_quoted(p, "        " DCN_ANNOTATION_COMMIT ": ", in->commit);
    }
    g_string_append_printf(p, "    spec:\n      containers:\n        - name: %s\n          image: %s\n",
                           DCN_DEPLOY_CONTAINER, img);
    if (in->ref || in->public_url) {
        g_string_append(p, "          env:\n");
        append_quoted(p, "            - name: DCN_HOSTER_REF\n              value: ", in->ref);
        append_quoted(p, "            - name: DCN_HOSTER_PUBLIC_URL\n              value: ", in->public_url);
    }
    return g_string_free(p, FALSE);
}

/* kustomization.yaml: the operator's manifests, the namespace, the patch. */
static char *kustomization_yaml(const DcnRenderInput *in)
{
    g_autofree char *rel = dcn_relative_path(in->out_dir, in->manifests);
    g_autofree char *qrel = yq(rel);
    GString *k = g_string_new("# Generated by dcn-builder deploy (rewritten on every run). Patch the manifests\n"
                              "# it points at (deploy.manifests), not this file.\n"
                              "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
    g_string_append_printf(k, "resources:\n  - %s\n", qrel);
    append_quoted(k, "namespace: ", in->ns);
    g_string_append(k, "patches:\n  - path: pin-image.yaml\n    target:\n      group: apps\n      kind: Deployment\n");
    return g_string_free(k, FALSE);
}

static gboolean write_overlay(const DcnRenderInput *in, GError **error)
{
    g_autofree char *patch_text = patch_yaml(in);
    g_autofree char *kust_text = kustomization_yaml(in);
    g_autofree char *patch_path = g_build_filename(in->out_dir, "pin-image.yaml", NULL);
    g_autofree char *kust_path = g_build_filename(in->out_dir, "kustomization.yaml", NULL);
    return write_file(patch_path, patch_text, error) && write_file(kust_path, kust_text, error);
}

/* `kubectl kustomize` of the overlay into r->yaml. */
static gboolean run_kustomize(DcnKube *kube, const DcnRenderInput *in, DcnRendered *r, GError **error)
{
    const char *argv[] = {"kustomize", in->out_dir, NULL};
    if (dcn_kube_run(kube, DCN_KUBE_LOCAL, 120, &r->yaml, NULL, error, argv))
        return TRUE;
    g_prefix_error(error, "rendering %s: ", in->manifests);
    /* the usual cause on Debian 12: its kubernetes-client is kubectl 1.20, kustomize v2.0.3 */
    if (error && *error) {
        g_autofree char *msg = g_strconcat((*error)->message,
                                           " (the manifests need kustomize >= 3: kubectl >= 1.21 or oc)", NULL);
        g_free((*error)->message);
        (*error)->message = g_steal_pointer(&msg);
    }
    return FALSE;
}

DcnRendered *dcn_render(DcnKube *kube, const DcnRenderInput *in, GError **error)
{
    if (!check_input(in, error) || !write_overlay(in, error))
        return NULL;
    g_autoptr(DcnRendered) r = g_new0(DcnRendered, 1);
    if (!run_kustomize(kube, in, r, error))
        return NULL;
    r->path = g_build_filename(in->out_dir, "rendered.yaml", NULL);
    if (!write_file(r->path, r->yaml, error))
        return NULL;
    r->objects = dcn_yaml_to_json(r->yaml, strlen(r->yaml), r->path, error);
    if (!r->objects || !dcn_render_analyse(r->objects, in->image, r, error)) {
        g_prefix_error(error, "checking %s: ", r->path);
        return NULL;
    }
    return g_steal_pointer(&r);
}
