#include "access_log.h"

#include "fmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t append_escaped(char *out, size_t pos, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len && pos + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            out[pos++] = '\\';
            out[pos++] = 'x';
            out[pos++] = hex[c >> 4];
            out[pos++] = hex[c & 15];
        } else {
            out[pos++] = (char)c;
        }
    }
    return pos;
}

size_t access_log_format_request(char *out, size_t cap, const char *method, size_t method_len,
                                 const char *target, size_t target_len)
{
    memcpy(out, "method=", 7);
    size_t pos = append_escaped(out, 7, 7 + 16 * 4 + 5, method, method_len < 16 ? method_len : 16);
    memcpy(out + pos, " path=\"", 7);
    pos = append_escaped(out, pos + 7, cap - 1, target, target_len);
    out[pos++] = '"';
    return pos;
}

size_t access_log_format_ua(char *out, size_t cap, const char *ua, size_t ua_len)
{
    memcpy(out, "ua=\"", 4);
    size_t pos = append_escaped(out, 4, cap - 1, ua, ua_len);
    out[pos++] = '"';
    return pos;
}
void access_log_flush(struct access_log *log)
{
    if (!log->len)
        return;
    pthread_mutex_lock(log->stdout_lock);
    size_t off = 0;
    while (off < log->len) {
        ssize_t n = write(STDOUT_FILENO, log->buf + off, log->len - off);
        if (n <= 0)
            break; /* a closed or broken stdout must not stop serving */
        off += (size_t)n;
    }
    pthread_mutex_unlock(log->stdout_lock);
    log->len = 0;
}

void access_log_append(struct access_log *log, const struct timeval *now, const struct access_log_entry *e)
{
    /* timestamp 40, peer 64, numbers and field names 100, reason 56 */
    if (log->len + e->request_part_len + e->ua_part_len + 320 > sizeof log->buf)
        access_log_flush(log);
    if (now->tv_sec != log->ts_sec) {
        struct tm tm;
        time_t secs = now->tv_sec;
        gmtime_r(&secs, &tm);
        snprintf(log->ts_prefix, sizeof log->ts_prefix, "ts=%04d-%02d-%02dT%02d:%02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        log->ts_sec = now->tv_sec;
    }
    char *p = log->buf + log->len;
    size_t len = strlen(log->ts_prefix);
    memcpy(p, log->ts_prefix, len);
    long ms = (long)(now->tv_usec / 1000);
    p[len++] = '.';
    p[len++] = (char)('0' + ms / 100);
    p[len++] = (char)('0' + ms / 10 % 10);
    p[len++] = (char)('0' + ms % 10);
    memcpy(p + len, "Z peer=", 7);
    len += 7;
    size_t peer_len = strnlen(e->peer, 64);
    memcpy(p + len, e->peer, peer_len);
    len += peer_len;
    p[len++] = ' ';
    memcpy(p + len, e->request_part, e->request_part_len);
    len += e->request_part_len;
    memcpy(p + len, " status=", 8);
    len += 8;
    len += fmt_u64(p + len, (uint64_t)(e->status < 0 ? 0 : e->status));
    memcpy(p + len, " bytes=", 7);
    len += 7;
    len += fmt_u64(p + len, e->bytes);
    memcpy(p + len, " dur_us=", 8);
    len += 8;
    len += fmt_u64(p + len, e->duration_us);
    if (e->reason) {
        size_t reason_len = strnlen(e->reason, 48);
        memcpy(p + len, " reason=", 8);
        memcpy(p + len + 8, e->reason, reason_len);
        len += 8 + reason_len;
    }
    p[len++] = ' ';
    memcpy(p + len, e->ua_part, e->ua_part_len);
    len += e->ua_part_len;
    p[len++] = '\n';
    log->len += len;
}
