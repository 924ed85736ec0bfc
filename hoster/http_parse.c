/* http_parse: HTTP/1.x request-head parser (RFC 9112 sections 2-5) and the
 * one-pass interpretation of the header fields the server acts on.
 *
 * The parser re-reads the buffer from the start on every call (no state is
 * kept between calls), so every prefix of a valid head yields
 * HTTP_PARSE_INCOMPLETE and an invalid byte is reported as soon as it is
 * seen: a caller never waits for more input on a head that cannot become
 * valid. Byte classes come from one 256-entry table; the inner loops are a
 * table lookup per byte with no function calls. */
#include "http_parse.h"

#include <limits.h>
#include <string.h>

enum {
    C_TCHAR = 1,  /* token character (RFC 9110 5.6.2) */
    C_TARGET = 2, /* request-target byte: VCHAR or obs-text (no SP, no CTL) */
    C_VALUE = 4,  /* field-value byte: VCHAR, obs-text, SP, HTAB */
    C_OWS = 8,    /* SP / HTAB */
};

#define TV (C_TCHAR | C_TARGET | C_VALUE) /* token char, valid everywhere */
#define XV (C_TARGET | C_VALUE)           /* VCHAR that is not a tchar, or obs-text */

static const unsigned char char_class[256] = {
    ['\t'] = C_VALUE | C_OWS,
    [' '] = C_VALUE | C_OWS,
    ['!'] = TV, ['"'] = XV, ['#'] = TV, ['$'] = TV, ['%'] = TV, ['&'] = TV, ['\''] = TV,
    ['('] = XV, [')'] = XV, ['*'] = TV, ['+'] = TV, [','] = XV, ['-'] = TV, ['.'] = TV, ['/'] = XV,
    ['0' ... '9'] = TV,
    [':'] = XV, [';'] = XV, ['<'] = XV, ['='] = XV, ['>'] = XV, ['?'] = XV, ['@'] = XV,
    ['A' ... 'Z'] = TV,
    ['['] = XV, ['\\'] = XV, [']'] = XV, ['^'] = TV, ['_'] = TV, ['`'] = TV,
    ['a' ... 'z'] = TV,
    ['{'] = XV, ['|'] = TV, ['}'] = XV, ['~'] = TV,
    [0x80 ... 0xff] = XV,
};

static const unsigned char ascii_lower[256] = {
#define L4(n) (n), (n) + 1, (n) + 2, (n) + 3
#define L16(n) L4(n), L4((n) + 4), L4((n) + 8), L4((n) + 12)
    L16(0x00), L16(0x10), L16(0x20), L16(0x30),
    0x40, L4(0x61), L4(0x65), L4(0x69), L4(0x6d), L4(0x71), L4(0x75), 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    L16(0x60), L16(0x70), L16(0x80), L16(0x90), L16(0xa0), L16(0xb0),
    L16(0xc0), L16(0xd0), L16(0xe0), L16(0xf0),
#undef L16
#undef L4
};

#define CLS(c) char_class[(unsigned char)(c)]

/* Advances p while its byte has class bit `bit`; returns the first byte that
 * has not (or end). Unrolled by eight for long header values. */
static inline const char *scan_class(const char *p, const char *end, unsigned bit)
{
    while (end - p >= 8) {
        if (!(CLS(p[0]) & bit)) return p;
        if (!(CLS(p[1]) & bit)) return p + 1;
        if (!(CLS(p[2]) & bit)) return p + 2;
        if (!(CLS(p[3]) & bit)) return p + 3;
        if (!(CLS(p[4]) & bit)) return p + 4;
        if (!(CLS(p[5]) & bit)) return p + 5;
        if (!(CLS(p[6]) & bit)) return p + 6;
        if (!(CLS(p[7]) & bit)) return p + 7;
        p += 8;
    }
    while (p < end && (CLS(*p) & bit))
        p++;
    return p;
}

/* Line end at *pp: CRLF or bare LF. 1 consumed, 0 need more, -1 invalid. */
static inline int eat_eol(const char **pp, const char *end)
{
    const char *p = *pp;
    if (*p == '\n') {
        *pp = p + 1;
        return 1;
    }
    if (*p != '\r')
        return -1;
    if (p + 1 == end)
        return 0;
    if (p[1] != '\n')
        return -1;
    *pp = p + 2;
    return 1;
}

int http_parse_request(const char *buf, size_t len, struct http_request_head *req,
                       struct http_header *headers, size_t max_headers,
                       enum http_parse_error *error)
{
    /* The return value is an int: a head can never be longer than INT_MAX. */
    const char *p = buf, *end = buf + (len > (size_t)INT_MAX ? (size_t)INT_MAX : len);
    int r;

