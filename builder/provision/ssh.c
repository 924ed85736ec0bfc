/* provision/ssh: an existing builder host reached with the OpenSSH client
 * (external virtualization, or a builder kept between builds). provision
 * checks that it answers; teardown leaves it alone. Also the ssh command
 * lines every provider's target uses (see provision.h). */
#include "plan.h"
#include "provision.h"

#include <string.h>

#include "error.h"

GPtrArray *dcn_ssh_argv(const DcnTarget *t, const char *const *extra_before_host, const char *remote_command)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
#define ADD(s) g_ptr_array_add(a, g_strdup(s))
#define ADDF(...) g_ptr_array_add(a, g_strdup_printf(__VA_ARGS__))
    ADD("ssh");
    /* never prompt; notice a dead connection within a minute */
    ADD("-o"), ADD("BatchMode=yes");
    ADD("-o"), ADD("ConnectTimeout=15");
    ADD("-o"), ADD("ServerAliveInterval=15");
    ADD("-o"), ADD("ServerAliveCountMax=4");
    ADD("-o"), ADD("LogLevel=ERROR");
    if (t->key) {
        ADD("-i"), ADD(t->key);
        ADD("-o"), ADD("IdentitiesOnly=yes");
    }
    if (t->known_hosts) {
        ADD("-o"), ADDF("UserKnownHostsFile=%s", t->known_hosts);
        ADD("-o"), ADDF("StrictHostKeyChecking=%s", t->accept_new ? "accept-new" : "yes");
    }
    if (t->proxy_command)
        ADD("-o"), ADDF("ProxyCommand=%s", t->proxy_command);
    for (char **o = t->options; o && *o; o++)
        ADD("-o"), ADD(*o);
    ADD("-p"), ADDF("%u", t->port ? t->port : 22);
    for (const char *const *e = extra_before_host; e && *e; e++)
        ADD(*e);
    ADD("--");
    if (t->user)
        ADDF("%s@%s", t->user, t->host);
    else
        ADD(t->host);
    if (remote_command)
        ADD(remote_command);
#undef ADD
#undef ADDF
    g_ptr_array_add(a, NULL);
    return a;
}

gboolean dcn_ssh_wait(DcnProvision *p, const DcnTarget *t, guint timeout_s, GError **error)
{
    g_autofree char *where = dcn_target_describe(t);
    /* Ready means first-boot setup is over, not just that sshd answered once:
     * cloud-init restarts sshd (new host keys) after its first start, which
     * would cut the next command's connection. */
    g_autoptr(GPtrArray) argv = dcn_ssh_argv(
        t, NULL,
        "if [ -d /run/cloud-init ] && command -v cloud-init >/dev/null 2>&1; then "
        "timeout 900 cloud-init status --wait >/dev/null 2>&1; fi; true");
    if (p->stage->dry_run) {
        g_autofree char *line = dcn_cmd_to_string((const char *const *)argv->pdata);
        dcn_plan(p->stage, "would wait up to %u s until SSH answers: %s", timeout_s, line);
        return TRUE;
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    g_autofree char *last = NULL;
    guint tries = 0;
    for (;;) {
        g_auto(DcnCmdResult) res = {.status = -1};
        g_autoptr(GError) e = NULL;
        DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = 30, .allow_fail = TRUE};
        tries++;
        if (dcn_cmd_run(&cmd, &res, &e) && res.status == 0) {
            dcn_progress_event(&p->stage->progress, "ssh-ready", "target=%s tries=%u", where, tries);
            return TRUE;
        }
        if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return g_propagate_error(error, g_steal_pointer(&e)), FALSE;
        g_free(last);
        last = e ? g_strdup(e->message) : g_strstrip(g_strdup(res.err && *res.err ? res.err : "no answer"));
        if (tries == 1 || tries % 10 == 0)
            dcn_progress_event(&p->stage->progress, "ssh-wait", "target=%s tries=%u", where, tries);
        if (g_get_monotonic_time() > deadline)
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               "no SSH on %s after %u s (provider.timeout_s): %s", where, timeout_s, last),
                   FALSE;
        if (!dcn_interruptible_sleep(2000))
            return dcn_interrupt_check(error), FALSE;
    }
}

static gboolean ssh_up(DcnProvision *p, GError **error)
{
    const DcnDefinition *def = p->def;
    if (!def->ssh_host)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "provider ssh needs ssh.host (or --ssh-host)"),
               FALSE;
    DcnTarget *t = &p->target;
    t->provider = g_strdup("ssh");
    t->host = g_strdup(def->ssh_host);
    t->port = def->ssh_port ? def->ssh_port : 22;
    t->user = g_strdup(def->ssh_user);
    t->key = g_strdup(def->ssh_key);
    t->known_hosts = g_strdup(def->ssh_known_hosts);
    t->options = g_strdupv(def->ssh_options);
    return dcn_ssh_wait(p, t, def->provider_timeout_s, error);
}

static gboolean ssh_down(DcnProvision *p, GError **error)
{
    if (p->stage->dry_run)
        dcn_plan(p->stage, "provider ssh: the host %s is not ours to delete; only local files go",
                 p->def->ssh_host ? p->def->ssh_host : "(ssh.host)");
    return TRUE;
}

const DcnProvider dcn_provider_ssh = {"ssh", ssh_up, ssh_down};
