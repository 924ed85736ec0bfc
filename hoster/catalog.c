#include "catalog.h"

#include "content_root.h"
#include "refs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMIT_MAX_BYTES (1u << 20)
#define DIRTREE_MAX_BYTES (64u << 20)

static void object_path(char *out, size_t cap, const char *repo_path, const uint8_t csum[OSTREE_CSUM_LEN],
                        const char *ext)
{
    char hex[OSTREE_HEX_LEN + 1];
    ostree_csum_to_hex(csum, hex);
    snprintf(out, cap, "%s%sobjects/%.2s/%s.%s", repo_path, *repo_path ? "/" : "", hex, hex + 2, ext);
}

/* Reads a whole object (at most max bytes) into a malloc'd buffer. */
static int read_object(const struct content_root *root, const char *repo_path, const uint8_t csum[OSTREE_CSUM_LEN],
                       const char *ext, size_t max, uint8_t **buf, size_t *len, uint64_t *size)
{
    char path[1024];
    object_path(path, sizeof path, repo_path, csum, ext);
    int fd = content_root_openat(root, path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    if (!buf) {
        close(fd);
        return 0;
    }
    *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    size_t off = 0;
    while (*buf && off < (size_t)st.st_size) {
        ssize_t n = pread(fd, *buf + off, (size_t)st.st_size - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fd);
    if (!*buf || off != (size_t)st.st_size) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    *len = off;
    return 0;
}

/* ---- sizes ---------------------------------------------------------------------- */

/* A set of (checksum, object type) seen while walking one commit. */
struct object_set {
    uint8_t (*keys)[OSTREE_CSUM_LEN + 1]; /* last byte: type tag, 0 = empty slot */
    size_t cap, used;
};

static size_t slot_of(const uint8_t *key, size_t mask)
{
    uint64_t h;
    memcpy(&h, key, 8); /* checksums are uniformly distributed already */
    return (size_t)(h ^ key[OSTREE_CSUM_LEN] * 0x9e3779b97f4a7c15ULL) & mask;
}

/* Adds (csum, tag); returns 1 when new, 0 when present, -1 out of memory. */
static int set_add(struct object_set *s, const uint8_t csum[OSTREE_CSUM_LEN], uint8_t tag)
{
    if ((s->used + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint8_t (*keys)[OSTREE_CSUM_LEN + 1] = calloc(cap, sizeof *keys);
        if (!keys)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->keys[i][OSTREE_CSUM_LEN])
                continue;
            size_t j = slot_of(s->keys[i], cap - 1);
            while (keys[j][OSTREE_CSUM_LEN])
                j = (j + 1) & (cap - 1);
            memcpy(keys[j], s->keys[i], OSTREE_CSUM_LEN + 1);
        }
        free(s->keys);
        s->keys = keys;
        s->cap = cap;
    }
    uint8_t key[OSTREE_CSUM_LEN + 1];
    memcpy(key, csum, OSTREE_CSUM_LEN);
    key[OSTREE_CSUM_LEN] = tag;
    size_t j = slot_of(key, s->cap - 1);
    while (s->keys[j][OSTREE_CSUM_LEN]) {
        if (!memcmp(s->keys[j], key, sizeof key))
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    memcpy(s->keys[j], key, sizeof key);
    s->used++;
    return 1;
}

enum { TAG_FILE = 1, TAG_DIRTREE, TAG_DIRMETA };

struct size_walk {
    const struct content_root *root;
    const char *repo_path;
    struct object_set seen;
    uint8_t (*todo)[OSTREE_CSUM_LEN]; /* dirtrees still to read */
    size_t num_todo, cap_todo;
    uint64_t total;
    bool failed;
};

static void walk_file(void *arg, const uint8_t csum[OSTREE_CSUM_LEN])
{
    struct size_walk *w = arg;
    int added = set_add(&w->seen, csum, TAG_FILE);
    uint64_t size;
    if (added < 0)
        w->failed = true;
    if (added != 1)
        return;
    if (read_object(w->root, w->repo_path, csum, "filez", UINT64_MAX, NULL, NULL, &size) < 0 &&
        read_object(w->root, w->repo_path, csum, "file", UINT64_MAX, NULL, NULL, &size) < 0) {
        w->failed = true;
        return;
    }
    w->total += size;
}

static void walk_dir(void *arg, const uint8_t tree[OSTREE_CSUM_LEN], const uint8_t meta[OSTREE_CSUM_LEN])
{
    struct size_walk *w = arg;
    uint64_t size;
    int added = set_add(&w->seen, meta, TAG_DIRMETA);
    if (added == 1) {
        if (read_object(w->root, w->repo_path, meta, "dirmeta", UINT64_MAX, NULL, NULL, &size) < 0)
            w->failed = true;
        else
            w->total += size;
    }
    added = added < 0 ? -1 : set_add(&w->seen, tree, TAG_DIRTREE);
    if (added < 0)
        w->failed = true;
    if (added != 1)
        return;
    if (w->num_todo == w->cap_todo) {
        size_t cap = w->cap_todo ? w->cap_todo * 2 : 64;
        void *grown = realloc(w->todo, cap * sizeof *w->todo);
        if (!grown) {
            w->failed = true;
            return;
        }
        w->todo = grown;
        w->cap_todo = cap;
    }
    memcpy(w->todo[w->num_todo++], tree, OSTREE_CSUM_LEN);
}

int catalog_commit_size(const struct content_root *root, const char *repo_path, const uint8_t commit[OSTREE_CSUM_LEN],
                        uint64_t *out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t size;
    struct ostree_commit_info ci;
    if (read_object(root, repo_path, commit, "commit", COMMIT_MAX_BYTES, &buf, &len, &size) < 0)
        return -1;
    int rc = ostree_commit_parse(buf, len, &ci);
    uint8_t tree[OSTREE_CSUM_LEN], meta[OSTREE_CSUM_LEN];
    memcpy(tree, ci.root_tree, sizeof tree);
    memcpy(meta, ci.root_meta, sizeof meta);
    free(buf);
    if (rc < 0)
        return -1;
    struct size_walk w = {.root = root, .repo_path = repo_path, .total = size};
    walk_dir(&w, tree, meta);
    while (w.num_todo && !w.failed) {
        uint8_t csum[OSTREE_CSUM_LEN];
        memcpy(csum, w.todo[--w.num_todo], sizeof csum);
        if (read_object(root, repo_path, csum, "dirtree", DIRTREE_MAX_BYTES, &buf, &len, &size) < 0) {
            w.failed = true;
            break;
        }
        w.total += size;
        if (ostree_dirtree_parse(buf, len, walk_file, walk_dir, &w) < 0)
            w.failed = true;
        free(buf);
    }
    free(w.seen.keys);
    free(w.todo);
    if (w.failed)
        return -1;
    *out = w.total;
    return 0;
}

/* ---- the catalog -------------------------------------------------------------------- */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        abort(); /* cold path, tiny: as strbuf does */
    memcpy(d, s ? s : "", s ? n : 0);
    d[s ? n : 0] = '\0';
    return d;
}

static void add_history(struct catalog *c, const struct content_root *root, const char *repo_path, const char *ref,
                        const uint8_t head[OSTREE_CSUM_LEN])
{
    uint8_t cur[OSTREE_CSUM_LEN];
    memcpy(cur, head, sizeof cur);
    for (int depth = 0; depth < CATALOG_MAX_HISTORY && c->num_versions < CATALOG_MAX_VERSIONS; depth++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        uint64_t size;
        struct ostree_commit_info ci;
        bool ok = read_object(root, repo_path, cur, "commit", COMMIT_MAX_BYTES, &buf, &len, &size) == 0 &&
                  ostree_commit_parse(buf, len, &ci) == 0;
        if (!ok && depth > 0) {
            free(buf);
            break; /* the history ends where the repository stops keeping it */
        }
        struct catalog_version *v = &c->versions[c->num_versions++];
        memset(v, 0, sizeof *v);
        v->ref = dup_n(ref, strlen(ref));
        v->head = depth == 0;
        memcpy(v->commit, cur, sizeof cur);
        ostree_csum_to_hex(cur, v->hex);
        v->version = dup_n(ok ? ci.version : NULL, ok ? ci.version_len : 0);
        v->subject = dup_n(ok ? ci.subject : NULL, ok ? ci.subject_len : 0);
        v->timestamp = ok ? ci.timestamp : 0;
        v->has_parent = ok && ci.has_parent;
        if (v->has_parent)
            memcpy(v->parent, ci.parent, sizeof v->parent);
        atomic_init(&v->size, -1);
        free(buf);
        if (!ok || !ci.has_parent)
            break;
        memcpy(cur, ci.parent, sizeof cur);
    }
}

static uint64_t dir_bytes(int dir_fd, unsigned *parts)
{
    DIR *d = fdopendir(dir_fd);
    if (!d) {
        close(dir_fd);
        return 0;
    }
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        total += (uint64_t)st.st_size;
        if (strcmp(de->d_name, "superblock"))
            (*parts)++;
    }
    closedir(d);
    return total;
}

