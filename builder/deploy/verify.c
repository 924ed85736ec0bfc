/* verify: see verify.h. */
#include "verify.h"
#include "error.h"
#include "http.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

void dcn_served_clear(DcnServed *s)
{
    g_clear_pointer(&s->commit, g_free);
}

gboolean dcn_verify_parse_status(const char *body, gsize len, const char *ref, DcnServed *out, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    *out = (DcnServed){0};
    if (!json_parser_load_from_data(parser, body, (gssize)len, error)) {
        g_prefix_error(error, "/-/status is not JSON: ");
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "/-/status is not a JSON object");
        return FALSE;
    }
    /* each member's type checked first: json-glib's typed getters assume it */
    JsonObject *o = json_node_get_object(root);
    JsonNode *ready = json_object_get_member(o, "ready"), *draining = json_object_get_member(o, "draining");
    out->ready = ready && JSON_NODE_HOLDS_VALUE(ready) && json_node_get_value_type(ready) == G_TYPE_BOOLEAN &&
                 json_node_get_boolean(ready);
    out->draining = draining && JSON_NODE_HOLDS_VALUE(draining) &&
                    json_node_get_value_type(draining) == G_TYPE_BOOLEAN && json_node_get_boolean(draining);
    JsonNode *refs = json_object_get_member(o, "refs");
    JsonNode *c = refs && JSON_NODE_HOLDS_OBJECT(refs) ? json_object_get_member(json_node_get_object(refs), ref) : NULL;
    out->commit = c && JSON_NODE_HOLDS_VALUE(c) && json_node_get_value_type(c) == G_TYPE_STRING
                      ? g_strdup(json_node_get_string(c))
                      : NULL;
    return TRUE;
}

gboolean dcn_verify_fetch_url(const char *base_url, const char *ca_file, guint timeout_s, char **body,
                              GError **error)
{
    g_autofree char *url = g_strdup_printf("%s%s-/status", base_url, g_str_has_suffix(base_url, "/") ? "" : "/");
    CURL *curl = dcn_http_handle(error);
    if (!curl)
        return g_prefix_error(error, "GET %s: ", url), FALSE;
    char errbuf[CURL_ERROR_SIZE];
    const DcnHttpOptions opts = {
        .user_agent = "dcn-builder-deploy/" DCN_VERSION,
        .ca_file = ca_file,
        .timeout_s = timeout_s ? timeout_s : 10,
        .fresh_connection = TRUE, /* another backend may answer */
    };
    dcn_http_setup(curl, &opts, errbuf);
    g_auto(DcnHttpBody) buf = {0};
    dcn_http_body_sink(curl, &buf, 1024 * 1024); /* a status document is small: refuse a runaway body */
    curl_easy_setopt(curl, CURLOPT_URL, url);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        g_autofree char *why = dcn_http_error_text(rc, errbuf, &buf);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "GET %s: %s", url, why);
        return FALSE;
    }
    if (status != 200) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "GET %s: HTTP %ld", url, status);
        return FALSE;
    }
    *body = g_string_free(g_steal_pointer(&buf.data), FALSE);
    return TRUE;
}

gboolean dcn_verify_fetch_proxy(DcnKube *kube, const char *ns, const char *service, const char *port,
                                guint timeout_s, char **body, GError **error)
{
    g_autofree char *path =
        g_strdup_printf("/api/v1/namespaces/%s/services/%s:%s/proxy/-/status", ns, service, port ? port : "");
    const char *argv[] = {"get", "--raw", path, NULL};
    return dcn_kube_run(kube, DCN_KUBE_READ, timeout_s, body, NULL, error, argv);
}
