/* iso: the iso stage (iso.h, docs/builder.md#iso). Reads the boot ISO,
 * edits its boot entries (and, offline, adds the kickstart and the
 * version's repository), writes the new ISO under a dot-name in the output
 * directory (never served) and renames it into place: a failed or
 * interrupted run publishes nothing, and the next one removes its leftovers.
 *
 * Idempotent: the result records a digest of every input (the boot ISO's
 * size and time, the mode, the inst.ks= argument, offline also the
 * kickstart, key and commit); a rerun with the same inputs whose ISO is
 * still the one written (size and time) changes nothing. xorriso runs with
 * SOURCE_DATE_EPOCH (offline: the commit's time; network: the boot ISO's),
 * so the same inputs also give the same bytes. */
#include "iso.h"

#include "cmd.h"
#include "error.h"
#include "kickstart.h"
#include "repo.h"
#include "stage.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The URL devices reach dcn-hoster at, without a trailing '/'. */
static char *hoster_url(const DcnDefinition *def)
{
    g_autofree char *u = g_strdup(def->deploy_url);
    size_t n = strlen(u);
    while (n && u[n - 1] == '/')
        u[--n] = '\0';
    return g_steal_pointer(&u);
}

char *dcn_iso_kickstart_url(const DcnDefinition *def)
{
    g_autofree char *base = hoster_url(def);
    g_autofree char *ks = g_path_get_basename(def->kickstart_path);
    return g_strdup_printf("%s/%s", base, ks); /* the hosting image serves it at its content root */
}

char *dcn_iso_repo_url(const DcnDefinition *def)
{
    g_autofree char *base = hoster_url(def);
    return g_strdup_printf("%s/repo", base); /* as the hosting image serves it (docs/image.md) */
}

/* A directory removed (with what is in it) when it goes out of scope. */
typedef char DcnTempDir;
static void dcn_temp_dir_free(DcnTempDir *dir)
{
    if (!dir)
        return;
    dcn_rm_rf(dir, NULL);
    g_free(dir);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnTempDir, dcn_temp_dir_free)

/* A lock fd closed when it goes out of scope. */
typedef int DcnLockFd;
static void dcn_lock_fd_free(DcnLockFd *fd)
{
    if (fd && *fd >= 0)
        close(*fd);
    g_free(fd);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DcnLockFd, dcn_lock_fd_free)

static gboolean set_mtime(const char *path, gint64 epoch, GError **error)
{
    struct timespec ts[2] = {{(time_t)epoch, 0}, {(time_t)epoch, 0}};
    if (utimensat(AT_FDCWD, path, ts, 0) < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", path, g_strerror(errno)), FALSE;
    return TRUE;
}

static gboolean write_file(const char *path, const char *data, gsize len, gint64 epoch, GError **error)
{
    if (!g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0644, error))
        return FALSE;
    return set_mtime(path, epoch, error);
}

/* The version's commit in the hosted repo: the newest kept commit whose
 * "version" is def->version (a rollback re-releases a version as a new one). */
static gboolean find_version(const DcnDefinition *def, OstreeRepo *repo, DcnVersion **out, GError **error)
{
    g_autoptr(GPtrArray) history = NULL;
    if (!dcn_repo_history(repo, def->ref, def->keep, &history, error))
        return FALSE;
    for (guint i = 0; i < history->len; i++) {
        DcnVersion *v = history->pdata[i];
        if (g_strcmp0(v->version, def->version) == 0) {
            *out = g_ptr_array_steal_index(history, i);
            return TRUE;
        }
    }
    return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND,
                       "version %s is not published on %s in %s (an offline ISO carries a published version): "
                       "publish it first",
                       def->version, def->ref, def->repo),
           FALSE;
}

/* dest: a new archive repo holding just commit (and its detached
 * metadata: signatures) on ref: `ostree pull-local --depth=0` of the
 * version. Archive to archive on one filesystem: the objects are hard
 * links. No summary, as pull-local makes none (clients read
 * refs/heads/<ref>): libostree stamps a summary with the clock, and the
 * same version must give the same ISO. */
