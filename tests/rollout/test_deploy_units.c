/* Unit tests of deploy's pure parts: image references, the overlay's
 * relative path, YAML to JSON, the checks on rendered objects, and the
 * /-/status parser. Table-driven: one line per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "render.h"
#include "rollout.h"
#include "verify.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void pinned(void **state)
{
    static const struct { const char *ref; gboolean want; } cases[] = {
        {"reg.example:5000/dcn/dcn-hoster@sha256:" D64, TRUE},
        {"dcn-hoster@sha256:" D64, TRUE},
        {"reg.example/dcn/dcn-hoster:2.0.0", FALSE},
        {"reg.example/dcn/dcn-hoster@sha256:" D64 "0", FALSE},     /* 65 hex */
        {"reg.example/dcn/dcn-hoster@sha256:0123", FALSE},
        {"reg.example/dcn/dcn-hoster@sha512:" D64, FALSE},
        {"reg.example/dcn/dcn-hoster@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", FALSE},
        {"@sha256:" D64, FALSE},
        {"", FALSE},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        if (dcn_image_is_pinned(cases[i].ref) != cases[i].want)
            fail_msg("dcn_image_is_pinned(%s) != %d", cases[i].ref, cases[i].want);
    }
}

static void relative(void **state)
{
    static const struct { const char *from, *to, *want; } cases[] = {
        {"/srv/dcn/.dcn-state/edge/deploy", "/opt/dcn/manifests/hoster/openshift", "../../../../../opt/dcn/manifests/hoster/openshift"},
        {"/a/b", "/a/b/c", "c"},
        {"/a/b/c", "/a/b", ".."},
        {"/a/b", "/a/b", "."},
        {"/a/b/", "/a/x/", "../x"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = dcn_relative_path(cases[i].from, cases[i].to);
        assert_string_equal(got, cases[i].want);
    }
}

static void cluster_repository(void **state)
{
    static const struct { const char *repo, *registry, *want; } cases[] = {
        {"default-route-openshift-image-registry.apps.example.com/dcn/dcn-hoster",
         "image-registry.openshift-image-registry.svc:5000", "image-registry.openshift-image-registry.svc:5000/dcn/dcn-hoster"},
        {"127.0.0.1:5000/dcn/dcn-hoster", NULL, "127.0.0.1:5000/dcn/dcn-hoster"},
        {"localhost/dcn/dcn-hoster", "reg:5000", "reg:5000/dcn/dcn-hoster"},
        {"dcn/dcn-hoster", "reg:5000", "reg:5000/dcn/dcn-hoster"}, /* no host in it: prefixed */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = dcn_deploy_repository_for_cluster(cases[i].repo, cases[i].registry);
        assert_string_equal(got, cases[i].want);
    }
}

static const char good_yaml[] =
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    "spec:\n  selector: {app: dcn}\n  ports: [{name: http, port: 8080, targetPort: http}]\n"
    "---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: dcn-hoster, namespace: edge}\n"
    "spec:\n  replicas: 2\n  selector: {matchLabels: {app: dcn}}\n"
    "  template:\n    metadata: {labels: {app: dcn, tier: web}}\n"
    "    spec:\n      containers:\n      - name: sidecar\n        image: busybox\n"
    "      - name: hoster\n        image: reg/dcn@sha256:" D64 "\n"
    "---\n"
    "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r}\n"
    "spec: {host: dcn.apps.example.com, tls: {termination: edge}, to: {kind: Service, name: web}}\n";

/* With the ops-port component, /-/status is on the Service's "ops" port. */
static void analyse_ops_port(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    g_autofree char *yaml = g_strdup(good_yaml);
    char *p = strstr(yaml, "ports: [{name: http, port: 8080, targetPort: http}]");
    assert_non_null(p);
    g_autofree char *with_ops = g_strdup_printf(
        "%.*sports: [{name: http, port: 8080, targetPort: http}, {name: ops, port: 9090, targetPort: ops}]%s",
        (int)(p - yaml), yaml, p + strlen("ports: [{name: http, port: 8080, targetPort: http}]"));
    g_autoptr(JsonArray) objs = dcn_yaml_to_json(with_ops, strlen(with_ops), "t", &error);
    assert_non_null(objs);
    DcnRendered r = {0};
    assert_true(dcn_render_analyse(objs, "reg/dcn@sha256:" D64, &r, &error));
    assert_string_equal(r.service_port, "http");
    assert_true(r.ops_port);
    g_free(r.deployment), g_free(r.ns), g_free(r.selector), g_free(r.service), g_free(r.service_port);
    g_free(r.route_kind), g_free(r.route_name), g_free(r.url);
}

static void analyse_good(void **state)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonArray) objs = dcn_yaml_to_json(good_yaml, strlen(good_yaml), "t", &error);
    assert_non_null(objs);
    assert_int_equal(json_array_get_length(objs), 3);
    JsonObject *dep = json_array_get_object_element(objs, 1);
    assert_int_equal(json_object_get_int_member(json_object_get_object_member(dep, "spec"), "replicas"), 2);
    DcnRendered r = {0};
    assert_true(dcn_render_analyse(objs, "reg/dcn@sha256:" D64, &r, &error));
    assert_string_equal(r.deployment, "dcn-hoster");
    assert_string_equal(r.ns, "edge");
    assert_string_equal(r.selector, "app=dcn");
    assert_string_equal(r.service, "web");
    assert_string_equal(r.service_port, "http");
    assert_false(r.ops_port);
    assert_string_equal(r.url, "https://dcn.apps.example.com");
    g_free(r.deployment), g_free(r.ns), g_free(r.selector), g_free(r.service), g_free(r.service_port);
    g_free(r.route_kind), g_free(r.route_name), g_free(r.url);
}

