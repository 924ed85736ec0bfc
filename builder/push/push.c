/* push: the push stage. Sends the image the package stage left for this
 * version (<state_dir>/package.json → the layout and manifest digest) to
 * registry.url as <repository>:<version>: blobs the registry has are
 * skipped (HEAD), others are mounted from registry.mount_from or the
 * repository of the previous push when possible, else uploaded; then the
 * manifest is put by tag. The result (and <state_dir>/push.json, which
 * deploy reads) holds the digest and the pinned reference
 * <host>/<repository>@<digest>. */
#include "error.h"
#include "oci.h"
#include "registry.h"
#include "stage.h"
#include "state.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const char *json_str(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n) : NULL;
}

/* Same rule as registry.repository in the definition. */
static gboolean repository_valid(const char *v)
{
    gboolean start = TRUE;
    for (const char *p = v; *p; p++) {
        gboolean alnum = g_ascii_isdigit(*p) || g_ascii_islower(*p);
        if (start && !alnum)
            return FALSE;
        if (*p == '/' || *p == '.' || *p == '_' || *p == '-')
            start = TRUE;
        else if (!alnum)
            return FALSE;
        else
            start = FALSE;
    }
    return !start && strlen(v) <= 255;
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

gboolean dcn_stage_push(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (!def->registry_url)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "no registry: set registry.url (--registry https://HOST[:PORT])"),
               FALSE;
    g_autofree char *repository = g_strdup(def->registry_repository);
    if (!repository_valid(repository))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "repository '%s' is not a valid registry repository name: set registry.repository",
                           repository),
               FALSE;
    for (char **m = def->registry_mount_from; m && *m; m++)
        if (!repository_valid(*m))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                               "registry.mount_from: '%s' is not a valid repository name", *m),
                   FALSE;

    /* what package left */
    g_autoptr(JsonObject) pkg = dcn_state_read_result(def, "package", error);
    if (!pkg)
        return FALSE;
    const char *layout_dir = json_str(pkg, "layout"), *manifest_digest = json_str(pkg, "manifest_digest");
    if (g_strcmp0(json_str(pkg, "version"), def->version) != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "the last package run was for version %s, not %s: run package first",
                           json_str(pkg, "version") ? json_str(pkg, "version") : "?", def->version),
               FALSE;
    if (!layout_dir || !dcn_oci_digest_valid(manifest_digest))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "package result in %s has no layout or manifest digest", def->state_dir),
               FALSE;
    g_autoptr(DcnOciLayout) layout = dcn_oci_layout_open(layout_dir, FALSE, error);
    if (!layout)
        return FALSE;
    g_autoptr(JsonObject) manifest = dcn_oci_read_json_blob(layout, manifest_digest, error);
    if (!manifest)
        return g_prefix_error(error, "image %s: ", def->version), FALSE;
    const char *media_type = json_str(manifest, "mediaType") ? json_str(manifest, "mediaType") : DCN_OCI_MANIFEST_TYPE;

    /* blobs: layers, then the config (the manifest refers to all of them) */
    g_autoptr(GPtrArray) blobs = g_ptr_array_new_with_free_func(g_free);
    JsonNode *ln = json_object_get_member(manifest, "layers");
    JsonArray *layers = ln && JSON_NODE_HOLDS_ARRAY(ln) ? json_node_get_array(ln) : NULL;
    for (guint i = 0; layers && i < json_array_get_length(layers); i++)
        g_ptr_array_add(blobs, g_strdup(json_str(json_array_get_object_element(layers, i), "digest")));
    JsonNode *cn = json_object_get_member(manifest, "config");
    g_ptr_array_add(blobs, g_strdup(json_str(cn && JSON_NODE_HOLDS_OBJECT(cn) ? json_node_get_object(cn) : NULL, "digest")));
    for (guint i = 0; i < blobs->len; i++)
        if (!dcn_oci_has_blob(layout, blobs->pdata[i]))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "image %s: blob %s is missing from %s", def->version,
                               blobs->pdata[i] ? (char *)blobs->pdata[i] : "(malformed)", layout->dir),
                   FALSE;

    /* where blobs may be mounted from: the configured repositories and the
     * one the previous push went to on this registry */
    g_autoptr(GPtrArray) mounts = g_ptr_array_new_with_free_func(g_free);
    for (char **m = def->registry_mount_from; m && *m; m++)
        g_ptr_array_add(mounts, g_strdup(*m));
    g_autoptr(JsonObject) last = dcn_state_read_result(def, "push", NULL);
    if (last && g_strcmp0(json_str(last, "registry"), def->registry_url) == 0 && json_str(last, "repository") &&
        g_strcmp0(json_str(last, "repository"), repository) != 0)
        g_ptr_array_add(mounts, g_strdup(json_str(last, "repository")));
    g_ptr_array_add(mounts, NULL);

    g_autofree char *password = NULL;
    g_autoptr(GError) pw_error = NULL;
    password = read_password(def, &pw_error);
    if (pw_error)
        return g_propagate_error(error, g_steal_pointer(&pw_error)), FALSE;
    DcnRegistryOptions opts = {
        .url = def->registry_url,
        .repository = repository,
        .username = def->registry_username,
        .password = password,
        .ca_file = def->registry_ca_file,
        .insecure = def->registry_insecure,
        .retries = def->registry_retries,
        .chunk_size = (guint64)def->registry_chunk_mb << 20,
        .mount_scopes = (const char *const *)mounts->pdata,
        .progress = &ctx->progress,
    };
    g_autoptr(DcnRegistry) reg = dcn_registry_new(&opts, error);
    if (password)
        memset(password, 0, strlen(password)); /* the client keeps its own copy */
    if (!reg)
        return FALSE;
    if (def->registry_insecure)
        dcn_progress_event(&ctx->progress, "warning", "tls_verify=false registry=%s", def->registry_url);
    dcn_progress_event(&ctx->progress, "start", "registry=%s repository=%s tag=%s digest=%s blobs=%u",
                       def->registry_url, repository, def->version, manifest_digest, blobs->len);
    if (!dcn_registry_check(reg, error))
        return FALSE;

    g_autofree char *remote = NULL;
    if (!dcn_registry_manifest_digest(reg, def->version, media_type, &remote, error))
        return FALSE;
    gboolean changed = TRUE;
    guint64 blob_bytes = 0, uploaded_blob_bytes = 0;
    JsonArray *rblobs = json_array_new();
    if (g_strcmp0(remote, manifest_digest) == 0) {
        changed = FALSE; /* the tag already names this manifest: the registry has every blob of it */
        dcn_progress_event(&ctx->progress, "unchanged", "tag=%s digest=%s", def->version, manifest_digest);
    } else {
        /* task "upload": blobs done of all; bytes sent of what has to be sent
         * (the total drops as blobs turn out to be there already) */
        guint64 to_send = 0;
        for (guint i = 0; i < blobs->len; i++) {
            g_autofree char *path = dcn_oci_blob_path(layout, blobs->pdata[i]);
            struct stat st;
            if (stat(path, &st) < 0) {
                int err = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", path, g_strerror(err));
                return FALSE;
            }
            to_send += (guint64)st.st_size;
        }
        dcn_progress_begin(&ctx->progress, "upload", "blobs");
        dcn_progress_detail(&ctx->progress, "repository=%s tag=%s", repository, def->version);
        dcn_progress_set_total(&ctx->progress, blobs->len, to_send);
        for (guint i = 0; i < blobs->len; i++) {
            const char *digest = blobs->pdata[i];
            g_autofree char *path = dcn_oci_blob_path(layout, digest);
            struct stat st;
            if (stat(path, &st) < 0) {
                int err = errno;
                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", path, g_strerror(err));
                return FALSE;
            }
            blob_bytes += (guint64)st.st_size;
            gboolean exists = FALSE;
            const char *how = "exists";
            gint64 t0 = g_get_monotonic_time();
            if (!dcn_registry_blob_exists(reg, digest, &exists, error))
                return g_prefix_error(error, "blob %s: ", digest), FALSE;
            if (!exists) {
                if (!dcn_registry_put_blob(reg, digest, path, (guint64)st.st_size, (const char *const *)mounts->pdata,
                                           &how, error))
                    return FALSE;
                if (g_str_equal(how, "uploaded"))
                    uploaded_blob_bytes += (guint64)st.st_size;
            }
            if (!g_str_equal(how, "uploaded"))
                dcn_progress_set_total(&ctx->progress, blobs->len, to_send -= MIN(to_send, (guint64)st.st_size));
            dcn_progress_add(&ctx->progress, 1, 0);
            dcn_progress_event(&ctx->progress, "blob", "digest=%s size=%" G_GINT64_FORMAT " action=%s seconds=%.2f",
                               digest, (gint64)st.st_size, how, (double)(g_get_monotonic_time() - t0) / 1e6);
            JsonObject *b = json_object_new();
            json_object_set_string_member(b, "digest", digest);
            json_object_set_int_member(b, "size", st.st_size);
            json_object_set_string_member(b, "action", how);
            json_array_add_object_element(rblobs, b);
        }
        g_autofree char *mpath = dcn_oci_blob_path(layout, manifest_digest);
        g_autofree char *mtext = NULL;
        gsize mlen = 0;
        if (!g_file_get_contents(mpath, &mtext, &mlen, error))
            return FALSE;
        g_autofree char *pushed = NULL;
        dcn_progress_end(&ctx->progress);
        if (!dcn_registry_put_manifest(reg, def->version, media_type, mtext, mlen, &pushed, error))
            return FALSE;
        dcn_progress_event(&ctx->progress, "manifest", "tag=%s digest=%s", def->version, pushed);
    }

    const DcnRegistryStats *st = dcn_registry_stats(reg);
    g_autofree char *reference = g_strdup_printf("%s/%s@%s", dcn_registry_host(reg), repository, manifest_digest);
    g_autofree char *tag_ref = g_strdup_printf("%s/%s:%s", dcn_registry_host(reg), repository, def->version);
    dcn_progress_event(&ctx->progress, "done",
                       "reference=%s uploaded=%u mounted=%u existing=%u bytes_uploaded=%" G_GUINT64_FORMAT
                       " blob_bytes=%" G_GUINT64_FORMAT " requests=%u retries=%u",
                       reference, st->blobs_uploaded, st->blobs_mounted, st->blobs_existing, st->bytes_uploaded,
                       blob_bytes, st->requests, st->retries);
    JsonObject *r = ctx->result;
    json_object_set_string_member(r, "registry", def->registry_url);
    json_object_set_string_member(r, "repository", repository);
    json_object_set_string_member(r, "tag", def->version);
    json_object_set_string_member(r, "digest", manifest_digest);
    json_object_set_string_member(r, "reference", reference);
    json_object_set_string_member(r, "tag_reference", tag_ref);
    json_object_set_string_member(r, "media_type", media_type);
    if (json_str(pkg, "commit"))
        json_object_set_string_member(r, "commit", json_str(pkg, "commit")); /* what the image serves */
    json_object_set_int_member(r, "blobs_uploaded", st->blobs_uploaded);
    json_object_set_int_member(r, "blobs_mounted", st->blobs_mounted);
    json_object_set_int_member(r, "blobs_existing", st->blobs_existing);
    json_object_set_int_member(r, "bytes_uploaded", (gint64)st->bytes_uploaded);
    json_object_set_int_member(r, "uploaded_blob_bytes", (gint64)uploaded_blob_bytes);
    json_object_set_int_member(r, "image_bytes", (gint64)blob_bytes);
    json_object_set_int_member(r, "requests", st->requests);
    json_object_set_int_member(r, "retries", st->retries);
    json_object_set_array_member(r, "blobs", rblobs);
    json_object_set_boolean_member(r, "changed", changed);
    return TRUE;
}
