/* sigfile: see sigfile.h. */
#include "sigfile.h"

#include <string.h>

#define SIGS_TYPE G_VARIANT_TYPE("aay")

/* Appends the children of the aay in v (if it is one) to builder. */
static void add_sigs(GVariantBuilder *builder, GVariant *v)
{
    if (!v || !g_variant_is_of_type(v, SIGS_TYPE))
        return;
    for (gsize i = 0, n = g_variant_n_children(v); i < n; i++) {
        g_autoptr(GVariant) child = g_variant_get_child_value(v, i);
        g_variant_builder_add_value(builder, child);
    }
}

/* The value of member key in dict (an a{sv}), or NULL. */
static GVariant *member(GVariant *dict, const char *key)
{
    if (!dict || !g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT))
        return NULL;
    return g_variant_lookup_value(dict, key, NULL);
}

/* The member names of a then b, each once, in first-seen order. */
static GPtrArray *member_names(GVariant *a, GVariant *b)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GVariant *dicts[] = {a, b};
    for (guint d = 0; d < G_N_ELEMENTS(dicts); d++) {
        if (!dicts[d] || !g_variant_is_of_type(dicts[d], G_VARIANT_TYPE_VARDICT))
            continue;
        for (gsize i = 0, n = g_variant_n_children(dicts[d]); i < n; i++) {
            const char *key;
            g_variant_get_child(dicts[d], i, "{&sv}", &key, NULL);
            gboolean seen = FALSE;
            for (guint j = 0; j < names->len && !seen; j++)
                seen = strcmp(names->pdata[j], key) == 0;
            if (!seen)
                g_ptr_array_add(names, g_strdup(key));
        }
    }
    return names;
}

GVariant *dcn_sigfile_merge(GVariant *a, GVariant *b)
{
    g_autoptr(GPtrArray) names = member_names(a, b);
    GVariantBuilder out;
    g_variant_builder_init(&out, G_VARIANT_TYPE_VARDICT);
    for (guint i = 0; i < names->len; i++) {
        const char *key = names->pdata[i];
        g_autoptr(GVariant) va = member(a, key);
        g_autoptr(GVariant) vb = member(b, key);
        gboolean sigs_a = va && g_variant_is_of_type(va, SIGS_TYPE);
        gboolean sigs_b = vb && g_variant_is_of_type(vb, SIGS_TYPE);
        if ((sigs_a || !va) && (sigs_b || !vb)) {
            GVariantBuilder sigs;
            g_variant_builder_init(&sigs, SIGS_TYPE);
            add_sigs(&sigs, va);
            add_sigs(&sigs, vb);
            g_variant_builder_add(&out, "{sv}", key, g_variant_builder_end(&sigs));
        } else {
            g_variant_builder_add(&out, "{sv}", key, vb ? vb : va);
        }
    }
    g_autoptr(GVariant) merged = g_variant_ref_sink(g_variant_builder_end(&out));
    return g_variant_get_normal_form(merged);
}

GVariant *dcn_sigfile_append(GVariant *sig, const char *key, GBytes *signature)
{
    GVariantBuilder one, sigs;
    g_variant_builder_init(&sigs, SIGS_TYPE);
    gsize len;
    const void *data = g_bytes_get_data(signature, &len);
    g_variant_builder_add_value(&sigs, g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, data, len, 1));
    g_variant_builder_init(&one, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&one, "{sv}", key, g_variant_builder_end(&sigs));
    g_autoptr(GVariant) added = g_variant_ref_sink(g_variant_builder_end(&one));
    return dcn_sigfile_merge(sig, added);
}

gsize dcn_sigfile_count(GVariant *sig, const char *key)
{
    g_autoptr(GVariant) v = member(sig, key);
    return v && g_variant_is_of_type(v, SIGS_TYPE) ? g_variant_n_children(v) : 0;
}

GVariant *dcn_sigfile_parse(GBytes *bytes)
{
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE_VARDICT, bytes, FALSE));
    if (!g_variant_is_normal_form(v))
        return NULL;
    return g_steal_pointer(&v);
}
