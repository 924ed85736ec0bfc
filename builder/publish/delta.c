/* delta: see delta.h. */
#include "delta.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* sscanf that must consume the whole line */
#define WHOLE(n, line) ((n) > 0 && (line)[(n)] == '\0')

gboolean dcn_delta_stats_parse(DcnDeltaStats *s, const char *line)
{
    unsigned a, b, c;
    uint64_t x, y, z;
    int n = -1;
    if (sscanf(line, "modified: %u%n", &a, &n) == 1 && WHOLE(n, line)) {
        s->modified = a;
        return TRUE;
    }
    n = -1;
    if (sscanf(line, "new reachable: metadata=%u content regular=%u symlink=%u%n", &a, &b, &c, &n) == 3 &&
        WHOLE(n, line)) {
        /* the commit is among the metadata; it goes in the superblock, not a part */
        s->objects_total = (guint64)(a ? a - 1 : 0) + b + c;
        s->scanned = TRUE;
        return TRUE;
    }
    n = -1;
    if (sscanf(line, "processing bsdiff: [%u/%u]%n", &a, &b, &n) == 2 && WHOLE(n, line)) {
        s->bsdiff_done = a;
        s->bsdiff_total = b;
        return TRUE;
    }
    n = -1;
    if (sscanf(line, "part %u n:%u compressed:%" SCNu64 " uncompressed:%" SCNu64 "%n", &a, &b, &x, &y, &n) == 4 &&
        WHOLE(n, line)) {
        s->parts = MAX(s->parts, a);
        s->objects += b;
        s->compressed += x;
        s->uncompressed += y;
        return TRUE;
    }
    n = -1;
    if (sscanf(line, "uncompressed=%" SCNu64 " compressed=%" SCNu64 " loose=%" SCNu64 "%n", &x, &y, &z, &n) == 3 &&
        WHOLE(n, line)) {
        s->finished = TRUE;
        s->loose = z;
        return TRUE;
    }
    if (g_str_has_prefix(line, "fallback for ")) {
        s->fallbacks++;
        if (s->objects_total)
            s->objects_total--;
        return TRUE;
    }
    /* per-file rollsum lines, and the closing rollsum=/bsdiff= summary: nothing to count */
    n = -1;
    if (g_str_has_prefix(line, "rollsum for ") ||
        (sscanf(line, "rollsum=%u objects, %" SCNu64 " bytes%n", &a, &x, &n) == 2 && WHOLE(n, line)))
        return TRUE;
    n = -1;
    if (sscanf(line, "bsdiff=%u objects%n", &a, &n) == 1 && WHOLE(n, line))
        return TRUE;
    return FALSE;
}

char *dcn_delta_stats_detail(const DcnDeltaStats *s, const char *from_desc)
{
    const char *phase = s->finished ? "done" : s->scanned ? "pack" : "scan";
    GString *d = g_string_new(NULL);
    g_string_printf(d, "from=%s phase=%s parts=%u", from_desc, phase, s->parts);
    if (s->bsdiff_total)
        g_string_append_printf(d, " bsdiff=%u/%u", s->bsdiff_done, s->bsdiff_total);
    return g_string_free(d, FALSE);
}

/* ---- the byte total ---- */

/* What libostree will add up as the parts' "uncompressed" bytes
 * (process_one_object: a metadata object's size, a file's content size)
 * for every object `to` has and `from` has not, but the commit (it goes in
 * the superblock). Exact for a scratch delta; for a delta from a commit,
 * files sent as rollsum or bsdiff count whole here and as their (smaller)
 * payload in the parts, so the time left is an upper bound there. One more
 * pass over object headers (libostree reads each twice): FALSE (total
 * unknown) when anything in it fails; the delta itself does not depend on it. */
