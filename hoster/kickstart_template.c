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

bool kickstart_expand(struct strbuf *out, const char *tmpl, size_t len,
                      const char *const *names, const char *const *values, size_t n)
{
    bool complete = true;
    size_t i = 0;
    strbuf_append(out, "", 0);
    while (i < len) {
        const char *at = memchr(tmpl + i, '@', len - i);
        if (!at) {
            strbuf_append(out, tmpl + i, len - i);
            break;
        }
        strbuf_append(out, tmpl + i, (size_t)(at - (tmpl + i)));
        i = (size_t)(at - tmpl);
        size_t k;
        for (k = 0; k < n; k++) {
            size_t nl = strlen(names[k]);
            if (len - i >= nl && !memcmp(tmpl + i, names[k], nl))
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
