#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_program = "dcn";

void log_init(const char *program) { log_program = program; }

__attribute__((format(printf, 2, 0)))
static void log_emit(const char *suffix, const char *fmt, va_list ap)
{
    char line[2048];
    int n = snprintf(line, sizeof line, "%s: ", log_program);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    if (suffix) {
        int k = snprintf(line + len, sizeof line - len, ": %s", suffix);
        len += k < 0 ? 0 : (size_t)k;
        if (len > sizeof line - 2)
            len = sizeof line - 2;
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_emit(NULL, fmt, ap);
    va_end(ap);
}

void log_errno(const char *fmt, ...)
{
    char err[128];
    const char *msg = strerror_r(errno, err, sizeof err);
    va_list ap;
    va_start(ap, fmt);
    log_emit(msg, fmt, ap);
    va_end(ap);
}