/* Each broken variant of good_yaml is refused with a message naming why. */
static void analyse_refuses(void **state)
{
    static const struct { const char *from, *to, *message; } cases[] = {
        {"image: reg/dcn@sha256:" D64, "image: reg/dcn:latest", "image is 'reg/dcn:latest' after rendering"},
        {"- name: hoster", "- name: server", "no Deployment with a container named 'hoster'"},
        {"selector: {matchLabels: {app: dcn}}", "selector: {matchLabels: {app: other}}", "not matching the pod labels"},
        {"selector: {app: dcn}", "selector: {app: other}", "no Service selecting"},
        {"kind: Route\nmetadata: {name: r}", "kind: Route\nmetadata: {}", "has no apiVersion, kind or metadata.name"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) y = g_string_new(good_yaml);
        assert_true(g_string_replace(y, cases[i].from, cases[i].to, 1) == 1);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonArray) objs = dcn_yaml_to_json(y->str, y->len, "t", &error);
        assert_non_null(objs);
        DcnRendered r = {0};
        gboolean ok = dcn_render_analyse(objs, "reg/dcn@sha256:" D64, &r, &error);
        g_free(r.deployment), g_free(r.ns), g_free(r.selector), g_free(r.service), g_free(r.service_port);
        g_free(r.route_kind), g_free(r.route_name), g_free(r.url);
        if (ok || !strstr(error->message, cases[i].message))
            fail_msg("case %zu: expected '%s', got %s", i, cases[i].message, ok ? "success" : error->message);
    }
}

static void yaml_errors(void **state)
{
    g_autoptr(GError) error = NULL;
    const char bad[] = "kind: Service\n  metadata: [\n";
    assert_null(dcn_yaml_to_json(bad, strlen(bad), "rendered.yaml", &error));
    assert_non_null(strstr(error->message, "rendered.yaml:"));
}

static void status_parse(void **state)
{
    static const struct { const char *body; gboolean ok, ready; const char *commit; } cases[] = {
        {"{\"ready\":true,\"draining\":false,\"refs\":{\"a/b\":\"c1\"}}", TRUE, TRUE, "c1"},
        {"{\"ready\":false,\"draining\":true,\"refs\":{\"a/b\":\"c1\"}}", TRUE, FALSE, "c1"},
        {"{\"ready\":true,\"refs\":{\"x/y\":\"c1\"}}", TRUE, TRUE, NULL},
        {"{\"ready\":true}", TRUE, TRUE, NULL},
        {"{\"ready\":true,\"refs\":[]}", TRUE, TRUE, NULL},
        {"[1,2]", FALSE, FALSE, NULL},
        {"<html>", FALSE, FALSE, NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        DcnServed s;
        g_autoptr(GError) error = NULL;
        gboolean ok = dcn_verify_parse_status(cases[i].body, strlen(cases[i].body), "a/b", &s, &error);
        if (ok != cases[i].ok)
            fail_msg("case %zu: parse %d, expected %d", i, ok, cases[i].ok);
        if (ok) {
            assert_int_equal(s.ready, cases[i].ready);
            assert_string_equal(s.commit ? s.commit : "(null)", cases[i].commit ? cases[i].commit : "(null)");
        }
        dcn_served_clear(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pinned),       cmocka_unit_test(relative),        cmocka_unit_test(cluster_repository),
        cmocka_unit_test(analyse_good), cmocka_unit_test(analyse_ops_port), cmocka_unit_test(analyse_refuses), cmocka_unit_test(yaml_errors),
        cmocka_unit_test(status_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
