/* content_addressed: the parts of an ostree repository whose files are
 * named by their content and so never change once written: objects/,
 * deltas/ and delta-indexes/. The one rule for both sides of the small-file
 * cache: static_file caches (and marks immutable) only such paths, and
 * content_watch watches only these directories for the changes that
 * invalidate it. Pure. */
#ifndef DCN_CONTENT_ADDRESSED_H
#define DCN_CONTENT_ADDRESSED_H

#include <stdbool.h>
#include <stddef.h>

/* path (relative to the root, len bytes) lies below one of them in the
 * repository at repo_path (relative to the root, "" = the root is it). */
bool content_addressed_path(const char *repo_path, const char *path, size_t len);

/* For a name directly in the repository: how many levels of
 * subdirectories its files are below it (objects/XX/: 1,
 * deltas/XX/REST/: 2, delta-indexes/XX/: 1), or 0 when it is not one of
 * them. */
int content_addressed_dir_depth(const char *name);

#endif
