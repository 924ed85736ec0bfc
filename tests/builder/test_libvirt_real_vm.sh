#!/bin/bash
# provider libvirt against a REAL libvirt and a REAL (software-emulated) VM.
# The test installs what it needs (scripts/install-deps vm), builds a small
# Debian guest image once (debootstrap minbase with the kernel,
# openssh-server, cloud-init, sudo; mkfs.ext4 -d, no loop mounts) and caches
# it in $DCN_BUILD_DIR/vm-cache/<recipe hash>/ (rebuilt when the recipe in
# this file changes), starts virtlogd and libvirtd itself (no systemd here)
# and stops them at the end. Then the real `dcn-builder provision` defines
# and starts the domain (type qemu, direct kernel boot, QEMU user networking
# with SSH forwarded from a loopback port), passes the generated SSH key in
# the cloud-init NoCloud seed and waits for SSH; `install` runs the test
# commands in the guest over SSH (checked by reading the file they write);
# `teardown` destroys and undefines the domain and removes disk, seed and
# keys. Facts this relies on: ../shared/platform.md, "A real VM".
# Skips (77) only when QEMU/libvirt cannot run here at all (not root, the
# packages cannot be installed, no Debian mirror in the apt sources).
source "$(dirname "$0")/lib.sh"
cd "$T"
t0=$SECONDS
step() { echo "# [$((SECONDS - t0)) s] $*"; }

[[ $(id -u) -eq 0 ]] || skip "needs root: libvirtd (qemu:///system), debootstrap and mkfs.ext4 -d of a root filesystem"
[[ $(uname -m) == x86_64 ]] || skip "the guest recipe is x86_64 only"
# libvirtd starts qemu as root and drops to libvirt-qemu, which then loads
# qemu's modules (tcg-accel-ops): a root directory others cannot search, as
# in a chroot unpacked into a mktemp directory (fresh-debian), fails there.
(( 8#$(stat -c %a /) & 1 )) ||
    skip "/ is mode $(stat -c %a /) (a chroot made in a private directory): qemu, run by libvirtd as libvirt-qemu, cannot load its modules"
step "install-deps vm"
"$DCN_SOURCE_DIR/scripts/install-deps" vm >"$T/install-deps.log" 2>&1 ||
    skip "scripts/install-deps vm failed: $(tail -n3 "$T/install-deps.log")"
for tool in qemu-system-x86_64 qemu-img virsh libvirtd virtlogd debootstrap mkfs.ext4 genisoimage ssh; do
    command -v "$tool" >/dev/null || skip "$tool missing after install-deps vm"
done
qemu-system-x86_64 -machine none -accel tcg -display none -nodefaults -S -qmp stdio </dev/null >/dev/null 2>&1 &
qpid=$!
sleep 1
if ! kill -0 "$qpid" 2>/dev/null; then
    wait "$qpid" || true
    skip "qemu-system-x86_64 cannot start here (software emulation)"
fi
kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null || true

# ---- the guest image (cached) ----------------------------------------------
SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $SUITE ]] || skip "no VERSION_CODENAME in /etc/os-release"
GUEST_PACKAGES=linux-image-amd64,openssh-server,systemd-sysv,ifupdown,isc-dhcp-client,cloud-init,python3-cffi-backend,udev,iproute2,netbase,sudo
GUEST_DISK_SIZE=2G

# The Debian mirror this machine's apt uses (deb822 .sources, then
# one-line .list files): never written into the repository.
apt_mirror() {
    python3 - "$SUITE" <<'EOF'
import glob, sys
suite = sys.argv[1]
def sources():
    for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for para in open(f).read().split("\n\n"):
            kv = {}
            for line in para.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                k, v = line.split(":", 1)
                kv[k.strip().lower()] = v.split()
            if kv.get("enabled", ["yes"])[0] == "no" or "deb" not in kv.get("types", []):
                continue
            for uri in kv.get("uris", []):
                yield uri, kv.get("suites", [])
    for f in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            lines = open(f).read().splitlines()
        except OSError:
            continue
        for line in lines:
            w = line.split("#", 1)[0].split()
            if len(w) >= 3 and w[0] == "deb":
                if w[1].startswith("["):
                    while w and not w[0].endswith("]"):
                        w.pop(0)
                    w = ["deb"] + w[1:]
                if len(w) >= 3:
                    yield w[1], [w[2]]
for uri, suites in sources():
    if suite in suites and "security" not in uri:
        print(uri.rstrip("/"))
        break
EOF
}

