/* grace: what the hosted repo served before its current summary, so that
 * prune keeps it for prune_grace after the summary naming it was replaced
 * (a device that fetched that summary a moment before may still be
 * pulling what it names: the commits, their objects, the static deltas to
 * them and their delta indexes).
 *
 * The record is <repo>/.dcn-prune-grace.json, beside the files it
 * protects: it travels with the repository (copied, moved, shared by
 * definitions publishing other refs into it), is written under the same
 * release lock, and dcn-hoster never serves a dot-file, nor does package
 * put one into an image:
 *   {"replaced":[{"replaced_at":1764201234,"commits":["<checksum>",...]},...]}
 * replaced_at: seconds since the epoch when that summary stopped being
 * served; commits: what its refs named. Written atomically (temp file,
 * fsync, rename). */
#ifndef DCN_BUILDER_GRACE_H
#define DCN_BUILDER_GRACE_H

#include <glib.h>

#define DCN_GRACE_RECORD ".dcn-prune-grace.json"

typedef struct {
    gint64 replaced_at; /* seconds since the epoch */
    GPtrArray *commits; /* char *, the checksums its refs named */
} DcnReplaced;

void dcn_replaced_free(DcnReplaced *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnReplaced, dcn_replaced_free)

/* Reads the record of repo_path into *out (DcnReplaced *, oldest first;
 * empty when there is no record). A record that is not what this module
 * writes is an error naming the file: prune must not guess what to keep. */
gboolean dcn_grace_load(const char *repo_path, GPtrArray **out, GError **error);

/* Writes entries (empty: removes the record). */
gboolean dcn_grace_save(const char *repo_path, GPtrArray *entries, GError **error);

/* Adds that a summary naming commits stopped being served at `when` (an
 * entry with the same commits is moved to the later time instead). */
void dcn_grace_add(GPtrArray *entries, GPtrArray *commits, gint64 when);

/* The commits the refs of a summary file name (main refs and the
 * collection map), as new strings; FALSE with error for bytes that are not
 * a summary. */
gboolean dcn_summary_commits(GBytes *summary, GPtrArray **out, GError **error);

#endif
