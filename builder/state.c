#include "state.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

static char *result_path(const DcnDefinition *def, const char *stage)
{
    g_autofree char *name = g_strdup_printf("%s.json", stage);
    return g_build_filename(def->state_dir, name, NULL);
}

gboolean dcn_state_write_result(const DcnDefinition *def, const char *stage, JsonObject *result, GError **error)
{
    if (g_mkdir_with_parents(def->state_dir, 0755) < 0) {
        int err = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "creating state directory %s: %s",
                    def->state_dir, g_strerror(err));
        return FALSE;
    }
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, result);
    g_autofree char *text = json_to_string(node, TRUE);
    g_autofree char *path = result_path(def, stage);
    /* g_file_set_contents writes a temp file, fsyncs and renames */
    if (!g_file_set_contents(path, text, -1, error)) {
        g_prefix_error(error, "writing %s: ", path);
        return FALSE;
    }
    return TRUE;
}

JsonObject *dcn_state_read_result(const DcnDefinition *def, const char *stage, GError **error)
{
    g_autofree char *path = result_path(def, stage);
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no result of stage '%s' in %s (run that stage first)",
                    stage, def->state_dir);
        return NULL;
    }
    if (!json_parser_load_from_file(parser, path, error)) {
        g_prefix_error(error, "reading %s: ", path);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a JSON object", path);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}
