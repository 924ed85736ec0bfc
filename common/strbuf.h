/* strbuf: a growable byte buffer for cold paths (status pages, JSON,
 * kickstarts). Allocation failure aborts: these buffers are small. */
#ifndef DCN_STRBUF_H
#define DCN_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *data; /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
};

#define STRBUF_INIT {NULL, 0, 0}

void strbuf_append(struct strbuf *sb, const void *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_free(struct strbuf *sb);

/* Appends s as a JSON string literal, quotes included. */
void strbuf_json_string(struct strbuf *sb, const char *s, size_t len);

#endif
