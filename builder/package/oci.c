/* oci: OCI image layout on disk. See oci.h. */
#include "oci.h"
#include "fdio.h"
#include "error.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

void dcn_oci_layout_free(DcnOciLayout *l)
{
    if (!l)
        return;
    g_free(l->dir);
    g_free(l->blobs_dir);
    g_free(l);
}

static gboolean set_errno_error(GError **error, int err, const char *what, const char *path)
{
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s %s: %s", what, path, g_strerror(err));
    return FALSE;
}

DcnOciLayout *dcn_oci_layout_open(const char *dir, gboolean create, GError **error)
{
    g_autoptr(DcnOciLayout) l = g_new0(DcnOciLayout, 1);
    l->dir = g_canonicalize_filename(dir, NULL);
    l->blobs_dir = g_build_filename(l->dir, "blobs", "sha256", NULL);
    g_autofree char *marker = g_build_filename(l->dir, "oci-layout", NULL);
    if (!g_file_test(marker, G_FILE_TEST_IS_REGULAR)) {
        if (!create) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND, "%s is not an OCI image layout (no oci-layout file)",
                        l->dir);
            return NULL;
        }
        if (g_file_test(l->dir, G_FILE_TEST_IS_DIR)) {
            g_autoptr(GDir) d = g_dir_open(l->dir, 0, NULL);
            if (d && g_dir_read_name(d)) {
                g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_CONFLICT,
                            "%s exists, is not empty and is not an OCI image layout: refusing to write into it", l->dir);
                return NULL;
            }
        }
        if (g_mkdir_with_parents(l->blobs_dir, 0755) < 0)
            return set_errno_error(error, errno, "creating", l->blobs_dir), NULL;
        static const char text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        if (!g_file_set_contents(marker, text, sizeof text - 1, error))
            return NULL;
    } else if (g_mkdir_with_parents(l->blobs_dir, 0755) < 0) {
        return set_errno_error(error, errno, "creating", l->blobs_dir), NULL;
    }
    return g_steal_pointer(&l);
}

gboolean dcn_oci_digest_valid(const char *digest)
{
    if (!digest || !g_str_has_prefix(digest, "sha256:") || strlen(digest) != 7 + 64)
        return FALSE;
    for (const char *p = digest + 7; *p; p++)
        if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
            return FALSE;
    return TRUE;
}

char *dcn_oci_blob_path(const DcnOciLayout *l, const char *digest)
{
    if (!dcn_oci_digest_valid(digest))
        return NULL;
    return g_build_filename(l->blobs_dir, digest + 7, NULL);
}

gboolean dcn_oci_has_blob(const DcnOciLayout *l, const char *digest)
{
    g_autofree char *p = dcn_oci_blob_path(l, digest);
    return p && g_file_test(p, G_FILE_TEST_IS_REGULAR);
}

char *dcn_oci_sha256(const void *data, gsize len)
{
    g_autofree char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
    return g_strconcat("sha256:", hex, NULL);
}

gboolean dcn_oci_commit_blob(const DcnOciLayout *l, const char *tmp_path, const char *digest, GError **error)
{
    g_autofree char *dest = dcn_oci_blob_path(l, digest);
    if (!dest) {
        g_unlink(tmp_path);
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "malformed digest '%s'", digest);
        return FALSE;
    }
    if (g_file_test(dest, G_FILE_TEST_IS_REGULAR)) {
        g_unlink(tmp_path);
        return TRUE;
    }
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return set_errno_error(error, errno, "opening", tmp_path);
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    if (rc < 0)
        return set_errno_error(error, err, "syncing", tmp_path);
    if (g_chmod(tmp_path, 0644) < 0 || g_rename(tmp_path, dest) < 0) {
        err = errno;
        g_unlink(tmp_path);
        return set_errno_error(error, err, "storing blob", dest);
    }
    return TRUE;
}

gboolean dcn_oci_write_blob(const DcnOciLayout *l, const void *data, gsize len, char **out_digest, GError **error)
{
    g_autofree char *digest = dcn_oci_sha256(data, len);
    if (!dcn_oci_has_blob(l, digest)) {
        g_autofree char *tmp = g_build_filename(l->blobs_dir, ".tmp-XXXXXX", NULL);
        int fd = g_mkstemp(tmp);
        if (fd < 0)
            return set_errno_error(error, errno, "creating a temp file in", l->blobs_dir);
        if (!dcn_write_all(fd, data, len)) {
            int err = errno;
            close(fd);
            g_unlink(tmp);
            return set_errno_error(error, err, "writing", tmp);
        }
        close(fd);
        if (!dcn_oci_commit_blob(l, tmp, digest, error))
            return FALSE;
    }
    if (out_digest)
        *out_digest = g_steal_pointer(&digest);
    return TRUE;
}

