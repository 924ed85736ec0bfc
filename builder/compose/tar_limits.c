/* tar_limits: how far a tarball may expand before compose refuses it, and
 * opening one (the formats and filters compose reads). See
 * compose.h. Each header is checked before anything of its entry is read
 * or written, so a refused tarball costs at most the limit. */
#include "compose.h"
#include "error.h"

#include <archive.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define TAR_BLOCK 512u

gboolean dcn_tar_limits_init(DcnTarLimits *l, const char *tarball, const char *space_dir, GError **error)
{
    struct stat st;
    if (stat(tarball, &st) < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", tarball, g_strerror(errno)),
               FALSE;
    *l = (DcnTarLimits){.tarball_size = (guint64)st.st_size};
    l->max_bytes = MAX(DCN_TAR_EXPANSION_FLOOR, MIN(l->tarball_size, G_MAXUINT64 / DCN_TAR_MAX_EXPANSION) *
                                                     DCN_TAR_MAX_EXPANSION);
    if (space_dir) {
        struct statvfs vfs;
        if (statvfs(space_dir, &vfs) < 0)
            return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", space_dir,
                               g_strerror(errno)),
                   FALSE;
        l->free_bytes = (guint64)vfs.f_bavail * vfs.f_frsize;
        l->space_dir = space_dir;
    }
    return TRUE;
}

gboolean dcn_tar_limits_entry(DcnTarLimits *l, const char *member, gint64 size, GError **error)
{
    if (size < 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': a negative size (%" G_GINT64_FORMAT ")",
                           member, size),
               FALSE;
    if (++l->entries > DCN_TAR_MAX_ENTRIES)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s': more than %u entries: refused as a tar bomb", member, DCN_TAR_MAX_ENTRIES),
               FALSE;
    /* as the tar itself lays it out: a header block, the data in whole blocks */
    guint64 blocks = (guint64)size / TAR_BLOCK + ((guint64)size % TAR_BLOCK != 0);
    guint64 add = TAR_BLOCK + blocks * TAR_BLOCK; /* < 2^63 + 2^10: no overflow */
    l->bytes = add > G_MAXUINT64 - l->bytes ? G_MAXUINT64 : l->bytes + add;
    l->data_bytes = (guint64)size > G_MAXUINT64 - l->data_bytes ? G_MAXUINT64 : l->data_bytes + (guint64)size;
    if (l->bytes > l->max_bytes)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s' (%" G_GINT64_FORMAT " bytes): the tarball would expand to more than %" G_GUINT64_FORMAT
                           " bytes (%u times its own %" G_GUINT64_FORMAT " bytes, at least %" G_GUINT64_FORMAT
                           "): refused as a tar bomb",
                           member, size, l->max_bytes, DCN_TAR_MAX_EXPANSION, l->tarball_size,
                           (guint64)DCN_TAR_EXPANSION_FLOOR),
               FALSE;
    if (l->space_dir && l->data_bytes > l->free_bytes / 2)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s' (%" G_GINT64_FORMAT " bytes): the tarball holds more than half the %" G_GUINT64_FORMAT
                           " bytes free in %s (it is extracted there, then imported)",
                           member, size, l->free_bytes, l->space_dir),
               FALSE;
    return TRUE;
}

void dcn_archive_free(DcnArchive *a) { archive_read_free(a); }

DcnArchive *dcn_tar_open(const char *path, GError **error)
{
    g_autoptr(DcnArchive) a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_none(a);
    if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s", archive_error_string(a)), NULL;
    return g_steal_pointer(&a);
}
