/* oci_archive: the package stage's optional oci-archive (image.archive): a
 * plain tar of an OCI layout holding just the new image, for tools that
 * take one file (podman load, skopeo copy oci-archive:). Entries are sorted
 * and carry the head commit's time, so the same image gives the same
 * bytes. Written to PATH.tmp and renamed: a reader never sees a partial
 * archive. See package.h. */
#include "package.h"
#include "error.h"
#include "json.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#define CHUNK (1 << 20)

static gint64 size_member(JsonObject *desc)
{
    gint64 size = 0;
    return dcn_json_int(desc, "size", &size) ? size : 0;
}

/* The blobs of the image, sorted by digest; *bytes: their sizes' sum. */
static GPtrArray *image_blobs(JsonObject *manifest_desc, JsonObject *manifest, gint64 *bytes)
{
    GPtrArray *blobs = g_ptr_array_new_with_free_func(g_free);
    JsonObject *config = dcn_json_obj(manifest, "config");
    g_ptr_array_add(blobs, g_strdup(dcn_json_str(manifest_desc, "digest")));
    g_ptr_array_add(blobs, g_strdup(dcn_json_str(config, "digest")));
    *bytes = size_member(manifest_desc) + size_member(config);
    JsonArray *layers = dcn_json_arr(manifest, "layers");
    for (guint i = 0; layers && i < json_array_get_length(layers); i++) {
        JsonObject *l = dcn_json_arr_obj(layers, i);
        g_ptr_array_add(blobs, g_strdup(dcn_json_str(l, "digest")));
        *bytes += size_member(l);
    }
    g_ptr_array_sort(blobs, (GCompareFunc)g_strcmp0);
    return blobs;
}

/* index.json of a layout listing just manifest_desc. */
static char *archive_index_text(JsonObject *manifest_desc, gsize *len)
{
    g_autoptr(JsonObject) index = json_object_new();
    json_object_set_int_member(index, "schemaVersion", 2);
    json_object_set_string_member(index, "mediaType", DCN_OCI_INDEX_TYPE);
    JsonArray *m = json_array_new();
    json_array_add_object_element(m, json_object_ref(manifest_desc));
    json_object_set_array_member(index, "manifests", m);
    return dcn_oci_json_text(index, len);
}

static gboolean write_header(struct archive *a, const char *name, mode_t type, guint perm, gint64 size, gint64 mtime)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    if (type == AE_IFREG)
        archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, mtime, 0);
    gboolean ok = archive_write_header(a, e) == ARCHIVE_OK;
    archive_entry_free(e);
    return ok;
}

static gboolean write_data_file(struct archive *a, const char *name, const char *data, gsize len, gint64 mtime)
{
    return write_header(a, name, AE_IFREG, 0644, (gint64)len, mtime) &&
           archive_write_data(a, data, len) == (la_ssize_t)len;
}

/* blobs/sha256/<hex> from the layout. FALSE with error unset: the archive
 * failed (or the blob is missing); with error set: the blob is unreadable. */
static gboolean write_blob(DcnPackageBuild *b, struct archive *a, const char *digest, gint64 mtime, GError **error)
{
    DcnProgress *progress = &b->ctx->progress;
    g_autofree char *src = dcn_oci_blob_path(b->layout, digest);
    struct stat st;
    if (!src || stat(src, &st) < 0)
        return FALSE;
    g_autofree char *name = g_strconcat("blobs/sha256/", digest + 7, NULL);
    if (!write_header(a, name, AE_IFREG, 0644, st.st_size, mtime))
        return FALSE;
    g_autoptr(GMappedFile) mf = g_mapped_file_new(src, FALSE, error);
    if (!mf)
        return FALSE;
    const char *p = g_mapped_file_get_contents(mf);
    gint64 size = st.st_size;
    for (gint64 off = 0; off < size; off += CHUNK) {
        size_t n = (size_t)MIN(size - off, CHUNK);
        if (archive_write_data(a, p + off, n) != (la_ssize_t)n)
            return FALSE;
        dcn_progress_add(progress, 0, n);
    }
    dcn_progress_add(progress, 1, 0);
    return TRUE;
}

/* The whole tar, sorted: blobs/, blobs/sha256/, blobs/sha256/..., index.json, oci-layout. */
static gboolean write_entries(DcnPackageBuild *b, struct archive *a, GPtrArray *blobs, JsonObject *manifest_desc,
                              GError **error)
{
    static const char layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    gint64 mtime = b->mtime;
    gsize index_len = 0;
    g_autofree char *index_text = archive_index_text(manifest_desc, &index_len);
    if (!write_header(a, "blobs", AE_IFDIR, 0755, 0, mtime) || !write_header(a, "blobs/sha256", AE_IFDIR, 0755, 0, mtime))
        return FALSE;
    for (guint i = 0; i < blobs->len; i++)
        if (!write_blob(b, a, blobs->pdata[i], mtime, error))
            return FALSE;
    return write_data_file(a, "index.json", index_text, index_len, mtime) &&
           write_data_file(a, "oci-layout", layout_text, sizeof layout_text - 1, mtime);
}

/* Writes the archive to tmp; on failure the error says what. */
static gboolean write_tmp(DcnPackageBuild *b, const char *tmp, GPtrArray *blobs, JsonObject *manifest_desc,
                          GError **error)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    GError *local = NULL;
    gboolean ok = archive_write_open_filename(a, tmp) == ARCHIVE_OK &&
                  write_entries(b, a, blobs, manifest_desc, &local) && archive_write_close(a) == ARCHIVE_OK;
    if (local)
        g_propagate_error(error, local);
    else if (!ok)
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "writing %s: %s", tmp,
                    archive_error_string(a) ? archive_error_string(a) : "a blob is missing from the layout");
    archive_write_free(a);
    return ok;
}

gboolean dcn_package_write_archive(DcnPackageBuild *b, const char *path, JsonObject *manifest_desc,
                                   JsonObject *manifest, GError **error)
{
    gint64 total = 0;
    g_autoptr(GPtrArray) blobs = image_blobs(manifest_desc, manifest, &total);
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "creating %s: %s", dir, g_strerror(err));
        return FALSE;
    }
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    DcnProgress *progress = &b->ctx->progress;
    dcn_progress_begin(progress, "archive", "blobs");
    dcn_progress_set_total(progress, blobs->len, (guint64)MAX(total, 0));
    gboolean ok = write_tmp(b, tmp, blobs, manifest_desc, error);
    if (ok && g_rename(tmp, path) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "renaming %s: %s", tmp, g_strerror(err));
        ok = FALSE;
    }
    if (!ok)
        g_unlink(tmp);
    if (ok)
        dcn_progress_end(progress);
    else
        dcn_progress_cancel(progress);
    return ok;
}
