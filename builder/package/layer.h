/* layer: reproducible tar layers. A layer is a list of entries; writing it
 * sorts them by path (byte order), adds missing parent directories, and
 * streams one pass: libarchive (pax, ustar when it fits) → SHA-256 of the
 * tar (the diff_id) → gzip (zlib) or zstd → SHA-256 of the compressed bytes
 * (the blob digest) → a temp file in the layout, committed as the blob.
 * Every entry has owner 0:0 with no user/group names, one fixed mtime, and
 * the mode the entry names, so the same entries and contents always give
 * the same digests. */
#ifndef DCN_BUILDER_LAYER_H
#define DCN_BUILDER_LAYER_H

#include <glib.h>

#include "oci.h"
#include "progress.h"

typedef enum {
    DCN_LAYER_GZIP,
    DCN_LAYER_ZSTD,
} DcnLayerCompression;

typedef enum {
    DCN_ENTRY_DIR,      /* a directory */
    DCN_ENTRY_FILE,     /* a regular file whose bytes come from src (or data) */
    DCN_ENTRY_SYMLINK,  /* a symbolic link to target */
    DCN_ENTRY_WHITEOUT, /* an empty ".wh.<name>" file: hides <name> of lower layers */
} DcnLayerEntryKind;

typedef struct {
    char *path;   /* in the image, relative: "srv/dcn/content/repo/config" (for a whiteout: the hidden path) */
    DcnLayerEntryKind kind;
    guint mode;   /* permission bits (0755, 0644, 01777) */
    char *src;    /* DCN_ENTRY_FILE: host file to read, or NULL when data is set */
    GBytes *data; /* DCN_ENTRY_FILE: contents when there is no src */
    char *target; /* DCN_ENTRY_SYMLINK */
} DcnLayerEntry;

void dcn_layer_entry_free(DcnLayerEntry *e);
/* A GPtrArray that owns its DcnLayerEntry elements. */
GPtrArray *dcn_layer_entries_new(void);
void dcn_layer_add_dir(GPtrArray *entries, const char *path, guint mode);
void dcn_layer_add_file(GPtrArray *entries, const char *path, const char *src, guint mode);
void dcn_layer_add_data(GPtrArray *entries, const char *path, const char *data, guint mode);
void dcn_layer_add_symlink(GPtrArray *entries, const char *path, const char *target);
void dcn_layer_add_whiteout(GPtrArray *entries, const char *hidden_path);

/* What writing a layer produced. */
typedef struct {
    char *digest;       /* sha256 of the compressed blob */
    char *diff_id;      /* sha256 of the uncompressed tar */
    gint64 size;        /* compressed bytes */
    gint64 tar_size;    /* uncompressed bytes */
    guint files;        /* entries written */
    const char *media_type;
} DcnLayerBlob;

void dcn_layer_blob_clear(DcnLayerBlob *b);

/* Writes the entries (sorted and completed in place) as a layer blob into
 * the layout. Two entries with one path: an error. Adds to progress (may
 * be NULL) each file entry and the bytes of files as they are read. */
gboolean dcn_layer_write(const DcnOciLayout *layout, GPtrArray *entries, DcnLayerCompression compression,
                         gint64 mtime, DcnProgress *progress, DcnLayerBlob *out, GError **error);

/* Reads a layer blob (gzip, zstd or plain tar) and fills paths (path →
 * GINT64 size, as a gint64 * allocated with g_new) with its regular files. */
gboolean dcn_layer_list(const char *blob_path, GHashTable *paths, GError **error);

#endif
