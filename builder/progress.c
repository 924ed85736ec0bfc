/* progress: see progress.h. */
#include "progress.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define ERASE_LINE "\r\033[K" /* back to column 0, erase to the end of the line */

/* ---- output ---- */

void dcn_progress_out_init(DcnProgressOut *o, FILE *f, DcnProgressMode mode, gint64 interval_us)
{
    *o = (DcnProgressOut){
        .f = f,
        .mode = mode,
        .interval_us = interval_us > 0 ? interval_us : DCN_PROGRESS_INTERVAL_US,
        .redraw_us = DCN_PROGRESS_REDRAW_US,
        .now = g_get_monotonic_time,
        .threaded = TRUE,
    };
    g_mutex_init(&o->lock);
}

void dcn_progress_out_clear(DcnProgressOut *o) { g_mutex_clear(&o->lock); }

gboolean dcn_progress_mode_parse(const char *s, DcnProgressMode *mode, gboolean *is_auto)
{
    static const struct {
        const char *name;
        DcnProgressMode mode;
    } names[] = {{"tty", DCN_PROGRESS_TTY}, {"log", DCN_PROGRESS_LOG}, {"none", DCN_PROGRESS_NONE}};
    *is_auto = g_strcmp0(s, "auto") == 0;
    if (*is_auto)
        return TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
        if (g_strcmp0(s, names[i].name) == 0)
            return *mode = names[i].mode, TRUE;
    return FALSE;
}

DcnProgressMode dcn_progress_mode_auto(gboolean json, gboolean stderr_is_tty, const char *term)
{
    gboolean human = stderr_is_tty && !json && term && *term && strcmp(term, "dumb") != 0;
    return human ? DCN_PROGRESS_TTY : DCN_PROGRESS_LOG;
}

static FILE *out_file(const DcnProgress *p) { return p->out ? p->out->f : stderr; }
static DcnProgressMode out_mode(const DcnProgress *p) { return p->out ? p->out->mode : DCN_PROGRESS_LOG; }
static gint64 now_us(const DcnProgress *p) { return p->out ? p->out->now() : g_get_monotonic_time(); }

/* Without an output (p->out NULL) there is no ticker: one thread, no lock. */
static void lock(DcnProgress *p)
{
    if (p->out)
        g_mutex_lock(&p->out->lock);
}

static void unlock(DcnProgress *p)
{
    if (p->out)
        g_mutex_unlock(&p->out->lock);
}

