/* progress: what dcn-builder says on stderr while it works.
 *
 * Events: one key=value line each, always printed:
 *   dcn-builder stage=publish event=delta from=scratch ... seconds=85.10 elapsed_s=86.52
 *
 * Tasks: a long piece of work (importing objects, generating a delta,
 * waiting for a compose, downloading, writing a layer, uploading), between
 * dcn_progress_begin and dcn_progress_end, with counters (objects of a unit,
 * bytes), totals when known, and key=value details. How a running task
 * shows depends on the output's mode:
 *   log   an event=progress line at least every interval (10 s) while it
 *         runs, also while the work is blocked inside one library call (a
 *         ticker thread prints), and one with done=true when it ends
 *         (for a task without a count: only when it printed any before):
 *         dcn-builder stage=publish event=progress task=delta from=scratch phase=pack parts=4
 *           objects=13964 objects_total=22765 bytes=127927777 bytes_total=237101581
 *           bytes_per_s=983378 eta_s=111 task_s=130.09 elapsed_s=131.75
 *   tty   one live line on stderr, redrawn in place (\r, erase to the end
 *         of the line) a few times a second, erased before any other line
 *         is written and when the task ends:
 *         publish: delta from=scratch phase=pack parts=4  13964/22765 objects  127.9 MB/237.1 MB
 *           983.4 kB/s  ETA 1:51  2:10
 *   none  the events only.
 * Rate and ETA: the task's average so far (done / task time), on bytes when
 * a byte total is known, else on objects when an object total is known. */
#ifndef DCN_BUILDER_PROGRESS_H
#define DCN_BUILDER_PROGRESS_H

#include <glib.h>
#include <stdio.h>

typedef enum {
    DCN_PROGRESS_LOG,  /* key=value progress lines (no terminal, --json, Ansible) */
    DCN_PROGRESS_TTY,  /* one live line redrawn in place */
    DCN_PROGRESS_NONE, /* events only */
} DcnProgressMode;

#define DCN_PROGRESS_INTERVAL_US (10 * G_USEC_PER_SEC) /* log: default heartbeat */
#define DCN_PROGRESS_REDRAW_US (G_USEC_PER_SEC / 4)    /* tty: redraw period */

typedef struct DcnProgress DcnProgress;

/* Where progress goes: one per process (stderr is one stream), shared by
 * every stage's DcnProgress. */
typedef struct {
    FILE *f;                /* the stream (stderr) */
    DcnProgressMode mode;
    gint64 interval_us;     /* log: a progress line at least this often while a task runs */
    gint64 redraw_us;       /* tty: redraw period */
    int columns;            /* tty: line width; 0: ask the terminal (TIOCGWINSZ on f), else 80 */
    gint64 (*now)(void);    /* monotonic µs (g_get_monotonic_time); unit tests inject a clock */
    gboolean threaded;      /* a ticker thread per task (FALSE: unit tests call dcn_progress_tick) */
    GMutex lock;            /* the stream and the counters of running tasks */
    gboolean line_shown;    /* tty: the live line is on screen */
} DcnProgressOut;

/* One stage's progress: its events and its running task. */
struct DcnProgress {
    const char *stage;      /* stage name printed on every line */
    DcnProgressOut *out;    /* NULL: stderr, log mode, no ticker */
    gint64 start_us;        /* when the stage started */
    /* the running task (read by the ticker: under out->lock) */
    const char *task;       /* name ("import", "delta", ...); NULL: no task running */
    const char *unit;       /* what objects are ("objects", "files", "blobs"); NULL: no count */
    char *detail;           /* key=value pairs shown with the counters, or NULL */
    guint64 objects, objects_total; /* done, and the total (0: unknown) */
    guint64 bytes, bytes_total;
    gint64 task_start_us;
    gint64 last_us;         /* when the last progress line was printed or drawn */
    guint lines;            /* log: progress lines printed for this task */
    char *drawn;            /* tty: the line last drawn (not drawn again while it is on screen) */
    GThread *ticker;        /* prints while the task runs; NULL when not threaded */
    GCond wake;             /* wakes the ticker to stop */
    gboolean stopping;
};

/* The output for a stream: mode, heartbeat interval (<= 0: the default),
 * the real clock, threaded. */
void dcn_progress_out_init(DcnProgressOut *o, FILE *f, DcnProgressMode mode, gint64 interval_us);
void dcn_progress_out_clear(DcnProgressOut *o);
/* Parses "auto", "tty", "log" or "none" (auto: *mode untouched, *is_auto
 * TRUE). FALSE for anything else. */
gboolean dcn_progress_mode_parse(const char *s, DcnProgressMode *mode, gboolean *is_auto);
/* auto: tty only for a human at a terminal: stderr is a terminal, no
 * --json, TERM is set and not "dumb"; else log. (The playbooks run every
 * stage with --json, and Ansible's command module reads stderr through a
 * pipe: log either way.) */
DcnProgressMode dcn_progress_mode_auto(gboolean json, gboolean stderr_is_tty, const char *term);

void dcn_progress_init(DcnProgress *p, const char *stage, DcnProgressOut *out);

/* Starts a task (ending the one running, if any). unit NULL: the task has
 * no count, only its details and time (a wait, a blocking call). */
void dcn_progress_begin(DcnProgress *p, const char *task, const char *unit);
/* Sets the totals (0: unknown). */
void dcn_progress_set_total(DcnProgress *p, guint64 objects_total, guint64 bytes_total);
/* Sets the details shown with the counters ("from=1.0.0 parts=3"); NULL
 * clears. tty: drawn at once. */
void dcn_progress_detail(DcnProgress *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Adds to the counters / sets them. Each prints a line when one is due.
 * Every task call takes p NULL (nothing to report to). */
void dcn_progress_add(DcnProgress *p, guint64 objects, guint64 bytes);
void dcn_progress_set(DcnProgress *p, guint64 objects, guint64 bytes);
/* Ends the task: log: its last line (done=true); tty: the line is erased.
 * Nothing when no task runs. */
void dcn_progress_end(DcnProgress *p);
/* Stops the task without its last line (it failed: the error says so);
 * the tty line is erased. Nothing when no task runs, so main and run call
 * it after every stage. */
void dcn_progress_cancel(DcnProgress *p);

/* Prints "dcn-builder stage=S event=E <fields> elapsed_s=..."; fields is a
 * printf format for the middle part (key=value pairs), may be NULL. */
void dcn_progress_event(DcnProgress *p, const char *event, const char *fields, ...) G_GNUC_PRINTF(3, 4);

/* What the ticker does on each wake, and what add/set do after counting:
 * prints a line when one is due (log: interval since the last; tty: the
 * redraw period). */
void dcn_progress_tick(DcnProgress *p);

/* ---- pure parts (unit-tested) ---- */

/* Seconds left at the task's average rate so far; < 0 when unknown (no
 * total, nothing done yet, or done >= total). */
double dcn_progress_eta_s(guint64 done, guint64 total, gint64 task_us);
/* "0:42", "12:05", "1:02:03"; "-" for a negative value. */
void dcn_progress_format_duration(double seconds, char *buf, gsize len);
/* The task's line at time now: log (key=value, with newline) or tty
 * (human, at most columns-1 characters, no newline). */
void dcn_progress_format(const DcnProgress *p, gint64 now, gboolean done, gboolean tty, int columns, GString *out);

#endif
