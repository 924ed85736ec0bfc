/* archive: a tarball read straight into an OstreeMutableTree (see
 * compose.h). Nothing is extracted to disk, so no entry can write outside
 * the staging repo; the checks below turn what tar would do dangerously
 * ('..', writing through a symlink) into errors naming the entry. */
#include "compose.h"
#include "error.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/stat.h>

/* ---- a GInputStream over the current entry's data ---- */

typedef struct {
    GInputStream parent;
    struct archive *a; /* borrowed */
} DcnArchiveStream;
typedef struct {
    GInputStreamClass parent_class;
} DcnArchiveStreamClass;

GType dcn_archive_stream_get_type(void);
G_DEFINE_TYPE(DcnArchiveStream, dcn_archive_stream, G_TYPE_INPUT_STREAM)

static gssize dcn_archive_stream_read(GInputStream *stream, void *buf, gsize count, GCancellable *cancellable,
                                      GError **error)
{
    DcnArchiveStream *self = (DcnArchiveStream *)stream;
    la_ssize_t n = archive_read_data(self->a, buf, count);
    if (n < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", archive_error_string(self->a));
        return -1;
    }
    return n;
}

static gboolean dcn_archive_stream_close(GInputStream *stream, GCancellable *cancellable, GError **error)
{
    return TRUE;
}

static void dcn_archive_stream_class_init(DcnArchiveStreamClass *klass)
{
    GInputStreamClass *c = G_INPUT_STREAM_CLASS(klass);
    c->read_fn = dcn_archive_stream_read;
    c->close_fn = dcn_archive_stream_close;
}

static void dcn_archive_stream_init(DcnArchiveStream *self) {}

/* ---- the importer ---- */

typedef struct {
    OstreeRepo *repo;
    struct archive *a;
    OstreeMutableTree *root;
    char *default_dirmeta; /* root:root 0755, for parents the archive does not list */
    DcnProgress *progress;
    guint64 files; /* regular files read */
    guint skipped;
    char *first_skipped;
} Importer;

/* Splits a member name into path components: leading '/' and './' dropped,
 * '.' and empty components ignored. FALSE when a component is '..'. */
static gboolean split_member(const char *name, GPtrArray *out)
{
    g_auto(GStrv) parts = g_strsplit(name, "/", -1);
    for (char **p = parts; *p; p++) {
        if (!**p || strcmp(*p, ".") == 0)
            continue;
        if (strcmp(*p, "..") == 0)
            return FALSE;
        g_ptr_array_add(out, g_strdup(*p));
    }
    return TRUE;
}

static gboolean write_dirmeta(OstreeRepo *repo, guint32 uid, guint32 gid, guint32 mode, GVariant *xattrs,
                              char **out, GError **error)
{
    g_autoptr(GFileInfo) info = g_file_info_new();
    g_file_info_set_file_type(info, G_FILE_TYPE_DIRECTORY);
    g_file_info_set_attribute_uint32(info, "unix::uid", uid);
    g_file_info_set_attribute_uint32(info, "unix::gid", gid);
    g_file_info_set_attribute_uint32(info, "unix::mode", (mode & 07777) | S_IFDIR);
    g_autoptr(GVariant) dirmeta = ostree_create_directory_metadata(info, xattrs);
    g_autofree guchar *csum = NULL;
    if (!ostree_repo_write_metadata(repo, OSTREE_OBJECT_TYPE_DIR_META, NULL, dirmeta, &csum, NULL, error))
        return FALSE;
    *out = ostree_checksum_from_bytes(csum);
    return TRUE;
}

typedef struct {
    const char *name;
    const void *value;
    size_t size;
} Xattr;

static int cmp_xattr(const void *a, const void *b) { return strcmp(((const Xattr *)a)->name, ((const Xattr *)b)->name); }

/* The entry's extended attributes as ostree's a(ayay), sorted by name; NULL if none. */
static GVariant *entry_xattrs(struct archive_entry *e)
{
    int n = archive_entry_xattr_reset(e);
    if (n <= 0)
        return NULL;
    g_autofree Xattr *x = g_new0(Xattr, n);
    int got = 0;
    while (got < n && archive_entry_xattr_next(e, &x[got].name, &x[got].value, &x[got].size) == ARCHIVE_OK)
        got++;
    qsort(x, (size_t)got, sizeof *x, cmp_xattr);
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a(ayay)"));
    for (int i = 0; i < got; i++)
        g_variant_builder_add(&b, "(@ay@ay)", g_variant_new_bytestring(x[i].name),
                              g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, x[i].value, x[i].size, 1));
    return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* Walks (creating with default metadata when create) to the directory
 * holding the last component. A component that exists as a non-directory
 * (file or symlink) is an error: writing through it is what the classic
 * tar-symlink attack does. Returns a borrowed tree. */
