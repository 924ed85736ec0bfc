/* yaml: the definition's YAML (libyaml document API), walked key by key
 * through the table (keys.h): every problem recorded, one run lists them
 * all. See definition.h and docs/builder.md for the keys. */
#include "keys.h"

#include <stdarg.h>
#include <string.h>
#include <yaml.h>

#include "error.h"

/* A YAML list for a KT_LIST key: every item a non-empty single-line scalar
 * that passes the key's check. FALSE when one does not (each bad item is a
 * problem of its own). */
static gboolean set_list(DcnDefinition *def, size_t i, yaml_document_t *doc, yaml_node_t *seq, const char *filename)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = TRUE;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
        yaml_node_t *n = yaml_document_get_node(doc, *it);
        const char *v = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
        g_autofree char *where = g_strdup_printf("%s:%zu", filename, n->start_mark.line + 1);
        const char *expected = NULL;
        if (!v || !*v || strpbrk(v, "\r\n") || strlen(v) != n->data.scalar.length)
            dcn_definition_add_problem(def, where, "key '%s': expected a list of single-line strings", dcn_def_keys[i].key);
        else if (dcn_def_keys[i].check && (expected = dcn_def_keys[i].check(v))) {
            g_autofree char *shown = g_strescape(v, NULL);
            dcn_definition_add_problem(def, where, "key '%s': expected %s, got '%s'", dcn_def_keys[i].key, expected, shown);
        } else {
            g_ptr_array_add(list, g_strdup(v));
            continue;
        }
        ok = FALSE; /* every bad item is listed, each with its line */
    }
    if (!ok)
        return FALSE;
    g_ptr_array_add(list, NULL);
    char ***field = (char ***)((char *)def + dcn_def_keys[i].offset);
    g_strfreev(*field);
    *field = (char **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
    DefinitionPriv *p = (DefinitionPriv *)def;
    g_free(p->origin[i]);
    p->origin[i] = g_strdup_printf("%s:%zu", filename, seq->start_mark.line + 1);
    p->seen[i] = TRUE;
    return TRUE;
}

typedef struct {
    DcnDefinition *def;
    yaml_document_t *doc;
    const char *filename;
    const char *base_dir;
} ParseCtx;

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static gboolean is_null_scalar(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return FALSE;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

/* Records a problem of the document and goes on: one run lists them all. */
static void problem(ParseCtx *c, const char *where, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void problem(ParseCtx *c, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    dcn_definition_add_problem(c->def, where, "%s", what);
}

static void rejected(ParseCtx *c, size_t i, GError *e)
{
    g_ptr_array_add(((DefinitionPriv *)c->def)->problems, g_strdup(e->message));
    ((DefinitionPriv *)c->def)->rejected[i] = TRUE;
    g_error_free(e);
}

static void parse_mapping(ParseCtx *c, yaml_node_t *map, const char *prefix)
{
    DefinitionPriv *priv = (DefinitionPriv *)c->def;
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, pair->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, pair->value);
        g_autofree char *origin = g_strdup_printf("%s:%zu", c->filename, kn->start_mark.line + 1);
        if (kn->type != YAML_SCALAR_NODE) {
            problem(c, origin, "expected a key name, got %s", node_kind(kn));
            continue;
        }
        const char *name = (const char *)kn->data.scalar.value;
        g_autofree char *key = prefix ? g_strconcat(prefix, ".", name, NULL) : g_strdup(name);
        size_t i;
        const KeyDef *k = dcn_def_find_key(key, &i);
        if (!k) {
            problem(c, origin, "unknown key '%s'", key);
            continue;
        }
        if (priv->seen[i]) {
            problem(c, origin, "duplicate key '%s'", key);
            continue;
        }
        g_autofree char *vorigin = g_strdup_printf("%s:%zu", c->filename, vn->start_mark.line + 1);
        GError *e = NULL;
        if (k->type == KT_MAP) {
            priv->seen[i] = TRUE;
            g_free(priv->origin[i]);
            priv->origin[i] = g_strdup(origin);
            if (is_null_scalar(vn))
                continue; /* "sign:" with nothing under it */
            if (vn->type != YAML_MAPPING_NODE)
                problem(c, vorigin, "key '%s': expected a mapping of keys, got %s", key, node_kind(vn));
            else
                parse_mapping(c, vn, key);
            continue;
        }
        if (k->type == KT_LIST && vn->type == YAML_SEQUENCE_NODE) {
            if (!set_list(c->def, i, c->doc, vn, c->filename))
                priv->rejected[i] = TRUE;
            continue;
        }
        if (vn->type != YAML_SCALAR_NODE || k->type == KT_LIST) {
            problem(c, vorigin, "key '%s': expected %s, got %s", key, k->type == KT_LIST ? "a list" : "a single value",
                    node_kind(vn));
            priv->rejected[i] = TRUE;
        } else if (strlen((const char *)vn->data.scalar.value) != vn->data.scalar.length) {
            /* "\0" in a double-quoted scalar: the C string would end there */
            problem(c, vorigin, "key '%s': contains a NUL character", key);
            priv->rejected[i] = TRUE;
        } else if (is_null_scalar(vn) && k->type != KT_TEXT) {
            problem(c, vorigin, "key '%s': no value (remove the key to use the default)", key);
            priv->rejected[i] = TRUE;
        } else if (!dcn_def_set_value(c->def, i, (const char *)vn->data.scalar.value, vorigin, c->base_dir, &e)) {
            rejected(c, i, e);
        }
        priv->seen[i] = TRUE; /* a rejected key given twice is still a duplicate */
    }
}

