/* Unit tests for builder/util/lock: the one-run-at-a-time lock of publish,
 * rollback and prune (waits) and of package (fails at once), with the
 * messages and progress lines both had before they shared it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "lock.h"
#include "progress.h"

static char *make_dir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("dcn-lock-XXXXXX", &error);
    assert_non_null(dir);
    return dir;
}

static void remove_dir(char *dir)
{
    g_autofree char *lock = g_build_filename(dir, ".lock", NULL);
    g_autofree char *out = g_build_filename(dir, "progress.log", NULL);
    g_unlink(lock);
    g_unlink(out);
    g_rmdir(dir);
    g_free(dir);
}

static void try_fails_while_held(void **state)
{
    (void)state;
    char *dir = make_dir();
    g_autofree char *path = g_build_filename(dir, ".lock", NULL);
    g_autoptr(GError) error = NULL;
    int held = dcn_lock_try(path, "another package run is writing this layout", &error);
    assert_true(held >= 0);
    assert_int_equal(dcn_lock_try(path, "another package run is writing this layout", &error), -1);
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK));
    g_autofree char *want = g_strdup_printf("%s: another package run is writing this layout", path);
    assert_string_equal(error->message, want);
    g_clear_error(&error);
    close(held);
    int again = dcn_lock_try(path, "busy", &error); /* released with its descriptor */
    assert_true(again >= 0);
    close(again);
    remove_dir(dir);
}

static void open_failure_names_the_file(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    const char *path = "/nonexistent-dcn-dir/.lock";
    assert_int_equal(dcn_lock_try(path, "busy", &error), -1);
    assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
    assert_true(g_str_has_prefix(error->message, "Opening /nonexistent-dcn-dir/.lock: "));
    g_clear_error(&error);
    assert_int_equal(dcn_lock_wait(path, NULL, &error), -1);
    assert_true(g_str_has_prefix(error->message, "Opening /nonexistent-dcn-dir/.lock: "));
}

typedef struct {
    const char *path;
    DcnProgress *progress;
    int fd;
    GError *error;
} Waiter;

static gpointer wait_thread(gpointer data)
{
    Waiter *w = data;
    w->fd = dcn_lock_wait(w->path, w->progress, &w->error);
    return NULL;
}

static void wait_blocks_until_released(void **state)
{
    (void)state;
    char *dir = make_dir();
    g_autofree char *path = g_build_filename(dir, ".lock", NULL);
    g_autofree char *out_path = g_build_filename(dir, "progress.log", NULL);
    FILE *f = fopen(out_path, "w");
    assert_non_null(f);
    DcnProgressOut out;
    dcn_progress_out_init(&out, f, DCN_PROGRESS_LOG, 0);
    out.threaded = FALSE;
    DcnProgress progress;
    dcn_progress_init(&progress, "publish", &out);

    g_autoptr(GError) error = NULL;
    int held = dcn_lock_try(path, "busy", &error);
    assert_true(held >= 0);
    Waiter w = {.path = path, .progress = &progress, .fd = -1};
    GThread *t = g_thread_new("waiter", wait_thread, &w);
    /* released only once the waiter says it waits: no sleeps to tune */
    for (;;) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(out_path, &text, NULL, NULL) && strstr(text, "event=waiting"))
            break;
        g_usleep(10000);
    }
    close(held);
    g_thread_join(t);
    assert_null(w.error);
    assert_true(w.fd >= 0);
    assert_int_equal(dcn_lock_try(path, "busy", &error), -1); /* the waiter holds it now */
    g_clear_error(&error);
    close(w.fd);

    fflush(f);
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(out_path, &text, NULL, NULL));
    g_autofree char *waiting = g_strdup_printf("event=waiting lock=%s", path);
    assert_non_null(strstr(text, waiting));
    fclose(f);
    dcn_progress_out_clear(&out);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(try_fails_while_held),
        cmocka_unit_test(open_failure_names_the_file),
        cmocka_unit_test(wait_blocks_until_released),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