static gboolean walk_parent(Importer *im, GPtrArray *comps, gboolean create, const char *member,
                            OstreeMutableTree **out, GError **error)
{
    OstreeMutableTree *dir = im->root;
    for (guint i = 0; i + 1 < comps->len; i++) {
        const char *name = comps->pdata[i];
        if (g_hash_table_contains(ostree_mutable_tree_get_files(dir), name)) {
            g_autoptr(GString) prefix = g_string_new(NULL);
            for (guint j = 0; j <= i; j++)
                g_string_append_printf(prefix, "%s%s", j ? "/" : "", (const char *)comps->pdata[j]);
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "entry '%s' would be written through '%s', which is a symlink or file, not a "
                               "directory",
                               member, prefix->str),
                   FALSE;
        }
        OstreeMutableTree *sub = g_hash_table_lookup(ostree_mutable_tree_get_subdirs(dir), name);
        if (!sub) {
            if (!create)
                return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': no directory '%s'",
                                   member, name),
                       FALSE;
            g_autoptr(OstreeMutableTree) made = NULL;
            if (!ostree_mutable_tree_ensure_dir(dir, name, &made, error))
                return FALSE;
            ostree_mutable_tree_set_metadata_checksum(made, im->default_dirmeta);
            sub = made; /* dir keeps a reference */
        }
        dir = sub;
    }
    *out = dir;
    return TRUE;
}

/* A hard link: the same content as the earlier file it names. */
static gboolean import_hardlink(Importer *im, OstreeMutableTree *parent, const char *leaf, const char *member,
                                const char *hardlink, GError **error)
{
    g_autoptr(GPtrArray) tcomps = g_ptr_array_new_with_free_func(g_free);
    OstreeMutableTree *tparent;
    const char *tcsum = NULL;
    if (split_member(hardlink, tcomps) && tcomps->len > 0 &&
        walk_parent(im, tcomps, FALSE, member, &tparent, NULL))
        tcsum = g_hash_table_lookup(ostree_mutable_tree_get_files(tparent), tcomps->pdata[tcomps->len - 1]);
    if (!tcsum)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s': hard link to '%s', which is not an earlier file in the archive", member,
                           hardlink),
               FALSE;
    g_autofree char *copy = g_strdup(tcsum);
    return ostree_mutable_tree_replace_file(parent, leaf, copy, error);
}

/* A regular file (its data streamed from the archive) or a symlink. */
static gboolean import_file(Importer *im, struct archive_entry *e, OstreeMutableTree *parent, const char *leaf,
                            GVariant *xattrs, GError **error)
{
    const char *member = archive_entry_pathname(e);
    mode_t type = archive_entry_filetype(e);
    guint32 uid = (guint32)archive_entry_uid(e), gid = (guint32)archive_entry_gid(e);
    guint32 mode = (guint32)archive_entry_mode(e);
    g_autoptr(GFileInfo) info = g_file_info_new();
    g_autoptr(GInputStream) data = NULL;
    guint64 size = 0;
    g_file_info_set_attribute_uint32(info, "unix::uid", uid);
    g_file_info_set_attribute_uint32(info, "unix::gid", gid);
    g_file_info_set_attribute_uint32(info, "unix::mode", mode);
    if (type == AE_IFLNK) {
        const char *target = archive_entry_symlink(e);
        if (!target || !*target)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': empty symlink target",
                               member),
                   FALSE;
        if (!g_utf8_validate(target, -1, NULL)) /* ostree keeps targets as GVariant strings: UTF-8 only */
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "entry '%s': the symlink target is not UTF-8 text", member),
                   FALSE;
        g_file_info_set_file_type(info, G_FILE_TYPE_SYMBOLIC_LINK);
        g_file_info_set_symlink_target(info, target);
        g_file_info_set_size(info, 0);
    } else {
        if (!archive_entry_size_is_set(e))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': no size", member),
                   FALSE;
        size = (guint64)archive_entry_size(e);
        g_file_info_set_file_type(info, G_FILE_TYPE_REGULAR);
        g_file_info_set_size(info, (goffset)size);
        DcnArchiveStream *s = g_object_new(dcn_archive_stream_get_type(), NULL);
        s->a = im->a;
        data = G_INPUT_STREAM(s);
    }
    g_autoptr(GInputStream) content = NULL;
    guint64 length = 0;
    g_autofree guchar *csum = NULL;
    if (!ostree_raw_file_to_content_stream(data, info, xattrs, &content, &length, NULL, error) ||
        !ostree_repo_write_content(im->repo, NULL, content, length, &csum, NULL, error))
        return g_prefix_error(error, "entry '%s': ", member), FALSE;
    g_autofree char *checksum = ostree_checksum_from_bytes(csum);
    if (!ostree_mutable_tree_replace_file(parent, leaf, checksum, error))
        return FALSE;
    /* bytes: of the archive file read so far (its size is the total) */
    dcn_progress_set(im->progress, ++im->files, (guint64)archive_filter_bytes(im->a, -1));
    return TRUE;
}

