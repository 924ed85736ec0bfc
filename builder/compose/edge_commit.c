/* compose/edge_commit: the `edge-commit` backend. compose.source is the tar
 * osbuild-composer's edge-commit image type produces (GET
 * /api/v1/compose/image/<uuid>): an archive-mode `repo/` and `compose.json`
 * with `ref`, `ostree-commit`, `rpm-ostree-inputhash`, `ostree-version`.
 * Member names may start with `./`.
 *
 * The tarball is input the builder does not control, so nothing in it is
 * trusted: every entry must be a file or a directory with a relative name
 * without '..', the tarball must stay within the limits of tar_limits.c,
 * and only the objects (repo/objects/XX/<62 hex>.{commit,dirtree,dirmeta,
 * filez}) are written, each under a name built here, into a temporary
 * directory inside the staging repo (removed at the end). libostree never
 * opens them as a repository: it loads a repository's metadata as trusted
 * (already checked) GVariants, and a crafted one reads out of bounds. The
 * import below reads each object itself, checks that it is in normal form,
 * has the checksum it is named by and the structure ostree requires, then
 * writes it into staging, where libostree checks the checksum again
 * (content objects are only checked there; what they unpack to counts
 * against the tarball's limit). */
#include "compose.h"
#include "fdio.h"
#include "error.h"
#include "json.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo.h"

#define COMPOSE_JSON_MAX (1024 * 1024)
#define TREE_DEPTH_MAX 256 /* directories nested deeper than this are refused (the walk recurses) */

/* ---- the tarball ---- */

static const char *type_name(mode_t type)
{
    switch (type) {
    case AE_IFLNK: return "a symlink";
    case AE_IFCHR: return "a character device";
    case AE_IFBLK: return "a block device";
    case AE_IFIFO: return "a fifo";
    case AE_IFSOCK: return "a socket";
    default: return "not a file or directory";
    }
}

/* The member name without leading "./"; NULL (and an error) for an
 * absolute name or one with a '..' component. */
static const char *member_name(const char *raw, GError **error)
{
    if (raw[0] == '/')
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s': absolute member names are not allowed", raw),
               NULL;
    const char *name = raw;
    while (name[0] == '.' && name[1] == '/')
        for (name += 2; *name == '/'; name++)
            ;
    g_auto(GStrv) parts = g_strsplit(name, "/", -1);
    for (char **p = parts; *p; p++)
        if (strcmp(*p, "..") == 0)
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': '..' is not allowed",
                               raw),
                   NULL;
    return name;
}

static gboolean is_hex(const char *s, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
            return FALSE;
    return TRUE;
}

/* "XX/<62 hex>.<ext>" for repo/objects/XX/<62 hex>.<ext> with an object
 * type the import needs, else NULL (config, refs, .commitmeta...: not
 * written). *metadata says whether it is a metadata object. */
static char *object_path(const char *name, gboolean *metadata)
{
    static const char *const exts[] = {"commit", "dirtree", "dirmeta", "filez"};
    if (!g_str_has_prefix(name, "repo/objects/"))
        return NULL;
    const char *p = name + strlen("repo/objects/");
    if (strlen(p) < 2 + 1 + 62 + 1 || !is_hex(p, 2) || p[2] != '/' || !is_hex(p + 3, 62) || p[65] != '.')
        return NULL;
    for (guint i = 0; i < G_N_ELEMENTS(exts); i++)
        if (strcmp(p + 66, exts[i]) == 0) {
            *metadata = i < 3;
            return g_strdup(p);
        }
    return NULL;
}

/* Writes the entry's data to dir_fd/path (a new file). */
static gboolean write_object(struct archive *a, int dir_fd, const char *path, const char *raw, GError **error)
{
    char sub[3] = {path[0], path[1], 0};
    if (mkdirat(dir_fd, sub, 0755) < 0 && errno != EEXIST)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "entry '%s': %s", raw, g_strerror(errno)),
               FALSE;
    int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                                             "entry '%s': the object appears twice", raw)
                               : g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "entry '%s': %s", raw,
                                             g_strerror(errno)),
               FALSE;
    char buf[64 * 1024];
    la_ssize_t n;
    gboolean ok = TRUE;
    while (ok && (n = archive_read_data(a, buf, sizeof buf)) > 0)
        if (!dcn_write_all(fd, buf, (gsize)n))
            ok = FALSE, g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "entry '%s': %s", raw,
                                    g_strerror(errno));
    if (ok && n < 0)
        ok = FALSE, g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "entry '%s': %s", raw,
                                archive_error_string(a));
    if (close(fd) < 0 && ok)
        ok = FALSE, g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "entry '%s': %s", raw,
                                g_strerror(errno));
    return ok;
}

