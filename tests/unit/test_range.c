/* range: Range header resolution against a representation length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "range.h"

#define IGN RANGE_IGNORE
#define OK RANGE_OK
#define UNS RANGE_UNSATISFIABLE
#define U64MAX UINT64_MAX

struct range_case {
    const char *value;
    uint64_t size;
    enum range_result want;
    size_t n;                /* when OK */
    struct byte_range r[4];  /* when OK: the first min(n, 4) ranges */
};

static const struct range_case cases[] = {
    /* single ranges */
    {"bytes=0-99", 1000, OK, 1, {{0, 99}}},
    {"bytes=0-0", 1000, OK, 1, {{0, 0}}},
    {"bytes=999-999", 1000, OK, 1, {{999, 999}}},
    {"bytes=500-", 1000, OK, 1, {{500, 999}}},
    {"bytes=0-", 1000, OK, 1, {{0, 999}}},
    {"bytes=-100", 1000, OK, 1, {{900, 999}}},
    {"bytes=-1", 1000, OK, 1, {{999, 999}}},
    {"bytes=-1000", 1000, OK, 1, {{0, 999}}},
    {"bytes=-5000", 1000, OK, 1, {{0, 999}}},         /* suffix longer than the file: all of it */
    {"bytes=0-5000", 1000, OK, 1, {{0, 999}}},        /* last clamped to size-1 */
    {"bytes=990-18446744073709551615", 1000, OK, 1, {{990, 999}}},
    {"bytes=0-0", 1, OK, 1, {{0, 0}}},
    {"bytes=-1", 1, OK, 1, {{0, 0}}},
    {"Bytes=0-1", 10, OK, 1, {{0, 1}}},               /* unit is case-insensitive */
    {"BYTES=0-1", 10, OK, 1, {{0, 1}}},
    {"  bytes=0-1  ", 10, OK, 1, {{0, 1}}},
    {"bytes=007-008", 10, OK, 1, {{7, 8}}},
    {"bytes=00000000000000000000000000001-2", 10, OK, 1, {{1, 2}}}, /* leading zeros are not overflow */
    {"bytes=18446744073709551614-18446744073709551615", U64MAX, OK, 1, {{U64MAX - 1, U64MAX - 1}}},
    {"bytes=-18446744073709551615", U64MAX, OK, 1, {{0, U64MAX - 1}}},
    /* lists */
    {"bytes=0-1,5-6", 10, OK, 2, {{0, 1}, {5, 6}}},
    {"bytes=0-1, 5-6", 10, OK, 2, {{0, 1}, {5, 6}}},
    {"bytes=0-1 ,\t5-6", 10, OK, 2, {{0, 1}, {5, 6}}},
    {"bytes=5-6,0-1", 10, OK, 2, {{5, 6}, {0, 1}}},    /* request order kept */
    {"bytes=0-1,,5-6", 10, OK, 2, {{0, 1}, {5, 6}}},   /* empty elements tolerated */
    {"bytes=,0-1", 10, OK, 1, {{0, 1}}},
    {"bytes=0-1,", 10, OK, 1, {{0, 1}}},
    {"bytes= , 0-1 , ,", 10, OK, 1, {{0, 1}}},
    {"bytes=0-0,-1", 10, OK, 2, {{0, 0}, {9, 9}}},
    {"bytes=0-4,2-8,-3", 10, OK, 3, {{0, 4}, {2, 8}, {7, 9}}},
    {"bytes=20-30,0-1", 10, OK, 1, {{0, 1}}},          /* unsatisfiable members dropped */
    {"bytes=0-1,20-", 10, OK, 1, {{0, 1}}},
    {"bytes=-0,3-4", 10, OK, 1, {{3, 4}}},
    {"bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,0-0,1-1,2-2,3-3,4-4,5-5", 10, OK, 16,
     {{0, 0}, {1, 1}, {2, 2}, {3, 3}}},                    /* exactly RANGE_MAX */
    {"bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,0-0,1-1,2-2,3-3,4-4,5-5,6-6", 10, IGN, 0, {{0}}},
    {"bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,99-,99-,99-,99-,99-,99-,99-", 10, IGN, 0, {{0}}},
    {"bytes=0-0,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,1-1", 10, OK, 2, {{0, 0}, {1, 1}}}, /* empties do not count */
    /* unsatisfiable: 416 */
    {"bytes=1000-", 1000, UNS, 0, {{0}}},
    {"bytes=1000-2000", 1000, UNS, 0, {{0}}},
    {"bytes=5000-6000,1000-", 1000, UNS, 0, {{0}}},
    {"bytes=-0", 1000, UNS, 0, {{0}}},
    {"bytes=-0,-0", 1000, UNS, 0, {{0}}},
    {"bytes=0-0", 0, UNS, 0, {{0}}},                      /* empty representation */
    {"bytes=0-", 0, UNS, 0, {{0}}},
    {"bytes=-1", 0, UNS, 0, {{0}}},
    {"bytes=-100", 0, UNS, 0, {{0}}},
    {"bytes=99999999999999999999999-", 10, UNS, 0, {{0}}}, /* first-pos beyond any size */
    {"bytes=99999999999999999999999-", U64MAX, UNS, 0, {{0}}},
    {"bytes=18446744073709551616-", U64MAX, UNS, 0, {{0}}},
    {"bytes=18446744073709551615-", 10, UNS, 0, {{0}}},
    {"bytes=18446744073709551615-", U64MAX, UNS, 0, {{0}}},
    /* huge suffix: longer than the representation, so all of it */
    {"bytes=-99999999999999999999999", 10, OK, 1, {{0, 9}}},
    {"bytes=-99999999999999999999999", 0, UNS, 0, {{0}}},
    /* syntax errors and other units: ignored (200) */
    {"", 10, IGN, 0, {{0}}},
    {"bytes", 10, IGN, 0, {{0}}},
    {"bytes=", 10, IGN, 0, {{0}}},
    {"bytes=,", 10, IGN, 0, {{0}}},
    {"bytes= ", 10, IGN, 0, {{0}}},
    {"bytes 0-1", 10, IGN, 0, {{0}}},
    {"bytes =0-1", 10, IGN, 0, {{0}}},
    {"bytes:0-1", 10, IGN, 0, {{0}}},
    {"items=0-1", 10, IGN, 0, {{0}}},
    {"bites=0-1", 10, IGN, 0, {{0}}},
    {"bytesx=0-1", 10, IGN, 0, {{0}}},
    {"0-1", 10, IGN, 0, {{0}}},
    {"bytes=1", 10, IGN, 0, {{0}}},
    {"bytes=-", 10, IGN, 0, {{0}}},
    {"bytes=--1", 10, IGN, 0, {{0}}},
    {"bytes=1--2", 10, IGN, 0, {{0}}},
    {"bytes=a-b", 10, IGN, 0, {{0}}},
    {"bytes=0x1-2", 10, IGN, 0, {{0}}},
    {"bytes=+1-2", 10, IGN, 0, {{0}}},
    {"bytes=1-+2", 10, IGN, 0, {{0}}},
    {"bytes=1 - 2", 10, IGN, 0, {{0}}},
    {"bytes=1- 2", 10, IGN, 0, {{0}}},
    {"bytes=1 -2", 10, IGN, 0, {{0}}},
    {"bytes=1-2-3", 10, IGN, 0, {{0}}},
    {"bytes=1-2 3-4", 10, IGN, 0, {{0}}},
    {"bytes=1-2;3-4", 10, IGN, 0, {{0}}},
    {"bytes=5-1", 10, IGN, 0, {{0}}},                      /* last < first: invalid */
    {"bytes=0-1,5-1", 10, IGN, 0, {{0}}},                  /* one bad member spoils the field */
    {"bytes=0-1,x", 10, IGN, 0, {{0}}},
    {"bytes=5-1", 0, IGN, 0, {{0}}},
    {"bytes=0-99999999999999999999999", 10, IGN, 0, {{0}}}, /* last-pos too large for 64 bits */
    {"bytes=0-18446744073709551616", 10, IGN, 0, {{0}}},
    {"bytes=99999999999999999999999-5", 10, IGN, 0, {{0}}}, /* first > last */
    {"bytes=99999999999999999999999-99999999999999999999999", 10, IGN, 0, {{0}}},
    {"bytes=0-1\r\n", 10, IGN, 0, {{0}}},
    {"bytes=\xff", 10, IGN, 0, {{0}}},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct range_case *c = &cases[i];
        struct byte_range out[RANGE_MAX + 1];
        memset(out, 0xa5, sizeof out);
        size_t n = 777;
        const enum range_result r = range_parse(c->value, strlen(c->value), c->size, out, RANGE_MAX, &n);
        if (r != c->want)
            fail_msg("case %zu \"%s\" size %llu: result %d, want %d", i, c->value, (unsigned long long)c->size,
                     r, c->want);
        if (r != RANGE_OK) {
            if (n != 0)
                fail_msg("case %zu: n = %zu on result %d", i, n, r);
            continue;
        }
        if (n != c->n)
            fail_msg("case %zu \"%s\": n = %zu, want %zu", i, c->value, n, c->n);
        for (size_t k = 0; k < n && k < 4; k++)
            if (out[k].first != c->r[k].first || out[k].last != c->r[k].last)
                fail_msg("case %zu \"%s\": range %zu = %llu-%llu, want %llu-%llu", i, c->value, k,
                         (unsigned long long)out[k].first, (unsigned long long)out[k].last,
                         (unsigned long long)c->r[k].first, (unsigned long long)c->r[k].last);
        for (size_t k = 0; k < n; k++)
            assert_true(out[k].first <= out[k].last && out[k].last < c->size);
        /* nothing written past n */
        const unsigned char *tail = (const unsigned char *)&out[n];
        for (size_t k = 0; k < sizeof out[0]; k++)
            assert_int_equal(tail[k], 0xa5);
    }
}

/* max is the caller's limit: more ranges than max -> ignored. */
static void test_max(void **state)
{
    (void)state;
    struct byte_range out[2];
    size_t n;
    assert_int_equal(range_parse("bytes=0-1,2-3", 13, 10, out, 2, &n), RANGE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(range_parse("bytes=0-1,2-3,4-5", 17, 10, out, 2, &n), RANGE_IGNORE);
    assert_int_equal(n, 0);
    assert_int_equal(range_parse("bytes=0-1", 9, 10, out, 0, &n), RANGE_IGNORE);
    assert_int_equal(range_parse(NULL, 0, 10, out, 2, &n), RANGE_IGNORE);
    /* the length bounds the input */
    assert_int_equal(range_parse("bytes=0-1,zzz", 9, 10, out, 2, &n), RANGE_OK);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
