/* refs: the refs an ostree repository under the content root holds, read
 * from refs/heads/ (the same files `ostree pull` fetches when there is no
 * summary). Cold path: operations endpoints and kickstarts. */
#ifndef DCN_REFS_H
#define DCN_REFS_H

#include <stddef.h>

struct content_root;

#define REFS_CHECKSUM_LEN 64

struct ref_entry {
    char *name;                           /* "rhel/9/x86_64/edge" */
    char checksum[REFS_CHECKSUM_LEN + 1]; /* "" when the file is not a checksum */
};

struct ref_list {
    struct ref_entry *refs; /* sorted by name */
    size_t n;
};

/* Lists <repo_path>/refs/heads/ beneath the root (at most 1024 refs, 16
 * levels deep). Returns 0, or -1 when the directory cannot be read. */
int refs_list(const struct content_root *root, const char *repo_path, struct ref_list *out);
void refs_free(struct ref_list *list);

/* Reads one ref's checksum into out; returns 0 or -1. */
int refs_read(const struct content_root *root, const char *repo_path, const char *ref,
              char out[REFS_CHECKSUM_LEN + 1]);

#endif
