/* compose: the backends that turn a definition's source into an OS tree in
 * the staging repository (archive mode). The compose stage (compose.c) picks
 * the backend, then records the tree as a commit on the staging ref
 * dcn-staging/<ref>/<version> with the version metadata. A backend only has
 * to put the tree's objects into the staging repo and say which root it is. */
#ifndef DCN_BUILDER_COMPOSE_H
#define DCN_BUILDER_COMPOSE_H

#include <ostree.h>

#include "definition.h"
#include "progress.h"

/* What a backend produced. */
typedef struct {
    char *contents;       /* root dirtree checksum, written in the staging repo */
    char *meta;           /* root dirmeta checksum */
    GVariantDict *extra;  /* extra commit metadata from the backend (e.g. rpm-ostree.inputhash) */
    char *source_desc;    /* what was read, for messages: "directory ./rootfs" */
} DcnComposeOutput;

void dcn_compose_output_clear(DcnComposeOutput *out);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnComposeOutput, dcn_compose_output_clear)

typedef struct {
    const char *name; /* as in compose.backend */
    /* Writes the tree into staging. The caller has a transaction open on
     * staging and commits it after. */
    gboolean (*run)(const DcnDefinition *def, OstreeRepo *staging, DcnProgress *progress, DcnComposeOutput *out,
                    GError **error);
} DcnComposeBackend;

extern const DcnComposeBackend dcn_compose_tree;        /* compose/tree.c */
extern const DcnComposeBackend dcn_compose_edge_commit; /* compose/edge_commit.c */
extern const DcnComposeBackend dcn_compose_weldr;       /* compose/weldr.c */

/* compose/tar_limits.c: how far a tarball may expand before it is refused,
 * checked on each header before its entry is read: a tar bomb (many
 * entries, or data that compresses away) or an entry claiming a huge size
 * (a sparse file) ends in an error naming the entry. Expanded bytes count
 * as tar lays them out (512-byte header, data in 512-byte blocks). */
#define DCN_TAR_MAX_ENTRIES 1000000u   /* a RHEL edge commit has ~50 000 objects, a full root ~200 000 files */
#define DCN_TAR_MAX_EXPANSION 100u     /* expanded bytes per byte of tarball (real trees: gzip 3-5, xz 4-6) */
#define DCN_TAR_EXPANSION_FLOOR (64ull << 20) /* what any tarball may expand to */

typedef struct {
    guint64 tarball_size; /* bytes of the tarball as read */
    guint64 max_bytes;    /* expanded bytes allowed: max(floor, DCN_TAR_MAX_EXPANSION x tarball_size) */
    const char *space_dir; /* where the data is extracted, or NULL (read into ostree: compressed there) */
    guint64 free_bytes;   /* free in space_dir: the entries' data may take half (then it is imported) */
    guint64 entries, bytes, data_bytes; /* seen so far: entries, expanded bytes, declared data */
} DcnTarLimits;

gboolean dcn_tar_limits_init(DcnTarLimits *l, const char *tarball, const char *space_dir, GError **error);
/* Counts one entry of declared size; FALSE (an error naming member) past a limit. */
gboolean dcn_tar_limits_entry(DcnTarLimits *l, const char *member, gint64 size, GError **error);

/* compose/tar_limits.c: a tarball opened for reading (tar; plain, gz, zst
 * or xz), or NULL with libarchive's message as the error. */
typedef struct archive DcnArchive;
DcnArchive *dcn_tar_open(const char *path, GError **error);
void dcn_archive_free(DcnArchive *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnArchive, dcn_archive_free)

/* compose/archive.c: reads a tar (plain, gz, zst, xz) into mtree without
 * touching the filesystem: entries with '..', entries below a non-directory
 * (a symlink), hard links to unknown entries, symlink targets that are not
 * UTF-8, and tarballs past the limits above are errors naming the entry;
 * device nodes, fifos and sockets are skipped and counted. Modes, uid/gid,
 * symlink targets and xattrs are kept. */
gboolean dcn_archive_to_mtree(OstreeRepo *repo, const char *path, OstreeMutableTree *mtree, DcnProgress *progress,
                              guint *out_skipped, GError **error);

/* compose/ostree_layout.c: moves a plain root filesystem's /etc to /usr/etc,
 * where `ostree admin deploy` expects a deployment's default configuration
 * (*out_moved says whether there was one). Both /etc and /usr/etc, or /etc
 * that is not a directory, are errors. */
gboolean dcn_tree_move_etc(OstreeRepo *repo, OstreeMutableTree *root, gboolean *out_moved, GError **error);
/* Why `ostree admin deploy` would refuse the tree at root (an empty array
 * when it would not): no /usr/etc, no kernel, no ID in os-release. */
GPtrArray *dcn_tree_undeployable_reasons(GFile *root);

#endif
