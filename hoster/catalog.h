/* catalog: the versions a content root hosts, read from its ostree
 * repository: each ref under refs/heads with the chain of commits behind
 * it (version, subject, date, parent, size), and the static deltas between
 * them. Built off the request path by the fleet thread (fleet.h) and shared
 * read-only with the workers by reference. */
#ifndef DCN_CATALOG_H
#define DCN_CATALOG_H

#include "ostree_object.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct content_root;

#define CATALOG_MAX_HISTORY 64   /* commits followed back from each ref */
#define CATALOG_MAX_VERSIONS 1024
#define CATALOG_MAX_DELTAS 1024

struct catalog_version {
    char *ref;                     /* the ref whose history holds it */
    bool head;                     /* the ref points at it */
    uint8_t commit[OSTREE_CSUM_LEN];
    char hex[OSTREE_HEX_LEN + 1];
    char *version;                 /* commit metadata "version", "" if none */
    char *subject;
    uint64_t timestamp;            /* commit date, Unix seconds */
    bool has_parent;
    uint8_t parent[OSTREE_CSUM_LEN];
    time_t hosted_since;           /* when this process first saw it hosted */
    _Atomic int64_t size;          /* bytes its objects take in the repo; -1 until counted */
};

struct catalog_delta {
    bool has_from;                 /* false: a scratch delta */
    uint8_t from[OSTREE_CSUM_LEN];
    uint8_t to[OSTREE_CSUM_LEN];
    uint64_t bytes;                /* superblock and parts */
    unsigned parts;
};

struct catalog {
    atomic_uint refs;
    struct catalog_version *versions; /* by ref name, each ref's newest first */
    size_t num_versions;
    struct catalog_delta *deltas;     /* sorted by target, then source */
    size_t num_deltas;
    bool repo_readable;               /* refs/heads could be listed */
};

/* Reads the catalog of the repository at repo_path under root. Sizes and
 * hosted_since are carried over from prev (may be NULL) for commits it
 * has; other sizes are -1, hosted_since is now. Never NULL: an unreadable
 * repository gives an empty catalog. */
struct catalog *catalog_build(const struct content_root *root, const char *repo_path, const struct catalog *prev,
                              time_t now);
void catalog_ref(struct catalog *c);
void catalog_unref(struct catalog *c);

/* Whether a and b list the same refs, commits and deltas. */
bool catalog_same(const struct catalog *a, const struct catalog *b);

/* The bytes the objects of commit take in the repository (commit, dirtree,
 * dirmeta and file objects, each counted once), as `dcn-builder status`
 * counts them. Returns 0, or -1 when an object is missing or unreadable. */
int catalog_commit_size(const struct content_root *root, const char *repo_path, const uint8_t commit[OSTREE_CSUM_LEN],
                        uint64_t *out);

/* The version that holds commit (the first by ref name), or NULL. */
const struct catalog_version *catalog_find(const struct catalog *c, const uint8_t commit[OSTREE_CSUM_LEN]);

#endif
