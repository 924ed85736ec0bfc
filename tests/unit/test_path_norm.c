/* path_norm: request-target -> root-relative path, with hostile targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "path_norm.h"

#define OK PATH_OK
#define BAD PATH_BAD
#define FORBID PATH_FORBIDDEN
#define HIDDEN PATH_HIDDEN
#define LONG PATH_TOO_LONG

struct path_case {
    const char *target;
    size_t len;
    enum path_result want;
    const char *out;       /* when OK */
    bool slash;            /* when OK */
    const char *authority; /* when OK: NULL for origin form */
};

#define S(s) s, sizeof(s) - 1

static const struct path_case cases[] = {
    /* ordinary origin form */
    {S("/"), OK, "", true, NULL},
    {S("/repo/config"), OK, "repo/config", false, NULL},
    {S("/repo/"), OK, "repo", true, NULL},
    {S("/repo/objects/3a/" "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2.filez"), OK,
     "repo/objects/3a/b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2.filez", false, NULL},
    {S("/repo/deltas/ab/c+d_e-F0/superblock"), OK, "repo/deltas/ab/c+d_e-F0/superblock", false, NULL}, /* '+' literal */
    {S("/repo/refs/heads/rhel/9/x86_64/edge"), OK, "repo/refs/heads/rhel/9/x86_64/edge", false, NULL},
    {S("/dcn.ks"), OK, "dcn.ks", false, NULL},
    {S("/a//b"), OK, "a/b", false, NULL},
    {S("//a"), OK, "a", false, NULL},
    {S("/a///"), OK, "a", true, NULL},
    {S("/a/./b"), OK, "a/b", false, NULL},
    {S("/a/b/.."), OK, "a", true, NULL},
    {S("/a/b/../c"), OK, "a/c", false, NULL},
    {S("/a/b/c/../../d"), OK, "a/d", false, NULL},
    {S("/a/."), OK, "a", true, NULL},
    {S("/."), OK, "", true, NULL},
    {S("/a/.."), OK, "", true, NULL},
    {S("/a?x=1"), OK, "a", false, NULL},
    {S("/a/?x=/../../etc"), OK, "a", true, NULL},
    {S("/a#frag/../../x"), OK, "a", false, NULL},
    {S("/a?%00"), OK, "a", false, NULL},              /* the query is not part of the path */
    {S("/a%20b"), OK, "a b", false, NULL},
    {S("/a+b"), OK, "a+b", false, NULL},
    {S("/a%2Bb"), OK, "a+b", false, NULL},
    {S("/%41%62"), OK, "Ab", false, NULL},
    {S("/a%3Fb"), OK, "a?b", false, NULL},
    {S("/a%23b"), OK, "a#b", false, NULL},
    {S("/a%25"), OK, "a%", false, NULL},
    {S("/\xc3\xa9t\xc3\xa9"), OK, "\xc3\xa9t\xc3\xa9", false, NULL}, /* raw UTF-8 */
    {S("/%C3%A9"), OK, "\xc3\xa9", false, NULL},
    {S("/a.b/c.d"), OK, "a.b/c.d", false, NULL},
    {S("/.git/../x"), OK, "x", false, NULL},           /* a dot segment that did not survive */
    {S("/a/%2e"), OK, "a", true, NULL},
    {S("/a/%2e%2e"), OK, "", true, NULL},
    {S("/a/b/%2E%2E/%2e%2E/c"), OK, "c", false, NULL},
    /* absolute form */
    {S("http://host/a/b"), OK, "a/b", false, "host"},
    {S("HTTP://Host:8080/a"), OK, "a", false, "Host:8080"},
    {S("hTtPs://h.example/x/"), OK, "x", true, "h.example"},
    {S("https://h"), OK, "", true, "h"},
    {S("http://h?x=/etc"), OK, "", true, "h"},
    {S("http://h#/etc"), OK, "", true, "h"},
    {S("http://[::1]:8080/x"), OK, "x", false, "[::1]:8080"},
    {S("http://10.0.0.1/repo/summary"), OK, "repo/summary", false, "10.0.0.1"},
    {S("http://h/a/../b"), OK, "b", false, "h"},
    {S("http://h//etc/passwd"), OK, "etc/passwd", false, "h"},
    /* hostile: encoding tricks that stay inside the root */
    {S("/a%2fb"), OK, "a/b", false, NULL},                       /* decoded '/' separates */
    {S("/a%252e%252e/x"), OK, "a%2e%2e/x", false, NULL},         /* double encoding: decoded once */
    {S("/%252e%252e/etc/passwd"), OK, "%2e%2e/etc/passwd", false, NULL},
    {S("/%252e%252e%252fetc"), OK, "%2e%2e%2fetc", false, NULL},
    {S("/%c0%ae%c0%ae/etc/passwd"), OK, "\xc0\xae\xc0\xae/etc/passwd", false, NULL}, /* overlong '.' is not '.' */
    {S("/%c0%af..%c0%afetc"), OK, "\xc0\xaf..\xc0\xaf" "etc", false, NULL},           /* overlong '/' is not '/' */
    {S("/%e0%80%ae%e0%80%ae/x"), OK, "\xe0\x80\xae\xe0\x80\xae/x", false, NULL},
    {S("/..%c0%af/x"), HIDDEN, NULL, false, NULL},
    {S("//evil.example/%2e%2e"), OK, "", true, NULL},            /* not a network-path reference */
    {S("/a/b%2f%2e%2e"), OK, "a", true, NULL},
    /* hostile: climbing above the root */
    {S("/.."), FORBID, NULL, false, NULL},
    {S("/../"), FORBID, NULL, false, NULL},
    {S("/../etc/passwd"), FORBID, NULL, false, NULL},
    {S("/a/../../etc/passwd"), FORBID, NULL, false, NULL},
    {S("/a/b/../../../etc"), FORBID, NULL, false, NULL},
    {S("/./../x"), FORBID, NULL, false, NULL},
    {S("//../x"), FORBID, NULL, false, NULL},
    {S("/%2e%2e/etc/passwd"), FORBID, NULL, false, NULL},
    {S("/%2E%2E/etc/passwd"), FORBID, NULL, false, NULL},
    {S("/%2e%2e%2fetc%2fpasswd"), FORBID, NULL, false, NULL},
    {S("/%2e%2e%2F%2e%2e%2Fetc"), FORBID, NULL, false, NULL},
    {S("/a%2f..%2f..%2fetc"), FORBID, NULL, false, NULL},
    {S("/.%2e/x"), FORBID, NULL, false, NULL},
    {S("/%2e./x"), FORBID, NULL, false, NULL},
    {S("/a/%2e%2e/%2e%2e/x"), FORBID, NULL, false, NULL},
    {S("/a%3f/../../x"), FORBID, NULL, false, NULL},             /* %3f is a literal '?' */
    {S("/repo/objects/../../../../etc/shadow"), FORBID, NULL, false, NULL},
    {S("/..?x=1"), FORBID, NULL, false, NULL},
    {S("http://h/../etc/passwd"), FORBID, NULL, false, "h"},
    {S("http://h/%2e%2e/x"), FORBID, NULL, false, "h"},
    /* hostile: malformed */
    {S(""), BAD, NULL, false, NULL},
    {S("*"), BAD, NULL, false, NULL},
    {S("example.com:443"), BAD, NULL, false, NULL},             /* authority-form */
    {S("a/b"), BAD, NULL, false, NULL},
    {S("../etc/passwd"), BAD, NULL, false, NULL},
    {S("%2fetc/passwd"), BAD, NULL, false, NULL},
    {S("\\etc\\passwd"), BAD, NULL, false, NULL},
    {S("/a\\b"), BAD, NULL, false, NULL},
    {S("/..\\..\\etc"), BAD, NULL, false, NULL},
    {S("/a%5cb"), BAD, NULL, false, NULL},
    {S("/..%5C..%5Cetc"), BAD, NULL, false, NULL},
    {S("/a%00b"), BAD, NULL, false, NULL},
    {S("/index.html%00.txt"), BAD, NULL, false, NULL},
    {S("/a\0b"), BAD, NULL, false, NULL},
    {S("/../%00"), BAD, NULL, false, NULL},                       /* 400 wins over 403 */
    {S("/a%0ab"), BAD, NULL, false, NULL},
    {S("/a%0d%0aSet-Cookie:%20x"), BAD, NULL, false, NULL},
    {S("/a%09"), BAD, NULL, false, NULL},
    {S("/a%1f"), BAD, NULL, false, NULL},
    {S("/a%7f"), BAD, NULL, false, NULL},
    {S("/a\x7f"), BAD, NULL, false, NULL},
    {S("/a\x01"), BAD, NULL, false, NULL},
    {S("/a\t"), BAD, NULL, false, NULL},
    {S("/a b"), BAD, NULL, false, NULL},
    {S("/a%"), BAD, NULL, false, NULL},
    {S("/a%2"), BAD, NULL, false, NULL},
    {S("/a%2?x"), BAD, NULL, false, NULL},
    {S("/a%zz"), BAD, NULL, false, NULL},
    {S("/a%g0"), BAD, NULL, false, NULL},
    {S("/a% 20"), BAD, NULL, false, NULL},
    {S("/%%32%65%%32%65/x"), BAD, NULL, false, NULL},
    {S("/%u002e%u002e/x"), BAD, NULL, false, NULL},              /* IIS %u encoding */
    {S("ftp://h/x"), BAD, NULL, false, NULL},
    {S("file:///etc/passwd"), BAD, NULL, false, NULL},
    {S("http:/x"), BAD, NULL, false, NULL},
    {S("http:x"), BAD, NULL, false, NULL},
    {S("http://"), BAD, NULL, false, NULL},
    {S("http:///etc/passwd"), BAD, NULL, false, NULL},
    {S("http://user@h/x"), BAD, NULL, false, NULL},
    {S("http://h\\@evil/x"), BAD, NULL, false, NULL},
    {S("http://h x/"), BAD, NULL, false, NULL},
    {S("http://h\0/x"), BAD, NULL, false, NULL},
    {S("http://h/a%00"), BAD, NULL, false, NULL},
    {S("httpx://h/x"), BAD, NULL, false, NULL},
    /* hidden: dot-files that survive resolution */
    {S("/.git/config"), HIDDEN, NULL, false, NULL},
    {S("/repo/.lock"), HIDDEN, NULL, false, NULL},
    {S("/.well-known/x"), HIDDEN, NULL, false, NULL},
    {S("/a/.../b"), HIDDEN, NULL, false, NULL},
    {S("/..a"), HIDDEN, NULL, false, NULL},
    {S("/%2egit/HEAD"), HIDDEN, NULL, false, NULL},
    {S("/a/b/../.htaccess"), HIDDEN, NULL, false, NULL},
    {S("/a%2f.env"), HIDDEN, NULL, false, NULL},
    {S("/x/.a/"), HIDDEN, NULL, false, NULL},
};

