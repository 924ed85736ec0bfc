/* compose/weldr: the `weldr` compose backend (dcn_compose_weldr in
 * compose.h): osbuild-composer driven over its Weldr API to build an
 * edge-commit, which the edge-commit backend then imports. The flow is in
 * weldr.c; its parts are blueprint.h (the TOML), weldr_client.h (the
 * requests, the SSH forward) and weldr_reply.h (the replies). */
#ifndef DCN_BUILDER_WELDR_H
#define DCN_BUILDER_WELDR_H

#include <glib.h>

#include "stage.h"

/* Dry run of compose with the weldr backend: prints the socket (and SSH
 * forward), every request with its body, the poll and the download. */
gboolean dcn_weldr_plan(DcnStageCtx *ctx, GError **error);

#endif
