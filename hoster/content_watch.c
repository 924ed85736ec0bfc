#include "content_watch.h"

#include "content_addressed.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* A replaced, deleted or rewritten file; IN_CREATE only for new directories. */
#define CHANGE_MASK (IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
#define WATCH_MASK (CHANGE_MASK | IN_CREATE | IN_ONLYDIR)
/* A route (see below) that now leads somewhere else, or nowhere. */
#define REROUTE_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)

struct watched_dir {
    int wd;
    int depth_left;   /* levels of subdirectories still to watch below it */
    bool top;         /* the repo dir: only its content-addressed directories below it (content_addressed.h) */
    bool on_path;     /* only a directory on the way from the root to the repo: its files do not matter */
    char *path;
    char **routes;    /* names in it through which watched directories are reached: the next
                         component of the repo path, symlinks to directories */
    size_t num_routes;
};

struct content_watch {
    int fd;
    struct event *ev;
    bool complete;
    char *root_path, *repo_path;
    struct watched_dir *dirs;
    size_t num_dirs, cap_dirs;
    void (*on_change)(void *arg);
    void *arg;
};

static struct watched_dir *find_dir(struct content_watch *cw, int wd)
{
    for (size_t i = 0; i < cw->num_dirs; i++)
        if (cw->dirs[i].wd == wd)
            return &cw->dirs[i];
    return NULL;
}

static bool is_route(const struct watched_dir *dir, const char *name)
{
    for (size_t i = 0; i < dir->num_routes; i++)
        if (!strcmp(dir->routes[i], name))
            return true;
    return false;
}

static void add_route(struct content_watch *cw, struct watched_dir *dir, const char *name)
{
    if (is_route(dir, name))
        return;
    char **grown = realloc(dir->routes, (dir->num_routes + 1) * sizeof *grown);
    char *copy = strdup(name);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            dir->routes = grown;
        cw->complete = false; /* a change of this route would go unseen */
        return;
    }
    dir->routes = grown;
    dir->routes[dir->num_routes++] = copy;
}

static void free_dir(struct watched_dir *dir)
{
    for (size_t i = 0; i < dir->num_routes; i++)
        free(dir->routes[i]);
    free(dir->routes);
    free(dir->path);
}

/* Adds (or finds: inotify gives one wd per directory, however reached) the
 * watch on path. Returns its index in cw->dirs, -1 when it cannot be
 * watched (logged unless it is simply not there); *was_content: it was
 * already watched for its content. */
static long add_dir(struct content_watch *cw, const char *path, bool on_path, bool *was_content)
{
    *was_content = false;
    int wd = inotify_add_watch(cw->fd, path, WATCH_MASK);
    if (wd < 0) {
        if (errno != ENOTDIR && errno != ENOENT) {
            log_errno("cache: cannot watch %s; small-file cache hits will stat", path);
            cw->complete = false;
        }
        return -1;
    }
    struct watched_dir *known = find_dir(cw, wd);
    if (known) {
        *was_content = !known->on_path;
        known->on_path = known->on_path && on_path; /* a content role wins */
        return known - cw->dirs;
    }
    if (cw->num_dirs == cw->cap_dirs) {
        size_t cap = cw->cap_dirs ? cw->cap_dirs * 2 : 64;
        struct watched_dir *grown = realloc(cw->dirs, cap * sizeof *grown);
        if (!grown) {
            inotify_rm_watch(cw->fd, wd);
            cw->complete = false;
            return -1;
        }
        cw->dirs = grown;
        cw->cap_dirs = cap;
    }
    cw->dirs[cw->num_dirs] = (struct watched_dir){.wd = wd, .on_path = on_path, .path = strdup(path)};
    return (long)cw->num_dirs++;
}

static bool watch_dir(struct content_watch *cw, const char *path, int depth_left, bool top);

/* Levels to watch below name, a subdirectory of a watched directory (top:
 * the repo dir, depth_left: its levels still to watch); -1: none, it is
 * a directory in the repo that is not content-addressed. */
static int child_depth(bool top, int depth_left, const char *name)
{
    if (!top)
        return depth_left - 1;
    int depth = content_addressed_dir_depth(name);
    return depth ? depth : -1;
}

/* Watches the subdirectories of a just-watched directory that qualify,
 * including those reached through a symlink (which becomes a route). */
