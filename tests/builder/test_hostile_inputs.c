/* Unit tests: what a registry, a composer and a cluster send back, in the
 * shapes the fuzz targets (tests/fuzz/) found trouble with: members of the
 * wrong type, blank bodies, control characters, a token that would add a
 * header, a reply listing a compose twice; and the limits a tarball meets
 * (compose/tar_limits.c: the entry count the integration test cannot reach
 * in reasonable time). A GLib critical or warning is a
 * failure here (main makes them fatal): json-glib's typed getters warn on
 * a member of another type, and that is what hostile input must not reach.
 * Table-driven: one line per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include "challenge.h"
#include "compose.h"
#include "kube_output.h"
#include "oci.h"
#include "registry_reply.h"
#include "verify.h"
#include "weldr_reply.h"

#define ID "7e1a2b3c-0d4e-4f50-8a6b-7c8d9e0f1a2b"
#define HEX64 "abababababababababababababababababababababababababababababababab"

static JsonObject *object_of(JsonParser *p, const char *text)
{
    assert_true(json_parser_load_from_data(p, text, -1, NULL));
    assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)));
    return json_node_get_object(json_parser_get_root(p));
}

static void test_challenge_refuses_ctl_in_quoted(void **state)
{
    (void)state;
    static const char *const bad[] = {"Basic realm=\"enci\x7fpe\"", "Bearer realm=\"https://t/\\\x7f\"",
                                      "Bearer realm=\"https://t/\x01\""};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        DcnChallenge ch;
        assert_int_equal(dcn_challenge_parse(bad[i], strlen(bad[i]), &ch), -1);
    }
}

static void test_registry_token(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *token; /* NULL: refused */
    } cases[] = {
        {"{\"token\":\"eyJ.e30.sig\"}", "eyJ.e30.sig"},
        {"{\"token\":\"\",\"access_token\":\"sha256~x\"}", "sha256~x"},
        {"{\"token\":\"abc\\r\\nX-Injected: 1\"}", NULL}, /* would add a header to every request */
        {"{\"token\":\"a b\"}", NULL},
        {"{\"token\":\"caf\\u00e9\"}", NULL},
        {"{\"token\":5,\"access_token\":{}}", NULL},
        {"[\"token\"]", NULL},
        {"   ", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *error = NULL;
        char *t = dcn_registry_parse_token(cases[i].body, strlen(cases[i].body), &error);
        if (cases[i].token) {
            assert_non_null(t);
            assert_string_equal(t, cases[i].token);
            assert_null(error);
        } else {
            assert_null(t);
            assert_non_null(error);
            g_error_free(error);
        }
        g_free(t);
    }
}

static void test_registry_error_text(void **state)
{
    (void)state;
    static const struct {
        const char *body, *text;
    } cases[] = {
        {"{\"errors\":[{\"code\":\"DENIED\",\"message\":\"no\\npush\"}]}", "DENIED: no push"},
        {"{\"errors\":[{\"code\":\"DENIED\"}]}", "DENIED"},
        {"{\"errors\":[{\"code\":1,\"message\":[]}]}", "{\"errors\":[{\"code\":1,\"message\":[]}]}"},
        {"{\"errors\":{}}", "{\"errors\":{}}"},
        {"502 Bad\r\nGateway", "502 Bad  Gateway"},
        {"", "no details"},
        {"\n\n", "no details"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *t = dcn_registry_error_text(cases[i].body, strlen(cases[i].body));
        assert_string_equal(t, cases[i].text);
        g_free(t);
    }
    GString *big = g_string_new("{\"errors\":[{\"code\":\"X\",\"message\":\"");
    for (int i = 0; i < 1000; i++)
        g_string_append(big, "\\u00e9");
    g_string_append(big, "\"}]}");
    char *t = dcn_registry_error_text(big->str, big->len);
    assert_true(strlen(t) <= DCN_REGISTRY_ERROR_TEXT_MAX && g_utf8_validate(t, -1, NULL));
    g_free(t);
    g_string_free(big, TRUE);
}

static void test_oci_index_find_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *index;
        int found; /* index in manifests of the match, -1 none */
    } cases[] = {
        {"{}", -1},
        {"{\"manifests\":{}}", -1},
        {"{\"manifests\":[1,null,\"x\",{\"annotations\":[]},{\"annotations\":{\"org.opencontainers.image.ref.name\":5}}]}", -1},
        {"{\"manifests\":[{},{\"annotations\":{\"org.opencontainers.image.ref.name\":\"1.0.0\"}}]}", 1},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        JsonParser *p = json_parser_new();
        JsonObject *o = object_of(p, cases[i].index);
        JsonObject *d = dcn_oci_index_find(o, "1.0.0");
        if (cases[i].found < 0)
            assert_null(d);
        else
            assert_ptr_equal(d, json_array_get_object_element(json_object_get_array_member(o, "manifests"),
                                                              (guint)cases[i].found));
        g_object_unref(p);
    }
}