static gboolean import_entry(Importer *im, struct archive_entry *e, GError **error)
{
    const char *member = archive_entry_pathname(e);
    if (!member)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "an entry without a name"), FALSE;
    g_autoptr(GPtrArray) comps = g_ptr_array_new_with_free_func(g_free);
    if (!split_member(member, comps))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s': '..' in a member name is not allowed", member),
               FALSE;
    mode_t type = archive_entry_filetype(e);
    const char *hardlink = archive_entry_hardlink(e);
    guint32 uid = (guint32)archive_entry_uid(e), gid = (guint32)archive_entry_gid(e);
    guint32 mode = (guint32)archive_entry_mode(e);
    g_autoptr(GVariant) xattrs = entry_xattrs(e);

    if (!hardlink && type != AE_IFDIR && type != AE_IFREG && type != AE_IFLNK) {
        if (im->skipped++ == 0)
            im->first_skipped = g_strdup(member);
        return TRUE;
    }
    if (comps->len == 0) {
        if (type != AE_IFDIR)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "entry '%s': the root must be a directory", member),
                   FALSE;
        g_autofree char *csum = NULL;
        if (!write_dirmeta(im->repo, uid, gid, mode, xattrs, &csum, error))
            return FALSE;
        ostree_mutable_tree_set_metadata_checksum(im->root, csum);
        return TRUE;
    }
    OstreeMutableTree *parent;
    if (!walk_parent(im, comps, TRUE, member, &parent, error))
        return FALSE;
    const char *leaf = comps->pdata[comps->len - 1];
    gboolean is_subdir = g_hash_table_contains(ostree_mutable_tree_get_subdirs(parent), leaf);

    if (type == AE_IFDIR && !hardlink) {
        if (g_hash_table_contains(ostree_mutable_tree_get_files(parent), leaf))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "entry '%s': a directory would replace an earlier file or symlink", member),
                   FALSE;
        g_autoptr(OstreeMutableTree) dir = NULL;
        g_autofree char *csum = NULL;
        if (!ostree_mutable_tree_ensure_dir(parent, leaf, &dir, error) ||
            !write_dirmeta(im->repo, uid, gid, mode, xattrs, &csum, error))
            return FALSE;
        ostree_mutable_tree_set_metadata_checksum(dir, csum);
        return TRUE;
    }
    if (is_subdir)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s': a file would replace an earlier directory", member),
               FALSE;

    if (hardlink)
        return import_hardlink(im, parent, leaf, member, hardlink, error);
    return import_file(im, e, parent, leaf, xattrs, error);
}

gboolean dcn_archive_to_mtree(OstreeRepo *repo, const char *path, OstreeMutableTree *mtree, DcnProgress *progress,
                              guint *out_skipped, GError **error)
{
    g_autoptr(DcnArchive) a = dcn_tar_open(path, error);
    if (!a)
        return g_prefix_error(error, "Reading archive %s: ", path), FALSE;

    DcnTarLimits limits;
    if (!dcn_tar_limits_init(&limits, path, NULL, error))
        return g_prefix_error(error, "Reading archive %s: ", path), FALSE;
    Importer im = {.repo = repo, .a = a, .root = mtree, .progress = progress};
    struct stat st;
    dcn_progress_begin(progress, "read-archive", "files");
    dcn_progress_set_total(progress, 0, stat(path, &st) == 0 ? (guint64)st.st_size : 0);
    g_autofree char *first_skipped = NULL;
    if (!write_dirmeta(repo, 0, 0, 0755, NULL, &im.default_dirmeta, error))
        return FALSE;
    ostree_mutable_tree_set_metadata_checksum(mtree, im.default_dirmeta);
    guint entries = 0;
    gboolean ok = TRUE;
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_WARN)
            dcn_progress_event(progress, "warning", "archive=%s msg=\"%s\"", path, archive_error_string(a));
        else if (r != ARCHIVE_OK) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s", archive_error_string(a));
            ok = FALSE;
            break;
        }
        entries++;
        const char *member = archive_entry_pathname(e);
        if (!dcn_tar_limits_entry(&limits, member ? member : "", archive_entry_size(e), error) ||
            !import_entry(&im, e, error)) {
            ok = FALSE;
            break;
        }
    }
    first_skipped = im.first_skipped;
    g_free(im.default_dirmeta);
    if (ok && entries == 0) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "the archive has no entries");
        ok = FALSE;
    }
    if (!ok)
        return g_prefix_error(error, "Reading archive %s: ", path), FALSE;
    dcn_progress_end(progress);
    if (im.skipped)
        dcn_progress_event(progress, "skipped", "archive=%s count=%u first=\"%s\" why=\"device nodes, fifos and "
                                                "sockets cannot be stored in ostree\"",
                           path, im.skipped, first_skipped);
    *out_skipped = im.skipped;
    return TRUE;
}
