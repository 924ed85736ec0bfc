#!/bin/bash
# The edge-commit input form: a tar holding an archive repo/ and
# compose.json, as osbuild-composer's edge-commit image produces (members
# with a leading ./). Compose stages its tree with composer's metadata,
# publish makes it a version; the client gets the same tree.
source "$(dirname "$0")/lib.sh"
cd "$T"
make_tree rootfs 1
mkdir ec
ostree init --mode=archive --repo=ec/repo
c=$(ostree --repo=ec/repo commit -b "$REF" --tree=dir=rootfs --add-metadata-string=version=0.0.composer \
    --add-metadata-string=rpmostree.inputhash=feedface -s composer)
printf '{"ref": "%s", "ostree-commit": "%s", "rpm-ostree-inputhash": "feedface", "ostree-version": "1.0.0"}\n' "$REF" "$c" >ec/compose.json
tar -C ec -cf edge-commit.tar ./compose.json ./repo
write_def def.yaml
out=$(builder compose -f def.yaml --backend edge-commit --source edge-commit.tar --json) || fail "compose edge-commit"
out=$(builder publish -f def.yaml --json) || fail "publish"
ostree --repo=root/repo show "$REF" | grep -q "^Version: 1.0.0$" || fail "version"
ostree --repo=root/repo show --print-metadata-key=dcn.composer-commit "$REF" | grep -q "$c" || fail "composer commit not recorded"
ostree --repo=root/repo show --print-metadata-key=rpmostree.inputhash "$REF" | grep -q feedface || fail "composer metadata not kept"
[[ -z $(ls root/.repo-staging/tmp | grep dcn-edge) ]] || fail "temporary extraction left behind"
serve_root "$T/root"
new_client client --no-gpg-verify
ostree --repo=client pull dcn "$REF" >/dev/null || fail "pull"
ostree --repo=client checkout -U "dcn:$REF" co
diff <(tree_listing rootfs) <(tree_listing co) || fail "tree differs"
pass "edge-commit tarball composed, published and pulled with the same tree"

printf '{"ref": "%s"}\n' "$REF" >ec/compose.json
tar -C ec -cf bad.tar compose.json repo
if builder compose -f def.yaml --version 1.0.1 --backend edge-commit --source bad.tar 2>err; then fail "compose.json without a commit accepted"; fi
grep -q "'ostree-commit' is missing" err || fail "unclear error: $(cat err)"
pass "edge-commit tarball without ostree-commit refused"

: >ec/compose.json # an empty compose.json once aborted the builder inside json-glib (found by fuzz_edge_commit)
tar -C ec -cf empty.tar compose.json repo
if builder compose -f def.yaml --version 1.0.2 --backend edge-commit --source empty.tar 2>err; then fail "empty compose.json accepted"; fi
grep -q "compose.json: empty" err || fail "unclear error: $(cat err)"
pass "edge-commit tarball with an empty compose.json refused"
echo "1 passed, 0 failed"
