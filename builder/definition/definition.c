/* definition: the definition's life (new, free), its problems, and where
 * each key was set. The parser is in yaml.c, the keys in keys.c, the
 * values in value.c, the defaults in finish.c (keys.h). */
#include "definition.h"

#include <stdarg.h>
#include <string.h>

#include "error.h"
#include "keys.h"

DcnDefinition *dcn_definition_new(void)
{
    DefinitionPriv *p = g_new0(DefinitionPriv, 1);
    p->origin = g_new0(char *, dcn_def_n_keys);
    p->seen = g_new0(gboolean, dcn_def_n_keys);
    p->rejected = g_new0(gboolean, dcn_def_n_keys);
    p->problems = g_ptr_array_new_with_free_func(g_free);
    p->def.compose_backend = DCN_COMPOSE_TREE;
    p->def.keep = 5;
    p->def.deltas_from = 3;
    p->def.delta_min_fallback_mb = 0;
    p->def.scratch_delta = TRUE;
    p->def.prune_grace = 3600;
    p->def.provider_timeout_s = 900;
    p->def.vm_cpus = 4;
    p->def.vm_memory_mib = 8192;
    p->def.vm_disk_gib = 100;
    p->def.composer_timeout_s = 7200;
    p->def.composer_poll_s = 10;
    p->def.registry_retries = 4;
    p->def.registry_chunk_mb = 32;
    p->def.deploy_timeout = 600;
    return &p->def;
}

void dcn_definition_free(DcnDefinition *def)
{
    if (!def)
        return;
    DefinitionPriv *p = (DefinitionPriv *)def;
    for (size_t i = 0; i < dcn_def_n_keys; i++) {
        g_free(p->origin[i]);
        if (dcn_def_keys[i].type == KT_STRING || dcn_def_keys[i].type == KT_STRING0 || dcn_def_keys[i].type == KT_TEXT ||
            dcn_def_keys[i].type == KT_PATH)
            g_free(*(char **)((char *)def + dcn_def_keys[i].offset));
        else if (dcn_def_keys[i].type == KT_LIST)
            g_strfreev(*(char ***)((char *)def + dcn_def_keys[i].offset));
    }
    g_free(p->origin);
    g_free(p->seen);
    g_free(p->rejected);
    g_ptr_array_unref(p->problems);
    g_free(p->first_line);
    g_free(def->path);
    g_free(p);
}

const GPtrArray *dcn_definition_problems(const DcnDefinition *def) { return ((const DefinitionPriv *)def)->problems; }

void dcn_definition_add_problem(DcnDefinition *def, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(((DefinitionPriv *)def)->problems, g_strdup_printf("%s: %s", where, what));
}

GError *dcn_definition_problems_error(const DcnDefinition *def)
{
    const GPtrArray *a = dcn_definition_problems(def);
    if (!a->len)
        return NULL;
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < a->len; i++)
        g_string_append_printf(s, "%s%s", i ? "\n" : "", (const char *)a->pdata[i]);
    GError *e = g_error_new_literal(DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, s->str);
    g_string_free(s, TRUE);
    return e;
}

gboolean dcn_definition_finished(const DcnDefinition *def) { return ((const DefinitionPriv *)def)->finished; }

const char *dcn_compose_backend_name(DcnComposeBackendKind kind)
{
    switch (kind) {
    case DCN_COMPOSE_TREE: return "tree";
    case DCN_COMPOSE_EDGE_COMMIT: return "edge-commit";
    case DCN_COMPOSE_WELDR: return "weldr";
    }
    return "?";
}

gboolean dcn_definition_set(DcnDefinition *def, const char *key, const char *value, const char *origin,
                            GError **error)
{
    size_t i;
    if (!dcn_def_find_key(key, &i) || dcn_def_keys[i].type == KT_MAP)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_USAGE, "%s: unknown key '%s'", origin, key),
               FALSE;
    g_autofree char *cwd = g_get_current_dir();
    return dcn_def_set_value(def, i, value, origin, cwd, error);
}

const char *dcn_def_origin_of(DcnDefinition *def, const char *key)
{
    size_t i = dcn_def_key_index(key);
    const char *o = ((DefinitionPriv *)def)->origin[i];
    return o ? o : "default";
}

const char *dcn_definition_origin(const DcnDefinition *def, const char *key)
{
    size_t i;
    return dcn_def_find_key(key, &i) ? ((const DefinitionPriv *)def)->origin[i] : NULL;
}

const char *dcn_definition_where(const DcnDefinition *def, const char *key)
{
    g_autofree char *k = g_strdup(key);
    for (;;) {
        const char *o = dcn_definition_origin(def, k);
        if (o)
            return o;
        char *dot = strrchr(k, '.');
        if (!dot)
            break;
        *dot = '\0';
    }
    const DefinitionPriv *p = (const DefinitionPriv *)def;
    return p->first_line ? p->first_line : def->path ? def->path : "definition";
}

gboolean dcn_definition_rejected(const DcnDefinition *def, const char *key)
{
    size_t i;
    return dcn_def_find_key(key, &i) && ((const DefinitionPriv *)def)->rejected[i];
}

