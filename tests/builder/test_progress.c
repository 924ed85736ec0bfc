/* Unit tests: builder/progress.c (line formats, rate, ETA, when lines are
 * printed, the tty line's redraw and erase) with an injected clock and a
 * memory stream, no ticker thread; and publish/delta.c's reading of what
 * libostree prints while it generates a delta. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delta.h"
#include "progress.h"

#define S G_USEC_PER_SEC

static gint64 fake_now;
static gint64 fake_clock(void) { return fake_now; }

/* An output to memory with the fake clock, log or tty, no ticker. */
typedef struct {
    char *buf;
    size_t len;
    FILE *f;
    DcnProgressOut out;
    DcnProgress p;
} Fixture;

static void fixture_open(Fixture *x, DcnProgressMode mode)
{
    memset(x, 0, sizeof *x);
    fake_now = 1000 * S;
    x->f = open_memstream(&x->buf, &x->len);
    dcn_progress_out_init(&x->out, x->f, mode, 0);
    x->out.now = fake_clock;
    x->out.threaded = FALSE;
    x->out.columns = 200;
    dcn_progress_init(&x->p, "publish", &x->out);
}

/* What was written since the last call. */
static char *fixture_take(Fixture *x)
{
    fflush(x->f);
    char *s = g_strndup(x->buf, x->len);
    fclose(x->f);
    free(x->buf);
    x->buf = NULL;
    x->len = 0;
    x->f = open_memstream(&x->buf, &x->len);
    x->out.f = x->f;
    return s;
}

static void fixture_close(Fixture *x)
{
    dcn_progress_cancel(&x->p);
    fclose(x->f);
    free(x->buf);
    dcn_progress_out_clear(&x->out);
}

