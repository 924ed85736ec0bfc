/* path_norm: turns a request-target into a path relative to the content
 * root. Percent-decodes exactly once, then resolves "." and ".." segments
 * lexically; the result can never name anything above the root. */
#ifndef DCN_PATH_NORM_H
#define DCN_PATH_NORM_H

#include <stdbool.h>
#include <stddef.h>

enum path_result {
    PATH_OK = 0,
    PATH_BAD,       /* 400: not origin/absolute form, bad %-escape, NUL, backslash, control byte */
    PATH_FORBIDDEN, /* 403: ".." climbing above the root */
    PATH_HIDDEN,    /* 404: a segment starting with '.' (.lock, .git, ...) */
    PATH_TOO_LONG,  /* 414: decoded path longer than the output buffer */
};

/* target/len: the request-target as sent. Origin form ("/a/b?q") and
 * absolute form ("http://host/a/b") are accepted; the query and any
 * fragment are dropped. On PATH_OK, out holds the normalised path without a
 * leading '/', NUL-terminated ("" is the root), *out_len its length, and
 * *trailing_slash whether the decoded path ended in '/' (or in a "." or ".."
 * segment, which names a directory too: "/a/." and "/a/b/.." give "a", true).
 * '+' is a literal plus; a decoded "%2F" separates segments like '/'. For
 * absolute form, *authority and *authority_len give the host[:port] part
 * inside target (else NULL and 0; userinfo "user@" is PATH_BAD). On any
 * other result out is "" (when cap > 0) and *out_len is 0. Precedence:
 * PATH_BAD anywhere in the path wins; then PATH_FORBIDDEN or PATH_TOO_LONG,
 * whichever is met first left to right; PATH_HIDDEN is judged on the result. */
enum path_result path_normalise(const char *target, size_t len, char *out, size_t cap,
                                size_t *out_len, bool *trailing_slash,
                                const char **authority, size_t *authority_len);

#endif
