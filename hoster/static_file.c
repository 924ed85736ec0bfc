#include "static_file.h"

#include "conditional.h"
#include "content_addressed.h"
#include "config.h"
#include "content_root.h"
#include "dir_listing.h"
#include "file_cache.h"
#include "http_date.h"
#include "range.h"
#include "respond.h"
#include "server.h"
#include "worker.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_CONTROL_IMMUTABLE "Cache-Control: public, max-age=31536000, immutable\r\n"
#define CACHE_CONTROL_REVALIDATE "Cache-Control: no-cache\r\n"
#define HEAD_TAIL_MAX 320 /* Content-Type..Cache-Control: bounded fields only */

/* What a response describes, wherever the body comes from. */
struct representation {
    uint64_t size;
    time_t mtime;
    const char *content_type;
    const char *etag;          /* quotes included */
    size_t etag_len;
    const char *head_tail;     /* 200 head from Content-Type to the blank line */
    size_t head_tail_len;
    const char *validators;    /* Last-Modified, ETag and Cache-Control lines inside head_tail */
    size_t validators_len;
    const char *mem;           /* body in memory, or NULL... */
    int fd;                    /* ...in this file (owned: closed or handed to a file segment) */
};

static const char *content_type_for(const char *path, size_t len)
{
#define EXT(ext, type) {ext, sizeof ext - 1, type}
    static const struct {
        const char *ext;
        size_t len;
        const char *type;
    } types[] = {
        EXT(".json", "application/json"),   EXT(".html", "text/html; charset=utf-8"),
        EXT(".txt", "text/plain; charset=utf-8"), EXT(".ks", "text/plain; charset=utf-8"),
        EXT(".xml", "application/xml"),     EXT(".css", "text/css"),
        EXT(".js", "text/javascript"),      EXT(".svg", "image/svg+xml"),
        EXT(".png", "image/png"),           EXT(".iso", "application/vnd.efi.iso"),
        EXT(".asc", "text/plain; charset=utf-8"),
    };
#undef EXT
    size_t dot = len;
    while (dot > 0 && path[dot - 1] != '/' && path[dot - 1] != '.')
        dot--;
    if (dot == 0 || path[dot - 1] != '.')
        return "application/octet-stream";
    dot--;
    /* lengths first: an object's ".filez", ".dirtree" matches none, and
     * costs no string compare */
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (len - dot == types[i].len && !memcmp(path + dot, types[i].ext, types[i].len))
            return types[i].type;
    return "application/octet-stream";
}

/* Builds the 200 head tail into out (HEAD_TAIL_MAX bytes):
 * Content-Type, Content-Length, Accept-Ranges, then the validators block
 * (Last-Modified, ETag, Cache-Control) and the blank line. */
static size_t build_head_tail(char *out, const char *content_type, const struct stat *st, bool immutable,
                              size_t *validators_off, size_t *validators_len, size_t *etag_off, size_t *etag_len)
{
    char date[HTTP_DATE_LEN + 1];
    char etag[ETAG_MAX];
    http_date_format(st->st_mtim.tv_sec, date);
    size_t elen = etag_format((uint64_t)st->st_size, st->st_mtim.tv_sec, st->st_mtim.tv_nsec, etag);
    int n = snprintf(out, HEAD_TAIL_MAX, "Content-Type: %s\r\nContent-Length: %llu\r\nAccept-Ranges: bytes\r\n",
                     content_type, (unsigned long long)st->st_size);
    *validators_off = (size_t)n;
    n += snprintf(out + n, HEAD_TAIL_MAX - (size_t)n, "Last-Modified: %s\r\nETag: ", date);
    *etag_off = (size_t)n;
    *etag_len = elen;
    memcpy(out + n, etag, elen);
    n += (int)elen;
    n += snprintf(out + n, HEAD_TAIL_MAX - (size_t)n, "\r\n%s",
                  immutable ? CACHE_CONTROL_IMMUTABLE : CACHE_CONTROL_REVALIDATE);
    *validators_len = (size_t)n - *validators_off;
    memcpy(out + n, "\r\n", 2);
    return (size_t)n + 2;
}

static void close_body(struct representation *rep)
{
    if (!rep->mem && rep->fd >= 0)
        close(rep->fd);
    rep->fd = -1;
}

/* Appends [first, first+len) of the body to out. */
static int add_body(struct evbuffer *out, struct representation *rep, struct evbuffer_file_segment *seg,
                    uint64_t first, uint64_t len)
{
    if (rep->mem)
        return evbuffer_add(out, rep->mem + first, len);
    return evbuffer_add_file_segment(out, seg, (ev_off_t)first, (ev_off_t)len);
}

