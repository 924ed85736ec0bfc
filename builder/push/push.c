/* push: the push stage. Sends the image the package stage left for this
 * version (<state_dir>/package.json → the layout and manifest digest) to
 * registry.url as <repository>:<version>: blobs the registry has are
 * skipped (HEAD), others are mounted from registry.mount_from or the
 * repository of the previous push when possible, else uploaded; then the
 * manifest is put by tag. The result (and <state_dir>/push.json, which
 * deploy reads) holds the digest and the pinned reference
 * <host>/<repository>@<digest>. */
#include "error.h"
#include "json.h"
#include "oci.h"
#include "registry.h"
#include "stage.h"
#include "state.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* One push, carried through its steps. */
typedef struct {
    DcnStageCtx *ctx;
    const DcnDefinition *def;
    char *repository;            /* where the image goes (registry.repository, or the name) */
    JsonObject *pkg;             /* the package stage's result */
    DcnOciLayout *layout;        /* the layout package left */
    JsonObject *manifest;        /* the image's manifest, from the layout */
    const char *manifest_digest; /* owned by pkg */
    const char *media_type;      /* the manifest's, owned by manifest (or a constant) */
    GPtrArray *blobs;            /* digests: the layers, then the config (NULL for a malformed one) */
    GPtrArray *mounts;           /* repositories to mount from, NULL-terminated */
    DcnRegistry *reg;
    guint64 blob_bytes;          /* the image's blobs, all of them */
    guint64 uploaded_blob_bytes; /* the blobs that went up */
    JsonArray *rblobs;           /* the result's "blobs": what happened to each */
    gboolean changed;            /* FALSE when the tag already named this manifest */
} Push;

static void push_clear(Push *p)
{
    g_free(p->repository);
    g_clear_pointer(&p->pkg, json_object_unref);
    g_clear_pointer(&p->layout, dcn_oci_layout_free);
    g_clear_pointer(&p->manifest, json_object_unref);
    g_clear_pointer(&p->blobs, g_ptr_array_unref);
    g_clear_pointer(&p->mounts, g_ptr_array_unref);
    g_clear_pointer(&p->reg, dcn_registry_free);
    g_clear_pointer(&p->rblobs, json_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Push, push_clear)

/* The registry and repository names: set, and valid. */
static gboolean check_names(Push *p, GError **error)
{
    const DcnDefinition *def = p->def;
    if (!def->registry_url)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "no registry: set registry.url (--registry https://HOST[:PORT])"),
               FALSE;
    p->repository = g_strdup(def->registry_repository);
    if (dcn_definition_check_repository(p->repository))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "repository '%s' is not a valid registry repository name: set registry.repository",
                           p->repository),
               FALSE;
    for (char **m = def->registry_mount_from; m && *m; m++)
        if (dcn_definition_check_repository(*m))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                               "registry.mount_from: '%s' is not a valid repository name", *m),
                   FALSE;
    return TRUE;
}

/* What package left for this version: its layout and manifest. */
static gboolean read_package(Push *p, GError **error)
{
    const DcnDefinition *def = p->def;
    p->pkg = dcn_state_read_result(def, "package", error);
    if (!p->pkg)
        return FALSE;
    const char *layout_dir = dcn_json_str(p->pkg, "layout"), *version = dcn_json_str(p->pkg, "version");
    p->manifest_digest = dcn_json_str(p->pkg, "manifest_digest");
    if (g_strcmp0(version, def->version) != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "the last package run was for version %s, not %s: run package first",
                           version ? version : "?", def->version),
               FALSE;
    if (!layout_dir || !dcn_oci_digest_valid(p->manifest_digest))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "package result in %s has no layout or manifest digest", def->state_dir),
               FALSE;
    p->layout = dcn_oci_layout_open(layout_dir, FALSE, error);
    if (!p->layout)
        return FALSE;
    p->manifest = dcn_oci_read_json_blob(p->layout, p->manifest_digest, error);
    if (!p->manifest)
        return g_prefix_error(error, "image %s: ", def->version), FALSE;
    p->media_type = dcn_json_str_or(p->manifest, "mediaType", DCN_OCI_MANIFEST_TYPE);
    return TRUE;
}

