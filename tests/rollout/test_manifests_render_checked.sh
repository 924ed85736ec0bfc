#!/bin/bash
# The manifests dcn-builder deploy applies, rendered for OpenShift and for
# plain Kubernetes exactly as deploy renders them (its --dry-run output),
# pass the structural check (check_manifests.py: parsed, required fields,
# digest pinned, probes on the hoster's real endpoints, securityContext,
# drain settings vs grace period, selectors and ports connected); each
# probe path answers 200 on a running dcn-hoster; and the check itself
# catches every defect it is meant to (its --self-test).
source "$(dirname "$0")/lib.sh"
fake_kube

cd "$T"
make_sample_root "$T/content"
hoster_start probe --root "$T/content"
IMAGE=image-registry.openshift-image-registry.svc:5000/dcn/dcn-hoster@$(fake_digest v1)
write_def "$T/def.yaml" "deploy:" "  namespace: dcn"

for platform in openshift kubernetes; do
    out=$(builder deploy -f "$T/def.yaml" --deploy-platform "$platform" --image "$IMAGE" --dry-run --json 2>"$T/$platform.err") \
        || { cat "$T/$platform.err" >&2; fail "$platform: deploy --dry-run failed"; }
    require_eq "$platform: ok" true "$(json_get "$out" ok)"
    require_eq "$platform: dry_run" true "$(json_get "$out" dry_run)"
    require_eq "$platform: changed in a dry run" false "$(json_get "$out" changed)"
    python3 -c 'import json,sys; sys.stdout.write(json.loads(sys.argv[1])["manifests_yaml"])' "$out" >"$T/$platform.yaml"
    cmp -s "$T/$platform.yaml" "$(json_get "$out" rendered)" || fail "$platform: --json manifests differ from the rendered file"
    python3 "$ROLLOUT_DIR/check_manifests.py" "$T/$platform.yaml" --image "$IMAGE" --platform "$platform" \
        --hoster-url "$URL" --self-test || fail "$platform: structural check"
    pass "$platform: rendered manifests pass the structural check; probes answer 200 on dcn-hoster"
done

# the dry run touched nothing: only kustomize and reads
if grep -v '"kustomize"\|"get"' "$FAKE_KUBE_DIR/calls.log" | grep -q .; then
    fail "--dry-run ran commands that change the cluster: $(grep -v '"kustomize"\|"get"' "$FAKE_KUBE_DIR/calls.log")"
fi
[[ ! -e $T/.dcn-state/dcn-edge/deploy.json ]] || fail "--dry-run wrote a deploy result to the state directory"
# without --json: the commands as comments, then the manifests (valid YAML)
builder deploy -f "$T/def.yaml" --image "$IMAGE" --dry-run >"$T/plain.out" 2>/dev/null || fail "deploy --dry-run (text)"
grep -q '^#   oc --namespace dcn apply -f .*/rendered.yaml$' "$T/plain.out" || fail "dry-run text lacks the apply command: $(head -5 "$T/plain.out")"
grep -q '^#   oc --namespace dcn rollout status deployment/dcn-hoster --timeout=600s$' "$T/plain.out" || fail "dry-run text lacks rollout status"
python3 -c 'import sys,yaml; d=[x for x in yaml.safe_load_all(open(sys.argv[1])) if x]; assert len(d)==4, len(d)' "$T/plain.out" \
    || fail "dry-run text output is not the YAML of 4 objects"
pass "dry run: commands and manifests printed, nothing applied, no state written"

# an unpinned image is refused before anything renders
rc=0; builder deploy -f "$T/def.yaml" --image "registry.example/dcn/dcn-hoster:2.0.0" --dry-run >/dev/null 2>"$T/unpinned.err" || rc=$?
require_eq "exit status for --image without a digest" 2 "$rc"
grep -q 'pinned by digest' "$T/unpinned.err" || fail "unpinned image message: $(cat "$T/unpinned.err")"
pass "test_manifests_render_checked"
