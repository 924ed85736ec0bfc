/* http_parse: the HTTP/1.x request-head parser. A pure function over a
 * buffer in the manner of picohttpparser: no allocation, no I/O; results point
 * into the caller's buffer and headers go into a caller-owned array. */
#ifndef DCN_HTTP_PARSE_H
#define DCN_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_PARSE_INCOMPLETE (-2) /* need more bytes */
#define HTTP_PARSE_INVALID (-1)    /* see *error */

enum http_method {
    HTTP_METHOD_OTHER = 0, /* a syntactically valid method we do not serve */
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
};

enum http_parse_error {
    HTTP_PERR_NONE = 0,
    HTTP_PERR_BAD_REQUEST,     /* 400: malformed request line or header */
    HTTP_PERR_TOO_MANY_HEADERS,/* 431: more header fields than allowed */
    HTTP_PERR_BAD_VERSION,     /* 505: well-formed HTTP-version whose major is not 1 */
};

struct http_header {
    const char *name; /* not NUL-terminated */
    size_t name_len;
    const char *value; /* leading/trailing OWS stripped */
    size_t value_len;
};

struct http_request_head {
    const char *method;
    size_t method_len;
    enum http_method method_id;
    const char *target; /* request-target exactly as sent */
    size_t target_len;
    int minor_version;  /* 0 or 1: HTTP/1.2 to 1.9 are read as 1.1 (RFC 9110 2.5) */
    struct http_header *headers; /* caller-owned array */
    size_t num_headers;          /* out: fields parsed */
};

/* Parses one request head from buf[0..len). Returns the number of bytes the
 * head occupies (through the empty line) when complete, HTTP_PARSE_INCOMPLETE
 * when more bytes are needed, or HTTP_PARSE_INVALID with *error set.
 * Accepts bare LF line endings; rejects obs-fold, NUL and other control
 * bytes, whitespace between a field name and its colon, and empty targets.
 * Leading empty lines before the request line are skipped (RFC 9112 2.2).
 * No state is kept between calls: call again with the whole buffer when more
 * bytes arrive. Prefix-consistent: INVALID is returned as soon as the bytes
 * seen cannot start a valid head (a prefix of a valid head is INCOMPLETE,
 * never INVALID), and the error does not change as more bytes arrive. The
 * HTTP version is judged at the end of the request line ("HTTP/2.0" then
 * CRLF: BAD_VERSION; "HTTP/2" or "HTTP/1.1x": BAD_REQUEST). On INVALID the
 * fields of *req are unspecified. */
int http_parse_request(const char *buf, size_t len, struct http_request_head *req,
                       struct http_header *headers, size_t max_headers,
                       enum http_parse_error *error);

/* What the server needs from the header fields, found in one pass. Values
 * point into the parsed buffer (OWS trimmed). When a field is repeated the
 * first one is kept, except that a repeated Range or If-Range makes range
 * NULL (the range request is ignored: 200); Host and Content-Length may not
 * be repeated at all. */
struct http_request_info {
    const char *host; size_t host_len;                 /* NULL if absent */
    const char *range; size_t range_len;               /* NULL if absent */
    const char *if_range; size_t if_range_len;
    const char *if_none_match; size_t if_none_match_len;
    const char *if_modified_since; size_t if_modified_since_len;
    const char *user_agent; size_t user_agent_len;
    bool keep_alive;       /* after this response; from version + Connection */
    bool has_body;         /* Content-Length > 0, or Transfer-Encoding ending in chunked */
};

/* Fills *info from a parsed head. Returns 0 when the request can be served,
 * else the status to answer before closing the connection, because the
 * request's framing or its Host cannot be trusted:
 *  400: no Host in HTTP/1.1, more than one Host, a Host that is not
 *       uri-host [":" port]; a Content-Length that is not 1*DIGIT or is
 *       repeated (also "5, 5"); Content-Length with Transfer-Encoding;
 *       Transfer-Encoding in HTTP/1.0; a Transfer-Encoding that is not a
 *       coding list, or whose final coding is not chunked, or that has
 *       chunked more than once (RFC 9112 3.2, 6.1, 6.3);
 *  501: a valid Transfer-Encoding ending in chunked with another coding
 *       before it (none is implemented; RFC 9112 6.1). */
int http_request_interpret(const struct http_request_head *req, struct http_request_info *info);

/* Host = uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2): an IP-literal
 * in brackets, or a reg-name/IPv4 address (unreserved, sub-delims and
 * %-escapes), then optionally ':' and digits. The empty value is valid
 * (RFC 9110 7.2). Also used for the authority of an absolute-form target. */
bool http_host_valid(const char *host, size_t len);

/* Case-insensitive token comparison helper (ASCII). */
bool http_token_eq(const char *a, size_t a_len, const char *lit);

#endif