static gboolean read_compose_json(struct archive *a, GByteArray *json, GError **error)
{
    char buf[8192];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0 && json->len <= COMPOSE_JSON_MAX)
        g_byte_array_append(json, (const guint8 *)buf, (guint)n);
    if (n < 0 || json->len > COMPOSE_JSON_MAX)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "compose.json: %s",
                           n < 0 ? archive_error_string(a) : "larger than 1 MiB"),
               FALSE;
    return TRUE;
}

/* Only files and directories belong in an edge-commit tarball. */
static gboolean plain_entry(struct archive_entry *e, const char *raw, GError **error)
{
    mode_t type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s' is a hard link (to '%s'): only files and directories belong in an edge-commit "
                           "tarball",
                           raw, archive_entry_hardlink(e)),
               FALSE;
    if (type != AE_IFREG && type != AE_IFDIR)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "entry '%s' is %s%s%s: only files and directories belong in an edge-commit tarball", raw,
                           type_name(type), type == AE_IFLNK ? " to " : "",
                           type == AE_IFLNK && archive_entry_symlink(e) ? archive_entry_symlink(e) : ""),
               FALSE;
    return TRUE;
}

/* Reads the tarball: compose.json into *out_compose_json, the objects into
 * dest (XX/REST.ext); *limits gets what the tarball was measured against. */
static gboolean extract(const char *tarball, const char *dest, DcnTarLimits *limits, DcnProgress *progress,
                        GBytes **out_compose_json, GError **error)
{
    if (!dcn_tar_limits_init(limits, tarball, dest, error))
        return FALSE;
    g_autoptr(DcnArchive) a = dcn_tar_open(tarball, error);
    if (!a)
        return FALSE;
    int dir_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dest, g_strerror(errno)), FALSE;
    g_autoptr(GByteArray) json = NULL;
    gboolean ok = TRUE;
    /* files: objects written; bytes: of the tarball read (its size is the total) */
    guint64 files = 0;
    dcn_progress_begin(progress, "extract", "files");
    dcn_progress_set_total(progress, 0, limits->tarball_size);
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            ok = FALSE, g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s", archive_error_string(a));
            break;
        }
        const char *raw = archive_entry_pathname(e);
        if (!raw) {
            ok = FALSE, g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "an entry without a name");
            break;
        }
        const char *name = member_name(raw, error);
        mode_t type = archive_entry_filetype(e);
        if (!name || !dcn_tar_limits_entry(limits, raw, archive_entry_size(e), error)) {
            ok = FALSE;
            break;
        }
        if (!(ok = plain_entry(e, raw, error)))
            break;
        if (type == AE_IFDIR)
            continue; /* the directories needed are made below */
        if (strcmp(name, "compose.json") == 0) {
            if (json) {
                ok = FALSE, g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                                        "entry '%s': compose.json appears twice", raw);
                break;
            }
            json = g_byte_array_new();
            if (!(ok = read_compose_json(a, json, error)))
                break;
            continue;
        }
        gboolean metadata = FALSE;
        g_autofree char *path = object_path(name, &metadata);
        if (!path)
            continue; /* anything else composer may add: not needed, not written */
        if (metadata && archive_entry_size(e) > OSTREE_MAX_METADATA_SIZE) {
            ok = FALSE, g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                                    "entry '%s': a metadata object of %" G_GINT64_FORMAT " bytes (ostree's limit is %u)",
                                    raw, (gint64)archive_entry_size(e), (guint)OSTREE_MAX_METADATA_SIZE);
            break;
        }
        if (!(ok = write_object(a, dir_fd, path, raw, error)))
            break;
        dcn_progress_set(progress, ++files, (guint64)archive_filter_bytes(a, -1));
    }
    close(dir_fd);
    if (ok && !json)
        ok = FALSE, g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "no compose.json in the tarball");
    if (ok) {
        *out_compose_json = g_byte_array_free_to_bytes(g_steal_pointer(&json));
        dcn_progress_end(progress);
    } else {
        dcn_progress_cancel(progress);
    }
    return ok;
}

