/* http_date: formatting and lenient parsing of HTTP-dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_date.h"

struct format_case {
    long long t;
    const char *want;
};

static const struct format_case format_cases[] = {
    {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
    {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
    {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
    {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
    {946684800, "Sat, 01 Jan 2000 00:00:00 GMT"},
    {1709208000, "Thu, 29 Feb 2024 12:00:00 GMT"},
    {2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT"},
    {1795739525, "Fri, 27 Nov 2026 00:32:05 GMT"},
    {1700000000, "Tue, 14 Nov 2023 22:13:20 GMT"},
    {-2203891200LL, "Thu, 01 Mar 1900 00:00:00 GMT"},
    {253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT"},
    {253402300800LL, "Fri, 31 Dec 9999 23:59:59 GMT"},      /* clamped */
    {INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT"},           /* clamped */
    {-62135596800LL, "Mon, 01 Jan 0001 00:00:00 GMT"},
    {-62167219200LL, "Sat, 01 Jan 0000 00:00:00 GMT"},
    {INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT"},           /* clamped */
};

static void test_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++) {
        char buf[HTTP_DATE_LEN + 1];
        memset(buf, 'x', sizeof buf);
        http_date_format((time_t)format_cases[i].t, buf);
        if (strcmp(buf, format_cases[i].want) != 0)
            fail_msg("case %zu: format(%lld) = \"%s\", want \"%s\"", i, format_cases[i].t, buf,
                     format_cases[i].want);
        assert_int_equal(strlen(buf), HTTP_DATE_LEN);
    }
}

#define BAD 0x7fffffffffffffffLL /* "must not parse" */

struct parse_case {
    const char *in;
    long long want; /* BAD: returns false */
};

