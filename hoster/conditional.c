/* conditional: ETag generation and If-None-Match / If-Modified-Since /
 * If-Range evaluation (RFC 9110 8.8.3, 13.1.2, 13.1.3, 13.1.5). */
#include "conditional.h"

#include <string.h>

#include "http_date.h"

static char *put_hex(char *p, uint64_t v)
{
    static const char digits[16] = "0123456789abcdef";
    char tmp[16];
    int i = 0;
    do {
        tmp[i++] = digits[v & 15];
        v >>= 4;
    } while (v);
    while (i > 0)
        *p++ = tmp[--i];
    return p;
}

size_t etag_format(uint64_t size, int64_t mtime_sec, long mtime_nsec, char out[ETAG_MAX])
{
    /* At most 1 + 16 + 1 + 16 + 1 + 8 + 1 = 44 bytes and a NUL. */
    if (mtime_nsec < 0 || mtime_nsec > 999999999)
        mtime_nsec = 0;
    char *p = out;
    *p++ = '"';
    p = put_hex(p, size);
    *p++ = '-';
    p = put_hex(p, (uint64_t)mtime_sec);
    *p++ = '.';
    p = put_hex(p, (uint64_t)mtime_nsec);
    *p++ = '"';
    *p = '\0';
    return (size_t)(p - out);
}

static inline bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* etagc = %x21 / %x23-7E / obs-text */
static inline bool etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* Parses an entity-tag at *pp: [ "W/" ] DQUOTE *etagc DQUOTE. On success
 * *opaque and *opaque_len give the quoted part (quotes included), *weak says
 * whether W/ was present. */
static bool parse_etag(const char **pp, const char *end, const char **opaque, size_t *opaque_len,
                       bool *weak)
{
    const char *p = *pp;
    *weak = false;
    if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
        *weak = true;
        p += 2;
    }
    if (p == end || *p != '"')
        return false;
    const char *start = p++;
    while (p < end && etagc((unsigned char)*p))
        p++;
    if (p == end || *p != '"')
        return false;
    p++;
    *opaque = start;
    *opaque_len = (size_t)(p - start);
    *pp = p;
    return true;
}

/* Our own tag without a W/ prefix, for weak comparison. */
static void strip_weak(const char **etag, size_t *etag_len)
{
    if (*etag_len >= 2 && (*etag)[0] == 'W' && (*etag)[1] == '/') {
        *etag += 2;
        *etag_len -= 2;
    }
}

bool etag_list_matches(const char *field, size_t len, const char *etag, size_t etag_len)
{
    if (!field || !etag)
        return false;
    strip_weak(&etag, &etag_len);
    const char *p = field, *end = field + len;
    while (p < end && ows(*p))
        p++;
    while (end > p && ows(end[-1]))
        end--;
    if (end - p == 1 && *p == '*')
        return true; /* the representation exists: we have its tag */

    bool match = false, any = false;
    while (p < end) {
        if (*p == ',' || ows(*p)) { /* separators and empty list elements */
            p++;
            continue;
        }
        const char *opaque;
        size_t opaque_len;
        bool weak;
        if (!parse_etag(&p, end, &opaque, &opaque_len, &weak))
            return false; /* malformed list (including "*" among tags): no match */
        any = true;
        if (opaque_len == etag_len && memcmp(opaque, etag, etag_len) == 0)
            match = true;
        while (p < end && ows(*p))
            p++;
        if (p < end && *p != ',')
            return false;
    }
    return any && match;
}

bool cond_not_modified(const char *if_none_match, size_t inm_len,
                       const char *if_modified_since, size_t ims_len,
                       const char *etag, size_t etag_len, time_t mtime)
{
    if (if_none_match)
        return etag_list_matches(if_none_match, inm_len, etag, etag_len);
    if (if_modified_since) {
        time_t since;
        if (!http_date_parse(if_modified_since, ims_len, &since))
            return false; /* not a valid HTTP-date: ignored */
        return mtime <= since;
    }
    return false;
}

bool cond_if_range_matches(const char *if_range, size_t len,
                           const char *etag, size_t etag_len, time_t mtime)
{
    if (!if_range)
        return true;
    const char *p = if_range, *end = if_range + len;
    while (p < end && ows(*p))
        p++;
    while (end > p && ows(end[-1]))
        end--;
    if (p < end && (*p == '"' || (end - p >= 2 && p[0] == 'W' && p[1] == '/'))) {
        const char *opaque;
        size_t opaque_len;
        bool weak;
        if (!parse_etag(&p, end, &opaque, &opaque_len, &weak) || p != end || weak)
            return false;
        if (!etag || (etag_len >= 2 && etag[0] == 'W' && etag[1] == '/'))
            return false; /* strong comparison: a weak validator never matches */
        return opaque_len == etag_len && memcmp(opaque, etag, etag_len) == 0;
    }
    time_t t;
    return http_date_parse(p, (size_t)(end - p), &t) && t == mtime;
}
