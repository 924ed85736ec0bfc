/* compose/ostree_layout: what makes a plain root filesystem a tree that
 * `ostree admin deploy` can deploy, and the check that says when a composed
 * tree still is not one.
 *
 * libostree keeps a deployment's default configuration in /usr/etc and
 * merges it into a writable /etc at deploy time ("Preparing /etc: No such
 * file or directory: /usr/etc" otherwise); rpm-ostree and osbuild move /etc
 * there at compose time, and so does the tree backend. It then needs a
 * kernel where it looks for one (/usr/lib/modules/VERSION/vmlinuz, or
 * /usr/lib/ostree-boot, or /boot) and an ID or PRETTY_NAME in os-release for
 * the boot entry. */
#include "compose.h"
#include "error.h"

#include <string.h>

gboolean dcn_tree_move_etc(OstreeRepo *repo, OstreeMutableTree *root, gboolean *out_moved, GError **error)
{
    *out_moved = FALSE;
    g_autofree char *etc_file = NULL;
    g_autoptr(OstreeMutableTree) etc = NULL;
    g_autoptr(GError) local = NULL;
    if (!ostree_mutable_tree_lookup(root, "etc", &etc_file, &etc, &local)) {
        if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            return g_propagate_error(error, g_steal_pointer(&local)), FALSE;
        return TRUE; /* no /etc: nothing to move (the deployability check says so) */
    }
    if (etc_file)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "compose.source: /etc is not a directory (ostree deploys /usr/etc as /etc)"),
               FALSE;
    g_autoptr(OstreeMutableTree) usr = NULL;
    if (!ostree_mutable_tree_ensure_dir(root, "usr", &usr, error))
        return FALSE;
    g_autofree char *usr_etc_file = NULL;
    g_autoptr(OstreeMutableTree) usr_etc = NULL;
    g_clear_error(&local);
    if (ostree_mutable_tree_lookup(usr, "etc", &usr_etc_file, &usr_etc, &local))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "compose.source has both /etc and /usr/etc: ostree deploys /usr/etc as /etc, so keep "
                           "the configuration in one of them"),
               FALSE;
    if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return g_propagate_error(error, g_steal_pointer(&local)), FALSE;
    if (!ostree_mutable_tree_get_metadata_checksum(usr))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "compose.source has /etc but no /usr directory"),
               FALSE;

    /* Write /etc as it is, then graft the written directory at usr/etc:
     * the public mutable-tree API has no move. */
    g_autoptr(GFile) etc_written = NULL;
    if (!ostree_repo_write_mtree(repo, etc, &etc_written, NULL, error))
        return g_prefix_error(error, "Writing /etc: "), FALSE;
    if (!ostree_mutable_tree_remove(root, "etc", FALSE, error) ||
        !ostree_mutable_tree_ensure_dir(usr, "etc", &usr_etc, error) ||
        !ostree_repo_write_directory_to_mtree(repo, etc_written, usr_etc, NULL, NULL, error))
        return g_prefix_error(error, "Moving /etc to /usr/etc: "), FALSE;
    *out_moved = TRUE;
    return TRUE;
}

static gboolean has_kernel_in(GFile *dir, gboolean modules_layout)
{
    g_autoptr(GFileEnumerator) e =
        g_file_enumerate_children(dir, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                  G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
    if (!e)
        return FALSE;
    GFileInfo *info;
    while ((info = g_file_enumerator_next_file(e, NULL, NULL))) {
        g_autoptr(GFileInfo) owned = info;
        const char *name = g_file_info_get_name(info);
        if (modules_layout) {
            if (g_file_info_get_file_type(info) != G_FILE_TYPE_DIRECTORY)
                continue;
            g_autoptr(GFile) version_dir = g_file_get_child(dir, name);
            g_autoptr(GFile) k = g_file_get_child(version_dir, "vmlinuz");
            if (g_file_query_file_type(k, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL) == G_FILE_TYPE_REGULAR)
                return TRUE;
        } else if (g_str_has_prefix(name, "vmlinuz")) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Whether an os-release text sets ID or PRETTY_NAME to something. */
static gboolean os_release_has_id(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *eq = strchr(*l, '=');
        if (!eq || eq[1] == '\0' || g_str_equal(eq + 1, "\"\"") || g_str_equal(eq + 1, "''"))
            continue;
        if (g_str_has_prefix(*l, "ID=") || g_str_has_prefix(*l, "PRETTY_NAME="))
            return TRUE;
    }
    return FALSE;
}

static gboolean os_release_ok(GFile *root)
{
    /* libostree reads usr/lib/os-release, then etc/os-release; after the
     * move a tree's etc is usr/etc. A symlink is not followed here: the
     * usual one (etc/os-release -> ../usr/lib/os-release) is covered by
     * reading usr/lib first. */
    static const char *const paths[] = {"usr/lib/os-release", "usr/etc/os-release", "etc/os-release"};
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
        g_autoptr(GFile) f = g_file_resolve_relative_path(root, paths[i]);
        g_autofree char *text = NULL;
        gsize len = 0;
        if (g_file_query_file_type(f, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL) != G_FILE_TYPE_REGULAR ||
            !g_file_load_contents(f, NULL, &text, &len, NULL, NULL))
            continue;
        return os_release_has_id(text);
    }
    return FALSE;
}

GPtrArray *dcn_tree_undeployable_reasons(GFile *root)
{
    GPtrArray *why = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GFile) usr_etc = g_file_resolve_relative_path(root, "usr/etc");
    if (g_file_query_file_type(usr_etc, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL) != G_FILE_TYPE_DIRECTORY)
        g_ptr_array_add(why, g_strdup("no /usr/etc (ostree deploys it as /etc; the tree backend moves /etc there)"));
    g_autoptr(GFile) modules = g_file_resolve_relative_path(root, "usr/lib/modules");
    g_autoptr(GFile) ostree_boot = g_file_resolve_relative_path(root, "usr/lib/ostree-boot");
    g_autoptr(GFile) boot = g_file_resolve_relative_path(root, "boot");
    if (!has_kernel_in(modules, TRUE) && !has_kernel_in(ostree_boot, FALSE) && !has_kernel_in(boot, FALSE))
        g_ptr_array_add(why, g_strdup("no kernel (/usr/lib/modules/VERSION/vmlinuz, with initramfs.img beside it)"));
    if (!os_release_ok(root))
        g_ptr_array_add(why, g_strdup("no ID or PRETTY_NAME in /usr/lib/os-release"));
    return why;
}
