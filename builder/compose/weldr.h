/* compose/weldr: the `weldr` compose backend, osbuild-composer driven over
 * its Weldr API (HTTP on a unix socket; libcurl). See weldr.c. */
#ifndef DCN_BUILDER_WELDR_H
#define DCN_BUILDER_WELDR_H

#include <glib.h>

#include "definition.h"
#include "stage.h"

/* The blueprint TOML pushed for def: blueprint.file as it is, or one
 * generated from name, version (when it is semantic), description,
 * packages, groups and customizations. Pure except reading blueprint.file. */
char *dcn_weldr_blueprint(const DcnDefinition *def, GError **error);

/* True for a Semantic Versioning 2.0.0 version (composer requires it). */
gboolean dcn_weldr_is_semver(const char *v);

/* Dry run of compose with the weldr backend: prints the socket (and SSH
 * forward), every request with its body, the poll and the download. */
gboolean dcn_weldr_plan(DcnStageCtx *ctx, GError **error);

/* compose --dry-run (any backend): what would be read and staged. */
gboolean dcn_compose_plan(DcnStageCtx *ctx, GError **error);

#endif
