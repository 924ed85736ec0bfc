/* cmd: see cmd.h. */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The process-wide interrupt state (a signal handler can do no more). */
static volatile sig_atomic_t dcn_interrupt_signal;
static volatile sig_atomic_t dcn_interrupt_count;
static gboolean dcn_interrupt_installed;

static void on_signal(int sig)
{
    dcn_interrupt_signal = sig;
    /* the third one ends the process at once (teardown skipped): a way out
     * when a stage that does not poll the flag takes too long */
    if (++dcn_interrupt_count >= 3) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

void dcn_interrupt_install(void)
{
    if (dcn_interrupt_installed)
        return;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* other stages' blocking calls go on; our loops poll the flag */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    dcn_interrupt_installed = TRUE;
}

int dcn_interrupted(void) { return dcn_interrupt_signal; }

gboolean dcn_interrupt_check(GError **error)
{
    int sig = dcn_interrupt_signal;
    if (!sig)
        return FALSE;
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted by %s", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP");
    return TRUE;
}

gboolean dcn_interruptible_sleep(guint ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    while (!dcn_interrupt_signal) {
        gint64 left = end - g_get_monotonic_time();
        if (left <= 0)
            return TRUE;
        g_usleep((gulong)MIN(left, 50000));
    }
    return FALSE;
}

void dcn_cmd_result_clear(DcnCmdResult *res)
{
    g_free(res->out);
    g_free(res->err);
    *res = (DcnCmdResult){.status = -1};
}

char *dcn_cmd_to_string(const char *const *argv)
{
    GString *s = g_string_new(NULL);
    for (const char *const *a = argv; *a; a++) {
        if (s->len)
            g_string_append_c(s, ' ');
        gboolean plain = **a != 0;
        for (const char *p = *a; *p && plain; p++)
            plain = g_ascii_isalnum(*p) || strchr("-_./:=@,+%", *p);
        if (plain) {
            g_string_append(s, *a);
        } else {
            g_autofree char *q = g_shell_quote(*a);
            g_string_append(s, q);
        }
    }
    return g_string_free(s, FALSE);
}

static void child_setup(gpointer data)
{
    setpgid(0, 0);
    /* the child must not inherit our handlers' "ignore" effects: defaults */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
}

static int wait_status(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1; }

void dcn_cmd_stop(GPid pid, guint grace_ms)
{
    if (pid <= 0)
        return;
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    int st;
    for (guint waited = 0; waited < grace_ms; waited += 20) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return;
        g_usleep(20000);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

gboolean dcn_cmd_spawn(const char *const *argv, const char *log_path, GPid *out_pid, GError **error)
{
    int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "opening %s: %s", log_path,
                           g_strerror(errno)),
               FALSE;
    GPid pid;
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    gboolean ok = g_spawn_async_with_fds(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                         child_setup, NULL, &pid, in, fd, fd, error);
    close(in);
    close(fd);
    if (!ok) {
        g_autofree char *line = dcn_cmd_to_string(argv);
        return g_prefix_error(error, "starting %s: ", line), FALSE;
    }
    *out_pid = pid;
    return TRUE;
}

/* Emits complete lines of buf (from *pos) as events; keeps the rest. */
static void echo_lines(DcnProgress *p, const char *stream, GString *buf, gsize *pos, gboolean all)
{
    for (;;) {
        char *nl = memchr(buf->str + *pos, '\n', buf->len - *pos);
        if (!nl && !(all && *pos < buf->len))
            return;
        gsize end = nl ? (gsize)(nl - buf->str) : buf->len;
        g_autofree char *line = g_strndup(buf->str + *pos, end - *pos);
        g_autofree char *esc = g_strescape(line, NULL);
        dcn_progress_event(p, "output", "stream=%s line=\"%s\"", stream, esc);
        *pos = nl ? end + 1 : end;
    }
}

static char *last_line(const char *s)
{
    g_autofree char *t = g_strstrip(g_strdup(s ? s : ""));
    const char *nl = strrchr(t, '\n');
    return g_strdup(nl ? nl + 1 : t);
}

/* A command running under dcn_cmd_run: its pipes (-1 once closed) and
 * what it wrote so far. */
typedef struct {
    const DcnCmd *cmd;
    GPid pid;
    int fin, fout, ferr;
    GString *out, *err;
    gsize out_pos, err_pos; /* echoed up to here */
    gsize in_off, in_len;   /* cmd->input written so far, its length */
} Running;