# Everything that makes the image: its hash names the cache entry.
build_guest_image() {
    local out=$1 mirror=$2 root=$1/root.tmp
    rm -rf "$root"
    debootstrap --variant=minbase --include="$GUEST_PACKAGES" "$SUITE" "$root" "$mirror" >"$out/debootstrap.log" 2>&1 ||
        { tail -n 20 "$out/debootstrap.log" >&2; return 1; }
    printf 'LABEL=rootfs / ext4 rw,relatime 0 1\n' >"$root/etc/fstab"
    printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' >"$root/etc/network/interfaces"
    mkdir -p "$root/etc/network/interfaces.d" "$root/etc/cloud/cloud.cfg.d"
    # only the NoCloud seed: no probing of cloud metadata services
    printf 'datasource_list: [ NoCloud, None ]\n' >"$root/etc/cloud/cloud.cfg.d/90-dcn-test.cfg"
    echo dcn-guest >"$root/etc/hostname"
    rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages
    cp "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -n1)" "$out/vmlinuz.tmp"
    cp "$(ls "$root"/boot/initrd.img-* | sort -V | tail -n1)" "$out/initrd.img.tmp"
    rm -f "$out/disk.img.tmp"
    mkfs.ext4 -q -L rootfs -d "$root" "$out/disk.img.tmp" "$GUEST_DISK_SIZE" >/dev/null
    rm -rf "$root"
    chmod 0644 "$out/vmlinuz.tmp" "$out/initrd.img.tmp" "$out/disk.img.tmp"
    mv "$out/vmlinuz.tmp" "$out/vmlinuz"; mv "$out/initrd.img.tmp" "$out/initrd.img"; mv "$out/disk.img.tmp" "$out/disk.img"
}

CACHE=${DCN_BUILD_DIR:-$DCN_SOURCE_DIR/build}/vm-cache
RECIPE=$( { declare -f build_guest_image; echo "$SUITE $GUEST_PACKAGES $GUEST_DISK_SIZE"; } | sha256sum | cut -c1-16)
IMG=$CACHE/$RECIPE
mkdir -p "$CACHE"
chmod 0755 "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one builder of the image at a time (parallel ctest runs)
if [[ -f $IMG/disk.img && -f $IMG/vmlinuz && -f $IMG/initrd.img ]]; then
    step "guest image cached: $IMG"
else
    MIRROR=$(apt_mirror)
    [[ -n $MIRROR ]] || skip "no Debian mirror for $SUITE in the apt sources"
    step "building the guest image in $IMG (debootstrap $SUITE from the apt sources' mirror)"
    rm -rf "$IMG"; mkdir -p "$IMG"
    # other recipes' images are stale
    find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name "$RECIPE" -exec rm -rf {} +
    build_guest_image "$IMG" "$MIRROR" || { rm -rf "$IMG"; fail "building the guest image"; }
    step "guest image built"
fi
chmod 0755 "$IMG"
exec 9>&-

# ---- virtlogd + libvirtd ---------------------------------------------------
URI=qemu:///system
VM=dcn-realvm-$$
STATE=$T/.dcn-state/dcn-edge
chmod 0755 "$T" # QEMU runs as libvirt-qemu and must reach the state directory
OWN_DAEMONS=0
LIBVIRTD_PID= VIRTLOGD_PID=
vm_cleanup() {
    if virsh -q -c "$URI" domstate "$VM" >/dev/null 2>&1; then
        echo "# cleanup: domain $VM still defined; destroying it" >&2
        virsh -q -c "$URI" destroy "$VM" >/dev/null 2>&1 || true
        virsh -q -c "$URI" undefine "$VM" >/dev/null 2>&1 || true
    fi
    if [[ $OWN_DAEMONS == 1 ]]; then
        local pid
        for pid in $LIBVIRTD_PID $VIRTLOGD_PID; do
            kill -TERM "$pid" 2>/dev/null || continue
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -KILL "$pid" 2>/dev/null || true
        done
    fi
}
_dcn_on_exit+=(vm_cleanup)

