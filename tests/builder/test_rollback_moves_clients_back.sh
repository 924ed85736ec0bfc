#!/bin/bash
# Publish 1.0.0 and 2.0.0; a client on 2.0.0; rollback --to 1.0.0 makes a
# new commit (parent 2.0.0, tree of 1.0.0, newer timestamp) so the client
# pulls and ends with the 1.0.0 tree. Rolling back again changes nothing;
# rolling back to an unknown version fails; status shows it all; prune keeps
# `keep` versions.
source "$(dirname "$0")/lib.sh"
cd "$T"
make_tree rootfs 1
write_def def.yaml
builder compose -f def.yaml >/dev/null 2>&1 && builder publish -f def.yaml >/dev/null 2>&1 || fail "1.0.0"
cp -a rootfs rootfs1
make_tree rootfs 2
builder compose -f def.yaml --version 2.0.0 >/dev/null 2>&1 && builder publish -f def.yaml --version 2.0.0 >/dev/null 2>&1 || fail "2.0.0"
v2=$(ostree --repo=root/repo rev-parse "$REF")
serve_root "$T/root"
new_client client --no-gpg-verify
ostree --repo=client pull dcn "$REF" >/dev/null || fail "pull 2.0.0"

out=$(builder rollback -f def.yaml --to 1.0.0 --json) || fail "rollback"
rb=$(json_get "$out" commit)
[[ $(json_get "$out" from_version) == 2.0.0 && $(json_get "$out" changed) == true ]] || fail "rollback result: $out"
ostree --repo=client pull dcn "$REF" >/dev/null || fail "pull after rollback"
[[ $(ostree --repo=client rev-parse "dcn:$REF") == "$rb" ]] || fail "client did not move to the rollback commit"
[[ $(ostree --repo=client rev-parse "dcn:$REF^") == "$v2" ]] || fail "rollback commit's parent is not 2.0.0"
ostree --repo=client show "dcn:$REF" | grep -q "^Version: 1.0.0$" || fail "rollback commit's version is not 1.0.0"
rm -rf co && ostree --repo=client checkout -U "dcn:$REF" co
diff <(tree_listing_as_committed rootfs1) <(tree_listing co) || fail "client does not have the 1.0.0 tree"
pass "client on 2.0.0 pulled the rollback and has the 1.0.0 tree"

out=$(builder rollback -f def.yaml --to 1.0.0 --json 2>/dev/null) || fail "second rollback"
[[ $(json_get "$out" changed) == false ]] || fail "second rollback changed something: $out"
if builder rollback -f def.yaml --to 9.9.9 2>err; then fail "rollback to an unknown version"; fi
grep -q "version 9.9.9 is not among the kept versions" err || fail "unclear error: $(cat err)"
if builder publish -f def.yaml --version 2.0.0 2>err; then fail "re-publish of 2.0.0 behind a rollback"; fi
grep -q "rollback --to 2.0.0" err || fail "unclear error: $(cat err)"
pass "rollback idempotent; unknown version refused; re-publishing 2.0.0 points at rollback --to"

out=$(builder status -f def.yaml --json) || fail "status"
python3 - "$out" "$rb" <<'PY' || fail "status JSON: $out"
import json, sys
s = json.loads(sys.argv[1]); rb = sys.argv[2]
assert s["head"] == rb, s
vs = s["versions"]
assert [v["version"] for v in vs] == ["1.0.0", "2.0.0", "1.0.0"], vs
assert vs[0]["head"] and vs[0]["rollback_of"] == vs[2]["commit"], vs[0]
assert vs[0]["scratch_delta"] and vs[1]["commit"] in vs[0]["deltas_from"], vs[0]
assert all(v["size"] > 0 for v in vs)
PY
builder status -f def.yaml | tee status.txt
grep -q "^\* 1.0.0 .*(rollback to 1.0.0)$" status.txt || fail "status table"
pass "status shows versions, head, deltas, the rollback"

# keep: 3 -> the next release prunes the original 1.0.0 (prune_grace 0: at
# once, not an hour after the summary naming it was replaced)
builder rollback -f def.yaml --steps 1 --prune-grace 0 >/dev/null 2>&1 || fail "rollback --steps 1"
ostree --repo=client pull dcn "$REF" >/dev/null && ostree --repo=client show "dcn:$REF" | grep -q "^Version: 2.0.0$" || fail "--steps 1 did not go back to 2.0.0"
[[ $(builder status -f def.yaml --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))') == 3 ]] || fail "prune did not keep 3 versions"
ostree --repo=root/repo fsck >/dev/null 2>&1 || fail "fsck after prune"
pass "rollback --steps 1 went forward to 2.0.0 again; 3 versions kept; fsck clean"
echo "1 passed, 0 failed"
