/* verify: see verify.h. */
#include "verify.h"
#include "error.h"
#include "http.h"
#include "json.h"

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
    JsonObject *o = dcn_json_parse_object(parser, body, len, "/-/status", error);
    if (!o)
        return FALSE;
    out->ready = dcn_json_bool_or(o, "ready", FALSE);
    out->draining = dcn_json_bool_or(o, "draining", FALSE);
    out->commit = g_strdup(dcn_json_str(dcn_json_obj(o, "refs"), ref));
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
