/* previous: the image a new version builds on (see package.h), and which of
 * its object layers the new image keeps as they are (same blobs: a registry
 * that has them takes them again for free). */
#include "package.h"
#include "error.h"
#include "json.h"
#include "repo.h"

#include <string.h>

void dcn_package_previous_free(DcnPackagePrevious *p)
{
    if (!p)
        return;
    g_free(p->tag);
    g_free(p->commit);
    if (p->manifest)
        json_object_unref(p->manifest);
    if (p->config)
        json_object_unref(p->config);
    g_free(p);
}

static DcnPackagePrevious *load_image(const DcnOciLayout *layout, JsonObject *desc, GError **error)
{
    g_autoptr(DcnPackagePrevious) p = g_new0(DcnPackagePrevious, 1);
    JsonObject *ann = dcn_json_obj(desc, "annotations");
    p->tag = g_strdup(dcn_json_str(ann, DCN_OCI_REF_NAME));
    p->commit = g_strdup(dcn_json_str(ann, DCN_PACKAGE_LBL_COMMIT));
    const char *digest = dcn_json_str(desc, "digest");
    if (!(p->manifest = dcn_oci_read_json_blob(layout, digest, error)))
        return g_prefix_error(error, "image %s: ", p->tag ? p->tag : "?"), NULL;
    JsonObject *cfg = dcn_json_obj(p->manifest, "config");
    if (!(p->config = dcn_oci_read_json_blob(layout, dcn_json_str(cfg, "digest"), error)))
        return g_prefix_error(error, "image %s: config: ", p->tag ? p->tag : "?"), NULL;
    return g_steal_pointer(&p);
}

DcnPackagePrevious *dcn_package_find_previous(const DcnOciLayout *layout, JsonObject *index, GPtrArray *history,
                                              const char *tag, GError **error)
{
    JsonArray *m = dcn_json_arr(index, "manifests");
    JsonObject *best = NULL;
    guint best_rank = G_MAXUINT;
    for (guint i = 0; m && i < json_array_get_length(m); i++) {
        JsonObject *desc = dcn_json_arr_obj(m, i);
        JsonObject *ann = dcn_json_obj(desc, "annotations");
        const char *commit = dcn_json_str(ann, DCN_PACKAGE_LBL_COMMIT), *t = dcn_json_str(ann, DCN_OCI_REF_NAME);
        if (!commit || !t || g_str_equal(t, tag))
            continue;
        guint rank = G_MAXUINT - 1 - i; /* not in the history: the last one wins */
        for (guint h = 1; h < history->len; h++)
            if (g_str_equal(((DcnVersion *)history->pdata[h])->commit, commit))
                rank = h;
        if (rank <= best_rank) {
            best_rank = rank;
            best = desc;
        }
    }
    if (!best)
        return NULL;
    DcnPackagePrevious *p = load_image(layout, best, error);
    if (!p)
        g_prefix_error(error, "reading the previous image in %s: ", layout->dir);
    return p;
}

gboolean dcn_package_previous_has_layer(const DcnPackagePrevious *prev, const char *digest)
{
    JsonArray *pl = prev ? dcn_json_arr(prev->manifest, "layers") : NULL;
    for (guint j = 0; pl && j < json_array_get_length(pl); j++)
        if (g_strcmp0(dcn_json_str(dcn_json_arr_obj(pl, j), "digest"), digest) == 0)
            return TRUE;
    return FALSE;
}

static gint64 size_member(JsonObject *desc)
{
    gint64 size = 0;
    return dcn_json_int(desc, "size", &size) ? size : 0;
}

static gboolean is_object_layer(JsonObject *desc)
{
    return g_strcmp0(dcn_json_str(dcn_json_obj(desc, "annotations"), DCN_PACKAGE_ANN_ROLE), "objects") == 0;
}

/* How much of a previous object layer the repo still holds. */
typedef struct {
    guint64 live, total; /* bytes */
    guint nlive;         /* objects */
    GPtrArray *rels;     /* the layer's repo files, repo-relative (pointing into its file list) */
} LayerLife;

/* files: the layer's image paths → sizes */
static void layer_life(DcnPackageBuild *b, GHashTable *files, const char *prefix, LayerLife *life)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, files);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (!g_str_has_prefix(k, prefix))
            continue;
        const char *rel = (char *)k + strlen(prefix);
        g_ptr_array_add(life->rels, (char *)rel);
        life->total += (guint64) * (gint64 *)v;
        if (g_hash_table_contains(b->objects, rel))
            life->live += (guint64) * (gint64 *)v, life->nlive++;
    }
}