static const struct parse_case parse_cases[] = {
    /* the three forms of RFC 9110 5.6.7 */
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
    {"Sun Nov  6 08:49:37 1994", 784111777},
    /* libostree's spelling */
    {"Sun, 06 Nov 1994 08:49:37 UTC", 784111777},
    {"Sunday, 06-Nov-94 08:49:37 UTC", 784111777},
    /* leniency: whitespace around, case, one-digit day, asctime 2-digit day */
    {"  Sun, 06 Nov 1994 08:49:37 GMT\t", 784111777},
    {"sun, 06 nov 1994 08:49:37 gmt", 784111777},
    {"Sun, 6 Nov 1994 08:49:37 GMT", 784111777},
    {"Sunday, 6-Nov-94 08:49:37 GMT", 784111777},
    {"Sunday, 06-Nov-1994 08:49:37 GMT", 784111777},
    {"Sun, 06-Nov-94 08:49:37 GMT", 784111777},
    {"Sun Nov 6 08:49:37 1994", 784111777},
    {"Sun Nov 16 08:49:37 1994", 784111777 + 10 * 86400},
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
    {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
    {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
    {"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
    {"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648LL},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799LL},
    {"Mon, 01 Jan 0001 00:00:00 GMT", -62135596800LL},
    {"Sat, 01 Jan 0000 00:00:00 GMT", -62167219200LL},
    {"Tue, 29 Feb 0000 00:00:00 GMT", -62167219200LL + 59 * 86400}, /* year 0 is a leap year */
    {"Sat, 31 Dec 2016 23:59:60 GMT", 1483228800}, /* leap second */
    {"Thu, 01 Mar 1900 00:00:00 GMT", -2203891200LL},
    {"Tue, 04 Jul 2023 17:05:09 GMT", 1688490309},
    {"Friday, 27-Nov-26 00:32:05 GMT", 1795739525}, /* 2-digit year < 70: 20xx */
    {"Thursday, 01-Jan-70 00:00:00 GMT", 0},          /* 70: 19xx */
    {"Tuesday, 01-Jan-69 00:00:00 GMT", 3124224000LL},
    {"Mon, 06 Nov 1994 08:49:37 GMT", 784111777}, /* wrong weekday is not checked */
    /* out-of-range fields */
    {"Sun, 06 Abc 1994 08:49:37 GMT", BAD},
    {"Sun, 32 Jan 1994 08:49:37 GMT", BAD},
    {"Sun, 00 Jan 1994 08:49:37 GMT", BAD},
    {"Sun, 29 Feb 1900 08:49:37 GMT", BAD},
    {"Sun, 29 Feb 2023 08:49:37 GMT", BAD},
    {"Sun, 31 Apr 2023 08:49:37 GMT", BAD},
    {"Sun, 06 Nov 1994 24:00:00 GMT", BAD},
    {"Sun, 06 Nov 1994 08:60:00 GMT", BAD},
    {"Sun, 06 Nov 1994 08:49:61 GMT", BAD},
    /* malformed */
    {"", BAD},
    {"   ", BAD},
    {"Sun, 06 Nov 1994 08:49:37", BAD},
    {"Sun, 06 Nov 1994 08:49:37 CET", BAD},
    {"Sun, 06 Nov 1994 08:49:37 +0000", BAD},
    {"Sun, 06 Nov 1994 08:49:37 GMT x", BAD},
    {"Sun, 06 Nov 1994 08:49:37 GMTx", BAD},
    {"Sun, 06 Nov 94 08:49:37 GMT", BAD},
    {"Sun, 06 Nov 19940 08:49:37 GMT", BAD},
    {"Sun, 06 Nov 1994 8:49:37 GMT", BAD},
    {"Sun, 06 Nov 1994 08:49 GMT", BAD},
    {"Sun, 06 Nov 1994 08-49-37 GMT", BAD},
    {"Sun 06 Nov 1994 08:49:37 GMT", BAD},
    {"Sun,06 Nov 1994 08:49:37 GMT", BAD},
    {"Xyz, 06 Nov 1994 08:49:37 GMT", BAD},
    {"06 Nov 1994 08:49:37 GMT", BAD},
    {"Sun, 006 Nov 1994 08:49:37 GMT", BAD},
    {"Sun, 06  Nov 1994 08:49:37 GMT", BAD},
    {"Sun Nov  6 08:49:37 94", BAD},
    {"Sun Nov  6 08:49:37 1994 GMT", BAD},
    {"Sun Nov   6 08:49:37 1994", BAD},
    {"Sunday, 06-Nov-4 08:49:37 GMT", BAD},
    {"Sunday, 06-Nov-994 08:49:37 GMT", BAD},
    {"1994-11-06T08:49:37Z", BAD},
    {"784111777", BAD},
    {"Sun, 06 Nov 1994 08:49:37 GMT\r\n", BAD},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const struct parse_case *c = &parse_cases[i];
        time_t t = 12345;
        const bool ok = http_date_parse(c->in, strlen(c->in), &t);
        if (c->want == BAD) {
            if (ok)
                fail_msg("case %zu \"%s\": parsed as %lld, want failure", i, c->in, (long long)t);
        } else if (!ok || (long long)t != c->want) {
            fail_msg("case %zu \"%s\": ok=%d t=%lld, want %lld", i, c->in, ok, (long long)t, c->want);
        }
    }
}

/* The length bounds the input: bytes after len are not read. */
static void test_parse_respects_len(void **state)
{
    (void)state;
    const char *s = "Sun, 06 Nov 1994 08:49:37 GMTgarbage";
    time_t t = 0;
    assert_true(http_date_parse(s, HTTP_DATE_LEN, &t));
    assert_int_equal(t, 784111777);
    assert_false(http_date_parse(s, HTTP_DATE_LEN - 1, &t));
    assert_false(http_date_parse(s, 0, &t));
    assert_false(http_date_parse(NULL, 0, &t));
}

/* format then parse gives back the same second, across centuries. */
static void test_round_trip(void **state)
{
    (void)state;
    char buf[HTTP_DATE_LEN + 1];
    uint64_t x = 88172645463325252ULL; /* xorshift64 */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const long long t = -62167219200LL + (long long)(x % (253402300799ULL + 62167219200ULL + 1));
        http_date_format((time_t)t, buf);
        time_t back = 0;
        if (!http_date_parse(buf, strlen(buf), &back) || (long long)back != t)
            fail_msg("round trip of %lld via \"%s\" gave %lld", t, buf, (long long)back);
    }
    /* every day of 1999-2001 at 23:59:59, both sides of the leap day */
    for (long long t = 915148799; t < 1009843199; t += 86400) {
        http_date_format((time_t)t, buf);
        time_t back = 0;
        assert_true(http_date_parse(buf, strlen(buf), &back));
        assert_int_equal((long long)back, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_respects_len),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
