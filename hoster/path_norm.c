/* path_norm: request-target -> root-relative path.
 *
 * Two passes over the path part of the target: the first finds its end and
 * rejects what is malformed wherever it is (bad %-escape, NUL, control
 * bytes, backslash), so a 400 does not depend on what comes before it; the
 * second decodes each %XX once and resolves segments into the caller's
 * buffer. Both run on a byte-class table; a path without escapes is copied
 * a segment at a time. A decoded '/' (%2F) separates segments exactly like
 * a raw one: the decoded path is what gets opened, so it is what has to be
 * confined. */
#include "path_norm.h"

#include <string.h>

static inline int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Byte classes of the path part of a request-target. */
enum {
    PC_NAME = 1,  /* taken literally: VCHAR other than % / ? # \ , and obs-text */
    PC_PCT = 2,   /* '%': starts an escape */
    PC_SLASH = 4, /* '/' */
    PC_END = 8,   /* '?' or '#': the path ends */
    PC_RUN = 16,  /* PC_NAME or PC_SLASH: needs no attention in pass 1 */
};                /* 0: never valid raw (controls, SP, DEL, backslash) */

static const unsigned char path_class[256] = {
#define N (PC_NAME | PC_RUN)
    ['!'] = N, ['"'] = N, ['#'] = PC_END, ['$'] = N, ['%'] = PC_PCT, ['&' ... '.'] = N,
    ['/'] = PC_SLASH | PC_RUN, ['0' ... '>'] = N, ['?'] = PC_END, ['@' ... '['] = N,
    [']' ... '~'] = N, [0x80 ... 0xff] = N,
#undef N
};

#define PCLS(c) path_class[(unsigned char)(c)]

/* Decoded bytes that are refused: controls (NUL included), DEL, backslash. */
static inline bool bad_decoded_byte(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '\\';
}

/* The next decoded byte of the (already validated) path, or -1 at its end. */
static inline int next_byte(const char **qp, const char *pe)
{
    const char *q = *qp;
    if (q >= pe)
        return -1;
    if (*q != '%') {
        *qp = q + 1;
        return (unsigned char)*q;
    }
    *qp = q + 3;
    return hex_value((unsigned char)q[1]) << 4 | hex_value((unsigned char)q[2]);
}

/* host [":" port] characters: unreserved, sub-delims, ':', IP-literal
 * brackets and pct-encoded. Not '@': userinfo is refused (RFC 9110 4.2.4). */
static inline bool authority_byte(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("-._~!$&'()*+,;=:[]%", c) != NULL;
}

/* s starts with lit, letters compared case-insensitively (lit is lower case). */
static bool prefix_ieq(const char *s, size_t len, const char *lit)
{
    for (size_t i = 0; lit[i]; i++) {
        if (i >= len)
            return false;
        const char c = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] | 0x20) : s[i];
        if (c != lit[i])
            return false;
    }
    return true;
}

