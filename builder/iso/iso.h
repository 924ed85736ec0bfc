/* iso: the installer ISO (`dcn-builder iso`, docs/builder.md#iso).
 *
 * Starts from the installer boot ISO the operator provides (RHEL's
 * boot.iso) and rewrites it with xorriso, keeping its volume label, its El
 * Torito BIOS and UEFI boot images and everything else:
 *   network  every boot entry (isolinux/isolinux.cfg, EFI/BOOT/grub.cfg and
 *            the grub.cfg inside images/efiboot.img) gets
 *            inst.ks=<deploy.url>/<name>.ks: the kickstart dcn-hoster serves,
 *            so the ISO stays small and installs the newest version;
 *   offline  the version itself is on the ISO: ks.cfg (the published
 *            kickstart with dcn-hoster's placeholders filled for the ISO),
 *            the commit and its objects in ostree/repo, and
 *            inst.ks=hd:LABEL=<label>:/ks.cfg on every boot entry.
 *
 * This header: the pure parts (boot configuration edits, the label as a
 * kernel argument, the offline kickstart), which the unit tests drive, and
 * the ISO reading and writing around xorriso and mtools (media.c). */
#ifndef DCN_BUILDER_ISO_H
#define DCN_BUILDER_ISO_H

#include <glib.h>

#include "definition.h"
#include "progress.h"

/* Where the installer finds the ISO it booted from, and the ISO's repo. */
#define DCN_ISO_MEDIA_URL "file:///run/install/repo"
#define DCN_ISO_REPO_URL DCN_ISO_MEDIA_URL "/ostree/repo"

/* ---- where devices reach dcn-hoster (iso.c) ---- */

/* <deploy.url>/<kickstart.path's name>: the kickstart as the hosting image
 * serves it (network mode's inst.ks=). def->deploy_url must be set. */
char *dcn_iso_kickstart_url(const DcnDefinition *def);
/* <deploy.url>/repo: the repository as the hosting image serves it (the
 * remote an offline-installed device upgrades from). */
char *dcn_iso_repo_url(const DcnDefinition *def);

/* ---- boot configuration (bootcfg.c) ---- */

typedef enum {
    DCN_ISO_CFG_ISOLINUX, /* isolinux.cfg: kernel arguments on `append` lines */
    DCN_ISO_CFG_GRUB,     /* grub.cfg: kernel arguments on `linux`, `linuxefi`, `linux16` lines */
} DcnIsoCfgKind;

/* cfg with ks_arg (a whole "inst.ks=..." argument) on every kernel command
 * line, as lorax's mkksiso does (the rescue and media check entries too: a
 * boot ISO's entries all start the installer). An inst.ks= or ks= already
 * on a line is replaced, so the edit is idempotent. Line endings are kept.
 * *out_lines (may be NULL): how many lines carry ks_arg now. */
char *dcn_iso_cfg_set_ks(const char *cfg, DcnIsoCfgKind kind, const char *ks_arg, guint *out_lines);

/* A volume label as udev writes it under /dev/disk/by-label (what
 * hd:LABEL= matches): characters outside [A-Za-z0-9#+.:=@_-] as \xNN. */
char *dcn_iso_label_escape(const char *label);

/* NULL when s can be a kernel argument in both isolinux.cfg and grub.cfg
 * as it is (no quoting needed: no space, quote, '$', ';', '\', '#', '{',
 * '}', control character), else what is wrong. */
const char *dcn_iso_arg_check(const char *s);

/* ---- the offline kickstart (offline_ks.c) ---- */

typedef struct {
    const char *template_text; /* the published kickstart, with dcn-hoster's @...@ placeholders */
    const char *name;          /* image name: <name>.gpg, /etc/pki/<name>-... */
    const char *osname;        /* the stateroot and remote (ostreesetup --osname/--remote) */
    const char *ref;
    const char *commit;        /* the version's commit on the ISO */
    const char *version;
    const char *hoster_repo_url; /* the repository as dcn-hoster serves it: the installed device's remote */
    GBytes *gpg_key;           /* the public key for a signed repo, or NULL (unsigned: gpg-verify=false) */
    const char *ca_pem;        /* CA the device trusts for hoster_repo_url (https), or NULL */
} DcnIsoKickstart;

/* The kickstart that goes on the offline ISO as /ks.cfg: the published
 * template with the placeholders filled as dcn-hoster would fill them for
 * an installer whose server is the ISO (@URL@ = file:///run/install/repo,
 * where the ISO also carries <name>.gpg; @REPO_URL@ = its ostree/repo;
 * @REF@; @COMMIT@) in commands, comment lines left as they are; then a
 * %post that points the installed device's remote at hoster_repo_url with
 * the GPG key and CA it needs, so upgrades come from dcn-hoster; and a pair
 * of %post --nochroot that make the ISO visible at the same path to the
 * %post scripts in between (they run in the installed system). NULL with
 * error when a value cannot be written safely into the kickstart. */
char *dcn_iso_offline_kickstart(const DcnIsoKickstart *in, GError **error);

/* ---- reading and writing ISOs (media.c) ---- */

/* What the boot ISO holds that the stage edits. */
typedef struct {
    char *label;        /* the volume id */
    gboolean isolinux;  /* /isolinux/isolinux.cfg */
    gboolean grub;      /* /EFI/BOOT/grub.cfg */
    gboolean efiboot;   /* /images/efiboot.img */
} DcnIsoMedia;

void dcn_iso_media_clear(DcnIsoMedia *m);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DcnIsoMedia, dcn_iso_media_clear)

#define DCN_ISO_ISOLINUX_CFG "/isolinux/isolinux.cfg"
#define DCN_ISO_GRUB_CFG "/EFI/BOOT/grub.cfg"
#define DCN_ISO_EFIBOOT_IMG "/images/efiboot.img"
#define DCN_ISO_EFIBOOT_GRUB_CFG "::/EFI/BOOT/grub.cfg" /* inside efiboot.img, as mtools names it */

/* Reads iso's volume id and which boot files it has (xorriso). A file that
 * is not an ISO 9660 image is a DCN_BUILDER_ERROR_INPUT error. */
gboolean dcn_iso_media_inspect(const char *iso, DcnIsoMedia *out, GError **error);

/* Copies files (ISO paths, NULL-terminated) out of iso into dir, each at
 * dir + its ISO path, writable. */
gboolean dcn_iso_extract(const char *iso, const char *const *files, const char *dir, GError **error);

/* The text of file (mtools' ::/path) inside the FAT image img; NULL with
 * *out_absent TRUE (and no error) when the image has no such file. */
char *dcn_iso_fat_read(const char *img, const char *file, gboolean *out_absent, GError **error);
/* Replaces file inside img with the contents of src. */
gboolean dcn_iso_fat_write(const char *img, const char *file, const char *src, GError **error);

/* One file or tree to put on the new ISO. */
typedef struct {
    const char *disk_path;
    const char *iso_path;
} DcnIsoMapping;

/* Writes out (a new file) from in with the mappings put in (replacing what
 * is there) and the El Torito boot equipment and system area replayed
 * (xorriso -boot_image any replay). Files put in get owner 0:0 and the
 * time epoch; with SOURCE_DATE_EPOCH=epoch for xorriso, the same inputs give
 * the same bytes. */
gboolean dcn_iso_write(const char *in, const char *out, const DcnIsoMapping *maps, guint n_maps, gint64 epoch,
                       DcnProgress *progress, GError **error);

#endif