/* ---- the import: checked objects into staging ---- */

typedef struct {
    OstreeRepo *staging;
    int dir_fd;        /* the extracted objects: XX/REST.ext */
    GHashTable *done;  /* "<checksum>.<type>" of the objects imported or present */
    DcnProgress *progress;
    guint64 content_bytes, max_bytes; /* file contents declared so far (uncompressed); the tarball's limit */
} Import;

static int open_object(Import *im, const char *csum, OstreeObjectType type, GError **error)
{
    const char *ext = type == OSTREE_OBJECT_TYPE_FILE ? "filez" : ostree_object_type_to_string(type);
    g_autofree char *path = g_strdup_printf("%.2s/%s.%s", csum, csum + 2, ext);
    int fd = openat(im->dir_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s.%s: %s", csum, ext,
                    errno == ENOENT ? "not in the tarball's repo/objects" : g_strerror(errno));
    return fd;
}

/* Reads a metadata object and checks it: normal form, its checksum, ostree's
 * structure. */
static GVariant *load_metadata(Import *im, OstreeObjectType type, const char *csum, GError **error)
{
    const char *what = ostree_object_type_to_string(type);
    int fd = open_object(im, csum, type, error);
    if (fd < 0)
        return NULL;
    g_autoptr(GMappedFile) map = g_mapped_file_new_from_fd(fd, FALSE, error);
    close(fd);
    if (!map)
        return g_prefix_error(error, "%s.%s: ", csum, what), NULL;
    g_autoptr(GBytes) bytes = g_mapped_file_get_bytes(map);
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_from_bytes(ostree_metadata_variant_type(type), bytes, FALSE));
    g_autofree char *actual = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, bytes);
    if (!g_variant_is_normal_form(v))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s.%s: not a valid %s object", csum,
                           what, what),
               NULL;
    if (strcmp(actual, csum) != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s.%s is corrupt: its content has checksum %s",
                           csum, what, actual),
               NULL;
    gboolean valid = type == OSTREE_OBJECT_TYPE_COMMIT    ? ostree_validate_structureof_commit(v, error)
                     : type == OSTREE_OBJECT_TYPE_DIR_TREE ? ostree_validate_structureof_dirtree(v, error)
                                                           : ostree_validate_structureof_dirmeta(v, error);
    if (!valid)
        return g_prefix_error(error, "%s.%s: ", csum, what), NULL;
    return g_steal_pointer(&v);
}

/* *out: the object needs no import (done already, or staging has it). */
static gboolean have(Import *im, OstreeObjectType type, const char *csum, gboolean *out, GError **error)
{
    g_autofree char *key = ostree_object_to_string(csum, type);
    if (g_hash_table_contains(im->done, key))
        return *out = TRUE, TRUE;
    if (!ostree_repo_has_object(im->staging, type, csum, out, NULL, error))
        return FALSE;
    if (*out) {
        g_hash_table_add(im->done, g_steal_pointer(&key));
        dcn_progress_add(im->progress, 1, 0); /* looked at, nothing imported */
    }
    return TRUE;
}

static void mark_done(Import *im, OstreeObjectType type, const char *csum, guint64 bytes)
{
    g_hash_table_add(im->done, ostree_object_to_string(csum, type));
    dcn_progress_add(im->progress, 1, bytes);
}

