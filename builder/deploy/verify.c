/* verify: see verify.h. */
#include "verify.h"
#include "error.h"
#include "json.h"

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
    JsonObject *o = dcn_json_parse_object(parser, body, len, "/-/status", error);
    if (!o)
        return FALSE;
    out->ready = dcn_json_bool_or(o, "ready", FALSE);
    out->draining = dcn_json_bool_or(o, "draining", FALSE);
    out->commit = g_strdup(dcn_json_str(dcn_json_obj(o, "refs"), ref));
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
