/* lock.h: one run at a time over a directory (the repo for publish,
 * rollback and prune; an image layout for package).
 *
 * The lock is an exclusive flock(2) on a lock file inside the directory,
 * created when missing and never removed (removing it would let two runs
 * lock two different inodes). It lasts as long as the returned descriptor:
 * close it to release; a crash releases it too. Name the file with a
 * leading dot: dcn-hoster never serves dot-files. */
#ifndef DCN_BUILDER_LOCK_H
#define DCN_BUILDER_LOCK_H

#include "progress.h"

#include <glib.h>

/* Takes the lock at path, waiting as long as another holder runs (the wait
 * shows as a "waiting" event and a "wait-lock" progress task with
 * lock=PATH). Returns the descriptor, or -1 with error set. */
int dcn_lock_wait(const char *path, DcnProgress *progress, GError **error);

/* Takes the lock at path only if nobody holds it; when someone does, fails
 * with G_IO_ERROR_WOULD_BLOCK and "PATH: busy" (busy says who, e.g.
 * "another package run is writing this layout"). */
int dcn_lock_try(const char *path, const char *busy, GError **error);

#endif
