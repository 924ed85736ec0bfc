#!/bin/bash
# `dcn-builder iso` with bad inputs: a missing boot ISO, a file that is not
# an ISO, an ISO that is not an installer boot ISO (no isolinux.cfg, no
# grub.cfg), one whose boot entries have no kernel line, an offline ISO of a
# version that is not published: each a clear error and nothing published,
# and an ISO published earlier at the same path stays as it was. A run
# killed after writing the new ISO (before the rename) publishes nothing;
# the next run cleans up and publishes.
source "$(dirname "$0")/lib.sh"
source "$DCN_SOURCE_DIR/tests/iso/lib.sh"
command -v xorriso >/dev/null && command -v mcopy >/dev/null || skip "no xorriso/mtools"
cd "$T"
make_boot_iso boot.iso
make_tree rootfs 1
write_def def.yaml "iso:" "  boot_iso: ./boot.iso" "deploy:" "  url: http://dcn.example.test"
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose"
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish"
builder iso -f def.yaml >/dev/null 2>&1 || fail "a good ISO first"
iso=root/dcn-edge-1.0.0.iso
cp "$iso" good.iso

# expect_error RC PATTERN [builder args...]: fails with RC and a message
# matching PATTERN; the published ISO is untouched, nothing else is left
expect_error() {
    local want=$1 pattern=$2 rc=0; shift 2
    builder iso -f "${DEF:-def.yaml}" "$@" >out 2>err || rc=$?
    [[ $rc == "$want" ]] || { cat err >&2; fail "iso $*: exit $rc, expected $want"; }
    grep -q -- "$pattern" err || { cat err >&2; fail "iso $*: no message matching '$pattern'"; }
    cmp -s good.iso "$iso" || fail "iso $*: the published ISO changed"
    [[ -z $(find root -name '.*.tmp-*') ]] || fail "iso $*: temporary files left"
    pass "iso $*: exit $rc, $(grep -o -- "$pattern.*" err | head -1 | cut -c1-110)"
}

expect_error 2 "iso.boot_iso $T/missing.iso: no such file" --boot-iso missing.iso
head -c 3000000 /dev/urandom >random.iso
expect_error 1 "is not an ISO 9660 image" --boot-iso random.iso
mkdir -p plain/docs && echo hello >plain/docs/readme.txt
xorriso -as mkisofs -R -J -V PLAIN -o plain.iso plain 2>/dev/null
expect_error 1 "has neither isolinux/isolinux.cfg nor EFI/BOOT/grub.cfg" --boot-iso plain.iso
mkdir -p nokernel/isolinux && printf 'default local\nlabel local\n  localboot 0\n' >nokernel/isolinux/isolinux.cfg
xorriso -as mkisofs -R -J -V NOKERNEL -o nokernel.iso nokernel 2>/dev/null
expect_error 1 "has no kernel command line (append)" --boot-iso nokernel.iso
expect_error 1 "version 9.9.9 is not published" --iso-mode offline --version 9.9.9 --iso-output "$T/root/dcn-edge-1.0.0.iso"
write_def nourl.yaml "iso:" "  boot_iso: ./boot.iso"
DEF=nourl.yaml expect_error 2 "iso needs deploy.url"
expect_error 2 "deploy.url: http://dcn.example.test/a b/dcn-edge.ks cannot go into" --deploy-url "http://dcn.example.test/a b"

# killed after the new ISO is written, before it is published
rm -f "$iso" .dcn-state/dcn-edge/iso.json
rc=0
DCN_BUILDER_ABORT_AFTER=iso-written builder iso -f def.yaml >/dev/null 2>&1 || rc=$?
[[ $rc != 0 ]] || fail "the abort hook did not stop iso"
[[ ! -e $iso ]] || fail "an ISO was published by a run that died before publishing"
[[ -n $(find root -name '.dcn-edge-1.0.0.iso.tmp-*') ]] || fail "the killed run left no temporary directory (the hook fired too early?)"
out=$(builder iso -f def.yaml --json 2>/dev/null) || fail "iso after the killed run"
[[ -f $iso && -z $(find root -name '.*.tmp-*') && $(json_get "$out" changed) == true ]] || fail "rerun: $out"
cmp -s good.iso "$iso" || fail "the ISO of the rerun differs from the first one (same inputs)"
pass "killed before the rename: nothing published; the rerun removed the leftovers and wrote the same bytes as before"
