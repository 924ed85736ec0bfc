/* compose/edge_commit: the `edge-commit` backend. compose.source is the tar
 * osbuild-composer's edge-commit image type produces (GET
 * /api/v1/compose/image/<uuid>): an archive-mode `repo/` and `compose.json`
 * with `ref`, `ostree-commit`, `rpm-ostree-inputhash`, `ostree-version`.
 * Member names may start with `./`. The repo is extracted into a temporary
 * directory inside the staging repo (only `repo/` members, regular files and
 * directories, no '..'), its commit's tree imported, and the directory removed. */
#include "compose.h"
#include "error.h"
#include "repo.h"

#include <archive.h>
#include <errno.h>
#include <archive_entry.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

#define COMPOSE_JSON_MAX (1024 * 1024)


/* Member name without leading "./" and "/"; NULL if any component is "..". */
static const char *member_name(const char *name)
{
    while (name[0] == '/' || (name[0] == '.' && name[1] == '/'))
        name += name[0] == '/' ? 1 : 2;
    g_auto(GStrv) parts = g_strsplit(name, "/", -1);
    for (char **p = parts; *p; p++)
        if (strcmp(*p, "..") == 0)
            return NULL;
    return name;
}

static gboolean extract(const char *tarball, const char *dest, DcnProgress *progress, GBytes **out_compose_json,
                        GError **error)
{
    struct archive *a = archive_read_new(), *w = archive_write_disk_new();
    gboolean ok = FALSE;
    g_autoptr(GByteArray) json = NULL;
    archive_read_support_format_tar(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_none(a);
    /* targets are absolute paths we build under dest, after rejecting '..' */
    archive_write_disk_set_options(w, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    if (archive_read_open_filename(a, tarball, 64 * 1024) != ARCHIVE_OK) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s", archive_error_string(a));
        goto out;
    }
    /* files: entries written; bytes: of the tarball read (its size is the total) */
    struct stat st;
    guint64 files = 0;
    dcn_progress_begin(progress, "extract", "files");
    dcn_progress_set_total(progress, 0, stat(tarball, &st) == 0 ? (guint64)st.st_size : 0);
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s", archive_error_string(a));
            goto out;
        }
        g_autofree char *raw = g_strdup(archive_entry_pathname(e)); /* before set_pathname below */
        const char *name = raw ? member_name(raw) : NULL;
        if (!name) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': '..' is not allowed",
                        raw ? raw : "");
            goto out;
        }
        if (strcmp(name, "compose.json") == 0) {
            json = g_byte_array_new();
            char buf[8192];
            la_ssize_t n;
            while ((n = archive_read_data(a, buf, sizeof buf)) > 0 && json->len <= COMPOSE_JSON_MAX)
                g_byte_array_append(json, (const guint8 *)buf, (guint)n);
            if (n < 0 || json->len > COMPOSE_JSON_MAX) {
                g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "compose.json: %s",
                            n < 0 ? archive_error_string(a) : "larger than 1 MiB");
                goto out;
            }
            continue;
        }
        if (strcmp(name, "repo") != 0 && strcmp(name, "repo/") != 0 && !g_str_has_prefix(name, "repo/"))
            continue; /* anything else composer may add */
        mode_t type = archive_entry_filetype(e);
        if (archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR)) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                        "entry '%s': only files and directories belong in an edge-commit repo", raw);
            goto out;
        }
        g_autofree char *target = g_build_filename(dest, name, NULL);
        archive_entry_set_pathname(e, target);
        if (archive_write_header(w, e) != ARCHIVE_OK) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': %s", raw,
                        archive_error_string(w));
            goto out;
        }
        const void *block;
        size_t size;
        la_int64_t offset;
        while ((r = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK)
            if (archive_write_data_block(w, block, size, offset) < ARCHIVE_OK) {
                g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': %s", raw,
                            archive_error_string(w));
                goto out;
            }
        if (r != ARCHIVE_EOF) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': %s", raw,
                        archive_error_string(a));
            goto out;
        }
        if (archive_write_finish_entry(w) != ARCHIVE_OK) {
            g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': %s", raw,
                        archive_error_string(w));
            goto out;
        }
        dcn_progress_set(progress, ++files, (guint64)archive_filter_bytes(a, -1));
    }
    if (!json) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "no compose.json in the tarball");
        goto out;
    }
    *out_compose_json = g_byte_array_free_to_bytes(g_steal_pointer(&json));
    ok = TRUE;
    dcn_progress_end(progress);
