/* Unit tests for builder/util/http.c, the one libcurl setup: a reply body
 * kept in memory stops at its cap with an error that says so, also through
 * a caller (deploy's /-/status fetch, capped at 1 MiB). The bodies are
 * local files read through file:// URLs: no server, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "http.h"
#include "verify.h"

/* A file of len 'x' bytes at <dir>/name; its file:// URL. */
static char *body_file(const char *dir, const char *name, gsize len)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *parent = g_path_get_dirname(path);
    g_mkdir_with_parents(parent, 0700);
    g_autofree char *data = g_malloc(len);
    memset(data, 'x', len);
    assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
    return g_strconcat("file://", path, NULL);
}

static CURLcode fetch(const char *url, DcnHttpBody *body, gsize cap, char *errbuf)
{
    g_autoptr(GError) error = NULL;
    CURL *c = dcn_http_handle(&error);
    assert_non_null(c);
    const DcnHttpOptions o = {.user_agent = "dcn-test", .timeout_s = 10};
    dcn_http_setup(c, &o, errbuf);
    dcn_http_body_sink(c, body, cap);
    curl_easy_setopt(c, CURLOPT_URL, url);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    return rc;
}

static void test_body_within_cap_is_kept(void **state)
{
    const char *dir = *state;
    g_autofree char *url = body_file(dir, "small", 1000);
    g_auto(DcnHttpBody) body = {0};
    char errbuf[CURL_ERROR_SIZE];
    assert_int_equal(fetch(url, &body, 1000, errbuf), CURLE_OK); /* exactly the cap: fine */
    assert_false(body.overflow);
    assert_int_equal(body.data->len, 1000);
}

static void test_body_over_cap_stops_with_a_clear_error(void **state)
{
    const char *dir = *state;
    g_autofree char *url = body_file(dir, "big", 300000);
    g_auto(DcnHttpBody) body = {0};
    char errbuf[CURL_ERROR_SIZE];
    CURLcode rc = fetch(url, &body, 4096, errbuf);
    assert_int_equal(rc, CURLE_WRITE_ERROR);
    assert_true(body.overflow);
    assert_true(body.data->len <= 4096);
    g_autofree char *text = dcn_http_error_text(rc, errbuf, &body);
    assert_non_null(strstr(text, "larger than 4096 bytes"));
    /* the same body reused for a small reply: the overflow is forgotten */
    g_autofree char *small = body_file(dir, "small2", 10);
    assert_int_equal(fetch(small, &body, 4096, errbuf), CURLE_OK);
    assert_false(body.overflow);
    assert_int_equal(body.data->len, 10);
}

static void test_verify_refuses_a_runaway_status(void **state)
{
    const char *dir = *state;
    g_autofree char *url = body_file(dir, "runaway/-/status", 2u << 20);
    url[strlen(url) - strlen("-/status")] = '\0'; /* the base URL */
    g_autoptr(GError) error = NULL;
    g_autofree char *body = NULL;
    assert_false(dcn_verify_fetch_url(url, NULL, 10, &body, &error));
    assert_non_null(error);
    assert_non_null(strstr(error->message, "larger than 1048576 bytes"));
    assert_null(body);
}

static int setup(void **state)
{
    *state = g_dir_make_tmp("dcn-test-http-XXXXXX", NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    g_free(*state);
    return rc == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_within_cap_is_kept),
        cmocka_unit_test(test_body_over_cap_stops_with_a_clear_error),
        cmocka_unit_test(test_verify_refuses_a_runaway_status),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
