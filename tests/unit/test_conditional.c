/* conditional: ETag format, If-None-Match, If-Modified-Since, If-Range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conditional.h"

struct etag_case {
    uint64_t size;
    int64_t sec;
    long nsec;
    const char *want;
};

static const struct etag_case etag_cases[] = {
    {0, 0, 0, "\"0-0.0\""},
    {1234, 1700000000, 123456789, "\"4d2-6553f100.75bcd15\""},
    {16, 16, 16, "\"10-10.10\""},
    {UINT64_MAX, INT64_MAX, 999999999, "\"ffffffffffffffff-7fffffffffffffff.3b9ac9ff\""},
    {1, -1, 0, "\"1-ffffffffffffffff.0\""},
    {1, 2, 1000000000, "\"1-2.0\""}, /* out-of-range nsec reads as 0 */
    {1, 2, -5, "\"1-2.0\""},
};

static void test_etag_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof etag_cases / sizeof etag_cases[0]; i++) {
        const struct etag_case *c = &etag_cases[i];
        char buf[ETAG_MAX + 8];
        memset(buf, 'x', sizeof buf);
        const size_t n = etag_format(c->size, c->sec, c->nsec, buf);
        if (n != strlen(c->want) || memcmp(buf, c->want, n) != 0 || buf[n] != '\0')
            fail_msg("case %zu: \"%.*s\", want %s", i, (int)n, buf, c->want);
        assert_true(n < ETAG_MAX);
        for (size_t k = ETAG_MAX; k < sizeof buf; k++)
            assert_int_equal(buf[k], 'x');
    }
    /* size and mtime both change the tag */
    char a[ETAG_MAX], b[ETAG_MAX], c[ETAG_MAX];
    etag_format(10, 100, 5, a);
    etag_format(11, 100, 5, b);
    etag_format(10, 100, 6, c);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
}

#define TAG "\"4d2-6553f100.75bcd15\""

struct inm_case {
    const char *field;
    const char *etag;
    bool want;
};

static const struct inm_case inm_cases[] = {
    {TAG, TAG, true},
    {"W/" TAG, TAG, true},                  /* weak comparison */
    {TAG, "W/" TAG, true},
    {" " TAG " ", TAG, true},
    {"\"x\", " TAG, TAG, true},
    {"\"x\",W/" TAG, TAG, true},
    {"\"x\" ,\t" TAG " , \"y\"", TAG, true},
    {", ," TAG ",", TAG, true},                /* empty list elements */
    {"*", TAG, true},
    {" * ", TAG, true},
    {"\"x\"", TAG, false},
    {"\"x\", \"y\"", TAG, false},
    {"\"\"", TAG, false},
    {"\"4D2-6553F100.75BCD15\"", TAG, false}, /* opaque-tag is case-sensitive */
    {"\"4d2-6553f100.75bcd1\"", TAG, false},
    {"\"4d2-6553f100.75bcd15", TAG, false},
    /* malformed lists never match, even when they contain the tag */
    {"4d2-6553f100.75bcd15", TAG, false},   /* unquoted */
    {TAG ", *", TAG, false},
    {"*, " TAG, TAG, false},
    {"**", TAG, false},
    {TAG ", garbage", TAG, false},
    {TAG " " TAG, TAG, false},
    {TAG TAG, TAG, false},
    {TAG "x", TAG, false},
    {"w/" TAG, TAG, false},                 /* W/ is case-sensitive */
    {"W/ " TAG, TAG, false},
    {"W" TAG, TAG, false},
    {"\"a\x7f\", " TAG, TAG, false},
    {"\"a\"b\", " TAG, TAG, false},
    {"", TAG, false},
    {" ", TAG, false},
    {",", TAG, false},
};

static void test_etag_list(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof inm_cases / sizeof inm_cases[0]; i++) {
        const struct inm_case *c = &inm_cases[i];
        if (etag_list_matches(c->field, strlen(c->field), c->etag, strlen(c->etag)) != c->want)
            fail_msg("case %zu: If-None-Match \"%s\" vs %s: want %d", i, c->field, c->etag, c->want);
    }
}

#define MTIME 1688576709 /* Wed, 05 Jul 2023 17:05:09 GMT */
#define NOT_SENT ((const char *)0)

struct nm_case {
    const char *inm; /* NULL: absent */
    const char *ims; /* NULL: absent */
    bool want;
};

