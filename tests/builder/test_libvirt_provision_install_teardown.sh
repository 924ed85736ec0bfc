#!/bin/bash
# provider libvirt with a fake virsh (no libvirt daemon here; see
# lib_buildinfra.sh) but the real qemu-img and genisoimage: provision makes
# the copy-on-write disk on vm.image, the cloud-init NoCloud seed (volume
# cidata, user-data with the generated key), defines the domain (QEMU user
# networking, SSH forwarded from a loopback port) and starts it, then waits
# for SSH (an sshd on that port accepting the generated key plays the VM).
# install runs over SSH; teardown destroys and undefines the domain and
# removes disk, seed and keys; both idempotent. A provision whose SSH never
# comes up fails with the timeout, and teardown still removes what it made.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_buildinfra.sh"
cd "$T"
command -v qemu-img >/dev/null || fail "qemu-img missing (qemu-utils, scripts/deps/test.txt)"
command -v genisoimage >/dev/null || fail "genisoimage missing (scripts/deps/test.txt)"
fake_tools
SSHD_PORT=$(free_port)
STATE=$T/.dcn-state/dcn-edge
sshd_start "$STATE/builder/id_ed25519.pub"
qemu-img create -q -f qcow2 base.qcow2 64M
# the fake virsh boots nothing, but preflight wants the files the domain names
mkdir -p boot && : >boot/vmlinuz && : >boot/initrd.img

write_def def.yaml "provider:" "  kind: libvirt" "  timeout_s: 30" "vm:" "  image: ./base.qcow2" "  cpus: 2" \
    "  memory_mib: 2048" "  disk_gib: 1" "  user: $ME" "  cloud_config: |" "    locale: false" \
    "libvirt:" "  uri: qemu:///system" "  domain_type: qemu" "  kernel: $T/boot/vmlinuz" "  initrd: $T/boot/initrd.img" \
    "  cmdline: root=/dev/vda rw console=ttyS0 net.ifnames=0" "ssh:" "  port: $SSHD_PORT" \
    "install:" "  packages: [dcn-test-tool]" "  commands: [\"mkdir -p $T/installed\", \"touch $T/installed/tool\"]" \
    "  check: test -f $T/installed/tool"

out=$(builder provision -f def.yaml --json 2>prov.err) || { cat prov.err >&2; fail "provision"; }
python3 - virsh.log <<'EOF' || fail "virsh calls: $(cat virsh.log)"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
verbs = [c[3] for c in calls]
assert all(c[:3] == ["-q", "-c", "qemu:///system"] for c in calls), calls
assert verbs == ["domstate", "define", "start"], verbs
EOF
qemu-img info --output=json "$STATE/builder/disk.qcow2" | python3 -c '
import json, sys; i = json.load(sys.stdin)
assert i["format"] == "qcow2" and i["virtual-size"] == 1 << 30, i
assert i["backing-filename"].endswith("base.qcow2") and i["backing-filename-format"] == "qcow2", i' || fail "disk overlay"
isoinfo -d -i "$STATE/builder/seed.iso" | grep -q "^Volume id: cidata" || fail "seed volume id"
isoinfo -i "$STATE/builder/seed.iso" -J -x /user-data >ud.txt
grep -qF "$(cut -d' ' -f2 "$STATE/builder/id_ed25519.pub")" ud.txt || fail "seed user-data lacks the key"
grep -q "^locale: false" ud.txt || fail "vm.cloud_config not in the seed"
isoinfo -i "$STATE/builder/seed.iso" -J -x /meta-data | grep -q "^instance-id: \"dcn-edge-builder-" || fail "meta-data"
python3 - "$FAKE_STATE/domain.dcn-edge-builder" "$SSHD_PORT" "$STATE" <<'EOF' || fail "domain XML"
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1])); root = ET.fromstring(d["xml"])
assert d["state"] == "running"
assert root.get("type") == "qemu" and root.findtext("memory") == "2048" and root.findtext("vcpu") == "2"
assert root.findtext("os/cmdline") == "root=/dev/vda rw console=ttyS0 net.ifnames=0"
srcs = [s.get("file") for s in root.iter("source") if s.get("file")]
assert srcs[:2] == [sys.argv[3] + "/builder/disk.qcow2", sys.argv[3] + "/builder/seed.iso"], srcs
args = [a.get("value") for a in root.iter("{http://libvirt.org/schemas/domain/qemu/1.0}arg")]
assert "user,id=n0,hostfwd=tcp:127.0.0.1:%s-:22" % sys.argv[2] in args, args
EOF
[[ $(json_get "$(<"$STATE/provision.json")" address) == "$ME@127.0.0.1:$SSHD_PORT" ]] || fail "target: $(cat "$STATE/provision.json")"
out=$(builder provision -f def.yaml --json 2>prov2.err) || { cat prov2.err >&2; fail "provision again"; }
[[ $(json_get "$out" changed) == false && $(grep -c '"define"' virsh.log) == 1 ]] || fail "second provision redefined: $out"
pass "provision (fake virsh, real qemu-img/genisoimage): overlay, cidata seed with the key, domain defined and started; idempotent"

out=$(builder install -f def.yaml --json 2>inst.err) || { cat inst.err >&2; fail "install"; }
[[ -f $T/installed/tool && $(json_get "$out" changed) == true ]] || fail "install over SSH"
pass "install over SSH into the libvirt builder"

out=$(builder teardown -f def.yaml --json 2>td.err) || { cat td.err >&2; fail "teardown"; }
[[ $(tail -n2 virsh.log | python3 -c 'import json,sys; print(" ".join(json.loads(l)[3] for l in sys.stdin))') == "destroy undefine" ]] ||
    fail "teardown calls: $(tail -n3 virsh.log)"
[[ ! -e $FAKE_STATE/domain.dcn-edge-builder && ! -e $STATE/builder && ! -e $STATE/provision.json ]] || fail "left behind"
out=$(builder teardown -f def.yaml --json 2>td2.err) || fail "teardown again"
[[ $(json_get "$out" changed) == false ]] || fail "second teardown changed something"
pass "teardown destroys and undefines the domain, removes disk, seed and keys; idempotent"

# SSH never answers: provision fails on the timeout; teardown removes what it made
sshd_stop
sed -i 's/  timeout_s: 30/  timeout_s: 3/' def.yaml
if builder provision -f def.yaml 2>bad.err; then fail "provision without SSH succeeded"; fi
grep -q "provision: libvirt: no SSH on $ME@127.0.0.1:$SSHD_PORT after .* s (provider.timeout_s)" bad.err || fail "unclear: $(tail -n1 bad.err)"
[[ -e $FAKE_STATE/domain.dcn-edge-builder ]] || fail "the domain should exist after the failed provision"
builder teardown -f def.yaml 2>/dev/null || fail "teardown after a failed provision"
[[ ! -e $FAKE_STATE/domain.dcn-edge-builder && ! -e $STATE/builder ]] || fail "teardown after failure left things"
pass "provision times out waiting for SSH with a clear error; teardown cleans up after it"
echo "4 passed, 0 failed"
