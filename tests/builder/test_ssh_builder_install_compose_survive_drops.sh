#!/bin/bash
# provider ssh: an existing builder reached with the OpenSSH client (an sshd
# this test starts on 127.0.0.1 with its own host key, checked strictly
# against a known_hosts file, and a generated client key). install runs the
# test package list there (idempotent); compose forwards the Weldr socket
# over SSH to the stand-in composer. SSH drops while composing: a short drop
# is survived (the forward is re-established, the same compose finishes); a
# long one fails compose with an error that says so, and the rerun picks up
# the same compose instead of starting another.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_buildinfra.sh"
cd "$T"
ssh-keygen -q -t ed25519 -N '' -f client_key
sshd_start "$T/client_key.pub"
standin_start --build-seconds 0.3

cat >def.yaml <<EOF
name: dcn-edge
version: 1.0.0
ref: $REF
repo: ./root/repo
compose:
  backend: weldr
provider:
  kind: ssh
  timeout_s: 20
ssh:
  host: 127.0.0.1
  port: $SSHD_PORT
  user: $ME
  key: ./client_key
  known_hosts: $SSHD_KNOWN_HOSTS
install:
  packages: [dcn-test-a, dcn-test-b]
  commands:
    - mkdir -p $T/installed
    - touch $T/installed/dcn-test-a $T/installed/dcn-test-b
  check: test -f $T/installed/dcn-test-a && test -f $T/installed/dcn-test-b
composer:
  socket: $WELDR_SOCK
  poll_s: 1
EOF

out=$(builder provision -f def.yaml --json 2>prov.err) || { cat prov.err >&2; fail "provision ssh"; }
[[ $(json_get "$out" address) == "$ME@127.0.0.1:$SSHD_PORT" ]] || fail "target: $out"
out=$(builder install -f def.yaml --json 2>inst.err) || { cat inst.err >&2; fail "install"; }
[[ $(json_get "$out" changed) == true && -f installed/dcn-test-b ]] || fail "install: $out"
out=$(builder install -f def.yaml --json 2>inst2.err) || fail "install again"
[[ $(json_get "$out" changed) == false ]] || fail "install not idempotent"
pass "provider ssh: host answers with a strictly checked host key; install over SSH, idempotent"

out=$(builder compose -f def.yaml --json 2>c1.err) || { cat c1.err >&2; fail "compose over SSH"; }
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish"
serve_root "$T/root"
echo "  url: $URL/repo" >>def.yaml   # composer: builds the next versions on the published head
pass "compose through the SSH-forwarded Weldr socket, published"

# a short drop: sshd and its sessions die, come back a second later
standin_stop
standin_start --build-seconds 6
drop_sshd() { pkill -TERM -P "$SSHD_PID" 2>/dev/null || true; sshd_stop; }
builder compose -f def.yaml --version 1.0.1 >c2.out 2>c2.err &
cpid=$!
for i in $(seq 1 100); do [[ $(standin_count compose_started) == 1 ]] && break; sleep 0.1; done
drop_sshd
sleep 1
sshd_start "$T/client_key.pub"
wait $cpid || { cat c2.err >&2; fail "compose did not survive a short SSH drop"; }
grep -q 'event=reconnect attempt=1' c2.err || fail "no reconnect reported"
[[ $(standin_requests POST /api/v1/compose) == 1 ]] || fail "a second compose was started"
pass "a short SSH drop during the compose is survived: forward re-established, same compose finished"

# a long drop: compose fails saying why; the rerun resumes the same compose
standin_stop
standin_start --build-seconds 8
builder compose -f def.yaml --version 1.0.2 >c3.out 2>c3.err &
cpid=$!
for i in $(seq 1 100); do [[ $(standin_count compose_started) == 1 ]] && break; sleep 0.1; done
drop_sshd
if wait $cpid; then fail "compose passed with SSH down"; fi
grep -q "dcn-builder: compose: weldr: .*forwarding the Weldr socket $WELDR_SOCK from $ME@127.0.0.1:$SSHD_PORT over SSH failed" c3.err ||
    fail "unclear SSH error: $(tail -n1 c3.err)"
sshd_start "$T/client_key.pub"
out=$(builder compose -f def.yaml --version 1.0.2 --json 2>c4.err) || { cat c4.err >&2; fail "rerun compose"; }
grep -q 'event=resume id=' c4.err || fail "the rerun did not resume the compose"
[[ $(standin_requests POST /api/v1/compose) == 1 ]] || fail "the rerun started another compose"
standin_no_violations
[[ ! -e .dcn-state/dcn-edge/builder/weldr-forward.pid ]] || fail "forward left running"
pass "a long SSH drop fails compose with the reason; the rerun resumes the same compose"
echo "4 passed, 0 failed"