static guint count(const char *hay, const char *needle)
{
    guint n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- pure parts ---- */

static void test_eta(void **state)
{
    static const struct {
        guint64 done, total;
        gint64 task_us;
        double eta;
    } cases[] = {
        {50, 100, 10 * S, 10},     /* half in 10 s: 10 s left */
        {25, 100, 5 * S, 15},      /* a quarter in 5 s: 15 s left */
        {1, 1000, 2 * S, 1998},
        {0, 100, 10 * S, -1},      /* nothing done: unknown */
        {100, 100, 10 * S, -1},    /* done */
        {150, 100, 10 * S, -1},    /* past the total (retries): unknown */
        {10, 0, 10 * S, -1},       /* no total */
        {10, 100, 0, -1},          /* no time */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        double got = dcn_progress_eta_s(cases[i].done, cases[i].total, cases[i].task_us);
        if (cases[i].eta < 0)
            assert_true(got < 0);
        else
            assert_true(got > cases[i].eta - 1e-6 && got < cases[i].eta + 1e-6);
    }
}

static void test_duration(void **state)
{
    static const struct {
        double s;
        const char *want;
    } cases[] = {
        {0, "0:00"}, {0.4, "0:00"}, {0.99, "0:00"}, {42, "0:42"}, {59.6, "0:59"}, {725, "12:05"},
        {3723, "1:02:03"}, {100 * 3600, "100:00:00"}, {-1, "-"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char b[32];
        dcn_progress_format_duration(cases[i].s, b, sizeof b);
        assert_string_equal(b, cases[i].want);
    }
}

static void test_mode(void **state)
{
    DcnProgressMode m = DCN_PROGRESS_NONE;
    gboolean is_auto = FALSE;
    assert_true(dcn_progress_mode_parse("tty", &m, &is_auto) && m == DCN_PROGRESS_TTY && !is_auto);
    assert_true(dcn_progress_mode_parse("log", &m, &is_auto) && m == DCN_PROGRESS_LOG && !is_auto);
    assert_true(dcn_progress_mode_parse("none", &m, &is_auto) && m == DCN_PROGRESS_NONE && !is_auto);
    assert_true(dcn_progress_mode_parse("auto", &m, &is_auto) && is_auto);
    assert_false(dcn_progress_mode_parse("TTY", &m, &is_auto));
    assert_false(dcn_progress_mode_parse("", &m, &is_auto));
    /* auto: a terminal, no --json, a real TERM */
    assert_int_equal(dcn_progress_mode_auto(FALSE, TRUE, "xterm"), DCN_PROGRESS_TTY);
    assert_int_equal(dcn_progress_mode_auto(TRUE, TRUE, "xterm"), DCN_PROGRESS_LOG);
    assert_int_equal(dcn_progress_mode_auto(FALSE, FALSE, "xterm"), DCN_PROGRESS_LOG);
    assert_int_equal(dcn_progress_mode_auto(FALSE, TRUE, "dumb"), DCN_PROGRESS_LOG);
    assert_int_equal(dcn_progress_mode_auto(FALSE, TRUE, NULL), DCN_PROGRESS_LOG);
}

/* ---- the lines ---- */

static void test_log_line(void **state)
{
    DcnProgress p = {.stage = "publish", .task = "delta", .unit = "objects", .detail = "from=scratch parts=3"};
    p.start_us = 0;
    p.task_start_us = 2 * S;
    p.objects = 6000, p.objects_total = 20000, p.bytes = 96000000;
    g_autoptr(GString) s = g_string_new(NULL);
    dcn_progress_format(&p, 12 * S, FALSE, FALSE, 0, s);
    /* rate and ETA on objects (their total is known, bytes' is not): 600/s, 14000 left */
    assert_string_equal(s->str, "dcn-builder stage=publish event=progress task=delta from=scratch parts=3 objects=6000 "
                                "objects_total=20000 bytes=96000000 objects_per_s=600.0 eta_s=23 task_s=10.00 "
                                "elapsed_s=12.00\n");

    /* a byte total: rate and ETA on bytes; the last line has done=true and no ETA */
    DcnProgress q = {.stage = "push", .task = "upload", .unit = "blobs", .task_start_us = 0};
    q.objects = 1, q.objects_total = 3, q.bytes = 25000000, q.bytes_total = 100000000;
    g_string_truncate(s, 0);
    dcn_progress_format(&q, 5 * S, FALSE, FALSE, 0, s);
    assert_string_equal(s->str, "dcn-builder stage=push event=progress task=upload blobs=1 blobs_total=3 bytes=25000000 "
                                "bytes_total=100000000 bytes_per_s=5000000 eta_s=15 task_s=5.00 elapsed_s=5.00\n");
    g_string_truncate(s, 0);
    dcn_progress_format(&q, 5 * S, TRUE, FALSE, 0, s);
    assert_non_null(strstr(s->str, " bytes_per_s=5000000 done=true task_s=5.00 "));
    assert_null(strstr(s->str, "eta_s"));

    /* a wait: no counters, no rate */
    DcnProgress w = {.stage = "compose", .task = "build", .detail = "id=abc status=RUNNING", .task_start_us = 0};
    g_string_truncate(s, 0);
    dcn_progress_format(&w, 30 * S, FALSE, FALSE, 0, s);
    assert_string_equal(s->str, "dcn-builder stage=compose event=progress task=build id=abc status=RUNNING task_s=30.00 "
                                "elapsed_s=30.00\n");
}

static void test_tty_line(void **state)
{
    DcnProgress p = {.stage = "publish", .task = "delta", .unit = "objects", .detail = "from=scratch parts=3"};
    p.task_start_us = 0;
    p.objects = 6000, p.objects_total = 20000, p.bytes = 96000000;
    g_autoptr(GString) s = g_string_new(NULL);
    dcn_progress_format(&p, 10 * S, FALSE, TRUE, 200, s);
    assert_string_equal(s->str, "publish: delta from=scratch parts=3  6000/20000 objects  96.0 MB  600 objects/s  "
                                "ETA 0:23  0:10");
    /* too wide: the details give way first, the numbers stay; less one
     * column (a full line wraps on some terminals) */
    g_string_truncate(s, 0);
    dcn_progress_format(&p, 10 * S, FALSE, TRUE, 80, s);
    assert_int_equal(s->len, 79);
    assert_string_equal(s->str, "publish: delta f...  6000/20000 objects  96.0 MB  600 objects/s  ETA 0:23  0:10");
    /* narrower than the numbers: cut at the end */
    g_string_truncate(s, 0);
    dcn_progress_format(&p, 10 * S, FALSE, TRUE, 30, s);
    assert_int_equal(s->len, 29);
    assert_string_equal(s->str, "publish: delta from=scratch p");
    /* appended to what the string holds (the \r the caller put first) */
    g_string_assign(s, "\r");
    dcn_progress_format(&p, 10 * S, FALSE, TRUE, 30, s);
    assert_string_equal(s->str, "\rpublish: delta from=scratch p");

    /* bytes with a total: rate in bytes; under a second: no rate yet */
    DcnProgress d = {.stage = "compose", .task = "download", .task_start_us = 0};
    d.bytes = 1500000, d.bytes_total = 3000000;
    g_string_truncate(s, 0);
    dcn_progress_format(&d, 3 * S, FALSE, TRUE, 200, s);
    assert_string_equal(s->str, "compose: download  1.5 MB/3.0 MB  500.0 kB/s  ETA 0:03  0:03");
    g_string_truncate(s, 0);
    dcn_progress_format(&d, S / 2, FALSE, TRUE, 200, s);
    assert_string_equal(s->str, "compose: download  1.5 MB/3.0 MB  0:00");
}

/* ---- when lines are printed ---- */

static void test_log_rate_limit_and_heartbeat(void **state)
{
    Fixture x;
    fixture_open(&x, DCN_PROGRESS_LOG);
    dcn_progress_begin(&x.p, "import", "objects");
    dcn_progress_set_total(&x.p, 100, 0);
    g_autofree char *begun = fixture_take(&x);
    assert_string_equal(begun, ""); /* log: nothing at the start */

    /* counting for 9 s: nothing; at 10 s: one line */
    for (int i = 0; i < 9; i++) {
        fake_now += S;
        dcn_progress_add(&x.p, 1, 10);
    }
    g_autofree char *quiet = fixture_take(&x);
    assert_string_equal(quiet, "");
    fake_now += S;
    dcn_progress_add(&x.p, 1, 10);
    g_autofree char *one = fixture_take(&x);
    assert_int_equal(count(one, "event=progress task=import objects=10 objects_total=100 bytes=100 "), 1);

    /* blocked (no add): the tick, as the ticker thread calls it, prints every interval */
    fake_now += 5 * S;
    dcn_progress_tick(&x.p);
    g_autofree char *early = fixture_take(&x);
    assert_string_equal(early, "");
    fake_now += 5 * S;
    dcn_progress_tick(&x.p);
    g_autofree char *beat = fixture_take(&x);
    assert_int_equal(count(beat, "event=progress task=import objects=10 "), 1);
    assert_non_null(strstr(beat, " task_s=20.00 "));

    /* the end: one line with done=true; a second end: nothing */
    dcn_progress_end(&x.p);
    dcn_progress_end(&x.p);
    g_autofree char *end = fixture_take(&x);
    assert_int_equal(count(end, "event=progress"), 1);
    assert_non_null(strstr(end, " done=true "));

    /* a wait that printed nothing closes without a line; one that did, with one */
    dcn_progress_begin(&x.p, "summary", NULL);
    fake_now += S;
    dcn_progress_end(&x.p);
    g_autofree char *short_wait = fixture_take(&x);
    assert_string_equal(short_wait, "");
    dcn_progress_begin(&x.p, "build", NULL);
    fake_now += 10 * S;
    dcn_progress_tick(&x.p);
    dcn_progress_cancel(&x.p); /* a failure: no done line */
    g_autofree char *cancelled = fixture_take(&x);
    assert_int_equal(count(cancelled, "event=progress task=build"), 1);
    assert_null(strstr(cancelled, "done=true"));
    fixture_close(&x);
}

static void test_interval_setting(void **state)
{
    Fixture x;
    fixture_open(&x, DCN_PROGRESS_LOG);
    x.out.interval_us = S / 10; /* --progress-interval 0.1 */
    dcn_progress_begin(&x.p, "delta", "objects");
    for (int i = 0; i < 5; i++) {
        fake_now += S / 10;
        dcn_progress_tick(&x.p);
    }
    dcn_progress_cancel(&x.p);
    g_autofree char *out = fixture_take(&x);
    assert_int_equal(count(out, "event=progress task=delta"), 5);
    fixture_close(&x);
}

static void test_tty_redraw_and_erase(void **state)
{
    Fixture x;
    fixture_open(&x, DCN_PROGRESS_TTY);
    dcn_progress_begin(&x.p, "import", "objects");
    g_autofree char *begun = fixture_take(&x);
    assert_string_equal(begun, "\rpublish: import  0 objects  0:00\033[K"); /* drawn at once */

    /* redrawn at most every redraw period, in place */
    dcn_progress_add(&x.p, 5, 0);
    g_autofree char *soon = fixture_take(&x);
    assert_string_equal(soon, "");
    fake_now += DCN_PROGRESS_REDRAW_US;
    dcn_progress_add(&x.p, 5, 0);
    g_autofree char *redrawn = fixture_take(&x);
    assert_string_equal(redrawn, "\rpublish: import  10 objects  0:00\033[K");
    /* the same text is not drawn again */
    fake_now += DCN_PROGRESS_REDRAW_US;
    dcn_progress_tick(&x.p);
    g_autofree char *same = fixture_take(&x);
    assert_string_equal(same, "");

    /* new details are drawn at once */
    dcn_progress_detail(&x.p, "from=%s", "scratch");
    g_autofree char *detail = fixture_take(&x);
    assert_string_equal(detail, "\rpublish: import from=scratch  10 objects  0:00\033[K");

    /* an event: the line is erased, the event printed, the line drawn again */
    dcn_progress_event(&x.p, "warning", "msg=\"x\"");
    g_autofree char *ev = fixture_take(&x);
    assert_true(g_str_has_prefix(ev, "\r\033[Kdcn-builder stage=publish event=warning msg=\"x\" elapsed_s=0.50\n"
                                     "\rpublish: import from=scratch  10 objects"));
    assert_true(g_str_has_suffix(ev, "\033[K"));

    /* no key=value progress lines on a terminal; the end erases the line */
    fake_now += 20 * S;
    dcn_progress_tick(&x.p);
    dcn_progress_end(&x.p);
    g_autofree char *end = fixture_take(&x);
    assert_null(strstr(end, "event=progress"));
    assert_true(g_str_has_suffix(end, "\r\033[K"));
    /* an event with no task running: just the line */
    dcn_progress_event(&x.p, "done", NULL);
    g_autofree char *plain = fixture_take(&x);
    assert_true(g_str_has_prefix(plain, "dcn-builder stage=publish event=done elapsed_s="));
    fixture_close(&x);
}

static void test_none(void **state)
{
    Fixture x;
    fixture_open(&x, DCN_PROGRESS_NONE);
    dcn_progress_begin(&x.p, "import", "objects");
    fake_now += 60 * S;
    dcn_progress_add(&x.p, 1, 1);
    dcn_progress_tick(&x.p);
    dcn_progress_event(&x.p, "commit", "version=1");
    dcn_progress_end(&x.p);
    g_autofree char *out = fixture_take(&x);
    assert_string_equal(out, "dcn-builder stage=publish event=commit version=1 elapsed_s=60.00\n");
    fixture_close(&x);
}

/* ---- libostree's delta lines (2022.7's formats, see publish/delta.h) ---- */

static void test_delta_lines(void **state)
{
    DcnDeltaStats s = {0};
    static const char *const ignored[] = {
        "rollsum for 0a1b -> 2c3d; crcs=10 bufs=12 total=20 matchsize=4096",
        "rollsum for 3/7 modified",
        "rollsum=3 objects, 12345 bytes",
        "bsdiff=4 objects",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(ignored); i++)
        assert_true(dcn_delta_stats_parse(&s, ignored[i]));
    assert_false(s.scanned);
    g_autofree char *scan = dcn_delta_stats_detail(&s, "scratch");
    assert_string_equal(scan, "from=scratch phase=scan parts=0");

    assert_true(dcn_delta_stats_parse(&s, "modified: 7"));
    assert_int_equal(s.modified, 7);
    assert_true(dcn_delta_stats_parse(&s, "new reachable: metadata=100 content regular=19000 symlink=900"));
    assert_true(s.scanned);
    assert_int_equal(s.objects_total, 99 + 19000 + 900); /* the commit goes in the superblock */
    assert_true(dcn_delta_stats_parse(&s, "processing bsdiff: [2/20]"));
    assert_int_equal(s.bsdiff_done, 2);
    assert_int_equal(s.bsdiff_total, 20);
    assert_true(dcn_delta_stats_parse(&s, "fallback for 0123abcd (5.2 MB)"));
    assert_int_equal(s.fallbacks, 1);
    assert_int_equal(s.objects_total, 19998);
    assert_true(dcn_delta_stats_parse(&s, "part 1 n:4000 compressed:9000000 uncompressed:32000000"));
    assert_true(dcn_delta_stats_parse(&s, "part 2 n:6000 compressed:8000000 uncompressed:31000000"));
    assert_int_equal(s.parts, 2);
    assert_int_equal(s.objects, 10000);
    assert_int_equal(s.compressed, 17000000);
    assert_int_equal(s.uncompressed, 63000000);
    g_autofree char *pack = dcn_delta_stats_detail(&s, "1.0.0");
    assert_string_equal(pack, "from=1.0.0 phase=pack parts=2 bsdiff=2/20");
    assert_true(dcn_delta_stats_parse(&s, "uncompressed=63000000 compressed=17000000 loose=120000000"));
    assert_true(s.finished);
    assert_int_equal(s.loose, 120000000);

    /* anything else, or a known start with more after it: not libostree's delta lines */
    static const char *const others[] = {
        "", "part 3", "part 3 n:1 compressed:2 uncompressed:3 extra", "modified: 7 files", "new reachable: metadata=1",
        "error: something", "processing bsdiff: [1/2", "bsdiff=4 objects!",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(others); i++)
        assert_false(dcn_delta_stats_parse(&s, others[i]));
    assert_int_equal(s.parts, 2);
    assert_int_equal(s.objects, 10000);
    assert_int_equal(s.objects_total, 19998);
    assert_int_equal(s.modified, 7);
    assert_int_equal(s.bsdiff_done, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eta),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_mode),
        cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_tty_line),
        cmocka_unit_test(test_log_rate_limit_and_heartbeat),
        cmocka_unit_test(test_interval_setting),
        cmocka_unit_test(test_tty_redraw_and_erase),
        cmocka_unit_test(test_none),
        cmocka_unit_test(test_delta_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
