#include "kickstart.h"

#include "config.h"
#include "content_root.h"
#include "refs.h"
#include "respond.h"
#include "server.h"
#include "strbuf.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KICKSTART_MAX (1 << 20)

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

void kickstart_respond(struct request *r)
{
    struct worker *w = r->w;
    const struct hoster_config *cfg = w->srv->cfg;
    int fd = content_root_openat(r->root, r->path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        respond_error(r->conn, r, errno == ENOENT || errno == ENOTDIR ? 404 : 403);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KICKSTART_MAX || r->trailing_slash) {
        close(fd);
        respond_error(r->conn, r, 403);
        return;
    }
    char *tmpl = malloc((size_t)st.st_size + 1);
    ssize_t got = tmpl ? pread(fd, tmpl, (size_t)st.st_size, 0) : -1;
    close(fd);
    if (got != st.st_size) {
        free(tmpl);
        respond_error(r->conn, r, 500);
        return;
    }

    char *base = NULL, *repo_url = NULL;
    if (cfg->public_url) {
        base = strdup(cfg->public_url);
    } else if (kickstart_host_valid(r->info.host, r->info.host_len)) {
        base = malloc(r->info.host_len + 8);
        memcpy(base, "http://", 7);
        memcpy(base + 7, r->info.host, r->info.host_len);
        base[7 + r->info.host_len] = '\0';
    }
    if (base) {
        size_t n = strlen(base) + strlen(cfg->repo_path) + 2;
        repo_url = malloc(n);
        snprintf(repo_url, n, "%s%s%s", base, *cfg->repo_path ? "/" : "", cfg->repo_path);
    }
    char *ref = cfg->ref ? strdup(cfg->ref) : NULL;
    if (!ref) {
        struct ref_list refs;
        if (refs_list(r->root, cfg->repo_path, &refs) == 0) {
            if (refs.n)
                ref = strdup(refs.refs[0].name);
            refs_free(&refs);
        }
    }
    char commit[REFS_CHECKSUM_LEN + 1] = "";
    if (ref)
        refs_read(r->root, cfg->repo_path, ref, commit);

    static const char *const names[] = {"@URL@", "@REPO_URL@", "@REF@", "@COMMIT@"};
    const char *values[] = {base, repo_url, ref, commit[0] ? commit : NULL};
    struct strbuf out = STRBUF_INIT;
    bool complete = kickstart_expand(&out, tmpl, (size_t)st.st_size, names, values, 4);
    if (!complete && !base) {
        /* the template needs a URL and the Host header cannot give one */
        respond_error(r->conn, r, 400);
    } else if (!complete) {
        respond_error(r->conn, r, 503); /* no ref hosted yet */
    } else {
        respond_memory(r, 200, "text/plain; charset=utf-8", "Cache-Control: no-cache\r\n", 25, out.data, out.len);
    }
    strbuf_free(&out);
    free(tmpl);
    free(base);
    free(repo_url);
    free(ref);
}
