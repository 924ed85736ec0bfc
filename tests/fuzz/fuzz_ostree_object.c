/* Fuzz target: the commit and dirtree object readers, static-delta names
 * and request paths that fetch a commit.
 * Input: byte 0 picks the reader, the rest is the object or name (an
 * exact-size heap copy, so any read past it is caught).
 * Invariants: strings a commit yields lie inside the buffer; a parsed
 * delta name's checksums round-trip through hex; a path that fetches a
 * commit ends in ".commit" or "/superblock". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ostree_object.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void on_file(void *arg, const uint8_t csum[OSTREE_CSUM_LEN])
{
    (*(unsigned *)arg) += csum[0] | 1;
}

static void on_dir(void *arg, const uint8_t tree[OSTREE_CSUM_LEN], const uint8_t meta[OSTREE_CSUM_LEN])
{
    (*(unsigned *)arg) += tree[31] ^ meta[31];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0] % 4;
    data++;
    size--;
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (sel == 0) {
        struct ostree_commit_info ci;
        if (ostree_commit_parse(buf, size, &ci) == 0) {
            CHECK((const uint8_t *)ci.subject >= buf && (const uint8_t *)ci.subject + ci.subject_len <= buf + size);
            if (ci.version)
                CHECK((const uint8_t *)ci.version >= buf && (const uint8_t *)ci.version + ci.version_len <= buf + size);
        }
    } else if (sel == 1) {
        unsigned sum = 0;
        (void)ostree_dirtree_parse(buf, size, on_file, on_dir, &sum);
    } else if (sel == 2) {
        bool has_from;
        uint8_t from[32], to[32], back[32];
        char hex[OSTREE_HEX_LEN + 1];
        if (ostree_delta_name_parse((const char *)buf, size, &has_from, from, to)) {
            ostree_csum_to_hex(to, hex);
            CHECK(ostree_hex_to_csum(hex, OSTREE_HEX_LEN, back) && !memcmp(back, to, 32));
        }
    } else {
        uint8_t commit[32];
        if (ostree_fetched_commit((const char *)buf, size, commit))
            CHECK((size >= 7 && !memcmp(buf + size - 7, ".commit", 7)) ||
                  (size >= 11 && !memcmp(buf + size - 11, "/superblock", 11)));
    }
    free(buf);
    return 0;
}
