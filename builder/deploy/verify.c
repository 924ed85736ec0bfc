/* verify: see verify.h. */
#include "verify.h"
#include "error.h"

#include <curl/curl.h>
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

static size_t on_body(char *ptr, size_t size, size_t n, void *data)
{
    GString *s = data;
    if (s->len + size * n > 1024 * 1024)
        return 0; /* a status document is small: refuse a runaway body */
    g_string_append_len(s, ptr, (gssize)(size * n));
    return size * n;
}

gboolean dcn_verify_fetch_url(const char *base_url, const char *ca_file, guint timeout_s, char **body,
                              GError **error)
{
    static gsize curl_ready;
    if (g_once_init_enter(&curl_ready)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&curl_ready, 1);
    }
    g_autofree char *url = g_strdup_printf("%s%s-/status", base_url, g_str_has_suffix(base_url, "/") ? "" : "/");
    CURL *curl = curl_easy_init();
    if (!curl) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "GET %s: curl_easy_init failed", url);
        return FALSE;
    }
    g_autoptr(GString) buf = g_string_new(NULL);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, buf);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)(timeout_s ? timeout_s : 10));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "dcn-builder-deploy/" DCN_VERSION);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L); /* a new connection each time: another backend may answer */
    if (ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "GET %s: %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
        return FALSE;
    }
    if (status != 200) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "GET %s: HTTP %ld", url, status);
        return FALSE;
    }
    *body = g_string_free(g_steal_pointer(&buf), FALSE);
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
