/* package: the package stage. Writes the hosting image of the ref's head
 * version into an OCI image layout (image.layout, default
 * <state_dir>/oci), tagged with the version, and optionally an oci-archive.
 *
 * Layers, bottom to top (docs/image.md):
 *   runtime   dcn-hoster, the shared objects it loads, etc/passwd, etc/group
 *   objects   one layer per version that shipped new ostree objects: the
 *             previous image's object layers are reused as they are (same
 *             blobs, so a registry already has them), then one new layer
 *             with the objects no kept layer has
 *   iso       the version's installer ISO, when `iso` wrote one (iso.output)
 *   top       the mutable files: config, refs/, summary(.sig), deltas/,
 *             delta-indexes/, .commitmeta objects, the kickstart and its key,
 *             and whiteouts for objects of kept layers that the repo pruned
 * A previous object layer whose objects are mostly pruned (less than
 * DCN_PACKAGE_REPACK_PERCENT of its bytes still in the repo) is dropped and
 * its live objects ship again in the new layer; one with none is dropped.
 *
 * Reproducible: entries sorted, owners 0:0, fixed modes; the runtime layer
 * has mtime 0 (so it is identical across versions), the objects and top
 * layers the head commit's timestamp (so mutable files get a new
 * Last-Modified/ETag from dcn-hoster on every version), and the config's
 * "created" is that timestamp too.
 *
 * The run: lock the layout (one package run at a time), find the image to
 * build on, write the layers (1-4 below), the config and manifest (5), the
 * index with unkept images pruned (6), the archive, the result. The parts
 * the steps call live in the files package.h lists. */
#include "package.h"
#include "error.h"
#include "lock.h"
#include "repo.h"
#include "runtime.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void dcn_package_layer_free(DcnPackageLayer *l)
{
    g_free(l->role);
    g_free(l->shipped);
    g_free(l->media_type);
    g_free(l->digest);
    g_free(l->diff_id);
    g_free(l);
}

