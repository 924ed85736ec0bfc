/* value: parsing one value (integers, durations, booleans, lists from a
 * flag) and storing it in its field. See keys.h. */
#include "keys.h"

#include <string.h>

#include "error.h"

static gboolean parse_uint(const char *v, guint min, guint max, guint *out)
{
    if (!*v || strlen(v) > 9)
        return FALSE;
    guint64 n = 0;
    for (const char *p = v; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
        n = n * 10 + (guint64)(*p - '0');
    }
    if (n < min || n > max)
        return FALSE;
    *out = (guint)n;
    return TRUE;
}

/* N (seconds) or N followed by one of s, m, h, d. */
static gboolean parse_duration(const char *v, guint min, guint max, guint *out)
{
    static const struct {
        char unit;
        guint seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    size_t len = strlen(v);
    guint scale = 1;
    for (size_t i = 0; len > 1 && i < G_N_ELEMENTS(units); i++)
        if (v[len - 1] == units[i].unit) {
            scale = units[i].seconds;
            len--;
            break;
        }
    g_autofree char *digits = g_strndup(v, len);
    guint n;
    if (!parse_uint(digits, 0, G_MAXUINT32 / 86400, &n))
        return FALSE;
    guint64 seconds = (guint64)n * scale;
    if (seconds < min || seconds > max)
        return FALSE;
    *out = (guint)seconds;
    return TRUE;
}

static gboolean parse_bool(const char *v, gboolean *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(v, yes[i]) == 0 || g_ascii_strcasecmp(v, no[i]) == 0) {
            *out = g_ascii_strcasecmp(v, yes[i]) == 0;
            return TRUE;
        }
    }
    return FALSE;
}

/* KT_LIST from a flag or variable: comma-separated, blanks around items
 * ignored. NULL when stored, else what was expected. */
static const char *set_list_items(const KeyDef *k, char ***field, const char *value)
{
    g_auto(GStrv) items = g_strsplit(value, ",", -1);
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
    const char *expected = NULL;
    for (char **it = items; *it && !expected; it++) {
        g_strstrip(*it);
        if (**it && strpbrk(*it, "\r\n"))
            expected = "single-line items";
        else if (**it && k->check)
            expected = k->check(*it);
        if (**it)
            g_ptr_array_add(list, g_strdup(*it));
    }
    if (expected)
        return expected;
    g_ptr_array_add(list, NULL);
    g_strfreev(*field);
    *field = (char **)g_ptr_array_free(g_steal_pointer(&list), FALSE);
    return NULL;
}

/* KT_STRING, KT_STRING0, KT_PATH: *stored gets the value (a path made
 * absolute against base_dir). NULL when fine, else what was expected. */
static const char *string_value(const KeyDef *k, const char *value, const char *base_dir, char **stored)
{
    const char *expected = NULL;
    if (!*value && k->type != KT_STRING0)
        expected = "a non-empty value";
    else if (strpbrk(value, "\r\n"))
        expected = "a single line";
    else if (k->type != KT_PATH && k->check && *value)
        expected = k->check(value);
    if (!expected)
        *stored = (k->type == KT_PATH && !g_path_is_absolute(value)) ? g_canonicalize_filename(value, base_dir)
                                                                      : g_strdup(value);
    return expected;
}

/* KT_UINT, KT_DURATION: the number in its range, or an error saying the range. */
static gboolean set_number(const KeyDef *k, guint *field, const char *value, const char *origin, GError **error)
{
    guint n;
    if (k->type == KT_UINT ? parse_uint(value, k->min, k->max, &n) : parse_duration(value, k->min, k->max, &n)) {
        *field = n;
        return TRUE;
    }
    g_autofree char *shown = g_strescape(value, NULL);
    if (k->type == KT_UINT)
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                    "%s: key '%s': expected an integer from %u to %u, got '%s'", origin, k->key, k->min, k->max, shown);
    else
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                    "%s: key '%s': expected a duration from %us to %us: seconds, or a number with s, m, h or d "
                    "(90s, 30m, 1h), got '%s'",
                    origin, k->key, k->min, k->max, shown);
    return FALSE;
}

static const char *set_backend(DcnComposeBackendKind *field, const char *value)
{
    if (strcmp(value, "tree") == 0)
        *field = DCN_COMPOSE_TREE;
    else if (strcmp(value, "edge-commit") == 0)
        *field = DCN_COMPOSE_EDGE_COMMIT;
    else if (strcmp(value, "weldr") == 0)
        *field = DCN_COMPOSE_WELDR;
    else
        return "one of tree, edge-commit, weldr";
    return NULL;
}

gboolean dcn_def_set_value(DcnDefinition *def, size_t i, const char *value, const char *origin,
                           const char *base_dir, GError **error)
{
    const KeyDef *k = &dcn_def_keys[i];
    void *field = (char *)def + k->offset;
    const char *expected = NULL;
    g_autofree char *stored = NULL;

    switch (k->type) {
    case KT_MAP:
        expected = "a mapping of keys";
        break;
    case KT_TEXT:
        stored = g_strdup(value);
        break;
    case KT_LIST:
        expected = set_list_items(k, (char ***)field, value);
        break;
    case KT_STRING:
    case KT_STRING0:
    case KT_PATH:
        expected = string_value(k, value, base_dir, &stored);
        break;
    case KT_UINT:
    case KT_DURATION:
        if (!set_number(k, (guint *)field, value, origin, error))
            return FALSE;
        break;
    case KT_BOOL:
        if (!parse_bool(value, (gboolean *)field))
            expected = "true or false";
        break;
    case KT_BACKEND:
        expected = set_backend((DcnComposeBackendKind *)field, value);
        break;
    }
    if (expected) {
        g_autofree char *shown = g_strescape(value, NULL);
        g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION, "%s: key '%s': expected %s, got '%s'",
                    origin, k->key, expected, shown);
        return FALSE;
    }
    if (stored) {
        g_free(*(char **)field);
        *(char **)field = g_steal_pointer(&stored);
    }
    DefinitionPriv *p = (DefinitionPriv *)def;
    g_free(p->origin[i]);
    p->origin[i] = g_strdup(origin);
    p->seen[i] = TRUE;
    return TRUE;
}
