/* media: reading and rewriting ISO images with xorriso, and the FAT image
 * inside (images/efiboot.img) with mtools (iso.h). */
#include "iso.h"

#include "cmd.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define ISO_SECTOR 2048
#define XORRISO_TIMEOUT_S 7200 /* writing a DVD-sized image onto a slow disk */
#define MTOOLS_TIMEOUT_S 120

void dcn_iso_media_clear(DcnIsoMedia *m)
{
    g_clear_pointer(&m->label, g_free);
}

/* The primary volume descriptor (ECMA-119 8.4): sector 16, type 1,
 * "CD001", the volume identifier at byte 40 (32 characters, space-padded). */
static gboolean read_pvd_label(const char *iso, char **out, GError **error)
{
    int fd = open(iso, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", iso, g_strerror(errno)), FALSE;
    guchar pvd[ISO_SECTOR];
    ssize_t got = pread(fd, pvd, sizeof pvd, 16 * ISO_SECTOR);
    int err = errno;
    close(fd);
    if (got < 0)
        return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "%s: %s", iso, g_strerror(err)), FALSE;
    if (got != (ssize_t)sizeof pvd || pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "%s is not an ISO 9660 image (no primary volume descriptor at sector 16)", iso),
               FALSE;
    size_t len = 32;
    while (len && (pvd[40 + len - 1] == ' ' || pvd[40 + len - 1] == '\0'))
        len--;
    if (!len)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT,
                           "%s has no volume label: the installer finds its media by the label", iso),
               FALSE;
    *out = g_strndup((const char *)pvd + 40, len);
    return TRUE;
}

gboolean dcn_iso_media_inspect(const char *iso, DcnIsoMedia *out, GError **error)
{
    memset(out, 0, sizeof *out);
    if (!read_pvd_label(iso, &out->label, error))
        return FALSE;
    /* -lsd reports the paths that exist as R:1: '<path>' lines */
    const char *argv[] = {"xorriso", "-indev", iso, "-pkt_output", "on", "-lsd",
                          DCN_ISO_ISOLINUX_CFG, DCN_ISO_GRUB_CFG, DCN_ISO_EFIBOOT_IMG, NULL};
    DcnCmd cmd = {.argv = argv, .timeout_s = 600};
    g_auto(DcnCmdResult) res = {0};
    if (!dcn_cmd_run(&cmd, &res, error))
        return g_prefix_error(error, "Reading %s: ", iso), FALSE;
    g_auto(GStrv) lines = g_strsplit(res.out, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!g_str_has_prefix(*l, "R:1: '"))
            continue;
        const char *path = *l + 6;
        if (g_str_has_prefix(path, DCN_ISO_ISOLINUX_CFG "'"))
            out->isolinux = TRUE;
        else if (g_str_has_prefix(path, DCN_ISO_GRUB_CFG "'"))
            out->grub = TRUE;
        else if (g_str_has_prefix(path, DCN_ISO_EFIBOOT_IMG "'"))
            out->efiboot = TRUE;
    }
    return TRUE;
}

gboolean dcn_iso_extract(const char *iso, const char *const *files, const char *dir, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup("xorriso"));
    g_ptr_array_add(argv, g_strdup("-osirrox"));
    g_ptr_array_add(argv, g_strdup("on"));
    g_ptr_array_add(argv, g_strdup("-indev"));
    g_ptr_array_add(argv, g_strdup(iso));
    for (const char *const *f = files; *f; f++) {
        g_autofree char *dest = g_build_filename(dir, *f, NULL);
        g_autofree char *parent = g_path_get_dirname(dest);
        if (g_mkdir_with_parents(parent, 0700) < 0)
            return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Creating %s: %s", parent,
                               g_strerror(errno)),
                   FALSE;
        g_ptr_array_add(argv, g_strdup("-extract"));
        g_ptr_array_add(argv, g_strdup(*f));
        g_ptr_array_add(argv, g_steal_pointer(&dest));
    }
    g_ptr_array_add(argv, NULL);
    DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = 600};
    if (!dcn_cmd_run(&cmd, NULL, error))
        return g_prefix_error(error, "Extracting boot files from %s: ", iso), FALSE;
    for (const char *const *f = files; *f; f++) {
        g_autofree char *dest = g_build_filename(dir, *f, NULL);
        if (g_chmod(dest, 0644) < 0) /* ISO files come out read-only */
            return g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s from %s: %s", *f, iso,
                               g_strerror(errno)),
                   FALSE;
    }
    return TRUE;
}

