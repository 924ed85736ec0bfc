/* template: see template.h. */
#include "template.h"

#include <gio/gio.h>
#include <string.h>

#include "error.h"

GHashTable *dcn_template_vars_new(void) { return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free); }

void dcn_template_set(GHashTable *vars, const char *name, const char *value)
{
    g_hash_table_replace(vars, g_strdup(name), g_strdup(value));
}

void dcn_template_setf(GHashTable *vars, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_hash_table_replace(vars, g_strdup(name), g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

char *dcn_template_yaml_str(const char *s)
{
    GString *o = g_string_new("\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': g_string_append(o, "\\\""); break;
        case '\\': g_string_append(o, "\\\\"); break;
        case '\n': g_string_append(o, "\\n"); break;
        case '\t': g_string_append(o, "\\t"); break;
        case '\r': g_string_append(o, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                g_string_append_printf(o, "\\u%04x", *p);
            else
                g_string_append_c(o, (char)*p);
        }
    }
    g_string_append_c(o, '"');
    return g_string_free(o, FALSE);
}

/* Renders one line (without its newline) into out; *drop set when a
 * placeholder's value is NULL. */
static gboolean render_line(const char *line, gsize len, GHashTable *vars, const char *name, guint lineno,
                            GString *out, gboolean *drop, GError **error)
{
    gsize start = out->len;
    for (gsize i = 0; i < len;) {
        if (line[i] != '@') {
            g_string_append_c(out, line[i++]);
            continue;
        }
        const char *end = memchr(line + i + 1, '@', len - i - 1);
        gsize n = end ? (gsize)(end - (line + i + 1)) : 0;
        gboolean is_name = end && n > 0;
        for (gsize k = 0; is_name && k < n; k++)
            is_name = g_ascii_isupper(line[i + 1 + k]) || g_ascii_isdigit(line[i + 1 + k]) || line[i + 1 + k] == '_';
        if (!is_name) {
            g_string_append_c(out, line[i++]);
            continue;
        }
        g_autofree char *key = g_strndup(line + i + 1, n);
        gpointer value;
        if (!g_hash_table_lookup_extended(vars, key, NULL, &value))
            return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                               "template %s:%u: unknown placeholder @%s@", name, lineno, key),
                   FALSE;
        if (!value) {
            *drop = TRUE;
            return TRUE;
        }
        /* continuation lines of a multi-line value start at this column */
        gsize col = out->len - start;
        g_autofree char *indent = g_strnfill(col, ' ');
        for (const char *v = value; *v; v++) {
            g_string_append_c(out, *v);
            if (*v == '\n' && v[1])
                g_string_append(out, indent);
        }
        i += n + 2;
    }
    return TRUE;
}

char *dcn_template_render(const char *tmpl, GHashTable *vars, const char *name, GError **error)
{
    GString *out = g_string_new(NULL);
    guint lineno = 0;
    for (const char *p = tmpl; *p;) {
        const char *nl = strchr(p, '\n');
        gsize len = nl ? (gsize)(nl - p) : strlen(p);
        gsize mark = out->len;
        gboolean drop = FALSE;
        lineno++;
        if (!render_line(p, len, vars, name, lineno, out, &drop, error)) {
            g_string_free(out, TRUE);
            return NULL;
        }
        if (drop)
            g_string_truncate(out, mark);
        else if (nl)
            g_string_append_c(out, '\n');
        p += len + (nl ? 1 : 0);
    }
    return g_string_free(out, FALSE);
}

char *dcn_template_render_file(const char *dir, const char *file, GHashTable *vars, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return g_prefix_error(error, "reading template: "), NULL;
    return dcn_template_render(text, vars, path, error);
}