static void send_not_modified(struct request *r, struct representation *rep)
{
    char *h = r->w->head;
    size_t len = respond_head_begin(r, 304, h);
    memcpy(h + len, rep->validators, rep->validators_len);
    len += rep->validators_len;
    memcpy(h + len, "\r\n", 2);
    len += 2;
    close_body(rep);
    respond_send(r, 304, h, len, NULL, 0);
}

static void send_unsatisfiable(struct request *r, struct representation *rep)
{
    char extra[64];
    int n = snprintf(extra, sizeof extra, "Content-Range: bytes */%llu\r\n", (unsigned long long)rep->size);
    close_body(rep);
    respond_memory(r, 416, "text/plain; charset=utf-8", extra, (size_t)n, "416 Range Not Satisfiable\n", 26);
}

/* 206 (GET only): one range as a plain body, several as multipart/byteranges. */
static void send_ranges(struct request *r, struct representation *rep, const struct byte_range *ranges, size_t n)
{
    struct worker *w = r->w;
    char *h = w->head;
    size_t len = respond_head_begin(r, 206, h);
    char boundary[40];
    uint64_t body_len = 0;
    if (n == 1) {
        body_len = ranges[0].last - ranges[0].first + 1;
        len += (size_t)snprintf(h + len, WORKER_HEAD_MAX - len,
                                "Content-Type: %s\r\nContent-Length: %llu\r\nContent-Range: bytes %llu-%llu/%llu\r\n",
                                rep->content_type, (unsigned long long)body_len,
                                (unsigned long long)ranges[0].first, (unsigned long long)ranges[0].last,
                                (unsigned long long)rep->size);
    } else {
        snprintf(boundary, sizeof boundary, "dcn%016llx%08x", (unsigned long long)r->start_ns, w->id);
        for (size_t i = 0; i < n; i++) {
            char part[256];
            body_len += (uint64_t)snprintf(part, sizeof part, "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                                           boundary, rep->content_type, (unsigned long long)ranges[i].first,
                                           (unsigned long long)ranges[i].last, (unsigned long long)rep->size);
            body_len += ranges[i].last - ranges[i].first + 1;
        }
        body_len += strlen(boundary) + 8; /* "\r\n--" boundary "--\r\n" */
        len += (size_t)snprintf(h + len, WORKER_HEAD_MAX - len,
                                "Content-Type: multipart/byteranges; boundary=%s\r\nContent-Length: %llu\r\n",
                                boundary, (unsigned long long)body_len);
    }
    memcpy(h + len, rep->validators, rep->validators_len);
    len += rep->validators_len;
    memcpy(h + len, "Accept-Ranges: bytes\r\n\r\n", 24);
    len += 24;

    if (n == 1 && rep->mem) {
        respond_send(r, 206, h, len, rep->mem + ranges[0].first, body_len);
        return;
    }
    struct evbuffer *out = respond_output(r);
    if (!out) { /* out of memory: nothing sent, the connection closes */
        close_body(rep);
        respond_queued(r, 206, body_len, 0, false);
        return;
    }
    struct evbuffer_file_segment *seg = NULL;
    if (!rep->mem) {
        seg = evbuffer_file_segment_new(rep->fd, 0, (ev_off_t)rep->size, EVBUF_FS_CLOSE_ON_FREE);
        if (!seg) {
            close_body(rep);
            respond_error(r, 500);
            return;
        }
        rep->fd = -1; /* the segment owns it */
    }
    size_t before = evbuffer_get_length(out);
    int rc = evbuffer_add(out, h, len);
    if (n == 1) {
        rc |= add_body(out, rep, seg, ranges[0].first, body_len);
    } else {
        for (size_t i = 0; i < n; i++) {
            rc |= evbuffer_add_printf(out, "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                                      boundary, rep->content_type, (unsigned long long)ranges[i].first,
                                      (unsigned long long)ranges[i].last, (unsigned long long)rep->size) < 0;
            rc |= add_body(out, rep, seg, ranges[i].first, ranges[i].last - ranges[i].first + 1);
        }
        rc |= evbuffer_add_printf(out, "\r\n--%s--\r\n", boundary) < 0;
    }
    if (seg)
        evbuffer_file_segment_free(seg); /* the buffer holds its own references */
    respond_queued(r, 206, body_len, evbuffer_get_length(out) - before, rc == 0);
}