static gboolean import_file(Import *im, const char *csum, GError **error)
{
    gboolean present = FALSE;
    if (!have(im, OSTREE_OBJECT_TYPE_FILE, csum, &present, error))
        return FALSE;
    if (present)
        return TRUE;
    int fd = open_object(im, csum, OSTREE_OBJECT_TYPE_FILE, error);
    struct stat st;
    if (fd < 0)
        return FALSE;
    if (fstat(fd, &st) < 0)
        return close(fd), g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s.filez: %s", csum,
                                      g_strerror(errno)),
               FALSE;
    g_autoptr(GInputStream) in = g_unix_input_stream_new(fd, TRUE);
    g_autoptr(GInputStream) raw = NULL, content = NULL;
    g_autoptr(GFileInfo) info = NULL;
    g_autoptr(GVariant) xattrs = NULL;
    guint64 length = 0;
    g_autofree guchar *written = NULL;
    /* without out_csum, write_content takes the expected checksum on trust
     * (libostree 2022.7): ask for the real one and compare */
    if (!ostree_content_stream_parse(TRUE, in, (guint64)st.st_size, FALSE, &raw, &info, &xattrs, NULL, error))
        return g_prefix_error(error, "%s.filez: ", csum), FALSE;
    /* .filez is zlib: the tarball's limit holds for what it unpacks to too */
    goffset size = g_file_info_get_size(info);
    guint64 usize = size < 0 ? G_MAXUINT64 : (guint64)size;
    im->content_bytes = usize > G_MAXUINT64 - im->content_bytes ? G_MAXUINT64 : im->content_bytes + usize;
    if (im->content_bytes > im->max_bytes)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "%s.filez (%" G_GUINT64_FORMAT " bytes): the objects would unpack to more than %" G_GUINT64_FORMAT
                           " bytes: refused as a tar bomb",
                           csum, usize, im->max_bytes),
               FALSE;
    if (!ostree_raw_file_to_content_stream(raw, info, xattrs, &content, &length, NULL, error) ||
        !ostree_repo_write_content(im->staging, csum, content, length, &written, NULL, error))
        return g_prefix_error(error, "%s.filez: ", csum), FALSE;
    g_autofree char *actual = ostree_checksum_from_bytes(written);
    if (strcmp(actual, csum) != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "%s.filez is corrupt: its content has checksum %s", csum, actual),
               FALSE;
    mark_done(im, OSTREE_OBJECT_TYPE_FILE, csum, (guint64)st.st_size);
    return TRUE;
}

static gboolean import_metadata(Import *im, OstreeObjectType type, const char *csum, GVariant *v, GError **error)
{
    if (!ostree_repo_write_metadata(im->staging, type, csum, v, NULL, NULL, error))
        return g_prefix_error(error, "%s.%s: ", csum, ostree_object_type_to_string(type)), FALSE;
    mark_done(im, type, csum, g_variant_get_size(v));
    return TRUE;
}

static gboolean import_dirmeta(Import *im, const char *csum, GError **error)
{
    gboolean present = FALSE;
    if (!have(im, OSTREE_OBJECT_TYPE_DIR_META, csum, &present, error))
        return FALSE;
    if (present)
        return TRUE;
    g_autoptr(GVariant) v = load_metadata(im, OSTREE_OBJECT_TYPE_DIR_META, csum, error);
    return v && import_metadata(im, OSTREE_OBJECT_TYPE_DIR_META, csum, v, error);
}

/* A dirtree after everything it refers to: staging never holds a tree with
 * an object missing. */
static gboolean import_dirtree(Import *im, const char *csum, guint depth, GError **error)
{
    gboolean present = FALSE;
    if (!have(im, OSTREE_OBJECT_TYPE_DIR_TREE, csum, &present, error))
        return FALSE;
    if (present)
        return TRUE;
    if (depth > TREE_DEPTH_MAX)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "%s.dirtree: directories nested more than %u deep", csum, TREE_DEPTH_MAX),
               FALSE;
    g_autoptr(GVariant) v = load_metadata(im, OSTREE_OBJECT_TYPE_DIR_TREE, csum, error);
    if (!v)
        return FALSE;
    g_autoptr(GVariant) files = g_variant_get_child_value(v, 0);
    g_autoptr(GVariant) dirs = g_variant_get_child_value(v, 1);
    for (gsize i = 0; i < g_variant_n_children(files); i++) {
        g_autoptr(GVariant) csum_v = NULL;
        g_variant_get_child(files, i, "(&s@ay)", NULL, &csum_v);
        g_autofree char *fc = ostree_checksum_from_bytes_v(csum_v);
        if (!import_file(im, fc, error))
            return FALSE;
    }
    for (gsize i = 0; i < g_variant_n_children(dirs); i++) {
        g_autoptr(GVariant) tree_v = NULL, meta_v = NULL;
        g_variant_get_child(dirs, i, "(&s@ay@ay)", NULL, &tree_v, &meta_v);
        g_autofree char *tc = ostree_checksum_from_bytes_v(tree_v);
        g_autofree char *mc = ostree_checksum_from_bytes_v(meta_v);
        if (!import_dirmeta(im, mc, error) || !import_dirtree(im, tc, depth + 1, error))
            return FALSE;
    }
    return import_metadata(im, OSTREE_OBJECT_TYPE_DIR_TREE, csum, v, error);
}