static gboolean pull_version(const DcnDefinition *def, const char *dest, const char *commit, DcnProgress *progress,
                             GError **error)
{
    g_autoptr(GFile) dir = g_file_new_for_path(dest);
    g_autoptr(OstreeRepo) repo = ostree_repo_new(dir);
    if (!ostree_repo_create(repo, OSTREE_REPO_MODE_ARCHIVE, NULL, error))
        return g_prefix_error(error, "Creating %s: ", dest), FALSE;
    g_autofree char *src_url = g_strconcat("file://", def->repo, NULL);
    const char *refs[] = {def->ref, NULL};
    const char *commits[] = {commit, NULL};
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&b, "{sv}", "refs", g_variant_new_strv(refs, -1));
    g_variant_builder_add(&b, "{sv}", "override-commit-ids", g_variant_new_strv(commits, -1));
    g_variant_builder_add(&b, "{sv}", "depth", g_variant_new_int32(0));
    g_variant_builder_add(&b, "{sv}", "gpg-verify", g_variant_new_boolean(FALSE));
    g_variant_builder_add(&b, "{sv}", "gpg-verify-summary", g_variant_new_boolean(FALSE));
    g_variant_builder_add(&b, "{sv}", "flags", g_variant_new_int32(OSTREE_REPO_PULL_FLAGS_NONE));
    g_autoptr(GVariant) opts = g_variant_ref_sink(g_variant_builder_end(&b));
    if (!ostree_repo_pull_with_options(repo, src_url, opts, NULL, NULL, error))
        return g_prefix_error(error, "Copying %s (%.12s) from %s: ", def->version, commit, def->repo), FALSE;
    /* a pull from a URL records the ref as a local one; make sure */
    g_autofree char *got = NULL;
    if (!ostree_repo_resolve_rev(repo, def->ref, TRUE, &got, error))
        return FALSE;
    if (g_strcmp0(got, commit) != 0 && !ostree_repo_set_ref_immediate(repo, NULL, def->ref, commit, NULL, error))
        return FALSE;
    dcn_progress_event(progress, "repo", "commit=%s ref=%s path=%s", commit, def->ref, dest);
    return TRUE;
}

/* Everything that decides the ISO's bytes, as one digest. */
static char *inputs_digest(const DcnDefinition *def, const struct stat *boot, const char *ks_arg, const char *ks_cfg,
                           const char *commit, GBytes *key)
{
    g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *head = g_strdup_printf("dcn-builder iso 1\nboot_iso=%s\nsize=%lld\nmtime=%lld.%09ld\nmode=%s\n"
                                            "arg=%s\ncommit=%s\nks=",
                                            def->iso_boot_iso, (long long)boot->st_size, (long long)boot->st_mtim.tv_sec,
                                            boot->st_mtim.tv_nsec, def->iso_mode, ks_arg, commit ? commit : "");
    g_checksum_update(c, (const guchar *)head, -1);
    if (ks_cfg)
        g_checksum_update(c, (const guchar *)ks_cfg, -1);
    if (key) {
        gsize len;
        const guchar *d = g_bytes_get_data(key, &len);
        g_checksum_update(c, (const guchar *)"\nkey=", -1);
        g_checksum_update(c, d, (gssize)len);
    }
    return g_strdup(g_checksum_get_string(c));
}

static gint64 mtime_ns(const struct stat *st) { return (gint64)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec; }

/* The earlier result says this ISO was written from these inputs, and the
 * file there is still that one. */
static gboolean unchanged(const DcnDefinition *def, const char *digest)
{
    g_autoptr(JsonObject) prev = dcn_state_read_result(def, "iso", NULL);
    struct stat st;
    return prev && g_strcmp0(json_object_get_string_member_with_default(prev, "inputs", NULL), digest) == 0 &&
           g_strcmp0(json_object_get_string_member_with_default(prev, "output", NULL), def->iso_output) == 0 &&
           stat(def->iso_output, &st) == 0 && S_ISREG(st.st_mode) &&
           json_object_get_int_member_with_default(prev, "size", -1) == (gint64)st.st_size &&
           json_object_get_int_member_with_default(prev, "mtime_ns", -1) == mtime_ns(&st);
}

/* One boot configuration file (extracted into work) with ks_arg on its
 * kernel lines. */
