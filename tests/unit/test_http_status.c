/* http_status: status lines, and the one errno -> status rule that
 * static files, kickstarts and summaries all answer by. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "http_status.h"

static const struct {
    int err;
    int want;
} errno_cases[] = {
    /* the name leads nowhere */
    {ENOENT, 404}, {ENOTDIR, 404}, {ENAMETOOLONG, 404},
    /* refused: permissions, or a symlink the policy does not follow (EXDEV: leads out of the root, ELOOP: a loop or magic link) */
    {EACCES, 403}, {EPERM, 403}, {EXDEV, 403}, {ELOOP, 403},
    /* out of descriptors or memory: the file is fine, ask again */
    {EMFILE, 503}, {ENFILE, 503}, {ENOMEM, 503}, {ENOBUFS, 503}, {EAGAIN, 503},
    /* a fault, not a refusal */
    {EIO, 500}, {EOVERFLOW, 500}, {EBADF, 500}, {EINVAL, 500}, {EFBIG, 500}, {0, 500},
};

static void errno_maps_to_status(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof errno_cases / sizeof errno_cases[0]; i++) {
        int got = http_status_for_errno(errno_cases[i].err);
        if (got != errno_cases[i].want)
            fail_msg("errno %d (%s): %d, want %d", errno_cases[i].err, strerror(errno_cases[i].err), got,
                     errno_cases[i].want);
    }
}

static const struct {
    int status;
    const char *line;
} line_cases[] = {
    {200, "HTTP/1.1 200 OK\r\n"},
    {206, "HTTP/1.1 206 Partial Content\r\n"},
    {304, "HTTP/1.1 304 Not Modified\r\n"},
    {404, "HTTP/1.1 404 Not Found\r\n"},
    {416, "HTTP/1.1 416 Range Not Satisfiable\r\n"},
    {431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
    {503, "HTTP/1.1 503 Service Unavailable\r\n"},
    {505, "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
    {299, "HTTP/1.1 500 Internal Server Error\r\n"}, /* not one we send */
    {0, "HTTP/1.1 500 Internal Server Error\r\n"},
};

static void status_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof line_cases / sizeof line_cases[0]; i++) {
        size_t len = 0;
        const char *line = http_status_line(line_cases[i].status, &len);
        assert_string_equal(line, line_cases[i].line);
        assert_int_equal(len, strlen(line_cases[i].line));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errno_maps_to_status),
        cmocka_unit_test(status_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
