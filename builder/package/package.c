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
 * "created" is that timestamp too. */
#include "error.h"
#include "json.h"
#include "layer.h"
#include "oci.h"
#include "repo.h"
#include "runtime.h"
#include "stage.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DCN_PACKAGE_REPACK_PERCENT 25

/* Annotations and labels this stage writes and reads back. */
#define ANN_ROLE "dcn.layer.role"       /* runtime | objects | iso | top */
#define ANN_SHIPPED "dcn.layer.version" /* objects layers: the version that first shipped them */
#define LBL_REF "dcn.ostree.ref"
#define LBL_COMMIT "dcn.ostree.commit"
#define LBL_PARENT "dcn.ostree.parent"
#define LBL_HOSTER_VERSION "dcn.hoster.version" /* the packaged dcn-hoster's own version and commit */
#define LBL_HOSTER_COMMIT "dcn.hoster.commit"
#define LBL_VERSION "org.opencontainers.image.version"
#define LBL_TITLE "org.opencontainers.image.title"
#define LBL_CREATED "org.opencontainers.image.created"

/* One image already in the layout. */
typedef struct {
    char *tag;
    char *commit;
    JsonObject *manifest;
    JsonObject *config;
} PrevImage;

static void prev_image_free(PrevImage *p)
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
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrevImage, prev_image_free)

/* A layer of the new manifest. */
typedef struct {
    char *role;
    char *shipped;  /* version that first shipped it */
    char *media_type;
    char *digest;
    char *diff_id;
    gint64 size;
    gboolean reused; /* taken from the previous image as it is */
} NewLayer;

static void new_layer_free(NewLayer *l)
{
    g_free(l->role);
    g_free(l->shipped);
    g_free(l->media_type);
    g_free(l->digest);
    g_free(l->diff_id);
    g_free(l);
}

static char *iso_time(gint64 t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* ---- reading what the layout already has ---- */

static PrevImage *load_image(const DcnOciLayout *layout, JsonObject *desc, GError **error)
{
    g_autoptr(PrevImage) p = g_new0(PrevImage, 1);
    JsonObject *ann = dcn_json_obj(desc, "annotations");
    p->tag = g_strdup(dcn_json_str(ann, DCN_OCI_REF_NAME));
    p->commit = g_strdup(dcn_json_str(ann, LBL_COMMIT));
    const char *digest = dcn_json_str(desc, "digest");
    if (!(p->manifest = dcn_oci_read_json_blob(layout, digest, error)))
        return g_prefix_error(error, "image %s: ", p->tag ? p->tag : "?"), NULL;
    JsonObject *cfg = dcn_json_obj(p->manifest, "config");
    if (!(p->config = dcn_oci_read_json_blob(layout, dcn_json_str(cfg, "digest"), error)))
        return g_prefix_error(error, "image %s: config: ", p->tag ? p->tag : "?"), NULL;
    return g_steal_pointer(&p);
}

/* The image to build on: the one holding the head's parent, else the newest
 * kept version's, else the last one of ours in the index. */
static PrevImage *find_previous(const DcnOciLayout *layout, JsonObject *index, GPtrArray *history, const char *tag,
                                GError **error)
{
    JsonArray *m = dcn_json_arr(index, "manifests");
    int best = -1;
    guint best_rank = G_MAXUINT;
    for (guint i = 0; m && i < json_array_get_length(m); i++) {
        JsonObject *ann = dcn_json_obj(json_array_get_object_element(m, i), "annotations");
        const char *commit = dcn_json_str(ann, LBL_COMMIT), *t = dcn_json_str(ann, DCN_OCI_REF_NAME);
        if (!commit || !t || g_str_equal(t, tag))
            continue;
        guint rank = G_MAXUINT - 1 - i; /* not in the history: the last one wins */
        for (guint h = 1; h < history->len; h++)
            if (g_str_equal(((DcnVersion *)history->pdata[h])->commit, commit))
                rank = h;
        if (rank <= best_rank) {
            best_rank = rank;
            best = (int)i;
        }
    }
    if (best < 0)
        return NULL;
    PrevImage *p = load_image(layout, json_array_get_object_element(m, (guint)best), error);
    if (!p)
        g_prefix_error(error, "reading the previous image in %s: ", layout->dir);
    return p;
}

/* ---- the repo's files ---- */

static gboolean lstat_or_error(const char *path, struct stat *st, GError **error)
{
    if (lstat(path, st) == 0)
        return TRUE;
    int err = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", path, g_strerror(err));
    return FALSE;
}

/* objects/XX/NAME (repo-relative) → gint64 size, for every object except
 * .commitmeta (detached metadata changes when signatures are added: it goes
 * into the top layer). */
static gboolean list_objects(const char *repo, GHashTable *objects, GPtrArray *commitmeta, GError **error)
{
    g_autofree char *objdir = g_build_filename(repo, "objects", NULL);
    g_autoptr(GDir) d = g_dir_open(objdir, 0, error);
    if (!d)
        return FALSE;
    const char *sub;
    g_autoptr(GPtrArray) subs = g_ptr_array_new_with_free_func(g_free);
    while ((sub = g_dir_read_name(d)))
        if (strlen(sub) == 2 && g_ascii_isxdigit(sub[0]) && g_ascii_isxdigit(sub[1]))
            g_ptr_array_add(subs, g_strdup(sub));
    for (guint i = 0; i < subs->len; i++) {
        g_autofree char *sd = g_build_filename(objdir, subs->pdata[i], NULL);
        g_autoptr(GDir) s = g_dir_open(sd, 0, error);
        if (!s)
            return FALSE;
        const char *name;
        while ((name = g_dir_read_name(s))) {
            if (name[0] == '.')
                continue;
            g_autofree char *path = g_build_filename(sd, name, NULL);
            struct stat st;
            if (!lstat_or_error(path, &st, error))
                return FALSE;
            if (!S_ISREG(st.st_mode))
                continue;
            char *rel = g_strdup_printf("objects/%s/%s", (char *)subs->pdata[i], name);
            if (g_str_has_suffix(name, ".commitmeta")) {
                g_ptr_array_add(commitmeta, rel);
            } else {
                gint64 *size = g_new(gint64, 1);
                *size = st.st_size;
                g_hash_table_replace(objects, rel, size);
            }
        }
    }
    return TRUE;
}

/* Adds everything under repo/rel except objects/, tmp/, state/ and
 * dot-files to entries, under prefix. */
static gboolean add_mutable_tree(const char *repo, const char *rel, const char *prefix, GPtrArray *entries,
                                 guint64 *bytes, GError **error)
{
    g_autofree char *dir = rel ? g_build_filename(repo, rel, NULL) : g_strdup(repo);
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    if (!d)
        return FALSE;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (name[0] == '.')
            continue;
        if (!rel && (g_str_equal(name, "objects") || g_str_equal(name, "tmp") || g_str_equal(name, "state")))
            continue;
        g_autofree char *sub = rel ? g_strconcat(rel, "/", name, NULL) : g_strdup(name);
        g_autofree char *path = g_build_filename(repo, sub, NULL);
        g_autofree char *ipath = g_strconcat(prefix, "/", sub, NULL);
        struct stat st;
        if (!lstat_or_error(path, &st, error))
            return FALSE;
        if (S_ISDIR(st.st_mode)) {
            dcn_layer_add_dir(entries, ipath, 0755);
            if (!add_mutable_tree(repo, sub, prefix, entries, bytes, error))
                return FALSE;
        } else if (S_ISREG(st.st_mode)) {
            dcn_layer_add_file(entries, ipath, path, 0644);
            *bytes += (guint64)st.st_size;
        } else if (S_ISLNK(st.st_mode)) {
            g_autofree char *target = g_file_read_link(path, error);
            if (!target)
                return FALSE;
            dcn_layer_add_symlink(entries, ipath, target);
        }
    }
    return TRUE;
}

