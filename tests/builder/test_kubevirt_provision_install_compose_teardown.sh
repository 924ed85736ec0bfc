#!/bin/bash
# provider kubevirt with a fake kubectl (no cluster here; see
# lib_buildinfra.sh): provision renders and applies the Secret and the
# VirtualMachine, waits for the VMI (NotFound while the disk imports, then
# Scheduling, then Running + Ready with an address) and for SSH; the "VM"
# is an sshd on 127.0.0.1 that accepts the key provision generated. install
# runs its test package list over SSH (idempotent), compose talks to the
# stand-in composer through the forwarded Weldr socket, teardown deletes the
# objects and the local files (idempotent). Then `run` is sent SIGTERM while
# composing: the compose is cancelled, the VM deleted, run.json says where
# it stopped, and a rerun resumes and finishes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_buildinfra.sh"
cd "$T"
fake_tools
standin_start --build-seconds 0.5
SSHD_PORT=$(free_port)
STATE=$T/.dcn-state/dcn-edge
sshd_start "$STATE/builder/id_ed25519.pub"

cat >def.yaml <<EOF
name: dcn-edge
version: 1.0.0
ref: $REF
repo: ./root/repo
keep: 3
deltas_from: 2
compose:
  backend: weldr
provider:
  kind: kubevirt
  timeout_s: 60
vm:
  image: https://images.example.com/rhel-9.4-x86_64-kvm.qcow2
  cpus: 2
  memory_mib: 6144
  disk_gib: 120
  user: $ME
kubevirt:
  namespace: dcn-build
  ssh_via: address      # the fake VMI's address is the test's sshd (no virtctl here)
ssh:
  port: $SSHD_PORT
install:
  packages: [dcn-test-tool]
  commands:
    - mkdir -p $T/installed
    - echo tool >$T/installed/dcn-test-tool
  check: test -f $T/installed/dcn-test-tool
composer:
  socket: $WELDR_SOCK
  poll_s: 1
run:
  skip: [package, push, deploy]
EOF

out=$(builder provision -f def.yaml --json 2>prov.err) || { cat prov.err >&2; fail "provision"; }
[[ $(json_get "$out" changed) == true ]] || fail "provision changed nothing: $out"
grep -q "\"apply\", \"-f\", \"$STATE/builder/secret.yaml\", \"-f\", \"$STATE/builder/virtualmachine.yaml\"" kubectl.log ||
    fail "apply not as expected: $(cat kubectl.log)"
grep -q '"-n", "dcn-build"' kubectl.log || fail "namespace not passed"
grep -q 'event=vm name=dcn-edge-builder vmi=none disk=ImportInProgress progress=42.00%' prov.err || fail "disk import not reported"
grep -q 'event=vm name=dcn-edge-builder phase=Running ready=true address=127.0.0.1' prov.err || fail "VMI address not found"
grep -q 'event=ssh-ready' prov.err || fail "SSH not awaited"
python3 - "$FAKE_STATE" <<'EOF' || fail "applied objects"
import json, sys, os
vm = json.load(open(os.path.join(sys.argv[1], "dcn-build.VirtualMachine.dcn-edge-builder.json")))
d = vm["spec"]["template"]["spec"]["domain"]
assert d["cpu"]["cores"] == 2 and d["resources"]["requests"]["memory"] == "6144Mi", d
dv = vm["spec"]["dataVolumeTemplates"][0]["spec"]
assert dv["storage"]["resources"]["requests"]["storage"] == "120Gi" and dv["source"]["http"]["url"].endswith("kvm.qcow2"), dv
s = json.load(open(os.path.join(sys.argv[1], "dcn-build.Secret.dcn-edge-builder-cloud-init.json")))
key = open(os.path.join(os.path.dirname(sys.argv[1]), ".dcn-state/dcn-edge/builder/id_ed25519.pub")).read().strip()
assert key in s["stringData"]["userdata"], s
EOF
[[ $(json_get "$(<"$STATE/provision.json")" address) == "$ME@127.0.0.1:$SSHD_PORT" ]] || fail "provision.json: $(cat "$STATE/provision.json")"
key_before=$(cat "$STATE/builder/id_ed25519.pub")
out=$(builder provision -f def.yaml --json 2>prov2.err) || { cat prov2.err >&2; fail "provision again"; }
[[ $(json_get "$out" changed) == false ]] || fail "second provision changed something: $out"
[[ $(cat "$STATE/builder/id_ed25519.pub") == "$key_before" ]] || fail "the key was regenerated"
pass "provision (fake kubectl): manifests applied with the definition's values, VMI awaited, SSH up; idempotent"

out=$(builder install -f def.yaml --json 2>inst.err) || { cat inst.err >&2; fail "install"; }
[[ $(json_get "$out" changed) == true && -f $T/installed/dcn-test-tool ]] || fail "install did not install: $out"
grep -q 'event=output stream=stdout line="dcn-install: step 2/2"' inst.err || fail "install output not shown"
out=$(builder install -f def.yaml --json 2>inst2.err) || fail "install again"
[[ $(json_get "$out" changed) == false ]] || fail "second install changed something"
pass "install over SSH with the test package list; second run changes nothing"

