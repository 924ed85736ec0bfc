/* repo: small helpers over libostree used by several stages: opening and
 * creating repositories, reading a ref's history as versions, staging refs. */
#ifndef DCN_BUILDER_REPO_H
#define DCN_BUILDER_REPO_H

#include <ostree.h>

#include "definition.h"
#include "progress.h"

/* One commit in a ref's history. */
typedef struct {
    char *commit;      /* checksum */
    char *parent;      /* parent checksum, or NULL */
    char *version;     /* "version" metadata, or NULL */
    char *subject;
    guint64 timestamp; /* commit time, seconds since the epoch */
    char *contents;    /* root dirtree checksum */
    char *meta;        /* root dirmeta checksum */
    char *rollback_of; /* "dcn.rollback-of": the commit this one re-released, or NULL */
    GVariant *variant; /* the commit object */
} DcnVersion;

void dcn_version_free(DcnVersion *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnVersion, dcn_version_free)

/* Opens the repository at path; with create, creates it (archive mode, and
 * its parent directories) when missing. */
gboolean dcn_repo_open(const char *path, gboolean create, OstreeRepo **out, GError **error);

/* Loads commit checksum from repo. */
gboolean dcn_repo_load_version(OstreeRepo *repo, const char *checksum, DcnVersion **out, GError **error);

/* The ref's history, newest first: at most max commits (0: all), stopping at
 * the first parent that is not in the repo (pruned). An absent ref gives an
 * empty array. */
gboolean dcn_repo_history(OstreeRepo *repo, const char *ref, guint max, GPtrArray **out, GError **error);

/* Same root tree (contents and metadata). */
gboolean dcn_version_same_tree(const DcnVersion *a, const DcnVersion *b);

/* Where compose leaves a version in the staging repo: dcn-staging/<ref>/<version>. */
char *dcn_repo_staging_ref(const DcnDefinition *def);

/* Writes an mtree for the given root checksums and returns its root as GFile
 * (what ostree_repo_write_commit() takes). Needs a transaction. */
gboolean dcn_repo_root_from_checksums(OstreeRepo *repo, const char *contents, const char *meta, GFile **out,
                                      GError **error);

/* Recursively removes path (no error when it does not exist). */
gboolean dcn_rm_rf(const char *path, GError **error);




/* Copies every object the commit's tree needs from src into dest (not the
 * commit object itself: callers write their own). Objects dest already has
 * are skipped; archive-to-archive on one filesystem hardlinks. Needs a
 * transaction on dest. A task "import" on progress: objects looked at of
 * the tree's total, bytes imported. */
gboolean dcn_repo_import_tree(OstreeRepo *dest, OstreeRepo *src, const char *commit, DcnProgress *progress,
                              GError **error);
#endif
