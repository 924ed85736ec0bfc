/* range: the Range request header (RFC 9110 section 14) resolved against a
 * representation's length. Pure function. */
#ifndef DCN_RANGE_H
#define DCN_RANGE_H

#include <stddef.h>
#include <stdint.h>

#define RANGE_MAX 16 /* more ranges than this: the header is ignored (200) */

struct byte_range {
    uint64_t first; /* inclusive offsets, first <= last < size */
    uint64_t last;
};

enum range_result {
    RANGE_IGNORE = 0,    /* send the whole representation (200): absent, unparsable,
                            not "bytes", or more than max ranges */
    RANGE_OK,            /* n >= 1 satisfiable ranges in out, in request order */
    RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * / size */
};

/* value/len: the field value, e.g. "bytes=0-99,-500". Unsatisfiable
 * ranges inside a list that has satisfiable ones are dropped. Any syntax
 * error (including last-pos < first-pos, or a last-pos too large for 64
 * bits) ignores the whole field; a first-pos at or beyond size is
 * unsatisfiable; a suffix longer than the representation selects all of it;
 * with size 0 every range is unsatisfiable. More than max range-specs:
 * RANGE_IGNORE. *n is 0 unless RANGE_OK. */
enum range_result range_parse(const char *value, size_t len, uint64_t size,
                              struct byte_range *out, size_t max, size_t *n);

#endif
