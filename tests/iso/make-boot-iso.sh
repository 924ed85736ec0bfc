#!/bin/bash
# A stand-in for RHEL's installer boot.iso (which cannot be downloaded here),
# with the same layout and boot equipment as lorax makes it (lorax's
# share/templates.d/99-generic x86 template and its mkisofs call):
#   volume label   RHEL-9-4-0-BaseOS-x86_64 (or $2)
#   isolinux/      isolinux.bin, ldlinux.c32, isolinux.cfg (BIOS El Torito, boot.cat)
#   EFI/BOOT/      BOOTX64.EFI, grub.cfg
#   images/efiboot.img  FAT image with EFI/BOOT/BOOTX64.EFI and a copy of grub.cfg
#                       (the UEFI El Torito image; GRUB reads the grub.cfg beside it)
#   images/pxeboot/     vmlinuz, initrd.img
#   .discinfo
# Boot entries as RHEL's: "linux" (install) and "check" (default), a rescue
# entry, `inst.stage2=hd:LABEL=<label>` on each; GRUB first searches the
# ISO by its label, as RHEL's grub.cfg does. The kernel is Debian's own; the
# initramfs is busybox with an init that prints "DCN-CMDLINE: <cmdline>" to
# the console (console=ttyS0 is on every entry) and powers off. What differs
# from RHEL: GRUB is Debian's grub-mkimage'd BOOTX64.EFI (no shim), menus
# time out at once, and there is no stage2.
#
# usage: make-boot-iso.sh OUT.iso [LABEL]
# needs: xorriso, isolinux + syslinux-common, grub-efi-amd64-bin, mtools,
#        dosfstools, busybox-static, a kernel (/boot/vmlinuz-* or $DCN_TEST_KERNEL)
# exit 77 (with the reason on stderr) when one of them is missing.
set -euo pipefail
out=${1:?usage: make-boot-iso.sh OUT.iso [LABEL]}
label=${2:-RHEL-9-4-0-BaseOS-x86_64}

skip() { echo "make-boot-iso: $*" >&2; exit 77; }
for t in xorriso grub-mkimage mkfs.vfat mcopy mmd; do
    command -v "$t" >/dev/null || skip "$t not found (Debian: xorriso grub-efi-amd64-bin dosfstools mtools)"
done
[[ -f /usr/lib/ISOLINUX/isolinux.bin && -f /usr/lib/syslinux/modules/bios/ldlinux.c32 ]] ||
    skip "isolinux.bin/ldlinux.c32 not found (Debian: isolinux syslinux-common)"
[[ -d /usr/lib/grub/x86_64-efi ]] || skip "no GRUB x86_64-efi modules (Debian: grub-efi-amd64-bin)"
busybox=/bin/busybox
file "$busybox" 2>/dev/null | grep -q dynamic && skip "$busybox is not static (Debian: busybox-static)"
[[ -x $busybox ]] || skip "no busybox (Debian: busybox-static)"
kernel=${DCN_TEST_KERNEL:-}
if [[ -z $kernel ]]; then
    kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 || true)
fi
[[ -n $kernel && -r $kernel ]] || skip "no kernel: no /boot/vmlinuz-* (Debian: linux-image-cloud-amd64) and no DCN_TEST_KERNEL"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree"/isolinux "$tree"/EFI/BOOT "$tree"/images/pxeboot

# initramfs: busybox and an init that reports the command line
ird=$work/initrd
mkdir -p "$ird"/bin "$ird"/proc "$ird"/dev "$ird"/sys
cp "$busybox" "$ird"/bin/busybox
cat >"$ird"/init <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox echo "DCN-CMDLINE: $(/bin/busybox cat /proc/cmdline)"
/bin/busybox sync
/bin/busybox poweroff -f
INIT
chmod 755 "$ird"/init
(cd "$ird" && find . | sort | "$busybox" cpio -o -H newc 2>/dev/null | gzip -9 -n) >"$tree"/images/pxeboot/initrd.img
cp "$kernel" "$tree"/images/pxeboot/vmlinuz