/* ---- building the image ---- */

typedef struct {
    DcnStageCtx *ctx;
    const DcnDefinition *def;
    DcnOciLayout *layout;
    DcnLayerCompression compression;
    const DcnVersion *head;
    char *repo_prefix; /* srv/dcn/content/repo */
    GPtrArray *layers; /* NewLayer */
    char *hoster_version, *hoster_commit; /* what the packaged dcn-hoster says it is, or NULL */
} Build;

static JsonObject *layer_annotations(const char *role, const char *shipped)
{
    JsonObject *a = json_object_new();
    json_object_set_string_member(a, ANN_ROLE, role);
    if (shipped)
        json_object_set_string_member(a, ANN_SHIPPED, shipped);
    return a;
}

/* bytes: what the files hold, for the progress total (0: unknown) */
static gboolean write_layer(Build *b, const char *role, GPtrArray *entries, gint64 mtime, guint64 bytes,
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
    NewLayer *l = g_new0(NewLayer, 1);
    l->role = g_strdup(role);
    l->shipped = g_strcmp0(role, "objects") == 0 ? g_strdup(b->def->version) : NULL;
    l->media_type = g_strdup(blob.media_type);
    l->digest = g_steal_pointer(&blob.digest);
    l->diff_id = g_steal_pointer(&blob.diff_id);
    l->size = blob.size;
    g_ptr_array_add(b->layers, l);
    dcn_progress_event(&b->ctx->progress, "layer",
                       "role=%s digest=%s size=%" G_GINT64_FORMAT " tar_size=%" G_GINT64_FORMAT " entries=%u reused=false",
                       role, l->digest, l->size, blob.tar_size, blob.files);
    return TRUE;
}

/* Decides which of the previous image's object layers stay; marks the
 * objects they hold in covered and lists pruned ones for whiteouts. */
