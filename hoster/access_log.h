/* access_log: one logfmt line per request on stdout, buffered per worker and
 * written in whole-buffer writes (when full, and by a 100 ms timer), so
 * logging costs no syscall per request. */
#ifndef DCN_ACCESS_LOG_H
#define DCN_ACCESS_LOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define ACCESS_LOG_BUF 65536

struct access_log {
    char buf[ACCESS_LOG_BUF];
    size_t len;
    pthread_mutex_t *stdout_lock; /* shared by all workers: whole buffers never interleave */
    time_t ts_sec;                /* second that ts_prefix shows */
    char ts_prefix[96];           /* "ts=2026-11-27T00:32:05" (sized for any int, as gcc checks) */
};

/* A line's fields. request_part is 'method=GET path="/x"' and ua_part
 * 'ua="y"', both already escaped (see access_log_format_request). */
struct access_log_entry {
    const char *request_part;
    size_t request_part_len;
    const char *ua_part;
    size_t ua_part_len;
    const char *peer;
    int status;
    uint64_t bytes;
    uint64_t duration_us;
    const char *reason; /* why the request was refused ("symlink-outside-root"), a
                           static word logged as reason=WORD, or NULL */
};

/* Write 'method=M path="T"' / 'ua="U"' into out (cap bytes, at least 64),
 * escaping quotes, backslashes and non-printable bytes as \xHH and
 * truncating what does not fit. Return the length. */
size_t access_log_format_request(char *out, size_t cap, const char *method, size_t method_len,
                                 const char *target, size_t target_len);
size_t access_log_format_ua(char *out, size_t cap, const char *ua, size_t ua_len);

void access_log_append(struct access_log *log, const struct timeval *now, const struct access_log_entry *e);
void access_log_flush(struct access_log *log);

#endif