out=$(builder compose -f def.yaml --json 2>comp.err) || { cat comp.err >&2; fail "compose over the SSH forward"; }
grep -q "event=forward target=$ME@127.0.0.1:$SSHD_PORT remote=$WELDR_SOCK local=$STATE/builder/weldr.sock" comp.err ||
    fail "socket not forwarded: $(grep forward comp.err)"
[[ ! -e $STATE/builder/weldr-forward.pid && ! -S $STATE/builder/weldr.sock ]] || fail "forward left running"
standin_no_violations
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish"
pass "compose through the forwarded Weldr socket, published"

out=$(builder teardown -f def.yaml --json 2>td.err) || { cat td.err >&2; fail "teardown"; }
[[ $(json_get "$out" changed) == true ]] || fail "teardown changed nothing"
tail -n1 kubectl.log | grep -q '"delete", "--ignore-not-found=true", "--wait=true", "--timeout=300s", "secret/dcn-edge-builder-cloud-init", "virtualmachine/dcn-edge-builder", "datavolume/dcn-edge-builder-rootdisk"' ||
    fail "delete not as expected: $(tail -n1 kubectl.log)"
[[ -z $(ls "$FAKE_STATE" | grep -v polls) ]] || fail "objects left in the fake cluster: $(ls "$FAKE_STATE")"
[[ ! -e $STATE/builder && ! -e $STATE/provision.json ]] || fail "local files left: $(ls -R "$STATE")"
out=$(builder teardown -f def.yaml --json 2>td2.err) || { cat td2.err >&2; fail "teardown again"; }
[[ $(json_get "$out" changed) == false ]] || fail "second teardown changed something: $out"
pass "teardown deletes VM, DataVolume, Secret, keys and manifests; idempotent"

# SIGTERM while composing: teardown, not a leaked VM; the rerun resumes
serve_root "$T/root"
sed -i "s|^  poll_s: 1|  poll_s: 1\n  url: $URL/repo|" def.yaml
standin_stop
# --reply-delay: the SIGTERM lands while the POST that started the compose
# waits for its reply; the compose must still be cancelled, not leaked.
standin_start --hang --reply-delay 5
log_from=$(($(wc -l <"$WELDR_LOG") + 1))
"$DCN_BUILDER" run -f def.yaml --version 2.0.0 >run1.out 2>run1.err &
pid=$!
for i in $(seq 1 600); do tail -n "+$log_from" "$WELDR_LOG" | grep -q '"compose_started"' && break; sleep 0.05; done
[[ $(standin_count compose_started) == 1 ]] || { cat run1.err >&2; fail "run did not reach the compose"; }
kill -TERM $pid
rc=0; wait $pid || rc=$?
[[ $rc == 1 ]] || { cat run1.err >&2; fail "interrupted run exited $rc"; }
grep -q 'dcn-builder: run: stage compose failed (builder torn down; a rerun resumes at compose): compose: weldr: interrupted by SIGTERM' run1.err ||
    fail "unclear interrupt message: $(tail -n3 run1.err)"
grep -q 'stage=run event=stage-done name=teardown' run1.err || fail "no teardown after SIGTERM"
[[ $(standin_count compose_cancelled) == 1 ]] || { grep -E "cancel|interrupt" run1.err >&2; fail "the compose was not cancelled"; }
left=$(standin_listed)
[[ -z $left ]] || fail "the cancelled compose was not deleted from composer: $left"
[[ -z $(ls "$FAKE_STATE" | grep -v polls) && ! -e $STATE/builder ]] || fail "VM or files leaked after SIGTERM"
[[ $(json_get "$(<"$STATE/run.json")" failed_stage) == compose ]] || fail "run.json: $(cat "$STATE/run.json")"
pass "SIGTERM during compose: compose cancelled and deleted from composer, VM deleted, run.json records compose"

standin_stop
standin_start --build-seconds 0.3
out=$(builder run -f def.yaml --version 2.0.0 --json 2>run2.err) || { cat run2.err >&2; fail "rerun"; }
[[ $(json_get "$out" finished) == true ]] || fail "rerun did not finish: $out"
grep -q 'event=plan version=2.0.0 resume_at=compose builder=kubevirt' run2.err || fail "rerun did not resume at compose"
ostree --repo=root/repo show "$REF" | grep -q "Version: 2.0.0" || fail "2.0.0 not published"
[[ -z $(ls "$FAKE_STATE" | grep -v polls) && ! -e $STATE/builder ]] || fail "VM left after the run"
standin_no_violations
pass "rerun resumed at compose with a new VM, published 2.0.0, tore the VM down"
echo "6 passed, 0 failed"
