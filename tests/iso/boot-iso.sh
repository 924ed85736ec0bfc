#!/bin/bash
# Boots an ISO in QEMU (software emulation) and prints the kernel command
# line the stand-in initramfs (make-boot-iso.sh) reported: the text after
# "DCN-CMDLINE: ". The default menu entry boots; the guest powers off.
#   bios       the ISO as a CD: SeaBIOS -> El Torito -> isolinux (isolinux/isolinux.cfg)
#   uefi       the ISO as a CD: OVMF -> El Torito EFI image -> GRUB, whose
#              root is the CD: it reads the ISO's EFI/BOOT/grub.cfg
#   uefi-esp   what firmware that boots a stick's EFI partition
#              (images/efiboot.img, partition 2 of the hybrid MBR/GPT) does:
#              OVMF boots the ISO's efiboot.img as a disk -> GRUB, whose
#              root is that FAT filesystem: it reads the grub.cfg inside
#              efiboot.img, then finds the ISO (a CD here) by its label.
#              (OVMF itself, given the whole ISO as a disk, boots its El
#              Torito image as from a CD: the overlapping hybrid
#              partitions are not valid to it.)
# The serial console goes to a file.
#
# usage: boot-iso.sh ISO bios|uefi|uefi-esp [TIMEOUT_S]     (default 300)
# exit 0 and the command line; 1 no command line within the time (the
# serial log goes to stderr); 77 when QEMU or OVMF is missing.
set -euo pipefail
iso=${1:?usage: boot-iso.sh ISO bios|uefi|uefi-esp [TIMEOUT_S]}
fw=${2:?usage: boot-iso.sh ISO bios|uefi|uefi-esp [TIMEOUT_S]}
limit=${3:-300}
command -v qemu-system-x86_64 >/dev/null || { echo "boot-iso: no qemu-system-x86_64 (Debian: qemu-system-x86)" >&2; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(-machine q35 -accel tcg -m 512 -smp 1 -nographic -no-reboot -nodefaults
      -serial "file:$work/serial.log" -monitor none)
if [[ $fw == uefi-esp ]]; then
    xorriso -osirrox on -indev "$iso" -extract /images/efiboot.img "$work"/esp.img >/dev/null 2>&1 ||
        { echo "boot-iso: $iso has no /images/efiboot.img" >&2; exit 1; }
    chmod u+w "$work"/esp.img
    args+=(-drive "if=none,id=esp,format=raw,file=$work/esp.img" -device virtio-blk-pci,drive=esp,bootindex=0
           -drive "if=none,id=cd,media=cdrom,readonly=on,file=$iso" -device ide-cd,drive=cd,bootindex=1)
else
    args+=(-cdrom "$iso" -boot d)
fi
if [[ $fw == uefi || $fw == uefi-esp ]]; then
    code=/usr/share/OVMF/OVMF_CODE.fd vars=/usr/share/OVMF/OVMF_VARS.fd
    [[ -r $code && -r $vars ]] || { echo "boot-iso: no $code/$vars (Debian: ovmf)" >&2; exit 77; }
    cp "$vars" "$work"/vars.fd
    args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
           -drive "if=pflash,format=raw,unit=1,file=$work/vars.fd")
elif [[ $fw != bios ]]; then
    echo "boot-iso: firmware must be bios, uefi or uefi-esp, not '$fw'" >&2; exit 2
fi
rc=0
timeout --kill-after=10 "$limit" qemu-system-x86_64 "${args[@]}" </dev/null >"$work"/qemu.out 2>&1 || rc=$?
line=$(tr -d '\r' <"$work"/serial.log | grep -a -o -m1 'DCN-CMDLINE: .*' || true)
if [[ -z $line ]]; then
    echo "boot-iso: no DCN-CMDLINE line from $iso ($fw, qemu exit $rc); serial log:" >&2
    tr -d '\r' <"$work"/serial.log >&2
    cat "$work"/qemu.out >&2
    exit 1
fi
echo "${line#DCN-CMDLINE: }"
