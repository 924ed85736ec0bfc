#!/bin/bash
# The builder playbooks of the dcn.edge collection, built and installed with
# ansible-galaxy into a temporary path (tests/rollout/collection_lib.sh) and
# run from there as dcn.edge.<playbook> by Debian's ansible-playbook on
# localhost, the way AAP runs them: `dcn-builder run` with provider local and the weldr
# backend against the stand-in osbuild-composer (tests/weldr-standin), a
# real registry (Debian's docker-registry on 127.0.0.1), and the rollout in
# dry-run mode against the fake kubectl (tests/rollout/fake-kubectl).
#   build_and_host, first run: every stage done, the image pushed, "changed" > 0, no failure;
#   second run (same version): changed=0 failed=0 (idempotent: "ok");
#   2.0.0: built on the hosted 1.0.0, changed again;
#   rollout for real on the fake cluster (verified through the Service
#   proxy), rerun: changed=0;
#   rollback kind=content to 1.0.0 (rollback, package, push, deploy), rerun: changed=0;
#   a rollout that fails verification: the previous image is applied again, the job fails;
#   status reads the repository: changed=0.
# `run` goes through its async job (polled every second here).
source "$(dirname "$0")/lib.sh"
source "$DCN_SOURCE_DIR/tests/builder/lib_buildinfra.sh"
source "$DCN_SOURCE_DIR/tests/builder/push_lib.sh"
source "$DCN_SOURCE_DIR/tests/rollout/collection_lib.sh"
need_tools ansible-playbook docker-registry
fake_kube
cd "$T"

standin_start --build-seconds 0.2
registry_start registry
mkdir -p "$T/root"
serve_root "$T/root"   # the hosted repo composer builds on (empty until the first publish)
cat >"$T/def.yaml" <<YAML
name: dcn-edge
version: 0.0.0
ref: $REF
repo: ./root/repo
keep: 3
deltas_from: 2
compose:
  backend: weldr
composer:
  socket: $WELDR_SOCK
  poll_s: 1
  timeout_s: 120
install:
  check: test -S $WELDR_SOCK
blueprint:
  packages: [vim-enhanced]
registry:
  url: $REG_URL
  repository: dcn/dcn-hoster
deploy:
  namespace: dcn
  registry: image-registry.openshift-image-registry.svc:5000
YAML

# builder-side PATH: dcn-builder and the fake oc/kubectl
mkdir -p "$T/bin"; ln -s "$DCN_BUILDER" "$T/bin/dcn-builder"
export PATH=$T/bin:$PATH
collection_install
cat >"$T/inventory.yml" <<'INV'
all:
  children:
    dcn_builder:
      hosts:
        localhost:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
INV

play() { # NAME PLAYBOOK [extra vars...]: runs dcn.edge.PLAYBOOK, keeps the output in $T/NAME.out
    local name=$1 pb=$2; shift 2
    local rc=0
    ansible-playbook -i "$T/inventory.yml" "dcn.edge.$pb" -e dcn_builder_async_poll=1 \
        -e dcn_builder_definition="$T/def.yaml" -e "{\"dcn_builder_overrides\": {\"composer-url\": \"$URL/repo\"}}" "$@" \
        >"$T/$name.out" 2>&1 || rc=$?
    if [[ $rc != 0 ]]; then cat "$T/$name.out" >&2; fail "ansible-playbook $pb ($name) exited $rc"; fi
    RECAP=$(grep -A1 '^PLAY RECAP' "$T/$name.out" | tail -1)
    echo "# $name: $RECAP"
}
recap() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$RECAP"; }

