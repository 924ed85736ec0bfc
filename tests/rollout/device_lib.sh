# Test devices for the device playbook (tests/rollout/test_playbook_upgrade_devices.sh).
# Source after tests/rollout/lib.sh.
#
# A device is a directory $T/devices/NAME that Ansible reaches through the
# community.general.chroot connection, the way it reaches a device over SSH:
#   sysroot/      its own ostree sysroot, installed from the kickstart
#                 dcn-hoster serves, as Anaconda's ostree payload does
#                 (init-fs, remote add, pull, os-init, admin deploy), so
#                 every upgrade and rollback is real `ostree admin` work
#   ostree        -> sysroot/ostree, as on a booted ostree system
#   usr, etc      this machine's, bind-mounted read-only (python3, ostree,
#                 su for become); usr/local/bin is device-standin/, the
#                 rpm-ostree and systemctl stand-ins
#   standin/      what a running system knows by itself: the booted
#                 deployment ("booted"), greenboot's health ("greenboot":
#                 pass or fail), the boots so far ("boots")
#   proc          this machine's /proc (libostree links its new objects
#                 through /proc/self/fd), with sys/kernel/random/boot_id
#                 bind-mounted from standin/boot_id: the reboot stand-in
#                 changes it, which is how the reboot module sees a reboot
# Mounts need a private mount namespace: devices_enter_mount_ns re-runs the
# test under `unshare -m`, so that they vanish with it.

# devices_enter_mount_ns "$@": call first, before sourcing anything that
# makes $T. Skips (77) where mount namespaces or chroot are not available:
# it tries the very unshare it runs the test under (in a chroot, / is not a
# mount point, so its propagation cannot be made private). It runs before
# tests/lib/assert.sh (no $T yet), so it skips by itself.
devices_enter_mount_ns() {
    [[ -n ${DCN_DEVICES_MOUNT_NS:-} ]] && return 0
    local why= err
    if [[ $(id -u) != 0 ]]; then
        why="the chroot connection and bind mounts need root"
    elif ! err=$(unshare -m --propagation private true 2>&1); then
        why="cannot make a private mount namespace (unshare -m --propagation private: ${err:-failed})"
    fi
    if [[ -n $why ]]; then echo "SKIP: $why"; exit 77; fi
    DCN_DEVICES_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
}

DEVICE_STANDIN=$DCN_SOURCE_DIR/tests/rollout/device-standin

# ks_option KS NAME: the value of --NAME= on the kickstart's ostreesetup line.
ks_option() { sed -n 's/^ostreesetup .*--'"$2"'=\([^ ]*\).*/\1/p' "$1"; }

# device_install NAME KS: a device installed from kickstart KS, booted into
# its only deployment, greenboot installed and healthy.
device_install() {
    local name=$1 ks=$2 d=$T/devices/$1 osname remote url ref
    osname=$(ks_option "$ks" osname); remote=$(ks_option "$ks" remote); url=$(ks_option "$ks" url); ref=$(ks_option "$ks" ref)
    [[ -n $osname && -n $remote && -n $url && -n $ref ]] || { cat "$ks"; fail "kickstart has no complete ostreesetup line"; }
    grep -Eq '^ostreesetup .*--nogpg( |$)' "$ks" || fail "device_install handles unsigned kickstarts only"
    mkdir -p "$d"/{sysroot,usr,etc,dev,tmp,root,run,var/tmp,standin,proc}
    chmod 1777 "$d/tmp" "$d/var/tmp"
    local l; for l in bin sbin lib lib64; do ln -s "usr/$l" "$d/$l"; done
    ln -s sysroot/ostree "$d/ostree"
    mknod -m 666 "$d/dev/null" c 1 3; mknod -m 666 "$d/dev/zero" c 1 5
    mknod -m 666 "$d/dev/random" c 1 8; mknod -m 666 "$d/dev/urandom" c 1 9
    # Anaconda's ostree payload
    ostree admin init-fs "$d/sysroot" >/dev/null
    ostree --repo="$d/sysroot/ostree/repo" remote add --set=gpg-verify=false "$remote" "$url"
    ostree --repo="$d/sysroot/ostree/repo" pull "$remote" "$ref" >/dev/null || fail "$name: installer pull of $remote:$ref"
    ostree admin os-init --sysroot="$d/sysroot" "$osname" >/dev/null
    ostree admin deploy --sysroot="$d/sysroot" --os="$osname" "$remote:$ref" >"$T/deploy-$name.out" 2>&1 ||
        { cat "$T/deploy-$name.out"; fail "$name: ostree admin deploy of $remote:$ref"; }
    # first boot
    device_deployments "$name" | head -n1 | cut -d' ' -f1 >"$d/standin/booted"
    cp "$d/standin/booted" "$d/standin/boots"
    echo pass >"$d/standin/greenboot"
    python3 -c 'import uuid; print(uuid.uuid4())' >"$d/standin/boot_id"
    # this machine's userland, read-only; the stand-ins in /usr/local/bin
    mount -o bind,ro /usr "$d/usr" && mount -o bind,ro /etc "$d/etc" && mount -o bind,ro "$DEVICE_STANDIN" "$d/usr/local/bin" &&
        mount --bind /proc "$d/proc" && mount --bind "$d/standin/boot_id" "$d/proc/sys/kernel/random/boot_id" ||
        fail "$name: bind mounts"
    [[ $(cat "$d/proc/sys/kernel/random/boot_id") == "$(cat "$d/standin/boot_id")" ]] || fail "$name: boot_id not the device's"
    if touch "$d/usr/.dcn-write-test" 2>/dev/null; then rm -f "$d/usr/.dcn-write-test"; fail "$name: /usr is not read-only"; fi
}

# device_deployments NAME: "checksum.serial version" per deployment, default first.
device_deployments() {
    local d=$T/devices/$1 dep
    for dep in $(ostree admin status --sysroot="$d/sysroot" | sed -n 's/^[* ] [^ ]* \([0-9a-f]\{64\}\.[0-9]*\).*/\1/p'); do
        printf '%s %s\n' "$dep" "$(ostree --repo="$d/sysroot/ostree/repo" show --print-metadata-key=version "${dep%.*}" | tr -d "'")"
    done
}

# device_booted NAME: the booted deployment (checksum.serial).
device_booted() { cat "$T/devices/$1/standin/booted"; }

# device_state NAME: everything a rollout could change on the device: its
# deployments, the booted one, its boots and its repository's objects and refs.
device_state() {
    local d=$T/devices/$1
    device_deployments "$1"
    echo "booted $(device_booted "$1")"
    echo "boots $(wc -l <"$d/standin/boots")"
    (cd "$d/sysroot/ostree/repo" && find objects refs -type f | sort | sha256sum)
}

# devices_cleanup: unmount and unpin (ostree makes deployments immutable),
# so that $T can be removed.
devices_cleanup() {
    local d
    for d in "$T"/devices/*/; do
        umount "$d/proc/sys/kernel/random/boot_id" "$d/proc" "$d/usr/local/bin" "$d/usr" "$d/etc" 2>/dev/null || true
        chattr -i "$d"/sysroot/ostree/deploy/*/deploy/*.[0-9] 2>/dev/null || true
    done
}
