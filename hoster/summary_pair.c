/* summary_pair: see summary_pair.h. */
#include "summary_pair.h"

#include "config.h"
#include "conn.h"
#include "content_root.h"
#include "respond.h"
#include "server.h"
#include "static_file.h"
#include "summary_rule.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ident {
    bool present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

struct summary_store {
    pthread_mutex_t lock;
    struct summary_pair *current;          /* the pair served; NULL before the first request */
    bool pending;                          /* an incomplete pair on disk, seen since pending_since */
    struct ident pending_summary, pending_sig;
    uint64_t pending_gen;
    time_t pending_since;
};

static void ident_of(const struct summary_file *f, struct ident *id)
{
    memset(id, 0, sizeof *id);
    if (!f->present)
        return;
    id->present = true;
    id->dev = f->st.st_dev;
    id->ino = f->st.st_ino;
    id->size = f->st.st_size;
    id->mtime = f->st.st_mtim;
    id->ctime = f->st.st_ctim;
}

static bool same_ident(const struct ident *a, const struct ident *b)
{
    if (a->present != b->present)
        return false;
    return !a->present ||
           (a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
            a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
            a->ctime.tv_nsec == b->ctime.tv_nsec);
}

static bool file_is(const struct summary_file *f, const struct ident *id)
{
    struct ident mine;
    ident_of(f, &mine);
    return same_ident(&mine, id);
}

void summary_pair_unref(struct summary_pair *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    free(p->summary.body);
    free(p->sig.body);
    free(p);
}

struct summary_store *summary_store_new(void)
{
    struct summary_store *s = calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->lock, NULL);
    return s;
}

