/* summary: see summary.h. */
#include "summary.h"
#include "fdio.h"
#include "error.h"
#include "grace.h"
#include "release.h"
#include "repo.h"
#include "sigfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHADOW ".dcn-summary" /* a dot-name: dcn-hoster never serves it, package skips it */

gboolean dcn_summary_listed_deltas(OstreeRepo *repo, const char *head, GPtrArray **out, GError **error)
{
    g_autoptr(GPtrArray) all = NULL;
    if (!ostree_repo_list_static_delta_names(repo, &all, NULL, error))
        return FALSE;
    g_autoptr(GPtrArray) listed = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < all->len; i++) {
        const char *name = all->pdata[i], *dash = strchr(name, '-');
        if (head && g_str_equal(dash ? dash + 1 : name, head))
            g_ptr_array_add(listed, g_strdup(name));
    }
    *out = g_steal_pointer(&listed);
    return TRUE;
}

/* The served summary lists exactly the repo's refs and the listed deltas. */
static gboolean summary_is_current(OstreeRepo *repo, GPtrArray *listed, gboolean *out, GError **error)
{
    *out = FALSE;
    g_autofree char *path = g_build_filename(g_file_peek_path(ostree_repo_get_path(repo)), "summary", NULL);
    g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, NULL);
    if (!mf)
        return TRUE; /* no summary yet */
    g_autoptr(GBytes) bytes = g_mapped_file_get_bytes(mf);
    g_autoptr(GVariant) summary =
        g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(OSTREE_SUMMARY_GVARIANT_STRING), bytes, FALSE));
    if (!g_variant_is_normal_form(summary))
        return TRUE; /* damaged: write a good one */
    g_autoptr(GHashTable) refs = NULL;
    if (!ostree_repo_list_refs(repo, NULL, &refs, NULL, error))
        return FALSE;

    g_autoptr(GVariant) sref = g_variant_get_child_value(summary, 0);
    if (g_variant_n_children(sref) != g_hash_table_size(refs))
        return TRUE;
    for (gsize i = 0; i < g_variant_n_children(sref); i++) {
        const char *name;
        g_autoptr(GVariant) csum_v = NULL;
        g_variant_get_child(sref, i, "(&s(t@aya{sv}))", &name, NULL, &csum_v, NULL);
        const char *want = g_hash_table_lookup(refs, name);
        if (!want || !ostree_validate_structureof_csum_v(csum_v, NULL))
            return TRUE;
        g_autofree char *have = ostree_checksum_from_bytes_v(csum_v);
        if (!g_str_equal(have, want))
            return TRUE;
    }
    g_autoptr(GVariant) meta = g_variant_get_child_value(summary, 1);
    g_autoptr(GVariant) sdeltas = g_variant_lookup_value(meta, "ostree.static-deltas", G_VARIANT_TYPE("a{sv}"));
    gsize n = sdeltas ? g_variant_n_children(sdeltas) : 0;
    if (n != listed->len)
        return TRUE;
    for (guint i = 0; i < listed->len; i++) {
        g_autoptr(GVariant) v = sdeltas ? g_variant_lookup_value(sdeltas, listed->pdata[i], NULL) : NULL;
        if (!v)
            return TRUE;
    }
    *out = TRUE;
    return TRUE;
}

/* summary.sig was written after summary (each swap writes it last). */
static gboolean summary_sig_current(OstreeRepo *repo)
{
    struct stat s, g;
    int dfd = ostree_repo_get_dfd(repo);
    return fstatat(dfd, "summary", &s, 0) == 0 && fstatat(dfd, "summary.sig", &g, 0) == 0 &&
           (g.st_mtim.tv_sec > s.st_mtim.tv_sec ||
            (g.st_mtim.tv_sec == s.st_mtim.tv_sec && g.st_mtim.tv_nsec >= s.st_mtim.tv_nsec));
}

static gboolean errno_error(GError **error, const char *what, const char *path)
{
    int e = errno;
    return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "%s %s: %s", what, path, g_strerror(e)), FALSE;
}

/* Writes data to dfd/tmp (a dot-name: never served) and fsyncs it. */
static gboolean write_tmp(int dfd, const char *tmp, const void *data, gsize len, GError **error)
{
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno_error(error, "Creating", tmp);
    if (!dcn_write_all(fd, data, len)) {
        errno_error(error, "Writing", tmp);
        close(fd);
        (void)unlinkat(dfd, tmp, 0);
        return FALSE;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        errno_error(error, "Writing", tmp);
        (void)unlinkat(dfd, tmp, 0);
        return FALSE;
    }
    return TRUE;
}