static gboolean edit_cfg(DcnStageCtx *ctx, const char *path, const char *what, DcnIsoCfgKind kind, const char *ks_arg,
                         gint64 epoch, GError **error)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
        return FALSE;
    guint lines = 0;
    g_autofree char *edited = dcn_iso_cfg_set_ks(text, kind, ks_arg, &lines);
    if (lines == 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "%s has no kernel command line (%s) to put inst.ks= on", what,
                           kind == DCN_ISO_CFG_ISOLINUX ? "append" : "linux/linuxefi"),
               FALSE;
    if (!write_file(path, edited, strlen(edited), epoch, error))
        return FALSE;
    dcn_progress_event(&ctx->progress, "boot-entries", "file=%s lines=%u", what, lines);
    return TRUE;
}

/* Locks against another iso run on the same output (the lock lives in
 * the state directory, not in the served one), then removes what a crashed
 * run left in the output directory (.<name>.tmp-*). */
static gboolean prepare_output_dir(const DcnDefinition *def, DcnLockFd **out_lock, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(def->iso_output);
    g_autofree char *base = g_path_get_basename(def->iso_output);
    if (g_mkdir_with_parents(dir, 0755) < 0 || g_mkdir_with_parents(def->state_dir, 0755) < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Creating %s: %s", dir, g_strerror(errno)),
               FALSE;
    g_autofree char *lock_path = g_build_filename(def->state_dir, "iso.lock", NULL);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", lock_path,
                           err == EWOULDBLOCK ? "another iso run of this definition is writing" : g_strerror(err)),
               FALSE;
    }
    *out_lock = g_new(int, 1);
    **out_lock = fd;
    g_autofree char *prefix = g_strdup_printf(".%s.tmp-", base);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)))
        if (g_str_has_prefix(name, prefix)) {
            g_autofree char *p = g_build_filename(dir, name, NULL);
            if (!dcn_rm_rf(p, error))
                return FALSE;
        }
    return TRUE;
}

/* The CA the installed device needs for the hoster's https URL. */
static gboolean read_ca(const DcnDefinition *def, char **out, GError **error)
{
    /* the CA devices trust for the repository's https URL: the kickstart's
     * own (kickstart.ca_file), else the one deploy verifies the URL with */
    *out = NULL;
    const char *key = def->kickstart_ca_file ? "kickstart.ca_file" : "deploy.ca_file";
    const char *path = def->kickstart_ca_file ? def->kickstart_ca_file : def->deploy_ca_file;
    if (!path)
        return TRUE;
    if (!g_file_get_contents(path, out, NULL, error))
        return g_prefix_error(error, "%s: ", key), FALSE;
    return TRUE;
}

/* What one iso run works from, read and checked before anything is written. */
typedef struct {
    struct stat boot;   /* iso.boot_iso */
    DcnIsoMedia media;  /* its label and boot files */
    char *ks_arg;       /* the inst.ks= argument for every boot entry */
    gboolean ks_changed;/* the published kickstart was rewritten */
    gint64 epoch;       /* the time the ISO's new files (and the ISO) get */
    DcnVersion *version;/* offline: the version on the ISO */
    char *ks_cfg;       /* offline: /ks.cfg */
    GBytes *key;        /* offline, signed repo: /<name>.gpg */
    char *digest;       /* all of the above that decides the ISO's bytes */
} IsoJob;

static void iso_job_clear(IsoJob *j)
{
    dcn_iso_media_clear(&j->media);
    g_free(j->ks_arg);
    g_clear_pointer(&j->version, dcn_version_free);
    g_free(j->ks_cfg);
    g_clear_pointer(&j->key, g_bytes_unref);
    g_free(j->digest);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IsoJob, iso_job_clear)

/* offline: the version, and ks.cfg from the published kickstart */
static gboolean read_version(const DcnDefinition *def, IsoJob *j, GError **error)
{
    g_autoptr(OstreeRepo) repo = NULL;
    if (!dcn_repo_open(def->repo, FALSE, &repo, error) || !find_version(def, repo, &j->version, error))
        return FALSE;
    j->epoch = (gint64)j->version->timestamp;
    g_autofree char *tmpl = NULL, *ca = NULL;
    if (!g_file_get_contents(def->kickstart_path, &tmpl, NULL, error) || !read_ca(def, &ca, error))
        return FALSE;
    if (def->gpg_key_id && !dcn_gpg_export_public_key(def, &j->key, error))
        return FALSE;
    g_autofree char *repo_url = dcn_iso_repo_url(def);
    DcnIsoKickstart in = {
        .template_text = tmpl,
        .name = def->name,
        .osname = def->osname,
        .ref = def->ref,
        .commit = j->version->commit,
        .version = def->version,
        .hoster_repo_url = repo_url,
        .gpg_key = j->key,
        .ca_pem = ca,
    };
    j->ks_cfg = dcn_iso_offline_kickstart(&in, error);
    if (!j->ks_cfg)
        return g_prefix_error(error, "ks.cfg: "), FALSE;
    return TRUE;
}