static gboolean delta_bytes(OstreeRepo *repo, const char *from, const char *to, guint64 *out)
{
    *out = 0;
    g_autoptr(GHashTable) to_objs = NULL, from_objs = NULL;
    if (!ostree_repo_traverse_commit(repo, to, 0, &to_objs, NULL, NULL) ||
        (from && !ostree_repo_traverse_commit(repo, from, 0, &from_objs, NULL, NULL)))
        return FALSE;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, to_objs);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (from_objs && g_hash_table_contains(from_objs, key))
            continue;
        const char *csum;
        OstreeObjectType type;
        ostree_object_name_deserialize(key, &csum, &type);
        guint64 size = 0;
        if (type == OSTREE_OBJECT_TYPE_COMMIT || type == OSTREE_OBJECT_TYPE_COMMIT_META)
            continue;
        if (OSTREE_OBJECT_TYPE_IS_META(type)) {
            if (!ostree_repo_query_object_storage_size(repo, type, csum, &size, NULL, NULL))
                return FALSE;
        } else {
            g_autoptr(GFileInfo) info = NULL;
            if (!ostree_repo_load_file(repo, csum, NULL, &info, NULL, NULL, NULL))
                return FALSE;
            size = (guint64)g_file_info_get_size(info);
        }
        *out += size;
    }
    return TRUE;
}

/* ---- watching the call ---- */

typedef struct {
    DcnDeltaStats *stats;
    DcnProgress *progress;
    const char *from_desc;
    guint64 bytes_total; /* delta_bytes, or 0 */
    GString *pending;    /* a line not finished yet */
} Watch;

/* g_printerr handlers take no user data: the watch of the one delta being
 * generated (set and cleared around the call, on the calling thread). */
static Watch *watch_current;

static void show(Watch *w)
{
    const DcnDeltaStats *s = w->stats;
    g_autofree char *detail = dcn_delta_stats_detail(s, w->from_desc);
    dcn_progress_detail(w->progress, "%s", detail);
    dcn_progress_set_total(w->progress, MAX(s->objects_total, s->objects), MAX(w->bytes_total, s->uncompressed));
    dcn_progress_set(w->progress, s->objects, s->uncompressed);
}

static void on_printerr(const char *text)
{
    Watch *w = watch_current;
    if (!w) {
        fputs(text, stderr);
        return;
    }
    g_string_append(w->pending, text);
    char *nl;
    while ((nl = memchr(w->pending->str, '\n', w->pending->len))) {
        gsize len = (gsize)(nl - w->pending->str);
        g_autofree char *line = g_strndup(w->pending->str, len);
        g_string_erase(w->pending, 0, (gssize)len + 1);
        if (dcn_delta_stats_parse(w->stats, line)) {
            show(w);
        } else {
            g_autofree char *esc = g_strescape(line, NULL);
            dcn_progress_event(w->progress, "output", "source=libostree line=\"%s\"", esc);
        }
    }
}

gboolean dcn_delta_generate(OstreeRepo *repo, const char *from, const char *to, GVariant *params,
                            const char *from_desc, DcnProgress *progress, DcnDeltaStats *out, GError **error)
{
    g_autoptr(GVariantDict) dict = g_variant_dict_new(params);
    g_variant_dict_insert(dict, "verbose", "b", TRUE);
    g_autoptr(GVariant) pv = g_variant_ref_sink(g_variant_dict_end(dict));

    *out = (DcnDeltaStats){0};
    Watch w = {.stats = out, .progress = progress, .from_desc = from_desc, .pending = g_string_new(NULL)};
    dcn_progress_begin(progress, "delta", "objects");
    dcn_progress_detail(progress, "from=%s phase=count", from_desc);
    (void)delta_bytes(repo, from, to, &w.bytes_total);
    show(&w);
    watch_current = &w;
    GPrintFunc previous = g_set_printerr_handler(on_printerr);
    gboolean ok = ostree_repo_static_delta_generate(repo, OSTREE_STATIC_DELTA_GENERATE_OPT_MAJOR, from, to, NULL, pv,
                                                    NULL, error);
    g_set_printerr_handler(previous);
    watch_current = NULL;
    if (w.pending->len) { /* a last line without its newline */
        g_string_append_c(w.pending, '\n');
        watch_current = &w;
        on_printerr("");
        watch_current = NULL;
    }
    g_string_free(w.pending, TRUE);
    if (ok) {
        show(&w);
        dcn_progress_end(progress);
    } else {
        dcn_progress_cancel(progress);
    }
    return ok;
}