/* The blobs: layers, then the config (the manifest refers to all of them),
 * each present in the layout. */
static gboolean list_blobs(Push *p, GError **error)
{
    p->blobs = g_ptr_array_new_with_free_func(g_free);
    JsonArray *layers = dcn_json_arr(p->manifest, "layers");
    for (guint i = 0; layers && i < json_array_get_length(layers); i++)
        g_ptr_array_add(p->blobs, g_strdup(dcn_json_str(dcn_json_arr_obj(layers, i), "digest")));
    g_ptr_array_add(p->blobs, g_strdup(dcn_json_str(dcn_json_obj(p->manifest, "config"), "digest")));
    for (guint i = 0; i < p->blobs->len; i++)
        if (!dcn_oci_has_blob(p->layout, p->blobs->pdata[i]))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "image %s: blob %s is missing from %s", p->def->version,
                               p->blobs->pdata[i] ? (char *)p->blobs->pdata[i] : "(malformed)", p->layout->dir),
                   FALSE;
    return TRUE;
}

/* Where blobs may be mounted from: the configured repositories and the one
 * the previous push went to on this registry. */
static void list_mounts(Push *p)
{
    const DcnDefinition *def = p->def;
    p->mounts = g_ptr_array_new_with_free_func(g_free);
    for (char **m = def->registry_mount_from; m && *m; m++)
        g_ptr_array_add(p->mounts, g_strdup(*m));
    g_autoptr(JsonObject) last = dcn_state_read_result(def, "push", NULL);
    const char *last_repository = dcn_json_str(last, "repository");
    if (g_strcmp0(dcn_json_str(last, "registry"), def->registry_url) == 0 && last_repository &&
        g_strcmp0(last_repository, p->repository) != 0)
        g_ptr_array_add(p->mounts, g_strdup(last_repository));
    g_ptr_array_add(p->mounts, NULL);
}

static char *read_password(const DcnDefinition *def, GError **error)
{
    const char *env = g_getenv("DCN_BUILDER_REGISTRY_PASSWORD");
    if (env && *env)
        return g_strdup(env);
    if (!def->registry_password_file)
        return NULL;
    g_autofree char *text = NULL;
    if (!g_file_get_contents(def->registry_password_file, &text, NULL, error)) {
        g_prefix_error(error, "registry.password_file: ");
        return NULL;
    }
    g_strchomp(text);
    if (!*text) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "registry.password_file %s is empty",
                    def->registry_password_file);
        return NULL;
    }
    return g_steal_pointer(&text);
}

/* The registry client, with the password, checked with GET /v2/. */
static gboolean open_registry(Push *p, GError **error)
{
    const DcnDefinition *def = p->def;
    g_autoptr(GError) pw_error = NULL;
    g_autofree char *password = read_password(def, &pw_error);
    if (pw_error)
        return g_propagate_error(error, g_steal_pointer(&pw_error)), FALSE;
    DcnRegistryOptions opts = {
        .url = def->registry_url,
        .repository = p->repository,
        .username = def->registry_username,
        .password = password,
        .ca_file = def->registry_ca_file,
        .insecure = def->registry_insecure,
        .retries = def->registry_retries,
        .chunk_size = (guint64)def->registry_chunk_mb << 20,
        .mount_scopes = (const char *const *)p->mounts->pdata,
        .progress = &p->ctx->progress,
    };
    p->reg = dcn_registry_new(&opts, error);
    if (password)
        memset(password, 0, strlen(password)); /* the client keeps its own copy */
    if (!p->reg)
        return FALSE;
    if (def->registry_insecure)
        dcn_progress_event(&p->ctx->progress, "warning", "tls_verify=false registry=%s", def->registry_url);
    dcn_progress_event(&p->ctx->progress, "start", "registry=%s repository=%s tag=%s digest=%s blobs=%u",
                       def->registry_url, p->repository, def->version, p->manifest_digest, p->blobs->len);
    return dcn_registry_check(p->reg, error);
}

