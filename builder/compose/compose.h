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

/* compose/archive.c: reads a tar (plain, gz, zst, xz) into mtree without
 * touching the filesystem: entries with '..', entries below a non-directory
 * (a symlink), and hard links to unknown entries are errors naming the
 * entry; device nodes, fifos and sockets are skipped and counted. Modes,
 * uid/gid, symlink targets and xattrs are kept. */
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