static void send_full(struct request *r, struct representation *rep)
{
    struct worker *w = r->w;
    char *h = w->head;
    size_t begin = respond_head_begin(r, 200, h);
    if (rep->mem || r->head_only) {
        struct iovec iov[3] = {
            {h, begin},
            {(void *)rep->head_tail, rep->head_tail_len},
            {(void *)rep->mem, r->head_only ? 0 : rep->size},
        };
        close_body(rep);
        respond_iov(r, 200, iov, iov[2].iov_len ? 3 : 2, iov[2].iov_len);
        return;
    }
    struct evbuffer *out = respond_output(r);
    if (!out) { /* out of memory: nothing sent, the connection closes */
        close_body(rep);
        respond_queued(r, 200, rep->size, 0, false);
        return;
    }
    size_t before = evbuffer_get_length(out);
    int rc = evbuffer_add(out, h, begin) | evbuffer_add(out, rep->head_tail, rep->head_tail_len);
    struct evbuffer_file_segment *seg = evbuffer_file_segment_new(rep->fd, 0, (ev_off_t)rep->size, EVBUF_FS_CLOSE_ON_FREE);
    if (!seg) {
        close_body(rep);
        rc = -1;
    } else {
        rep->fd = -1;
        rc |= evbuffer_add_file_segment(out, seg, 0, (ev_off_t)rep->size);
        evbuffer_file_segment_free(seg);
    }
    respond_queued(r, 200, rep->size, evbuffer_get_length(out) - before, rc == 0);
}

/* The request's validators and Range decide between 304, 416, 206, 200. */
static void send_representation(struct request *r, struct representation *rep)
{
    const struct http_request_info *in = &r->info;
    if ((in->if_none_match || in->if_modified_since) &&
        cond_not_modified(in->if_none_match, in->if_none_match_len, in->if_modified_since,
                          in->if_modified_since_len, rep->etag, rep->etag_len, rep->mtime)) {
        send_not_modified(r, rep);
        return;
    }
    /* Range is defined for GET only: HEAD and others ignore it (RFC 9110 14.2) */
    if (in->range && r->head->method_id == HTTP_METHOD_GET &&
        cond_if_range_matches(in->if_range, in->if_range_len, rep->etag, rep->etag_len, rep->mtime)) {
        struct byte_range ranges[RANGE_MAX];
        size_t n = 0;
        switch (range_parse(in->range, in->range_len, rep->size, ranges, RANGE_MAX, &n)) {
        case RANGE_OK:
            send_ranges(r, rep, ranges, n);
            return;
        case RANGE_UNSATISFIABLE:
            send_unsatisfiable(r, rep);
            return;
        case RANGE_IGNORE:
            break;
        }
    }
    send_full(r, rep);
}

static bool read_all(int fd, char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = pread(fd, buf + off, len - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false; /* error, or the file shrank under us */
        off += (size_t)n;
    }
    return true;
}

static void rep_from_entry(struct representation *rep, const struct file_cache_entry *e)
{
    *rep = (struct representation){
        .size = (uint64_t)e->size, .mtime = e->mtime.tv_sec,
        .content_type = content_type_for(e->path, e->path_len),
        .etag = e->etag, .etag_len = e->etag_len,
        .head_tail = e->head_tail, .head_tail_len = e->head_tail_len,
        .validators = e->validators, .validators_len = e->validators_len,
        .mem = e->body, .fd = -1,
    };
}

/* rep for a file with stat st, its 200 head tail built into head_tail
 * (HEAD_TAIL_MAX bytes); the body (mem or fd) is the caller's to set. */
static void rep_from_stat(struct representation *rep, char *head_tail, const char *ctype, const struct stat *st,
                          bool immutable)
{
    size_t voff, vlen, eoff, elen;
    size_t tail_len = build_head_tail(head_tail, ctype, st, immutable, &voff, &vlen, &eoff, &elen);
    *rep = (struct representation){
        .size = (uint64_t)st->st_size, .mtime = st->st_mtim.tv_sec, .content_type = ctype,
        .etag = head_tail + eoff, .etag_len = elen,
        .head_tail = head_tail, .head_tail_len = tail_len,
        .validators = head_tail + voff, .validators_len = vlen,
        .fd = -1,
    };
}

void static_file_send_memory(struct request *r, const char *body, const struct stat *st)
{
    char head_tail[HEAD_TAIL_MAX];
    struct representation rep;
    rep_from_stat(&rep, head_tail, content_type_for(r->path, r->path_len), st, false);
    rep.mem = body ? body : "";
    send_representation(r, &rep);
}