static gboolean rename_in(int dfd, const char *from, const char *to, GError **error)
{
    if (renameat(dfd, from, dfd, to) < 0) {
        errno_error(error, "Renaming into place", to);
        (void)unlinkat(dfd, from, 0);
        return FALSE;
    }
    return TRUE;
}

#define SIG_TMP ".dcn-tmp-summary.sig"

/* summary.sig := sig, by rename: a reader opens the old file or the new one, whole. */
static gboolean replace_sig(OstreeRepo *repo, GVariant *sig, GError **error)
{
    int dfd = ostree_repo_get_dfd(repo);
    if (!write_tmp(dfd, SIG_TMP, g_variant_get_data(sig), g_variant_get_size(sig), error) ||
        !rename_in(dfd, SIG_TMP, "summary.sig", error))
        return g_prefix_error(error, "Writing summary.sig: "), FALSE;
    if (fsync(dfd) < 0)
        return errno_error(error, "Syncing the directory of", "summary.sig");
    return TRUE;
}

/* The signatures of data by every configured key, as a summary.sig a{sv};
 * NULL (and TRUE) when the definition signs nothing. */
static gboolean sign_bytes(const DcnDefinition *def, OstreeRepo *repo, GBytes *data, GVariant **out, GError **error)
{
    g_autoptr(GVariant) sig = NULL;
    if (def->gpg_key_id) {
        const char *keys[] = {def->gpg_key_id, NULL};
        g_autoptr(GBytes) gpg = NULL;
        if (!ostree_repo_gpg_sign_data(repo, data, NULL, keys, def->gpg_homedir, &gpg, NULL, error))
            return g_prefix_error(error, "GPG-signing summary with key %s: ", def->gpg_key_id), FALSE;
        sig = dcn_sigfile_parse(gpg);
        if (!sig)
            return g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "GPG-signing summary: libostree returned no signature list"),
                   FALSE;
    }
    if (def->ed25519_key) {
        g_autoptr(OstreeSign) sign = ostree_sign_get_by_name("ed25519", error);
        g_autoptr(GVariant) sk = NULL;
        g_autoptr(GBytes) one = NULL;
        if (!sign || !dcn_read_ed25519_key(def->ed25519_key, &sk, error) || !ostree_sign_set_sk(sign, sk, error) ||
            !ostree_sign_data(sign, data, &one, NULL, error))
            return g_prefix_error(error, "ed25519-signing summary: "), FALSE;
        g_autoptr(GVariant) prev = g_steal_pointer(&sig);
        sig = dcn_sigfile_append(prev, ostree_sign_metadata_key(sign), one);
    }
    *out = g_steal_pointer(&sig);
    return TRUE;
}

static gboolean read_at(int dfd, const char *name, GBytes **out, GError **error)
{
    *out = NULL;
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? TRUE : errno_error(error, "Opening", name);
    g_autoptr(GMappedFile) mf = g_mapped_file_new_from_fd(fd, FALSE, error);
    close(fd);
    if (!mf)
        return g_prefix_error(error, "Reading %s: ", name), FALSE;
    *out = g_mapped_file_get_bytes(mf);
    return TRUE;
}

/* deltas/<from[0:2]>/<from[2:]>-<to>/ (modified base64), or for a scratch
 * delta deltas/<to[0:2]>/<to[2:]>/: where libostree keeps a delta. */
static char *delta_dir(const char *name)
{
    const char *dash = strchr(name, '-');
    g_autofree char *from = dash ? g_strndup(name, (gsize)(dash - name)) : NULL;
    const char *to = dash ? dash + 1 : name;
    g_autofree guchar *tb = ostree_checksum_to_bytes(to);
    g_autofree char *t64 = ostree_checksum_b64_from_bytes(tb);
    if (!from)
        return g_strdup_printf("deltas/%.2s/%s", t64, t64 + 2);
    g_autofree guchar *fb = ostree_checksum_to_bytes(from);
    g_autofree char *f64 = ostree_checksum_b64_from_bytes(fb);
    return g_strdup_printf("deltas/%.2s/%s-%s", f64, f64 + 2, t64);
}

/* A repository at <repo>/.dcn-summary that looks like the real one to
 * ostree_repo_regenerate_summary(): its config (copied), objects and refs
 * (links), and links to the superblocks of the listed deltas only. */
