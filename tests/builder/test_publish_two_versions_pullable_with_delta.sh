#!/bin/bash
# Compose 1.0.0 from a sample tree, publish, serve, full pull into a
# bare-user client; compose 2.0.0 (a file changed, one added, one removed),
# publish; the client upgrades through the static delta: the server saw the
# superblock and parts and no .filez/.dirtree. With Debian's libostree
# 2022.7 this needs the metadata-first pull (ostree pull
# --commit-metadata-only, then pull) described in shared/design.md.
# Then: fsck clean, 2.0.0's parent is 1.0.0, version metadata right, the
# checked-out tree equals the source tree, publishing again changes nothing.
source "$(dirname "$0")/lib.sh"
cd "$T"
make_tree rootfs 1
write_def def.yaml

out=$(builder compose -f def.yaml --json) || fail "compose 1.0.0"
[[ $(json_get "$out" changed) == true ]] || fail "compose 1.0.0 not changed: $out"
out=$(builder publish -f def.yaml --json) || fail "publish 1.0.0"
v1=$(json_get "$out" commit)
[[ $(json_get "$out" parent) == "" ]] || fail "1.0.0 should have no parent: $out"
pass "published 1.0.0 as $v1"

serve_root "$T/root"
new_client client --no-gpg-verify
ostree --repo=client pull dcn "$REF" >/dev/null || fail "full pull of 1.0.0"
[[ $(ostree --repo=client rev-parse "dcn:$REF") == "$v1" ]] || fail "client is not at 1.0.0"
ostree --repo=client checkout -U "dcn:$REF" co1
diff <(tree_listing_as_committed rootfs) <(tree_listing co1) || fail "checked-out 1.0.0 differs from the source tree"
pass "client installed 1.0.0 with a full pull; tree identical"

make_tree rootfs 2
out=$(builder compose -f def.yaml --version 2.0.0 --json) || fail "compose 2.0.0"
out=$(builder publish -f def.yaml --version 2.0.0 --json) || fail "publish 2.0.0"
v2=$(json_get "$out" commit)
[[ $(json_get "$out" parent) == "$v1" ]] || fail "2.0.0's parent is not 1.0.0: $out"
[[ $(json_get "$out" deltas) == *"$v1-$v2"* ]] || fail "no delta 1.0.0 -> 2.0.0 listed: $out"
pass "published 2.0.0 as $v2 with parent 1.0.0"

log_mark
ostree --repo=client pull --commit-metadata-only dcn "$REF" >/dev/null || fail "metadata-only pull"
ostree --repo=client pull dcn "$REF" >/dev/null || fail "upgrade pull"
paths_since_mark >paths.txt
grep -q "^/repo/deltas/.*/superblock$" paths.txt || { cat paths.txt; fail "the upgrade did not fetch a delta superblock"; }
grep -q "^/repo/deltas/.*/0$" paths.txt || { cat paths.txt; fail "the upgrade did not fetch delta part 0"; }
if grep -E '\.(filez|dirtree)$' paths.txt; then fail "the upgrade fetched loose content objects"; fi
pass "upgrade used the static delta ($(grep -c /deltas/ paths.txt) delta requests, no .filez/.dirtree)"

[[ $(ostree --repo=client rev-parse "dcn:$REF") == "$v2" ]] || fail "client is not at 2.0.0"
[[ $(ostree --repo=client rev-parse "dcn:$REF^") == "$v1" ]] || fail "parent of 2.0.0 is not 1.0.0 on the client"
ostree --repo=client show "dcn:$REF" | grep -q "^Version: 2.0.0$" || fail "version metadata of 2.0.0"
ostree --repo=client fsck >/dev/null 2>&1 || fail "client fsck"
ostree --repo=root/repo fsck >/dev/null 2>&1 || fail "server repo fsck"
ostree --repo=client checkout -U "dcn:$REF" co2
diff <(tree_listing_as_committed rootfs) <(tree_listing co2) || fail "checked-out 2.0.0 differs from the source tree"
pass "client on 2.0.0: fsck clean, parent and version right, tree identical"

before=$(cd root && find . -printf '%p %s %T@\n' | sort)
out=$(builder publish -f def.yaml --version 2.0.0 --json) || fail "second publish of 2.0.0"
[[ $(json_get "$out" changed) == false ]] || fail "second publish changed something: $out"
after=$(cd root && find . -printf '%p %s %T@\n' | sort)
[[ $before == "$after" ]] || { diff <(echo "$before") <(echo "$after"); fail "second publish touched files"; }
pass "publishing 2.0.0 again changes nothing"
echo "1 passed, 0 failed"
