/* cmd: the external programs the stages drive (provision's ssh, kubectl,
 * virsh, ssh-keygen, qemu-img, genisoimage; deploy's kubectl; iso's
 * xorriso; compose weldr's ssh forward), run with a timeout, their output
 * captured (and optionally echoed as events), each in its own process group
 * so a Ctrl-C on the terminal reaches dcn-builder only: it decides what to
 * stop (and then tears down) instead of the children dying mid-command.
 *
 * The interrupt flag is the one piece of process-wide state: a signal
 * handler can only set a sig_atomic_t. Every wait loop here checks it. */
#ifndef DCN_BUILDER_CMD_H
#define DCN_BUILDER_CMD_H

#include <glib.h>

#include "progress.h"

typedef struct {
    const char *const *argv; /* NULL-terminated; argv[0] is looked up in PATH */
    const char *input;       /* written to stdin, or NULL for /dev/null */
    guint timeout_s;         /* kill the process group after this long (0: no limit) */
    DcnProgress *echo;       /* print each output line as an "output" event on this stage, or NULL */
    gboolean allow_fail;     /* a non-zero exit is not an error: the caller reads status */
    gboolean uninterruptible;/* keep running when interrupted (teardown's own commands) */
} DcnCmd;

typedef struct {
    int status; /* exit code; 128+N when killed by signal N; -1 when not run */
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
} DcnCmdResult;

void dcn_cmd_result_clear(DcnCmdResult *res);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnCmdResult, dcn_cmd_result_clear)

/* Runs cmd and waits. FALSE when it could not start, timed out, was
 * interrupted, or (unless allow_fail) exited non-zero; the message names the
 * command and carries the last line of its stderr. res may be NULL. */
gboolean dcn_cmd_run(const DcnCmd *cmd, DcnCmdResult *res, GError **error);

/* Starts argv in the background (own process group, stdin /dev/null,
 * stdout/stderr to log_path or /dev/null). */
gboolean dcn_cmd_spawn(const char *const *argv, const char *log_path, GPid *out_pid, GError **error);
/* SIGTERM to the process group, SIGKILL after grace_ms, reaps it. */
void dcn_cmd_stop(GPid pid, guint grace_ms);

/* argv as one shell-quoted line, for dry runs and messages. */
char *dcn_cmd_to_string(const char *const *argv);

/* SIGINT/SIGTERM/SIGHUP set the interrupt flag instead of ending the
 * process; the third signal ends it at once. Idempotent. */
void dcn_interrupt_install(void);
/* The signal received since install, or 0. */
int dcn_interrupted(void);
/* Sets error to "interrupted by SIGxxx" and returns TRUE when interrupted. */
gboolean dcn_interrupt_check(GError **error);
/* Sleeps up to ms, returning early (FALSE) on interrupt. */
gboolean dcn_interruptible_sleep(guint ms);

#endif
