#!/bin/bash
# dcn-builder deploy and undo against a fake cluster (tests/rollout/fake-kubectl:
# records every call, answers like kubectl; kustomize is the real one). The
# "pods" are one real dcn-hoster: when the fake applies a new pod template it
# runs a hook that makes the hoster serve that image's content (a copy of the
# repo as it was when the image was "pushed"), so verification through
# /-/status is real. The push results are written by the test in push's
# format (<state_dir>/package.json and push.json, with the members those
# stages write: reference, digest, version; commit from package).
#   deploy 1.0.0 -> rolled out, verified, changed; again -> unchanged
#   deploy 2.0.0 -> previous_image is 1.0.0's; served commit is 2.0.0's
#   undo -> 1.0.0 served again (from the ReplicaSet history); undo --to 1.0.0 again -> unchanged
#   undo --to 2.0.0 -> forward again; undo --to 9.9.9 -> clear error
#   an image whose content never shows up -> verify fails, naming what is served
#   a rollout that does not finish -> clear error, exit 1
#   no deploy.url and a Route without host -> verified through the Service proxy
source "$(dirname "$0")/lib.sh"
fake_kube
cd "$T"

REPO_NAME=registry.example.com:5000/dcn/dcn-hoster
CLUSTER_REGISTRY=image-registry.openshift-image-registry.svc:5000
STATE=$T/.dcn-state/dcn-edge
mkdir -p "$T/images" "$STATE"

