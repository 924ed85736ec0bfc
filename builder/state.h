/* state: what a stage leaves for later stages and reruns. After a stage
 * succeeds, main writes its result (the object printed with --json, plus
 * "version") to <state_dir>/<stage>.json; later stages read what they need
 * (push: the layout package wrote; deploy: the digest push got). */
#ifndef DCN_BUILDER_STATE_H
#define DCN_BUILDER_STATE_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "definition.h"

/* Writes <state_dir>/<stage>.json atomically (temp file, fsync, rename). */
gboolean dcn_state_write_result(const DcnDefinition *def, const char *stage, JsonObject *result, GError **error);

/* Reads <state_dir>/<stage>.json; NULL with G_IO_ERROR_NOT_FOUND when that
 * stage has not succeeded for this definition yet. */
JsonObject *dcn_state_read_result(const DcnDefinition *def, const char *stage, GError **error);

#endif
