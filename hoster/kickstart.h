/* kickstart: *.ks files are templates; @URL@, @REPO_URL@, @REF@ and
 * @COMMIT@ are filled in commands (not in comment lines) per request so
 * one image works behind any Route/Service name. */
#ifndef DCN_KICKSTART_H
#define DCN_KICKSTART_H

#include <stdbool.h>
#include <stddef.h>

struct request;
struct strbuf;

void kickstart_respond(struct request *r);

/* A Host value we can put into a URL: reg-name or IPv4 (letters, digits,
 * '-', '.') or a bracketed IPv6 literal, with an optional port. */
bool kickstart_host_valid(const char *host, size_t len);

/* The template engine: appends tmpl to out with each known placeholder
 * replaced in commands; comment lines (the first character that is not a
 * blank is '#': kickstart comments, and shell comments inside %pre/%post)
 * are copied as they are, so a comment can name a placeholder.
 * values[i] may be NULL when unknown, then returns false (the placeholder
 * is used in a command but has no value). names/values have n entries. */
bool kickstart_expand(struct strbuf *out, const char *tmpl, size_t len,
                      const char *const *names, const char *const *values, size_t n);

#endif