# the hoster serves $T/serve, a symlink the hook re-points
ln -s "$T/images/none" "$T/serve.tmp"; mkdir -p "$T/images/none/repo"
ostree init --repo="$T/images/none/repo" --mode=archive
mv -T "$T/serve.tmp" "$T/serve"
hoster_start pods --root "$T/serve"
HOSTER_URL=$URL
cat >"$T/on-rollout.sh" <<HOOK
#!/bin/sh
# the fake cluster started pods running image \$1: serve that image's content
d=$T/images/\${1##*sha256:}
[ -d "\$d" ] || { echo "hook: no content for \$1 (pods of a broken image)" >&2; exit 0; }
ln -sfn "\$d" $T/serve.tmp && mv -T $T/serve.tmp $T/serve && kill -HUP $HOSTER_PID
HOOK
chmod +x "$T/on-rollout.sh"
export FAKE_KUBE_ON_ROLLOUT="$T/on-rollout.sh \"\$1\""

write_def "$T/def.yaml" "deploy:" "  namespace: dcn" "  registry: $CLUSTER_REGISTRY" "  url: $HOSTER_URL" "  timeout: 20"

# publish VERSION VARIANT: compose + publish; then "push": snapshot the repo as
# the image's content and write push.json. Sets DIGEST and COMMIT.
publish() {
    make_tree "$T/rootfs" "$2"
    builder compose -f "$T/def.yaml" --version "$1" --json >/dev/null 2>"$T/compose.err" || { cat "$T/compose.err" >&2; fail "compose $1"; }
    builder publish -f "$T/def.yaml" --version "$1" --json >/dev/null 2>"$T/publish.err" || { cat "$T/publish.err" >&2; fail "publish $1"; }
    COMMIT=$(ostree --repo="$T/root/repo" rev-parse "$REF")
    DIGEST=$(fake_digest "image-$1")
    cp -a "$T/root" "$T/images/${DIGEST#sha256:}"
    write_push "$1" "$DIGEST" "$COMMIT"
}
# write_push VERSION DIGEST COMMIT: what package and push leave in the state
# directory (their members as builder/package/package.c and builder/push/push.c write them)
write_push() {
    printf '{"stage":"package","version":"%s","tag":"%s","manifest_digest":"%s","commit":"%s","ref":"%s","changed":true}\n' \
        "$1" "$1" "$2" "$3" "$REF" >"$STATE/package.json"
    printf '{"stage":"push","version":"%s","registry":"https://%s","repository":"%s","tag":"%s","digest":"%s","reference":"%s/%s@%s","tag_reference":"%s/%s:%s","changed":true}\n' \
        "$1" "${REPO_NAME%%/*}" "${REPO_NAME#*/}" "$1" "$2" "${REPO_NAME%%/*}" "${REPO_NAME#*/}" "$2" "${REPO_NAME%%/*}" "${REPO_NAME#*/}" "$1" >"$STATE/push.json"
}
deploy() { builder deploy -f "$T/def.yaml" --json "$@" 2>>"$T/deploy.err"; }
undo() { builder undo -f "$T/def.yaml" --json "$@" 2>>"$T/deploy.err"; }
served() { curl -s "$HOSTER_URL/-/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["refs"].get(sys.argv[1],""))' "$REF"; }

# ---- first rollout -----------------------------------------------------------
publish 1.0.0 1; D1=$DIGEST C1=$COMMIT
IMG1=$CLUSTER_REGISTRY/dcn/dcn-hoster@$D1
n=$(calls_count)
out=$(deploy) || { cat "$T/deploy.err" >&2; fail "deploy 1.0.0"; }
require_eq "deploy 1.0.0 ok" true "$(json_get "$out" ok)"
require_eq "deploy 1.0.0 changed" true "$(json_get "$out" changed)"
require_eq "image: pushed digest, cluster registry" "$IMG1" "$(json_get "$out" image)"
require_eq "served commit after deploy 1.0.0" "$C1" "$(json_get "$out" served_commit)"
require_eq "previous image of the first rollout" "" "$(json_get "$out" previous_image)"
require_eq "what the hoster serves" "$C1" "$(served)"
calls_since "$n" | grep -q '"apply", "-f", ".*/deploy/rendered.yaml"' || fail "no kubectl apply -f rendered.yaml: $(calls_since "$n")"
calls_since "$n" | grep -q '"oc", "--namespace", "dcn", "rollout", "status", "deployment/dcn-hoster", "--timeout=20s"' \
    || fail "no rollout status with the timeout: $(calls_since "$n")"
grep -q "image: $IMG1" "$STATE/deploy/rendered.yaml" || fail "rendered.yaml does not pin $IMG1"
pass "deploy 1.0.0: applied, rolled out, verified (serves $C1)"

out=$(deploy) || { cat "$T/deploy.err" >&2; fail "deploy 1.0.0 again"; }
require_eq "deploy 1.0.0 rerun changed" false "$(json_get "$out" changed)"
python3 -c 'import json,sys; o=json.loads(sys.argv[1])["objects"]; assert o and all(x["action"]=="unchanged" for x in o), o' "$out" \
    || fail "rerun: objects not all unchanged: $out"
pass "deploy 1.0.0 again: every object unchanged, changed=false"

# ---- second version ----------------------------------------------------------
publish 2.0.0 2; D2=$DIGEST C2=$COMMIT
IMG2=$CLUSTER_REGISTRY/dcn/dcn-hoster@$D2
out=$(deploy) || { cat "$T/deploy.err" >&2; fail "deploy 2.0.0"; }
require_eq "deploy 2.0.0 changed" true "$(json_get "$out" changed)"
require_eq "previous image" "$IMG1" "$(json_get "$out" previous_image)"
require_eq "served commit after deploy 2.0.0" "$C2" "$(json_get "$out" served_commit)"
require_eq "version rolled out" 2.0.0 "$(json_get "$out" version)"
pass "deploy 2.0.0: previous image recorded, serves $C2"

# ---- undo --------------------------------------------------------------------
out=$(undo) || { cat "$T/deploy.err" >&2; fail "undo"; }
require_eq "undo goes back to 1.0.0's image" "$IMG1" "$(json_get "$out" image)"
require_eq "undone image" "$IMG2" "$(json_get "$out" undone_image)"
require_eq "served after undo" "$C1" "$(json_get "$out" served_commit)"
require_eq "undo changed" true "$(json_get "$out" changed)"
require_eq "what the hoster serves after undo" "$C1" "$(served)"
pass "undo: back to 1.0.0 (from the ReplicaSet history), verified"

out=$(undo --to 1.0.0) || { cat "$T/deploy.err" >&2; fail "undo --to 1.0.0 (rerun)"; }
require_eq "undo --to 1.0.0 when 1.0.0 runs" false "$(json_get "$out" changed)"
pass "undo --to 1.0.0 when already there: unchanged"

out=$(undo --to 2.0.0) || { cat "$T/deploy.err" >&2; fail "undo --to 2.0.0"; }
require_eq "undo --to 2.0.0 image" "$IMG2" "$(json_get "$out" image)"
require_eq "served after undo --to 2.0.0" "$C2" "$(json_get "$out" served_commit)"
pass "undo --to 2.0.0: forward again"

rc=0; out=$(undo --to 9.9.9) || rc=$?
require_eq "exit status of undo --to an unknown version" 1 "$rc"
json_get "$out" error | grep -q 'no earlier rollout of deployment/dcn-hoster served version 9.9.9 (earlier: 1.0.0)' \
    || fail "undo --to 9.9.9 message: $(json_get "$out" error)"
pass "undo --to 9.9.9: $(json_get "$out" error)"

# ---- failures ------------------------------------------------------------------
write_push 3.0.0 "$(fake_digest broken)" "$(printf 3 | sha256sum | cut -c1-64)"
rc=0; out=$(builder deploy -f "$T/def.yaml" --deploy-timeout 3 --json 2>>"$T/deploy.err") || rc=$?
require_eq "exit status when the new pods never serve the new commit" 1 "$rc"
json_get "$out" error | grep -q "verify $HOSTER_URL/-/status: after 3 s and [0-9]* attempts: serves $REF $C2, expected " \
    || fail "verify failure message: $(json_get "$out" error)"
pass "verification failure: $(json_get "$out" error | cut -c1-160)..."

write_push 2.0.0 "$D2" "$C2"
rc=0; out=$(FAKE_KUBE_ROLLOUT_STUCK=1 deploy) || rc=$?
require_eq "exit status of a stuck rollout" 1 "$rc"
json_get "$out" error | grep -q 'rollout of deployment/dcn-hoster did not complete within 20 s.*timed out waiting for the condition' \
    || fail "stuck rollout message: $(json_get "$out" error)"
pass "stuck rollout: $(json_get "$out" error | cut -c1-140)..."

# ---- verification through the Service proxy ----------------------------------
out=$(builder deploy -f "$T/def.yaml" --json 2>>"$T/deploy.err") || true  # back to 2.0.0 after the broken one
write_def "$T/def2.yaml" "deploy:" "  namespace: dcn" "  registry: $CLUSTER_REGISTRY" "  timeout: 20" "state_dir: $STATE"
n=$(calls_count)
out=$(FAKE_KUBE_SERVICE_URL=$HOSTER_URL builder deploy -f "$T/def2.yaml" --json 2>>"$T/deploy.err") || { cat "$T/deploy.err" >&2; fail "deploy via service proxy"; }
require_eq "served commit via the service proxy" "$C2" "$(json_get "$out" served_commit)"
calls_since "$n" | grep -q '"get", "route/dcn-hoster", "-o", "json"' || fail "did not look for the Route's host"
calls_since "$n" | grep -q '"get", "--raw", "/api/v1/namespaces/dcn/services/dcn-hoster:http/proxy/-/status"' \
    || fail "did not verify through the Service proxy: $(calls_since "$n")"
pass "no URL: the Route has no host; verified through the API server's Service proxy"

# every call the fake got was one it imitates (it fails loudly otherwise)
! grep -q 'unsupported' "$T/deploy.err" || fail "dcn-builder used a kubectl command the fake does not know"
pass "test_deploy_verify_undo"