static gboolean import_extracted(const DcnDefinition *def, OstreeRepo *staging, const char *dir, GBytes *cj,
                                 guint64 max_bytes, DcnProgress *progress, DcnComposeOutput *out, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len;
    const char *data = g_bytes_get_data(cj, &len);
    JsonObject *o = dcn_json_parse_object(parser, data, len, "compose.json", error);
    if (!o)
        return FALSE;
    const char *commit = dcn_json_str(o, "ostree-commit");
    if (!commit || !ostree_validate_checksum_string(commit, NULL))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "compose.json: 'ostree-commit' is missing or not a checksum"),
               FALSE;
    const char *ref = dcn_json_str(o, "ref"), *version = dcn_json_str(o, "ostree-version"),
               *inputhash = dcn_json_str(o, "rpm-ostree-inputhash");
    if (ref && strcmp(ref, def->ref) != 0)
        dcn_progress_event(progress, "warning", "msg=\"edge-commit was composed for ref %s; publishing on %s\"", ref,
                           def->ref);
    if (version && strcmp(version, def->version) != 0)
        dcn_progress_event(progress, "warning", "msg=\"edge-commit says version %s; staging it as %s\"", version,
                           def->version);

    Import im = {.staging = staging, .progress = progress, .max_bytes = max_bytes,
                 .done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    im.dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (im.dir_fd < 0) {
        g_hash_table_unref(im.done);
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", dir, g_strerror(errno)), FALSE;
    }
    dcn_progress_begin(progress, "import", "objects");
    g_autoptr(GVariant) cv = load_metadata(&im, OSTREE_OBJECT_TYPE_COMMIT, commit, error);
    g_autoptr(GVariant) contents = cv ? g_variant_get_child_value(cv, 6) : NULL;
    g_autoptr(GVariant) dirmeta = cv ? g_variant_get_child_value(cv, 7) : NULL;
    g_autofree char *contents_csum = contents ? ostree_checksum_from_bytes_v(contents) : NULL;
    g_autofree char *meta_csum = dirmeta ? ostree_checksum_from_bytes_v(dirmeta) : NULL;
    gboolean ok = cv && import_dirmeta(&im, meta_csum, error) && import_dirtree(&im, contents_csum, 0, error);
    close(im.dir_fd);
    g_hash_table_unref(im.done);
    if (!ok) {
        dcn_progress_cancel(progress);
        return g_prefix_error(error, "edge-commit repo: "), FALSE;
    }
    dcn_progress_end(progress);

    /* keep composer's metadata (package list, input hash...), not its version or bindings */
    g_autoptr(GVariant) meta = g_variant_get_child_value(cv, 0);
    out->extra = g_variant_dict_new(meta);
    g_variant_dict_remove(out->extra, OSTREE_COMMIT_META_KEY_VERSION);
    g_variant_dict_remove(out->extra, OSTREE_COMMIT_META_KEY_REF_BINDING);
    g_variant_dict_remove(out->extra, OSTREE_COMMIT_META_KEY_COLLECTION_BINDING);
    if (inputhash && !g_variant_dict_contains(out->extra, "rpmostree.inputhash"))
        g_variant_dict_insert(out->extra, "rpmostree.inputhash", "s", inputhash);
    g_variant_dict_insert(out->extra, "dcn.composer-commit", "s", commit);
    out->contents = g_steal_pointer(&contents_csum);
    out->meta = g_steal_pointer(&meta_csum);
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
    DcnTarLimits limits;
    gboolean ok = extract(src, dir, &limits, progress, &cj, error) &&
                  import_extracted(def, staging, dir, cj, limits.max_bytes, progress, out, error);
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