out:
    if (!ok)
        dcn_progress_cancel(progress);
    archive_write_free(w);
    archive_read_free(a);
    return ok;
}

static const char *json_str(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                          : NULL;
}

static gboolean import_extracted(const DcnDefinition *def, OstreeRepo *staging, const char *dir, GBytes *cj,
                                 DcnProgress *progress, DcnComposeOutput *out, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len;
    const char *data = g_bytes_get_data(cj, &len);
    if (!json_parser_load_from_data(parser, data, (gssize)len, error))
        return g_prefix_error(error, "compose.json: "), FALSE;
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "compose.json: not an object"), FALSE;
    JsonObject *o = json_node_get_object(root);
    const char *commit = json_str(o, "ostree-commit");
    if (!commit || !ostree_validate_checksum_string(commit, NULL))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "compose.json: 'ostree-commit' is missing or not a checksum"),
               FALSE;
    const char *ref = json_str(o, "ref"), *version = json_str(o, "ostree-version"),
               *inputhash = json_str(o, "rpm-ostree-inputhash");
    if (ref && strcmp(ref, def->ref) != 0)
        dcn_progress_event(progress, "warning", "msg=\"edge-commit was composed for ref %s; publishing on %s\"", ref,
                           def->ref);
    if (version && strcmp(version, def->version) != 0)
        dcn_progress_event(progress, "warning", "msg=\"edge-commit says version %s; staging it as %s\"", version,
                           def->version);

    g_autofree char *repo_path = g_build_filename(dir, "repo", NULL);
    g_autoptr(OstreeRepo) src = NULL;
    g_autoptr(DcnVersion) v = NULL;
    if (!dcn_repo_open(repo_path, FALSE, &src, error) || !dcn_repo_load_version(src, commit, &v, error) ||
        !dcn_repo_import_tree(staging, src, commit, progress, error))
        return g_prefix_error(error, "edge-commit repo: "), FALSE;

    /* keep composer's metadata (package list, input hash...), not its version or bindings */
    g_autoptr(GVariant) meta = g_variant_get_child_value(v->variant, 0);
    out->extra = g_variant_dict_new(meta);
    g_variant_dict_remove(out->extra, OSTREE_COMMIT_META_KEY_VERSION);
    g_variant_dict_remove(out->extra, OSTREE_COMMIT_META_KEY_REF_BINDING);
    g_variant_dict_remove(out->extra, OSTREE_COMMIT_META_KEY_COLLECTION_BINDING);
    if (inputhash && !g_variant_dict_contains(out->extra, "rpmostree.inputhash"))
        g_variant_dict_insert(out->extra, "rpmostree.inputhash", "s", inputhash);
    g_variant_dict_insert(out->extra, "dcn.composer-commit", "s", commit);
    out->contents = g_strdup(v->contents);
    out->meta = g_strdup(v->meta);
    return TRUE;
}

static gboolean edge_run(const DcnDefinition *def, OstreeRepo *staging, DcnProgress *progress,
                         DcnComposeOutput *out, GError **error)
{
    const char *src = def->compose_source;
    if (!g_file_test(src, G_FILE_TEST_IS_REGULAR))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "compose.source %s: not a file (an edge-commit tarball)", src),
               FALSE;
    g_autofree char *dir = g_build_filename(def->staging, "tmp", "dcn-edge-XXXXXX", NULL);
    if (!g_mkdtemp(dir))
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Creating %s: %s", dir, g_strerror(errno)), FALSE;
    g_autoptr(GBytes) cj = NULL;
    gboolean ok = extract(src, dir, progress, &cj, error) && import_extracted(def, staging, dir, cj, progress, out, error);
    if (!ok)
        g_prefix_error(error, "Reading edge-commit tarball %s: ", src);
    g_autoptr(GError) rm_error = NULL;
    if (!dcn_rm_rf(dir, &rm_error))
        dcn_progress_event(progress, "warning", "msg=\"%s\"", rm_error->message);
    if (ok)
        out->source_desc = g_strdup_printf("edge-commit tarball %s", src);
    return ok;
}

const DcnComposeBackend dcn_compose_edge_commit = {"edge-commit", edge_run};
