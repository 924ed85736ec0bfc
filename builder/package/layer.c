/* layer: reproducible tar layers. See layer.h. */
#include "layer.h"
#include "fdio.h"
#include "error.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

void dcn_layer_entry_free(DcnLayerEntry *e)
{
    if (!e)
        return;
    g_free(e->path);
    g_free(e->src);
    g_free(e->target);
    if (e->data)
        g_bytes_unref(e->data);
    g_free(e);
}

GPtrArray *dcn_layer_entries_new(void) { return g_ptr_array_new_with_free_func((GDestroyNotify)dcn_layer_entry_free); }

static DcnLayerEntry *add(GPtrArray *entries, const char *path, DcnLayerEntryKind kind, guint mode)
{
    DcnLayerEntry *e = g_new0(DcnLayerEntry, 1);
    e->path = g_strdup(path);
    e->kind = kind;
    e->mode = mode;
    g_ptr_array_add(entries, e);
    return e;
}

void dcn_layer_add_dir(GPtrArray *entries, const char *path, guint mode) { add(entries, path, DCN_ENTRY_DIR, mode); }

void dcn_layer_add_file(GPtrArray *entries, const char *path, const char *src, guint mode)
{
    add(entries, path, DCN_ENTRY_FILE, mode)->src = g_strdup(src);
}

void dcn_layer_add_data(GPtrArray *entries, const char *path, const char *data, guint mode)
{
    add(entries, path, DCN_ENTRY_FILE, mode)->data = g_bytes_new(data, strlen(data));
}

void dcn_layer_add_symlink(GPtrArray *entries, const char *path, const char *target)
{
    add(entries, path, DCN_ENTRY_SYMLINK, 0777)->target = g_strdup(target);
}

void dcn_layer_add_whiteout(GPtrArray *entries, const char *hidden_path)
{
    g_autofree char *dir = g_path_get_dirname(hidden_path);
    g_autofree char *base = g_path_get_basename(hidden_path);
    g_autofree char *wh = g_strcmp0(dir, ".") == 0 ? g_strconcat(".wh.", base, NULL)
                                                   : g_strconcat(dir, "/.wh.", base, NULL);
    add(entries, wh, DCN_ENTRY_WHITEOUT, 0644);
}

void dcn_layer_blob_clear(DcnLayerBlob *b)
{
    g_clear_pointer(&b->digest, g_free);
    g_clear_pointer(&b->diff_id, g_free);
}

/* ---- the output pipeline: tar bytes → diff_id, compressor → digest, file ---- */

typedef struct {
    DcnLayerCompression compression;
    GChecksum *tar_sum;  /* diff_id */
    GChecksum *blob_sum; /* digest */
    gint64 tar_size, blob_size;
    int fd;
    const char *tmp_path;
    z_stream z;
    gboolean z_init;
    ZSTD_CCtx *zc;
    guchar out[1 << 16];
    GError *error; /* first failure inside a callback */
} Sink;

static gboolean sink_emit(Sink *s, const guchar *buf, gsize len)
{
    g_checksum_update(s->blob_sum, buf, len);
    s->blob_size += (gint64)len;
    if (!dcn_write_all(s->fd, buf, len)) {
        int err = errno;
        if (!s->error)
            g_set_error(&s->error, G_IO_ERROR, g_io_error_from_errno(err), "writing %s: %s", s->tmp_path,
                        g_strerror(err));
        return FALSE;
    }
    return TRUE;
}

/* Compresses len bytes (finish: flush the stream end). */
static gboolean sink_compress(Sink *s, const void *buf, gsize len, gboolean finish)
{
    if (s->compression == DCN_LAYER_GZIP) {
        s->z.next_in = (Bytef *)buf;
        s->z.avail_in = (uInt)len;
        for (;;) {
            s->z.next_out = s->out;
            s->z.avail_out = sizeof s->out;
            int rc = deflate(&s->z, finish ? Z_FINISH : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR) {
                if (!s->error)
                    g_set_error(&s->error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "gzip: deflate failed");
                return FALSE;
            }
            if (!sink_emit(s, s->out, sizeof s->out - s->z.avail_out))
                return FALSE;
            if (finish ? rc == Z_STREAM_END : s->z.avail_in == 0 && s->z.avail_out != 0)
                return TRUE;
        }
    }
    ZSTD_inBuffer in = {buf, len, 0};
    for (;;) {
        ZSTD_outBuffer out = {s->out, sizeof s->out, 0};
        size_t left = ZSTD_compressStream2(s->zc, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) {
            if (!s->error)
                g_set_error(&s->error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "zstd: %s", ZSTD_getErrorName(left));
            return FALSE;
        }
        if (!sink_emit(s, s->out, out.pos))
            return FALSE;
        if (finish ? left == 0 : in.pos == in.size)
            return TRUE;
    }
}

