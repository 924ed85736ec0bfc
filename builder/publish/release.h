/* release: what makes a commit that is already in the hosted repo (objects
 * durable, not yet on the ref) the served version. Shared by publish and
 * rollback. Steps, in this order, each skipped when already done so a
 * rerun after a crash completes the release and a second run changes
 * nothing:
 *   sign-commit  GPG-sign the commit (before deltas: superblocks embed the
 *                detached metadata)
 *   deltas       static deltas to it from the previous deltas_from versions,
 *                and a from-scratch delta
 *   ref          point the ref at it (clients without a summary see it now)
 *   summary, sign-summary, serve-summary
 *                the new summary and its signature, served so that clients
 *                never see them disagree (summary.h)
 *   prune        drop versions beyond keep, their objects and deltas, once
 *                no summary served in the last prune_grace names them (prune.h)
 *   kickstart    refresh the kickstart template and public key next to the repo
 * Until `ref`, nothing the clients read has changed; until serve-summary,
 * clients that read the summary (all of them, with one) see the old version. */
#ifndef DCN_BUILDER_RELEASE_H
#define DCN_BUILDER_RELEASE_H

#include <ostree.h>

#include "stage.h"

/* Checks the signing configuration before anything is written: fails with a
 * clear message when ed25519 is asked for and this libostree lacks it. */
gboolean dcn_release_check_signing(const DcnDefinition *def, GError **error);

/* Opens the published repo (def->repo; created when create) into *repo and
 * takes its exclusive lock, the one publish, rollback and prune share
 * (waits for another holder). Returns the fd to close, or -1 with error
 * set. */
int dcn_release_open_locked(DcnStageCtx *ctx, gboolean create, OstreeRepo **repo, GError **error);

/* Runs the steps above for commit; sets *changed when anything was written.
 * Adds "deltas", "summary_regenerated", "pruned_objects", "pruned_deltas"
 * members to ctx->result. */
gboolean dcn_release_apply(DcnStageCtx *ctx, OstreeRepo *repo, const char *commit, gboolean *changed,
                           GError **error);

/* Reads an ed25519 secret key file (base64 text) as ostree_sign_set_sk() takes it. */
gboolean dcn_read_ed25519_key(const char *path, GVariant **out, GError **error);

#endif