enum path_result path_normalise(const char *target, size_t len, char *out, size_t cap,
                                size_t *out_len, bool *trailing_slash,
                                const char **authority, size_t *authority_len)
{
    *authority = NULL;
    *authority_len = 0;
    *out_len = 0;
    *trailing_slash = false;
    if (cap > 0)
        out[0] = '\0';

    const char *p = target, *end = target + len;
    if (len == 0)
        return PATH_BAD;
    if (*p != '/') {
        /* absolute-form: "http" / "https" "://" authority path-abempty */
        size_t skip;
        if (prefix_ieq(p, len, "http://"))
            skip = 7;
        else if (prefix_ieq(p, len, "https://"))
            skip = 8;
        else
            return PATH_BAD; /* "*", authority-form, relative reference */
        p += skip;
        const char *a = p;
        while (p < end && *p != '/' && *p != '?' && *p != '#') {
            if (!authority_byte((unsigned char)*p))
                return PATH_BAD;
            p++;
        }
        if (p == a)
            return PATH_BAD; /* empty host */
        *authority = a;
        *authority_len = (size_t)(p - a);
    }

    /* Pass 1: syntax, up to the query or fragment (raw '?' / '#' only). */
    const char *pe = p;
    bool escapes = false; /* any %XX: else pass 2 can copy whole segments */
    for (;;) {
        while (end - pe >= 4 && (PCLS(pe[0]) & PCLS(pe[1]) & PCLS(pe[2]) & PCLS(pe[3]) & PC_RUN))
            pe += 4;
        while (pe < end && (PCLS(*pe) & PC_RUN))
            pe++;
        if (pe == end || (PCLS(*pe) & PC_END))
            break;
        escapes = true;
        if (*pe != '%')
            goto bad; /* control byte, SP, DEL or backslash */
        int hi, lo;
        if (end - pe < 3 || (hi = hex_value((unsigned char)pe[1])) < 0 ||
            (lo = hex_value((unsigned char)pe[2])) < 0 || bad_decoded_byte((unsigned char)(hi << 4 | lo)))
            goto bad;
        pe += 3;
    }

    /* Pass 2: decode and resolve. out[0..o) holds the kept segments joined
     * by '/'. "." and ".." are recognised before anything is written, so
     * only names that are kept need room in out. */
    if (cap == 0)
        goto too_long;
    size_t o = 0, depth = 0, hidden = 0; /* hidden: kept names starting with '.' */
    bool dirish = true; /* last segment was empty, "." or "..": path ends in '/' */
    const char *q = p;
    if (q < pe && *q == '/')
        q++;
    for (;;) {
        /* Classify the segment from its first decoded bytes. */
        const char *q0 = q;
        int b1 = next_byte(&q, pe), b2 = -1, b3 = -1;
        if (b1 == '.') {
            b2 = next_byte(&q, pe);
            if (b2 == '.')
                b3 = next_byte(&q, pe);
        }
        if (b1 < 0 || b1 == '/' || (b1 == '.' && (b2 < 0 || b2 == '/'))) {
            /* empty or "." */
            dirish = true;
            if (b1 < 0 || (b1 == '.' && b2 < 0))
                break;
            continue;
        }
        if (b1 == '.' && b2 == '.' && (b3 < 0 || b3 == '/')) {
            if (depth == 0)
                goto forbidden;
            depth--;
            while (o > 0 && out[o - 1] != '/')
                o--;
            hidden -= out[o] == '.'; /* out[o]: first byte of the popped name */
            if (o > 0)
                o--; /* the separator before the popped segment */
            dirish = true;
            if (b3 < 0)
                break;
            continue;
        }
        /* A name: copy it after a separator, plain runs without decoding. */
        q = q0;
        size_t w = o > 0 ? o + 1 : 0;
        const size_t seg = w;
        bool more = false; /* a '/' ended the name */
        if (!escapes) {
            const char *slash = memchr(q, '/', (size_t)(pe - q));
            const size_t n = (size_t)((slash ? slash : pe) - q);
            if (w + n >= cap)
                goto too_long;
            memcpy(out + w, q, n);
            w += n;
            q += n;
            if (slash) {
                q++;
                more = true;
            }
        }
        while (escapes) {
            const size_t room = w + 1 < cap ? cap - 1 - w : 0;
            const char *lim = (size_t)(pe - q) > room ? q + room : pe;
            while (q < lim && (PCLS(*q) & PC_NAME))
                out[w++] = *q++;
            if (q == pe)
                break;
            if (PCLS(*q) & PC_NAME)
                goto too_long; /* stopped by room, not by the name's end */
            const int c = next_byte(&q, pe);
            if (c == '/') {
                more = true;
                break;
            }
            if (w + 1 >= cap)
                goto too_long;
            out[w++] = (char)c;
        }
        if (seg > 0)
            out[o] = '/';
        o = w;
        depth++;
        hidden += out[seg] == '.';
        dirish = false;
        if (!more)
            break;
    }
    out[o] = '\0';

    /* Dot-files and dot-directories that survived resolution. */
    if (hidden > 0) {
        out[0] = '\0';
        return PATH_HIDDEN;
    }
    *out_len = o;
    *trailing_slash = dirish;
    return PATH_OK;

bad:
    *authority = NULL;
    *authority_len = 0;
    return PATH_BAD;
forbidden:
    if (cap > 0)
        out[0] = '\0';
    return PATH_FORBIDDEN;
too_long:
    if (cap > 0)
        out[0] = '\0';
    return PATH_TOO_LONG;
}