play first build_and_host -e dcn_builder_version=1.0.0 -e dcn_builder_deploy_dry_run=true
[[ $(recap failed) == 0 && $(recap changed) -gt 0 ]] || fail "first run: expected changes and no failure: $RECAP"
grep -q "^    - 'compose: done'" "$T/first.out" && grep -q "^    - 'push: done'" "$T/first.out" || fail "first run: stages not reported done: $(grep -A12 'What each stage did' "$T/first.out")"
grep -q 'image: image-registry.openshift-image-registry.svc:5000/dcn/dcn-hoster@sha256:' "$T/first.out" || fail "first run: no pinned image reported"
DIGEST=$(json_get "$(<"$T/.dcn-state/dcn-edge/push.json")" digest)
[[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/dcn/dcn-hoster/manifests/$DIGEST") == 200 ]] \
    || fail "the registry does not have the pushed manifest $DIGEST"
grep -q "dcn-hoster@$DIGEST" "$T/.dcn-state/dcn-edge/deploy/rendered.yaml" || fail "rendered manifests do not pin the pushed digest"
if grep -q '"apply"' "$FAKE_KUBE_DIR/calls.log"; then fail "dry-run deploy applied something"; fi
grep -q '^ASYNC POLL on localhost' "$T/first.out" || fail "first run: dcn-builder run did not run as a polled async job"
pass "first run: built 1.0.0 through the stand-in composer, pushed $DIGEST, rendered the rollout (dry run): $RECAP"

play second build_and_host -e dcn_builder_version=1.0.0 -e dcn_builder_deploy_dry_run=true
[[ $(recap failed) == 0 && $(recap changed) == 0 ]] || { cat "$T/second.out" >&2; fail "second run is not idempotent: $RECAP"; }
pass "second run of 1.0.0: $RECAP"

play v2 build_and_host -e dcn_builder_version=2.0.0 -e dcn_builder_deploy_dry_run=true
[[ $(recap failed) == 0 && $(recap changed) -gt 0 ]] || fail "2.0.0: expected changes: $RECAP"
[[ $(json_get "$(<"$T/.dcn-state/dcn-edge/push.json")" version) == 2.0.0 ]] || fail "2.0.0 was not pushed"
pass "2.0.0 built and pushed: $RECAP"

# a real rollout on the fake cluster: verified through the Service proxy,
# which the fake answers from the hoster serving the repository
export FAKE_KUBE_SERVICE_URL=$URL
play rollout rollout -e dcn_builder_version=2.0.0
[[ $(recap failed) == 0 && $(recap changed) -gt 0 ]] || fail "rollout: $RECAP"
grep -q '"apply", "-f"' "$FAKE_KUBE_DIR/calls.log" || fail "rollout did not apply"
HEAD2=$(ostree --repo="$T/root/repo" rev-parse "$REF")
grep -q "served_commit: $HEAD2" "$T/rollout.out" || fail "rollout: served commit is not 2.0.0's $HEAD2"
play rollout-again rollout -e dcn_builder_version=2.0.0
[[ $(recap failed) == 0 && $(recap changed) == 0 ]] || fail "rollout rerun: $RECAP"
pass "rollout: 2.0.0 applied and verified; rerun $RECAP"

# content rollback to 1.0.0: a new commit with 1.0.0's tree, packaged, pushed, rolled out
play content-rollback rollback -e dcn_builder_rollback_kind=content -e dcn_builder_rollback_to=1.0.0
[[ $(recap failed) == 0 && $(recap changed) -gt 0 ]] || fail "rollback content: $RECAP"
HEAD3=$(ostree --repo="$T/root/repo" rev-parse "$REF")
[[ $HEAD3 != "$HEAD2" ]] || fail "content rollback did not move the ref"
grep -q "served_commit: $HEAD3" "$T/content-rollback.out" || fail "content rollback: the rolled-back commit is not what is served"
play content-rollback-again rollback -e dcn_builder_rollback_kind=content -e dcn_builder_rollback_to=1.0.0
[[ $(recap failed) == 0 && $(recap changed) == 0 ]] || { cat "$T/content-rollback-again.out" >&2; fail "rollback content rerun: $RECAP"; }
pass "rollback (content, to 1.0.0): new commit $HEAD3 packaged, pushed, rolled out; rerun $RECAP"

# a rollout that fails verification: the playbook puts the previous image back, then fails
PREV=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["objects"]["Deployment/dcn/dcn-hoster"]["spec"]["template"]["spec"]["containers"][0]["image"])' "$FAKE_KUBE_DIR/objects.json")
BAD=image-registry.openshift-image-registry.svc:5000/dcn/dcn-hoster@$(fake_digest never-serves)
n=$(calls_count)
rc=0
FAKE_KUBE_SERVICE_URL=http://127.0.0.1:9 ansible-playbook -i "$T/inventory.yml" \
    dcn.edge.rollout -e dcn_builder_definition="$T/def.yaml" -e dcn_builder_deploy_image="$BAD" \
    -e '{"dcn_builder_overrides": {"deploy-timeout": "2"}}' >"$T/failed-rollout.out" 2>&1 || rc=$?
[[ $rc != 0 ]] || fail "rollout succeeded although verification cannot pass"
grep -q "deploy failed: verify " "$T/failed-rollout.out" || { cat "$T/failed-rollout.out" >&2; fail "failed rollout: no deploy error in the job's message"; }
calls_since "$n" | grep -q '"apply"' || fail "failed rollout: nothing applied"
[[ $(calls_since "$n" | grep -c "\"apply\"") == 2 ]] || { calls_since "$n" >&2; sed -n "/TASK \\[dcn.edge.dcn_builder : Run dcn-builder undo/,\$p" "$T/failed-rollout.out" >&2; fail "failed rollout: expected the bad apply and the undo apply"; }
grep -q "TASK \[dcn.edge.dcn_builder : Run dcn-builder undo\]" "$T/failed-rollout.out" || fail "failed rollout: undo did not run"
grep -q -- "--image.*$PREV\|$PREV" "$T/.dcn-state/dcn-edge/deploy/rendered.yaml" || fail "failed rollout: the undo did not render the previous image $PREV"
pass "failed rollout: deploy of $BAD failed verification; the playbook applied the previous image again and failed the job"
# the fake now runs the previous image again; the failed undo verification (dead URL) is in the message
export FAKE_KUBE_SERVICE_URL=$URL

play status status
[[ $(recap failed) == 0 && $(recap changed) == 0 ]] || fail "status changed something: $RECAP"
grep -q '2.0.0' "$T/status.out" || fail "status does not list 2.0.0"
pass "status: $RECAP"
standin_no_violations
sed -n "/TASK \[Status\]/,/PLAY RECAP/p" "$T/status.out"
pass "test_playbook_build_and_host"
