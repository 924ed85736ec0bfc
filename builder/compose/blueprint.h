/* compose/blueprint: the osbuild-composer blueprint (TOML) for an image
 * definition, as pure functions: nothing here talks to composer, and the
 * only I/O is reading blueprint.file. The weldr backend (weldr.c) pushes
 * the text with POST /api/v1/blueprints/new; compose --dry-run prints it. */
#ifndef DCN_BUILDER_BLUEPRINT_H
#define DCN_BUILDER_BLUEPRINT_H

#include <glib.h>

#include "definition.h"

/* The blueprint TOML pushed for def: blueprint.file as it is (its
 * top-level name must be def->name), or one generated from name, version
 * (when it is semantic), description, packages, groups and
 * customizations. NULL with an error when blueprint.file cannot be read or
 * names another blueprint. */
char *dcn_blueprint_toml(const DcnDefinition *def, GError **error);

/* True for a Semantic Versioning 2.0.0 version (composer requires it). */
gboolean dcn_blueprint_is_semver(const char *v);

#endif
