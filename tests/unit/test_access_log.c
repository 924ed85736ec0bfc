/* Access-log fields: escaping keeps one request on one parseable line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "access_log.h"

static const struct {
    const char *target;
    const char *want;
} cases[] = {
    {"/repo/summary", "method=GET path=\"/repo/summary\""},
    {"/a\"b", "method=GET path=\"/a\\x22b\""},
    {"/a\\b", "method=GET path=\"/a\\x5cb\""},
    {"/a b", "method=GET path=\"/a b\""},
    {"/\x01\x7f\xff", "method=GET path=\"/\\x01\\x7f\\xff\""},
    {"/d/+x_y", "method=GET path=\"/d/+x_y\""},
};

static void test_request_part(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        size_t n = access_log_format_request(out, sizeof out, "GET", 3, cases[i].target, strlen(cases[i].target));
        out[n] = '\0';
        assert_string_equal(out, cases[i].want);
    }
}

static void test_truncation_and_newlines(void **state)
{
    (void)state;
    char target[5000];
    memset(target, '\n', sizeof target);
    char out[512];
    size_t n = access_log_format_request(out, sizeof out, "GET", 3, target, sizeof target);
    assert_true(n <= sizeof out);
    assert_null(memchr(out, '\n', n));
    assert_int_equal(out[n - 1], '"');
    n = access_log_format_ua(out, sizeof out, "curl/7.88.1", 11);
    out[n] = '\0';
    assert_string_equal(out, "ua=\"curl/7.88.1\"");
}

static void test_line(void **state)
{
    (void)state;
    static struct access_log log; /* 64 KB buffer */
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    log.stdout_lock = &lock;
    struct timeval now = {1795739525, 123456}; /* 2026-11-27T00:32:05.123Z */
    struct access_log_entry e = {
        .request_part = "method=GET path=\"/x\"", .request_part_len = 20,
        .ua_part = "ua=\"-\"", .ua_part_len = 6,
        .peer = "127.0.0.1:5", .status = 304, .bytes = 0, .duration_us = 57,
    };
    access_log_append(&log, &now, &e);
    log.buf[log.len] = '\0';
    assert_string_equal(log.buf, "ts=2026-11-27T00:32:05.123Z peer=127.0.0.1:5 method=GET path=\"/x\" status=304 bytes=0 dur_us=57 ua=\"-\"\n");
}

/* A refusal carries its reason, after the numbers and before ua. */
static void test_line_with_reason(void **state)
{
    (void)state;
    static struct access_log log;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    log.stdout_lock = &lock;
    struct timeval now = {1795739525, 0};
    struct access_log_entry e = {
        .request_part = "method=GET path=\"/repo/config\"", .request_part_len = 30,
        .ua_part = "ua=\"-\"", .ua_part_len = 6,
        .peer = "127.0.0.1:5", .status = 403, .bytes = 10, .duration_us = 9,
        .reason = "symlink-outside-root",
    };
    access_log_append(&log, &now, &e);
    log.buf[log.len] = '\0';
    assert_string_equal(log.buf, "ts=2026-11-27T00:32:05.000Z peer=127.0.0.1:5 method=GET path=\"/repo/config\" status=403 bytes=10 dur_us=9 reason=symlink-outside-root ua=\"-\"\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_part),
        cmocka_unit_test(test_truncation_and_newlines),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_line_with_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