/* Keeps a previous object layer: its live objects are covered, its pruned
 * ones get whiteouts, and it goes into the new manifest as it is. */
static void keep_layer(DcnPackageBuild *b, const LayerLife *life, const DcnOciDescriptor *d, const char *shipped,
                       const char *diff_id)
{
    for (guint i = 0; i < life->rels->len; i++) {
        const char *rel = life->rels->pdata[i];
        if (g_hash_table_contains(b->objects, rel))
            g_hash_table_add(b->covered, g_strdup(rel));
        else if (g_str_has_prefix(rel, "objects/"))
            g_ptr_array_add(b->dead, g_strconcat(b->repo_prefix, "/", rel, NULL));
    }
    DcnPackageLayer *l = g_new0(DcnPackageLayer, 1);
    l->role = g_strdup("objects");
    l->shipped = g_strdup(shipped);
    l->media_type = g_strdup(d->media_type);
    l->digest = g_strdup(d->digest);
    l->diff_id = g_strdup(diff_id);
    l->size = d->size;
    l->reused = TRUE;
    g_ptr_array_add(b->layers, l);
}

/* Reads previous layer i (an object layer) whole to list what it holds and
 * keeps it when enough of it is live. */
static gboolean judge_layer(DcnPackageBuild *b, JsonObject *desc, const char *diff_id, guint i, GError **error)
{
    const DcnPackagePrevious *prev = b->prev;
    DcnOciDescriptor d;
    if (!dcn_oci_descriptor_parse(desc, &d, error))
        return g_prefix_error(error, "previous image %s, layer %u: ", prev->tag, i), FALSE;
    g_autofree char *path = dcn_oci_blob_path(b->layout, d.digest);
    g_autoptr(GHashTable) files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!dcn_layer_list(path, files, error)) {
        dcn_oci_descriptor_clear(&d);
        return g_prefix_error(error, "previous image %s: ", prev->tag), FALSE;
    }
    dcn_progress_add(&b->ctx->progress, 1, (guint64)MAX(d.size, 0));
    g_autofree char *prefix = g_strconcat(b->repo_prefix, "/", NULL);
    g_autoptr(GPtrArray) rels = g_ptr_array_new();
    LayerLife life = {.rels = rels};
    layer_life(b, files, prefix, &life);
    const char *shipped = dcn_json_str(dcn_json_obj(desc, "annotations"), DCN_PACKAGE_ANN_SHIPPED);
    gboolean keep = life.nlive > 0 && life.live * 100 >= life.total * DCN_PACKAGE_REPACK_PERCENT;
    dcn_progress_event(&b->ctx->progress, keep ? "reuse-layer" : "drop-layer",
                       "digest=%s shipped=%s live_objects=%u live_bytes=%" G_GUINT64_FORMAT
                       " layer_bytes=%" G_GUINT64_FORMAT,
                       d.digest, shipped ? shipped : "?", life.nlive, life.live, life.total);
    if (keep) {
        keep_layer(b, &life, &d, shipped, diff_id);
        b->reused_objects += life.nlive;
    }
    dcn_oci_descriptor_clear(&d);
    return TRUE;
}

gboolean dcn_package_reuse_object_layers(DcnPackageBuild *b, GError **error)
{
    const DcnPackagePrevious *prev = b->prev;
    JsonArray *layers = dcn_json_arr(prev->manifest, "layers");
    JsonArray *diff_ids = dcn_json_arr(dcn_json_obj(prev->config, "rootfs"), "diff_ids");
    if (!layers || !diff_ids || json_array_get_length(layers) != json_array_get_length(diff_ids))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "previous image %s: layers and diff_ids do not match", prev->tag),
               FALSE;
    /* each object layer is read whole (decompressed) to list what it holds */
    guint64 nlayers = 0, layer_bytes = 0;
    for (guint i = 0; i < json_array_get_length(layers); i++) {
        JsonObject *desc = dcn_json_arr_obj(layers, i);
        if (is_object_layer(desc))
            nlayers++, layer_bytes += (guint64)MAX(size_member(desc), 0);
    }
    dcn_progress_begin(&b->ctx->progress, "read-layers", "layers");
    dcn_progress_detail(&b->ctx->progress, "image=%s", prev->tag);
    dcn_progress_set_total(&b->ctx->progress, nlayers, layer_bytes);
    for (guint i = 0; i < json_array_get_length(layers); i++) {
        JsonObject *desc = dcn_json_arr_obj(layers, i);
        if (is_object_layer(desc) && !judge_layer(b, desc, dcn_json_arr_str(diff_ids, i), i, error))
            return FALSE;
    }
    dcn_progress_end(&b->ctx->progress);
    return TRUE;
}
