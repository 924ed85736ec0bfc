/* teardown: deletes the builder and everything provision made for it: the
 * VM (provider down: kubectl delete / virsh destroy+undefine), a Weldr
 * socket forward left running, and <state_dir>/builder/ (keys, manifests,
 * disk overlay, seed, known_hosts), then provision.json, so later stages
 * know there is no builder. Idempotent: with nothing left it changes
 * nothing. Its commands are not interrupted by SIGINT/SIGTERM: run calls it
 * precisely when those arrive. */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "error.h"
#include "plan.h"
#include "provision.h"
#include "repo.h"
#include "stage.h"

/* Stops the ssh -L process compose/weldr started, if it is still there. */
static void stop_forward(DcnProvision *p)
{
    g_autofree char *pidfile = dcn_provision_path(p, "weldr-forward.pid");
    g_autofree char *text = NULL;
    if (!g_file_get_contents(pidfile, &text, NULL, NULL))
        return;
    gint64 pid = g_ascii_strtoll(text, NULL, 10);
    g_autofree char *cmdline_path = g_strdup_printf("/proc/%" G_GINT64_FORMAT "/cmdline", pid);
    g_autofree char *cmdline = NULL;
    gsize len = 0;
    if (pid > 1 && g_file_get_contents(cmdline_path, &cmdline, &len, NULL) && g_str_has_prefix(cmdline, "ssh")) {
        if (p->stage->dry_run) {
            dcn_plan(p->stage, "would stop the Weldr socket forward (ssh, pid %" G_GINT64_FORMAT ")", pid);
            return;
        }
        kill(-(pid_t)pid, SIGTERM);
        kill((pid_t)pid, SIGTERM);
        dcn_progress_event(&p->stage->progress, "forward-stopped", "pid=%" G_GINT64_FORMAT, pid);
        p->changed = TRUE;
    }
    if (!p->stage->dry_run)
        g_unlink(pidfile);
}

gboolean dcn_stage_teardown(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    dcn_interrupt_install();
    DcnProvision p;
    if (!dcn_provision_open(&p, ctx, FALSE, error))
        return FALSE;
    const char *kind = json_object_get_string_member_with_default(p.inventory, "provider", def->provider);
    const DcnProvider *prov = dcn_provider_find(kind);
    gboolean ok = TRUE;
    if (!prov) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s/inventory.json: unknown provider '%s'",
                    p.dir, kind);
        ok = FALSE;
    }
    if (ok) {
        dcn_progress_event(&ctx->progress, "start", "provider=%s dir=%s", kind, p.dir);
        stop_forward(&p);
        ok = prov->down(&p, error);
        if (!ok)
            g_prefix_error(error, "%s: ", kind);
    }
    g_autofree char *provision_json = g_build_filename(def->state_dir, "provision.json", NULL);
    if (ok && ctx->dry_run) {
        dcn_plan(ctx, "would remove %s (keys, manifests, disks, seed) and %s", p.dir, provision_json);
    } else if (ok) {
        /* everything provision made lives here; the inventory goes last */
        if (g_file_test(p.dir, G_FILE_TEST_EXISTS)) {
            ok = dcn_rm_rf(p.dir, error);
            p.changed = TRUE;
        }
        if (ok && g_unlink(provision_json) == 0)
            p.changed = TRUE;
    }
    if (ok) {
        dcn_progress_event(&ctx->progress, p.changed ? "done" : "unchanged", "provider=%s", kind);
        json_object_set_string_member(ctx->result, "provider", kind);
        json_object_set_boolean_member(ctx->result, "changed", p.changed);
    }
    dcn_provision_clear(&p);
    return ok;
}