static gboolean reuse_object_layers(Build *b, PrevImage *prev, GHashTable *objects, GHashTable *covered,
                                    GPtrArray *dead, guint *reused_objects, GError **error)
{
    JsonArray *layers = dcn_json_arr(prev->manifest, "layers");
    JsonArray *diff_ids = dcn_json_arr(dcn_json_obj(prev->config, "rootfs"), "diff_ids");
    if (!layers || !diff_ids || json_array_get_length(layers) != json_array_get_length(diff_ids))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "previous image %s: layers and diff_ids do not match", prev->tag),
               FALSE;
    g_autofree char *prefix = g_strconcat(b->repo_prefix, "/", NULL);
    /* each object layer is read whole (decompressed) to list what it holds */
    guint64 nlayers = 0, layer_bytes = 0;
    for (guint i = 0; i < json_array_get_length(layers); i++) {
        JsonObject *desc = json_array_get_object_element(layers, i);
        if (g_strcmp0(dcn_json_str(dcn_json_obj(desc, "annotations"), ANN_ROLE), "objects") == 0)
            nlayers++, layer_bytes += (guint64)MAX(json_object_get_int_member_with_default(desc, "size", 0), 0);
    }
    dcn_progress_begin(&b->ctx->progress, "read-layers", "layers");
    dcn_progress_detail(&b->ctx->progress, "image=%s", prev->tag);
    dcn_progress_set_total(&b->ctx->progress, nlayers, layer_bytes);
    for (guint i = 0; i < json_array_get_length(layers); i++) {
        JsonObject *desc = json_array_get_object_element(layers, i);
        JsonObject *ann = dcn_json_obj(desc, "annotations");
        if (g_strcmp0(dcn_json_str(ann, ANN_ROLE), "objects") != 0)
            continue;
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
        guint64 live = 0, total = 0;
        guint nlive = 0;
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, files);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            if (!g_str_has_prefix(k, prefix))
                continue;
            total += (guint64) * (gint64 *)v;
            if (g_hash_table_contains(objects, (char *)k + strlen(prefix)))
                live += (guint64) * (gint64 *)v, nlive++;
        }
        const char *shipped = dcn_json_str(ann, ANN_SHIPPED);
        gboolean keep = nlive > 0 && live * 100 >= total * DCN_PACKAGE_REPACK_PERCENT;
        dcn_progress_event(&b->ctx->progress, keep ? "reuse-layer" : "drop-layer",
                           "digest=%s shipped=%s live_objects=%u live_bytes=%" G_GUINT64_FORMAT
                           " layer_bytes=%" G_GUINT64_FORMAT,
                           d.digest, shipped ? shipped : "?", nlive, live, total);
        if (keep) {
            g_hash_table_iter_init(&it, files);
            while (g_hash_table_iter_next(&it, &k, &v)) {
                if (!g_str_has_prefix(k, prefix))
                    continue;
                const char *rel = (char *)k + strlen(prefix);
                if (g_hash_table_contains(objects, rel))
                    g_hash_table_add(covered, g_strdup(rel));
                else if (g_str_has_prefix(rel, "objects/"))
                    g_ptr_array_add(dead, g_strconcat(b->repo_prefix, "/", rel, NULL));
            }
            *reused_objects += nlive;
            NewLayer *l = g_new0(NewLayer, 1);
            l->role = g_strdup("objects");
            l->shipped = g_strdup(shipped);
            l->media_type = g_strdup(d.media_type);
            l->digest = g_strdup(d.digest);
            l->diff_id = g_strdup(json_array_get_string_element(diff_ids, i));
            l->size = d.size;
            l->reused = TRUE;
            g_ptr_array_add(b->layers, l);
        }
        dcn_oci_descriptor_clear(&d);
    }
    dcn_progress_end(&b->ctx->progress);
    return TRUE;
}