static void watch_children(struct content_watch *cw, long parent, int depth_left, bool top)
{
    if (depth_left <= 0)
        return;
    char *path = strdup(cw->dirs[parent].path); /* watch_dir may move cw->dirs */
    DIR *d = path ? opendir(path) : NULL;
    if (!d) {
        free(path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN))
            continue;
        int below = child_depth(top, depth_left, de->d_name);
        if (below < 0)
            continue;
        char child[PATH_MAX];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, de->d_name) >= sizeof child)
            continue;
        if (de->d_type != DT_DIR) {
            struct stat lst, st;
            if (lstat(child, &lst) < 0 || stat(child, &st) < 0 || !S_ISDIR(st.st_mode))
                continue;
            if (S_ISLNK(lst.st_mode))
                add_route(cw, &cw->dirs[parent], de->d_name);
        }
        watch_dir(cw, child, below, false);
    }
    closedir(d);
    free(path);
}

/* False when path cannot be watched (or is not there). */
static bool watch_dir(struct content_watch *cw, const char *path, int depth_left, bool top)
{
    bool was_content;
    long i = add_dir(cw, path, false, &was_content);
    if (i < 0)
        return false;
    if (was_content)
        return true; /* reached again, through a link: watched already (and no loop) */
    cw->dirs[i].depth_left = depth_left;
    cw->dirs[i].top = top;
    /* scan after adding the watch: nothing created in between is missed */
    watch_children(cw, i, depth_left, top);
    return true;
}

/* Watches every directory on the way from the root to the repo (for its
 * next component only), then the repo's content. */
static void watch_all(struct content_watch *cw)
{
    char dir[PATH_MAX];
    size_t len = (size_t)snprintf(dir, sizeof dir, "%s", cw->root_path);
    const char *p = cw->repo_path;
    while (*p) {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n && !(n == 1 && *p == '.')) {
            bool was_content;
            long i = add_dir(cw, dir, true, &was_content);
            if (i < 0 || len + 1 + n >= sizeof dir) {
                cw->complete = false;
                return;
            }
            char name[NAME_MAX + 1];
            snprintf(name, sizeof name, "%.*s", (int)n, p);
            add_route(cw, &cw->dirs[i], name);
            dir[len++] = '/';
            memcpy(dir + len, p, n);
            dir[len += n] = '\0';
        }
        p = *end ? end + 1 : end;
    }
    /* The repo dir itself (for objects/ etc. appearing later, and summary
     * and config changes, which are harmless extra invalidations). */
    if (!watch_dir(cw, dir, 1, true))
        cw->complete = false; /* no repo yet: the route to it says when one appears */
}

/* Drops every watch and watches along the routes as they are now. */
static void rewatch(struct content_watch *cw)
{
    for (size_t i = 0; i < cw->num_dirs; i++) {
        inotify_rm_watch(cw->fd, cw->dirs[i].wd);
        free_dir(&cw->dirs[i]);
    }
    cw->num_dirs = 0;
    cw->complete = true;
    watch_all(cw);
}

static void on_events(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct content_watch *cw = arg;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool changed = false, reroute = false;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                log_info("cache: inotify queue overflowed; small-file cache hits will stat until the watch is rebuilt");
                cw->complete = false;
                changed = true;
                continue;
            }
            struct watched_dir *dir = find_dir(cw, ev->wd);
            if (!dir) {
                changed |= (ev->mask & CHANGE_MASK) != 0; /* a watch just dropped: err on the safe side */
                continue;
            }
            if (ev->mask & IN_IGNORED) {
                free_dir(dir);
                *dir = cw->dirs[--cw->num_dirs];
                continue;
            }
            if (ev->len && (ev->mask & REROUTE_MASK) && is_route(dir, ev->name))
                reroute = true;
            if (dir->on_path) {
                reroute |= (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0;
                continue;
            }
            if (ev->mask & CHANGE_MASK)
                changed = true;
            int below = ev->len ? child_depth(dir->top, dir->depth_left, ev->name) : -1;
            if (!(ev->mask & (IN_CREATE | IN_MOVED_TO)) || dir->depth_left <= 0 || below < 0)
                continue;
            char child[PATH_MAX];
            if ((size_t)snprintf(child, sizeof child, "%s/%s", dir->path, ev->name) >= sizeof child)
                continue;
            if (ev->mask & IN_ISDIR) {
                watch_dir(cw, child, below, false);
                continue;
            }
            struct stat st;
            if (stat(child, &st) == 0 && S_ISDIR(st.st_mode))
                reroute = true; /* a new symlink to a directory: watch where it leads */
        }
    }
    if (reroute) {
        rewatch(cw);
        changed = true;
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
    cw->root_path = strdup(root_path);
    cw->repo_path = strdup(repo_path);
    cw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (cw->fd < 0 || !cw->root_path || !cw->repo_path) {
        log_errno("cache: inotify; small-file cache hits will stat");
        cw->complete = false;
        return cw;
    }
    watch_all(cw);
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
        free_dir(&cw->dirs[i]);
    free(cw->dirs);
    free(cw->root_path);
    free(cw->repo_path);
    free(cw);
}
