#!/bin/bash
# compose with the weldr backend leaves nothing in composer's store: a
# FINISHED compose is deleted once downloaded, a FAILED one after its log is
# read, a timed-out or interrupted one is cancelled and then deleted, each
# checked on the stand-in's own list endpoints (/api/v1/compose/queue,
# /finished, /failed, as osbuild-composer has them). What composer refuses
# to delete (the "errors" of its delete reply) becomes a warning with
# composer's id and msg, and never replaces the compose's own error. A
# compose composer no longer knows (200 {"uuids":[]}, its answer to an
# unknown uuid) is named clearly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_buildinfra.sh"
cd "$T"

nothing_listed() { # WHAT
    local left
    left=$(standin_listed)
    [[ -z $left ]] || fail "$1: composer still holds: $left"
}
# wait_for FILE PATTERN: until the builder's stderr shows it (its poll loop
# reached that point), or fail.
wait_for() {
    local i
    for i in $(seq 1 300); do grep -q "$2" "$1" && return 0; sleep 0.05; done
    cat "$1" >&2
    fail "never saw '$2'"
}

# the stand-in answers as osbuild-composer where the client's error
# handling depends on it (internal/weldr/api.go)
standin_start --queue-seconds 60
cat >def.yaml <<EOF
name: dcn-edge
version: 1.0.0
ref: $REF
repo: ./root/repo
compose:
  backend: weldr
composer:
  socket: $WELDR_SOCK
  poll_s: 1
  timeout_s: 120
blueprint:
  packages: [vim-enhanced]
EOF
unknown=00000000-0000-4000-8000-000000000001
[[ $(standin_get /api/v1/compose/status/$unknown) == $'200 application/json; charset=utf-8\n{"uuids": []}' ]] ||
    fail "status of an unknown uuid: $(standin_get /api/v1/compose/status/$unknown)"
"$DCN_BUILDER" compose -f def.yaml >waiting.out 2>waiting.err &
pid=$!
wait_for waiting.err 'event=compose-status id=.* status=WAITING'
id=$(grep -o 'event=compose-started id=[^ ]*' waiting.err | cut -d= -f3)
[[ $(standin_get /api/v1/compose/log/$id) == "200 application/json; charset=utf-8"$'\n''{"status": false, "errors": [{"id": "BuildInWrongState", "msg": "Build '"$id"' has not started yet. No logs to view."}]}' ]] ||
    fail "log of a waiting compose: $(standin_get /api/v1/compose/log/$id)"
pass "stand-in: status of an unknown uuid is 200 {\"uuids\":[]}; log of a waiting compose is 200 with a JSON error"

# interrupted while WAITING: cancelled, then deleted
kill -INT $pid
rc=0; wait $pid || rc=$?
[[ $rc != 0 ]] || fail "an interrupted compose passed"
grep -q "interrupted by SIGINT" waiting.err || fail "unclear interrupt: $(tail -n2 waiting.err)"
grep -q "event=cancel id=$id reason=interrupted result=cancelled" waiting.err || fail "not cancelled: $(cat waiting.err)"
grep -q "event=deleted id=$id reason=interrupted" waiting.err || fail "not deleted: $(cat waiting.err)"
nothing_listed "after SIGINT"
[[ ! -e .dcn-state/dcn-edge/weldr.json ]] || fail "weldr.json still names the deleted compose"
pass "SIGINT on a WAITING compose: cancelled, then deleted; composer's queue and failed lists are empty"

# FINISHED: deleted once downloaded
standin_stop
standin_start --build-seconds 0.2
builder compose -f def.yaml 2>finished.err || { cat finished.err >&2; fail "compose"; }
grep -q "event=deleted id=.* reason=downloaded" finished.err || fail "finished compose not deleted: $(cat finished.err)"
nothing_listed "after a finished compose"
if grep -q "event=warning id=" finished.err; then fail "delete warnings: $(grep event=warning finished.err)"; fi
pass "a FINISHED compose is deleted from composer once its image is downloaded"

# FAILED: the log is read, then the compose deleted
standin_stop
standin_start --fail --build-seconds 0.2
if builder compose -f def.yaml --version 1.0.1 2>failed.err; then fail "a FAILED compose passed"; fi
grep -q "FAILED in osbuild-composer; end of its log: .*transaction failed" failed.err || fail "FAILED without the log: $(cat failed.err)"
grep -q "event=deleted id=.* reason=failed" failed.err || fail "failed compose not deleted: $(cat failed.err)"
nothing_listed "after a FAILED compose"
pass "a FAILED compose: its log in the error, then deleted from composer"

# timeout on a RUNNING compose: cancelled, then deleted
standin_stop
standin_start --hang
if builder compose -f def.yaml --version 1.0.1 --composer-timeout 2 2>hang.err; then fail "a hung compose passed"; fi
grep -q "still RUNNING after 2 s (composer.timeout_s); cancelled" hang.err || fail "timeout not reported: $(cat hang.err)"
grep -q "event=deleted id=.* reason=timeout" hang.err || fail "timed-out compose not deleted: $(cat hang.err)"
nothing_listed "after a timeout"
pass "a timed-out RUNNING compose is cancelled, then deleted"

# what composer does not delete is a warning with its id and msg; the
# build's own result stands
standin_stop
standin_start --build-seconds 0.2 --delete-error "write /var/lib/osbuild-composer: no space left on device"
out=$(builder compose -f def.yaml --version 1.0.2 --json 2>delerr.err) || { cat delerr.err >&2; fail "a refused delete failed the compose"; }
[[ $(json_get "$out" changed) == true ]] || fail "nothing staged: $out"
grep -qE 'event=warning id=[0-9a-f-]+ msg="composer did not delete compose [0-9a-f-]+ \(downloaded\): ComposeError: [0-9a-f-]+: write /var/lib/osbuild-composer: no space left on device"' delerr.err ||
    fail "no warning for the refused delete: $(grep -E 'warning|delete' delerr.err)"
standin_stop
standin_start --fail --build-seconds 0.2 --delete-error "store is read-only"
if builder compose -f def.yaml --version 1.0.3 2>delerr2.err; then fail "a FAILED compose passed"; fi
tail -n1 delerr2.err | grep -q "FAILED in osbuild-composer; end of its log: .*transaction failed" ||
    fail "the refused delete hid the compose's error: $(tail -n1 delerr2.err)"
grep -q 'event=warning .*(failed): ComposeError: .*: store is read-only' delerr2.err || fail "no warning: $(cat delerr2.err)"
pass "a delete composer refuses is a warning with its id and msg; the compose's own result or error stands"

# composer forgets the compose while we poll it (SIGHUP: the stand-in's
# store is emptied, as a rebuilt builder's would be): a clear error
standin_stop
standin_start --hang
"$DCN_BUILDER" compose -f def.yaml --version 1.0.4 2>forgot.err &
pid=$!
wait_for forgot.err 'event=compose-status id=.* status=RUNNING'
id=$(grep -o 'event=compose-started id=[^ ]*' forgot.err | cut -d= -f3)
kill -HUP "$STANDIN_PID"
if wait $pid; then fail "a compose composer forgot passed"; fi
tail -n1 forgot.err | grep -qF "composer does not know compose $id (deleted, or composer restarted?)" ||
    fail "unclear error for an unknown compose: $(tail -n1 forgot.err)"
standin_no_violations
pass "a compose composer no longer knows (200 {\"uuids\":[]}) is named clearly"
echo "7 passed, 0 failed"
