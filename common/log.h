/* log: one-line diagnostics on stderr, prefixed with the program name.
 * Each call is one write(2) so lines from threads never interleave. */
#ifndef DCN_LOG_H
#define DCN_LOG_H

/* Sets the prefix ("dcn-hoster"); call once at start, before threads. */
void log_init(const char *program);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As log_info, with ": <strerror(errno)>" appended (errno is read first). */
void log_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