static void build_clear(DcnPackageBuild *b)
{
    g_clear_pointer(&b->repo_prefix, g_free);
    g_clear_pointer(&b->created, g_free);
    g_clear_pointer(&b->hoster, g_free);
    g_clear_pointer(&b->hoster_version, g_free);
    g_clear_pointer(&b->hoster_commit, g_free);
    g_clear_pointer(&b->prev, dcn_package_previous_free);
    g_clear_pointer(&b->layers, g_ptr_array_unref);
    g_clear_pointer(&b->objects, g_hash_table_unref);
    g_clear_pointer(&b->commitmeta, g_ptr_array_unref);
    g_clear_pointer(&b->covered, g_hash_table_unref);
    g_clear_pointer(&b->dead, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnPackageBuild, build_clear)

/* What the config, manifest and index steps produced. */
typedef struct {
    char *config_digest;
    char *manifest_digest;
    gsize manifest_len;
    JsonObject *manifest;
    JsonObject *manifest_desc; /* its entry in the index */
    gboolean index_changed;
} Image;

static void image_clear(Image *im)
{
    g_clear_pointer(&im->config_digest, g_free);
    g_clear_pointer(&im->manifest_digest, g_free);
    g_clear_pointer(&im->manifest, json_object_unref);
    g_clear_pointer(&im->manifest_desc, json_object_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Image, image_clear)

static char *iso_time(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* The history to package: the ref's kept versions, whose head must be the
 * version named (the image packs what the repo serves). */
static gboolean load_history(const DcnDefinition *def, GPtrArray **history, GError **error)
{
    g_autoptr(OstreeRepo) repo = NULL;
    if (!dcn_repo_open(def->repo, FALSE, &repo, error) || !dcn_repo_history(repo, def->ref, def->keep, history, error))
        return FALSE;
    if ((*history)->len == 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "%s: ref %s has no commit: publish first", def->repo, def->ref),
               FALSE;
    const DcnVersion *head = (*history)->pdata[0];
    if (g_strcmp0(head->version, def->version) != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_CONFLICT,
                           "version %s is not what %s serves (its head %.12s is version %s): the image packs the "
                           "head, so publish (or rollback to) %s first",
                           def->version, def->ref, head->commit, head->version ? head->version : "(none)",
                           def->version),
               FALSE;
    return TRUE;
}

static void remove_stale_temps(const DcnOciLayout *layout)
{
    g_autoptr(GDir) d = g_dir_open(layout->blobs_dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        if (g_str_has_prefix(name, ".tmp-")) {
            g_autofree char *p = g_build_filename(layout->blobs_dir, name, NULL);
            g_unlink(p);
        }
}

/* ---- the layers ---- */

/* bytes: what the files hold, for the progress total (0: unknown) */
static gboolean write_layer(DcnPackageBuild *b, const char *role, GPtrArray *entries, gint64 mtime, guint64 bytes,
                            GError **error)
{
    DcnLayerBlob blob;
    DcnProgress *progress = &b->ctx->progress;
    guint files = 0;
    for (guint i = 0; i < entries->len; i++)
        files += ((DcnLayerEntry *)entries->pdata[i])->kind == DCN_ENTRY_FILE;
    dcn_progress_begin(progress, "layer", "files");
    dcn_progress_detail(progress, "role=%s", role);
    dcn_progress_set_total(progress, files, bytes);
    if (!dcn_layer_write(b->layout, entries, b->compression, mtime, progress, &blob, error)) {
        dcn_progress_cancel(progress);
        return g_prefix_error(error, "writing the %s layer: ", role), FALSE;
    }
    dcn_progress_end(progress);
    DcnPackageLayer *l = g_new0(DcnPackageLayer, 1);
    l->role = g_strdup(role);
    l->shipped = g_strcmp0(role, "objects") == 0 ? g_strdup(b->def->version) : NULL;
    l->media_type = g_strdup(blob.media_type);
    l->digest = g_steal_pointer(&blob.digest);
    l->diff_id = g_steal_pointer(&blob.diff_id);
    l->size = blob.size;
    g_ptr_array_add(b->layers, l);
    dcn_progress_event(progress, "layer",
                       "role=%s digest=%s size=%" G_GINT64_FORMAT " tar_size=%" G_GINT64_FORMAT " entries=%u reused=false",
                       role, l->digest, l->size, blob.tar_size, blob.files);
    return TRUE;
}

/* 1. runtime: dcn-hoster and what it loads (mtime 0: the same blob across versions) */
static gboolean write_runtime_layer(DcnPackageBuild *b, GError **error)
{
    g_autoptr(GPtrArray) rt = dcn_layer_entries_new();
    if (!dcn_runtime_collect(b->hoster, rt, &b->arch, error))
        return g_prefix_error(error, "runtime layer: "), FALSE;
    for (guint i = 0; i < rt->len; i++)
        if (strstr(((DcnLayerEntry *)rt->pdata[i])->path, "/libasan.so")) {
            dcn_progress_event(&b->ctx->progress, "warning",
                               "hoster=%s sanitizers=on note=\"a test build: set image.hoster to a release build for "
                               "production\"", b->hoster);
            break;
        }
    if (!write_layer(b, "runtime", rt, 0, 0, error))
        return g_prefix_error(error, "runtime layer: "), FALSE;
    return TRUE;
}

/* 2. objects: the previous image's object layers that stay, then one with
 * what no kept layer has */
static gboolean write_object_layers(DcnPackageBuild *b, GError **error)
{
    if (!dcn_package_list_objects(b, error))
        return g_prefix_error(error, "listing %s: ", b->def->repo), FALSE;
    if (b->prev && !dcn_package_reuse_object_layers(b, error))
        return FALSE;
    g_autoptr(GPtrArray) fresh = dcn_layer_entries_new();
    guint64 fresh_bytes = 0;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, b->objects);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (g_hash_table_contains(b->covered, k))
            continue;
        g_autofree char *src = g_build_filename(b->def->repo, (char *)k, NULL);
        g_autofree char *ipath = g_strconcat(b->repo_prefix, "/", (char *)k, NULL);
        dcn_layer_add_file(fresh, ipath, src, 0644);
        fresh_bytes += (guint64) * (gint64 *)v;
    }
    b->new_objects = fresh->len;
    if (fresh->len) {
        g_autofree char *objdir = g_strconcat(b->repo_prefix, "/objects", NULL);
        dcn_layer_add_dir(fresh, objdir, 0755);
        if (!write_layer(b, "objects", fresh, b->mtime, fresh_bytes, error))
            return FALSE;
    }
    dcn_progress_event(&b->ctx->progress, "objects",
                       "total=%u reused=%u new=%u new_bytes=%" G_GUINT64_FORMAT " pruned=%u",
                       g_hash_table_size(b->objects), b->reused_objects, b->new_objects, fresh_bytes, b->dead->len);
    return TRUE;
}

/* 3. iso: the version's installer ISO when `iso` wrote one (a layer of its
 * own: large, and the same blob whenever the same file ships again: its
 * time is the file's) */
static gboolean write_iso_layer(DcnPackageBuild *b, GError **error)
{
    const char *iso_path = b->def->iso_output;
    struct stat iso_st;
    if (stat(iso_path, &iso_st) != 0 || !S_ISREG(iso_st.st_mode))
        return TRUE;
    g_autoptr(GPtrArray) iso = dcn_layer_entries_new();
    g_autofree char *base = g_path_get_basename(iso_path);
    g_autofree char *ipath = g_strconcat(DCN_IMAGE_CONTENT_ROOT, "/", base, NULL);
    dcn_layer_add_file(iso, ipath, iso_path, 0644);
    return write_layer(b, "iso", iso, (gint64)iso_st.st_mtime, (guint64)iso_st.st_size, error);
}

/* The kickstart and its signing key, next to the content root. */
static void add_kickstart(const DcnDefinition *def, GPtrArray *top)
{
    g_autofree char *ks_dir = g_path_get_dirname(def->kickstart_path);
    g_autofree char *gpg_name = g_strdup_printf("%s.gpg", def->name);
    g_autofree char *gpg_path = g_build_filename(ks_dir, gpg_name, NULL);
    const char *extra[] = {def->kickstart_path, gpg_path};
    for (guint i = 0; i < G_N_ELEMENTS(extra); i++) {
        if (!g_file_test(extra[i], G_FILE_TEST_IS_REGULAR))
            continue;
        g_autofree char *base = g_path_get_basename(extra[i]);
        g_autofree char *ipath = g_strconcat(DCN_IMAGE_CONTENT_ROOT, "/", base, NULL);
        dcn_layer_add_file(top, ipath, extra[i], 0644);
    }
}

/* 4. top: mutable repo files, .commitmeta objects, whiteouts, kickstart */
static gboolean write_top_layer(DcnPackageBuild *b, GError **error)
{
    const DcnDefinition *def = b->def;
    g_autoptr(GPtrArray) top = dcn_layer_entries_new();
    guint64 top_bytes = 0;
    dcn_layer_add_dir(top, b->repo_prefix, 0755);
    if (!dcn_package_add_mutable_tree(def->repo, NULL, b->repo_prefix, top, &top_bytes, error))
        return g_prefix_error(error, "reading %s: ", def->repo), FALSE;
    for (guint i = 0; i < b->commitmeta->len; i++) {
        g_autofree char *src = g_build_filename(def->repo, (char *)b->commitmeta->pdata[i], NULL);
        g_autofree char *ipath = g_strconcat(b->repo_prefix, "/", (char *)b->commitmeta->pdata[i], NULL);
        dcn_layer_add_file(top, ipath, src, 0644);
    }
    for (guint i = 0; i < b->dead->len; i++)
        dcn_layer_add_whiteout(top, b->dead->pdata[i]);
    add_kickstart(def, top);
    return write_layer(b, "top", top, b->mtime, 0, error);
}

/* ---- config, manifest, index ---- */

/* 5. the config and manifest blobs */
static gboolean write_image(DcnPackageBuild *b, Image *im, GError **error)
{
    g_autoptr(JsonObject) config = dcn_package_config_json(b);
    gsize config_len = 0;
    g_autofree char *config_text = dcn_oci_json_text(config, &config_len);
    if (!dcn_oci_write_blob(b->layout, config_text, config_len, &im->config_digest, error))
        return FALSE;
    im->manifest = dcn_package_manifest_json(b, im->config_digest, config_len);
    g_autofree char *manifest_text = dcn_oci_json_text(im->manifest, &im->manifest_len);
    if (!dcn_oci_write_blob(b->layout, manifest_text, im->manifest_len, &im->manifest_digest, error))
        return FALSE;
    g_autoptr(JsonObject) iann = json_object_new();
    json_object_set_string_member(iann, DCN_OCI_REF_NAME, b->def->version);
    json_object_set_string_member(iann, DCN_PACKAGE_LBL_COMMIT, b->head->commit);
    im->manifest_desc =
        dcn_oci_descriptor_json(DCN_OCI_MANIFEST_TYPE, im->manifest_digest, (gint64)im->manifest_len, iann);
    return TRUE;
}

/* 6. index.json: the new image in, unkept ones and their blobs out */
static gboolean write_index(DcnPackageBuild *b, JsonObject *index, Image *im, GError **error)
{
    guint pruned_images = 0, pruned_blobs = 0;
    if (!dcn_package_update_index(b, index, im->manifest_desc, &pruned_images, &pruned_blobs, error) ||
        !dcn_oci_write_index(b->layout, index, &im->index_changed, error))
        return FALSE;
    if (pruned_images || pruned_blobs)
        dcn_progress_event(&b->ctx->progress, "prune", "images=%u blobs=%u", pruned_images, pruned_blobs);
    return TRUE;
}

/* ---- the result ---- */

/* The result's "layers"; *new_bytes: the bytes of layers the previous image
 * did not have (a registry that has it receives only these). */
static JsonArray *layers_result(const DcnPackageBuild *b, gint64 *new_bytes)
{
    JsonArray *rlayers = json_array_new();
    *new_bytes = 0;
    for (guint i = 0; i < b->layers->len; i++) {
        const DcnPackageLayer *l = b->layers->pdata[i];
        /* the runtime layer counts as reused when the previous image has the same blob */
        gboolean in_prev = l->reused || dcn_package_previous_has_layer(b->prev, l->digest);
        if (!in_prev)
            *new_bytes += l->size;
        JsonObject *r = json_object_new();
        json_object_set_string_member(r, "role", l->role);
        json_object_set_string_member(r, "digest", l->digest);
        json_object_set_int_member(r, "size", l->size);
        json_object_set_string_member(r, "media_type", l->media_type);
        if (l->shipped)
            json_object_set_string_member(r, "shipped_in", l->shipped);
        json_object_set_boolean_member(r, "in_previous", in_prev);
        json_array_add_object_element(rlayers, r);
    }
    return rlayers;
}

static void set_result(DcnPackageBuild *b, const Image *im)
{
    const DcnDefinition *def = b->def;
    gint64 new_bytes = 0;
    JsonArray *rlayers = layers_result(b, &new_bytes);
    dcn_progress_event(&b->ctx->progress, "done", "tag=%s digest=%s layers=%u new_bytes=%" G_GINT64_FORMAT,
                       def->version, im->manifest_digest, b->layers->len, new_bytes);
    JsonObject *r = b->ctx->result;
    json_object_set_string_member(r, "layout", b->layout->dir);
    json_object_set_string_member(r, "tag", def->version);
    json_object_set_string_member(r, "manifest_digest", im->manifest_digest);
    json_object_set_int_member(r, "manifest_size", (gint64)im->manifest_len);
    json_object_set_string_member(r, "config_digest", im->config_digest);
    json_object_set_string_member(r, "commit", b->head->commit);
    json_object_set_string_member(r, "ref", def->ref);
    json_object_set_string_member(r, "architecture", b->arch);
    json_object_set_string_member(r, "hoster", b->hoster);
    if (b->prev)
        json_object_set_string_member(r, "previous", b->prev->tag);
    else
        json_object_set_null_member(r, "previous");
    json_object_set_array_member(r, "layers", rlayers);
    json_object_set_int_member(r, "objects_total", g_hash_table_size(b->objects));
    json_object_set_int_member(r, "objects_new", b->new_objects);
    json_object_set_int_member(r, "new_bytes", new_bytes);
    if (def->image_archive)
        json_object_set_string_member(r, "archive", def->image_archive);
    json_object_set_boolean_member(r, "changed", im->index_changed);
}

/* ---- the stage ---- */

/* What the steps start from: the hoster to pack, the times, and the image
 * already in the layout to build on. */
static gboolean start_build(DcnPackageBuild *b, JsonObject *index, GError **error)
{
    const DcnDefinition *def = b->def;
    if (!(b->hoster = dcn_runtime_find_hoster(def->image_hoster, error)))
        return FALSE;
    dcn_runtime_hoster_version(b->hoster, &b->hoster_version, &b->hoster_commit);
    b->repo_prefix = g_strconcat(DCN_IMAGE_CONTENT_ROOT, "/", "repo", NULL);
    b->mtime = (gint64)b->head->timestamp;
    b->created = iso_time(b->mtime);
    b->layers = g_ptr_array_new_with_free_func((GDestroyNotify)dcn_package_layer_free);
    b->objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    b->commitmeta = g_ptr_array_new_with_free_func(g_free);
    b->covered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    b->dead = g_ptr_array_new_with_free_func(g_free);
    dcn_progress_event(&b->ctx->progress, "start", "version=%s commit=%s layout=%s hoster=%s compression=%s",
                       def->version, b->head->commit, b->layout->dir, b->hoster,
                       b->compression == DCN_LAYER_ZSTD ? "zstd" : "gzip");
    b->prev = dcn_package_find_previous(b->layout, index, b->history, def->version, error);
    if (!b->prev && error && *error)
        return FALSE;
    if (b->prev)
        dcn_progress_event(&b->ctx->progress, "previous", "version=%s commit=%s", b->prev->tag, b->prev->commit);
    return TRUE;
}

/* The whole build, with the layout locked. */
static gboolean package_locked(DcnStageCtx *ctx, DcnOciLayout *layout, GPtrArray *history, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(JsonObject) index = dcn_oci_read_index(layout, error);
    if (!index)
        return FALSE;
    g_auto(DcnPackageBuild) b = {
        .ctx = ctx,
        .def = def,
        .layout = layout,
        .compression = g_strcmp0(def->image_compression, "zstd") == 0 ? DCN_LAYER_ZSTD : DCN_LAYER_GZIP,
        .history = history,
        .head = history->pdata[0],
    };
    g_auto(Image) im = {0};
    if (!start_build(&b, index, error) || !write_runtime_layer(&b, error) || !write_object_layers(&b, error) ||
        !write_iso_layer(&b, error) || !write_top_layer(&b, error) || !write_image(&b, &im, error) ||
        !write_index(&b, index, &im, error))
        return FALSE;
    if (def->image_archive) {
        if (!dcn_package_write_archive(&b, def->image_archive, im.manifest_desc, im.manifest, error))
            return g_prefix_error(error, "oci-archive: "), FALSE;
        dcn_progress_event(&ctx->progress, "archive", "path=%s", def->image_archive);
    }
    set_result(&b, &im);
    return TRUE;
}

gboolean dcn_stage_package(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(GPtrArray) history = NULL;
    if (!load_history(def, &history, error))
        return FALSE;
    g_autofree char *layout_dir = g_strdup(def->image_layout);
    g_autoptr(DcnOciLayout) layout = dcn_oci_layout_open(layout_dir, TRUE, error);
    if (!layout)
        return FALSE;
    /* one package run per layout at a time; then temp files of crashed runs go */
    g_autofree char *lock_path = g_build_filename(layout->dir, ".dcn-package.lock", NULL);
    int lock = dcn_lock_try(lock_path, "another package run is writing this layout", error);
    if (lock < 0)
        return FALSE;
    remove_stale_temps(layout);
    gboolean ok = package_locked(ctx, layout, history, error);
    close(lock);
    return ok;
}
