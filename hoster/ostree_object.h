/* ostree_object: what dcn-hoster reads of an ostree repository's objects
 * and static-delta names, without GLib: commit objects (version, subject,
 * date, parent, root tree), dirtree objects (the checksums they name), and
 * request paths that fetch a commit (an object or a delta superblock).
 * Pure functions over buffers, in the manner of http_parse: bounds-checked
 * GVariant reading of the serialised forms libostree writes. */
#ifndef DCN_OSTREE_OBJECT_H
#define DCN_OSTREE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSTREE_CSUM_LEN 32
#define OSTREE_HEX_LEN 64

/* A commit object, GVariant (a{sv}aya(say)sstayay). Strings point into
 * the buffer (not NUL-terminated). */
struct ostree_commit_info {
    const char *version;   /* metadata "version" (a string), NULL if absent */
    size_t version_len;
    const char *subject;
    size_t subject_len;
    uint64_t timestamp;    /* Unix seconds */
    bool has_parent;
    uint8_t parent[OSTREE_CSUM_LEN];
    uint8_t root_tree[OSTREE_CSUM_LEN];
    uint8_t root_meta[OSTREE_CSUM_LEN];
};

/* Returns 0, or -1 when buf is not a well-formed commit object. */
int ostree_commit_parse(const uint8_t *buf, size_t len, struct ostree_commit_info *out);

/* A dirtree object, GVariant (a(say)a(sayay)): calls file() for each file
 * checksum and dir() for each subdirectory's tree and meta checksums.
 * Returns 0, or -1 when malformed (after calling back what came before). */
int ostree_dirtree_parse(const uint8_t *buf, size_t len, void (*file)(void *arg, const uint8_t csum[OSTREE_CSUM_LEN]),
                         void (*dir)(void *arg, const uint8_t tree[OSTREE_CSUM_LEN], const uint8_t meta[OSTREE_CSUM_LEN]),
                         void *arg);

/* Hex text (64 lowercase hex digits) <-> binary. */
bool ostree_hex_to_csum(const char *hex, size_t len, uint8_t out[OSTREE_CSUM_LEN]);
void ostree_csum_to_hex(const uint8_t csum[OSTREE_CSUM_LEN], char out[OSTREE_HEX_LEN + 1]);

/* A static delta's directory below deltas/, "Ab/CDEF...-GHIJ..." (from,
 * to in ostree's modified base64: '_' for '/', no padding) or "Ab/CDEF..."
 * (a scratch delta: no from). Returns true with *has_from telling which. */
bool ostree_delta_name_parse(const char *name, size_t len, bool *has_from, uint8_t from[OSTREE_CSUM_LEN],
                             uint8_t to[OSTREE_CSUM_LEN]);

/* The commit a request path relative to the repository fetches, if it is
 * "objects/XX/<62 hex>.commit" or "deltas/<delta name>/superblock" (the
 * delta's target). Cheap to call on every path: rejects others by their
 * last bytes. */
bool ostree_fetched_commit(const char *path, size_t len, uint8_t commit[OSTREE_CSUM_LEN]);

#endif