void summary_store_free(struct summary_store *s)
{
    if (!s)
        return;
    summary_pair_unref(s->current);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

enum summary_path summary_pair_path(const char *repo_path, const char *path, size_t len)
{
    size_t rl = strlen(repo_path);
    if (rl) {
        if (len <= rl || memcmp(path, repo_path, rl) || path[rl] != '/')
            return SUMMARY_PATH_NONE;
        path += rl + 1;
        len -= rl + 1;
    }
    if (len == 7 && !memcmp(path, "summary", 7))
        return SUMMARY_PATH_SUMMARY;
    if (len == 11 && !memcmp(path, "summary.sig", 11))
        return SUMMARY_PATH_SIG;
    return SUMMARY_PATH_NONE;
}

/* Opens root/rel into f (fd in *fd, -1 when absent). Returns 0, or an errno. */
static int open_file(const struct content_root *root, const char *rel, struct summary_file *f, int *fd)
{
    memset(f, 0, sizeof *f);
    *fd = content_root_openat(root, rel, O_RDONLY | O_NONBLOCK);
    if (*fd < 0)
        return errno == ENOENT ? 0 : errno;
    if (fstat(*fd, &f->st) < 0 || !S_ISREG(f->st.st_mode) || (uint64_t)f->st.st_size > SUMMARY_MAX_BYTES) {
        int err = S_ISREG(f->st.st_mode) ? EFBIG : EISDIR;
        close(*fd);
        *fd = -1;
        return err;
    }
    f->present = true;
    return 0;
}

static int read_body(int fd, struct summary_file *f)
{
    if (!f->present)
        return 0;
    size_t len = (size_t)f->st.st_size, off = 0;
    f->body = malloc(len ? len : 1);
    if (!f->body)
        return ENOMEM;
    while (off < len) {
        ssize_t n = pread(fd, f->body + off, len - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO; /* the file shrank: rewritten in place */
        off += (size_t)n;
    }
    return 0;
}

/* The pair to serve now, with a reference for the caller; NULL with *err. */
static struct summary_pair *store_get(struct summary_store *s, const struct content_root *root,
                                      const char *repo_path, int *err)
{
    char rel_summary[4096], rel_sig[4096];
    const char *sep = *repo_path ? "/" : "";
    if ((size_t)snprintf(rel_summary, sizeof rel_summary, "%s%ssummary", repo_path, sep) >= sizeof rel_summary ||
        (size_t)snprintf(rel_sig, sizeof rel_sig, "%s%ssummary.sig", repo_path, sep) >= sizeof rel_sig) {
        *err = ENAMETOOLONG;
        return NULL;
    }
    struct summary_file fm, fs;
    int fd_m = -1, fd_s = -1;
    *err = open_file(root, rel_summary, &fm, &fd_m);
    if (!*err)
        *err = open_file(root, rel_sig, &fs, &fd_s);
    if (*err) {
        if (fd_m >= 0)
            close(fd_m);
        if (*err != EMFILE && *err != ENFILE)
            return NULL;
        /* Out of descriptors, nothing to tell whether the files changed: the
         * last complete pair of this root is still one (what it names is
         * kept), better than a 503 for what is already in memory. */
        pthread_mutex_lock(&s->lock);
        struct summary_pair *p = s->current && s->current->root_gen == root->gen ? s->current : NULL;
        if (p)
            atomic_fetch_add(&p->refs, 1);
        pthread_mutex_unlock(&s->lock);
        return p;
    }
    struct ident im, is;
    ident_of(&fm, &im);
    ident_of(&fs, &is);

    struct summary_pair *p = NULL;
    pthread_mutex_lock(&s->lock);
    struct summary_pair *cur = s->current;
    if (cur && cur->root_gen == root->gen && file_is(&cur->summary, &im) && file_is(&cur->sig, &is)) {
        p = cur; /* nothing changed */
    } else if (cur && summary_rule_judge(im.present ? &im.mtime : NULL, is.present ? &is.mtime : NULL,
                                         cur->sig.present) == SUMMARY_IN_PROGRESS) {
        /* a publish in progress: the last complete pair, unless this has lasted */
        time_t now = time(NULL);
        if (!s->pending || s->pending_gen != root->gen || !same_ident(&s->pending_summary, &im) ||
            !same_ident(&s->pending_sig, &is)) {
            s->pending = true;
            s->pending_gen = root->gen;
            s->pending_summary = im;
            s->pending_sig = is;
            s->pending_since = now;
        }
        if (now - s->pending_since < SUMMARY_SETTLE_S)
            p = cur;
    }
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p || (*err = read_body(fd_m, &fm)) != 0 || (*err = read_body(fd_s, &fs)) != 0) {
            if (!*err)
                *err = ENOMEM;
            free(fm.body);
            free(fs.body);
            free(p);
            p = NULL;
        } else {
            atomic_init(&p->refs, 1); /* the store's */
            p->root_gen = root->gen;
            p->summary = fm;
            p->sig = fs;
            summary_pair_unref(s->current);
            s->current = p;
            s->pending = false;
        }
    }
    if (p)
        atomic_fetch_add(&p->refs, 1); /* the caller's */
    pthread_mutex_unlock(&s->lock);
    if (fd_m >= 0)
        close(fd_m);
    if (fd_s >= 0)
        close(fd_s);
    return p;
}

void summary_pair_forget(struct conn *c)
{
    summary_pair_unref(c->paired);
    c->paired = NULL;
}

void summary_pair_respond(struct request *r, enum summary_path which)
{
    struct conn *c = r->conn;
    struct summary_pair *p = NULL;
    if (which == SUMMARY_PATH_SUMMARY && c->paired) {
        p = c->paired; /* the pair its summary.sig came from */
        c->paired = NULL;
    } else {
        int err = 0;
        p = store_get(r->w->srv->summaries, r->root, r->cfg->repo_path, &err);
        summary_pair_forget(c);
        if (!p) {
            if (err == EFBIG || err == EISDIR)
                static_file_respond(r); /* too large to hold, or not a file: from disk, unpaired */
            else
                respond_open_failed(r, err);
            return;
        }
        if (which == SUMMARY_PATH_SIG) {
            atomic_fetch_add(&p->refs, 1);
            c->paired = p;
        }
    }
    const struct summary_file *f = which == SUMMARY_PATH_SIG ? &p->sig : &p->summary;
    if (f->present)
        static_file_send_memory(r, f->body, &f->st);
    else
        respond_open_failed(r, ENOENT);
    summary_pair_unref(p);
}
