/* Unit tests for the pure parsers of package and push: the registry's
 * WWW-Authenticate challenge (push/challenge.c) and `ldd` output
 * (package/runtime.c). Table-driven: one line per case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "challenge.h"
#include "runtime.h"

typedef struct {
    const char *header;
    int rc;
    DcnAuthScheme scheme;
    const char *realm, *service, *scope, *error;
} ChallengeCase;

static const ChallengeCase challenge_cases[] = {
    /* distribution's basic auth */
    {"Basic realm=\"dcn-test-realm\"", 0, DCN_AUTH_BASIC, "dcn-test-realm", "", "", ""},
    {"basic realm=registry", 0, DCN_AUTH_BASIC, "registry", "", "", ""},
    /* distribution / Docker Hub token auth */
    {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/x:pull\"",
     0, DCN_AUTH_BEARER, "https://auth.docker.io/token", "registry.docker.io", "repository:library/x:pull", ""},
    {"Bearer realm=\"http://127.0.0.1:5001/token\", service=\"svc\", scope=\"repository:a/b:pull,push\", "
     "error=\"insufficient_scope\"",
     0, DCN_AUTH_BEARER, "http://127.0.0.1:5001/token", "svc", "repository:a/b:pull,push", "insufficient_scope"},
    /* OpenShift's registry: no service */
    {"Bearer realm=\"https://default-route-openshift-image-registry.apps.x/openshift/token\"", 0, DCN_AUTH_BEARER,
     "https://default-route-openshift-image-registry.apps.x/openshift/token", "", "", ""},
    /* Quay: unquoted values with ':' and '/' */
    {"Bearer realm=https://quay.io/v2/auth,service=quay.io", 0, DCN_AUTH_BEARER, "https://quay.io/v2/auth", "quay.io", "", ""},
    /* two challenges: Bearer is preferred, in either order */
    {"Basic realm=\"r\", Bearer realm=\"https://t/token\",service=\"s\"", 0, DCN_AUTH_BEARER, "https://t/token", "s", "", ""},
    {"Bearer realm=\"https://t/token\", Basic realm=\"r\"", 0, DCN_AUTH_BEARER, "https://t/token", "", "", ""},
    /* escapes in quoted strings; unknown parameters skipped */
    {"Basic charset=\"UTF-8\", realm=\"a \\\"quoted\\\" realm\"", 0, DCN_AUTH_BASIC, "a \"quoted\" realm", "", "", ""},
    /* schemes we do not speak */
    {"Negotiate", 0, DCN_AUTH_NONE, "", "", "", ""},
    {"Digest realm=\"x\", nonce=\"abc\"", 0, DCN_AUTH_NONE, "", "", "", ""},
    {"", 0, DCN_AUTH_NONE, "", "", "", ""},
    /* malformed */
    {"Bearer realm=\"unterminated", -1, DCN_AUTH_NONE, "", "", "", ""},
    {"Bearer service=\"s\"", -1, DCN_AUTH_NONE, "", "", "", ""}, /* Bearer without realm */
    {"Bearer realm=\"a\" junk", -1, DCN_AUTH_NONE, "", "", "", ""},
    {"=x", -1, DCN_AUTH_NONE, "", "", "", ""},
};

static void test_challenge_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(challenge_cases); i++) {
        const ChallengeCase *c = &challenge_cases[i];
        DcnChallenge ch;
        int rc = dcn_challenge_parse(c->header, strlen(c->header), &ch);
        if (rc != c->rc)
            fail_msg("case %zu [%s]: rc %d, expected %d", i, c->header, rc, c->rc);
        if (rc < 0)
            continue;
        if (ch.scheme != c->scheme)
            fail_msg("case %zu [%s]: scheme %d, expected %d", i, c->header, ch.scheme, c->scheme);
        if (c->scheme == DCN_AUTH_NONE)
            continue;
        assert_string_equal(ch.realm, c->realm);
        assert_string_equal(ch.service, c->service);
        assert_string_equal(ch.scope, c->scope);
        assert_string_equal(ch.error, c->error);
    }
}