static void test_kube_replicasets_shapes(void **state)
{
    (void)state;
    static const char *const lists[] = {
        /* a pinned hoster image, but no metadata: owned by nobody */
        "{\"items\":[{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"hoster\",\"image\":\"r@sha256:" HEX64
        "\"}]}}}}]}",
        "{\"items\":[{\"metadata\":5}]}",
        "{\"items\":[{\"metadata\":{\"ownerReferences\":{}}}]}",
        "{\"items\":{}}",
        "[]",
        "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
        GError *error = NULL;
        GPtrArray *past = dcn_kube_parse_replicasets(lists[i], strlen(lists[i]), "dcn-hoster", &error);
        assert_non_null(past);
        assert_int_equal(past->len, 0);
        g_ptr_array_unref(past);
    }
}

static void test_weldr_reply_shapes(void **state)
{
    (void)state;
    JsonParser *p = json_parser_new();
    /* a blank body is valid JSON with no root */
    assert_null(dcn_weldr_reply_object(p, "application/json", "  \n", 3));
    assert_null(dcn_weldr_reply_object(p, "text/plain", "{}", 2));
    g_object_unref(p);

    static const struct {
        const char *reply;
        const char *errors, *status, *build_id, *server;
        guint deps;
        gboolean deleted;
    } cases[] = {
        {"{\"errors\":{}}", NULL, NULL, NULL, "backend=? build=? api=?", 0, FALSE},
        {"{\"errors\":[5,{\"id\":5,\"msg\":\"a\\nb\"},{\"id\":\"X\"}],\"uuids\":[1,null,{\"uuid\":\"" ID "\",\"status\":\"yes\"}]}",
         "?: a b; X: ", NULL, NULL, "backend=? build=? api=?", 0, FALSE},
        {"{\"uuids\":[{\"id\":\"" ID "\",\"queue_status\":\"WAITING\",\"image_size\":{}},{\"id\":\"" ID
         "\",\"queue_status\":\"RUN NING\\n\"}]}",
         NULL, "RUN?NING?", NULL, "backend=? build=? api=?", 0, FALSE},
        {"{\"uuids\":[{\"id\":\"" ID "\",\"queue_status\":7}]}", NULL, "?", NULL, "backend=? build=? api=?", 0, FALSE},
        {"{\"uuids\":[{\"uuid\":\"" ID "\",\"status\":true}],\"build_id\":\"not-a-uuid\"}", NULL, NULL, NULL,
         "backend=? build=? api=?", 0, TRUE},
        {"{\"build_id\":\"" ID "\",\"backend\":{},\"build\":\"dev el\\n\",\"api\":1}", NULL, NULL, ID,
         "backend=? build=dev?el? api=?", 0, FALSE},
        {"{\"blueprints\":[5,{\"dependencies\":[1,2]}]}", NULL, NULL, NULL, "backend=? build=? api=?", 0, FALSE},
        {"{\"blueprints\":[{\"dependencies\":{}}]}", NULL, NULL, NULL, "backend=? build=? api=?", 0, FALSE},
        {"{\"blueprints\":[{\"dependencies\":[1,2]}]}", NULL, NULL, NULL, "backend=? build=? api=?", 2, FALSE},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        p = json_parser_new();
        JsonObject *o = dcn_weldr_reply_object(p, "application/json; charset=utf-8", cases[i].reply,
                                               strlen(cases[i].reply));
        assert_non_null(o);
        char *errs = dcn_weldr_reply_errors(o);
        char *st = dcn_weldr_reply_queue_status(o, ID, NULL);
        char *id = dcn_weldr_reply_build_id(o);
        char *server = dcn_weldr_reply_server(o);
        GPtrArray *not_deleted = g_ptr_array_new_with_free_func(g_free);
        assert_int_equal(dcn_weldr_reply_deleted(o, ID, not_deleted), cases[i].deleted);
        assert_int_equal(dcn_weldr_reply_dependencies(o), cases[i].deps);
        if (cases[i].errors)
            assert_string_equal(errs, cases[i].errors);
        else
            assert_null(errs);
        if (cases[i].status)
            assert_string_equal(st, cases[i].status);
        else
            assert_null(st);
        if (cases[i].build_id)
            assert_string_equal(id, cases[i].build_id);
        else
            assert_null(id);
        assert_string_equal(server, cases[i].server);
        g_free(errs);
        g_free(st);
        g_free(id);
        g_free(server);
        g_ptr_array_unref(not_deleted);
        g_object_unref(p);
    }

    static const struct {
        const char *body, *tail;
    } logs[] = {
        {"Stage org.osbuild.rpm\n\x1b[1mFailed\x1b[0m\r\nerror: no space\n", "Stage org.osbuild.rpm |  [1mFailed [0m  | error: no space"},
        {"{\"status\":false,\"errors\":[{\"id\":\"BuildInWrongState\",\"msg\":\"not\\nstarted\"}]}",
         "(no log: BuildInWrongState: not started)"},
        {"{\"status\":{},\"errors\":5}", "{\"status\":{},\"errors\":5}"},
        {"{\"status\":false,\"errors\":5}", "(no log: composer gave none)"},
        {"", ""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(logs); i++) {
        char *t = dcn_weldr_reply_log_tail(logs[i].body, strlen(logs[i].body));
        assert_string_equal(t, logs[i].tail);
        g_free(t);
    }
}

static void test_verify_status_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        gboolean ok, ready, draining;
        const char *commit;
    } cases[] = {
        {"{\"ready\":true,\"draining\":{\"r\":\"1f\"}}", TRUE, TRUE, FALSE, NULL}, /* found by fuzz_verify_status */
        {"{\"ready\":{},\"draining\":[],\"refs\":{\"a/b\":{}}}", TRUE, FALSE, FALSE, NULL},
        {"{\"ready\":1,\"draining\":\"yes\",\"refs\":{\"a/b\":5}}", TRUE, FALSE, FALSE, NULL},
        {"{\"ready\":true,\"draining\":true,\"refs\":{\"a/b\":\"c1\"}}", TRUE, TRUE, TRUE, "c1"},
        {"  ", FALSE, FALSE, FALSE, NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        DcnServed s;
        GError *error = NULL;
        assert_int_equal(dcn_verify_parse_status(cases[i].body, strlen(cases[i].body), "a/b", &s, &error), cases[i].ok);
        assert_int_equal(s.ready, cases[i].ready);
        assert_int_equal(s.draining, cases[i].draining);
        assert_string_equal(s.commit ? s.commit : "(none)", cases[i].commit ? cases[i].commit : "(none)");
        dcn_served_clear(&s);
        g_clear_error(&error);
    }
}

