/* layout_index: the layout's index.json after a package run: this version's
 * image listed under its tag, images of versions the repo no longer keeps
 * dropped, and blobs no listed image refers to deleted. See package.h. */
#include "package.h"
#include "json.h"
#include "repo.h"

#include <glib/gstdio.h>

/* JsonArray has no replace: the manifests array is rebuilt with
 * manifest_desc where the entry of its tag was (or at the end). */
static void put_manifest(JsonObject *index, JsonObject *manifest_desc)
{
    const char *tag = dcn_json_str(dcn_json_obj(manifest_desc, "annotations"), DCN_OCI_REF_NAME);
    JsonObject *old = dcn_oci_index_find(index, tag);
    JsonArray *entries = dcn_json_arr(index, "manifests");
    JsonArray *rebuilt = json_array_new();
    for (guint i = 0; entries && i < json_array_get_length(entries); i++) {
        JsonObject *e = dcn_json_arr_obj(entries, i);
        if (e && e == old)
            json_array_add_object_element(rebuilt, json_object_ref(manifest_desc));
        else
            json_array_add_element(rebuilt, json_node_copy(json_array_get_element(entries, i)));
    }
    if (!old)
        json_array_add_object_element(rebuilt, json_object_ref(manifest_desc));
    json_object_set_array_member(index, "manifests", rebuilt);
}

static gboolean commit_kept(GPtrArray *history, const char *commit)
{
    for (guint h = 0; h < history->len; h++)
        if (g_str_equal(((DcnVersion *)history->pdata[h])->commit, commit))
            return TRUE;
    return FALSE;
}

/* Adds the digests of the manifest desc names, its config and its layers to
 * referenced; FALSE when the manifest cannot be read. */
static gboolean add_referenced(const DcnOciLayout *layout, JsonObject *desc, GHashTable *referenced)
{
    const char *digest = dcn_json_str(desc, "digest");
    g_autoptr(GError) local = NULL;
    g_autoptr(JsonObject) manifest = digest ? dcn_oci_read_json_blob(layout, digest, &local) : NULL;
    if (!manifest)
        return FALSE;
    g_hash_table_add(referenced, g_strdup(digest));
    const char *cfg = dcn_json_str(dcn_json_obj(manifest, "config"), "digest");
    if (cfg)
        g_hash_table_add(referenced, g_strdup(cfg));
    JsonArray *layers = dcn_json_arr(manifest, "layers");
    for (guint l = 0; layers && l < json_array_get_length(layers); l++) {
        const char *ld = dcn_json_str(dcn_json_arr_obj(layers, l), "digest");
        if (ld)
            g_hash_table_add(referenced, g_strdup(ld));
    }
    return TRUE;
}

static gboolean delete_unreferenced_blobs(const DcnOciLayout *layout, GHashTable *referenced, guint *pruned_blobs,
                                          GError **error)
{
    g_autoptr(GDir) d = g_dir_open(layout->blobs_dir, 0, error);
    if (!d)
        return FALSE;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (name[0] == '.')
            continue; /* a temp file of a concurrent or crashed run */
        g_autofree char *digest = g_strconcat("sha256:", name, NULL);
        if (g_hash_table_contains(referenced, digest))
            continue;
        g_autofree char *path = g_build_filename(layout->blobs_dir, name, NULL);
        if (g_unlink(path) == 0)
            (*pruned_blobs)++;
    }
    return TRUE;
}

/* Index entries of ours whose commit is no longer kept are removed, then
 * blobs no remaining manifest refers to. */
static gboolean prune_layout(DcnPackageBuild *b, JsonObject *index, guint *pruned_images, guint *pruned_blobs,
                             GError **error)
{
    JsonArray *m = dcn_json_arr(index, "manifests");
    JsonArray *kept = json_array_new();
    g_autoptr(GHashTable) referenced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean can_gc = TRUE;
    for (guint i = 0; m && i < json_array_get_length(m); i++) {
        JsonObject *desc = dcn_json_arr_obj(m, i);
        const char *commit = dcn_json_str(dcn_json_obj(desc, "annotations"), DCN_PACKAGE_LBL_COMMIT);
        if (commit && !commit_kept(b->history, commit)) {
            (*pruned_images)++;
            continue;
        }
        json_array_add_element(kept, json_node_copy(json_array_get_element(m, i)));
        if (!add_referenced(b->layout, desc, referenced))
            can_gc = FALSE; /* something we cannot read: keep every blob */
    }
    json_object_set_array_member(index, "manifests", kept);
    return !can_gc || delete_unreferenced_blobs(b->layout, referenced, pruned_blobs, error);
}

gboolean dcn_package_update_index(DcnPackageBuild *b, JsonObject *index, JsonObject *manifest_desc,
                                  guint *pruned_images, guint *pruned_blobs, GError **error)
{
    put_manifest(index, manifest_desc);
    if (!prune_layout(b, index, pruned_images, pruned_blobs, error))
        return g_prefix_error(error, "pruning %s: ", b->layout->dir), FALSE;
    return TRUE;
}