static JsonObject *build_config(Build *b, const char *arch, const char *created)
{
    const DcnDefinition *def = b->def;
    JsonObject *labels = json_object_new();
    json_object_set_string_member(labels, LBL_TITLE, def->name);
    json_object_set_string_member(labels, LBL_VERSION, def->version);
    json_object_set_string_member(labels, LBL_CREATED, created);
    json_object_set_string_member(labels, LBL_REF, def->ref);
    json_object_set_string_member(labels, LBL_COMMIT, b->head->commit);
    if (b->hoster_version) {
        json_object_set_string_member(labels, LBL_HOSTER_VERSION, b->hoster_version);
        json_object_set_string_member(labels, LBL_HOSTER_COMMIT, b->hoster_commit);
    }
    if (b->head->parent)
        json_object_set_string_member(labels, LBL_PARENT, b->head->parent);

    JsonObject *cc = json_object_new();
    json_object_set_string_member(cc, "User", "1001");
    JsonObject *ports = json_object_new();
    json_object_set_object_member(ports, "8080/tcp", json_object_new());
    json_object_set_object_member(cc, "ExposedPorts", ports);
    JsonArray *env = json_array_new();
    json_array_add_string_element(env, "PATH=/usr/bin");
    g_autofree char *ref_env = g_strconcat("DCN_HOSTER_REF=", def->ref, NULL);
    json_array_add_string_element(env, ref_env);
    json_object_set_array_member(cc, "Env", env);
    JsonArray *ep = json_array_new();
    json_array_add_string_element(ep, "/" DCN_IMAGE_HOSTER_PATH);
    json_object_set_array_member(cc, "Entrypoint", ep);
    JsonArray *cmd = json_array_new();
    json_array_add_string_element(cmd, "--listen=0.0.0.0:8080");
    json_array_add_string_element(cmd, "--root=/" DCN_IMAGE_CONTENT_ROOT);
    json_object_set_array_member(cc, "Cmd", cmd);
    json_object_set_string_member(cc, "WorkingDir", "/");
    json_object_set_object_member(cc, "Labels", labels);
    json_object_set_string_member(cc, "StopSignal", "SIGTERM");

    JsonObject *rootfs = json_object_new();
    json_object_set_string_member(rootfs, "type", "layers");
    JsonArray *diff_ids = json_array_new();
    JsonArray *history = json_array_new();
    for (guint i = 0; i < b->layers->len; i++) {
        NewLayer *l = b->layers->pdata[i];
        json_array_add_string_element(diff_ids, l->diff_id);
        JsonObject *h = json_object_new();
        json_object_set_string_member(h, "created", created);
        g_autofree char *by = g_str_equal(l->role, "runtime")
                                  ? g_strdup("dcn-builder package: dcn-hoster and the shared objects it loads")
                              : g_str_equal(l->role, "objects")
                                  ? g_strdup_printf("dcn-builder package: ostree objects first shipped in %s", l->shipped)
                              : g_str_equal(l->role, "iso")
                                  ? g_strdup_printf("dcn-builder package: the installer ISO of %s", def->version)
                                  : g_strdup_printf("dcn-builder package: repo metadata, deltas, kickstart of %s",
                                                    def->version);
        json_object_set_string_member(h, "created_by", by);
        json_array_add_object_element(history, h);
    }
    json_object_set_array_member(rootfs, "diff_ids", diff_ids);

    JsonObject *c = json_object_new();
    json_object_set_string_member(c, "created", created);
    json_object_set_string_member(c, "architecture", arch);
    json_object_set_string_member(c, "os", "linux");
    json_object_set_object_member(c, "config", cc);
    json_object_set_object_member(c, "rootfs", rootfs);
    json_object_set_array_member(c, "history", history);
    return c;
}

/* Index entries of ours whose commit is no longer kept are removed, then
 * blobs no remaining manifest refers to. */
static gboolean prune_layout(Build *b, JsonObject *index, GPtrArray *history, guint *pruned_images,
                             guint *pruned_blobs, GError **error)
{
    JsonArray *m = dcn_json_arr(index, "manifests");
    JsonArray *kept = json_array_new();
    g_autoptr(GHashTable) referenced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gboolean can_gc = TRUE;
    for (guint i = 0; m && i < json_array_get_length(m); i++) {
        JsonObject *desc = json_array_get_object_element(m, i);
        const char *commit = dcn_json_str(dcn_json_obj(desc, "annotations"), LBL_COMMIT);
        gboolean keep = commit == NULL;
        for (guint h = 0; !keep && h < history->len; h++)
            keep = g_str_equal(((DcnVersion *)history->pdata[h])->commit, commit);
        if (!keep) {
            (*pruned_images)++;
            continue;
        }
        json_array_add_object_element(kept, json_object_ref(desc));
        const char *digest = dcn_json_str(desc, "digest");
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonObject) manifest = digest ? dcn_oci_read_json_blob(b->layout, digest, &local) : NULL;
        if (!manifest) {
            can_gc = FALSE; /* something we cannot read: keep every blob */
            continue;
        }
        g_hash_table_add(referenced, g_strdup(digest));
        const char *cfg = dcn_json_str(dcn_json_obj(manifest, "config"), "digest");
        if (cfg)
            g_hash_table_add(referenced, g_strdup(cfg));
        JsonArray *layers = dcn_json_arr(manifest, "layers");
        for (guint l = 0; layers && l < json_array_get_length(layers); l++) {
            const char *ld = dcn_json_str(json_array_get_object_element(layers, l), "digest");
            if (ld)
                g_hash_table_add(referenced, g_strdup(ld));
        }
    }
    json_object_set_array_member(index, "manifests", kept);
    if (!can_gc)
        return TRUE;
    g_autoptr(GDir) d = g_dir_open(b->layout->blobs_dir, 0, error);
    if (!d)
        return FALSE;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (name[0] == '.')
            continue; /* a temp file of a concurrent or crashed run */
        g_autofree char *digest = g_strconcat("sha256:", name, NULL);
        if (g_hash_table_contains(referenced, digest))
            continue;
        g_autofree char *path = g_build_filename(b->layout->blobs_dir, name, NULL);
        if (g_unlink(path) == 0)
            (*pruned_blobs)++;
    }
    return TRUE;
}

