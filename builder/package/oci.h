/* oci: the OCI image layout on disk (image-spec v1.0: oci-layout,
 * index.json, blobs/sha256/<hex>) and the JSON documents in it. Blobs are
 * content-addressed: written to a temp file, then renamed to their digest,
 * so a crash leaves only a stray temp file, never a wrong blob.
 * JSON is written with json-glib in insertion order and no whitespace, so
 * the same document always gives the same bytes (and digest). */
#ifndef DCN_BUILDER_OCI_H
#define DCN_BUILDER_OCI_H

#include <glib.h>
#include <json-glib/json-glib.h>

#define DCN_OCI_INDEX_TYPE "application/vnd.oci.image.index.v1+json"
#define DCN_OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define DCN_OCI_CONFIG_TYPE "application/vnd.oci.image.config.v1+json"
#define DCN_OCI_LAYER_GZIP_TYPE "application/vnd.oci.image.layer.v1.tar+gzip"
#define DCN_OCI_LAYER_ZSTD_TYPE "application/vnd.oci.image.layer.v1.tar+zstd"
#define DCN_OCI_REF_NAME "org.opencontainers.image.ref.name"

/* A blob reference: what manifests and indexes list. */
typedef struct {
    char *media_type;
    char *digest; /* "sha256:<64 hex>" */
    gint64 size;  /* bytes of the blob as stored (compressed for layers) */
} DcnOciDescriptor;

/* An OCI image layout directory. */
typedef struct {
    char *dir;       /* the layout directory (absolute) */
    char *blobs_dir; /* dir/blobs/sha256 */
} DcnOciLayout;

void dcn_oci_layout_free(DcnOciLayout *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnOciLayout, dcn_oci_layout_free)

/* Opens dir as a layout; with create, makes it (oci-layout, empty index)
 * when missing. A directory that exists but is not a layout is an error. */
DcnOciLayout *dcn_oci_layout_open(const char *dir, gboolean create, GError **error);

/* "sha256:<hex>" → dir/blobs/sha256/<hex>; NULL for a malformed digest. */
char *dcn_oci_blob_path(const DcnOciLayout *l, const char *digest);

/* TRUE when digest is "sha256:" + 64 lower-case hex digits. */
gboolean dcn_oci_digest_valid(const char *digest);

gboolean dcn_oci_has_blob(const DcnOciLayout *l, const char *digest);

/* Stores bytes as a blob; out_digest gets "sha256:...". */
gboolean dcn_oci_write_blob(const DcnOciLayout *l, const void *data, gsize len, char **out_digest, GError **error);

/* Moves the finished temp file tmp_path into place as digest (or removes it
 * when that blob is already there: same digest, same bytes). */
gboolean dcn_oci_commit_blob(const DcnOciLayout *l, const char *tmp_path, const char *digest, GError **error);

/* Reads a blob, checks its digest, and parses it as a JSON object. */
JsonObject *dcn_oci_read_json_blob(const DcnOciLayout *l, const char *digest, GError **error);

/* The layout's index.json (an empty index when there is none). */
JsonObject *dcn_oci_read_index(const DcnOciLayout *l, GError **error);
/* Writes index.json atomically; *changed says whether its bytes changed. */
gboolean dcn_oci_write_index(const DcnOciLayout *l, JsonObject *index, gboolean *changed, GError **error);

/* The compact JSON text of obj (deterministic: insertion order). */
char *dcn_oci_json_text(JsonObject *obj, gsize *len);

/* Builds {"mediaType","digest","size"} (plus annotations when not NULL; a
 * reference to it is taken). */
JsonObject *dcn_oci_descriptor_json(const char *media_type, const char *digest, gint64 size, JsonObject *annotations);
/* Reads a descriptor object; FALSE (with an error naming what) when a member
 * is missing or malformed. */
gboolean dcn_oci_descriptor_parse(JsonObject *obj, DcnOciDescriptor *out, GError **error);
void dcn_oci_descriptor_clear(DcnOciDescriptor *d);

/* The manifest descriptor in index whose ref.name annotation is tag, or NULL. */
JsonObject *dcn_oci_index_find(JsonObject *index, const char *tag);

/* Returns "sha256:<hex>" of the data. */
char *dcn_oci_sha256(const void *data, gsize len);

#endif
