/* What the builder's fuzz targets share: CHECK (an invariant that aborts,
 * so libFuzzer keeps the input), and GLib's log made fatal. A GLib
 * critical or warning is an API contract broken (e.g. json-glib's
 * json_object_get_array_member on a member that is not an array): hostile
 * input must never cause one, so it counts as a crash.
 *
 * fuzz_glib_init(quiet): with quiet, the code's own stderr lines (events,
 * warnings of a tarball import) go to /dev/null; libFuzzer's lines, CHECK
 * failures, GLib messages and sanitizer reports still reach fd 2. */
#ifndef DCN_FUZZ_GLIB_H
#define DCN_FUZZ_GLIB_H

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            dprintf(2, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void fuzz_glib_log(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    (void)data;
    if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
        return; /* debug and info: noise */
    dprintf(2, "GLib %s from %s: %s\n",
            level & G_LOG_LEVEL_WARNING ? "warning" : "critical", domain ? domain : "(app)", message);
    abort();
}

static GLogWriterOutput fuzz_glib_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    const char *domain = NULL, *message = "";
    for (gsize i = 0; i < n; i++) {
        if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
            domain = fields[i].value;
        else if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    }
    fuzz_glib_log(domain, level, message, data);
    return G_LOG_WRITER_HANDLED;
}

static void fuzz_glib_init(int quiet)
{
    if (quiet) {
        /* the code's fprintf(stderr) lines go nowhere; libFuzzer keeps the
         * FILE it took at start, sanitizers and CHECK write to fd 2 */
        stderr = fopen("/dev/null", "we");
        if (!stderr)
            abort();
    }
    g_log_set_default_handler(fuzz_glib_log, NULL);
    g_log_set_writer_func(fuzz_glib_writer, NULL, NULL);
    g_log_set_always_fatal(G_LOG_FATAL_MASK); /* the handler decides */
}

/* An exact-size NUL-terminated heap copy: reads past the input are caught. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* True when s has no byte below 0x20 and no DEL (one line of text). */
static inline int fuzz_one_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

#endif