    *error = HTTP_PERR_NONE;
    req->headers = headers;
    req->num_headers = 0;

#define NEED_MORE()                                                                                \
    do {                                                                                           \
        if (p == end)                                                                              \
            return HTTP_PARSE_INCOMPLETE;                                                          \
    } while (0)
#define FAIL(e)                                                                                    \
    do {                                                                                           \
        *error = (e);                                                                              \
        return HTTP_PARSE_INVALID;                                                                 \
    } while (0)

    /* Empty lines before the request line are ignored (RFC 9112 2.2). */
    for (;;) {
        NEED_MORE();
        if (*p != '\r' && *p != '\n')
            break;
        if ((r = eat_eol(&p, end)) <= 0) {
            if (r == 0)
                return HTTP_PARSE_INCOMPLETE;
            FAIL(HTTP_PERR_BAD_REQUEST);
        }
    }

    /* method SP */
    req->method = p;
    p = scan_class(p, end, C_TCHAR);
    NEED_MORE();
    if (p == req->method || *p != ' ')
        FAIL(HTTP_PERR_BAD_REQUEST);
    req->method_len = (size_t)(p - req->method);
    req->method_id = HTTP_METHOD_OTHER;
    if (req->method_len == 3 && memcmp(req->method, "GET", 3) == 0)
        req->method_id = HTTP_METHOD_GET;
    else if (req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0)
        req->method_id = HTTP_METHOD_HEAD;
    p++;

    /* request-target SP */
    req->target = p;
    p = scan_class(p, end, C_TARGET);
    NEED_MORE();
    if (p == req->target || *p != ' ')
        FAIL(HTTP_PERR_BAD_REQUEST);
    req->target_len = (size_t)(p - req->target);
    p++;

    /* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive */
    static const char version[8] = "HTTP/0.0";
    for (int i = 0; i < 8; i++, p++) {
        NEED_MORE();
        const char c = *p;
        const bool ok = (i == 5 || i == 7) ? (c >= '0' && c <= '9') : c == version[i];
        if (!ok)
            FAIL(HTTP_PERR_BAD_REQUEST);
    }
    const int major = p[-3] - '0', minor = p[-1] - '0';
    NEED_MORE();
    if ((r = eat_eol(&p, end)) <= 0) {
        if (r == 0)
            return HTTP_PARSE_INCOMPLETE;
        FAIL(HTTP_PERR_BAD_REQUEST);
    }
    if (major != 1)
        FAIL(HTTP_PERR_BAD_VERSION);
    /* A higher minor version is processed as the highest one we implement
     * (RFC 9110 2.5): 1.1, and the response says HTTP/1.1. */
    req->minor_version = minor > 1 ? 1 : minor;

    /* *( field-line CRLF ) CRLF */
    size_t n = 0;
    for (;;) {
        NEED_MORE();
        if (*p == '\r' || *p == '\n') {
            if ((r = eat_eol(&p, end)) <= 0) {
                if (r == 0)
                    return HTTP_PARSE_INCOMPLETE;
                FAIL(HTTP_PERR_BAD_REQUEST);
            }
            break;
        }
        /* A line starting with whitespace is obs-fold (or whitespace between
         * the request line and the first field): rejected, RFC 9112 2.2/5.2. */
        if (CLS(*p) & C_OWS)
            FAIL(HTTP_PERR_BAD_REQUEST);
        if (n == max_headers) {
            req->num_headers = n;
            FAIL(HTTP_PERR_TOO_MANY_HEADERS);
        }
        struct http_header *h = &headers[n];
        h->name = p;
        p = scan_class(p, end, C_TCHAR);
        NEED_MORE();
        if (p == h->name || *p != ':')
            FAIL(HTTP_PERR_BAD_REQUEST);
        h->name_len = (size_t)(p - h->name);
        p++;
        while (p < end && (CLS(*p) & C_OWS))
            p++;
        h->value = p;
        p = scan_class(p, end, C_VALUE);
        NEED_MORE();
        const char *vend = p;
        if ((r = eat_eol(&p, end)) <= 0) {
            if (r == 0)
                return HTTP_PARSE_INCOMPLETE;
            FAIL(HTTP_PERR_BAD_REQUEST); /* NUL, CTL, bare CR */
        }
        while (vend > h->value && (CLS(vend[-1]) & C_OWS))
            vend--;
        h->value_len = (size_t)(vend - h->value);
        n++;
    }
    req->num_headers = n;
    return (int)(p - buf);
#undef NEED_MORE
#undef FAIL
}

