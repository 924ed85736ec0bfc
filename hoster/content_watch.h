/* content_watch: notices when content-addressed files (under <repo>/objects,
 * deltas, delta-indexes: content_addressed.h, the rule the cache follows
 * too) are deleted, replaced or rewritten in place, so the workers' caches
 * can trust their entries without a stat per hit. Runs on
 * the main thread with inotify; each batch of changes calls on_change once.
 * New files do not count: a name that did not exist cannot be cached.
 * Symlinks are followed: a directory reached through one (the repository
 * itself, root/repo -> /srv/ostree/repo, or objects/ab -> elsewhere) is
 * watched where it really is, and the names that lead there (each
 * component of the repo path, each such link) are watched too: when one is
 * replaced, re-pointed or removed, the watch is rebuilt along the new way
 * and on_change is called.
 * When the tree cannot be watched completely (inotify limits, a lost event
 * queue, no repository yet) the watch says so and the caches go back to a
 * stat per hit until it can again. */
#ifndef DCN_CONTENT_WATCH_H
#define DCN_CONTENT_WATCH_H

#include <stdbool.h>

struct event_base;
struct content_watch;

/* Watches <root_path>/<repo_path> (repo_path "" = the root is the repo). */
struct content_watch *content_watch_new(struct event_base *base, const char *root_path, const char *repo_path,
                                        void (*on_change)(void *arg), void *arg);
void content_watch_free(struct content_watch *cw);

/* False once any directory that matters could not be watched. */
bool content_watch_complete(const struct content_watch *cw);

#endif
