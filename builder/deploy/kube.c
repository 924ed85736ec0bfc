/* kube: see kube.h. */
#include "kube.h"
#include "kube_output.h"
#include "cmd.h" /* dcn_interrupted(): under `run`, SIGINT/SIGTERM set a flag */

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

void dcn_kube_init(DcnKube *k, const char *cmd, const char *ns, gboolean dry_run, DcnProgress *progress)
{
    *k = (DcnKube){.cmd = cmd, .ns = g_strdup(ns), .dry_run = dry_run, .progress = progress, .commands = json_array_new()};
}

void dcn_kube_clear(DcnKube *k)
{
    if (k->commands)
        json_array_unref(k->commands);
    k->commands = NULL;
    g_clear_pointer(&k->ns, g_free);
}

static GPtrArray *full_argv(const DcnKube *k, DcnKubeKind kind, const char *const *argv)
{
    GPtrArray *a = g_ptr_array_new();
    g_ptr_array_add(a, (gpointer)k->cmd);
    if (kind != DCN_KUBE_LOCAL && k->ns) {
        g_ptr_array_add(a, (gpointer) "--namespace");
        g_ptr_array_add(a, (gpointer)k->ns);
    }
    for (const char *const *p = argv; *p; p++)
        g_ptr_array_add(a, (gpointer)*p);
    g_ptr_array_add(a, NULL);
    return a;
}

char *dcn_kube_cmdline(const DcnKube *k, DcnKubeKind kind, const char *const *argv)
{
    g_autoptr(GPtrArray) a = full_argv(k, kind, argv);
    GString *s = g_string_new(NULL);
    for (guint i = 0; a->pdata[i]; i++) {
        const char *w = a->pdata[i];
        gboolean plain = *w != '\0';
        for (const char *c = w; *c && plain; c++)
            plain = g_ascii_isalnum(*c) || strchr("-_./:=@,+%", *c);
        g_autofree char *q = plain ? g_strdup(w) : g_shell_quote(w);
        g_string_append_printf(s, "%s%s", i ? " " : "", q);
    }
    return g_string_free(s, FALSE);
}

typedef struct {
    GMainLoop *loop;
    char *out, *err;
    GError *error;
    gboolean done, timed_out, interrupted;
} RunState;

static void on_communicate(GObject *src, GAsyncResult *res, gpointer data)
{
    RunState *st = data;
    g_subprocess_communicate_utf8_finish(G_SUBPROCESS(src), res, &st->out, &st->err, &st->error);
    st->done = TRUE;
    g_main_loop_quit(st->loop);
}

static gboolean on_tick(gpointer data)
{
    RunState *st = data;
    if (!dcn_interrupted())
        return G_SOURCE_CONTINUE;
    st->interrupted = TRUE;
    g_main_loop_quit(st->loop);
    return G_SOURCE_REMOVE;
}

static gboolean on_timeout(gpointer data)
{
    RunState *st = data;
    st->timed_out = TRUE;
    g_main_loop_quit(st->loop);
    return G_SOURCE_REMOVE;
}

gboolean dcn_kube_run(DcnKube *k, DcnKubeKind kind, guint timeout_s, char **out, gboolean *not_found,
                      GError **error, const char *const *argv)
{
    g_autofree char *line = dcn_kube_cmdline(k, kind, argv);
    json_array_add_string_element(k->commands, line);
    if (not_found)
        *not_found = FALSE;
    if (out)
        *out = NULL;
    if (k->dry_run && kind == DCN_KUBE_CHANGE) {
        dcn_progress_event(k->progress, "dry-run", "cmd=\"%s\"", line);
        if (out)
            *out = g_strdup("");
        return TRUE;
    }
    dcn_progress_event(k->progress, "run", "cmd=\"%s\"", line);

    g_autoptr(GPtrArray) a = full_argv(k, kind, argv);
    g_autoptr(GMainContext) mc = g_main_context_new();
    g_main_context_push_thread_default(mc);
    g_autoptr(GSubprocess) proc =
        g_subprocess_newv((const char *const *)a->pdata,
                          G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, /* stdin: /dev/null, never a prompt */
                          error);
    if (!proc) {
        g_main_context_pop_thread_default(mc);
        g_prefix_error(error, "%s: ", line);
        return FALSE;
    }
    RunState st = {.loop = g_main_loop_new(mc, FALSE)};
    g_subprocess_communicate_utf8_async(proc, NULL, NULL, on_communicate, &st);
    GSource *timer = g_timeout_source_new_seconds(timeout_s ? timeout_s : 60);
    g_source_set_callback(timer, on_timeout, &st, NULL);
    g_source_attach(timer, mc);
    GSource *tick = g_timeout_source_new(200);
    g_source_set_callback(tick, on_tick, &st, NULL);
    g_source_attach(tick, mc);
    g_main_loop_run(st.loop);
    g_source_destroy(timer);
    g_source_unref(timer);
    g_source_destroy(tick);
    g_source_unref(tick);
    if (!st.done) {
        /* timed out or interrupted: kill it and collect what it wrote */
        g_subprocess_force_exit(proc);
        while (!st.done)
            g_main_context_iteration(mc, TRUE);
    }
    g_main_loop_unref(st.loop);
    g_main_context_pop_thread_default(mc);

    gboolean ok = FALSE;
    if (st.error) {
        g_propagate_prefixed_error(error, st.error, "%s: ", line);
    } else if (st.interrupted) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: interrupted by signal %d (killed)", line,
                    dcn_interrupted());
    } else if (st.timed_out) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s: no answer in %u s (killed)", line,
                    timeout_s ? timeout_s : 60);
    } else if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
        g_autofree char *tail = dcn_kube_stderr_tail(st.err);
        if (not_found && dcn_kube_said_not_found(st.err))
            *not_found = TRUE;
        if (g_subprocess_get_if_exited(proc))
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: exit %d: %s", line,
                        g_subprocess_get_exit_status(proc), tail);
        else
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: killed by signal %d: %s", line,
                        g_subprocess_get_term_sig(proc), tail);
    } else {
        ok = TRUE;
        if (out)
            *out = g_steal_pointer(&st.out);
    }
    g_free(st.out);
    g_free(st.err);
    return ok;
}