# BIOS: isolinux, entries as RHEL's (text menu instead of vesamenu)
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tree"/isolinux/
cat >"$tree"/isolinux/isolinux.cfg <<CFG
default check
prompt 0
timeout 1
serial 0 115200

label linux
  menu label ^Install Red Hat Enterprise Linux 9.4
  kernel /images/pxeboot/vmlinuz
  append initrd=/images/pxeboot/initrd.img inst.stage2=hd:LABEL=$label console=ttyS0 quiet
label check
  menu label Test this ^media & install Red Hat Enterprise Linux 9.4
  menu default
  kernel /images/pxeboot/vmlinuz
  append initrd=/images/pxeboot/initrd.img inst.stage2=hd:LABEL=$label rd.live.check console=ttyS0 quiet
label rescue
  menu label ^Rescue a Red Hat Enterprise Linux system
  kernel /images/pxeboot/vmlinuz
  append initrd=/images/pxeboot/initrd.img inst.stage2=hd:LABEL=$label inst.rescue console=ttyS0 quiet
CFG

# UEFI: GRUB with its prefix on the device it was loaded from (the El
# Torito image), so it reads the grub.cfg inside efiboot.img; that config
# finds the ISO by label and boots the kernel from it, as RHEL's does.
cat >"$tree"/EFI/BOOT/grub.cfg <<CFG
set default="1"

function load_video {
  insmod all_video
}

load_video
set gfxpayload=keep
insmod gzio
insmod part_gpt
insmod iso9660
serial --unit=0 --speed=115200
terminal_output serial console

set timeout=0
### END /etc/grub.d/00_header ###

echo "grub: root=\$root prefix=\$prefix cmdpath=\$cmdpath"
search --no-floppy --set=root -l '$label'

### BEGIN /etc/grub.d/10_linux ###
menuentry 'Install Red Hat Enterprise Linux 9.4' --class fedora --class gnu-linux --class gnu --class os {
	linux /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=$label console=ttyS0 quiet
	initrd /images/pxeboot/initrd.img
}
menuentry 'Test this media & install Red Hat Enterprise Linux 9.4' --class fedora --class gnu-linux --class gnu --class os {
	linux /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=$label rd.live.check console=ttyS0 quiet
	initrd /images/pxeboot/initrd.img
}
submenu 'Troubleshooting -->' {
	menuentry 'Rescue a Red Hat Enterprise Linux system' --class fedora --class gnu-linux --class gnu --class os {
		linux /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=$label inst.rescue console=ttyS0 quiet
		initrd /images/pxeboot/initrd.img
	}
}
CFG
grub-mkimage -O x86_64-efi -o "$tree"/EFI/BOOT/BOOTX64.EFI -p /EFI/BOOT \
    part_gpt part_msdos fat iso9660 normal configfile linux search search_label echo test \
    all_video efi_gop gzio serial terminal halt reboot

# efiboot.img: a FAT image holding BOOTX64.EFI and the grub.cfg copy
efi=$tree/images/efiboot.img
truncate -s 4M "$efi"
mkfs.vfat -n ANACONDA "$efi" >/dev/null
mmd -i "$efi" ::/EFI ::/EFI/BOOT
mcopy -i "$efi" "$tree"/EFI/BOOT/BOOTX64.EFI "$tree"/EFI/BOOT/grub.cfg ::/EFI/BOOT/

printf '%s\n' "1714000000.000000" "Red Hat Enterprise Linux 9.4" "x86_64" >"$tree"/.discinfo

# lorax's call: BIOS isolinux El Torito, then the EFI image, hybrid MBR+GPT
xorriso -as mkisofs -o "$out".tmp \
    -b isolinux/isolinux.bin -c isolinux/boot.cat -boot-info-table -no-emul-boot -boot-load-size 4 \
    -eltorito-alt-boot -e images/efiboot.img -no-emul-boot -isohybrid-gpt-basdat \
    -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
    -R -J -V "$label" "$tree" 2>"$work"/xorriso.log ||
    { cat "$work"/xorriso.log >&2; exit 1; }
mv "$out".tmp "$out"