static void test_tar_limits(void **state)
{
    (void)state;
    char path[] = "/tmp/dcn-tar-limits-XXXXXX";
    int fd = g_mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 30), 0); /* a 1 GiB (sparse) tarball: expansion is not what stops it */
    close(fd);
    DcnTarLimits l;
    GError *error = NULL;
    assert_true(dcn_tar_limits_init(&l, path, NULL, &error));
    unlink(path);
    assert_int_equal(l.max_bytes, 100ull << 30);
    for (guint i = 0; i < DCN_TAR_MAX_ENTRIES; i++)
        if (!dcn_tar_limits_entry(&l, "f", 0, &error))
            fail_msg("entry %u refused: %s", i, error->message);
    assert_false(dcn_tar_limits_entry(&l, "f", 0, &error));
    assert_non_null(strstr(error->message, "entry 'f': more than 1000000 entries: refused as a tar bomb"));
    g_clear_error(&error);

    /* a small tarball may expand to the floor, not beyond; a negative size is refused */
    static const struct {
        gint64 size;
        gboolean ok;
    } sizes[] = {{(64 << 20) - 1024, TRUE}, {(64 << 20) - 511, FALSE}, {-1, FALSE}, {G_MAXINT64, FALSE}};
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        l = (DcnTarLimits){.tarball_size = 10240, .max_bytes = DCN_TAR_EXPANSION_FLOOR};
        assert_int_equal(dcn_tar_limits_entry(&l, "big", sizes[i].size, &error), sizes[i].ok);
        g_clear_error(&error);
    }
    /* where data is extracted, it may take half the free space */
    l = (DcnTarLimits){.tarball_size = 1ull << 40, .max_bytes = G_MAXUINT64, .space_dir = "/x", .free_bytes = 1000};
    assert_true(dcn_tar_limits_entry(&l, "a", 500, &error));
    assert_false(dcn_tar_limits_entry(&l, "b", 1, &error));
    assert_non_null(strstr(error->message, "entry 'b' (1 bytes): the tarball holds more than half the 1000 bytes free in /x"));
    g_clear_error(&error);
}

int main(void)
{
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_refuses_ctl_in_quoted),
        cmocka_unit_test(test_registry_token),
        cmocka_unit_test(test_registry_error_text),
        cmocka_unit_test(test_oci_index_find_shapes),
        cmocka_unit_test(test_kube_replicasets_shapes),
        cmocka_unit_test(test_weldr_reply_shapes),
        cmocka_unit_test(test_verify_status_shapes),
        cmocka_unit_test(test_tar_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