char *dcn_iso_fat_read(const char *img, const char *file, gboolean *out_absent, GError **error)
{
    *out_absent = FALSE;
    /* MTOOLS_SKIP_CHECK: boot images need not have a floppy's geometry */
    const char *argv[] = {"env", "MTOOLS_SKIP_CHECK=1", "mtype", "-i", img, file, NULL};
    DcnCmd cmd = {.argv = argv, .timeout_s = MTOOLS_TIMEOUT_S, .allow_fail = TRUE};
    g_auto(DcnCmdResult) res = {0};
    if (!dcn_cmd_run(&cmd, &res, error))
        return g_prefix_error(error, "Reading %s in %s: ", file, img), NULL;
    if (res.status != 0 && strstr(res.err, "not found")) {
        *out_absent = TRUE;
        return NULL;
    }
    if (res.status != 0)
        return g_set_error(error, DCN_BUILDER_ERROR, DCN_BUILDER_ERROR_INPUT, "Reading %s in %s: mtype: %s", file, img,
                           g_strstrip(res.err)),
               NULL;
    return g_steal_pointer(&res.out);
}

gboolean dcn_iso_fat_write(const char *img, const char *file, const char *src, GError **error)
{
    /* -o: replace; -m: the source's modification time (set by the caller), so the image is reproducible */
    const char *argv[] = {"env", "MTOOLS_SKIP_CHECK=1", "mcopy", "-o", "-m", "-i", img, src, file, NULL};
    DcnCmd cmd = {.argv = argv, .timeout_s = MTOOLS_TIMEOUT_S};
    if (!dcn_cmd_run(&cmd, NULL, error))
        return g_prefix_error(error, "Writing %s in %s: ", file, img), FALSE;
    return TRUE;
}

gboolean dcn_iso_write(const char *in, const char *out, const DcnIsoMapping *maps, guint n_maps, gint64 epoch,
                       DcnProgress *progress, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
#define ARG(s) g_ptr_array_add(argv, g_strdup(s))
    ARG("env");
    g_ptr_array_add(argv, g_strdup_printf("SOURCE_DATE_EPOCH=%" G_GINT64_FORMAT, epoch));
    ARG("xorriso");
    ARG("-indev");
    ARG(in);
    ARG("-outdev");
    ARG(out);
    /* the El Torito images (BIOS isolinux.bin with its boot info table, the
     * UEFI efiboot.img) and the hybrid MBR/GPT, as the boot ISO has them,
     * pointing at the files as they are in the new image */
    ARG("-boot_image");
    ARG("any");
    ARG("replay");
    for (guint i = 0; i < n_maps; i++) {
        ARG("-map");
        ARG(maps[i].disk_path);
        ARG(maps[i].iso_path);
    }
    static const char *const fix[][2] = {{"-chown_r", "0"}, {"-chgrp_r", "0"}, {"-alter_date_r", "b"}};
    for (size_t k = 0; k < G_N_ELEMENTS(fix) && n_maps; k++) {
        ARG(fix[k][0]);
        ARG(fix[k][1]);
        if (strcmp(fix[k][0], "-alter_date_r") == 0)
            g_ptr_array_add(argv, g_strdup_printf("=%" G_GINT64_FORMAT, epoch));
        for (guint i = 0; i < n_maps; i++)
            ARG(maps[i].iso_path);
        ARG("--");
    }
#undef ARG
    g_ptr_array_add(argv, NULL);
    dcn_progress_event(progress, "xorriso", "in=%s out=%s files_put=%u", in, out, n_maps);
    DcnCmd cmd = {.argv = (const char *const *)argv->pdata, .timeout_s = XORRISO_TIMEOUT_S};
    if (!dcn_cmd_run(&cmd, NULL, error))
        return g_prefix_error(error, "Writing %s: ", out), FALSE;
    return TRUE;
}
