/* conditional: validators (ETag, Last-Modified) and the evaluation of
 * If-None-Match, If-Modified-Since and If-Range (RFC 9110 section 13). */
#ifndef DCN_CONDITIONAL_H
#define DCN_CONDITIONAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ETAG_MAX 48

/* Writes a strong entity tag, quotes included, derived from the file's size
 * and modification time in nanoseconds ("<size hex>-<sec hex>.<nsec hex>"
 * in quotes, at most 44 bytes), NUL-terminates it and returns its length. */
size_t etag_format(uint64_t size, int64_t mtime_sec, long mtime_nsec, char out[ETAG_MAX]);

/* If-None-Match: true when the field (a list of entity tags or "*") matches
 * etag under weak comparison (W/ prefixes ignored). */
bool etag_list_matches(const char *field, size_t len, const char *etag, size_t etag_len);

/* True when the response should be 304 Not Modified. If-None-Match, when
 * present, decides alone; otherwise If-Modified-Since (GMT or UTC spelling)
 * is compared with mtime: 304 when mtime <= the date; a field that is not a
 * valid HTTP-date is ignored. NULL fields are absent. */
bool cond_not_modified(const char *if_none_match, size_t inm_len,
                       const char *if_modified_since, size_t ims_len,
                       const char *etag, size_t etag_len, time_t mtime);

/* If-Range: true when the Range header may be honoured: the field is a
 * strong entity tag equal to etag, or an HTTP-date equal to mtime. A weak tag
 * never matches. An absent field (NULL) returns true. */
bool cond_if_range_matches(const char *if_range, size_t len,
                           const char *etag, size_t etag_len, time_t mtime);

#endif
