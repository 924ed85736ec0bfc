/* path_norm: request-target -> root-relative path.
 *
 * Two passes over the path part of the target: the first rejects what is
 * malformed wherever it is (bad %-escape, NUL, control bytes, backslash), so
 * a 400 does not depend on what comes before it; the second decodes each
 * %XX once and resolves segments into the caller's buffer. A decoded '/'
 * (%2F) separates segments exactly like a raw one: the decoded path is what
 * gets opened, so it is what has to be confined. */
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

/* Bytes that are never acceptable in a path, raw or decoded: controls
 * (NUL included), DEL and backslash. */
static inline bool bad_path_byte(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == '\\';
}

/* host [":" port] characters: unreserved, sub-delims, ':', IP-literal
 * brackets and pct-encoded. Not '@': userinfo is refused (RFC 9110 4.2.4). */
static inline bool authority_byte(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("-._~!$&'()*+,;=:[]%", c) != NULL;
}

static bool prefix_ieq(const char *s, size_t len, const char *lit)
{
    size_t i = 0;
    for (; lit[i]; i++)
        if (i >= len || (s[i] | 0x20) != lit[i]) /* lit is lower-case letters and ":/" */
            return false;
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

    /* The path ends at the query or fragment (raw '?' / '#' only). */
    const char *pe = p;
    while (pe < end && *pe != '?' && *pe != '#')
        pe++;

    /* Pass 1: syntax. */
    for (const char *q = p; q < pe; q++) {
        unsigned char c = (unsigned char)*q;
        if (c == '%') {
            int hi, lo;
            if (pe - q < 3 || (hi = hex_value((unsigned char)q[1])) < 0 ||
                (lo = hex_value((unsigned char)q[2])) < 0)
                goto bad;
            c = (unsigned char)(hi << 4 | lo);
            q += 2;
        } else if (c == ' ') {
            goto bad; /* never valid raw in a request-target */
        }
        if (bad_path_byte(c))
            goto bad;
    }

    /* Pass 2: decode and resolve. out[0..o) holds the kept segments joined
     * by '/'. "." and ".." are recognised before anything is written, so
     * only names that are kept need room in out. */
    if (cap == 0)
        goto too_long;
    size_t o = 0, depth = 0;
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
            if (o > 0)
                o--; /* the separator before the popped segment */
            dirish = true;
            if (b3 < 0)
                break;
            continue;
        }
        /* A name: copy it after a separator. */
        q = q0;
        size_t w = o > 0 ? o + 1 : 0;
        const size_t seg = w;
        int c;
        while ((c = next_byte(&q, pe)) >= 0 && c != '/') {
            if (w + 1 >= cap)
                goto too_long;
            out[w++] = (char)c;
        }
        if (seg > 0)
            out[o] = '/';
        o = w;
        depth++;
        dirish = false;
        if (c < 0)
            break;
    }
    out[o] = '\0';

    /* Dot-files and dot-directories that survived resolution. */
    if (o > 0 && (out[0] == '.' || memmem(out, o, "/.", 2) != NULL)) {
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
