#!/bin/bash
# A device's life with real `ostree admin` commands against a sysroot
# directory, which is what Anaconda's ostreesetup and rpm-ostree do
# underneath:
#   install  the kickstart dcn-hoster serves is read, and its ostreesetup line
#            carried out as Anaconda's ostree payload does (init-fs, remote
#            add with the line's GPG setting, pull, os-init, admin deploy;
#            a signed repo's %pre key download done as the installer would);
#            1.0.0 is the default deployment, its os-release is the composed
#            one and the remote points at the hoster;
#   upgrade  2.0.0 is published; `ostree admin upgrade` (after the
#            metadata-only pull libostree 2022.7 needs to pick the delta)
#            fetches the static delta and no loose file object; 2.0.0 is the
#            default and 1.0.0 stays for rollback;
#   rollback `dcn-builder rollback --to 1.0.0`; the device upgrades again and
#            boots 1.0.0's tree.
# Run once unsigned and once with a GPG-signed repository (verification on,
# with the key the kickstart installs).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_device.sh"
need_hoster "the kickstart is rendered by it"
cd "$T"

life() {
    local label=$1 sign=()
    [[ $label == signed ]] && sign=("sign:" "  gpg_key_id: $KEYID" "  gpg_homedir: $GNUPGHOME")
    unpin_deployments
    rm -rf root .repo-staging state sysroot rootfs ./*.ks
    make_tree rootfs 1
    write_def def.yaml "kickstart:" "  path: ./root/dcn-edge.ks" "${sign[@]}"
    builder compose -f def.yaml >c1.err 2>&1 || { cat c1.err; fail "$label: compose 1.0.0"; }
    grep -q "event=warning" c1.err && { cat c1.err; fail "$label: compose warns about a deployable tree"; }
    builder publish -f def.yaml >p1.err 2>&1 || { cat p1.err; fail "$label: publish 1.0.0"; }
    local v1 v2
    v1=$(ostree --repo=root/repo rev-parse "$REF")
    serve_root "$T/root"
    curl -fsS --noproxy '*' "$URL/dcn-edge.ks" >served.ks || fail "$label: kickstart not served"

    install_device served.ks sysroot
    [[ $(deployments sysroot) == "$v1 1.0.0" ]] || fail "$label: after install: $(deployments sysroot)"
    [[ $(ostree --repo=sysroot/ostree/repo remote show-url "$DEV_REMOTE") == "$URL/repo" ]] || fail "$label: remote url"
    local dep=sysroot/ostree/deploy/$DEV_OS/deploy/$v1.0
    [[ -f $dep/etc/dcn/dcn.conf && $(stat -c %a "$dep/etc/dcn/dcn.conf") == 600 ]] || fail "$label: /etc not deployed from /usr/etc"
    cmp -s "$dep/usr/lib/os-release" rootfs/usr/lib/os-release || fail "$label: deployed os-release is not the composed one"
    grep -q "^refspec=$DEV_REMOTE:$REF\$" "sysroot/ostree/deploy/$DEV_OS/deploy/$v1.0.origin" || fail "$label: origin"
    pass "$label: installed from the served kickstart: 1.0.0 is the default deployment"

    make_tree rootfs 2
    builder compose -f def.yaml --version 2.0.0 >/dev/null 2>&1 && builder publish -f def.yaml --version 2.0.0 >/dev/null 2>&1 ||
        fail "$label: publish 2.0.0"
    v2=$(ostree --repo=root/repo rev-parse "$REF")
    log_mark
    upgrade_device sysroot
    local paths
    paths=$(paths_since_mark)
    grep -q "^/repo/deltas/" <<<"$paths" || { echo "$paths"; fail "$label: upgrade did not use the static delta"; }
    ! grep -q '\.filez$' <<<"$paths" || { echo "$paths"; fail "$label: upgrade fetched loose file objects"; }
    [[ $(deployments sysroot) == "$v2 2.0.0"$'\n'"$v1 1.0.0" ]] || fail "$label: after upgrade: $(deployments sysroot)"
    [[ -f sysroot/ostree/deploy/$DEV_OS/deploy/$v2.0/etc/dcn/new.conf ]] || fail "$label: 2.0.0's /etc not deployed"
    pass "$label: upgraded to 2.0.0 through the static delta; 1.0.0 kept for rollback"

    out=$(builder rollback -f def.yaml --to 1.0.0 --json 2>/dev/null) || fail "$label: rollback"
    local rb
    rb=$(json_get "$out" commit)
    upgrade_device sysroot --allow-downgrade
    [[ $(deployments sysroot | head -n1) == "$rb 1.0.0" ]] || fail "$label: after rollback: $(deployments sysroot)"
    local cur=sysroot/ostree/deploy/$DEV_OS/deploy/$rb.0
    [[ -f $cur/etc/dcn/old.conf && ! -e $cur/etc/dcn/new.conf ]] || fail "$label: rolled-back deployment is not 1.0.0's tree"
    ostree fsck --repo=sysroot/ostree/repo >/dev/null 2>&1 || fail "$label: device repo fsck"
    pass "$label: dcn-builder rollback --to 1.0.0: the device upgraded back to 1.0.0's tree"
    hoster_stop
}

life unsigned
make_gpg_key
life signed
ostree --repo=sysroot/ostree/repo config get 'remote "rhel".gpg-verify' 2>/dev/null | grep -qx true ||
    fail "signed: the device's remote does not verify"
echo "6 passed, 0 failed"
