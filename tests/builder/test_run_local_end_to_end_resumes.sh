#!/bin/bash
# `dcn-builder run` with provider local and the stand-in composer: 1.0.0
# goes provision -> install -> compose -> publish -> teardown (package,
# push, deploy are in run.skip: other tests cover them), is served by
# dcn-hoster and pulled; rerunning a finished version changes nothing.
# 2.0.0 with an injected publish failure stops at publish (run.json says
# so, the hosted head is still 1.0.0); the rerun resumes at publish without
# composing again, and the client upgrades through the delta. 3.0.0 whose
# compose FAILS in composer: teardown still runs, the error names the stage
# and why; the rerun resumes at compose. --dry-run prints the plan and
# changes nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_buildinfra.sh"
cd "$T"
standin_start --build-seconds 0.3
STATE=$T/.dcn-state/dcn-edge
mkdir -p root
serve_root "$T/root"

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
  kind: local
install:
  packages: [dcn-test-tool]
  commands: ["mkdir -p $T/installed", "touch $T/installed/tool"]
  check: test -f $T/installed/tool
composer:
  socket: $WELDR_SOCK
  url: $URL/repo
  poll_s: 1
run:
  skip: [package, push, deploy]
EOF

stages() { python3 -c 'import json,sys; print(" ".join("%s=%s" % (s["name"], s["status"]) for s in json.load(open(sys.argv[1]))["stages"]))' "$STATE/run.json"; }

out=$(builder run -f def.yaml --json 2>run1.err) || { cat run1.err >&2; fail "run 1.0.0"; }
[[ $(json_get "$out" finished) == true ]] || fail "run 1.0.0 not finished: $out"
[[ $(stages) == "provision=done install=done compose=done publish=done iso=skipped package=skipped push=skipped teardown=done deploy=skipped" ]] ||
    fail "stages: $(stages)"
for s in install compose publish teardown; do [[ -f $STATE/$s.json ]] || fail "no $s.json"; done
[[ ! -e $STATE/provision.json ]] || fail "teardown left provision.json (there is no builder any more)"
new_client client --no-gpg-verify
ostree --repo=client pull dcn "$REF" >/dev/null || fail "pull 1.0.0"
out=$(builder run -f def.yaml --json 2>run1b.err) || fail "rerun of a finished version"
[[ $(json_get "$out" changed) == false ]] && grep -q "event=unchanged" run1b.err || fail "a finished run was redone: $out"
pass "run 1.0.0 (local): provision, install, compose, publish, teardown; served and pulled; rerun changes nothing"

make_tree "$T/base" 2
if DCN_BUILDER_RUN_FAIL=publish builder run -f def.yaml --version 2.0.0 2>run2.err; then fail "injected failure ignored"; fi
grep -q "dcn-builder: run: stage publish failed (builder torn down; a rerun resumes at publish): publish: injected failure" run2.err ||
    fail "unclear failure: $(tail -n1 run2.err)"
[[ $(json_get "$(<"$STATE/run.json")" failed_stage) == publish ]] || fail "run.json: $(cat "$STATE/run.json")"
[[ $(stages) == "provision=done install=done compose=done publish=failed iso=skipped package=skipped push=skipped teardown=done deploy=skipped" ]] ||
    fail "stages after failure: $(stages)"
ostree --repo=root/repo show "$REF" | grep -q "Version: 1.0.0" || fail "the head moved despite the failure"
composes=$(standin_requests POST /api/v1/compose)
out=$(builder run -f def.yaml --version 2.0.0 --json 2>run3.err) || { cat run3.err >&2; fail "resume"; }
grep -q "event=plan version=2.0.0 resume_at=publish builder=none" run3.err || fail "did not resume at publish: $(grep event=plan run3.err)"
[[ $(standin_requests POST /api/v1/compose) == "$composes" ]] || fail "the rerun composed again"
[[ $(stages) == "provision=skipped install=skipped compose=done publish=done iso=skipped package=skipped push=skipped teardown=done deploy=skipped" ]] ||
    fail "stages after resume: $(stages)"
log_mark
ostree --repo=client pull --commit-metadata-only dcn "$REF" >/dev/null
ostree --repo=client pull dcn "$REF" >/dev/null || fail "upgrade"
paths_since_mark | grep -q '^/repo/deltas/' || fail "upgrade without the delta"
ostree --repo=client cat "dcn:$REF" /usr/etc/dcn/new.conf | grep -q "added in v2" || fail "client is not on 2.0.0"
pass "injected publish failure: run stops at publish; the rerun resumes there without composing again; client upgrades via the delta"

standin_stop
standin_start --fail --build-seconds 0.2
if builder run -f def.yaml --version 3.0.0 2>run4.err; then fail "a FAILED compose passed"; fi
grep -q "dcn-builder: run: stage compose failed (builder torn down; a rerun resumes at compose): compose: weldr: compose .* FAILED in osbuild-composer; end of its log: .*transaction failed" run4.err ||
    fail "unclear: $(tail -n1 run4.err)"
grep -q "stage=run event=stage-start name=teardown after_failure=true" run4.err || fail "no teardown after the failure"
left=$(standin_listed)
[[ -z $left ]] || fail "the FAILED compose was left in composer: $left"
standin_stop
standin_start --build-seconds 0.2
out=$(builder run -f def.yaml --version 3.0.0 --json 2>run5.err) || { cat run5.err >&2; fail "rerun 3.0.0"; }
grep -q "event=plan version=3.0.0 resume_at=compose builder=local" run5.err || fail "3.0.0 did not resume at compose"
ostree --repo=root/repo show "$REF" | grep -q "Version: 3.0.0" || fail "3.0.0 not published"
pass "a FAILED compose: deleted from composer, teardown runs, the error names the stage and composer's log; the rerun resumes at compose"

before=$(cat "$STATE/run.json")
composes=$(standin_requests POST /api/v1/compose)
builder run -f def.yaml --version 4.0.0 --dry-run >plan.out 2>plan.err || { cat plan.err >&2; fail "dry run"; }
for want in "provision: provider local: no VM" "install: would run on this host: sh -s" "mkdir -p $T/installed" \
            "compose:   POST /api/v1/blueprints/new (Content-Type: text/x-toml)" "composer reads $URL/repo/refs/heads/$REF" \
            "publish: would publish 4.0.0 on $REF" "teardown: provider local: no VM to delete"; do
    grep -qF -- "$want" plan.out || fail "dry run lacks '$want': $(cat plan.out)"
done
[[ $(cat "$STATE/run.json") == "$before" ]] || fail "the dry run changed run.json"
[[ $(standin_requests POST /api/v1/compose) == "$composes" ]] || fail "the dry run talked to composer"
ostree --repo=root/repo show "$REF" | grep -q "Version: 3.0.0" || fail "the dry run published"
standin_no_violations
pass "run --dry-run prints every stage's commands and requests and changes nothing"
echo "4 passed, 0 failed"
