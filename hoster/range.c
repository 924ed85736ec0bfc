/* range: "Range: bytes=..." against a representation of `size` bytes
 * (RFC 9110 14.1.2, 14.2).
 *
 *   ranges-specifier = "bytes" "=" 1#range-spec   ("bytes" case-insensitive)
 *   range-spec       = first-pos "-" [ last-pos ] / "-" suffix-length
 *
 * The whole field is checked before anything is decided: one malformed
 * range-spec anywhere (or first-pos > last-pos) makes the field invalid and
 * it is ignored (200). Numbers are parsed without overflow; a value that
 * does not fit in 64 bits is read as "larger than any size":
 *   first-pos   -> that range is unsatisfiable;
 *   suffix      -> the whole representation (RFC: a suffix longer than the
 *                  representation selects all of it);
 *   last-pos    -> the field is ignored (a syntax error here).
 * List elements may be empty ("bytes=0-1,,2-3") and carry OWS around commas. */
#include "range.h"

#include <stdbool.h>

static inline bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* 1*DIGIT at *pp. Returns the number of digits (0: none); *overflow is set
 * when the value exceeds UINT64_MAX, *v is then meaningless. */
static size_t parse_u64(const char **pp, const char *end, uint64_t *v, bool *overflow)
{
    const char *p = *pp;
    uint64_t x = 0;
    bool of = false;
    while (p < end && *p >= '0' && *p <= '9') {
        const unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10)
            of = true;
        else
            x = x * 10 + d;
        p++;
    }
    const size_t digits = (size_t)(p - *pp);
    *pp = p;
    *v = x;
    *overflow = of;
    return digits;
}

enum range_result range_parse(const char *value, size_t len, uint64_t size,
                              struct byte_range *out, size_t max, size_t *n)
{
    *n = 0;
    if (!value)
        return RANGE_IGNORE;
    const char *p = value, *end = value + len;
    while (p < end && ows(*p))
        p++;
    static const char unit[] = "bytes=";
    if ((size_t)(end - p) < sizeof unit - 1)
        return RANGE_IGNORE;
    for (size_t i = 0; i < sizeof unit - 1; i++)
        if ((i < 5 ? (char)(p[i] | 0x20) : p[i]) != unit[i])
            return RANGE_IGNORE;
    p += sizeof unit - 1;

    size_t specs = 0, kept = 0;
    for (;;) {
        while (p < end && ows(*p))
            p++;
        if (p == end)
            break;
        if (*p == ',') { /* empty list element */
            p++;
            continue;
        }

        uint64_t first, last;
        bool satisfiable;
        if (*p == '-') {
            /* suffix-range */
            uint64_t suffix;
            bool of;
            p++;
            if (parse_u64(&p, end, &suffix, &of) == 0)
                return RANGE_IGNORE;
            satisfiable = size > 0 && (of || suffix > 0);
            last = size - 1;
            first = (of || suffix >= size) ? 0 : size - suffix;
        } else {
            /* int-range */
            bool first_of, last_of = false;
            if (parse_u64(&p, end, &first, &first_of) == 0 || p == end || *p != '-')
                return RANGE_IGNORE;
            p++;
            const bool has_last = parse_u64(&p, end, &last, &last_of) > 0;
            if (has_last && (last_of || first_of || first > last))
                return RANGE_IGNORE; /* invalid range-spec */
            satisfiable = !first_of && first < size;
            if (!has_last || last >= size)
                last = size - 1;
        }
        while (p < end && ows(*p))
            p++;
        if (p < end) {
            if (*p != ',')
                return RANGE_IGNORE;
            p++;
        }
        if (++specs > max)
            return RANGE_IGNORE; /* too many ranges: serve it whole */
        if (satisfiable)
            out[kept++] = (struct byte_range){first, last};
    }
    if (specs == 0)
        return RANGE_IGNORE;
    if (kept == 0)
        return RANGE_UNSATISFIABLE;
    *n = kept;
    return RANGE_OK;
}