/* The worker's cache entry for r's path while it is still what the path
 * leads to (counted as a hit), else NULL (a miss; a stale entry is
 * dropped). */
static struct file_cache_entry *cache_lookup(struct request *r)
{
    struct worker *w = r->w;
    struct file_cache_entry *e = file_cache_get(w->cache, r->path, r->path_len);
    if (e) {
        /* The content watch drops caches when such files change; without
         * it (inotify limits), or for a file that is a symlink, one stat
         * of what the path leads to now, still no open/read/close. */
        struct stat st;
        if ((!e->verify && atomic_load_explicit(&w->srv->cache_trusted, memory_order_relaxed)) ||
            (fstatat(r->root->fd, r->path, &st, 0) == 0 && file_cache_entry_fresh(e, &st))) {
            metrics_add(&w->metrics.cache_hits, 1);
            return e;
        }
        file_cache_remove(w->cache, e);
    }
    metrics_add(&w->metrics.cache_misses, 1);
    return NULL;
}

/* Reads the small file fd (stat st) into a new cache entry for r's path
 * and answers from it. False when the cache has no room: nothing was sent
 * and fd is still open; otherwise fd is closed. */
static bool cache_fill_and_send(struct request *r, int fd, const struct stat *st, const char *ctype)
{
    struct worker *w = r->w;
    struct file_cache_entry *e = file_cache_put(w->cache, r->path, r->path_len, HEAD_TAIL_MAX, (size_t)st->st_size);
    if (!e)
        return false;
    if (!read_all(fd, e->body, (size_t)st->st_size)) {
        file_cache_remove(w->cache, e);
        close(fd);
        respond_error(r, 500);
        return true;
    }
    close(fd);
    size_t voff, vlen, eoff, elen;
    e->head_tail_len = build_head_tail(e->head_tail, ctype, st, true, &voff, &vlen, &eoff, &elen);
    e->validators = e->head_tail + voff;
    e->validators_len = vlen;
    e->etag = e->head_tail + eoff;
    e->etag_len = elen;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    e->ctime = st->st_ctim;
    /* A file that is itself a link can change where it leads
     * without an event in any watched directory. */
    struct stat lst;
    e->verify = fstatat(r->root->fd, r->path, &lst, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(lst.st_mode);
    struct representation rep;
    rep_from_entry(&rep, e);
    send_representation(r, &rep);
    return true;
}

/* Opens r's path: the descriptor of a regular file with its stat in st,
 * or -1 when the request was answered instead (not there, refused, a
 * directory: its listing or 403). */
static int open_regular(struct request *r, struct stat *st)
{
    int fd = content_root_openat(r->root, r->path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        respond_open_failed(r, errno);
        return -1;
    }
    if (fstat(fd, st) < 0) {
        int err = errno;
        close(fd);
        respond_open_failed(r, err);
        return -1;
    }
    if (S_ISDIR(st->st_mode) && r->cfg->list_dirs) {
        dir_listing_respond(r, fd); /* takes fd */
        return -1;
    }
    if (!S_ISREG(st->st_mode) || r->trailing_slash) {
        close(fd);
        respond_error(r, S_ISREG(st->st_mode) ? 404 : 403); /* a directory without --list-dirs: 403 */
        return -1;
    }
    return fd;
}

void static_file_respond(struct request *r)
{
    struct worker *w = r->w;
    bool immutable = content_addressed_path(r->cfg->repo_path, r->path, r->path_len);
    bool cacheable = immutable && w->cache && !r->trailing_slash;
    struct representation rep;
    if (cacheable) {
        struct file_cache_entry *e = cache_lookup(r);
        if (e) {
            rep_from_entry(&rep, e);
            send_representation(r, &rep);
            return;
        }
    }
    struct stat st;
    int fd = open_regular(r, &st);
    if (fd < 0)
        return;
    const char *ctype = content_type_for(r->path, r->path_len);
    bool small = (size_t)st.st_size < r->cfg->sendfile_min;
    if (small && cacheable && cache_fill_and_send(r, fd, &st, ctype))
        return;
    char head_tail[HEAD_TAIL_MAX];
    rep_from_stat(&rep, head_tail, ctype, &st, immutable);
    if (small) {
        bool read = read_all(fd, w->file_buf, (size_t)st.st_size);
        close(fd);
        if (!read) {
            respond_error(r, 500);
            return;
        }
        rep.mem = w->file_buf;
    } else {
        rep.fd = fd;
    }
    send_representation(r, &rep);
}
