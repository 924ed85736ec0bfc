/* summary: makes the hosted repo serve a new summary and its signature so
 * that a client never sees a summary without its signature, a signature
 * of another summary, or a summary naming what is not there yet
 * (docs/builder.md, "Serving a new summary", has the argument, step by
 * step, and every order a client can fetch the two files in).
 *
 * libostree's ostree_repo_regenerate_summary() writes the summary and then
 * unlinks summary.sig, and signing comes after: the window issue 11
 * measured. So the new summary is generated in a shadow repository
 * (<repo>/.dcn-summary: the real config, objects and refs through links,
 * deltas/ holding links to the superblocks it should list), and then, with
 * every object, delta and delta index already in place:
 *   1. summary.sig := signatures of the summary being served AND of the
 *      new one (rename: one file or the other, never a partial one);
 *   2. wait summary_hold, so a client that fetched the old summary.sig has
 *      fetched its summary;
 *   3. record the old summary's commits for prune_grace (grace.h);
 *   4. rename the new summary into place;
 *   5. summary.sig := signatures of the new summary only.
 * Steps (test hook names): summary (the new summary made in the shadow,
 * delta indexes written), sign-summary (1), serve-summary (4 and 5). */
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
