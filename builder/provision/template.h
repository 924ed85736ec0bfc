/* template: fills @NAME@ placeholders in the manifest templates under
 * manifests/build-vm/. A pure function over a buffer: no I/O.
 *   - values are inserted as given: the caller quotes them for the target
 *     language (dcn_template_yaml_str, g_markup_escape_text);
 *   - a multi-line value continues at the placeholder's column, so a block
 *     placed alone on an indented line stays inside its parent;
 *   - a line with a placeholder whose value is NULL (present, no value) is
 *     dropped: optional fields are lines of their own;
 *   - a placeholder missing from vars is an error naming it and the line. */
#ifndef DCN_BUILDER_TEMPLATE_H
#define DCN_BUILDER_TEMPLATE_H

#include <glib.h>

/* vars: placeholder name (without '@') -> value (char *, or NULL to drop the line). */
char *dcn_template_render(const char *tmpl, GHashTable *vars, const char *name, GError **error);

/* A YAML double-quoted scalar for any string (also a JSON string). */
char *dcn_template_yaml_str(const char *s);

/* Reads dir/file and renders it. */
char *dcn_template_render_file(const char *dir, const char *file, GHashTable *vars, GError **error);

/* A vars table with string keys and values owned by it. */
GHashTable *dcn_template_vars_new(void);
/* Sets name to value (copied; NULL drops the line). */
void dcn_template_set(GHashTable *vars, const char *name, const char *value);
void dcn_template_setf(GHashTable *vars, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#endif
