/* Fuzz target: http_parse_request + http_request_interpret, and the header
 * values through the date, range and conditional parsers.
 *
 * Input: byte 0 chooses max_headers (0..64), the rest is the request head.
 * Invariants checked (abort on violation):
 *  - the result is INCOMPLETE, INVALID (with an error) or a length <= len;
 *  - everything returned points inside the head; names are tokens, values
 *    carry no CR/LF/NUL and no leading or trailing OWS;
 *  - the parse is prefix-consistent: the input minus its last byte gives
 *    INCOMPLETE, or the same head length, or INVALID with the same error
 *    when the full input is INVALID;
 *  - a complete head re-parses to the same length on its own;
 *  - a date that parses formats back to a date that parses to the same time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conditional.h"
#include "http_date.h"
#include "http_parse.h"
#include "range.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void check_values(const char *v, size_t n)
{
    time_t t;
    if (http_date_parse(v, n, &t)) {
        char d[HTTP_DATE_LEN + 1];
        http_date_format(t, d);
        time_t back;
        /* years 1..9999 format exactly; a parsed date is always inside them */
        CHECK(http_date_parse(d, HTTP_DATE_LEN, &back));
        CHECK(back == t);
    }
    struct byte_range ranges[RANGE_MAX];
    size_t nr;
    enum range_result rr = range_parse(v, n, 1000, ranges, RANGE_MAX, &nr);
    CHECK(rr == RANGE_OK ? (nr >= 1 && nr <= RANGE_MAX) : nr == 0);
    for (size_t i = 0; rr == RANGE_OK && i < nr; i++)
        CHECK(ranges[i].first <= ranges[i].last && ranges[i].last < 1000);
    static const char tag[] = "\"4d2-6553f100.75bcd15\"";
    (void)etag_list_matches(v, n, tag, sizeof tag - 1);
    (void)cond_if_range_matches(v, n, tag, sizeof tag - 1, 1688576709);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const size_t max_headers = data[0] % 65;
    const size_t len = size - 1;
    /* an exact-size heap copy, so reading past len is caught by ASan */
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);

    struct http_header headers[64];
    struct http_request_head req;
    enum http_parse_error err;
    const int r = http_parse_request(buf, len, &req, headers, max_headers, &err);
    CHECK(r == HTTP_PARSE_INCOMPLETE || r == HTTP_PARSE_INVALID || (r > 0 && (size_t)r <= len));
    CHECK((r == HTTP_PARSE_INVALID) == (err != HTTP_PERR_NONE));

    if (len > 0) {
        struct http_request_head req2;
        struct http_header headers2[64];
        enum http_parse_error err2;
        const int r2 = http_parse_request(buf, len - 1, &req2, headers2, max_headers, &err2);
        if (r2 == HTTP_PARSE_INVALID)
            CHECK(r == HTTP_PARSE_INVALID && err == err2);
        else if (r2 > 0)
            CHECK(r == r2);
        if (r == HTTP_PARSE_INCOMPLETE)
            CHECK(r2 == HTTP_PARSE_INCOMPLETE);
    }

    if (r > 0) {
        const size_t head = (size_t)r;
        CHECK(req.headers == headers);
        CHECK(req.num_headers <= max_headers);
        CHECK(req.minor_version == 0 || req.minor_version == 1);
        CHECK(req.method_len > 0 && inside(req.method, req.method_len, buf, head));
        for (size_t i = 0; i < req.method_len; i++)
            CHECK(is_tchar((unsigned char)req.method[i]));
        CHECK(req.method_id != HTTP_METHOD_GET || (req.method_len == 3 && !memcmp(req.method, "GET", 3)));
        CHECK(req.method_id != HTTP_METHOD_HEAD || (req.method_len == 4 && !memcmp(req.method, "HEAD", 4)));
        CHECK(req.target_len > 0 && inside(req.target, req.target_len, buf, head));
        for (size_t i = 0; i < req.target_len; i++) {
            const unsigned char c = (unsigned char)req.target[i];
            CHECK(c > 0x20 && c != 0x7f);
        }
        for (size_t h = 0; h < req.num_headers; h++) {
            const struct http_header *f = &req.headers[h];
            CHECK(f->name_len > 0 && inside(f->name, f->name_len, buf, head));
            CHECK(inside(f->value, f->value_len, buf, head));
            for (size_t i = 0; i < f->name_len; i++)
                CHECK(is_tchar((unsigned char)f->name[i]));
            for (size_t i = 0; i < f->value_len; i++) {
                const unsigned char c = (unsigned char)f->value[i];
                CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
            }
            if (f->value_len > 0) {
                CHECK(f->value[0] != ' ' && f->value[0] != '\t');
                CHECK(f->value[f->value_len - 1] != ' ' && f->value[f->value_len - 1] != '\t');
            }
            check_values(f->value, f->value_len);
        }
        /* the head alone is a complete head of the same length */
        struct http_header headers3[64];
        struct http_request_head req3;
        enum http_parse_error err3;
        CHECK(http_parse_request(buf, head, &req3, headers3, max_headers, &err3) == r);
        CHECK(req3.num_headers == req.num_headers);

        struct http_request_info info;
        const int refused = http_request_interpret(&req, &info);
        CHECK(refused == 0 || refused == 400 || refused == 501);
        if (refused == 0) {
            CHECK(!info.host || inside(info.host, info.host_len, buf, head));
            CHECK(!info.range || inside(info.range, info.range_len, buf, head));
            CHECK(!info.if_range || inside(info.if_range, info.if_range_len, buf, head));
            CHECK(!info.if_none_match || inside(info.if_none_match, info.if_none_match_len, buf, head));
            CHECK(!info.if_modified_since || inside(info.if_modified_since, info.if_modified_since_len, buf, head));
            CHECK(!info.user_agent || inside(info.user_agent, info.user_agent_len, buf, head));
            CHECK(req.minor_version == 0 || info.host);
            CHECK(!info.host || http_host_valid(info.host, info.host_len));
            if (req.minor_version == 0 && info.keep_alive) {
                /* 1.0 keeps the connection only when asked */
                int asked = 0;
                for (size_t h = 0; h < req.num_headers; h++)
                    if (http_token_eq(req.headers[h].name, req.headers[h].name_len, "connection"))
                        asked = 1;
                CHECK(asked);
            }
        }
    }
    free(buf);
    return 0;
}
