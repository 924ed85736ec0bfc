#!/bin/bash
# `dcn-builder iso` in offline mode, on a signed repository with two
# versions published, making the ISO of the older one (1.0.0): the ISO
# carries 1.0.0's commit and nothing else in ostree/repo (fsck clean, the
# signature verifies with the published key in a pull from it, as
# Anaconda's ostreesetup pulls), ks.cfg is the published kickstart filled
# in for the ISO (ostreesetup from file:///run/install/repo/ostree/repo,
# the key from the ISO) plus a %post that points the device's remote at
# dcn-hoster with GPG verification and the key (run here against a device
# repository), and every boot entry has inst.ks=hd:LABEL=<label>:/ks.cfg,
# which the kernel gets through BIOS and UEFI in QEMU.
source "$(dirname "$0")/lib.sh"
source "$DCN_SOURCE_DIR/tests/iso/lib.sh"
iso_need_tools
need() { command -v "$1" >/dev/null || skip "no $1"; }
need gpg
cd "$T"
make_gpg_key
make_boot_iso boot.iso
HOSTER_URL=http://dcn.example.test:8080
write_def def.yaml "sign:" "  gpg_key_id: $KEYID" "iso:" "  boot_iso: ./boot.iso" "  mode: offline" \
    "  output: ./root/dcn-edge-@VERSION@-offline.iso" "deploy:" "  url: $HOSTER_URL"
make_tree rootfs 1
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose 1.0.0"
v1=$(json_get "$(builder publish -f def.yaml --json 2>/dev/null)" commit) || fail "publish 1.0.0"
make_tree rootfs 2
builder compose -f def.yaml --version 2.0.0 >/dev/null 2>&1 || fail "compose 2.0.0"
v2=$(json_get "$(builder publish -f def.yaml --version 2.0.0 --json 2>/dev/null)" commit) || fail "publish 2.0.0"

out=$(builder iso -f def.yaml --version 1.0.0 --json 2>iso.err) || { cat iso.err >&2; fail "iso"; }
iso=$T/root/dcn-edge-1.0.0-offline.iso
arg="inst.ks=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64:/ks.cfg"
[[ -f $iso && $(json_get "$out" commit) == "$v1" && $(json_get "$out" kernel_arg) == "$arg" ]] || fail "iso result: $out"
pass "offline ISO of 1.0.0 ($v1; the head is 2.0.0 $v2): $(stat -c %s "$iso") bytes"

# the repository on the ISO: 1.0.0 alone, complete, signed
iso_get "$iso" /ostree/repo isorepo
ostree fsck --repo=isorepo >fsck.out 2>&1 || { cat fsck.out >&2; fail "ostree fsck of the ISO's repository"; }
[[ $(ostree rev-parse --repo=isorepo "$REF") == "$v1" ]] || fail "the ISO's $REF is not 1.0.0's commit"
[[ $(ostree --repo=isorepo refs | wc -l) == 1 ]] || fail "more refs on the ISO: $(ostree --repo=isorepo refs)"
ostree --repo=isorepo show "$v2" >/dev/null 2>&1 && fail "2.0.0 is on the 1.0.0 ISO"
ostree --repo=isorepo show "$v1" | grep -q 'Version: 1.0.0' || fail "the ISO's commit is not version 1.0.0"
# a pull from it with the key the kickstart installs, as ostreesetup does
ostree init --repo=installer --mode=bare-user
ostree --repo=installer remote add --set=gpg-verify=true iso "file://$T/isorepo"
ostree --repo=installer remote gpg-import --keyring=root/dcn-edge.gpg iso >/dev/null 2>&1 || fail "importing the published key"
ostree --repo=installer pull iso "$REF" >pull.out 2>&1 || { cat pull.out >&2; fail "a verified pull from the ISO's repository"; }
[[ $(ostree rev-parse --repo=installer "iso:$REF") == "$v1" ]] || fail "pulled something else than 1.0.0"
pass "ostree/repo on the ISO: fsck clean, only $REF = 1.0.0, its signature verifies with the published key"

# ks.cfg: the published kickstart filled in for the ISO, and the way back to dcn-hoster
iso_get "$iso" /ks.cfg ks.cfg
iso_get "$iso" /dcn-edge.gpg iso-key.gpg
cmp -s iso-key.gpg root/dcn-edge.gpg || fail "the key on the ISO is not the published one"
grep -qx "ostreesetup --osname=rhel --remote=rhel --url=file:///run/install/repo/ostree/repo --ref=$REF" ks.cfg ||
    fail "ks.cfg's ostreesetup: $(grep ostreesetup ks.cfg)"
grep -v '^#' ks.cfg | grep -n '@URL@\|@REPO_URL@\|@REF@\|@COMMIT@' && fail "placeholders left in ks.cfg's commands"
grep -q "^curl -fsS -o /usr/share/ostree/trusted.gpg.d/dcn-edge.gpg 'file:///run/install/repo/dcn-edge.gpg'$" ks.cfg ||
    fail "the installer does not take the key from the ISO"
grep -qx "ostree remote add --set=gpg-verify=true rhel '$HOSTER_URL/repo' $REF" ks.cfg || fail "no remote pointing at dcn-hoster"
# run that %post against a device repository set up as ostreesetup leaves it
sed -n '/^# dcn-builder iso (offline)/,/^%end/p' ks.cfg | sed '$d' | sed "s|/etc/|$T/device-etc/|g" >post.sh
mkdir -p device-etc/ostree/remotes.d bin
ostree init --repo=device --mode=bare-user
ostree --repo=device remote add --set=gpg-verify=true rhel "file:///run/install/repo/ostree/repo"
printf '#!/bin/sh\nexec %s --repo=%s "$@"\n' "$(command -v ostree)" "$T/device" >bin/ostree
chmod +x bin/ostree
PATH=$T/bin:$PATH bash -e post.sh >post.out 2>&1 || { cat post.sh post.out >&2; fail "the %post that points the device at dcn-hoster"; }
[[ $(ostree --repo=device remote show-url rhel) == "$HOSTER_URL/repo" ]] || fail "device remote: $(ostree --repo=device remote show-url rhel)"
ostree --repo=device config get 'remote "rhel".gpg-verify' | grep -qx true || fail "device remote does not verify"
ostree --repo=device remote gpg-list-keys rhel 2>/dev/null | grep -q "$KEYID" || fail "device remote lacks the key"
pass "ks.cfg: ostreesetup from the ISO, key from the ISO; its %post leaves the device on $HOSTER_URL/repo, gpg-verify=true, key $KEYID"

# the boot entries and the kernel
iso_get "$iso" /isolinux/isolinux.cfg isolinux.cfg
[[ $(grep -c " $arg\$" isolinux.cfg) == 3 ]] || fail "isolinux.cfg: inst.ks= not on every entry"
for fw in bios uefi uefi-esp; do
    cmdline=$(boot_cmdline "$iso" "$fw")
    [[ $(tr ' ' '\n' <<<"$cmdline" | grep -c '^inst\.ks=') == 1 ]] && tr ' ' '\n' <<<"$cmdline" | grep -qx "$arg" ||
        fail "$fw: kernel command line [$cmdline]: want $arg once"
    pass "boots through $fw with $arg"
done
diff <(boot_equipment boot.iso) <(boot_equipment "$iso") || fail "volume label, El Torito images or partitions changed"
pass "label, El Torito images and partitions kept"