# /dev/kvm without udev is root:root 0600. libvirtd then finds KVM "not
# available" to its QEMU user although its probe saw it, throws the cached
# QEMU capabilities away and probes again (about 40 s) on every start. Give
# it Debian's usual root:kvm 0660 for the test (put back at the end); the
# domain itself is type qemu (software emulation) either way.
KVM_WAS=
if [[ -c /dev/kvm ]] && getent group kvm >/dev/null && [[ $(stat -c %G:%a /dev/kvm) != kvm:66? ]]; then
    KVM_WAS=$(stat -c %u:%g:%a /dev/kvm)
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm || KVM_WAS=
fi
restore_kvm() {
    [[ -n $KVM_WAS ]] || return 0
    chown "${KVM_WAS%:*}" /dev/kvm; chmod "${KVM_WAS##*:}" /dev/kvm
}
_dcn_on_exit+=(restore_kvm)

if virsh -q -c "$URI" uri >/dev/null 2>&1; then
    step "libvirtd already running; using it (and leaving it running)"
else
    [[ ! -e /run/libvirtd.pid ]] || ! kill -0 "$(cat /run/libvirtd.pid 2>/dev/null)" 2>/dev/null ||
        skip "a libvirtd is running but does not answer on $URI"
    step "starting virtlogd and libvirtd"
    OWN_DAEMONS=1
    virtlogd >"$T/virtlogd.log" 2>&1 &
    VIRTLOGD_PID=$!
    libvirtd >"$T/libvirtd.log" 2>&1 &
    LIBVIRTD_PID=$!
    for _ in $(seq 60); do virsh -q -c "$URI" uri >/dev/null 2>&1 && break; sleep 0.5; done
    virsh -q -c "$URI" uri >/dev/null 2>&1 || fail "libvirtd did not come up: $(tail -n5 "$T/libvirtd.log")"
fi
# domains an earlier run of this test left (killed before its cleanup ran)
for d in $(virsh -q -c "$URI" list --all --name | grep '^dcn-realvm-[0-9]*$' || true); do
    kill -0 "${d#dcn-realvm-}" 2>/dev/null && continue
    echo "# removing domain $d left by an earlier run"
    virsh -q -c "$URI" destroy "$d" >/dev/null 2>&1 || true
    virsh -q -c "$URI" undefine "$d" >/dev/null || fail "could not undefine the stale domain $d"
done
! virsh -q -c "$URI" domstate "$VM" >/dev/null 2>&1 || fail "a domain $VM exists already"

# ---- provision, install, teardown ------------------------------------------
write_def def.yaml "provider:" "  kind: libvirt" "  timeout_s: 300" "vm:" "  name: $VM" "  image: $IMG/disk.img" \
    "  cpus: 2" "  memory_mib: 1024" "  disk_gib: 2" "  user: dcn" "  cloud_config: |" "    locale: false" \
    "    resize_rootfs: false" "    growpart: {mode: 'off'}" "    ssh_genkeytypes: [ed25519]" \
    "libvirt:" "  uri: $URI" "  domain_type: qemu" "  kernel: $IMG/vmlinuz" "  initrd: $IMG/initrd.img" \
    "  cmdline: root=/dev/vda rw console=ttyS0 net.ifnames=0" \
    "install:" "  packages: [dcn-test-tool]" \
    "  commands: [\"mkdir -p /opt/dcn-test\", \"echo installed-by-dcn > /opt/dcn-test/tool\", \"chown dcn /opt/dcn-test/tool\"]" \
    "  check: test -s /opt/dcn-test/tool"

