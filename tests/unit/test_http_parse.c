/* http_parse: request-head parsing and header interpretation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_parse.h"

#define ALL (-100) /* expected return: the whole input is the head */
#define INC HTTP_PARSE_INCOMPLETE
#define INV HTTP_PARSE_INVALID
#define GET HTTP_METHOD_GET
#define HEAD HTTP_METHOD_HEAD
#define OTHER HTTP_METHOD_OTHER
#define NONE HTTP_PERR_NONE
#define E400 HTTP_PERR_BAD_REQUEST
#define E431 HTTP_PERR_TOO_MANY_HEADERS
#define E505 HTTP_PERR_BAD_VERSION

struct parse_case {
    const char *in;
    size_t len;
    int ret;                    /* ALL, a byte count, INC or INV */
    enum http_parse_error err;  /* when INV */
    enum http_method method;    /* when complete */
    const char *target;         /* when complete */
    int minor;                  /* when complete */
    size_t num_headers;         /* when complete */
};

/* S(literal): the literal and its length (embedded NULs included). */
#define S(s) s, sizeof(s) - 1
#define MAX_HEADERS 8

static const struct parse_case parse_cases[] = {
    /* complete heads */
    {S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), ALL, NONE, GET, "/", 1, 1},
    {S("GET / HTTP/1.0\r\n\r\n"), ALL, NONE, GET, "/", 0, 0},
    {S("HEAD /repo/summary HTTP/1.1\r\nHost: a\r\n\r\n"), ALL, NONE, HEAD, "/repo/summary", 1, 1},
    {S("POST /x HTTP/1.1\r\nHost: a\r\n\r\n"), ALL, NONE, OTHER, "/x", 1, 1},
    {S("get / HTTP/1.1\r\n\r\n"), ALL, NONE, OTHER, "/", 1, 0},        /* methods are case-sensitive */
    {S("GETS / HTTP/1.1\r\n\r\n"), ALL, NONE, OTHER, "/", 1, 0},
    {S("M-SEARCH * HTTP/1.1\r\n\r\n"), ALL, NONE, OTHER, "*", 1, 0},
    {S("GET / HTTP/1.1\n\n"), ALL, NONE, GET, "/", 1, 0},              /* bare LF */
    {S("GET / HTTP/1.1\nHost: a\r\nX: y\n\r\n"), ALL, NONE, GET, "/", 1, 2},
    {S("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), ALL, NONE, GET, "/", 1, 0},  /* leading empty lines */
    {S("\nGET / HTTP/1.1\r\n\r\n"), ALL, NONE, GET, "/", 1, 0},
    {S("GET http://h:8080/a?b=c#f HTTP/1.1\r\n\r\n"), ALL, NONE, GET, "http://h:8080/a?b=c#f", 1, 0},
    {S("GET /a%20b/\xc3\xa9 HTTP/1.1\r\n\r\n"), ALL, NONE, GET, "/a%20b/\xc3\xa9", 1, 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\n\r\n"), 27, NONE, GET, "/", 1, 1}, /* pipelined */
    /* a higher minor version is read as 1.1 (RFC 9110 2.5) */
    {S("GET / HTTP/1.2\r\n\r\n"), ALL, NONE, GET, "/", 1, 0},
    {S("GET / HTTP/1.9\nHost: a\n\n"), ALL, NONE, GET, "/", 1, 1},
    /* the head ends at the empty line: what follows (a body) is not parsed */
    {S("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
     sizeof("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n") - 1, NONE, OTHER, "/", 1, 1},
    {S("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n"),
     sizeof("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") - 1, NONE, GET, "/", 1, 1},
    /* a field named Transfer_Encoding is some other field */
    {S("GET / HTTP/1.1\r\nTransfer_Encoding: chunked\r\n\r\n"), ALL, NONE, GET, "/", 1, 1},
    /* bare LF ends a line: the TE after it is a field of its own */
    {S("GET / HTTP/1.1\r\nX: y\nTransfer-Encoding: chunked\r\n\r\n"), ALL, NONE, GET, "/", 1, 2},
    {S("GET / HTTP/1.1\r\nX:\r\n\r\n"), ALL, NONE, GET, "/", 1, 1},       /* empty value */
    {S("GET / HTTP/1.1\r\nX: \t \r\n\r\n"), ALL, NONE, GET, "/", 1, 1},   /* only OWS */
    {S("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n"), ALL, NONE, GET, "/", 1, 1},  /* HTAB inside a value */
    {S("GET / HTTP/1.1\r\nX: \xff\x80\r\n\r\n"), ALL, NONE, GET, "/", 1, 1}, /* obs-text */
    {S("GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n"), ALL, NONE, GET, "/", 1, 1}, /* all tchars */
    {S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n\r\n"),
     ALL, NONE, GET, "/", 1, 8},                                                /* exactly max */
    /* incomplete */
    {S(""), INC, NONE, 0, NULL, 0, 0},
    {S("\r"), INC, NONE, 0, NULL, 0, 0},
    {S("\r\n"), INC, NONE, 0, NULL, 0, 0},
    {S("G"), INC, NONE, 0, NULL, 0, 0},
    {S("GET"), INC, NONE, 0, NULL, 0, 0},
    {S("GET "), INC, NONE, 0, NULL, 0, 0},
    {S("GET /"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / "), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\n"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nHost"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nHost:"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nHost: a"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nHost: a\r"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\n"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nHost: a\r\n\r"), INC, NONE, 0, NULL, 0, 0},
    {S("GET / HTTP/2.0"), INC, NONE, 0, NULL, 0, 0}, /* version judged at the line end */
    /* malformed request line: 400 */
    {S("GET  / HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},      /* empty target */
    {S("GET / HTTP/1.1 \r\n\r\n"), INV, E400, 0, NULL, 0, 0},      /* trailing space */
    {S(" GET / HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET\t/ HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET /\t HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / http/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},       /* version is case-sensitive */
    {S("GET / HTTP/1.1x\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/11\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/2\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.10\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/a.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / FTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET /\x00 HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},   /* NUL in target */
    {S("GET /\x7f HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET /\x01 HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("G(T / HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},       /* not a token */
    {S("GET / HTTP/1.1\r\r\n\r\n"), INV, E400, 0, NULL, 0, 0},     /* bare CR */
    {S("GET / HTTP/1.1\rX"), INV, E400, 0, NULL, 0, 0},
    {S("\rGET / HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET /\r\n\r\n"), INV, E400, 0, NULL, 0, 0},                /* HTTP/0.9 */
    {S("\x16\x03\x01\x02\x00"), INV, E400, 0, NULL, 0, 0},         /* a TLS ClientHello */
    /* other HTTP versions: 505 */
    {S("GET / HTTP/2.0\r\n\r\n"), INV, E505, 0, NULL, 0, 0},
    {S("GET / HTTP/0.9\r\n\r\n"), INV, E505, 0, NULL, 0, 0},
    {S("GET / HTTP/3.0\n"), INV, E505, 0, NULL, 0, 0},
    {S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), INV, E505, 0, NULL, 0, 0}, /* h2 prior knowledge */
    /* malformed header fields: 400 */
    {S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), INV, E400, 0, NULL, 0, 0},   /* space before colon */
    {S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\n: a\r\n\r\n"), INV, E400, 0, NULL, 0, 0},        /* empty name */
    {S("GET / HTTP/1.1\r\nHost a\r\n\r\n"), INV, E400, 0, NULL, 0, 0},     /* no colon */
    {S("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"), INV, E400, 0, NULL, 0, 0},   /* not a token */
    {S("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), INV, E400, 0, NULL, 0, 0}, /* obs-fold */
    {S("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), INV, E400, 0, NULL, 0, 0},   /* ws after start line */
    {S("GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n"), INV, E400, 0, NULL, 0, 0},  /* NUL */
    {S("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), INV, E400, 0, NULL, 0, 0},    /* bare CR in value */
    {S("GET / HTTP/1.1\r\nX: a\r\n\rx"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nX\x00: a\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    /* request-smuggling corpus (tests/smuggling/requests.tsv): heads the parser refuses */
    {S("GET / HTTP/1.1\r\nHost: t\r\r\n\r\n"), INV, E400, 0, NULL, 0, 0},         /* CR CR LF */
    {S("GET / HTTP/1.1\r\nHost: t\r\n\r\r\n"), INV, E400, 0, NULL, 0, 0},         /* CR before the end */
    {S("GET / HTTP/1.1\n\rHost: t\r\n\r\n"), INV, E400, 0, NULL, 0, 0},           /* LF CR */
    {S("GET / HTTP/1.1\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("G\x00T / HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},                    /* NUL in method */
    {S("GET@ / HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET /f /x HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},                   /* SP in target */
    {S("GET /\x1b HTTP/1.1\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nX\x01Y: z\r\n\r\n"), INV, E400, 0, NULL, 0, 0},         /* CTL in name */
    {S("GET / HTTP/1.1\r\nX-\xc3\xa9: z\r\n\r\n"), INV, E400, 0, NULL, 0, 0},     /* UTF-8 in name */
    {S("GET / HTTP/1.1\r\nX A: b\r\n\r\n"), INV, E400, 0, NULL, 0, 0},            /* SP in name */
    {S("GET / HTTP/1.1\r\nX: a\x0c\r\n\r\n"), INV, E400, 0, NULL, 0, 0},          /* FF in value */
    {S("GET / HTTP/1.1\r\nTransfer-Encoding:\x0b" "chunked\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nHost: t\r\nX-No-Colon\r\n\r\n"), INV, E400, 0, NULL, 0, 0},
    {S("GET /\r\nHost: t\r\n\r\n"), INV, E400, 0, NULL, 0, 0},                    /* HTTP/0.9 */
    {S("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"), INV, E400, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nX: a\r\nHost: b"), INC, NONE, 0, NULL, 0, 0},
    /* too many fields: 431 */
    {S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\n\r\n"),
     INV, E431, 0, NULL, 0, 0},
    {S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI"),
     INV, E431, 0, NULL, 0, 0},
};

static int expected_ret(const struct parse_case *c)
{
    return c->ret == ALL ? (int)c->len : c->ret;
}

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const struct parse_case *c = &parse_cases[i];
        struct http_request_head req;
        struct http_header headers[MAX_HEADERS];
        enum http_parse_error err = 99;
        const int r = http_parse_request(c->in, c->len, &req, headers, MAX_HEADERS, &err);
        const int want = expected_ret(c);
        if (r != want)
            fail_msg("case %zu: return %d, want %d (err %d)", i, r, want, err);
        if (r == INV && err != c->err)
            fail_msg("case %zu: error %d, want %d", i, err, c->err);
        if (r >= 0) {
            assert_int_equal(err, HTTP_PERR_NONE);
            if (req.method_id != c->method)
                fail_msg("case %zu: method %d, want %d", i, req.method_id, c->method);
            if (req.target_len != strlen(c->target) || memcmp(req.target, c->target, req.target_len) != 0)
                fail_msg("case %zu: target \"%.*s\", want \"%s\"", i, (int)req.target_len, req.target,
                         c->target);
            if (req.minor_version != c->minor)
                fail_msg("case %zu: minor %d, want %d", i, req.minor_version, c->minor);
            if (req.num_headers != c->num_headers)
                fail_msg("case %zu: %zu headers, want %zu", i, req.num_headers, c->num_headers);
            assert_ptr_equal(req.headers, headers);
        }
    }
}

/* Every proper prefix of a complete head is INCOMPLETE; every extension of
 * an invalid prefix stays invalid with the same error. */
static void test_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const struct parse_case *c = &parse_cases[i];
        const int want = expected_ret(c);
        struct http_request_head req;
        struct http_header headers[MAX_HEADERS];
        enum http_parse_error err;
        if (want >= 0) {
            for (size_t n = 0; n < (size_t)want; n++) {
                const int r = http_parse_request(c->in, n, &req, headers, MAX_HEADERS, &err);
                if (r != INC)
                    fail_msg("case %zu: prefix of %zu bytes gave %d, want INCOMPLETE", i, n, r);
            }
        } else if (want == INV) {
            int first_inv = -1;
            for (size_t n = 0; n <= c->len; n++) {
                const int r = http_parse_request(c->in, n, &req, headers, MAX_HEADERS, &err);
                if (first_inv < 0 && r == INV)
                    first_inv = (int)n;
                if (first_inv >= 0 && (r != INV || err != c->err))
                    fail_msg("case %zu: invalid at %d bytes but %d (err %d) at %zu", i, first_inv, r, err, n);
                if (first_inv < 0 && r != INC)
                    fail_msg("case %zu: prefix of %zu bytes gave %d", i, n, r);
            }
        }
    }
}

struct header_case {
    const char *in;
    const char *name;  /* of the first field */
    const char *value; /* of the first field, OWS trimmed */
};

static const struct header_case header_cases[] = {
    {"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "Host", "example.com"},
    {"GET / HTTP/1.1\r\nHost:example.com\r\n\r\n", "Host", "example.com"},
    {"GET / HTTP/1.1\r\nHost: \t example.com \t \r\n\r\n", "Host", "example.com"},
    {"GET / HTTP/1.1\r\nX-A:  a  b  \r\n\r\n", "X-A", "a  b"},
    {"GET / HTTP/1.1\r\nX:\r\n\r\n", "X", ""},
    {"GET / HTTP/1.1\r\nX:    \r\n\r\n", "X", ""},
    {"GET / HTTP/1.1\nIf-None-Match: \"abc\"\n\n", "If-None-Match", "\"abc\""},
    {"GET / HTTP/1.1\r\nRange: bytes=0-1, 5-\r\n\r\n", "Range", "bytes=0-1, 5-"},
    {"GET / HTTP/1.1\r\nUser-Agent: libostree/2022.7\r\nHost: h\r\n\r\n", "User-Agent", "libostree/2022.7"},
};

static void test_header_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof header_cases / sizeof header_cases[0]; i++) {
        const struct header_case *c = &header_cases[i];
        struct http_request_head req;
        struct http_header headers[MAX_HEADERS];
        enum http_parse_error err;
        const int r = http_parse_request(c->in, strlen(c->in), &req, headers, MAX_HEADERS, &err);
        if (r != (int)strlen(c->in))
            fail_msg("case %zu: return %d", i, r);
        const struct http_header *h = &req.headers[0];
        if (h->name_len != strlen(c->name) || memcmp(h->name, c->name, h->name_len) != 0)
            fail_msg("case %zu: name \"%.*s\", want \"%s\"", i, (int)h->name_len, h->name, c->name);
        if (h->value_len != strlen(c->value) || memcmp(h->value, c->value, h->value_len) != 0)
            fail_msg("case %zu: value \"%.*s\", want \"%s\"", i, (int)h->value_len, h->value, c->value);
    }
}

static void test_max_headers_zero(void **state)
{
    (void)state;
    struct http_request_head req;
    enum http_parse_error err;
    const char *ok = "GET / HTTP/1.0\r\n\r\n", *one = "GET / HTTP/1.0\r\nA: b\r\n\r\n";
    assert_int_equal(http_parse_request(ok, strlen(ok), &req, NULL, 0, &err), (int)strlen(ok));
    assert_int_equal(http_parse_request(one, strlen(one), &req, NULL, 0, &err), INV);
    assert_int_equal(err, E431);
}

/* ---- http_request_interpret ---- */

enum { KA = 1, CLOSE = 2, R400 = 400, R501 = 501 };

struct interpret_case {
    const char *in;
    int want;       /* KA / CLOSE (served, keep_alive or not), or the refusal status */
    bool has_body;
    const char *host;  /* NULL: absent */
    const char *range; /* NULL: absent (or ignored) */
};

static const struct interpret_case interpret_cases[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", KA, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", CLOSE, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", CLOSE, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", CLOSE, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n", KA, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: te,,  close ,x\r\n\r\n", CLOSE, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", KA, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nConnection: close\r\n\r\n", CLOSE, false, "a", NULL},
    {"GET / HTTP/1.0\r\n\r\n", CLOSE, false, NULL, NULL},
    {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", KA, false, NULL, NULL},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", KA, false, NULL, NULL},
    {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", CLOSE, false, NULL, NULL},
    {"GET / HTTP/1.0\r\nConnection: keep-alivex\r\n\r\n", CLOSE, false, NULL, NULL},
    {"GET / HTTP/1.0\r\nHost: a\r\n\r\n", CLOSE, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHOST: a\r\n\r\n", KA, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost:\r\n\r\n", KA, false, "", NULL},               /* empty Host is valid */
    {"GET / HTTP/1.1\r\n\r\n", R400, false, NULL, NULL},                   /* 1.1 needs Host */
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", KA, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", KA, true, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n", KA, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551621\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", KA, true, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", R400, false, NULL, NULL},
    /* Transfer-Encoding: a list whose final coding is chunked, chunked once (RFC 9112 6.1, 6.3) */
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", KA, true, "a", NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n", KA, true, "a", NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked,\r\n\r\n", KA, true, "a", NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=\"a,b\"\r\n\r\n", KA, true, "a", NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked ; x = y\r\n\r\n", KA, true, "a", NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked chunked\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=\"a\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;=y\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", R501, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", R501, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", R400, false, NULL, NULL},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n", KA, false, "a", NULL},
    /* Host = uri-host [":" port] (RFC 9112 3.2) */
    {"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", KA, false, "[::1]:8080", NULL},
    {"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.0\r\nHost: u@a\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: \xe9\r\n\r\n", R400, false, NULL, NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n", KA, false, "a", "bytes=0-1"},
    {"GET / HTTP/1.1\r\nHost: a\r\nrange: bytes=0-1\r\n\r\n", KA, false, "a", "bytes=0-1"},
    {"GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n", KA, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nIf-Range: \"x\"\r\nIf-Range: \"y\"\r\n\r\n", KA, false, "a", NULL},
    {"GET / HTTP/1.1\r\nHost: a\r\nX-Range: bytes=0-1\r\n\r\n", KA, false, "a", NULL},
};

static void test_interpret(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof interpret_cases / sizeof interpret_cases[0]; i++) {
        const struct interpret_case *c = &interpret_cases[i];
        struct http_request_head req;
        struct http_header headers[MAX_HEADERS];
        enum http_parse_error err;
        const int r = http_parse_request(c->in, strlen(c->in), &req, headers, MAX_HEADERS, &err);
        if (r != (int)strlen(c->in))
            fail_msg("case %zu: parse returned %d", i, r);
        struct http_request_info info;
        const int refused = http_request_interpret(&req, &info);
        if (refused != (c->want >= 400 ? c->want : 0))
            fail_msg("case %zu: interpret returned %d, want %d", i, refused, c->want >= 400 ? c->want : 0);
        if (refused)
            continue;
        if (info.keep_alive != (c->want == KA))
            fail_msg("case %zu: keep_alive %d", i, info.keep_alive);
        if (info.has_body != c->has_body)
            fail_msg("case %zu: has_body %d", i, info.has_body);
        if ((info.host == NULL) != (c->host == NULL) ||
            (c->host && (info.host_len != strlen(c->host) || memcmp(info.host, c->host, info.host_len) != 0)))
            fail_msg("case %zu: host \"%.*s\"", i, (int)info.host_len, info.host ? info.host : "(null)");
        if ((info.range == NULL) != (c->range == NULL) ||
            (c->range && (info.range_len != strlen(c->range) || memcmp(info.range, c->range, info.range_len) != 0)))
            fail_msg("case %zu: range \"%.*s\"", i, (int)info.range_len, info.range ? info.range : "(null)");
    }
}

/* The fields the static-file phase needs, all found in one pass. */
static void test_interpret_fields(void **state)
{
    (void)state;
    const char *in = "GET /repo/summary HTTP/1.1\r\n"
                     "Host: dcn.example:8080\r\n"
                     "User-Agent: libostree/2022.7\r\n"
                     "If-None-Match: \"1a-2b.3c\"\r\n"
                     "If-None-Match: \"other\"\r\n"
                     "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 UTC\r\n"
                     "If-Range: \"1a-2b.3c\"\r\n"
                     "Range: bytes=-10\r\n"
                     "\r\n";
    struct http_request_head req;
    struct http_header headers[MAX_HEADERS];
    enum http_parse_error err;
    assert_int_equal(http_parse_request(in, strlen(in), &req, headers, MAX_HEADERS, &err), (int)strlen(in));
    struct http_request_info info;
    assert_int_equal(http_request_interpret(&req, &info), 0);
#define FIELD_EQ(p, l, s) (assert_non_null(p), assert_int_equal((l), strlen(s)), assert_memory_equal((p), (s), (l)))
    FIELD_EQ(info.host, info.host_len, "dcn.example:8080");
    FIELD_EQ(info.user_agent, info.user_agent_len, "libostree/2022.7");
    FIELD_EQ(info.if_none_match, info.if_none_match_len, "\"1a-2b.3c\""); /* the first one */
    FIELD_EQ(info.if_modified_since, info.if_modified_since_len, "Sun, 06 Nov 1994 08:49:37 UTC");
    FIELD_EQ(info.if_range, info.if_range_len, "\"1a-2b.3c\"");
    FIELD_EQ(info.range, info.range_len, "bytes=-10");
    assert_true(info.keep_alive);
    assert_false(info.has_body);
}

struct host_case {
    const char *host;
    bool valid;
};

static const struct host_case host_cases[] = {
    {"", true}, {"a", true}, {"dcn.example.com", true}, {"dcn.example.com:8080", true},
    {"a:", true} /* port = *DIGIT */, {"127.0.0.1:80", true}, {"[::1]", true}, {"[::1]:8080", true},
    {"[::ffff:10.0.0.1]", true}, {"[v1.fe80::a+b]", true}, {"a%2Db", true}, {"a_b~c!$&'()*+,;=", true},
    {"a b", false}, {"a/b", false}, {"a?b", false}, {"a#b", false}, {"u@a", false}, {"a:b", false},
    {"a:80:80", false}, {"[::1", false}, {"[]", false}, {"[::g]", false}, {"[::1]x", false},
    {"[::1]:x", false}, {"a]", false}, {"a%2", false}, {"a%zz", false}, {"\xe9", false},
    {"a\tb", false}, {"a\"b", false}, {"a\\b", false},
};

static void test_host_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof host_cases / sizeof host_cases[0]; i++)
        if (http_host_valid(host_cases[i].host, strlen(host_cases[i].host)) != host_cases[i].valid)
            fail_msg("case %zu: \"%s\" valid %d", i, host_cases[i].host, !host_cases[i].valid);
}

struct token_case {
    const char *a;
    const char *lit;
    bool want;
};

static const struct token_case token_cases[] = {
    {"Host", "host", true},   {"HOST", "host", true},  {"host", "host", true},
    {"Hos", "host", false},   {"Hosts", "host", false}, {"", "", true},
    {"", "x", false},         {"x", "", false},        {"Keep-Alive", "keep-alive", true},
    {"Keep_Alive", "keep-alive", false}, {"\xc8ost", "host", false}, {"[", "{", false},
};

static void test_token_eq(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof token_cases / sizeof token_cases[0]; i++)
        if (http_token_eq(token_cases[i].a, strlen(token_cases[i].a), token_cases[i].lit) != token_cases[i].want)
            fail_msg("case %zu: \"%s\" vs \"%s\"", i, token_cases[i].a, token_cases[i].lit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_max_headers_zero),
        cmocka_unit_test(test_interpret),
        cmocka_unit_test(test_interpret_fields),
        cmocka_unit_test(test_host_valid),
        cmocka_unit_test(test_token_eq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