#define CAP 256
#define GUARD 16

static void check_case(size_t i, const struct path_case *c, size_t cap, enum path_result want, const char *want_out,
                       bool want_slash)
{
    char buf[CAP + GUARD];
    memset(buf, 0x5a, sizeof buf);
    size_t out_len = 999;
    bool slash = !want_slash;
    const char *auth = (const char *)1;
    size_t auth_len = 999;
    const enum path_result r = path_normalise(c->target, c->len, buf, cap, &out_len, &slash, &auth, &auth_len);
    for (size_t k = cap; k < sizeof buf; k++)
        if (buf[k] != 0x5a)
            fail_msg("case %zu: wrote past cap %zu", i, cap);
    if (r != want)
        fail_msg("case %zu \"%.*s\": result %d, want %d", i, (int)c->len, c->target, r, want);
    if (r != PATH_OK) {
        if (cap > 0 && buf[0] != '\0')
            fail_msg("case %zu: out not emptied on error", i);
        return;
    }
    if (out_len != strlen(want_out) || memcmp(buf, want_out, out_len) != 0 || buf[out_len] != '\0')
        fail_msg("case %zu \"%.*s\": out \"%.*s\", want \"%s\"", i, (int)c->len, c->target, (int)out_len, buf,
                 want_out);
    if (slash != want_slash)
        fail_msg("case %zu \"%.*s\": trailing_slash %d", i, (int)c->len, c->target, slash);
    if (c->authority == NULL) {
        if (auth != NULL || auth_len != 0)
            fail_msg("case %zu: unexpected authority", i);
    } else if (auth == NULL || auth_len != strlen(c->authority) || memcmp(auth, c->authority, auth_len) != 0) {
        fail_msg("case %zu: authority \"%.*s\", want \"%s\"", i, (int)auth_len, auth ? auth : "", c->authority);
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(i, &cases[i], CAP, cases[i].want, cases[i].out, cases[i].slash);
}

struct cap_case {
    const char *target;
    size_t cap;
    enum path_result want;
    const char *out;
    bool slash;
};

static const struct cap_case cap_cases[] = {
    {"/abc", 4, OK, "abc", false},
    {"/abc/", 4, OK, "abc", true},       /* a trailing '/' needs no room */
    {"/abcd", 4, LONG, NULL, false},
    {"/a/b", 4, OK, "a/b", false},
    {"/ab/c", 4, LONG, NULL, false},
    {"/%41%42%43", 4, OK, "ABC", false}, /* the decoded length counts */
    {"/%41%42%43%44", 4, LONG, NULL, false},
    {"/abc/../d", 4, OK, "d", false},
    {"/", 1, OK, "", true},
    {"/./", 1, OK, "", true},
    {"/a", 1, LONG, NULL, false},
    {"/", 0, LONG, NULL, false},
    {"/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0/1/2/3/4/5/6/7/8/9/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z",
     64, LONG, NULL, false},
};

static void test_cap(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cap_cases / sizeof cap_cases[0]; i++) {
        const struct cap_case *cc = &cap_cases[i];
        const struct path_case c = {cc->target, strlen(cc->target), cc->want, cc->out, cc->slash, NULL};
        check_case(i, &c, cc->cap, cc->want, cc->out, cc->slash);
    }
}

/* Bytes after len are never read: the parser hands over a target inside a
 * larger buffer. */
static void test_len_bounds_input(void **state)
{
    (void)state;
    const char *s = "/repo/config HTTP/1.1";
    char buf[CAP];
    size_t out_len;
    bool slash;
    const char *auth;
    size_t auth_len;
    assert_int_equal(path_normalise(s, 12, buf, sizeof buf, &out_len, &slash, &auth, &auth_len), PATH_OK);
    assert_string_equal(buf, "repo/config");
    assert_int_equal(path_normalise(s, 3, buf, sizeof buf, &out_len, &slash, &auth, &auth_len), PATH_OK);
    assert_string_equal(buf, "re");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_len_bounds_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