static gboolean make_shadow(const char *repo_path, GPtrArray *listed, OstreeRepo **out, GError **error)
{
    g_autofree char *shadow = g_build_filename(repo_path, SHADOW, NULL);
    if (!dcn_rm_rf(shadow, error))
        return FALSE;
    if (g_mkdir_with_parents(shadow, 0755) < 0)
        return errno_error(error, "Creating", shadow);
    g_autofree char *config = g_build_filename(repo_path, "config", NULL);
    g_autofree char *shadow_config = g_build_filename(shadow, "config", NULL);
    g_autofree char *text = NULL;
    gsize len;
    if (!g_file_get_contents(config, &text, &len, error) ||
        !g_file_set_contents(shadow_config, text, (gssize)len, error))
        return FALSE;
    const char *links[] = {"objects", "refs"};
    for (guint i = 0; i < G_N_ELEMENTS(links); i++) {
        g_autofree char *target = g_build_filename(repo_path, links[i], NULL);
        g_autofree char *link = g_build_filename(shadow, links[i], NULL);
        if (symlink(target, link) < 0)
            return errno_error(error, "Linking", link);
    }
    for (guint i = 0; i < listed->len; i++) {
        g_autofree char *rel = delta_dir(listed->pdata[i]);
        g_autofree char *dir = g_build_filename(shadow, rel, NULL);
        g_autofree char *target = g_build_filename(repo_path, rel, "superblock", NULL);
        g_autofree char *link = g_build_filename(dir, "superblock", NULL);
        if (g_mkdir_with_parents(dir, 0755) < 0)
            return errno_error(error, "Creating", dir);
        if (symlink(target, link) < 0)
            return errno_error(error, "Linking", link);
    }
    return dcn_repo_open(shadow, FALSE, out, error);
}

/* Serves the summary the shadow holds (summary.h): its signature first
 * written beside, then the two renames back to back, summary first. */
static gboolean serve_new_summary(DcnStageCtx *ctx, OstreeRepo *repo, GBytes *summary, GError **error)
{
    const DcnDefinition *def = ctx->def;
    const char *repo_path = g_file_peek_path(ostree_repo_get_path(repo));
    int dfd = ostree_repo_get_dfd(repo);
    g_autoptr(GBytes) old = NULL;
    g_autoptr(GVariant) sig = NULL;
    if (!read_at(dfd, "summary", &old, error) || !sign_bytes(def, repo, summary, &sig, error))
        return FALSE;
    if (sig)
        dcn_progress_event(&ctx->progress, "signed", "object=summary signatures=%zu",
                           dcn_sigfile_count(sig, "ostree.gpgsigs") + dcn_sigfile_count(sig, "ostree.sign.ed25519"));
    dcn_stage_step(ctx, "sign-summary");

    /* what stops being served is kept for prune_grace from now */
    if (old) {
        g_autoptr(GPtrArray) entries = NULL;
        g_autoptr(GPtrArray) commits = NULL;
        g_autoptr(GError) local = NULL;
        if (!dcn_summary_commits(old, &commits, &local)) {
            /* nothing a damaged summary names can be found by a client either */
            dcn_progress_event(&ctx->progress, "warning", "msg=\"served summary unreadable, not recorded: %s\"",
                               local->message);
        } else if (!dcn_grace_load(repo_path, &entries, error)) {
            return FALSE;
        } else {
            dcn_grace_add(entries, commits, g_get_real_time() / G_USEC_PER_SEC);
            if (!dcn_grace_save(repo_path, entries, error))
                return FALSE;
        }
    }

    /* Nothing a summary names may be missing once it is served: what
     * libostree wrote without fsync (delta parts) reaches the disk first. */
    if (syncfs(dfd) < 0)
        return errno_error(error, "Syncing the file system of", repo_path);

    /* mtimes: summary now, summary.sig after it (a server pairs them by
     * that order: dcn-hoster's summary_rule.h) */
    const char *shadow_summary = SHADOW "/summary";
    int fd = openat(dfd, shadow_summary, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || futimens(fd, NULL) < 0) {
        errno_error(error, "Touching", shadow_summary);
        if (fd >= 0)
            close(fd);
        return FALSE;
    }
    close(fd);
    if (sig && !write_tmp(dfd, SIG_TMP, g_variant_get_data(sig), g_variant_get_size(sig), error))
        return g_prefix_error(error, "Writing summary.sig: "), FALSE;
    if (!rename_in(dfd, shadow_summary, "summary", error))
        return FALSE;
    if (sig && !rename_in(dfd, SIG_TMP, "summary.sig", error))
        return FALSE;
    if (!sig && unlinkat(dfd, "summary.sig", 0) < 0 && errno != ENOENT)
        return errno_error(error, "Removing", "summary.sig");
    if (fsync(dfd) < 0)
        return errno_error(error, "Syncing", repo_path);
    dcn_progress_event(&ctx->progress, "served", "object=summary repo=%s", def->repo);
    dcn_stage_step(ctx, "serve-summary");
    return TRUE;
}

