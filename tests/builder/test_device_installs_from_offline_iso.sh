#!/bin/bash
# A device installed from the offline ISO, then kept up to date by
# dcn-hoster: the ISO of signed 1.0.0 (`dcn-builder iso`, mode offline,
# deploy.url = the hoster) is read back with xorriso; its ks.cfg's
# ostreesetup is carried out as Anaconda does, from the repository on the
# ISO (file:///run/install/repo is where the installer mounts it) with the
# key on the ISO; the kickstart's %post that points the device's remote at
# dcn-hoster runs against the device's repository; then 2.0.0 is published
# and the device upgrades from dcn-hoster through the static delta, with
# GPG verification on.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_device.sh"
source "$DCN_SOURCE_DIR/tests/iso/lib.sh"
need_hoster "it serves the repo and the kickstart"
iso_need_tools
cd "$T"
make_gpg_key
make_boot_iso boot.iso
mkdir -p root
serve_root "$T/root"
write_def def.yaml "sign:" "  gpg_key_id: $KEYID" "  gpg_homedir: $GNUPGHOME" "kickstart:" "  path: ./root/dcn-edge.ks" \
    "iso:" "  boot_iso: ./boot.iso" "  mode: offline" "deploy:" "  url: $URL"
make_tree rootfs 1
builder compose -f def.yaml >/dev/null 2>&1 && builder publish -f def.yaml >/dev/null 2>&1 || fail "publish 1.0.0"
v1=$(ostree --repo=root/repo rev-parse "$REF")
out=$(builder iso -f def.yaml --json 2>iso.err) || { cat iso.err >&2; fail "iso"; }
iso=$(json_get "$out" output)
[[ -f $iso ]] || fail "no ISO: $out"
mkdir -p isoroot
iso_get "$iso" /ostree isoroot/ostree
iso_get "$iso" /ks.cfg isoroot/ks.cfg
iso_get "$iso" /dcn-edge.gpg isoroot/dcn-edge.gpg
log_mark
DEV_ISO_ROOT=$T/isoroot install_device isoroot/ks.cfg sysroot
[[ -z $(paths_since_mark) ]] || fail "the offline install fetched from dcn-hoster: $(paths_since_mark)"
[[ $(deployments sysroot) == "$v1 1.0.0" ]] || fail "after install: $(deployments sysroot)"
pass "installed 1.0.0 from the ISO's repository with the key on the ISO; nothing fetched from dcn-hoster"

# the kickstart's %post, run against the device's repository (its /etc paths under $T)
sed -n '/^# dcn-builder iso (offline)/,/^%end/p' isoroot/ks.cfg | sed '$d' | sed "s|/etc/|$T/device-etc/|g" >post.sh
mkdir -p device-etc/ostree/remotes.d bin
printf '#!/bin/sh\nexec %s --repo=%s "$@"\n' "$(command -v ostree)" "$T/sysroot/ostree/repo" >bin/ostree
chmod +x bin/ostree
PATH=$T/bin:$PATH bash -e post.sh >post.out 2>&1 || { cat post.sh post.out >&2; fail "the %post that points the device at dcn-hoster"; }
[[ $(ostree --repo=sysroot/ostree/repo remote show-url "$DEV_REMOTE") == "$URL/repo" ]] || fail "device remote is not dcn-hoster"
ostree --repo=sysroot/ostree/repo config get "remote \"$DEV_REMOTE\".gpg-verify" | grep -qx true || fail "device remote does not verify"
pass "the kickstart's %post points the device at dcn-hoster ($URL/repo), GPG verification on"

make_tree rootfs 2
builder compose -f def.yaml --version 2.0.0 >/dev/null 2>&1 && builder publish -f def.yaml --version 2.0.0 >/dev/null 2>&1 ||
    fail "publish 2.0.0"
v2=$(ostree --repo=root/repo rev-parse "$REF")
log_mark
upgrade_device sysroot
paths=$(paths_since_mark)
grep -q "^/repo/deltas/" <<<"$paths" || { echo "$paths"; fail "upgrade did not use the static delta"; }
! grep -q '\.filez$' <<<"$paths" || fail "upgrade fetched loose file objects"
[[ $(deployments sysroot) == "$v2 2.0.0"$'\n'"$v1 1.0.0" ]] || fail "after upgrade: $(deployments sysroot)"
ostree fsck --repo=sysroot/ostree/repo >/dev/null 2>&1 || fail "device repo fsck"
pass "the device upgraded from dcn-hoster to 2.0.0 through the static delta, signatures verified; 1.0.0 kept"
echo "3 passed, 0 failed"