JsonObject *dcn_oci_read_json_blob(const DcnOciLayout *l, const char *digest, GError **error)
{
    g_autofree char *path = dcn_oci_blob_path(l, digest);
    if (!path) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "malformed digest '%s'", digest ? digest : "");
        return NULL;
    }
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &text, &len, error)) {
        g_prefix_error(error, "blob %s: ", digest);
        return NULL;
    }
    g_autofree char *actual = dcn_oci_sha256(text, len);
    if (!g_str_equal(actual, digest)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "blob %s is corrupt: its content has digest %s",
                    path, actual);
        return NULL;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autofree char *what = g_strdup_printf("blob %s", digest);
    JsonObject *o = dcn_json_parse_object(parser, text, len, what, error);
    return o ? json_object_ref(o) : NULL;
}

static JsonObject *empty_index(void)
{
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "schemaVersion", 2);
    json_object_set_string_member(o, "mediaType", DCN_OCI_INDEX_TYPE);
    json_object_set_array_member(o, "manifests", json_array_new());
    return o;
}

JsonObject *dcn_oci_read_index(const DcnOciLayout *l, GError **error)
{
    g_autofree char *path = g_build_filename(l->dir, "index.json", NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return empty_index();
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_file(parser, path, error)) {
        g_prefix_error(error, "reading %s: ", path);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *index = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    if (!dcn_json_arr(index, "manifests")) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s: not an OCI index (no manifests array)", path);
        return NULL;
    }
    return json_object_ref(index);
}

char *dcn_oci_json_text(JsonObject *obj, gsize *len)
{
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, obj);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, node);
    json_generator_set_pretty(gen, FALSE);
    return json_generator_to_data(gen, len);
}

gboolean dcn_oci_write_index(const DcnOciLayout *l, JsonObject *index, gboolean *changed, GError **error)
{
    g_autofree char *path = g_build_filename(l->dir, "index.json", NULL);
    gsize len = 0;
    g_autofree char *text = dcn_oci_json_text(index, &len);
    g_autofree char *old = NULL;
    gsize old_len = 0;
    if (g_file_get_contents(path, &old, &old_len, NULL) && old_len == len && memcmp(old, text, len) == 0) {
        *changed = FALSE;
        return TRUE;
    }
    *changed = TRUE;
    if (!g_file_set_contents(path, text, (gssize)len, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    return TRUE;
}

JsonObject *dcn_oci_descriptor_json(const char *media_type, const char *digest, gint64 size, JsonObject *annotations)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "mediaType", media_type);
    json_object_set_string_member(o, "digest", digest);
    json_object_set_int_member(o, "size", size);
    if (annotations)
        json_object_set_object_member(o, "annotations", json_object_ref(annotations));
    return o;
}

gboolean dcn_oci_descriptor_parse(JsonObject *obj, DcnOciDescriptor *out, GError **error)
{
    memset(out, 0, sizeof *out);
    const char *media_type = dcn_json_str(obj, "mediaType"), *digest = dcn_json_str(obj, "digest");
    gint64 size = -1;
    if (!media_type || !dcn_oci_digest_valid(digest) || !dcn_json_int(obj, "size", &size) || size < 0) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                    "malformed descriptor (needs mediaType, a sha256 digest and a size)");
        return FALSE;
    }
    out->media_type = g_strdup(media_type);
    out->digest = g_strdup(digest);
    out->size = size;
    return TRUE;
}

void dcn_oci_descriptor_clear(DcnOciDescriptor *d)
{
    g_clear_pointer(&d->media_type, g_free);
    g_clear_pointer(&d->digest, g_free);
}

JsonObject *dcn_oci_index_find(JsonObject *index, const char *tag)
{
    JsonArray *m = dcn_json_arr(index, "manifests");
    for (guint i = 0; m && i < json_array_get_length(m); i++) {
        JsonObject *d = dcn_json_arr_obj(m, i);
        const char *name = dcn_json_str(dcn_json_obj(d, "annotations"), DCN_OCI_REF_NAME);
        if (name && g_strcmp0(name, tag) == 0)
            return d;
    }
    return NULL;
}
