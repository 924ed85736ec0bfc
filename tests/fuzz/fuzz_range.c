/* Fuzz target: range_parse (and the If-None-Match / If-Range parsers on the
 * same bytes).
 * Input: byte 0 chooses the representation size (small sizes, powers of two
 * near 2^64, or 8 bytes taken from the input), byte 1 chooses max (0..17),
 * the rest is the field value.
 * Invariants: n is 0 unless RANGE_OK; RANGE_OK has 1 <= n <= max and every
 * range satisfies first <= last < size; nothing is written past out[max]
 * (out is an exact-size heap array); a size-0 representation is never OK;
 * a field with no comma gives at most one range; the result does not
 * depend on bytes after len. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conditional.h"
#include "range.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint64_t rsize;
    const uint8_t sel = data[0];
    const size_t max = data[1] % 18;
    data += 2;
    size -= 2;
    if (sel < 128) {
        rsize = sel; /* 0..127 */
    } else if (sel < 192) {
        rsize = (uint64_t)1 << (sel - 128); /* 1 .. 2^63 */
    } else if (sel < 200) {
        rsize = UINT64_MAX - (sel - 192);
    } else if (size >= 8) {
        memcpy(&rsize, data, 8);
        data += 8;
        size -= 8;
    } else {
        rsize = 1000;
    }

    char *v = malloc(size ? size : 1);
    memcpy(v, data, size);
    struct byte_range *out = malloc((max ? max : 1) * sizeof *out);
    size_t n = 12345;
    const enum range_result r = range_parse(v, size, rsize, out, max, &n);
    CHECK(r == RANGE_IGNORE || r == RANGE_OK || r == RANGE_UNSATISFIABLE);
    if (r == RANGE_OK) {
        CHECK(n >= 1 && n <= max);
        CHECK(rsize > 0);
        for (size_t i = 0; i < n; i++)
            CHECK(out[i].first <= out[i].last && out[i].last < rsize);
        if (!memchr(v, ',', size))
            CHECK(n == 1);
    } else {
        CHECK(n == 0);
    }
    /* a larger max never changes a result that fit */
    if (r != RANGE_IGNORE || max == 17) {
        struct byte_range big[17];
        size_t n2;
        const enum range_result r2 = range_parse(v, size, rsize, big, 17, &n2);
        CHECK(r2 == r && n2 == n);
        for (size_t i = 0; i < n; i++)
            CHECK(big[i].first == out[i].first && big[i].last == out[i].last);
    }

    static const char tag[] = "\"4d2-6553f100.75bcd15\"";
    const bool m = etag_list_matches(v, size, tag, sizeof tag - 1);
    if (m) {
        const bool star = memchr(v, '*', size) != NULL;
        CHECK(star || memmem(v, size, tag, sizeof tag - 1) != NULL);
    }
    if (cond_if_range_matches(v, size, tag, sizeof tag - 1, 1688576709) && size > 0 && memchr(v, '"', size))
        CHECK(memmem(v, size, tag, sizeof tag - 1) != NULL);
    free(out);
    free(v);
    return 0;
}