static gboolean read_inputs(DcnStageCtx *ctx, gboolean offline, IsoJob *j, GError **error)
{
    const DcnDefinition *def = ctx->def;
    if (!def->iso_boot_iso)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "iso.boot_iso is not set (--boot-iso): the installer boot ISO to start from"),
               FALSE;
    if (!def->deploy_url)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_DEFINITION,
                           "deploy.url is not set (--deploy-url): the URL devices reach dcn-hoster at"),
               FALSE;
    if (stat(def->iso_boot_iso, &j->boot) < 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_NOT_FOUND, "iso.boot_iso %s: %s",
                           def->iso_boot_iso, g_strerror(errno)),
               FALSE;
    if (!S_ISREG(j->boot.st_mode))
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "iso.boot_iso %s: not a file",
                           def->iso_boot_iso),
               FALSE;
    if (!dcn_iso_media_inspect(def->iso_boot_iso, &j->media, error))
        return g_prefix_error(error, "iso.boot_iso: "), FALSE;
    const DcnIsoMedia *m = &j->media;
    dcn_progress_event(&ctx->progress, "boot-iso", "path=%s label=%s isolinux=%s grub=%s efiboot=%s", def->iso_boot_iso,
                       m->label, m->isolinux ? "yes" : "no", m->grub ? "yes" : "no", m->efiboot ? "yes" : "no");
    if (!m->isolinux && !m->grub)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "iso.boot_iso %s has neither %s nor %s: not an installer boot ISO (RHEL's boot.iso has both)",
                           def->iso_boot_iso, DCN_ISO_ISOLINUX_CFG + 1, DCN_ISO_GRUB_CFG + 1),
               FALSE;
    if (offline) {
        g_autofree char *label = dcn_iso_label_escape(m->label);
        j->ks_arg = g_strdup_printf("inst.ks=hd:LABEL=%s:/ks.cfg", label);
    } else {
        g_autofree char *url = dcn_iso_kickstart_url(def);
        j->ks_arg = g_strconcat("inst.ks=", url, NULL);
    }
    const char *bad = dcn_iso_arg_check(j->ks_arg);
    if (bad)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "%s cannot go on the kernel command line: %s",
                           j->ks_arg, bad),
               FALSE;
    /* the kickstart: the one served (network) and the template of ks.cfg (offline) */
    if (!dcn_kickstart_write(def, &ctx->progress, &j->ks_changed, error))
        return FALSE;
    j->epoch = j->boot.st_mtim.tv_sec;
    if (offline && !read_version(def, j, error))
        return FALSE;
    j->digest = inputs_digest(def, &j->boot, j->ks_arg, j->ks_cfg, j->version ? j->version->commit : NULL, j->key);
    return TRUE;
}

/* Where the files put on the ISO are prepared, inside the work directory. */
typedef struct {
    char *isolinux, *grub, *efiboot; /* extracted from the boot ISO, then edited */
    char *efigrub;                   /* efiboot.img's grub.cfg, edited on its way back in */
    char *ks, *ostree, *key;         /* offline: ks.cfg, ostree/ (with repo/), <name>.gpg */
    char *key_iso;                   /* /<name>.gpg */
    DcnIsoMapping maps[8];
    guint n_maps;
} IsoFiles;

static void iso_files_clear(IsoFiles *f)
{
    g_free(f->isolinux), g_free(f->grub), g_free(f->efiboot), g_free(f->efigrub);
    g_free(f->ks), g_free(f->ostree), g_free(f->key), g_free(f->key_iso);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IsoFiles, iso_files_clear)

