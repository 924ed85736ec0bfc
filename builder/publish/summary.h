/* summary: makes the hosted repo serve a new summary and its signature
 * without a moment where the summary is unsigned or names what is not
 * there yet (docs/builder.md, "Serving a new summary", has the argument and
 * every order a client can fetch the two files in).
 *
 * libostree's ostree_repo_regenerate_summary() writes the summary, unlinks
 * summary.sig, and signing comes after: the window issue 11 measured. So
 * the new summary is generated in a shadow repository (<repo>/.dcn-summary:
 * the real config, objects and refs through links, deltas/ holding links
 * to the superblocks it should list), and then, with every object, delta
 * and delta index already in place and synced:
 *   1. its signature is made and written beside, under a dot-name;
 *   2. the commits of the summary being replaced are recorded for
 *      prune_grace (grace.h);
 *   3. the summary's mtime is set to now, the signature's after it, then
 *      the summary and the signature are renamed into place, back to back.
 * The two renames cannot be one: a server pairs the files by their order
 * (summary first, its signature at least as new), and dcn-hoster serves the
 * last complete pair until both are in (hoster/summary_pair.h); one
 * summary.sig holding the signatures of two summaries does not work,
 * GnuPG stops at the first bad signature.
 * Steps (test hook names): summary (the new summary made in the shadow,
 * delta indexes written), sign-summary (1), serve-summary (3). */
#ifndef DCN_BUILDER_SUMMARY_H
#define DCN_BUILDER_SUMMARY_H

#include <ostree.h>

#include "stage.h"

/* Brings summary and summary.sig up to date for head (the ref's commit):
 * nothing when the served summary already lists the repo's refs and the
 * deltas to head and its signature is newer than it. Sets *changed when
 * anything was written; adds "summary_regenerated" to ctx->result. */
gboolean dcn_summary_update(DcnStageCtx *ctx, OstreeRepo *repo, const char *head, gboolean *changed,
                            GError **error);

/* The static deltas a summary for head lists: those to head (what prune
 * keeps for good; the others only wait out prune_grace). */
gboolean dcn_summary_listed_deltas(OstreeRepo *repo, const char *head, GPtrArray **out, GError **error);

#endif