bool http_token_eq(const char *a, size_t a_len, const char *lit)
{
    size_t i = 0;
    for (; i < a_len; i++) {
        if (lit[i] == '\0' || ascii_lower[(unsigned char)a[i]] != ascii_lower[(unsigned char)lit[i]])
            return false;
    }
    return lit[i] == '\0';
}

/* Connection: 1#connection-option; sets *close / *keep_alive for the
 * options we know. Empty list elements and unknown options are ignored. */
static void connection_options(const char *v, size_t len, bool *close, bool *keep_alive)
{
    const char *p = v, *end = v + len;
    while (p < end) {
        while (p < end && (*p == ',' || (CLS(*p) & C_OWS)))
            p++;
        const char *t = p;
        while (p < end && *p != ',')
            p++;
        const char *te = p;
        while (te > t && (CLS(te[-1]) & C_OWS))
            te--;
        if (http_token_eq(t, (size_t)(te - t), "close"))
            *close = true;
        else if (http_token_eq(t, (size_t)(te - t), "keep-alive"))
            *keep_alive = true;
    }
}

/* reg-name bytes other than '%' (RFC 3986 3.2.2): unreserved and sub-delims. */
static const bool reg_name_byte[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
    ['-'] = true, ['.'] = true, ['_'] = true, ['~'] = true,
    ['!'] = true, ['$'] = true, ['&'] = true, ['\''] = true, ['('] = true, [')'] = true,
    ['*'] = true, ['+'] = true, [','] = true, [';'] = true, ['='] = true,
};

static inline bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

bool http_host_valid(const char *host, size_t len)
{
    const unsigned char *h = (const unsigned char *)host;
    size_t i = 0;
    if (len > 0 && h[0] == '[') {
        /* IP-literal: IPv6address (hex, ':', '.' for an embedded IPv4) or
         * IPvFuture ("v" hex "." then unreserved / sub-delims / ':'). The
         * address itself is not checked further: what matters here is that
         * no delimiter (/ ? # @ [ ] SP) can hide inside. */
        const bool future = len > 1 && (h[1] | 0x20) == 'v';
        for (i = 1; i < len && h[i] != ']'; i++) {
            if (future ? !(reg_name_byte[h[i]] || h[i] == ':')
                       : !(is_hex(h[i]) || h[i] == ':' || h[i] == '.'))
                return false;
        }
        if (i == len || i == 1)
            return false; /* no ']' or "[]" */
        i++;
    } else {
        while (i < len && h[i] != ':') {
            if (h[i] == '%') {
                if (len - i < 3 || !is_hex(h[i + 1]) || !is_hex(h[i + 2]))
                    return false;
                i += 3;
            } else if (reg_name_byte[h[i]]) {
                i++;
            } else {
                return false;
            }
        }
    }
    if (i == len)
        return true;
    if (h[i] != ':')
        return false;
    for (i++; i < len; i++) /* port = *DIGIT */
        if (h[i] < '0' || h[i] > '9')
            return false;
    return true;
}

/* What the Transfer-Encoding fields of one request say, across fields. */
struct te_state {
    unsigned chunked;  /* how many codings were "chunked" */
    bool last_chunked; /* the final coding so far is chunked */
    bool other;        /* a coding other than chunked was listed */
    bool bad;          /* a field was not a transfer-coding list */
};

/* Transfer-Encoding = #transfer-coding; transfer-coding = token *( OWS ";"
 * OWS token BWS "=" BWS ( token / quoted-string ) ) (RFC 9112 6.1, RFC 9110
 * 5.6). Empty list elements are allowed and ignored. Adds this field's
 * codings to *te, or sets te->bad. */
