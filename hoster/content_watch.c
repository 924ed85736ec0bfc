#include "content_watch.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* A replaced, deleted or rewritten file; IN_CREATE only for new directories. */
#define CHANGE_MASK (IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
#define WATCH_MASK (CHANGE_MASK | IN_CREATE | IN_ONLYDIR)

struct watched_dir {
    int wd;
    int depth_left; /* levels of subdirectories still to watch below it */
    bool top;       /* the repo dir: only objects/, deltas/, delta-indexes/ below it */
    char *path;
};

struct content_watch {
    int fd;
    struct event *ev;
    bool complete;
    struct watched_dir *dirs;
    size_t num_dirs, cap_dirs;
    void (*on_change)(void *arg);
    void *arg;
};

static bool content_subtree(const char *name)
{
    return !strcmp(name, "objects") || !strcmp(name, "deltas") || !strcmp(name, "delta-indexes");
}

static struct watched_dir *find_dir(struct content_watch *cw, int wd)
{
    for (size_t i = 0; i < cw->num_dirs; i++)
        if (cw->dirs[i].wd == wd)
            return &cw->dirs[i];
    return NULL;
}

static void watch_dir(struct content_watch *cw, const char *path, int depth_left, bool top);

/* Watches the subdirectories of a just-watched directory that qualify. */
static void watch_children(struct content_watch *cw, const char *path, int depth_left, bool top)
{
    if (depth_left <= 0)
        return;
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
            continue;
        if (top && !content_subtree(de->d_name))
            continue;
        char child[PATH_MAX];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, de->d_name) >= sizeof child)
            continue;
        /* objects/ and delta-indexes/ hold files one level down, deltas/ two */
        int below = top ? (!strcmp(de->d_name, "deltas") ? 2 : 1) : depth_left - 1;
        watch_dir(cw, child, below, false);
    }
    closedir(d);
}

static void watch_dir(struct content_watch *cw, const char *path, int depth_left, bool top)
{
    int wd = inotify_add_watch(cw->fd, path, WATCH_MASK);
    if (wd < 0) {
        if (errno != ENOTDIR && errno != ENOENT) {
            log_errno("cache: cannot watch %s; small-file cache hits will stat", path);
            cw->complete = false;
        }
        return;
    }
    struct watched_dir *known = find_dir(cw, wd);
    if (!known) {
        if (cw->num_dirs == cw->cap_dirs) {
            size_t cap = cw->cap_dirs ? cw->cap_dirs * 2 : 64;
            struct watched_dir *grown = realloc(cw->dirs, cap * sizeof *grown);
            if (!grown) {
                cw->complete = false;
                return;
            }
            cw->dirs = grown;
            cw->cap_dirs = cap;
        }
        known = &cw->dirs[cw->num_dirs++];
        known->wd = wd;
        known->path = strdup(path);
    }
    known->depth_left = depth_left;
    known->top = top;
    /* scan after adding the watch: nothing created in between is missed */
    watch_children(cw, path, depth_left, top);
}

static void on_events(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct content_watch *cw = arg;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool changed = false;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                log_info("cache: inotify queue overflowed; small-file cache hits will stat from now on");
                cw->complete = false;
                changed = true;
                continue;
            }
            if (ev->mask & CHANGE_MASK)
                changed = true;
            struct watched_dir *dir = find_dir(cw, ev->wd);
            if (!dir)
                continue;
            if (ev->mask & IN_IGNORED) {
                free(dir->path);
                *dir = cw->dirs[--cw->num_dirs];
                continue;
            }
            if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) && ev->len && dir->depth_left > 0 &&
                (!dir->top || content_subtree(ev->name))) {
                char child[PATH_MAX];
                int below = dir->top ? (!strcmp(ev->name, "deltas") ? 2 : 1) : dir->depth_left - 1;
                char *parent = strdup(dir->path); /* watch_dir may move cw->dirs */
                if (parent && (size_t)snprintf(child, sizeof child, "%s/%s", parent, ev->name) < sizeof child)
                    watch_dir(cw, child, below, false);
                free(parent);
            }
        }
    }
    if (changed)
        cw->on_change(cw->arg);
}

struct content_watch *content_watch_new(struct event_base *base, const char *root_path, const char *repo_path,
                                        void (*on_change)(void *arg), void *arg)
{
    struct content_watch *cw = calloc(1, sizeof *cw);
    if (!cw)
        return NULL;
    cw->on_change = on_change;
    cw->arg = arg;
    cw->complete = true;
    cw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (cw->fd < 0) {
        log_errno("cache: inotify; small-file cache hits will stat");
        cw->complete = false;
        return cw;
    }
    char repo[PATH_MAX];
    snprintf(repo, sizeof repo, "%s%s%s", root_path, *repo_path ? "/" : "", repo_path);
    /* The repo dir itself (for objects/ etc. appearing later, and summary
     * and config changes, which are harmless extra invalidations). */
    watch_dir(cw, repo, 1, true);
    if (cw->num_dirs == 0)
        cw->complete = false; /* no repo yet: one may appear where nothing is watched */
    cw->ev = event_new(base, cw->fd, EV_READ | EV_PERSIST, on_events, cw);
    if (!cw->ev || event_add(cw->ev, NULL) < 0)
        cw->complete = false;
    return cw;
}

bool content_watch_complete(const struct content_watch *cw) { return cw && cw->complete; }

void content_watch_free(struct content_watch *cw)
{
    if (!cw)
        return;
    if (cw->ev)
        event_free(cw->ev);
    if (cw->fd >= 0)
        close(cw->fd);
    for (size_t i = 0; i < cw->num_dirs; i++)
        free(cw->dirs[i].path);
    free(cw->dirs);
    free(cw);
}
