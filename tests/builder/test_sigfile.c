/* Unit tests for builder/publish/sigfile.c: merging the signature lists of
 * two summary.sig files (what publish serves while it swaps summaries),
 * appending one signature, parsing untrusted bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sigfile.h"

#define GPG "ostree.gpgsigs"
#define ED "ostree.sign.ed25519"

/* An a{sv} from GVariant text, e.g. "{'ostree.gpgsigs': <[b'x']>}". */
static GVariant *v(const char *text)
{
    g_autoptr(GError) error = NULL;
    GVariant *r = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);
    if (!r)
        fail_msg("%s: %s", text, error->message);
    return g_variant_ref_sink(r);
}

static void check(GVariant *got, const char *want)
{
    g_autoptr(GVariant) w = v(want);
    if (!g_variant_equal(got, w)) {
        g_autofree char *g = g_variant_print(got, FALSE);
        fail_msg("got %s, expected %s", g, want);
    }
    assert_true(g_variant_is_normal_form(got));
}

static void test_merge(void **state)
{
    static const struct {
        const char *a, *b, *want; /* NULL a/b: no file */
    } cases[] = {
        {NULL, NULL, "@a{sv} {}"},
        {"{'" GPG "': <[b'old']>}", NULL, "{'" GPG "': <[b'old']>}"},
        {NULL, "{'" GPG "': <[b'new']>}", "{'" GPG "': <[b'new']>}"},
        {"{'" GPG "': <[b'old']>}", "{'" GPG "': <[b'new']>}", "{'" GPG "': <[b'old', b'new']>}"},
        {"{'" GPG "': <[b'o1', b'o2']>}", "{'" GPG "': <[b'n1']>}", "{'" GPG "': <[b'o1', b'o2', b'n1']>}"},
        /* each list merged on its own: gpg and ed25519 side by side */
        {"{'" GPG "': <[b'g0']>, '" ED "': <[b'e0']>}", "{'" GPG "': <[b'g1']>, '" ED "': <[b'e1']>}",
         "{'" GPG "': <[b'g0', b'g1']>, '" ED "': <[b'e0', b'e1']>}"},
        {"{'" ED "': <[b'e0']>}", "{'" GPG "': <[b'g1']>}", "{'" ED "': <[b'e0']>, '" GPG "': <[b'g1']>}"},
        /* a member that is not a signature list: the newer file's */
        {"{'x': <'a'>}", "{'x': <'b'>}", "{'x': <'b'>}"},
        {"{'x': <'a'>}", NULL, "{'x': <'a'>}"},
        {"{'" GPG "': <'oops'>}", "{'" GPG "': <[b'n']>}", "{'" GPG "': <[b'n']>}"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GVariant) a = cases[i].a ? v(cases[i].a) : NULL;
        g_autoptr(GVariant) b = cases[i].b ? v(cases[i].b) : NULL;
        g_autoptr(GVariant) got = dcn_sigfile_merge(a, b);
        check(got, cases[i].want);
    }
}

static void test_append_count(void **state)
{
    g_autoptr(GBytes) s1 = g_bytes_new_static("sig1", 5) /* with the NUL, as b'sig1' */;
    g_autoptr(GBytes) s2 = g_bytes_new_static("sig2", 5);
    g_autoptr(GVariant) one = dcn_sigfile_append(NULL, ED, s1);
    check(one, "{'" ED "': <[b'sig1']>}");
    g_autoptr(GVariant) two = dcn_sigfile_append(one, ED, s2);
    check(two, "{'" ED "': <[b'sig1', b'sig2']>}");
    assert_int_equal(dcn_sigfile_count(two, ED), 2);
    assert_int_equal(dcn_sigfile_count(two, GPG), 0);
    assert_int_equal(dcn_sigfile_count(NULL, GPG), 0);
}

static void test_parse(void **state)
{
    g_autoptr(GVariant) good = v("{'" GPG "': <[b'x', b'yy']>}");
    g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes(good);
    g_autoptr(GVariant) parsed = dcn_sigfile_parse(bytes);
    assert_non_null(parsed);
    assert_int_equal(dcn_sigfile_count(parsed, GPG), 2);
    /* bytes that are no normal-form a{sv} (a truncated file, garbage) */
    static const char *const bad[] = {"\x01", "garbage that is not a variant at all...", "\0\0\0\0\0\0\0\x09"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GBytes) b = g_bytes_new_static(bad[i], strlen(bad[i]) ? strlen(bad[i]) : 8);
        g_autoptr(GVariant) p = dcn_sigfile_parse(b);
        assert_null(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_append_count),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