/* The boot entries: extracted, inst.ks= put on every kernel line. */
static gboolean edit_boot_files(DcnStageCtx *ctx, const IsoJob *j, const char *work, IsoFiles *f, GError **error)
{
    const DcnDefinition *def = ctx->def;
    const DcnIsoMedia *m = &j->media;
    g_autofree char *dir = g_build_filename(work, "files", NULL);
    f->isolinux = g_build_filename(dir, DCN_ISO_ISOLINUX_CFG, NULL);
    f->grub = g_build_filename(dir, DCN_ISO_GRUB_CFG, NULL);
    f->efiboot = g_build_filename(dir, DCN_ISO_EFIBOOT_IMG, NULL);
    f->efigrub = g_build_filename(work, "efiboot-grub.cfg", NULL);
    const char *extract[4];
    guint n = 0;
    if (m->isolinux)
        extract[n++] = DCN_ISO_ISOLINUX_CFG;
    if (m->grub)
        extract[n++] = DCN_ISO_GRUB_CFG;
    if (m->efiboot)
        extract[n++] = DCN_ISO_EFIBOOT_IMG;
    extract[n] = NULL;
    if (!dcn_iso_extract(def->iso_boot_iso, extract, dir, error))
        return FALSE;
    if (m->isolinux) {
        if (!edit_cfg(ctx, f->isolinux, DCN_ISO_ISOLINUX_CFG + 1, DCN_ISO_CFG_ISOLINUX, j->ks_arg, j->epoch, error))
            return FALSE;
        f->maps[f->n_maps++] = (DcnIsoMapping){f->isolinux, DCN_ISO_ISOLINUX_CFG};
    }
    if (m->grub) {
        if (!edit_cfg(ctx, f->grub, DCN_ISO_GRUB_CFG + 1, DCN_ISO_CFG_GRUB, j->ks_arg, j->epoch, error))
            return FALSE;
        f->maps[f->n_maps++] = (DcnIsoMapping){f->grub, DCN_ISO_GRUB_CFG};
    }
    if (!m->efiboot)
        return TRUE;
    /* the UEFI El Torito image: GRUB reads the grub.cfg beside it when
     * firmware boots it as a partition (the ISO on a USB stick) */
    gboolean absent = FALSE;
    g_autofree char *text = dcn_iso_fat_read(f->efiboot, DCN_ISO_EFIBOOT_GRUB_CFG, &absent, error);
    if (absent) {
        dcn_progress_event(&ctx->progress, "warning", "msg=\"images/efiboot.img has no EFI/BOOT/grub.cfg: left as it is\"");
        return TRUE;
    }
    if (!text || !g_file_set_contents(f->efigrub, text, -1, error) ||
        !edit_cfg(ctx, f->efigrub, "images/efiboot.img:EFI/BOOT/grub.cfg", DCN_ISO_CFG_GRUB, j->ks_arg, j->epoch,
                  error) ||
        !dcn_iso_fat_write(f->efiboot, DCN_ISO_EFIBOOT_GRUB_CFG, f->efigrub, error))
        return FALSE;
    f->maps[f->n_maps++] = (DcnIsoMapping){f->efiboot, DCN_ISO_EFIBOOT_IMG};
    return TRUE;
}

/* offline: ks.cfg, ostree/repo with the version, the public key. */
static gboolean add_version(DcnStageCtx *ctx, const IsoJob *j, const char *work, IsoFiles *f, GError **error)
{
    const DcnDefinition *def = ctx->def;
    f->ks = g_build_filename(work, "ks.cfg", NULL);
    if (!write_file(f->ks, j->ks_cfg, strlen(j->ks_cfg), j->epoch, error))
        return FALSE;
    f->maps[f->n_maps++] = (DcnIsoMapping){f->ks, "/ks.cfg"};
    /* /ostree as a directory of its own: its mode and time are ours, not
     * those xorriso gives a parent it makes */
    f->ostree = g_build_filename(work, "ostree", NULL);
    if (g_mkdir(f->ostree, 0755) < 0 || g_chmod(f->ostree, 0755) < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Creating %s: %s", f->ostree,
                           g_strerror(errno)),
               FALSE;
    g_autofree char *repo = g_build_filename(f->ostree, "repo", NULL);
    if (!pull_version(def, repo, j->version->commit, &ctx->progress, error))
        return FALSE;
    f->maps[f->n_maps++] = (DcnIsoMapping){f->ostree, "/ostree"};
    if (j->key) {
        f->key = g_build_filename(work, "key.gpg", NULL);
        f->key_iso = g_strdup_printf("/%s.gpg", def->name);
        gsize len;
        const char *data = g_bytes_get_data(j->key, &len);
        if (!write_file(f->key, data, len, j->epoch, error))
            return FALSE;
        f->maps[f->n_maps++] = (DcnIsoMapping){f->key, f->key_iso};
    }
    return TRUE;
}

