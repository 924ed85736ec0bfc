/* repo_files: what the package stage reads from the ostree repo: its
 * objects (immutable: the object layers) and everything else (mutable:
 * the top layer). See package.h. */
#include "package.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>

static gboolean lstat_or_error(const char *path, struct stat *st, GError **error)
{
    if (lstat(path, st) == 0)
        return TRUE;
    int err = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", path, g_strerror(err));
    return FALSE;
}

gboolean dcn_package_list_objects(DcnPackageBuild *b, GError **error)
{
    g_autofree char *objdir = g_build_filename(b->def->repo, "objects", NULL);
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
                g_ptr_array_add(b->commitmeta, rel);
            } else {
                gint64 *size = g_new(gint64, 1);
                *size = st.st_size;
                g_hash_table_replace(b->objects, rel, size);
            }
        }
    }
    return TRUE;
}

gboolean dcn_package_add_mutable_tree(const char *repo, const char *rel, const char *prefix, GPtrArray *entries,
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
            if (!dcn_package_add_mutable_tree(repo, sub, prefix, entries, bytes, error))
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
