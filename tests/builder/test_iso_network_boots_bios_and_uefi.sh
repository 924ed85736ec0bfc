#!/bin/bash
# `dcn-builder iso` in network mode, from a stand-in of RHEL's boot.iso
# (tests/iso/make-boot-iso.sh: same layout, Debian's kernel, an initramfs
# that prints its command line): every boot entry gets
# inst.ks=<deploy.url>/dcn-edge.ks, the label, the El Torito BIOS and UEFI
# images, the hybrid partitions and every other file stay as they were; the
# ISO boots in QEMU through BIOS (isolinux), UEFI from the CD (the ISO's
# EFI/BOOT/grub.cfg) and UEFI from its EFI partition (the grub.cfg inside
# images/efiboot.img), and the kernel gets the argument each time. A rerun
# changes nothing; dcn-hoster serves the ISO with Range (a cut download
# resumes) and package puts it in the hosting image.
source "$(dirname "$0")/lib.sh"
source "$DCN_SOURCE_DIR/tests/iso/lib.sh"
iso_need_tools
need_hoster "the ISO is served by it"
cd "$T"
make_boot_iso boot.iso
make_tree rootfs 1
write_def def.yaml "iso:" "  boot_iso: ./boot.iso"
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose"
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish"
hoster_start hoster --root "$T/root"

out=$(builder iso -f def.yaml --deploy-url "$URL/" --json 2>iso.err) || { cat iso.err >&2; fail "iso"; }
iso=$T/root/dcn-edge-1.0.0.iso
arg="inst.ks=$URL/dcn-edge.ks"
[[ -f $iso ]] || fail "no ISO at $iso (default: next to the kickstart, named for the version)"
[[ $(json_get "$out" kernel_arg) == "$arg" && $(json_get "$out" changed) == true && $(json_get "$out" mode) == network &&
   $(json_get "$out" label) == RHEL-9-4-0-BaseOS-x86_64 ]] || fail "iso result: $out"
pass "iso wrote $(stat -c %s "$iso") bytes: $arg"

# what the ISO holds: the boot equipment as it was, three files edited, the rest the same
diff <(boot_equipment boot.iso) <(boot_equipment "$iso") || fail "volume label, El Torito images or partitions changed"
iso_get boot.iso / before
iso_get "$iso" / after
chmod -R u+w before after
for f in isolinux/isolinux.cfg EFI/BOOT/grub.cfg; do
    n=$(grep -c " $arg\$" "after/$f" || true)
    [[ $n == 3 ]] || fail "$f: $n lines end with $arg, expected 3 (every kernel line)"
    sed "s| $arg\$||" "after/$f" | cmp -s - "before/$f" || fail "$f: more changed than inst.ks="
done
export MTOOLS_SKIP_CHECK=1
mtype -i after/images/efiboot.img ::/EFI/BOOT/grub.cfg >efi-after.cfg
mtype -i before/images/efiboot.img ::/EFI/BOOT/grub.cfg >efi-before.cfg
[[ $(grep -c " $arg\$" efi-after.cfg) == 3 ]] || fail "images/efiboot.img's grub.cfg: inst.ks= not on every linux line"
sed "s| $arg\$||" efi-after.cfg | cmp -s - efi-before.cfg || fail "images/efiboot.img's grub.cfg: more changed than inst.ks="
mcopy -i after/images/efiboot.img ::/EFI/BOOT/BOOTX64.EFI efi-after.efi
cmp -s efi-after.efi before/EFI/BOOT/BOOTX64.EFI || fail "images/efiboot.img's BOOTX64.EFI changed"
# isolinux.bin carries a boot info table (bytes 8-63: block addresses, patched
# for the new layout), boot.cat the boot images' block addresses
python3 -c 'import sys; a,b=(open(f,"rb").read() for f in sys.argv[1:]); sys.exit(a[:8]+a[64:] != b[:8]+b[64:])' \
    before/isolinux/isolinux.bin after/isolinux/isolinux.bin || fail "isolinux.bin changed beyond its boot info table"
