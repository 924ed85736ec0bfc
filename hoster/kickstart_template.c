/* The pure parts of kickstart.h: Host validation and placeholder expansion. */
#include "kickstart.h"

#include "strbuf.h"

#include <string.h>

bool kickstart_host_valid(const char *host, size_t len)
{
    if (!host || len == 0 || len > 255)
        return false;
    size_t i = 0;
    if (host[0] == '[') {
        for (i = 1; i < len && host[i] != ']'; i++) {
            char c = host[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
                return false;
        }
        if (i == len || i < 3)
            return false;
        i++;
    } else {
        for (; i < len && host[i] != ':'; i++) {
            char c = host[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.'))
                return false;
        }
        if (i == 0 || host[0] == '.' || host[0] == '-')
            return false;
    }
    if (i == len)
        return true;
    if (host[i] != ':' || len - i - 1 == 0 || len - i - 1 > 5)
        return false;
    unsigned port = 0;
    for (i++; i < len; i++) {
        if (host[i] < '0' || host[i] > '9')
            return false;
        port = port * 10 + (unsigned)(host[i] - '0');
    }
    return port <= 65535;
}

/* A comment line: its first character that is not a blank is '#'. */
static bool comment_line(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && line[i] == '#';
}

/* One line (or the text after the last '\n') with its placeholders filled. */
static bool expand_line(struct strbuf *out, const char *line, size_t len, const char *const *names,
                        const char *const *values, size_t n)
{
    bool complete = true;
    size_t i = 0;
    while (i < len) {
        const char *at = memchr(line + i, '@', len - i);
        if (!at) {
            strbuf_append(out, line + i, len - i);
            break;
        }
        strbuf_append(out, line + i, (size_t)(at - (line + i)));
        i = (size_t)(at - line);
        size_t k;
        for (k = 0; k < n; k++) {
            size_t nl = strlen(names[k]);
            if (len - i >= nl && !memcmp(line + i, names[k], nl))
                break;
        }
        if (k == n) {
            strbuf_append(out, "@", 1); /* not ours: e-mail addresses, other tools' markers */
            i++;
            continue;
        }
        if (values[k])
            strbuf_puts(out, values[k]);
        else
            complete = false;
        i += strlen(names[k]);
    }
    return complete;
}

bool kickstart_expand(struct strbuf *out, const char *tmpl, size_t len,
                      const char *const *names, const char *const *values, size_t n)
{
    bool complete = true;
    size_t i = 0;
    strbuf_append(out, "", 0);
    while (i < len) {
        const char *nl = memchr(tmpl + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - tmpl) + 1 : len; /* the line with its '\n' */
        if (comment_line(tmpl + i, end - i))
            strbuf_append(out, tmpl + i, end - i);
        else if (!expand_line(out, tmpl + i, end - i, names, values, n))
            complete = false;
        i = end;
    }
    return complete;
}