static void transfer_codings(const char *v, size_t len, struct te_state *te)
{
    const char *p = v, *end = v + len;
#define SKIP_OWS()                                                                                 \
    while (p < end && (CLS(*p) & C_OWS))                                                           \
        p++
#define TOKEN()                                                                                    \
    do {                                                                                           \
        const char *t_ = p;                                                                        \
        while (p < end && (CLS(*p) & C_TCHAR))                                                     \
            p++;                                                                                   \
        if (p == t_)                                                                               \
            goto bad;                                                                              \
    } while (0)
    for (;;) {
        SKIP_OWS();
        if (p == end)
            return;
        if (*p == ',') {
            p++;
            continue;
        }
        const char *name = p;
        TOKEN();
        const bool chunked = http_token_eq(name, (size_t)(p - name), "chunked");
        te->chunked += chunked;
        te->last_chunked = chunked;
        te->other |= !chunked;
        for (;;) { /* parameters */
            SKIP_OWS();
            if (p == end || *p == ',')
                break;
            if (*p != ';')
                goto bad;
            p++;
            SKIP_OWS();
            TOKEN();
            SKIP_OWS();
            if (p == end || *p != '=')
                goto bad;
            p++;
            SKIP_OWS();
            if (p < end && *p == '"') {
                for (p++; p < end && *p != '"'; p++)
                    if (*p == '\\' && ++p == end)
                        goto bad;
                if (p == end)
                    goto bad;
                p++;
            } else {
                TOKEN();
            }
        }
    }
bad:
    te->bad = true;
#undef SKIP_OWS
#undef TOKEN
}

/* Content-Length = 1*DIGIT; false when empty, not digits or beyond 2^63. */
static bool parse_content_length(const char *v, size_t len, uint64_t *out)
{
    if (len == 0)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        const unsigned d = (unsigned)(unsigned char)v[i] - '0';
        if (d > 9 || x > (UINT64_MAX / 2 - 9) / 10)
            return false;
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

int http_request_interpret(const struct http_request_head *req, struct http_request_info *info)
{
    memset(info, 0, sizeof *info);
    bool conn_close = false, conn_keep_alive = false, have_te = false, have_cl = false;
    bool range_dup = false;
    uint64_t content_length = 0;
    struct te_state te = {0};

    for (size_t i = 0; i < req->num_headers; i++) {
        const struct http_header *h = &req->headers[i];
        const char *n = h->name, *v = h->value;
        const size_t nl = h->name_len, vl = h->value_len;
        switch (nl) {
        case 4:
            if (http_token_eq(n, nl, "host")) {
                if (info->host || !http_host_valid(v, vl))
                    return 400; /* RFC 9112 3.2: more than one Host, or an invalid one */
                info->host = v, info->host_len = vl;
            }
            break;
        case 5:
            if (http_token_eq(n, nl, "range")) {
                if (info->range)
                    range_dup = true;
                info->range = v, info->range_len = vl;
            }
            break;
        case 8:
            if (http_token_eq(n, nl, "if-range")) {
                if (info->if_range)
                    range_dup = true;
                info->if_range = v, info->if_range_len = vl;
            }
            break;
        case 10:
            if (http_token_eq(n, nl, "connection"))
                connection_options(v, vl, &conn_close, &conn_keep_alive);
            else if (!info->user_agent && http_token_eq(n, nl, "user-agent"))
                info->user_agent = v, info->user_agent_len = vl;
            break;
        case 13:
            if (!info->if_none_match && http_token_eq(n, nl, "if-none-match"))
                info->if_none_match = v, info->if_none_match_len = vl;
            break;
        case 14:
            if (http_token_eq(n, nl, "content-length")) {
                /* One field, one number: a repeated value ("5, 5" or two
                 * fields) may be rejected (RFC 9110 8.6), and is, so that no
                 * two readers can disagree on which one counts. */
                if (have_cl || !parse_content_length(v, vl, &content_length))
                    return 400;
                have_cl = true;
            }
            break;
        case 17:
            if (!info->if_modified_since && http_token_eq(n, nl, "if-modified-since"))
                info->if_modified_since = v, info->if_modified_since_len = vl;
            else if (http_token_eq(n, nl, "transfer-encoding")) {
                have_te = true;
                transfer_codings(v, vl, &te);
            }
            break;
        default:
            break;
        }
    }
    if (req->minor_version >= 1 && !info->host)
        return 400;
    if (have_te) {
        /* Each of these leaves the body's length unknown (RFC 9112 6.1, 6.3):
         * both framings (a request smuggling vector), TE in HTTP/1.0, a
         * list that does not end in exactly one chunked. */
        if (have_cl || req->minor_version == 0 || te.bad || te.chunked != 1 || !te.last_chunked)
            return 400;
        if (te.other)
            return 501; /* e.g. "gzip, chunked": a coding we do not implement */
    }
    if (range_dup) {
        /* Repeated Range or If-Range: cannot be evaluated, so the range
         * request is ignored and the whole representation is sent. */
        info->range = NULL, info->range_len = 0;
    }
    info->has_body = have_te || content_length > 0;
    if (req->minor_version >= 1)
        info->keep_alive = !conn_close;
    else
        info->keep_alive = conn_keep_alive && !conn_close; /* HTTP/1.0: close unless asked */
    return 0;
}
