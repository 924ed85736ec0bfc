/* delta: generates one static delta and shows its progress from what
 * libostree itself reports.
 *
 * ostree_repo_static_delta_generate is one blocking call with no progress
 * callback. Given the parameter "verbose" (b), libostree 2022.7
 * (src/libostree/ostree-repo-static-delta-compilation.c) reports through
 * g_printerr, and only there, these lines:
 *   modified: N                        files changed since `from` (from a commit only)
 *   new reachable: metadata=M content regular=R symlink=S
 *                                      what the delta carries (+ the commit, in the superblock)
 *   rollsum for A -> B; crcs=...       one per file sent as a rollsum
 *   rollsum for X/Y modified
 *   processing bsdiff: [I/N]           every tenth bsdiff'ed file
 *   fallback for CSUM (SIZE)           an object left for plain fetches
 *   part P n:K compressed:C uncompressed:U
 *                                      each part when it is finished (P counts from 1)
 *   uncompressed=U compressed=C loose=L, rollsum=..., bsdiff=N objects   (at the end)
 * dcn_delta_generate installs a g_printerr handler for the call and turns
 * those into the task's counters: objects in finished parts of those the
 * delta carries, their uncompressed bytes, parts, bsdiff progress. Parts are
 * max-chunk-size (32 MB uncompressed) each, so the counters move a part at
 * a time; the ticker shows elapsed time in between. Any other line is passed
 * on as an event.
 *
 * Parts are cut by bytes and their time goes mostly into compressing them,
 * so the rate and time left are computed on bytes: before the call, the
 * uncompressed bytes the parts will add up to are counted the way libostree
 * counts them (phase=count; see delta_bytes in delta.c). */
#ifndef DCN_BUILDER_DELTA_H
#define DCN_BUILDER_DELTA_H

#include <ostree.h>

#include "progress.h"

typedef struct {
    gboolean scanned;             /* "new reachable" seen: objects_total is known */
    guint64 objects_total;        /* objects the parts will hold (less fallbacks) */
    guint modified;               /* files changed since `from` */
    guint bsdiff_done, bsdiff_total;
    guint fallbacks;
    guint parts;                  /* parts finished */
    guint64 objects;              /* objects in finished parts */
    guint64 uncompressed, compressed; /* bytes of finished parts */
    gboolean finished;            /* the closing "uncompressed=..." line seen */
    guint64 loose;                /* its "loose" figure */
} DcnDeltaStats;

/* Parses one line libostree printed (no newline) into s. FALSE when it is
 * not one of the lines above (s unchanged). Pure. */
gboolean dcn_delta_stats_parse(DcnDeltaStats *s, const char *line);

/* The "detail" of the delta task for s: "from=F phase=scan|pack|done
 * parts=P [bsdiff=I/N]" (before the call: phase=count). */
char *dcn_delta_stats_detail(const DcnDeltaStats *s, const char *from_desc);

/* ostree_repo_static_delta_generate(repo, MAJOR, from, to, NULL, params +
 * verbose) as task "delta" on progress; from_desc names `from` in the
 * detail ("scratch", a version). *out: what libostree reported. */
gboolean dcn_delta_generate(OstreeRepo *repo, const char *from, const char *to, GVariant *params,
                            const char *from_desc, DcnProgress *progress, DcnDeltaStats *out, GError **error);

#endif
