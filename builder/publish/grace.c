/* grace: see grace.h. */
#include "grace.h"
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <ostree.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void dcn_replaced_free(DcnReplaced *r)
{
    if (!r)
        return;
    g_ptr_array_unref(r->commits);
    g_free(r);
}

static char *record_path(const char *repo_path) { return g_build_filename(repo_path, DCN_GRACE_RECORD, NULL); }

static gboolean bad_record(const char *path, const char *what, GError **error)
{
    return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: %s (this file records what prune keeps for prune_grace; restore it or delete it to "
                       "let prune go by keep alone)",
                       path, what),
           FALSE;
}

gboolean dcn_grace_load(const char *repo_path, GPtrArray **out, GError **error)
{
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify)dcn_replaced_free);
    g_autofree char *path = record_path(repo_path);
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &text, &len, &local)) {
        if (!g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_propagate_error(error, g_steal_pointer(&local)), FALSE;
        *out = g_steal_pointer(&entries);
        return TRUE;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, (gssize)len, &local))
        return bad_record(path, local->message, error);
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    JsonNode *list = o ? json_object_get_member(o, "replaced") : NULL;
    if (!list || !JSON_NODE_HOLDS_ARRAY(list))
        return bad_record(path, "no \"replaced\" list", error);
    JsonArray *a = json_node_get_array(list);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonNode *n = json_array_get_element(a, i);
        JsonObject *e = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
        JsonNode *when = e ? json_object_get_member(e, "replaced_at") : NULL;
        JsonNode *commits = e ? json_object_get_member(e, "commits") : NULL;
        if (!when || json_node_get_value_type(when) != G_TYPE_INT64 || !commits || !JSON_NODE_HOLDS_ARRAY(commits))
            return bad_record(path, "an entry without \"replaced_at\" (integer) and \"commits\" (list)", error);
        g_autoptr(DcnReplaced) r = g_new0(DcnReplaced, 1);
        r->replaced_at = json_node_get_int(when);
        r->commits = g_ptr_array_new_with_free_func(g_free);
        JsonArray *ca = json_node_get_array(commits);
        for (guint j = 0; j < json_array_get_length(ca); j++) {
            JsonNode *c = json_array_get_element(ca, j);
            const char *s = JSON_NODE_HOLDS_VALUE(c) && json_node_get_value_type(c) == G_TYPE_STRING
                                ? json_node_get_string(c)
                                : NULL;
            if (!s || !ostree_validate_checksum_string(s, NULL))
                return bad_record(path, "a commit that is not a checksum", error);
            g_ptr_array_add(r->commits, g_strdup(s));
        }
        g_ptr_array_add(entries, g_steal_pointer(&r));
    }
    *out = g_steal_pointer(&entries);
    return TRUE;
}

static gboolean write_failed(const char *path, GError **error)
{
    int e = errno;
    return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "Writing %s: %s", path, g_strerror(e)), FALSE;
}

gboolean dcn_grace_save(const char *repo_path, GPtrArray *entries, GError **error)
{
    g_autofree char *path = record_path(repo_path);
    if (entries->len == 0) {
        if (unlink(path) < 0 && errno != ENOENT)
            return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Removing %s: %s", path,
                               g_strerror(errno)),
                   FALSE;
        return TRUE;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "replaced");
    json_builder_begin_array(b);
    for (guint i = 0; i < entries->len; i++) {
        const DcnReplaced *r = entries->pdata[i];
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "replaced_at");
        json_builder_add_int_value(b, r->replaced_at);
        json_builder_set_member_name(b, "commits");
        json_builder_begin_array(b);
        for (guint j = 0; j < r->commits->len; j++)
            json_builder_add_string_value(b, r->commits->pdata[j]);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = json_to_string(root, TRUE);
    /* temp file, fsync, rename. The temp file has one fixed name (a dot-name
     * too), not g_file_set_contents()'s random one: a publish killed while
     * writing it leaves one file that the next save overwrites, not one
     * more each time. */
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return write_failed(tmp, error);
    if (!dcn_write_all(fd, text, strlen(text))) {
        write_failed(tmp, error);
        close(fd);
        (void)unlink(tmp);
        return FALSE;
    }
    if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        write_failed(tmp, error);
        (void)unlink(tmp);
        return FALSE;
    }
    return TRUE;
}

static gboolean same_commits(GPtrArray *a, GPtrArray *b)
{
    if (a->len != b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++) {
        gboolean found = FALSE;
        for (guint j = 0; j < b->len && !found; j++)
            found = g_str_equal(a->pdata[i], b->pdata[j]);
        if (!found)
            return FALSE;
    }
    return TRUE;
}

void dcn_grace_add(GPtrArray *entries, GPtrArray *commits, gint64 when)
{
    for (guint i = 0; i < entries->len; i++) {
        DcnReplaced *r = entries->pdata[i];
        if (same_commits(r->commits, commits)) {
            r->replaced_at = MAX(r->replaced_at, when);
            return;
        }
    }
    DcnReplaced *r = g_new0(DcnReplaced, 1);
    r->replaced_at = when;
    r->commits = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < commits->len; i++)
        g_ptr_array_add(r->commits, g_strdup(commits->pdata[i]));
    g_ptr_array_add(entries, r);
}

/* Adds the commits of an a(s(taya{sv})) ref list. */
static gboolean add_ref_commits(GVariant *refs, GPtrArray *out, GError **error)
{
    for (gsize i = 0, n = g_variant_n_children(refs); i < n; i++) {
        g_autoptr(GVariant) csum_v = NULL;
        g_variant_get_child(refs, i, "(&s(t@aya{sv}))", NULL, NULL, &csum_v, NULL);
        if (!ostree_validate_structureof_csum_v(csum_v, error))
            return FALSE;
        g_ptr_array_add(out, ostree_checksum_from_bytes_v(csum_v));
    }
    return TRUE;
}

gboolean dcn_summary_commits(GBytes *summary, GPtrArray **out, GError **error)
{
    g_autoptr(GVariant) v =
        g_variant_ref_sink(g_variant_new_from_bytes(OSTREE_SUMMARY_GVARIANT_FORMAT, summary, FALSE));
    if (!g_variant_is_normal_form(v))
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not an ostree summary (not normal form)"),
               FALSE;
    g_autoptr(GPtrArray) commits = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GVariant) refs = g_variant_get_child_value(v, 0);
    if (!add_ref_commits(refs, commits, error))
        return FALSE;
    g_autoptr(GVariant) meta = g_variant_get_child_value(v, 1);
    g_autoptr(GVariant) map = g_variant_lookup_value(meta, "ostree.summary.collection-map",
                                                     G_VARIANT_TYPE("a{sa(s(taya{sv}))}"));
    for (gsize i = 0, n = map ? g_variant_n_children(map) : 0; i < n; i++) {
        g_autoptr(GVariant) crefs = NULL;
        g_variant_get_child(map, i, "{&s@a(s(taya{sv}))}", NULL, &crefs);
        if (!add_ref_commits(crefs, commits, error))
            return FALSE;
    }
    *out = g_steal_pointer(&commits);
    return TRUE;
}