diff -r -q -x isolinux.cfg -x grub.cfg -x efiboot.img -x isolinux.bin -x boot.cat before after || fail "other files on the ISO changed"
pass "label, El Torito BIOS+UEFI, hybrid MBR/GPT kept; inst.ks= on the 3 entries of isolinux.cfg, grub.cfg, efiboot.img's grub.cfg; nothing else changed"

# the kernel gets it: BIOS, UEFI from the CD, UEFI from the EFI partition
for fw in bios uefi uefi-esp; do
    cmdline=$(boot_cmdline "$iso" "$fw")
    n=$(tr ' ' '\n' <<<"$cmdline" | grep -c '^inst\.ks=' || true)
    [[ $n == 1 ]] && tr ' ' '\n' <<<"$cmdline" | grep -qx "$arg" || fail "$fw: kernel command line [$cmdline]: want $arg once"
    tr ' ' '\n' <<<"$cmdline" | grep -qx 'inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64' || fail "$fw: inst.stage2 lost: [$cmdline]"
    pass "boots through $fw, kernel command line: $cmdline"
done

# what inst.ks= names is served
curl -fsS "$URL/dcn-edge.ks" | grep -q '^ostreesetup ' || fail "$URL/dcn-edge.ks is not the served kickstart"
pass "the kickstart inst.ks= names is served"

# a rerun with the same inputs changes nothing
before_stat=$(stat -c '%i %Y %s' "$iso")
out=$(builder iso -f def.yaml --deploy-url "$URL/" --json 2>/dev/null) || fail "iso rerun"
[[ $(json_get "$out" changed) == false && $(stat -c '%i %Y %s' "$iso") == "$before_stat" ]] || fail "rerun changed something: $out"
[[ -z $(find root -name '.*.tmp-*') ]] || fail "temporary files left in the served directory"
pass "rerun: changed=false, the same file"

# dcn-hoster serves it with Range: a download cut after 1 MiB resumes
hdr=$(curl -fsSI "$URL/dcn-edge-1.0.0.iso" | tr -d '\r')
grep -qi '^content-type: application/vnd.efi.iso$' <<<"$hdr" || fail "Content-Type of the ISO: $hdr"
grep -qi '^accept-ranges: bytes$' <<<"$hdr" || fail "no Accept-Ranges: $hdr"
curl -fsS -r 0-1048575 -o part.iso "$URL/dcn-edge-1.0.0.iso" || fail "first part"
[[ $(stat -c %s part.iso) == 1048576 ]] || fail "first part is $(stat -c %s part.iso) bytes"
code=$(curl -fsS -C - -o part.iso -w '%{http_code}' "$URL/dcn-edge-1.0.0.iso") || fail "resume"
[[ $code == 206 ]] || fail "resume got HTTP $code, expected 206"
cmp -s part.iso "$iso" || fail "the resumed download differs from the ISO"
pass "served as application/vnd.efi.iso; a download cut after 1 MiB resumed with a 206 to the same bytes"

# the hosting image carries it, in a layer of its own
out=$(builder package -f def.yaml --json 2>/dev/null) || fail "package"
layout=$(json_get "$out" layout)
digest=$(python3 -c 'import json,sys; print([l["digest"] for l in json.loads(sys.argv[1])["layers"] if l["role"]=="iso"][0])' "$out") ||
    fail "no iso layer in $out"
tar -tvzf "$layout/blobs/sha256/${digest#sha256:}" | grep -q " $(stat -c %s "$iso") .* srv/dcn/content/dcn-edge-1.0.0.iso$" ||
    fail "the iso layer does not hold srv/dcn/content/dcn-edge-1.0.0.iso"
pass "package: layer role=iso holds /srv/dcn/content/dcn-edge-1.0.0.iso"