static int columns(const DcnProgressOut *o)
{
    if (o->columns > 0)
        return o->columns;
    struct winsize ws;
    if (ioctl(fileno(o->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* ---- pure parts ---- */

double dcn_progress_eta_s(guint64 done, guint64 total, gint64 task_us)
{
    if (total == 0 || done == 0 || done >= total || task_us <= 0)
        return -1;
    return (double)(total - done) * ((double)task_us / 1e6) / (double)done;
}

void dcn_progress_format_duration(double seconds, char *buf, gsize len)
{
    if (seconds < 0) {
        g_strlcpy(buf, "-", len);
        return;
    }
    guint64 s = (guint64)seconds; /* a stopwatch: 0:00 until a whole second has passed */
    if (s >= 3600)
        g_snprintf(buf, len, "%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600, (guint)(s / 60 % 60), (guint)(s % 60));
    else
        g_snprintf(buf, len, "%u:%02u", (guint)(s / 60), (guint)(s % 60));
}

/* What the rate and ETA are computed on: bytes when their total is known,
 * else objects when theirs is, else whichever moved (bytes first). */
typedef enum { ON_NOTHING, ON_BYTES, ON_OBJECTS } RateOn;

static RateOn rate_on(const DcnProgress *p)
{
    RateOn on = p->bytes_total ? ON_BYTES
                : p->unit && p->objects_total ? ON_OBJECTS
                : p->bytes ? ON_BYTES
                : p->unit && p->objects ? ON_OBJECTS
                : ON_NOTHING;
    /* nothing done yet: no rate to speak of */
    return (on == ON_BYTES && !p->bytes) || (on == ON_OBJECTS && !p->objects) ? ON_NOTHING : on;
}

/* SI units like g_format_size, but with a plain space (it puts a U+00A0) */
static void append_size(GString *s, guint64 bytes)
{
    static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
    if (bytes < 1000) {
        g_string_append_printf(s, "%" G_GUINT64_FORMAT " bytes", bytes);
        return;
    }
    double v = (double)bytes / 1000;
    guint u = 0;
    while (v >= 999.95 && u + 1 < G_N_ELEMENTS(units))
        v /= 1000, u++;
    g_string_append_printf(s, "%.1f %s", v, units[u]);
}

static void format_log(const DcnProgress *p, gint64 now, gboolean done, GString *out)
{
    gint64 task_us = now - p->task_start_us;
    g_string_append_printf(out, "dcn-builder stage=%s event=progress task=%s", p->stage, p->task);
    if (p->detail)
        g_string_append_printf(out, " %s", p->detail);
    if (p->unit) {
        g_string_append_printf(out, " %s=%" G_GUINT64_FORMAT, p->unit, p->objects);
        if (p->objects_total)
            g_string_append_printf(out, " %s_total=%" G_GUINT64_FORMAT, p->unit, p->objects_total);
    }
    if (p->unit || p->bytes || p->bytes_total) {
        g_string_append_printf(out, " bytes=%" G_GUINT64_FORMAT, p->bytes);
        if (p->bytes_total)
            g_string_append_printf(out, " bytes_total=%" G_GUINT64_FORMAT, p->bytes_total);
    }
    RateOn on = rate_on(p);
    double secs = (double)task_us / 1e6;
    if (on != ON_NOTHING && secs > 0) {
        if (on == ON_BYTES)
            g_string_append_printf(out, " bytes_per_s=%.0f", (double)p->bytes / secs);
        else
            g_string_append_printf(out, " %s_per_s=%.1f", p->unit, (double)p->objects / secs);
        double eta = on == ON_BYTES ? dcn_progress_eta_s(p->bytes, p->bytes_total, task_us)
                                    : dcn_progress_eta_s(p->objects, p->objects_total, task_us);
        if (!done && eta >= 0)
            g_string_append_printf(out, " eta_s=%.0f", eta);
    }
    if (done)
        g_string_append(out, " done=true");
    g_string_append_printf(out, " task_s=%.2f elapsed_s=%.2f\n", secs, (double)(now - p->start_us) / 1e6);
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void cut_utf8(GString *s, gsize max)
{
    if (s->len <= max)
        return;
    while (max > 0 && ((guchar)s->str[max] & 0xC0) == 0x80)
        max--;
    g_string_truncate(s, max);
}

static void format_tty(const DcnProgress *p, gint64 now, int cols, GString *out)
{
    gint64 task_us = now - p->task_start_us;
    double secs = (double)task_us / 1e6;
    /* head: what runs; tail: the numbers, which matter most when space is short */
    g_autoptr(GString) head = g_string_new(NULL), tail = g_string_new(NULL);
    g_string_append_printf(head, "%s: %s", p->stage, p->task);
    gsize name_len = head->len;
    if (p->detail)
        g_string_append_printf(head, " %s", p->detail);
    if (p->unit) {
        g_string_append_printf(tail, "  %" G_GUINT64_FORMAT, p->objects);
        if (p->objects_total)
            g_string_append_printf(tail, "/%" G_GUINT64_FORMAT, p->objects_total);
        g_string_append_printf(tail, " %s", p->unit);
    }
    if (p->bytes || p->bytes_total) {
        g_string_append(tail, "  ");
        append_size(tail, p->bytes);
        if (p->bytes_total) {
            g_string_append_c(tail, '/');
            append_size(tail, p->bytes_total);
        }
    }
    RateOn on = rate_on(p);
    /* under a second the average says little */
    if (on != ON_NOTHING && task_us >= G_USEC_PER_SEC) {
        g_string_append(tail, "  ");
        if (on == ON_BYTES) {
            append_size(tail, (guint64)((double)p->bytes / secs));
            g_string_append(tail, "/s");
        } else {
            double r = (double)p->objects / secs;
            g_string_append_printf(tail, r >= 10 ? "%.0f %s/s" : "%.1f %s/s", r, p->unit);
        }
        double eta = on == ON_BYTES ? dcn_progress_eta_s(p->bytes, p->bytes_total, task_us)
                                    : dcn_progress_eta_s(p->objects, p->objects_total, task_us);
        if (eta >= 0) {
            char b[32];
            dcn_progress_format_duration(eta, b, sizeof b);
            g_string_append_printf(tail, "  ETA %s", b);
        }
    }
    char b[32];
    dcn_progress_format_duration(secs, b, sizeof b);
    g_string_append_printf(tail, "  %s", b);
    /* one character short of the width: a full line would wrap on some
     * terminals. Too long: the details give way first ("..."), then the end. */
    gsize max = cols > 1 ? (gsize)cols - 1 : 1;
    if (head->len + tail->len > max && max >= tail->len + name_len + 4) {
        cut_utf8(head, max - tail->len - 3);
        g_string_append(head, "...");
    }
    gsize base = out->len;
    g_string_append_len(out, head->str, (gssize)head->len);
    g_string_append_len(out, tail->str, (gssize)tail->len);
    if (out->len - base > max) {
        g_autoptr(GString) line = g_string_new(out->str + base);
        cut_utf8(line, max);
        g_string_truncate(out, base);
        g_string_append_len(out, line->str, (gssize)line->len);
    }
}

void dcn_progress_format(const DcnProgress *p, gint64 now, gboolean done, gboolean tty, int cols, GString *out)
{
    if (tty)
        format_tty(p, now, cols, out);
    else
        format_log(p, now, done, out);
}

/* ---- printing (under the lock) ---- */

static void erase_locked(DcnProgress *p)
{
    if (p->out && p->out->line_shown) {
        fputs(ERASE_LINE, p->out->f);
        p->out->line_shown = FALSE;
    }
}

/* tty: the live line, written with one call so it never flickers half-drawn */
static void draw_locked(DcnProgress *p, gint64 now)
{
    g_autoptr(GString) s = g_string_new("\r");
    format_tty(p, now, columns(p->out), s);
    p->last_us = now;
    if (p->out->line_shown && g_strcmp0(p->drawn, s->str) == 0)
        return; /* the same line again */
    g_free(p->drawn);
    p->drawn = g_strdup(s->str);
    g_string_append(s, "\033[K");
    fwrite(s->str, 1, s->len, p->out->f);
    fflush(p->out->f);
    p->out->line_shown = TRUE;
}

static void print_log_locked(DcnProgress *p, gint64 now, gboolean done)
{
    g_autoptr(GString) s = g_string_new(NULL);
    format_log(p, now, done, s);
    FILE *f = out_file(p);
    fwrite(s->str, 1, s->len, f);
    fflush(f);
    p->last_us = now;
    p->lines++;
}

static void due_locked(DcnProgress *p, gint64 now)
{
    if (!p->task)
        return;
    switch (out_mode(p)) {
    case DCN_PROGRESS_LOG:
        if (now - p->last_us >= (p->out ? p->out->interval_us : DCN_PROGRESS_INTERVAL_US))
            print_log_locked(p, now, FALSE);
        break;
    case DCN_PROGRESS_TTY:
        if (now - p->last_us >= p->out->redraw_us)
            draw_locked(p, now);
        break;
    case DCN_PROGRESS_NONE:
        break;
    }
}

void dcn_progress_tick(DcnProgress *p)
{
    if (!p)
        return;
    lock(p);
    due_locked(p, now_us(p));
    unlock(p);
}

/* ---- the ticker ---- */

static gpointer ticker_main(gpointer data)
{
    DcnProgress *p = data;
    DcnProgressOut *o = p->out;
    g_mutex_lock(&o->lock);
    while (!p->stopping) {
        gint64 period = o->mode == DCN_PROGRESS_TTY ? o->redraw_us : o->interval_us;
        gint64 wait = MAX(p->last_us + period - o->now(), G_USEC_PER_SEC / 100);
        g_cond_wait_until(&p->wake, &o->lock, g_get_monotonic_time() + wait);
        if (!p->stopping)
            due_locked(p, o->now());
    }
    g_mutex_unlock(&o->lock);
    return NULL;
}

static void start_ticker_locked(DcnProgress *p)
{
    if (!p->out || !p->out->threaded || p->out->mode == DCN_PROGRESS_NONE)
        return;
    p->stopping = FALSE;
    g_cond_init(&p->wake);
    /* signals (SIGINT, SIGTERM) stay with the main thread, whose sleeps and
     * polls they are meant to cut short */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    p->ticker = g_thread_new("dcn-progress", ticker_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Returns with the lock held and the ticker gone. */
static void stop_ticker(DcnProgress *p)
{
    lock(p);
    if (!p->ticker)
        return;
    GThread *t = p->ticker;
    p->stopping = TRUE;
    g_cond_signal(&p->wake);
    unlock(p);
    g_thread_join(t);
    lock(p);
    p->ticker = NULL;
    g_cond_clear(&p->wake);
}

/* ---- tasks ---- */

void dcn_progress_init(DcnProgress *p, const char *stage, DcnProgressOut *out)
{
    *p = (DcnProgress){.stage = stage, .out = out};
    p->start_us = now_us(p);
}

static void finish(DcnProgress *p, gboolean done)
{
    if (!p)
        return;
    stop_ticker(p); /* returns locked */
    if (p->task) {
        /* a count is worth its total; a bare wait only closes lines it printed */
        if (done && out_mode(p) == DCN_PROGRESS_LOG && (p->unit || p->lines))
            print_log_locked(p, now_us(p), TRUE);
        erase_locked(p);
        p->task = NULL;
        p->unit = NULL;
        g_clear_pointer(&p->detail, g_free);
        g_clear_pointer(&p->drawn, g_free);
    }
    unlock(p);
}

void dcn_progress_end(DcnProgress *p) { finish(p, TRUE); }
void dcn_progress_cancel(DcnProgress *p) { finish(p, FALSE); }

void dcn_progress_begin(DcnProgress *p, const char *task, const char *unit)
{
    if (!p)
        return;
    dcn_progress_end(p);
    lock(p);
    gint64 now = now_us(p);
    p->task = task;
    p->unit = unit;
    p->objects = p->objects_total = p->bytes = p->bytes_total = 0;
    p->lines = 0;
    p->task_start_us = p->last_us = now;
    if (out_mode(p) == DCN_PROGRESS_TTY)
        draw_locked(p, now);
    start_ticker_locked(p);
    unlock(p);
}

void dcn_progress_set_total(DcnProgress *p, guint64 objects_total, guint64 bytes_total)
{
    if (!p)
        return;
    lock(p);
    p->objects_total = objects_total;
    p->bytes_total = bytes_total;
    unlock(p);
}

void dcn_progress_detail(DcnProgress *p, const char *fmt, ...)
{
    if (!p)
        return;
    char *d = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        d = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    lock(p);
    g_free(p->detail);
    p->detail = d;
    if (p->task && out_mode(p) == DCN_PROGRESS_TTY)
        draw_locked(p, now_us(p)); /* a new state (a status, a part) shows at once */
    unlock(p);
}

void dcn_progress_add(DcnProgress *p, guint64 objects, guint64 bytes)
{
    if (!p)
        return;
    lock(p);
    p->objects += objects;
    p->bytes += bytes;
    due_locked(p, now_us(p));
    unlock(p);
}

void dcn_progress_set(DcnProgress *p, guint64 objects, guint64 bytes)
{
    if (!p)
        return;
    lock(p);
    p->objects = objects;
    p->bytes = bytes;
    due_locked(p, now_us(p));
    unlock(p);
}

/* ---- events ---- */

void dcn_progress_event(DcnProgress *p, const char *event, const char *fields, ...)
{
    g_autofree char *middle = NULL;
    if (fields) {
        va_list ap;
        va_start(ap, fields);
        middle = g_strdup_vprintf(fields, ap);
        va_end(ap);
    }
    lock(p);
    gint64 now = now_us(p);
    g_autofree char *line = g_strdup_printf("dcn-builder stage=%s event=%s%s%s elapsed_s=%.2f\n", p->stage, event,
                                            middle ? " " : "", middle ? middle : "", (double)(now - p->start_us) / 1e6);
    erase_locked(p);
    FILE *f = out_file(p);
    fputs(line, f);
    fflush(f);
    if (p->task && out_mode(p) == DCN_PROGRESS_TTY)
        draw_locked(p, now);
    unlock(p);
}