/* An oci-archive: a plain tar of a layout holding just this image. */
static gboolean write_archive(Build *b, const char *path, JsonObject *manifest_desc, JsonObject *manifest,
                              gint64 mtime, GError **error)
{
    g_autoptr(GPtrArray) blobs = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(blobs, g_strdup(dcn_json_str(manifest_desc, "digest")));
    g_ptr_array_add(blobs, g_strdup(dcn_json_str(dcn_json_obj(manifest, "config"), "digest")));
    JsonArray *layers = dcn_json_arr(manifest, "layers");
    for (guint i = 0; i < json_array_get_length(layers); i++)
        g_ptr_array_add(blobs, g_strdup(dcn_json_str(json_array_get_object_element(layers, i), "digest")));
    g_ptr_array_sort(blobs, (GCompareFunc)g_strcmp0);

    JsonObject *index = json_object_new();
    json_object_set_int_member(index, "schemaVersion", 2);
    json_object_set_string_member(index, "mediaType", DCN_OCI_INDEX_TYPE);
    JsonArray *m = json_array_new();
    json_array_add_object_element(m, json_object_ref(manifest_desc));
    json_object_set_array_member(index, "manifests", m);
    gsize index_len = 0;
    g_autofree char *index_text = dcn_oci_json_text(index, &index_len);
    json_object_unref(index);
    static const char layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "creating %s: %s", dir, g_strerror(err));
        return FALSE;
    }
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    DcnProgress *progress = &b->ctx->progress;
    gint64 total = json_object_get_int_member_with_default(manifest_desc, "size", 0) +
                   json_object_get_int_member_with_default(dcn_json_obj(manifest, "config"), "size", 0);
    for (guint i = 0; i < json_array_get_length(layers); i++)
        total += json_object_get_int_member_with_default(json_array_get_object_element(layers, i), "size", 0);
    dcn_progress_begin(progress, "archive", "blobs");
    dcn_progress_set_total(progress, blobs->len, (guint64)MAX(total, 0));
    g_autoptr(GPtrArray) entries = dcn_layer_entries_new();
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    gboolean ok = archive_write_open_filename(a, tmp) == ARCHIVE_OK;
    /* sorted: blobs/, blobs/sha256/, blobs/sha256/..., index.json, oci-layout */
    const char *dirs[] = {"blobs", "blobs/sha256"};
    for (guint i = 0; ok && i < G_N_ELEMENTS(dirs); i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, dirs[i]);
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_mtime(e, mtime, 0);
        ok = archive_write_header(a, e) == ARCHIVE_OK;
        archive_entry_free(e);
    }
    for (guint i = 0; ok && i <= blobs->len + 1; i++) {
        g_autofree char *name = NULL, *src = NULL;
        const char *data = NULL;
        gint64 size = 0;
        if (i < blobs->len) {
            src = dcn_oci_blob_path(b->layout, blobs->pdata[i]);
            name = g_strconcat("blobs/sha256/", (char *)blobs->pdata[i] + 7, NULL);
            struct stat st;
            if (!src || stat(src, &st) < 0) {
                ok = FALSE;
                break;
            }
            size = st.st_size;
        } else if (i == blobs->len) {
            name = g_strdup("index.json"), data = index_text, size = (gint64)index_len;
        } else {
            name = g_strdup("oci-layout"), data = layout_text, size = sizeof layout_text - 1;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, size);
        archive_entry_set_mtime(e, mtime, 0);
        ok = archive_write_header(a, e) == ARCHIVE_OK;
        archive_entry_free(e);
        if (ok && data) {
            ok = archive_write_data(a, data, (size_t)size) == size;
        } else if (ok) {
            g_autoptr(GMappedFile) mf = g_mapped_file_new(src, FALSE, error);
            if (!mf) {
                archive_write_free(a);
                g_unlink(tmp);
                dcn_progress_cancel(progress);
                return FALSE;
            }
            const char *p = g_mapped_file_get_contents(mf);
            for (gint64 off = 0; ok && off < size; off += 1 << 20) {
                size_t n = (size_t)MIN(size - off, 1 << 20);
                ok = archive_write_data(a, p + off, n) == (la_ssize_t)n;
                dcn_progress_add(progress, 0, n);
            }
            dcn_progress_add(progress, 1, 0);
        }
    }
    if (ok)
        ok = archive_write_close(a) == ARCHIVE_OK;
    if (!ok)
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "writing %s: %s", tmp,
                    archive_error_string(a) ? archive_error_string(a) : "a blob is missing from the layout");
    archive_write_free(a);
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

