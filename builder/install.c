/* install: the compose tooling on the builder, over SSH (or locally with
 * provider local). One shell script, sent on stdin of `ssh … sh -s`:
 *   1. install.check succeeds -> nothing to do ("changed": false);
 *   2. else each install.commands entry (as root: sudo -n when the SSH user
 *      is not root), stopping at the first failure;
 *   3. install.check must succeed now.
 * Defaults (RHEL): dnf install -y osbuild-composer composer-cli, the SSH
 * user in group weldr (so it may use the socket), systemctl enable --now
 * osbuild-composer.socket; the check: rpm -q the packages and the socket
 * enabled and active. Output lines become "output" events. */
#include <string.h>

#include "error.h"
#include "plan.h"
#include "provision.h"
#include "stage.h"

#define INSTALL_TIMEOUT_S (60 * 60)

static char *join_quoted(char **items)
{
    GString *s = g_string_new(NULL);
    for (char **i = items; i && *i; i++) {
        g_autofree char *q = g_shell_quote(*i);
        g_string_append_printf(s, "%s%s", s->len ? " " : "", q);
    }
    return g_string_free(s, FALSE);
}

/* The script install runs on the target. */
static char *install_script(const DcnDefinition *def, const DcnTarget *t)
{
    g_autofree char *pkgs = join_quoted(def->install_packages);
    g_autofree char *check = def->install_check
                                 ? g_strdup(def->install_check)
                                 : g_strdup_printf("rpm -q %s >/dev/null && systemctl is-enabled --quiet "
                                                   "osbuild-composer.socket && systemctl is-active --quiet "
                                                   "osbuild-composer.socket",
                                                   pkgs);
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(g_free);
    if (def->install_commands) {
        for (char **c = def->install_commands; *c; c++)
            g_ptr_array_add(cmds, g_strdup(*c));
    } else {
        g_ptr_array_add(cmds, g_strdup_printf("dnf install -y %s", pkgs));
        if (!t->local && t->user && strcmp(t->user, "root") != 0)
            g_ptr_array_add(cmds, g_strdup_printf("usermod -a -G weldr %s", t->user));
        g_ptr_array_add(cmds, g_strdup("systemctl enable --now osbuild-composer.socket"));
    }
    GString *s = g_string_new("# dcn-builder install: idempotent, see docs/build-infra.md\n"
                              "set -u\n"
                              "if [ \"$(id -u)\" = 0 ]; then AS_ROOT=; else AS_ROOT='sudo -n'; fi\n");
    g_autofree char *qcheck = g_shell_quote(check);
    g_string_append_printf(s, "check() { sh -c %s; }\n", qcheck);
    g_string_append(s, "if check >/dev/null 2>&1; then echo 'dcn-install: already installed'; exit 0; fi\n");
    for (guint i = 0; i < cmds->len; i++) {
        g_autofree char *q = g_shell_quote(cmds->pdata[i]);
        g_string_append_printf(s,
                               "echo 'dcn-install: step %u/%u'; $AS_ROOT sh -c %s || { echo \"dcn-install: step %u "
                               "failed (exit $?): \"%s >&2; exit 3; }\n",
                               i + 1, cmds->len, q, i + 1, q);
    }
    g_string_append_printf(s, "if ! check; then echo \"dcn-install: the check still fails after installing: \"%s >&2; "
                              "exit 4; fi\n"
                              "echo 'dcn-install: installed'\n",
                           qcheck);
    return g_string_free(s, FALSE);
}

gboolean dcn_stage_install(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    dcn_interrupt_install();
    g_auto(DcnTarget) t = {0};
    if (!dcn_target_load(def, ctx->dry_run, &t, error))
        return FALSE;
    g_autofree char *where = dcn_target_describe(&t);
    g_autofree char *script = install_script(def, &t);
    g_autofree char *pkgs = g_strjoinv(" ", def->install_packages);
    if (ctx->dry_run) {
        if (t.local) {
            dcn_plan(ctx, "would run on this host: sh -s, with this script on stdin:");
        } else {
            g_autoptr(GPtrArray) argv = dcn_ssh_argv(&t, NULL, "sh -s");
            g_autofree char *line = dcn_cmd_to_string((const char *const *)argv->pdata);
            dcn_plan(ctx, "would run: %s, with this script on stdin:", line);
        }
        dcn_plan_file(ctx, "(install script)", script);
        json_object_set_string_member(ctx->result, "target", where);
        return TRUE;
    }
    dcn_progress_event(&ctx->progress, "start", "target=%s packages=\"%s\"", where, pkgs);
    g_auto(DcnCmdResult) res = {.status = -1};
    if (!dcn_target_run_script(&t, script, INSTALL_TIMEOUT_S, &ctx->progress, &res, error)) {
        if (res.status == 255 && !t.local)
            g_prefix_error(error, "SSH to %s failed or dropped: ", where);
        return g_prefix_error(error, "installing %s on %s: ", pkgs, where), FALSE;
    }
    gboolean changed = strstr(res.out, "dcn-install: already installed") == NULL;
    dcn_progress_event(&ctx->progress, changed ? "installed" : "unchanged", "target=%s", where);
    json_object_set_string_member(ctx->result, "target", where);
    JsonArray *a = json_array_new();
    for (char **p = def->install_packages; *p; p++)
        json_array_add_string_element(a, *p);
    json_object_set_array_member(ctx->result, "packages", a);
    json_object_set_boolean_member(ctx->result, "changed", changed);
    return TRUE;
}