step "provision (real virsh, real VM)"
tp=$SECONDS
out=$(builder provision -f def.yaml --json 2>prov.err) || {
    cat prov.err >&2
    echo "--- console.log (tail)" >&2; tail -n 40 "$STATE/builder/console.log" >&2 2>/dev/null || true
    fail "provision"
}
step "provision took $((SECONDS - tp)) s"
grep -o 'event=[a-z-]* .*elapsed_s=[0-9.]*' prov.err | sed 's/^/#   /' || true
[[ $(virsh -q -c "$URI" domstate "$VM") == running ]] || fail "domain $VM not running after provision"
virsh -q -c "$URI" dumpxml "$VM" | python3 -c '
import sys, xml.etree.ElementTree as ET
r = ET.fromstring(sys.stdin.read())
assert r.get("type") == "qemu", r.get("type")
assert r.findtext("os/kernel").endswith("/vmlinuz")
args = [a.get("value") for a in r.iter("{http://libvirt.org/schemas/domain/qemu/1.0}arg")]
assert any(a.startswith("user,id=n0,hostfwd=tcp:127.0.0.1:") for a in args), args' || fail "the domain libvirt holds"
addr=$(json_get "$(<"$STATE/provision.json")" address)
[[ $addr =~ ^dcn@127\.0\.0\.1:([0-9]+)$ ]] || fail "target: $(cat "$STATE/provision.json")"
PORT=${BASH_REMATCH[1]}
for f in disk.qcow2 seed.iso id_ed25519 id_ed25519.pub known_hosts; do
    [[ -s $STATE/builder/$f ]] || fail "provision left no $f"
done
SSH=(ssh -i "$STATE/builder/id_ed25519" -p "$PORT" -o BatchMode=yes -o ConnectTimeout=20
     -o UserKnownHostsFile="$STATE/builder/known_hosts" -o StrictHostKeyChecking=yes dcn@127.0.0.1)
[[ $("${SSH[@]}" 'cat /etc/hostname; id -un') == "$VM"$'\n'dcn ]] || fail "the guest over SSH: not $VM/dcn"
read -r up _ < <("${SSH[@]}" cat /proc/uptime) || true
step "the guest has been up ${up:-?} s"
out=$(builder provision -f def.yaml --json 2>prov2.err) || { cat prov2.err >&2; fail "provision again"; }
[[ $(json_get "$out" changed) == false ]] || fail "second provision changed something: $out"
pass "provision: domain defined and started on real libvirt, key via the NoCloud seed, SSH over the loopback forward ($((SECONDS - tp)) s); idempotent"

step "install"
out=$(builder install -f def.yaml --json 2>inst.err) || { cat inst.err >&2; fail "install"; }
[[ $(json_get "$out" changed) == true ]] || fail "install did not change anything: $out"
[[ $("${SSH[@]}" 'cat /opt/dcn-test/tool; stat -c %U /opt/dcn-test/tool') == installed-by-dcn$'\n'dcn ]] ||
    fail "the install commands did not run as root in the guest"
out=$(builder install -f def.yaml --json 2>inst2.err) || { cat inst2.err >&2; fail "install again"; }
[[ $(json_get "$out" changed) == false ]] || fail "second install changed something: $out"
pass "install runs the commands as root in the guest over SSH; idempotent"

step "teardown"
td=$SECONDS
out=$(builder teardown -f def.yaml --json 2>td.err) || { cat td.err >&2; fail "teardown"; }
[[ $(json_get "$out" changed) == true ]] || fail "teardown changed nothing: $out"
! virsh -q -c "$URI" domstate "$VM" >/dev/null 2>&1 || fail "domain $VM still defined after teardown"
! virsh -q -c "$URI" list --all --name | grep -qx "$VM" || fail "domain $VM still listed"
for f in disk.qcow2 seed.iso id_ed25519 id_ed25519.pub known_hosts user-data domain.xml; do
    [[ ! -e $STATE/builder/$f ]] || fail "teardown left $f"
done
[[ ! -e $STATE/builder && ! -e $STATE/provision.json ]] || fail "teardown left the builder state"
! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "something still listens on the forwarded port $PORT"
[[ -f $IMG/disk.img ]] || fail "teardown removed the cached base image"
out=$(builder teardown -f def.yaml --json 2>td2.err) || { cat td2.err >&2; fail "teardown again"; }
[[ $(json_get "$out" changed) == false ]] || fail "second teardown changed something: $out"
pass "teardown destroys and undefines the domain, removes disk, seed and keys ($((SECONDS - td)) s); idempotent"
step "done"
echo "3 passed, 0 failed"
