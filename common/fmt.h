/* fmt: number formatting for hot paths, where printf's parsing costs more
 * than the work. */
#ifndef DCN_FMT_H
#define DCN_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Writes the decimal digits of v (no NUL) into out, which has room for 20;
 * returns how many. */
static inline size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

#endif