/* An fd closed (and its lock released) when it goes out of scope. */
typedef int DcnFd;
static void dcn_fd_close(DcnFd *fd)
{
    if (fd && *fd >= 0)
        close(*fd);
    g_free(fd);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnFd, dcn_fd_close)

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

gboolean dcn_stage_package(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autoptr(OstreeRepo) repo = NULL;
    g_autoptr(GPtrArray) history = NULL;
    if (!dcn_repo_open(def->repo, FALSE, &repo, error) || !dcn_repo_history(repo, def->ref, def->keep, &history, error))
        return FALSE;
    if (history->len == 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "%s: ref %s has no commit: publish first", def->repo, def->ref),
               FALSE;
    const DcnVersion *head = history->pdata[0];
    if (g_strcmp0(head->version, def->version) != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_CONFLICT,
                           "version %s is not what %s serves (its head %.12s is version %s): the image packs the "
                           "head, so publish (or rollback to) %s first",
                           def->version, def->ref, head->commit, head->version ? head->version : "(none)",
                           def->version),
               FALSE;

    g_autofree char *layout_dir = g_strdup(def->image_layout);
    g_autoptr(DcnOciLayout) layout = dcn_oci_layout_open(layout_dir, TRUE, error);
    if (!layout)
        return FALSE;
    /* one package run per layout at a time; then temp files of crashed runs go */
    g_autofree char *lock_path = g_build_filename(layout->dir, ".dcn-package.lock", NULL);
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        if (lock_fd >= 0)
            close(lock_fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", lock_path,
                    err == EWOULDBLOCK ? "another package run is writing this layout" : g_strerror(err));
        return FALSE;
    }
    g_autoptr(DcnFd) lock = g_new(int, 1);
    *lock = lock_fd;
    remove_stale_temps(layout);
    g_autoptr(JsonObject) index = dcn_oci_read_index(layout, error);
    if (!index)
        return FALSE;
    g_autofree char *hoster = dcn_runtime_find_hoster(def->image_hoster, error);
    if (!hoster)
        return FALSE;

    g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func((GDestroyNotify)new_layer_free);
    Build b = {
        .ctx = ctx,
        .def = def,
        .layout = layout,
        .compression = g_strcmp0(def->image_compression, "zstd") == 0 ? DCN_LAYER_ZSTD : DCN_LAYER_GZIP,
        .head = head,
        .repo_prefix = g_strconcat(DCN_IMAGE_CONTENT_ROOT, "/", "repo", NULL),
        .layers = layers,
    };
    g_autofree char *repo_prefix = b.repo_prefix;
    dcn_runtime_hoster_version(hoster, &b.hoster_version, &b.hoster_commit);
    g_autofree char *hoster_version = b.hoster_version, *hoster_commit = b.hoster_commit;
    gint64 mtime = (gint64)head->timestamp;
    g_autofree char *created = iso_time(mtime);
    dcn_progress_event(&ctx->progress, "start", "version=%s commit=%s layout=%s hoster=%s compression=%s",
                       def->version, head->commit, layout->dir, hoster, b.compression == DCN_LAYER_ZSTD ? "zstd" : "gzip");

    g_autoptr(PrevImage) prev = find_previous(layout, index, history, def->version, error);
    if (!prev && error && *error)
        return FALSE;
    if (prev)
        dcn_progress_event(&ctx->progress, "previous", "version=%s commit=%s", prev->tag, prev->commit);

    /* 1. runtime */
    const char *arch = NULL;
    g_autoptr(GPtrArray) rt = dcn_layer_entries_new();
    if (!dcn_runtime_collect(hoster, rt, &arch, error))
        return g_prefix_error(error, "runtime layer: "), FALSE;
    for (guint i = 0; i < rt->len; i++)
        if (strstr(((DcnLayerEntry *)rt->pdata[i])->path, "/libasan.so")) {
            dcn_progress_event(&ctx->progress, "warning",
                               "hoster=%s sanitizers=on note=\"a test build: set image.hoster to a release build for "
                               "production\"", hoster);
            break;
        }
    if (!write_layer(&b, "runtime", rt, 0, 0, error))
        return g_prefix_error(error, "runtime layer: "), FALSE;

    /* 2. objects: previous layers, then one with what is new */
    g_autoptr(GHashTable) objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GPtrArray) commitmeta = g_ptr_array_new_with_free_func(g_free);
    if (!list_objects(def->repo, objects, commitmeta, error))
        return g_prefix_error(error, "listing %s: ", def->repo), FALSE;
    g_autoptr(GHashTable) covered = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func(g_free);
    guint reused_objects = 0;
    if (prev && !reuse_object_layers(&b, prev, objects, covered, dead, &reused_objects, error))
        return FALSE;
    g_autoptr(GPtrArray) fresh = dcn_layer_entries_new();
    guint64 fresh_bytes = 0;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, objects);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (g_hash_table_contains(covered, k))
            continue;
        g_autofree char *src = g_build_filename(def->repo, (char *)k, NULL);
        g_autofree char *ipath = g_strconcat(repo_prefix, "/", (char *)k, NULL);
        dcn_layer_add_file(fresh, ipath, src, 0644);
        fresh_bytes += (guint64) * (gint64 *)v;
    }
    guint new_objects = fresh->len;
    if (fresh->len) {
        g_autofree char *objdir = g_strconcat(repo_prefix, "/objects", NULL);
        dcn_layer_add_dir(fresh, objdir, 0755);
        if (!write_layer(&b, "objects", fresh, mtime, fresh_bytes, error))
            return FALSE;
    }
    dcn_progress_event(&ctx->progress, "objects", "total=%u reused=%u new=%u new_bytes=%" G_GUINT64_FORMAT " pruned=%u",
                       g_hash_table_size(objects), reused_objects, new_objects, fresh_bytes, dead->len);

    /* 3. iso: the version's installer ISO when `iso` wrote one (a layer of
     * its own: large, and the same blob whenever the same file ships
     * again: its time is the file's) */
    struct stat iso_st;
    if (stat(def->iso_output, &iso_st) == 0 && S_ISREG(iso_st.st_mode)) {
        g_autoptr(GPtrArray) iso = dcn_layer_entries_new();
        g_autofree char *base = g_path_get_basename(def->iso_output);
        g_autofree char *ipath = g_strconcat(DCN_IMAGE_CONTENT_ROOT, "/", base, NULL);
        dcn_layer_add_file(iso, ipath, def->iso_output, 0644);
        if (!write_layer(&b, "iso", iso, (gint64)iso_st.st_mtime, (guint64)iso_st.st_size, error))
            return FALSE;
    }

    /* 4. top: mutable repo files, kickstart, whiteouts */
    g_autoptr(GPtrArray) top = dcn_layer_entries_new();
    guint64 top_bytes = 0;
    dcn_layer_add_dir(top, repo_prefix, 0755);
    if (!add_mutable_tree(def->repo, NULL, repo_prefix, top, &top_bytes, error))
        return g_prefix_error(error, "reading %s: ", def->repo), FALSE;
    for (guint i = 0; i < commitmeta->len; i++) {
        g_autofree char *src = g_build_filename(def->repo, (char *)commitmeta->pdata[i], NULL);
        g_autofree char *ipath = g_strconcat(repo_prefix, "/", (char *)commitmeta->pdata[i], NULL);
        dcn_layer_add_file(top, ipath, src, 0644);
    }
    for (guint i = 0; i < dead->len; i++)
        dcn_layer_add_whiteout(top, dead->pdata[i]);
    g_autofree char *ks_dir = g_path_get_dirname(def->kickstart_path);
    g_autofree char *gpg_name = g_strdup_printf("%s.gpg", def->name);
    const char *extra[] = {def->kickstart_path, NULL};
    g_autofree char *gpg_path = g_build_filename(ks_dir, gpg_name, NULL);
    extra[1] = gpg_path;
    for (guint i = 0; i < G_N_ELEMENTS(extra); i++) {
        if (!g_file_test(extra[i], G_FILE_TEST_IS_REGULAR))
            continue;
        g_autofree char *base = g_path_get_basename(extra[i]);
        g_autofree char *ipath = g_strconcat(DCN_IMAGE_CONTENT_ROOT, "/", base, NULL);
        dcn_layer_add_file(top, ipath, extra[i], 0644);
    }
    if (!write_layer(&b, "top", top, mtime, 0, error))
        return FALSE;

    /* 5. config, manifest, index */
    g_autoptr(JsonObject) config = build_config(&b, arch, created);
    gsize config_len = 0;
    g_autofree char *config_text = dcn_oci_json_text(config, &config_len);
    g_autofree char *config_digest = NULL;
    if (!dcn_oci_write_blob(layout, config_text, config_len, &config_digest, error))
        return FALSE;

    g_autoptr(JsonObject) ann = json_object_new();
    json_object_set_string_member(ann, LBL_CREATED, created);
    json_object_set_string_member(ann, LBL_TITLE, def->name);
    json_object_set_string_member(ann, LBL_VERSION, def->version);
    json_object_set_string_member(ann, LBL_REF, def->ref);
    json_object_set_string_member(ann, LBL_COMMIT, head->commit);
    g_autoptr(JsonObject) manifest = json_object_new();
    json_object_set_int_member(manifest, "schemaVersion", 2);
    json_object_set_string_member(manifest, "mediaType", DCN_OCI_MANIFEST_TYPE);
    json_object_set_object_member(manifest, "config",
                                  dcn_oci_descriptor_json(DCN_OCI_CONFIG_TYPE, config_digest, (gint64)config_len, NULL));
    JsonArray *mlayers = json_array_new();
    JsonArray *rlayers = json_array_new();
    gint64 new_bytes = 0;
    for (guint i = 0; i < layers->len; i++) {
        NewLayer *l = layers->pdata[i];
        g_autoptr(JsonObject) la = layer_annotations(l->role, l->shipped);
        json_array_add_object_element(mlayers, dcn_oci_descriptor_json(l->media_type, l->digest, l->size, la));
        /* the runtime layer counts as reused when the previous image has the same blob */
        gboolean in_prev = l->reused;
        if (!in_prev && prev) {
            JsonArray *pl = dcn_json_arr(prev->manifest, "layers");
            for (guint j = 0; pl && j < json_array_get_length(pl); j++)
                in_prev = in_prev || g_strcmp0(dcn_json_str(json_array_get_object_element(pl, j), "digest"), l->digest) == 0;
        }
        if (!in_prev)
            new_bytes += l->size;
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
    json_object_set_array_member(manifest, "layers", mlayers);
    json_object_set_object_member(manifest, "annotations", json_object_ref(ann));
    gsize manifest_len = 0;
    g_autofree char *manifest_text = dcn_oci_json_text(manifest, &manifest_len);
    g_autofree char *manifest_digest = NULL;
    if (!dcn_oci_write_blob(layout, manifest_text, manifest_len, &manifest_digest, error))
        return FALSE;

    g_autoptr(JsonObject) iann = json_object_new();
    json_object_set_string_member(iann, DCN_OCI_REF_NAME, def->version);
    json_object_set_string_member(iann, LBL_COMMIT, head->commit);
    g_autoptr(JsonObject) mdesc =
        dcn_oci_descriptor_json(DCN_OCI_MANIFEST_TYPE, manifest_digest, (gint64)manifest_len, iann);
    JsonArray *entries = dcn_json_arr(index, "manifests");
    gboolean placed = FALSE;
    for (guint i = 0; i < json_array_get_length(entries); i++) {
        JsonObject *e = json_array_get_object_element(entries, i);
        if (g_strcmp0(dcn_json_str(dcn_json_obj(e, "annotations"), DCN_OCI_REF_NAME), def->version) == 0) {
            /* JsonArray has no replace: rebuild the array with the new entry in place */
            JsonArray *rebuilt = json_array_new();
            for (guint j = 0; j < json_array_get_length(entries); j++)
                json_array_add_object_element(rebuilt, json_object_ref(j == i ? mdesc : json_array_get_object_element(entries, j)));
            json_object_set_array_member(index, "manifests", rebuilt);
            placed = TRUE;
            break;
        }
    }
    if (!placed)
        json_array_add_object_element(entries, json_object_ref(mdesc));
    guint pruned_images = 0, pruned_blobs = 0;
    if (!prune_layout(&b, index, history, &pruned_images, &pruned_blobs, error))
        return g_prefix_error(error, "pruning %s: ", layout->dir), FALSE;
    gboolean changed = FALSE;
    if (!dcn_oci_write_index(layout, index, &changed, error))
        return FALSE;
    if (pruned_images || pruned_blobs)
        dcn_progress_event(&ctx->progress, "prune", "images=%u blobs=%u", pruned_images, pruned_blobs);

    if (def->image_archive) {
        if (!write_archive(&b, def->image_archive, mdesc, manifest, mtime, error))
            return g_prefix_error(error, "oci-archive: "), FALSE;
        dcn_progress_event(&ctx->progress, "archive", "path=%s", def->image_archive);
    }
    dcn_progress_event(&ctx->progress, "done", "tag=%s digest=%s layers=%u new_bytes=%" G_GINT64_FORMAT, def->version,
                       manifest_digest, layers->len, new_bytes);

    JsonObject *r = ctx->result;
    json_object_set_string_member(r, "layout", layout->dir);
    json_object_set_string_member(r, "tag", def->version);
    json_object_set_string_member(r, "manifest_digest", manifest_digest);
    json_object_set_int_member(r, "manifest_size", (gint64)manifest_len);
    json_object_set_string_member(r, "config_digest", config_digest);
    json_object_set_string_member(r, "commit", head->commit);
    json_object_set_string_member(r, "ref", def->ref);
    json_object_set_string_member(r, "architecture", arch);
    json_object_set_string_member(r, "hoster", hoster);
    if (prev)
        json_object_set_string_member(r, "previous", prev->tag);
    else
        json_object_set_null_member(r, "previous");
    json_object_set_array_member(r, "layers", rlayers);
    json_object_set_int_member(r, "objects_total", g_hash_table_size(objects));
    json_object_set_int_member(r, "objects_new", new_objects);
    json_object_set_int_member(r, "new_bytes", new_bytes);
    if (def->image_archive)
        json_object_set_string_member(r, "archive", def->image_archive);
    json_object_set_boolean_member(r, "changed", changed);
    return TRUE;
}