static la_ssize_t sink_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
    Sink *s = data;
    g_checksum_update(s->tar_sum, buf, len);
    s->tar_size += (gint64)len;
    if (!sink_compress(s, buf, len, FALSE)) {
        archive_set_error(a, EIO, "%s", s->error ? s->error->message : "write failed");
        return -1;
    }
    return (la_ssize_t)len;
}

static char *checksum_digest(GChecksum *c) { return g_strconcat("sha256:", g_checksum_get_string(c), NULL); }

static int entry_cmp(gconstpointer a, gconstpointer b)
{
    const DcnLayerEntry *x = *(DcnLayerEntry *const *)a, *y = *(DcnLayerEntry *const *)b;
    return strcmp(x->path, y->path);
}

/* Adds a directory entry for every parent that has none, then sorts. */
static gboolean complete_entries(GPtrArray *entries, GError **error)
{
    g_autoptr(GHashTable) have = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < entries->len; i++) {
        DcnLayerEntry *e = entries->pdata[i];
        if (!*e->path || e->path[0] == '/' || strstr(e->path, "//") || g_str_has_suffix(e->path, "/")) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "layer entry '%s': not a relative path", e->path);
            return FALSE;
        }
        if (!g_hash_table_add(have, e->path)) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "layer entry '%s' given twice", e->path);
            return FALSE;
        }
    }
    guint n = entries->len;
    for (guint i = 0; i < n; i++) {
        g_autofree char *dir = g_strdup(((DcnLayerEntry *)entries->pdata[i])->path);
        char *slash;
        while ((slash = strrchr(dir, '/'))) {
            *slash = '\0';
            if (g_hash_table_contains(have, dir))
                break;
            DcnLayerEntry *d = add(entries, dir, DCN_ENTRY_DIR, 0755);
            g_hash_table_add(have, d->path);
        }
    }
    g_ptr_array_sort(entries, entry_cmp);
    return TRUE;
}

/* Opens a file entry's source: its descriptor, and its size in *size. */
static int open_source(const DcnLayerEntry *e, gint64 *size, GError **error)
{
    int fd = open(e->src, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int err = fd < 0 ? errno : S_ISREG(st.st_mode) ? errno : EINVAL;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "reading %s: %s", e->src,
                    err == EINVAL ? "not a regular file" : g_strerror(err));
        return -1;
    }
    *size = st.st_size;
    return fd;
}

static gboolean tar_failed(struct archive *a, Sink *s, const DcnLayerEntry *e, GError **error)
{
    g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "tar entry %s: %s", e->path,
                s->error ? s->error->message : archive_error_string(a));
    return FALSE;
}

/* Streams size bytes of fd into the entry (and closes fd). */
static gboolean copy_source(struct archive *a, Sink *s, const DcnLayerEntry *e, int fd, gint64 size,
                            DcnProgress *progress, GError **error)
{
    static __thread char buf[1 << 16];
    gint64 left = size;
    while (left > 0) {
        ssize_t n = read(fd, buf, (size_t)MIN(left, (gint64)sizeof buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            close(fd);
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "reading %s: %s", e->src,
                        n < 0 ? g_strerror(err) : "file shrank while it was being read");
            return FALSE;
        }
        if (archive_write_data(a, buf, (size_t)n) != n) {
            close(fd);
            return tar_failed(a, s, e, error);
        }
        left -= n;
        dcn_progress_add(progress, 0, (guint64)n);
    }
    close(fd);
    return TRUE;
}

static gboolean write_entry(struct archive *a, Sink *s, DcnLayerEntry *e, gint64 mtime, DcnProgress *progress,
                            GError **error)
{
    g_autoptr(GBytes) data = e->data ? g_bytes_ref(e->data) : NULL;
    int fd = -1;
    gint64 size = 0;
    if (e->kind == DCN_ENTRY_FILE && e->src) {
        if ((fd = open_source(e, &size, error)) < 0)
            return FALSE;
    } else if (data) {
        size = (gint64)g_bytes_get_size(data);
    }

    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, e->path); /* a whiteout's path already has its .wh. name */
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    archive_entry_set_mtime(ae, mtime, 0);
    switch (e->kind) {
    case DCN_ENTRY_DIR:
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
    case DCN_ENTRY_SYMLINK:
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e->target);
        break;
    case DCN_ENTRY_FILE:
    case DCN_ENTRY_WHITEOUT:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, size);
        break;
    }
    archive_entry_set_perm(ae, e->mode & 07777);
    int rc = archive_write_header(a, ae);
    archive_entry_free(ae);
    if (rc != ARCHIVE_OK) {
        if (fd >= 0)
            close(fd);
        return tar_failed(a, s, e, error);
    }
    if (data && size) {
        if (archive_write_data(a, g_bytes_get_data(data, NULL), (size_t)size) != (la_ssize_t)size)
            return tar_failed(a, s, e, error);
    } else if (fd >= 0 && !copy_source(a, s, e, fd, size, progress, error)) {
        return FALSE;
    }
    if (e->kind == DCN_ENTRY_FILE)
        dcn_progress_add(progress, 1, e->src ? 0 : (guint64)size);
    return TRUE;
}