static const struct nm_case nm_cases[] = {
    {NOT_SENT, NOT_SENT, false},
    {TAG, NOT_SENT, true},
    {"\"other\"", NOT_SENT, false},
    {"*", NOT_SENT, true},
    {NOT_SENT, "Wed, 05 Jul 2023 17:05:09 GMT", true},  /* equal */
    {NOT_SENT, "Wed, 05 Jul 2023 17:05:09 UTC", true},  /* libostree */
    {NOT_SENT, "Wed, 05 Jul 2023 17:05:10 GMT", true},  /* later */
    {NOT_SENT, "Thu, 01 Jan 2099 00:00:00 GMT", true},
    {NOT_SENT, "Wed, 05 Jul 2023 17:05:08 GMT", false}, /* earlier: modified since */
    {NOT_SENT, "Wednesday, 05-Jul-23 17:05:09 GMT", true},
    {NOT_SENT, "Wed Jul  5 17:05:09 2023", true},
    {NOT_SENT, "garbage", false},                        /* invalid date: ignored */
    {NOT_SENT, "", false},
    {NOT_SENT, "Wed, 05 Jul 2023 17:05:09 GMT, Wed, 05 Jul 2023 17:05:09 GMT", false},
    /* If-None-Match present: it decides alone */
    {"\"other\"", "Wed, 05 Jul 2023 17:05:09 GMT", false},
    {"", "Wed, 05 Jul 2023 17:05:09 GMT", false},
    {TAG, "Wed, 05 Jul 2023 17:05:08 GMT", true},
    {TAG, "garbage", true},
};

static void test_not_modified(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof nm_cases / sizeof nm_cases[0]; i++) {
        const struct nm_case *c = &nm_cases[i];
        const bool r = cond_not_modified(c->inm, c->inm ? strlen(c->inm) : 0, c->ims, c->ims ? strlen(c->ims) : 0,
                                         TAG, strlen(TAG), MTIME);
        if (r != c->want)
            fail_msg("case %zu: INM %s IMS %s: got %d", i, c->inm ? c->inm : "-", c->ims ? c->ims : "-", r);
    }
}

struct ir_case {
    const char *field; /* NULL: absent */
    const char *etag;
    bool want;
};

static const struct ir_case ir_cases[] = {
    {NOT_SENT, TAG, true},
    {TAG, TAG, true},
    {" " TAG "\t", TAG, true},
    {"W/" TAG, TAG, false},                         /* weak tags never match */
    {TAG, "W/" TAG, false},                         /* nor does a weak validator */
    {"\"other\"", TAG, false},
    {"\"x\", " TAG, TAG, false},                    /* not a list */
    {TAG ", \"x\"", TAG, false},
    {"*", TAG, false},
    {"\"4d2-6553f100.75bcd15", TAG, false},
    {"Wed, 05 Jul 2023 17:05:09 GMT", TAG, true},   /* exact date */
    {"Wed, 05 Jul 2023 17:05:09 UTC", TAG, true},
    {"Wednesday, 05-Jul-23 17:05:09 GMT", TAG, true},
    {"Wed Jul  5 17:05:09 2023", TAG, true},
    {"Wed, 05 Jul 2023 17:05:10 GMT", TAG, false},  /* later is not equal */
    {"Wed, 05 Jul 2023 17:05:08 GMT", TAG, false},
    {"garbage", TAG, false},
    {"", TAG, false},
};

static void test_if_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ir_cases / sizeof ir_cases[0]; i++) {
        const struct ir_case *c = &ir_cases[i];
        const bool r = cond_if_range_matches(c->field, c->field ? strlen(c->field) : 0, c->etag, strlen(c->etag),
                                             MTIME);
        if (r != c->want)
            fail_msg("case %zu: If-Range %s vs %s: got %d", i, c->field ? c->field : "-", c->etag, r);
    }
}

/* A tag made by etag_format is matched by both evaluations. */
static void test_format_then_match(void **state)
{
    (void)state;
    char tag[ETAG_MAX];
    const size_t n = etag_format(987654321, 1688576709, 42, tag);
    assert_true(etag_list_matches(tag, n, tag, n));
    assert_true(cond_if_range_matches(tag, n, tag, n, 0));
    assert_true(cond_not_modified(tag, n, NULL, 0, tag, n, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_format),
        cmocka_unit_test(test_etag_list),
        cmocka_unit_test(test_not_modified),
        cmocka_unit_test(test_if_range),
        cmocka_unit_test(test_format_then_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