/* The shadow and the signature written beside, left by a publish killed
 * after it swapped the summary in (the served pair is whole by then, or
 * its signature is redone from the served summary). */
static gboolean remove_leftovers(OstreeRepo *repo, GError **error)
{
    const char *repo_path = g_file_peek_path(ostree_repo_get_path(repo));
    g_autofree char *shadow_path = g_build_filename(repo_path, SHADOW, NULL);
    if (!dcn_rm_rf(shadow_path, error))
        return FALSE;
    if (unlinkat(ostree_repo_get_dfd(repo), SIG_TMP, 0) < 0 && errno != ENOENT)
        return errno_error(error, "Removing", SIG_TMP);
    return TRUE;
}

gboolean dcn_summary_update(DcnStageCtx *ctx, OstreeRepo *repo, const char *head, gboolean *changed,
                            GError **error)
{
    const DcnDefinition *def = ctx->def;
    const char *repo_path = g_file_peek_path(ostree_repo_get_path(repo));
    g_autoptr(GPtrArray) listed = NULL;
    gboolean current = FALSE;
    if (!dcn_summary_listed_deltas(repo, head, &listed, error) || !summary_is_current(repo, listed, &current, error))
        return FALSE;
    json_object_set_boolean_member(ctx->result, "summary_regenerated", !current);

    if (current) {
        /* the served summary stays: only a missing or older signature to
         * replace, and what a publish killed after its swap left beside */
        if (!remove_leftovers(repo, error))
            return FALSE;
        dcn_stage_step(ctx, "summary");
        dcn_stage_step(ctx, "sign-summary");
        if ((def->gpg_key_id || def->ed25519_key) && !summary_sig_current(repo)) {
            g_autoptr(GBytes) served = NULL;
            g_autoptr(GVariant) sig = NULL;
            if (!read_at(ostree_repo_get_dfd(repo), "summary", &served, error) ||
                !sign_bytes(def, repo, served, &sig, error) || !replace_sig(repo, sig, error))
                return FALSE;
            *changed = TRUE;
            dcn_progress_event(&ctx->progress, "signed", "object=summary signatures=%zu",
                               dcn_sigfile_count(sig, "ostree.gpgsigs"));
        }
        dcn_stage_step(ctx, "serve-summary");
        return TRUE;
    }

    /* delta indexes (core.indexed-deltas) first: the new summary's
     * clients look up the deltas to its head there */
    dcn_progress_begin(&ctx->progress, "summary", NULL); /* blocking calls: the ticker shows time */
    if (!ostree_repo_static_delta_reindex(repo, OSTREE_STATIC_DELTA_INDEX_FLAGS_NONE, NULL, NULL, error))
        return g_prefix_error(error, "Writing delta indexes: "), FALSE;
    g_autoptr(OstreeRepo) shadow = NULL;
    if (!make_shadow(repo_path, listed, &shadow, error) || !ostree_repo_regenerate_summary(shadow, NULL, NULL, error))
        return g_prefix_error(error, "Regenerating summary in %s/%s: ", repo_path, SHADOW), FALSE;
    dcn_progress_end(&ctx->progress);
    g_autoptr(GBytes) summary = NULL;
    if (!read_at(ostree_repo_get_dfd(shadow), "summary", &summary, error))
        return FALSE;
    if (!summary)
        return g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Regenerating summary: no %s/%s/summary",
                           repo_path, SHADOW),
               FALSE;
    *changed = TRUE;
    dcn_progress_event(&ctx->progress, "summary", "repo=%s deltas_listed=%u", def->repo, listed->len);
    dcn_stage_step(ctx, "summary");

    if (!serve_new_summary(ctx, repo, summary, error))
        return FALSE;
    g_clear_object(&shadow);
    g_autofree char *shadow_path = g_build_filename(repo_path, SHADOW, NULL);
    return dcn_rm_rf(shadow_path, error);
}
