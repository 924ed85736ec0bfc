/* summary_pair: serves <repo>/summary and <repo>/summary.sig as one pair.
 *
 * libostree fetches summary.sig, then summary, as two requests, and a
 * client verifying summaries fails when the signature it got is not one of
 * the summary it got: a publish replaces both files, one after the other,
 * and GnuPG stops at the first bad signature in summary.sig, so one
 * signature file cannot serve two summaries (docs/builder.md, "Serving a
 * new summary"). So:
 *   - the store keeps the last complete pair (summary_rule.h) in memory
 *     and serves it while the files on disk are a publish in progress;
 *     a state that stays incomplete SUMMARY_SETTLE_S seconds is what the
 *     repository is (signing turned off, a publisher that crashed) and is
 *     served as it is;
 *   - a connection that got summary.sig gets the summary of that same pair
 *     with its next request for summary, even when a newer pair has come
 *     in between (libostree asks for both on one connection).
 * Each request checks the two files' identity (open, fstat): a new pair is
 * noticed at once, without a watch. */
#ifndef DCN_SUMMARY_PAIR_H
#define DCN_SUMMARY_PAIR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define SUMMARY_SETTLE_S 10                /* an incomplete pair older than this is served as it is */
#define SUMMARY_MAX_BYTES (32u << 20)     /* larger summaries are served from disk, unpaired */

struct request;
struct conn;

struct summary_file {
    bool present;
    struct stat st; /* identity (dev, ino, size, mtime, ctime) and validators */
    char *body;     /* st.st_size bytes */
};

/* One summary and its summary.sig as they were read together; immutable. */
struct summary_pair {
    atomic_uint refs;
    uint64_t root_gen; /* content root generation they were read from */
    struct summary_file summary, sig;
};

void summary_pair_unref(struct summary_pair *p);

struct summary_store;
struct summary_store *summary_store_new(void);
void summary_store_free(struct summary_store *s);

enum summary_path {
    SUMMARY_PATH_NONE,
    SUMMARY_PATH_SUMMARY, /* <repo>/summary */
    SUMMARY_PATH_SIG,     /* <repo>/summary.sig */
};

/* Which of the two a normalised request path (relative to the root) is. */
enum summary_path summary_pair_path(const char *repo_path, const char *path, size_t len);

/* Answers r (a GET or HEAD of one of the two) from the store: summary.sig
 * also remembers the pair on the connection, summary takes the pair the
 * connection remembered, if any. */
void summary_pair_respond(struct request *r, enum summary_path which);

/* Any other request on c: the pair it remembered is no longer wanted. */
void summary_pair_forget(struct conn *c);

#endif
