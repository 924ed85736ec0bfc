/* compose/tree: the `tree` backend. compose.source is a root filesystem as a
 * directory or as a tarball (tar, tar.gz, tar.zst, tar.xz); it is written
 * into the staging repo as it is (modes, ownership, symlinks and xattrs),
 * except that /etc moves to /usr/etc, as rpm-ostree does (ostree_layout.c). */
#include "compose.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <sys/stat.h>

typedef struct {
    DcnProgress *progress;
    guint skipped;
    char *first_skipped;
} DirFilter;

static OstreeRepoCommitFilterResult dir_filter(OstreeRepo *repo, const char *path, GFileInfo *info, gpointer data)
{
    DirFilter *f = data;
    switch (g_file_info_get_file_type(info)) {
    case G_FILE_TYPE_REGULAR:
        dcn_progress_add(f->progress, 1, (guint64)g_file_info_get_size(info));
        return OSTREE_REPO_COMMIT_FILTER_ALLOW;
    case G_FILE_TYPE_DIRECTORY:
    case G_FILE_TYPE_SYMBOLIC_LINK:
        return OSTREE_REPO_COMMIT_FILTER_ALLOW;
    default:
        if (f->skipped++ == 0)
            f->first_skipped = g_strdup(path);
        return OSTREE_REPO_COMMIT_FILTER_SKIP;
    }
}

/* Regular files under dir and their bytes: the totals of the read (one
 * walk over inodes the read is about to visit anyway). */
static void count_files(const char *dir, guint64 *files, guint64 *bytes)
{
    *files = *bytes = 0;
    char *paths[] = {(char *)dir, NULL};
    FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
    if (!fts)
        return;
    for (FTSENT *e; (e = fts_read(fts));)
        if (e->fts_info == FTS_F)
            (*files)++, *bytes += (guint64)e->fts_statp->st_size;
    fts_close(fts);
}

static gboolean tree_run(const DcnDefinition *def, OstreeRepo *staging, DcnProgress *progress,
                         DcnComposeOutput *out, GError **error)
{
    const char *src = def->compose_source;
    struct stat st;
    if (stat(src, &st) < 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND, "compose.source %s: %s", src,
                           g_strerror(errno)),
               FALSE;
    g_autoptr(OstreeMutableTree) mtree = ostree_mutable_tree_new();
    if (S_ISDIR(st.st_mode)) {
        guint64 files, bytes;
        count_files(src, &files, &bytes);
        dcn_progress_begin(progress, "read-tree", "files");
        dcn_progress_set_total(progress, files, bytes);
        DirFilter f = {.progress = progress};
        g_autoptr(OstreeRepoCommitModifier) modifier =
            ostree_repo_commit_modifier_new(OSTREE_REPO_COMMIT_MODIFIER_FLAGS_NONE, dir_filter, &f, NULL);
        gboolean ok = ostree_repo_write_dfd_to_mtree(staging, AT_FDCWD, src, mtree, modifier, NULL, error);
        if (f.skipped)
            dcn_progress_event(progress, "skipped", "dir=%s count=%u first=\"%s\" why=\"device nodes, fifos and "
                                                    "sockets cannot be stored in ostree\"",
                               src, f.skipped, f.first_skipped);
        g_free(f.first_skipped);
        if (!ok)
            return g_prefix_error(error, "Reading directory %s: ", src), FALSE;
        dcn_progress_end(progress);
        out->source_desc = g_strdup_printf("directory %s", src);
    } else if (S_ISREG(st.st_mode)) {
        guint skipped = 0;
        if (!dcn_archive_to_mtree(staging, src, mtree, progress, &skipped, error))
            return FALSE;
        out->source_desc = g_strdup_printf("tarball %s", src);
    } else {
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "compose.source %s is neither a directory nor a tarball", src),
               FALSE;
    }
    gboolean moved = FALSE;
    if (!dcn_tree_move_etc(staging, mtree, &moved, error))
        return FALSE;
    if (moved)
        dcn_progress_event(progress, "layout", "moved=/etc to=/usr/etc why=\"ostree deploys /usr/etc as /etc\"");
    g_autoptr(GFile) root = NULL;
    if (!ostree_repo_write_mtree(staging, mtree, &root, NULL, error))
        return FALSE;
    out->contents = g_strdup(ostree_repo_file_tree_get_contents_checksum(OSTREE_REPO_FILE(root)));
    out->meta = g_strdup(ostree_repo_file_tree_get_metadata_checksum(OSTREE_REPO_FILE(root)));
    return TRUE;
}

const DcnComposeBackend dcn_compose_tree = {"tree", tree_run};
