/* prune: removes from the hosted repo what no device can be sent to any
 * more. Kept:
 *   - the newest `keep` commits of the ref and what they reach (rollback);
 *   - every commit of other refs (a shared repo: not ours to prune);
 *   - what the served summary names, and for prune_grace after it was
 *     replaced, what every earlier summary named (grace.h): the commits,
 *     their objects, the static deltas to them and their delta indexes. A
 *     device that fetched such a summary a moment ago may still be pulling.
 * Removed: other objects; deltas whose target is gone; deltas to anything
 * but the head once no kept summary names their target. Runs at the end of
 * publish and rollback (after the new summary is served), and on its own
 * as `dcn-builder prune`. */
#ifndef DCN_BUILDER_PRUNE_H
#define DCN_BUILDER_PRUNE_H

#include <ostree.h>

#include "stage.h"

/* What waits out prune_grace: one commit an earlier summary named. */
typedef struct {
    char *commit;
    gint64 until;      /* when prune may remove it: replaced_at + prune_grace (the latest summary naming it) */
    gboolean due;      /* until has passed: the next publish or `dcn-builder prune` removes it */
    gboolean objects;  /* the commit (and the objects only it reaches) is beyond keep */
    GPtrArray *deltas; /* names of the deltas to it (it is not the head) */
} DcnPruneWaiting;

void dcn_prune_waiting_free(DcnPruneWaiting *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnPruneWaiting, dcn_prune_waiting_free)

/* Prunes repo for def's ref at head (NULL: nothing of ours published).
 * Sets *changed when anything was removed; adds "pruned_objects",
 * "pruned_deltas" and "prune_waiting" (commits still waiting) to ctx->result. */
gboolean dcn_prune(DcnStageCtx *ctx, OstreeRepo *repo, const char *head, gboolean *changed, GError **error);

/* What prune keeps only because of prune_grace now (DcnPruneWaiting *,
 * soonest first). Reads only. */
gboolean dcn_prune_waiting(const DcnDefinition *def, OstreeRepo *repo, GPtrArray **out, GError **error);

#endif
