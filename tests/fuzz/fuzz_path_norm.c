/* Fuzz target: path_normalise, checked against a simple reference model
 * (decode everything, split on '/', push and pop a segment stack) and
 * against invariants that must hold whatever the model says:
 *  - a PATH_OK result never starts with '/', never contains "//", never has a
 *    "." or ".." segment or any segment starting with '.', never contains a
 *    control byte, DEL, backslash or NUL, and fits in cap with its NUL;
 *  - normalising "/" + the (re-escaped) result gives the result again;
 *  - absolute form "http://host/x" gives what origin form "/x" gives.
 * Input: byte 0 chooses cap (0..199, or 4096), the rest is the target. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path_norm.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIG 4096

static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The model, for origin-form targets (t[0] == '/'). */
static enum path_result model(const char *t, size_t len, size_t cap, char *out, size_t *out_len, bool *slash)
{
    size_t pe = 0;
    while (pe < len && t[pe] != '?' && t[pe] != '#')
        pe++;
    unsigned char *dec = malloc(pe + 1);
    size_t d = 0;
    for (size_t i = 0; i < pe; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '%') {
            if (i + 2 >= pe) {
                free(dec);
                return PATH_BAD;
            }
            const int hi = hexv((unsigned char)t[i + 1]), lo = hexv((unsigned char)t[i + 2]);
            if (hi < 0 || lo < 0) {
                free(dec);
                return PATH_BAD;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == ' ') {
            free(dec);
            return PATH_BAD;
        }
        if (c < 0x20 || c == 0x7f || c == '\\') {
            free(dec);
            return PATH_BAD;
        }
        dec[d++] = c;
    }
    if (cap == 0) {
        free(dec);
        return PATH_TOO_LONG;
    }
    /* segments after the leading '/' */
    size_t starts[BIG], lens[BIG], depth = 0, cur = 0;
    bool dirish = true;
    size_t i = 1;
    for (;;) {
        size_t j = i;
        while (j < d && dec[j] != '/')
            j++;
        const size_t n = j - i;
        if (n == 0 || (n == 1 && dec[i] == '.')) {
            dirish = true;
        } else if (n == 2 && dec[i] == '.' && dec[i + 1] == '.') {
            if (depth == 0) {
                free(dec);
                return PATH_FORBIDDEN;
            }
            depth--;
            cur = 0;
            for (size_t k = 0; k < depth; k++)
                cur += (k > 0) + lens[k];
            dirish = true;
        } else {
            const size_t nl = cur + (cur > 0) + n;
            if (nl + 1 > cap) {
                free(dec);
                return PATH_TOO_LONG;
            }
            starts[depth] = i;
            lens[depth] = n;
            depth++;
            cur = nl;
            dirish = false;
        }
        if (j >= d)
            break;
        i = j + 1;
    }
    size_t o = 0;
    for (size_t k = 0; k < depth; k++) {
        if (dec[starts[k]] == '.') {
            free(dec);
            return PATH_HIDDEN;
        }
        if (k > 0)
            out[o++] = '/';
        memcpy(out + o, dec + starts[k], lens[k]);
        o += lens[k];
    }
    out[o] = '\0';
    *out_len = o;
    *slash = dirish;
    free(dec);
    return PATH_OK;
}

static void check_result(const char *out, size_t out_len, size_t cap)
{
    CHECK(out_len < cap);
    CHECK(strlen(out) == out_len);
    if (out_len == 0)
        return;
    CHECK(out[0] != '/' && out[out_len - 1] != '/');
    CHECK(memmem(out, out_len, "//", 2) == NULL);
    CHECK(out[0] != '.' && memmem(out, out_len, "/.", 2) == NULL); /* covers "." and ".." */
    for (size_t i = 0; i < out_len; i++) {
        const unsigned char c = (unsigned char)out[i];
        CHECK(c >= 0x20 && c != 0x7f && c != '\\');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > BIG)
        return 0;
    const size_t cap = data[0] < 200 ? data[0] : BIG;
    const size_t len = size - 1;
    char *t = malloc(len ? len : 1); /* exact size: over-reads are caught */
    memcpy(t, data + 1, len);

    char *out = malloc(cap ? cap : 1);
    size_t out_len;
    bool slash;
    const char *auth;
    size_t auth_len;
    const enum path_result r = path_normalise(t, len, out, cap, &out_len, &slash, &auth, &auth_len);
    CHECK(r >= PATH_OK && r <= PATH_TOO_LONG);
    if (r == PATH_OK) {
        check_result(out, out_len, cap);
    } else {
        CHECK(out_len == 0);
        CHECK(cap == 0 || out[0] == '\0');
    }

    if (len > 0 && t[0] == '/') {
        /* origin form: against the model */
        CHECK(auth == NULL && auth_len == 0);
        char *mout = malloc(BIG + 1);
        size_t mlen = 0;
        bool mslash = false;
        const enum path_result mr = model(t, len, cap, mout, &mlen, &mslash);
        if (mr != r)
            fprintf(stderr, "path_normalise %d, model %d\n", r, mr);
        CHECK(mr == r);
        if (r == PATH_OK)
            CHECK(mlen == out_len && memcmp(mout, out, out_len) == 0 && mslash == slash);
        free(mout);
    } else if (r != PATH_BAD) {
        /* absolute form: the authority is inside the target, and the path
         * part behaves as the origin form "/" + rest */
        CHECK(auth != NULL && auth_len > 0 && auth >= t && auth + auth_len <= t + len);
        const char *rest = auth + auth_len;
        const size_t rest_len = (size_t)(t + len - rest);
        char *o2 = malloc(rest_len + 2);
        size_t o2_len = 0;
        if (rest_len == 0 || rest[0] != '/')
            o2[o2_len++] = '/';
        memcpy(o2 + o2_len, rest, rest_len);
        o2_len += rest_len;
        char *out2 = malloc(cap ? cap : 1);
        size_t out2_len;
        bool slash2;
        const char *auth2;
        size_t auth2_len;
        const enum path_result r2 = path_normalise(o2, o2_len, out2, cap, &out2_len, &slash2, &auth2, &auth2_len);
        CHECK(r2 == r);
        if (r == PATH_OK)
            CHECK(out2_len == out_len && memcmp(out2, out, out_len) == 0 && slash2 == slash);
        free(o2);
        free(out2);
    }

    if (r == PATH_OK) {
        /* idempotence: "/" + out, with '%', '?', '#', ' ' re-escaped */
        char *again = malloc(1 + 3 * out_len);
        size_t a = 0;
        again[a++] = '/';
        for (size_t i = 0; i < out_len; i++) {
            const unsigned char c = (unsigned char)out[i];
            if (c == '%' || c == '?' || c == '#' || c == ' ') {
                again[a++] = '%';
                again[a++] = "0123456789ABCDEF"[c >> 4];
                again[a++] = "0123456789ABCDEF"[c & 15];
            } else {
                again[a++] = (char)c;
            }
        }
        char *out3 = malloc(cap);
        size_t out3_len;
        bool slash3;
        const char *auth3;
        size_t auth3_len;
        CHECK(path_normalise(again, a, out3, cap, &out3_len, &slash3, &auth3, &auth3_len) == PATH_OK);
        CHECK(out3_len == out_len && memcmp(out3, out, out_len) == 0);
        CHECK(slash3 == (out_len == 0));
        free(again);
        free(out3);
    }
    free(out);
    free(t);
    return 0;
}
