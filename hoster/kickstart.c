#include "kickstart.h"

#include "config.h"
#include "content_root.h"
#include "refs.h"
#include "respond.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KICKSTART_MAX (1 << 20)

void kickstart_respond(struct request *r)
{
    const struct hoster_config *cfg = r->cfg;
    int fd = content_root_openat(r->root, r->path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        respond_open_failed(r, errno);
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        respond_open_failed(r, err);
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > KICKSTART_MAX || r->trailing_slash) {
        close(fd);
        respond_error(r, 403);
        return;
    }
    char *tmpl = malloc((size_t)st.st_size + 1);
    ssize_t got = tmpl ? pread(fd, tmpl, (size_t)st.st_size, 0) : -1;
    close(fd);
    if (got != st.st_size) {
        free(tmpl);
        respond_error(r, 500);
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
        respond_error(r, 400);
    } else if (!complete) {
        respond_error(r, 503); /* no ref hosted yet */
    } else {
        respond_memory(r, 200, "text/plain; charset=utf-8", "Cache-Control: no-cache\r\n", 25, out.data, out.len);
    }
    strbuf_free(&out);
    free(tmpl);
    free(base);
    free(repo_url);
    free(ref);
}