/* The size of a blob in the layout; its path in *path when path is set. */
static gboolean blob_size(Push *p, const char *digest, char **path, guint64 *size, GError **error)
{
    g_autofree char *file = dcn_oci_blob_path(p->layout, digest);
    struct stat st;
    if (stat(file, &st) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", file, g_strerror(err));
        return FALSE;
    }
    *size = (guint64)st.st_size;
    if (path)
        *path = g_steal_pointer(&file);
    return TRUE;
}

/* One blob: there already, mounted, or uploaded; *to_send (the upload
 * task's byte total) drops by its size when it need not be sent. */
static gboolean push_blob(Push *p, const char *digest, guint64 *to_send, GError **error)
{
    DcnProgress *progress = &p->ctx->progress;
    g_autofree char *path = NULL;
    guint64 size = 0;
    if (!blob_size(p, digest, &path, &size, error))
        return FALSE;
    p->blob_bytes += size;
    gboolean exists = FALSE;
    const char *how = "exists";
    gint64 t0 = g_get_monotonic_time();
    if (!dcn_registry_blob_exists(p->reg, digest, &exists, error))
        return g_prefix_error(error, "blob %s: ", digest), FALSE;
    if (!exists) {
        if (!dcn_registry_put_blob(p->reg, digest, path, size, (const char *const *)p->mounts->pdata, &how, error))
            return FALSE;
        if (g_str_equal(how, "uploaded"))
            p->uploaded_blob_bytes += size;
    }
    if (!g_str_equal(how, "uploaded"))
        dcn_progress_set_total(progress, p->blobs->len, *to_send -= MIN(*to_send, size));
    dcn_progress_add(progress, 1, 0);
    dcn_progress_event(progress, "blob", "digest=%s size=%" G_GINT64_FORMAT " action=%s seconds=%.2f", digest,
                       (gint64)size, how, (double)(g_get_monotonic_time() - t0) / 1e6);
    JsonObject *b = json_object_new();
    json_object_set_string_member(b, "digest", digest);
    json_object_set_int_member(b, "size", (gint64)size);
    json_object_set_string_member(b, "action", how);
    json_array_add_object_element(p->rblobs, b);
    return TRUE;
}

/* Task "upload": blobs done of all; bytes sent of what has to be sent (the
 * total drops as blobs turn out to be there already). */
static gboolean push_blobs(Push *p, GError **error)
{
    DcnProgress *progress = &p->ctx->progress;
    guint64 to_send = 0;
    for (guint i = 0; i < p->blobs->len; i++) {
        guint64 size = 0;
        if (!blob_size(p, p->blobs->pdata[i], NULL, &size, error))
            return FALSE;
        to_send += size;
    }
    dcn_progress_begin(progress, "upload", "blobs");
    dcn_progress_detail(progress, "repository=%s tag=%s", p->repository, p->def->version);
    dcn_progress_set_total(progress, p->blobs->len, to_send);
    for (guint i = 0; i < p->blobs->len; i++)
        if (!push_blob(p, p->blobs->pdata[i], &to_send, error))
            return FALSE;
    dcn_progress_end(progress);
    return TRUE;
}