/* A command worth echoing is a long one: a task, so a silent stretch still shows. */
static void echo_begin(DcnProgress *echo, const char *line)
{
    g_autofree char *shown = g_strescape(line, NULL);
    if (strlen(shown) > 100)
        strcpy(shown + 97, "...");
    dcn_progress_begin(echo, "command", NULL);
    dcn_progress_detail(echo, "cmd=\"%s\"", shown);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Writes what the child's stdin takes now; closes it when all is written. */
static void feed_input(Running *r)
{
    ssize_t w = write(r->fin, r->cmd->input + r->in_off, r->in_len - r->in_off);
    if (w > 0)
        r->in_off += (gsize)w;
    if (w < 0 && errno != EAGAIN && errno != EINTR)
        r->in_off = r->in_len; /* EPIPE: the child does not read its input */
    if (r->in_off >= r->in_len)
        close_fd(&r->fin);
}

/* Reads what stdout (k 0) or stderr (k 1) has; closes it at its end. */
static void read_output(Running *r, int k)
{
    int *fd = k ? &r->ferr : &r->fout;
    GString *buf = k ? r->err : r->out;
    char chunk[8192];
    ssize_t got = read(*fd, chunk, sizeof chunk);
    if (got > 0) {
        g_string_append_len(buf, chunk, got);
        if (r->cmd->echo)
            echo_lines(r->cmd->echo, k ? "stderr" : "stdout", buf, k ? &r->err_pos : &r->out_pos, FALSE);
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        close_fd(fd);
    }
}

/* Feeds stdin and collects stdout and stderr until both end. NULL then;
 * "interrupted" or "timeout" when it stopped waiting. */
static const char *pump(Running *r)
{
    const DcnCmd *cmd = r->cmd;
    gint64 deadline = cmd->timeout_s ? g_get_monotonic_time() + (gint64)cmd->timeout_s * G_USEC_PER_SEC : 0;
    while (r->fout >= 0 || r->ferr >= 0) {
        struct pollfd pf[3];
        int n = 0, iout = -1, ierr = -1, iin = -1;
        if (r->fout >= 0)
            pf[iout = n++] = (struct pollfd){r->fout, POLLIN, 0};
        if (r->ferr >= 0)
            pf[ierr = n++] = (struct pollfd){r->ferr, POLLIN, 0};
        if (r->fin >= 0)
            pf[iin = n++] = (struct pollfd){r->fin, POLLOUT, 0};
        int ready = poll(pf, (nfds_t)n, 100);
        if (ready < 0 && errno != EINTR)
            break;
        if (!cmd->uninterruptible && dcn_interrupted())
            return "interrupted";
        if (deadline && g_get_monotonic_time() > deadline)
            return "timeout";
        if (ready <= 0)
            continue;
        if (iin >= 0 && pf[iin].revents)
            feed_input(r);
        if (iout >= 0 && pf[iout].revents)
            read_output(r, 0);
        if (ierr >= 0 && pf[ierr].revents)
            read_output(r, 1);
    }
    return NULL;
}

/* Stops the child when pump gave up on it, else reaps it (res->status);
 * the rest of the output is echoed and the task ends. */
static void finish_child(Running *r, const char *why, DcnCmdResult *res)
{
    if (why)
        dcn_cmd_stop(r->pid, 2000);
    close_fd(&r->fin);
    close_fd(&r->fout);
    close_fd(&r->ferr);
    if (!why) {
        int st = 0;
        while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
            ;
        res->status = wait_status(st);
    }
    g_spawn_close_pid(r->pid);
    DcnProgress *echo = r->cmd->echo;
    if (echo) {
        echo_lines(echo, "stdout", r->out, &r->out_pos, TRUE);
        echo_lines(echo, "stderr", r->err, &r->err_pos, TRUE);
        if (!why && res->status == 0)
            dcn_progress_end(echo);
        else
            dcn_progress_cancel(echo);
    }
    res->out = g_string_free(r->out, FALSE);
    res->err = g_string_free(r->err, FALSE);
}

/* The error for how the command ended, if it is one. */
static gboolean check_outcome(const DcnCmd *cmd, const char *line, const char *why, const DcnCmdResult *res,
                              GError **error)
{
    if (why && strcmp(why, "interrupted") == 0) {
        dcn_interrupt_check(error);
        g_prefix_error(error, "%s: ", line);
        return FALSE;
    }
    if (why)
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s: no result after %u s (timeout)", line,
                           cmd->timeout_s),
               FALSE;
    if (res->status != 0 && !cmd->allow_fail) {
        g_autofree char *tail = last_line(*res->err ? res->err : res->out);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: exit status %d%s%s", line, res->status,
                    *tail ? ": " : "", tail);
        return FALSE;
    }
    return TRUE;
}

gboolean dcn_cmd_run(const DcnCmd *cmd, DcnCmdResult *res_out, GError **error)
{
    g_auto(DcnCmdResult) res = {.status = -1};
    g_autofree char *line = dcn_cmd_to_string(cmd->argv);
    if (!cmd->uninterruptible && dcn_interrupt_check(error))
        return g_prefix_error(error, "%s: ", line), FALSE;
    Running r = {.cmd = cmd, .fin = -1, .fout = -1, .ferr = -1};
    if (!g_spawn_async_with_pipes(NULL, (char **)cmd->argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                  child_setup, NULL, &r.pid, cmd->input ? &r.fin : NULL, &r.fout, &r.ferr, error))
        return g_prefix_error(error, "starting %s: ", line), FALSE;
    if (cmd->echo)
        echo_begin(cmd->echo, line);
    r.out = g_string_new(NULL);
    r.err = g_string_new(NULL);
    r.in_len = cmd->input ? strlen(cmd->input) : 0;
    if (r.fin >= 0)
        fcntl(r.fin, F_SETFL, fcntl(r.fin, F_GETFL) | O_NONBLOCK);
    if (r.fin >= 0 && r.in_len == 0)
        close_fd(&r.fin);
    const char *why = pump(&r);
    finish_child(&r, why, &res);
    gboolean ok = check_outcome(cmd, line, why, &res, error);
    if (res_out) {
        dcn_cmd_result_clear(res_out);
        *res_out = res;
        res = (DcnCmdResult){.status = -1};
    }
    return ok;
}
