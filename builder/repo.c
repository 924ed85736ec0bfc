/* repo: see repo.h. */
#include "repo.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

void dcn_version_free(DcnVersion *v)
{
    if (!v)
        return;
    g_free(v->commit);
    g_free(v->parent);
    g_free(v->version);
    g_free(v->subject);
    g_free(v->contents);
    g_free(v->meta);
    g_free(v->rollback_of);
    if (v->variant)
        g_variant_unref(v->variant);
    g_free(v);
}

gboolean dcn_repo_open(const char *path, gboolean create, OstreeRepo **out, GError **error)
{
    g_autoptr(GFile) f = g_file_new_for_path(path);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(f);
    g_autofree char *config = g_build_filename(path, "config", NULL);
    if (create && !g_file_test(config, G_FILE_TEST_EXISTS)) {
        if (g_mkdir_with_parents(path, 0755) < 0)
            return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Creating %s: %s", path,
                               g_strerror(errno)),
                   FALSE;
        if (!ostree_repo_create(repo, OSTREE_REPO_MODE_ARCHIVE, NULL, error))
            return g_prefix_error(error, "Creating repository %s: ", path), FALSE;
    } else if (!ostree_repo_open(repo, NULL, error)) {
        return g_prefix_error(error, "Opening repository %s: ", path), FALSE;
    }
    *out = g_steal_pointer(&repo);
    return TRUE;
}

gboolean dcn_repo_load_version(OstreeRepo *repo, const char *checksum, DcnVersion **out, GError **error)
{
    g_autoptr(GVariant) commit = NULL;
    if (!ostree_repo_load_variant(repo, OSTREE_OBJECT_TYPE_COMMIT, checksum, &commit, error))
        return g_prefix_error(error, "Loading commit %s: ", checksum), FALSE;
    g_autoptr(DcnVersion) v = g_new0(DcnVersion, 1);
    v->commit = g_strdup(checksum);
    v->parent = ostree_commit_get_parent(commit);
    v->timestamp = ostree_commit_get_timestamp(commit);
    g_autoptr(GVariant) meta = g_variant_get_child_value(commit, 0);
    g_autoptr(GVariantDict) dict = g_variant_dict_new(meta);
    g_variant_dict_lookup(dict, OSTREE_COMMIT_META_KEY_VERSION, "s", &v->version);
    g_variant_dict_lookup(dict, "dcn.rollback-of", "s", &v->rollback_of);
    g_variant_get_child(commit, 3, "s", &v->subject);
    g_autoptr(GVariant) contents = g_variant_get_child_value(commit, 6);
    g_autoptr(GVariant) dirmeta = g_variant_get_child_value(commit, 7);
    v->contents = ostree_checksum_from_bytes_v(contents);
    v->meta = ostree_checksum_from_bytes_v(dirmeta);
    v->variant = g_steal_pointer(&commit);
    *out = g_steal_pointer(&v);
    return TRUE;
}

gboolean dcn_repo_history(OstreeRepo *repo, const char *ref, guint max, GPtrArray **out, GError **error)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)dcn_version_free);
    g_autofree char *checksum = NULL;
    if (!ostree_repo_resolve_rev(repo, ref, TRUE, &checksum, error))
        return FALSE;
    while (checksum && (max == 0 || list->len < max)) {
        gboolean have = FALSE;
        if (!ostree_repo_has_object(repo, OSTREE_OBJECT_TYPE_COMMIT, checksum, &have, NULL, error))
            return FALSE;
        if (!have)
            break;
        DcnVersion *v;
        if (!dcn_repo_load_version(repo, checksum, &v, error))
            return FALSE;
        g_ptr_array_add(list, v);
        g_free(checksum);
        checksum = g_strdup(v->parent);
    }
    *out = g_steal_pointer(&list);
    return TRUE;
}

gboolean dcn_version_same_tree(const DcnVersion *a, const DcnVersion *b)
{
    return g_str_equal(a->contents, b->contents) && g_str_equal(a->meta, b->meta);
}

char *dcn_repo_staging_ref(const DcnDefinition *def)
{
    return g_strdup_printf("dcn-staging/%s/%s", def->ref, def->version);
}

gboolean dcn_repo_root_from_checksums(OstreeRepo *repo, const char *contents, const char *meta, GFile **out,
                                      GError **error)
{
    g_autoptr(OstreeMutableTree) mtree = ostree_mutable_tree_new_from_checksum(repo, contents, meta);
    return ostree_repo_write_mtree(repo, mtree, out, NULL, error);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

gboolean dcn_rm_rf(const char *path, GError **error)
{
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Removing %s: %s", path,
                           g_strerror(errno)),
               FALSE;
    return TRUE;
}

/* Bytes of an object as stored in repo (0 when it cannot be told). */
static guint64 object_size(OstreeRepo *repo, const char *csum, OstreeObjectType type)
{
    /* the loose object layout (libostree has no public call for the path) */
    gboolean archive = ostree_repo_get_mode(repo) == OSTREE_REPO_MODE_ARCHIVE;
    const char *ext = type == OSTREE_OBJECT_TYPE_FILE ? (archive ? "filez" : "file") : ostree_object_type_to_string(type);
    g_autofree char *rel = g_strdup_printf("objects/%.2s/%s.%s", csum, csum + 2, ext);
    struct stat st;
    return fstatat(ostree_repo_get_dfd(repo), rel, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (guint64)st.st_size : 0;
}

static gboolean is_commit_object(OstreeObjectType type)
{
    return type == OSTREE_OBJECT_TYPE_COMMIT || type == OSTREE_OBJECT_TYPE_COMMIT_META;
}

gboolean dcn_repo_import_tree(OstreeRepo *dest, OstreeRepo *src, const char *commit, DcnProgress *progress,
                              GError **error)
{
    g_autoptr(GHashTable) reachable = NULL;
    if (!ostree_repo_traverse_commit(src, commit, 0, &reachable, NULL, error))
        return g_prefix_error(error, "Listing objects of %s: ", commit), FALSE;
    GHashTableIter it;
    gpointer key;
    guint64 total = 0;
    g_hash_table_iter_init(&it, reachable);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *csum;
        OstreeObjectType type;
        ostree_object_name_deserialize(key, &csum, &type);
        total += !is_commit_object(type);
    }
    /* objects: looked at (already there or imported); bytes: imported, as stored in src */
    dcn_progress_begin(progress, "import", "objects");
    dcn_progress_set_total(progress, total, 0);
    g_hash_table_iter_init(&it, reachable);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *csum;
        OstreeObjectType type;
        ostree_object_name_deserialize(key, &csum, &type);
        if (is_commit_object(type))
            continue;
        gboolean have = FALSE;
        if (!ostree_repo_has_object(dest, type, csum, &have, NULL, error))
            return FALSE;
        if (have) {
            dcn_progress_add(progress, 1, 0);
            continue;
        }
        if (!ostree_repo_import_object_from_with_trust(dest, src, type, csum, TRUE, NULL, error))
            return g_prefix_error(error, "Importing %s.%s: ", csum, ostree_object_type_to_string(type)), FALSE;
        dcn_progress_add(progress, 1, object_size(src, csum, type));
    }
    dcn_progress_end(progress);
    return TRUE;
}