static void add_deltas(struct catalog *c, const struct content_root *root, const char *repo_path)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%sdeltas", repo_path, *repo_path ? "/" : "");
    int fd = content_root_openat(root, path, O_RDONLY | O_DIRECTORY);
    DIR *top = fd >= 0 ? fdopendir(fd) : NULL;
    if (!top) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(top)) && c->num_deltas < CATALOG_MAX_DELTAS) {
        if (strlen(de->d_name) != 2)
            continue;
        int sub_fd = openat(dirfd(top), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *sub = sub_fd >= 0 ? fdopendir(sub_fd) : NULL;
        if (!sub) {
            if (sub_fd >= 0)
                close(sub_fd);
            continue;
        }
        struct dirent *e;
        while ((e = readdir(sub)) && c->num_deltas < CATALOG_MAX_DELTAS) {
            char name[256];
            int n = snprintf(name, sizeof name, "%s/%s", de->d_name, e->d_name);
            struct catalog_delta *d = &c->deltas[c->num_deltas];
            memset(d, 0, sizeof *d);
            if (n <= 0 || (size_t)n >= sizeof name || !ostree_delta_name_parse(name, (size_t)n, &d->has_from, d->from, d->to))
                continue;
            int dfd = openat(dirfd(sub), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (dfd < 0)
                continue;
            d->bytes = dir_bytes(dfd, &d->parts);
            c->num_deltas++;
        }
        closedir(sub);
    }
    closedir(top);
}

static int delta_cmp(const void *x, const void *y)
{
    const struct catalog_delta *a = x, *b = y;
    int r = memcmp(a->to, b->to, OSTREE_CSUM_LEN);
    if (r)
        return r;
    if (a->has_from != b->has_from)
        return a->has_from ? 1 : -1;
    return memcmp(a->from, b->from, OSTREE_CSUM_LEN);
}

struct catalog *catalog_build(const struct content_root *root, const char *repo_path, const struct catalog *prev,
                              time_t now)
{
    struct catalog *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    atomic_init(&c->refs, 1);
    c->versions = calloc(CATALOG_MAX_VERSIONS, sizeof *c->versions);
    c->deltas = calloc(CATALOG_MAX_DELTAS, sizeof *c->deltas);
    if (!c->versions || !c->deltas)
        abort();
    struct ref_list refs;
    if (refs_list(root, repo_path, &refs) == 0) {
        c->repo_readable = true;
        for (size_t i = 0; i < refs.n; i++) {
            uint8_t head[OSTREE_CSUM_LEN];
            if (refs.refs[i].checksum[0] && ostree_hex_to_csum(refs.refs[i].checksum, OSTREE_HEX_LEN, head))
                add_history(c, root, repo_path, refs.refs[i].name, head);
        }
        refs_free(&refs);
        add_deltas(c, root, repo_path);
        qsort(c->deltas, c->num_deltas, sizeof *c->deltas, delta_cmp);
    }
    for (size_t i = 0; i < c->num_versions; i++) {
        struct catalog_version *v = &c->versions[i];
        const struct catalog_version *old = prev ? catalog_find(prev, v->commit) : NULL;
        v->hosted_since = old ? old->hosted_since : now;
        atomic_store(&v->size, old ? atomic_load(&old->size) : -1);
    }
    return c;
}

void catalog_ref(struct catalog *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void catalog_unref(struct catalog *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (size_t i = 0; i < c->num_versions; i++) {
        free(c->versions[i].ref);
        free(c->versions[i].version);
        free(c->versions[i].subject);
    }
    free(c->versions);
    free(c->deltas);
    free(c);
}

bool catalog_same(const struct catalog *a, const struct catalog *b)
{
    if (a->num_versions != b->num_versions || a->num_deltas != b->num_deltas || a->repo_readable != b->repo_readable)
        return false;
    for (size_t i = 0; i < a->num_versions; i++) {
        const struct catalog_version *x = &a->versions[i], *y = &b->versions[i];
        if (x->head != y->head || memcmp(x->commit, y->commit, OSTREE_CSUM_LEN) || strcmp(x->ref, y->ref))
            return false;
    }
    for (size_t i = 0; i < a->num_deltas; i++) {
        const struct catalog_delta *x = &a->deltas[i], *y = &b->deltas[i];
        if (delta_cmp(x, y) || x->bytes != y->bytes || x->parts != y->parts)
            return false;
    }
    return true;
}

const struct catalog_version *catalog_find(const struct catalog *c, const uint8_t commit[OSTREE_CSUM_LEN])
{
    for (size_t i = 0; i < c->num_versions; i++)
        if (!memcmp(c->versions[i].commit, commit, OSTREE_CSUM_LEN))
            return &c->versions[i];
    return NULL;
}
