#!/bin/bash
# prune_grace (issue 11): what a replaced summary named stays for
# prune_grace. keep: 2, deltas_from: 1; after 1.0.0, 2.0.0, 3.0.0:
#   - 1.0.0 (beyond keep) and the deltas to 1.0.0 and 2.0.0 (not the head)
#     are still there, and `status` says until when;
#   - a device that fetched the summary of 2.0.0 just before 3.0.0 was
#     served (a "stale" view of the repo: the old summary, everything else
#     the live repo's) still upgrades from 1.0.0 to 2.0.0 through the delta;
#   - once the grace has passed, `dcn-builder prune` removes them, their
#     delta indexes and the record, and status shows nothing waiting;
#   - prune_grace 0 removes them in the publish itself (the old behaviour);
#   - a damaged record stops prune with a message naming it, nothing removed.
source "$(dirname "$0")/lib.sh"
need_hoster "it serves the repo"
cd "$T"
mkdir srv
make_tree rootfs 1
write_def def.yaml
sed -i 's|^repo: ./root/repo$|repo: ./srv/repo|; s|^keep: 3$|keep: 2|; s|^deltas_from: 2$|deltas_from: 1|' def.yaml
grep -q '^keep: 2$' def.yaml && grep -q '^repo: ./srv/repo$' def.yaml || fail "definition"

