/* kickstart stage: writes the kickstart (render.c) next to the repo, and
 * for a signed repo the public key as <name>.gpg beside it (publish
 * refreshes both; the kickstart stage writes them alone). dcn-hoster serves
 * *.ks files with @URL@, @REPO_URL@, @REF@ and @COMMIT@ filled in.
 *
 * Unsigned repo: `ostreesetup ... --nogpg`. Signed repo: ostreesetup
 * verifies (no --nogpg); %pre puts the public key into the installer's
 * ostree keyring directory, and %post imports it for the installed
 * system's remote, so rpm-ostree upgrades verify too. */
#include "error.h"
#include "ks_syntax.h"
#include "stage.h"
#include "kickstart.h"

#include <errno.h>
#include <string.h>

gboolean dcn_gpg_export_public_key(const DcnDefinition *def, GBytes **out, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, "gpg");
    g_ptr_array_add(argv, "--batch");
    if (def->gpg_homedir) {
        g_ptr_array_add(argv, "--homedir");
        g_ptr_array_add(argv, def->gpg_homedir);
    }
    g_ptr_array_add(argv, "--export");
    g_ptr_array_add(argv, def->gpg_key_id);
    g_ptr_array_add(argv, NULL);
    gint status = 0;
    gsize len = 0;
    g_autoptr(GSubprocess) proc = g_subprocess_newv((const char *const *)argv->pdata,
                                                    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                                    error);
    if (!proc)
        return g_prefix_error(error, "Running gpg --export: "), FALSE;
    g_autoptr(GBytes) stdout_buf = NULL, stderr_buf = NULL;
    if (!g_subprocess_communicate(proc, NULL, NULL, &stdout_buf, &stderr_buf, error))
        return g_prefix_error(error, "Running gpg --export: "), FALSE;
    status = g_subprocess_get_exit_status(proc);
    g_bytes_get_data(stdout_buf, &len);
    if (!g_subprocess_get_successful(proc) || len == 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                           "gpg --export %s (homedir %s) gave no key (exit %d): %.*s", def->gpg_key_id,
                           def->gpg_homedir ? def->gpg_homedir : "default", status,
                           (int)g_bytes_get_size(stderr_buf), (const char *)g_bytes_get_data(stderr_buf, NULL)),
               FALSE;
    *out = g_steal_pointer(&stdout_buf);
    return TRUE;
}

/* Writes path atomically when its content differs. */
static gboolean write_if_changed(const char *path, const void *data, gsize len, DcnProgress *progress,
                                 gboolean *changed, GError **error)
{
    g_autofree char *old = NULL;
    gsize old_len = 0;
    if (g_file_get_contents(path, &old, &old_len, NULL) && old_len == len && memcmp(old, data, len) == 0)
        return TRUE;
    if (!g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
        return FALSE;
    *changed = TRUE;
    dcn_progress_event(progress, "wrote", "file=%s", path);
    return TRUE;
}

gboolean dcn_kickstart_read_inputs(const DcnDefinition *def, char **template_text, char **ca_pem, GError **error)
{
    if (def->kickstart_template) {
        gsize len = 0;
        if (!g_file_get_contents(def->kickstart_template, template_text, &len, error))
            return g_prefix_error(error, "kickstart.template: "), FALSE;
        if (memchr(*template_text, '\0', len))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "kickstart.template %s: a NUL byte: not a kickstart", def->kickstart_template),
                   FALSE;
    }
    if (def->kickstart_ca_file) {
        g_autofree char *text = NULL;
        gsize len = 0;
        if (!g_file_get_contents(def->kickstart_ca_file, &text, &len, error))
            return g_prefix_error(error, "kickstart.ca_file: "), FALSE;
        *ca_pem = dcn_ks_pem_certificates(text, len, error);
        if (!*ca_pem)
            return g_prefix_error(error, "kickstart.ca_file %s: ", def->kickstart_ca_file), FALSE;
    }
    return TRUE;
}

gboolean dcn_kickstart_write(const DcnDefinition *def, DcnProgress *progress, gboolean *changed, GError **error)
{
    g_autofree char *template_text = NULL, *ca_pem = NULL;
    if (!dcn_kickstart_read_inputs(def, &template_text, &ca_pem, error))
        return FALSE;
    DcnKickstartInputs in = {template_text, ca_pem};
    g_autofree char *ks = dcn_kickstart_render(def, &in);
    if (strlen(ks) > DCN_KICKSTART_MAX)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "kickstart %s would be %zu bytes: dcn-hoster serves kickstarts up to %u (kickstart.extra, "
                           "kickstart.template, kickstart.ca_file)",
                           def->kickstart_path, strlen(ks), DCN_KICKSTART_MAX),
               FALSE;
    g_autofree char *dir = g_path_get_dirname(def->kickstart_path);
    if (g_mkdir_with_parents(dir, 0755) < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Creating %s: %s", dir,
                           g_strerror(errno)),
               FALSE;
    if (!write_if_changed(def->kickstart_path, ks, strlen(ks), progress, changed, error))
        return g_prefix_error(error, "Writing kickstart %s: ", def->kickstart_path), FALSE;
    if (def->gpg_key_id) {
        g_autoptr(GBytes) key = NULL;
        g_autofree char *repo_dir = g_path_get_dirname(def->repo);
        g_autofree char *base = g_strdup_printf("%s.gpg", def->name);
        g_autofree char *path = g_build_filename(repo_dir, base, NULL);
        gsize len;
        if (!dcn_gpg_export_public_key(def, &key, error))
            return FALSE;
        const void *data = g_bytes_get_data(key, &len);
        if (!write_if_changed(path, data, len, progress, changed, error))
            return g_prefix_error(error, "Writing public key %s: ", path), FALSE;
    }
    return TRUE;
}

gboolean dcn_stage_kickstart(DcnStageCtx *ctx, GError **error)
{
    gboolean changed = FALSE;
    if (!dcn_kickstart_write(ctx->def, &ctx->progress, &changed, error))
        return FALSE;
    json_object_set_string_member(ctx->result, "kickstart", ctx->def->kickstart_path);
    json_object_set_boolean_member(ctx->result, "changed", changed);
    return TRUE;
}