/* The manifest, by tag, once every blob it names is there. */
static gboolean push_manifest(Push *p, GError **error)
{
    g_autofree char *mpath = dcn_oci_blob_path(p->layout, p->manifest_digest);
    g_autofree char *mtext = NULL;
    gsize mlen = 0;
    if (!g_file_get_contents(mpath, &mtext, &mlen, error))
        return FALSE;
    g_autofree char *pushed = NULL;
    if (!dcn_registry_put_manifest(p->reg, p->def->version, p->media_type, mtext, mlen, &pushed, error))
        return FALSE;
    dcn_progress_event(&p->ctx->progress, "manifest", "tag=%s digest=%s", p->def->version, pushed);
    return TRUE;
}

/* The "done" event and the stage's result (push.json, which deploy reads). */
static void write_result(Push *p)
{
    const DcnDefinition *def = p->def;
    const DcnRegistryStats *st = dcn_registry_stats(p->reg);
    const char *host = dcn_registry_host(p->reg);
    g_autofree char *reference = g_strdup_printf("%s/%s@%s", host, p->repository, p->manifest_digest);
    g_autofree char *tag_ref = g_strdup_printf("%s/%s:%s", host, p->repository, def->version);
    dcn_progress_event(&p->ctx->progress, "done",
                       "reference=%s uploaded=%u mounted=%u existing=%u bytes_uploaded=%" G_GUINT64_FORMAT
                       " blob_bytes=%" G_GUINT64_FORMAT " requests=%u retries=%u",
                       reference, st->blobs_uploaded, st->blobs_mounted, st->blobs_existing, st->bytes_uploaded,
                       p->blob_bytes, st->requests, st->retries);
    JsonObject *r = p->ctx->result;
    json_object_set_string_member(r, "registry", def->registry_url);
    json_object_set_string_member(r, "repository", p->repository);
    json_object_set_string_member(r, "tag", def->version);
    json_object_set_string_member(r, "digest", p->manifest_digest);
    json_object_set_string_member(r, "reference", reference);
    json_object_set_string_member(r, "tag_reference", tag_ref);
    json_object_set_string_member(r, "media_type", p->media_type);
    if (dcn_json_str(p->pkg, "commit"))
        json_object_set_string_member(r, "commit", dcn_json_str(p->pkg, "commit")); /* what the image serves */
    json_object_set_int_member(r, "blobs_uploaded", st->blobs_uploaded);
    json_object_set_int_member(r, "blobs_mounted", st->blobs_mounted);
    json_object_set_int_member(r, "blobs_existing", st->blobs_existing);
    json_object_set_int_member(r, "bytes_uploaded", (gint64)st->bytes_uploaded);
    json_object_set_int_member(r, "uploaded_blob_bytes", (gint64)p->uploaded_blob_bytes);
    json_object_set_int_member(r, "image_bytes", (gint64)p->blob_bytes);
    json_object_set_int_member(r, "requests", st->requests);
    json_object_set_int_member(r, "retries", st->retries);
    json_object_set_array_member(r, "blobs", g_steal_pointer(&p->rblobs));
    json_object_set_boolean_member(r, "changed", p->changed);
}

gboolean dcn_stage_push(DcnStageCtx *ctx, GError **error)
{
    g_auto(Push) p = {.ctx = ctx, .def = ctx->def, .changed = TRUE, .rblobs = json_array_new()};
    if (!check_names(&p, error) || !read_package(&p, error) || !list_blobs(&p, error))
        return FALSE;
    list_mounts(&p);
    if (!open_registry(&p, error))
        return FALSE;
    g_autofree char *remote = NULL;
    if (!dcn_registry_manifest_digest(p.reg, ctx->def->version, p.media_type, &remote, error))
        return FALSE;
    if (g_strcmp0(remote, p.manifest_digest) == 0) {
        p.changed = FALSE; /* the tag already names this manifest: the registry has every blob of it */
        dcn_progress_event(&ctx->progress, "unchanged", "tag=%s digest=%s", ctx->def->version, p.manifest_digest);
    } else if (!push_blobs(&p, error) || !push_manifest(&p, error)) {
        return FALSE;
    }
    write_result(&p);
    return TRUE;
}