static gboolean sink_start_compressor(Sink *s, GError **error)
{
    if (s->compression == DCN_LAYER_GZIP) {
        /* windowBits 15+16: a gzip wrapper with mtime 0 and no name: deterministic */
        if (deflateInit2(&s->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "gzip: cannot initialise zlib"),
                   FALSE;
        s->z_init = TRUE;
        return TRUE;
    }
    s->zc = ZSTD_createCCtx();
    if (!s->zc || ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, 3)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_checksumFlag, 1)))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "zstd: cannot create a compression context"),
               FALSE;
    return TRUE;
}

gboolean dcn_layer_write(const DcnOciLayout *layout, GPtrArray *entries, DcnLayerCompression compression,
                         gint64 mtime, DcnProgress *progress, DcnLayerBlob *out, GError **error)
{
    memset(out, 0, sizeof *out);
    if (!complete_entries(entries, error))
        return FALSE;

    g_autofree char *tmp = g_build_filename(layout->blobs_dir, ".tmp-layer-XXXXXX", NULL);
    Sink s = {.compression = compression, .fd = -1, .tmp_path = tmp};
    s.fd = g_mkstemp(tmp);
    if (s.fd < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "creating a temp file in %s: %s", layout->blobs_dir,
                    g_strerror(err));
        return FALSE;
    }
    s.tar_sum = g_checksum_new(G_CHECKSUM_SHA256);
    s.blob_sum = g_checksum_new(G_CHECKSUM_SHA256);
    gboolean ok = FALSE;
    struct archive *a = NULL;
    if (!sink_start_compressor(&s, error))
        goto out;

    a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_per_block(a, 10240);
    if (archive_write_open2(a, &s, NULL, sink_write_cb, NULL, NULL) != ARCHIVE_OK) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "tar: %s", archive_error_string(a));
        goto out;
    }
    for (guint i = 0; i < entries->len; i++)
        if (!write_entry(a, &s, entries->pdata[i], mtime, progress, error))
            goto out;
    if (archive_write_close(a) != ARCHIVE_OK) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "tar: %s",
                    s.error ? s.error->message : archive_error_string(a));
        goto out;
    }
    if (!sink_compress(&s, NULL, 0, TRUE)) {
        g_propagate_error(error, g_steal_pointer(&s.error));
        goto out;
    }
    if (fsync(s.fd) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "syncing %s: %s", tmp, g_strerror(err));
        goto out;
    }
    close(s.fd);
    s.fd = -1;
    out->digest = checksum_digest(s.blob_sum);
    out->diff_id = checksum_digest(s.tar_sum);
    out->size = s.blob_size;
    out->tar_size = s.tar_size;
    out->files = entries->len;
    out->media_type = compression == DCN_LAYER_GZIP ? DCN_OCI_LAYER_GZIP_TYPE : DCN_OCI_LAYER_ZSTD_TYPE;
    ok = dcn_oci_commit_blob(layout, tmp, out->digest, error);
    if (!ok)
        dcn_layer_blob_clear(out);
out:
    if (a)
        archive_write_free(a);
    if (s.z_init)
        deflateEnd(&s.z);
    if (s.zc)
        ZSTD_freeCCtx(s.zc);
    if (s.fd >= 0) {
        close(s.fd);
        g_unlink(tmp);
    } else if (!ok) {
        g_unlink(tmp);
    }
    g_checksum_free(s.tar_sum);
    g_checksum_free(s.blob_sum);
    g_clear_error(&s.error);
    return ok;
}

gboolean dcn_layer_list(const char *blob_path, GHashTable *paths, GError **error)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_tar(a);
    gboolean ok = FALSE;
    if (archive_read_open_filename(a, blob_path, 1 << 16) != ARCHIVE_OK) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "reading layer %s: %s", blob_path,
                    archive_error_string(a));
        goto out;
    }
    struct archive_entry *ae;
    int rc;
    while ((rc = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        if (archive_entry_filetype(ae) == AE_IFREG) {
            const char *name = archive_entry_pathname(ae);
            while (g_str_has_prefix(name, "./"))
                name += 2;
            gint64 *size = g_new(gint64, 1);
            *size = archive_entry_size(ae);
            g_hash_table_replace(paths, g_strdup(name), size);
        }
        if (archive_read_data_skip(a) != ARCHIVE_OK)
            break;
    }
    if (rc != ARCHIVE_EOF) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "reading layer %s: %s", blob_path,
                    archive_error_string(a));
        goto out;
    }
    ok = TRUE;
out:
    archive_read_free(a);
    return ok;
}