typedef yaml_parser_t DcnYamlParser;
static void dcn_yaml_parser_free(DcnYamlParser *p) { yaml_parser_delete(p); }
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnYamlParser, dcn_yaml_parser_free)
typedef yaml_document_t DcnYamlDocument;
static void dcn_yaml_document_free(DcnYamlDocument *d) { yaml_document_delete(d); }

gboolean dcn_definition_parse(DcnDefinition *def, const char *buf, size_t len, const char *filename,
                              const char *base_dir, GError **error)
{
    g_auto(DcnYamlParser) parser;
    yaml_document_t doc;
    g_autofree char *cwd = base_dir ? NULL : g_get_current_dir();

    if (!yaml_parser_initialize(&parser))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s: out of memory", filename),
               FALSE;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s:%zu: YAML syntax error: %s%s%s",
                           filename, parser.problem_mark.line + 1, parser.problem ? parser.problem : "?",
                           parser.context ? " " : "", parser.context ? parser.context : ""),
               FALSE;

    gboolean ok = FALSE;
    DefinitionPriv *priv = (DefinitionPriv *)def;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || is_null_scalar(root)) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s: the definition is empty", filename);
    } else if (root->type != YAML_MAPPING_NODE) {
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s:%zu: expected a mapping of keys, got %s",
                    filename, root->start_mark.line + 1, node_kind(root));
    } else {
        ParseCtx c = {def, &doc, filename, base_dir ? base_dir : cwd};
        guint before = priv->problems->len;
        g_free(priv->first_line);
        priv->first_line = g_strdup_printf("%s:1", filename);
        parse_mapping(&c, root, NULL);
        ok = priv->problems->len == before;
        if (!ok) {
            /* this document's problems, one per line */
            GString *s = g_string_new(NULL);
            for (guint i = before; i < priv->problems->len; i++)
                g_string_append_printf(s, "%s%s", i > before ? "\n" : "", (const char *)priv->problems->pdata[i]);
            g_set_error_literal(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, s->str);
            g_string_free(s, TRUE);
        }
    }
    dcn_yaml_document_free(&doc);
    return ok;
}

gboolean dcn_definition_load_file(DcnDefinition *def, const char *path, GError **error)
{
    g_autofree char *contents = NULL;
    gsize len = 0;
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    if (!g_file_get_contents(abs, &contents, &len, error)) {
        g_prefix_error(error, "definition: ");
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(abs);
    g_free(def->path);
    def->path = g_strdup(abs);
    return dcn_definition_parse(def, contents, len, path, dir, error);
}
