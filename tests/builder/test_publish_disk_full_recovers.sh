#!/bin/bash
# Publish with the disk filling up (issue 11, kill and fill): the served
# tree is a small tmpfs; a publish whose new version needs more than is
# left runs out part way (the space left is half of what the publish
# needs, measured on a copy first). It must fail with a clear ENOSPC
# message naming what it was writing, leave what is served (summary,
# summary.sig, refs/heads) byte for byte as it was, with a verifying client
# pulling throughout unaffected; after the file system grows (remount), a
# rerun completes and the client gets the new version. Runs as root (mount);
# skipped otherwise.
source "$(dirname "$0")/lib.sh"
need_hoster "it serves the repo"
cd "$T"
mkdir -p root
mount -t tmpfs -o size=64m dcn-test "$T/root" 2>/dev/null || skip "cannot mount a tmpfs here (needs root)"
on_exit "umount -l '$T/root'"
make_gpg_key
make_tree rootfs 1
# staging off the small file system: only publish writes to it
write_def def.yaml "sign:" "  gpg_key_id: $KEYID" "  gpg_homedir: $GNUPGHOME"
sed -i "s|^  source: ./rootfs\$|&\n  staging: $T/staging|" def.yaml
grep -q "^  staging: $T/staging" def.yaml || { cat def.yaml; fail "def.yaml"; }
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose 1.0.0"
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish 1.0.0"
serve_root "$T/root"
R=root/repo
new_client client --set=gpg-verify=true --set=gpg-verify-summary=true --gpg-import=root/dcn-edge.gpg
ostree --repo=client pull dcn "$REF" >/dev/null || fail "first pull"

# 2.0.0: two new incompressible blobs, so objects and deltas take room
python3 -c "import os; open('rootfs/usr/lib/dcn/blob3','wb').write(os.urandom(3000000)); open('rootfs/usr/lib/dcn/blob4','wb').write(os.urandom(2000000))"
builder compose -f def.yaml --version 2.0.0 >/dev/null 2>&1 || fail "compose 2.0.0"

# what the publish needs: measured on a copy (on the big disk)
cp -a root measure
sed "s|^repo: .*|repo: ./measure/repo|" def.yaml >measure.yaml
before=$(du -sk --apparent-size measure | cut -f1)
builder publish -f measure.yaml --version 2.0.0 >/dev/null 2>&1 || fail "publish on the copy"
need=$(($(du -sk measure | cut -f1) - $(du -sk root | cut -f1)))
rm -rf measure
used=$(df -k --output=used "$T/root" | tail -n1)
size=$((used + need / 2))
echo "# the publish needs about ${need} KiB (copy grew from ${before} KiB); tmpfs: ${used} KiB used, size set to ${size} KiB"
mount -o remount,size=${size}k "$T/root" || fail "remount to ${size} KiB"

old=$(ostree --repo=$R rev-parse "$REF")
cp $R/summary old.summary; cp $R/summary.sig old.summary.sig; cp "$R/refs/heads/$REF" old.ref

: >pulls.log
(
    while [[ ! -e stop ]]; do
        if ostree --repo=client pull dcn "$REF" >/dev/null 2>pull.err; then echo ok >>pulls.log
        else echo "fail: $(tr '\n' ' ' <pull.err)" >>pulls.log; fi
    done
) &
track_pid $!
LOOP=$!

rc=0; builder publish -f def.yaml --version 2.0.0 >/dev/null 2>publish.err || rc=$?
[[ $rc -ne 0 ]] || fail "publish succeeded on a file system too small for it"
grep -q 'No space left on device' publish.err || { cat publish.err; fail "the error does not say ENOSPC"; }
msg=$(grep -i 'error' publish.err | tail -n1)
echo "# publish failed: $msg"
grep -qiE '(writing|importing|committing|creating|copying)[^:]*:' <<<"$msg" || fail "the error does not say what it was writing: $msg"
cmp -s $R/summary old.summary && cmp -s $R/summary.sig old.summary.sig && cmp -s "$R/refs/heads/$REF" old.ref \
    || fail "the served summary, summary.sig or ref changed"
sleep 1
ostree --repo=client pull dcn "$REF" >/dev/null 2>pull.err || { cat pull.err; fail "a client cannot pull after the failed publish"; }
[[ $(ostree --repo=client rev-parse "dcn:$REF") == "$old" ]] || fail "the client is not on the old version"
pass "out of space: publish failed with ENOSPC, served state unchanged, client pulls the old version"

# the pressure goes
mount -o remount,size=64m "$T/root" || fail "remount to 64 MiB"
out=$(builder publish -f def.yaml --version 2.0.0 --json 2>rerun.err) || { cat rerun.err; fail "rerun after growing the file system"; }
new=$(json_get "$out" commit)
touch stop; wait "$LOOP" || true
ostree --repo=client pull dcn "$REF" >/dev/null 2>pull.err || { cat pull.err; fail "pull after the rerun"; }
[[ $(ostree --repo=client rev-parse "dcn:$REF") == "$new" ]] || fail "client not at 2.0.0 after the rerun"
ostree --repo=$R fsck >/dev/null 2>&1 || fail "served repo fsck"
leftovers=$(cd $R && find . -maxdepth 1 -name '.dcn-*' ! -name .dcn-release.lock ! -name .dcn-prune-grace.json)
[[ -z $leftovers ]] || fail "temporary files left after the rerun: $leftovers"
half=$(cd $R && find deltas -mindepth 2 -maxdepth 2 -type d '!' -exec test -e '{}/superblock' ';' -print)
[[ -z $half ]] || fail "delta directories without a superblock left after the rerun: $half"
echo "# after the rerun: repo/tmp holds $(du -sk $R/tmp | cut -f1) KiB: $(ls $R/tmp | tr '\n' ' ')"
made=$(wc -l <pulls.log); failed=$(grep -c '^fail' pulls.log || true)
[[ $failed -eq 0 ]] || { grep '^fail' pulls.log | head -n 3 >&2; fail "$failed of $made looping pulls failed"; }
pass "grown again: the rerun completed 2.0.0; $made looping pulls, none failed"
echo "1 passed, 0 failed"