/* Writes the ISO in a temporary directory beside the output, then renames
 * it into place; out_st: the published file. */
static gboolean build_and_publish(DcnStageCtx *ctx, const IsoJob *j, gboolean offline, struct stat *out_st,
                                  GError **error)
{
    const DcnDefinition *def = ctx->def;
    g_autofree char *dir = g_path_get_dirname(def->iso_output);
    g_autofree char *base = g_path_get_basename(def->iso_output);
    g_autofree char *name = g_strdup_printf(".%s.tmp-XXXXXX", base);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (!g_mkdtemp_full(path, 0700))
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Creating %s: %s", path, g_strerror(errno)),
               FALSE;
    g_autoptr(DcnTempDir) work = g_steal_pointer(&path);
    g_auto(IsoFiles) f = {0};
    if (!edit_boot_files(ctx, j, work, &f, error))
        return g_prefix_error(error, "iso.boot_iso %s: ", def->iso_boot_iso), FALSE;
    if (offline && !add_version(ctx, j, work, &f, error))
        return FALSE;
    if (dcn_interrupt_check(error))
        return FALSE;
    g_autofree char *out = g_build_filename(work, "out.iso", NULL);
    if (!dcn_iso_write(def->iso_boot_iso, out, f.maps, f.n_maps, j->epoch, &ctx->progress, error))
        return FALSE;
    /* the file keeps the time it was written at: dcn-hoster's ETag (size
     * and time) must change when the bytes may have (another deploy.url
     * gives an ISO of the same size), or a download resumed with If-Range
     * would mix two ISOs */
    int fd = open(out, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0 || fstat(fd, out_st) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", out, g_strerror(err)), FALSE;
    }
    close(fd);
    dcn_stage_step(ctx, "iso-written");
    if (g_rename(out, def->iso_output) < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Renaming %s to %s: %s", out,
                           def->iso_output, g_strerror(errno)),
               FALSE;
    /* the rename is durable once the directory is */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    dcn_progress_event(&ctx->progress, "published", "path=%s size=%lld", def->iso_output, (long long)out_st->st_size);
    return TRUE;
}

gboolean dcn_stage_iso(DcnStageCtx *ctx, GError **error)
{
    const DcnDefinition *def = ctx->def;
    gboolean offline = g_strcmp0(def->iso_mode, "offline") == 0;
    dcn_interrupt_install(); /* an interrupt stops xorriso, and the temp files go */
    g_auto(IsoJob) job = {0};
    if (!read_inputs(ctx, offline, &job, error))
        return FALSE;
    JsonObject *r = ctx->result;
    json_object_set_string_member(r, "output", def->iso_output);
    json_object_set_string_member(r, "mode", def->iso_mode);
    json_object_set_string_member(r, "label", job.media.label);
    json_object_set_string_member(r, "kernel_arg", job.ks_arg);
    if (job.version)
        json_object_set_string_member(r, "commit", job.version->commit);
    json_object_set_string_member(r, "inputs", job.digest);

    g_autoptr(DcnLockFd) lock = NULL;
    if (!prepare_output_dir(def, &lock, error))
        return FALSE;
    struct stat st;
    gboolean same = unchanged(def, job.digest);
    if (same && stat(def->iso_output, &st) == 0) {
        dcn_progress_event(&ctx->progress, "unchanged", "path=%s", def->iso_output);
    } else {
        same = FALSE;
        if (!build_and_publish(ctx, &job, offline, &st, error))
            return FALSE;
    }
    json_object_set_int_member(r, "size", (gint64)st.st_size);
    json_object_set_int_member(r, "mtime_ns", mtime_ns(&st));
    json_object_set_boolean_member(r, "kickstart_changed", job.ks_changed);
    json_object_set_boolean_member(r, "changed", job.ks_changed || !same);
    return TRUE;
}
