#include "http_status.h"

#include <errno.h>

#define LINE(code, text) {code, "HTTP/1.1 " #code " " text "\r\n", sizeof("HTTP/1.1 " #code " " text "\r\n") - 1}

static const struct {
    int status;
    const char *line;
    size_t len;
} lines[] = {
    LINE(200, "OK"),
    LINE(206, "Partial Content"),
    LINE(304, "Not Modified"),
    LINE(400, "Bad Request"),
    LINE(403, "Forbidden"),
    LINE(404, "Not Found"),
    LINE(405, "Method Not Allowed"),
    LINE(408, "Request Timeout"),
    LINE(414, "URI Too Long"),
    LINE(416, "Range Not Satisfiable"),
    LINE(431, "Request Header Fields Too Large"),
    LINE(500, "Internal Server Error"),
    LINE(501, "Not Implemented"),
    LINE(503, "Service Unavailable"),
    LINE(505, "HTTP Version Not Supported"),
};

const char *http_status_line(int status, size_t *len)
{
    size_t i = 0;
    while (i < sizeof lines / sizeof lines[0] && lines[i].status != status)
        i++;
    if (i == sizeof lines / sizeof lines[0])
        return http_status_line(500, len);
    *len = lines[i].len;
    return lines[i].line;
}

int http_status_for_errno(int err)
{
    switch (err) {
    case ENOENT: case ENOTDIR: case ENAMETOOLONG:
        return 404;
    case EACCES: case EPERM: case EXDEV: case ELOOP:
        return 403;
    case EMFILE: case ENFILE: case ENOMEM: case ENOBUFS: case EAGAIN:
        return 503;
    default:
        return 500;
    }
}