publish() {
    builder compose -f def.yaml --version "$1" >/dev/null 2>&1 || fail "compose $1"
    builder publish -f def.yaml --version "$1" "${@:2}" --json 2>"$T/publish.err" || { cat "$T/publish.err"; fail "publish $1"; }
}
rev() { ostree --repo=srv/repo rev-parse "$REF"; }
has_commit() { [[ -e srv/repo/objects/${1:0:2}/${1:2}.commit ]]; }
has_delta() { [[ -e srv/repo/$(delta_path "$1" "$2")/superblock ]]; }
has_index() { local d; d=$(delta_path "" "$1"); [[ -e srv/repo/delta-indexes/${d#deltas/}.index ]]; } # modified base64, like deltas/

publish 1.0.0 >/dev/null; v1=$(rev)
serve_root "$T/srv"
new_client client --no-gpg-verify
ostree --repo=client pull dcn "$REF" >/dev/null || fail "client installs 1.0.0"

make_tree rootfs 2
publish 2.0.0 >/dev/null; v2=$(rev)
# what a device fetched just before 3.0.0 is served: 2.0.0's summary
cp srv/repo/summary summary-2.0.0
echo "three" >rootfs/etc/dcn/three
out=$(publish 3.0.0); v3=$(rev)
[[ $(json_get "$out" prune_waiting) -ge 1 ]] || fail "publish reports nothing waiting: $out"

has_commit "$v1" || fail "1.0.0 pruned although a summary served within prune_grace named it"
has_delta "$v1" "$v2" || fail "delta 1.0.0->2.0.0 pruned within prune_grace"
has_delta "" "$v2" || fail "scratch delta of 2.0.0 pruned within prune_grace"
has_index "$v2" || fail "delta index of 2.0.0 removed within prune_grace"
has_delta "$v2" "$v3" || fail "no delta 2.0.0->3.0.0"
[[ -s srv/repo/.dcn-prune-grace.json ]] || fail "no grace record"
pass "after 3.0.0: 1.0.0, the deltas to 1.0.0 and 2.0.0 and 2.0.0's index are kept (prune_grace 1h)"

st=$(builder status -f def.yaml --json) || fail "status"
python3 - "$st" "$v1" "$v2" <<'PY' || fail "status --json does not show what waits: $st"
import json, sys
st, v1, v2 = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
w = {x["commit"]: x for x in st["waiting"]}
assert st["prune_grace"] == 3600, st["prune_grace"]
assert w[v1]["commit_waits"] and w[v1]["version"] == "1.0.0" and not w[v1]["due"], w[v1]
assert not w[v2]["commit_waits"] and f"{v1}-{v2}" in w[v2]["deltas"] and v2 in w[v2]["deltas"], w[v2]
assert w[v2]["until"].endswith("Z") and w[v2]["until_timestamp"] > 0
PY
builder status -f def.yaml >status.txt || fail "status (text)"
grep -q "^waiting for prune (prune_grace 3600s" status.txt || { cat status.txt; fail "status text: no waiting section"; }
grep -Eq "^  until [0-9T:-]+Z  ${v1:0:12} 1\.0\.0: the commit and its objects, 1 delta\(s\) to it$" status.txt \
    || { cat status.txt; fail "status text: 1.0.0 not shown waiting"; }
pass "status shows what waits and until when"

# a device holding 2.0.0's summary: the live repo with the old summary
mkdir srv/stale
for f in config objects deltas delta-indexes refs; do ln -s "../repo/$f" "srv/stale/$f"; done
cp summary-2.0.0 srv/stale/summary
ostree --repo=client config set 'remote "dcn".url' "$URL/stale"
log_mark
ostree --repo=client pull --commit-metadata-only dcn "$REF" >/dev/null 2>err.txt \
    && ostree --repo=client pull dcn "$REF" >/dev/null 2>>err.txt || { cat err.txt; fail "a device with 2.0.0's summary cannot upgrade"; }
[[ $(ostree --repo=client rev-parse "dcn:$REF") == "$v2" ]] || fail "the stale view did not lead to 2.0.0"
paths_since_mark | grep -qx "/stale/$(delta_path "$v1" "$v2")/superblock" \
    || { paths_since_mark; fail "the device did not upgrade through the delta 1.0.0->2.0.0"; }
pass "a device holding 2.0.0's summary upgrades 1.0.0 -> 2.0.0 through the kept delta"

# the grace passes: prune removes what only it kept
sleep 3
out=$(builder prune -f def.yaml --prune-grace 2s --json 2>prune.err) || { cat prune.err; fail "prune"; }
[[ $(json_get "$out" changed) == true ]] || fail "prune after the grace changed nothing: $out"
has_commit "$v1" && fail "1.0.0 still there after the grace"
has_delta "$v1" "$v2" && fail "delta 1.0.0->2.0.0 still there after the grace"
has_index "$v2" && fail "delta index of 2.0.0 still there after its deltas went"
has_delta "$v2" "$v3" || fail "prune removed the delta to the head"
has_commit "$v2" || fail "prune removed 2.0.0 (within keep)"
[[ -e srv/repo/.dcn-prune-grace.json ]] && fail "grace record still there: $(cat srv/repo/.dcn-prune-grace.json)"
st=$(builder status -f def.yaml --json --prune-grace 2s) || fail "status"
[[ $(json_get "$st" waiting) == "[]" ]] || fail "status still shows waiting: $st"
ostree --repo=srv/repo fsck >/dev/null 2>&1 || fail "repo fsck after prune"
out=$(builder prune -f def.yaml --prune-grace 2s --json 2>/dev/null) || fail "second prune"
[[ $(json_get "$out" changed) == false ]] || fail "second prune changed something: $out"
pass "after the grace: prune removed 1.0.0, the old deltas, their index and the record; fsck clean; idempotent"

# prune_grace 0: the publish itself removes them (the behaviour before issue 11)
echo "four" >rootfs/etc/dcn/four
publish 4.0.0 --prune-grace 0 >/dev/null; v4=$(rev)
has_delta "$v2" "$v3" && fail "prune_grace 0: the delta to 3.0.0 survived the publish"
has_commit "$v2" && fail "prune_grace 0: 2.0.0 (beyond keep) survived the publish"
has_delta "$v3" "$v4" || fail "no delta 3.0.0->4.0.0"
pass "prune_grace 0: the publish removed the old version and the deltas to 3.0.0 at once"

# a damaged record: prune refuses, naming it, and removes nothing
echo "five" >rootfs/etc/dcn/five
publish 5.0.0 >/dev/null
has_delta "$v3" "$v4" && has_delta "" "$v4" || fail "5.0.0: the deltas to 4.0.0 should wait"
echo '{"replaced": 3}' >srv/repo/.dcn-prune-grace.json
before=$(find srv/repo -path '*/tmp' -prune -o -print | sort)
if builder prune -f def.yaml --prune-grace 0 >/dev/null 2>prune.err; then fail "prune accepted a damaged record"; fi
grep -q "\.dcn-prune-grace\.json: no \"replaced\" list" prune.err || { cat prune.err; fail "prune's message does not name the record"; }
[[ $(find srv/repo -path '*/tmp' -prune -o -print | sort) == "$before" ]] || fail "prune removed files although it failed"
pass "a damaged record: prune fails naming $(grep -o '[^ ]*\.dcn-prune-grace\.json' prune.err | head -n1), nothing removed"
echo "1 passed, 0 failed"
