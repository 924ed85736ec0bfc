/* Unit: dcn_write_all (util/fdio.h): every byte, through short writes and
 * EINTR, or FALSE with the errno that says why. */
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

static void on_alarm(int sig) { (void)sig; }

typedef struct {
    int fd;
    GByteArray *got;
} Reader;

static gpointer read_all(gpointer p)
{
    Reader *r = p;
    char buf[4096];
    ssize_t n;
    while ((n = read(r->fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        g_byte_array_append(r->got, (guint8 *)buf, (guint)n);
        g_usleep(50); /* a slow reader: the writer's pipe fills, writes block and get interrupted */
    }
    return NULL;
}

/* A pipe drained slowly while a 1 ms interval timer interrupts the writer
 * (no SA_RESTART): write(2) returns short counts and EINTR; all 4 MiB
 * arrive, in order. */
static void all_bytes_through_interrupts(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    sigset_t alrm, prev;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    int p[2];
    assert_int_equal(pipe(p), 0);
    Reader r = {.fd = p[0], .got = g_byte_array_new()};
    /* the reader thread must not take the signals: block them while it starts */
    pthread_sigmask(SIG_BLOCK, &alrm, &prev);
    GThread *t = g_thread_new("reader", read_all, &r);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);

    gsize len = 4u << 20;
    guint8 *data = g_malloc(len);
    for (gsize i = 0; i < len; i++)
        data[i] = (guint8)(i * 2654435761u >> 24);
    struct itimerval it = {{0, 1000}, {0, 1000}}, off = {0};
    setitimer(ITIMER_REAL, &it, NULL);
    gboolean ok = dcn_write_all(p[1], data, len);
    setitimer(ITIMER_REAL, &off, NULL);
    assert_true(ok);
    close(p[1]);
    g_thread_join(t);
    close(p[0]);
    assert_int_equal(r.got->len, len);
    assert_memory_equal(r.got->data, data, len);
    g_byte_array_unref(r.got);
    g_free(data);
    sigaction(SIGALRM, &old, NULL);
}

static void full_disk_says_enospc(void **state)
{
    (void)state;
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        skip();
    errno = 0;
    assert_false(dcn_write_all(fd, "x", 1));
    assert_int_equal(errno, ENOSPC);
    close(fd);
}

static void closed_descriptor_says_ebadf(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[1]);
    assert_false(dcn_write_all(p[1], "x", 1));
    assert_int_equal(errno, EBADF);
    close(p[0]);
}

static void nothing_to_write_is_done(void **state)
{
    (void)state;
    assert_true(dcn_write_all(-1, "", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_bytes_through_interrupts),
        cmocka_unit_test(full_disk_says_enospc),
        cmocka_unit_test(closed_descriptor_says_ebadf),
        cmocka_unit_test(nothing_to_write_is_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