static void test_challenge_overflow(void **state)
{
    (void)state;
    /* a realm longer than the field is refused, not truncated */
    GString *h = g_string_new("Bearer realm=\"https://");
    for (int i = 0; i < DCN_CHALLENGE_FIELD_MAX; i++)
        g_string_append_c(h, 'a');
    g_string_append(h, "/token\"");
    DcnChallenge ch;
    assert_int_equal(dcn_challenge_parse(h->str, h->len, &ch), -1);
    /* the length is honoured: no reading past it */
    const char *v = "Basic realm=\"x\"GARBAGE";
    assert_int_equal(dcn_challenge_parse(v, strlen("Basic realm=\"x\""), &ch), 0);
    assert_string_equal(ch.realm, "x");
    g_string_free(h, TRUE);
}

typedef struct {
    const char *output;
    gboolean ok;
    const char *paths;   /* expected, joined with '|' */
    const char *missing; /* expected when !ok */
} LddCase;

static const LddCase ldd_cases[] = {
    {"\tlinux-vdso.so.1 (0x00007ffd3b5f9000)\n"
     "\tlibevent_core-2.1.so.7 => /lib/x86_64-linux-gnu/libevent_core-2.1.so.7 (0x00007f0c1c5a0000)\n"
     "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0c1c3bf000)\n"
     "\t/lib64/ld-linux-x86-64.so.2 (0x00007f0c1c600000)\n",
     TRUE, "/lib/x86_64-linux-gnu/libevent_core-2.1.so.7|/lib/x86_64-linux-gnu/libc.so.6|/lib64/ld-linux-x86-64.so.2",
     NULL},
    /* arm64: the interpreter is also listed with => */
    {"\tlinux-vdso.so.1 (0x0000ffff9a5d2000)\n"
     "\tlibc.so.6 => /lib/aarch64-linux-gnu/libc.so.6 (0x0000ffff9a3e0000)\n"
     "\t/lib/ld-linux-aarch64.so.1 (0x0000ffff9a595000)\n",
     TRUE, "/lib/aarch64-linux-gnu/libc.so.6|/lib/ld-linux-aarch64.so.1", NULL},
    /* a library listed twice is kept once */
    {"\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x1)\n\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x1)\n",
     TRUE, "/lib/x86_64-linux-gnu/libm.so.6", NULL},
    {"\tstatically linked\n", TRUE, "", NULL},
    {"\tnot a dynamic executable\n", TRUE, "", NULL},
    {"\tlibevent_core-2.1.so.7 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n", FALSE, "",
     "libevent_core-2.1.so.7"},
    {"", TRUE, "", NULL},
};

static void test_ldd_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < G_N_ELEMENTS(ldd_cases); i++) {
        const LddCase *c = &ldd_cases[i];
        GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
        char *missing = NULL;
        gboolean ok = dcn_ldd_parse(c->output, paths, &missing);
        if (ok != c->ok)
            fail_msg("case %zu: ok=%d, expected %d", i, ok, c->ok);
        if (ok) {
            g_ptr_array_add(paths, NULL);
            char *joined = g_strjoinv("|", (char **)paths->pdata);
            if (strcmp(joined, c->paths) != 0)
                fail_msg("case %zu: paths [%s], expected [%s]", i, joined, c->paths);
            g_free(joined);
        } else {
            assert_string_equal(missing, c->missing);
        }
        g_free(missing);
        g_ptr_array_free(paths, TRUE);
    }
}

static void test_elf_arch(void **state)
{
    (void)state;
    assert_string_equal(dcn_elf_oci_arch(62), "amd64");
    assert_string_equal(dcn_elf_oci_arch(183), "arm64");
    assert_null(dcn_elf_oci_arch(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenge_table),
        cmocka_unit_test(test_challenge_overflow),
        cmocka_unit_test(test_ldd_table),
        cmocka_unit_test(test_elf_arch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
