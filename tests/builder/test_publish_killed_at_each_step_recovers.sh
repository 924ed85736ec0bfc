#!/bin/bash
# Kill publish right after each of its steps (test hook
# DCN_BUILDER_ABORT_AFTER=STEP aborts the process there): the repo stays
# fsck-clean, a client still pulls a complete version (the old one until
# the ref moved), and rerunning publish completes the release. Signed, so
# the signing steps are exercised too. The client verifies commit and
# summary signatures after every crash: the served summary is never
# unsigned, nor signed for another summary (see docs/builder.md).
source "$(dirname "$0")/lib.sh"
cd "$T"
make_gpg_key
make_tree rootfs 1
write_def def.yaml "sign:" "  gpg_key_id: $KEYID" "  gpg_homedir: $GNUPGHOME"
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose 1.0.0"
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish 1.0.0"
serve_root "$T/root"
new_client client --set=gpg-verify=true --set=gpg-verify-summary=true --gpg-import=root/dcn-edge.gpg
ostree --repo=client pull dcn "$REF" >/dev/null || fail "first pull"

i=0
for step in commit sign-commit deltas ref summary sign-summary serve-summary prune kickstart; do
    i=$((i + 1))
    v=2.0.$i
    echo "step $i" >rootfs/etc/dcn/step
    builder compose -f def.yaml --version "$v" >/dev/null 2>&1 || fail "compose $v"
    old=$(ostree --repo=root/repo rev-parse "$REF")
    rc=0; DCN_BUILDER_ABORT_AFTER=$step builder publish -f def.yaml --version "$v" >/dev/null 2>"$T/crash.err" || rc=$?
    [[ $rc -ne 0 ]] && grep -q "aborting after step $step" "$T/crash.err" || { cat "$T/crash.err"; fail "publish did not abort after $step (rc $rc)"; }
    ostree --repo=root/repo fsck >/dev/null 2>&1 || fail "repo not fsck-clean after a crash after $step"
    ostree --repo=client pull --commit-metadata-only dcn "$REF" >/dev/null 2>&1 && ostree --repo=client pull dcn "$REF" >/dev/null 2>"$T/pull.err" \
        || { cat "$T/pull.err"; fail "client cannot pull after a crash after $step"; }
    got=$(ostree --repo=client rev-parse "dcn:$REF")
    now=$(ostree --repo=root/repo rev-parse "$REF")
    # clients read the summary: until serve-summary they still get the old version
    [[ $got == "$now" || $got == "$old" ]] || fail "client got $got: neither the old version $old nor the ref $now"
    case $step in commit|sign-commit|deltas) [[ $now == "$old" ]] || fail "the ref moved before the 'ref' step ($step)";; esac
    case $step in ref|summary|sign-summary) [[ $got == "$old" ]] || fail "a client got the new version before serve-summary ($step)";; esac
    case $step in serve-summary|prune|kickstart) [[ $got == "$now" ]] || fail "a client still got the old version after serve-summary ($step)";; esac
    out=$(builder publish -f def.yaml --version "$v" --json 2>/dev/null) || fail "rerun after a crash after $step"
    new=$(json_get "$out" commit)
    [[ $(json_get "$out" parent) == "$old" ]] || fail "rerun after $step: parent is not the previous version"
    out=$(builder publish -f def.yaml --version "$v" --json 2>/dev/null) || fail "third run after $step"
    [[ $(json_get "$out" changed) == false ]] || fail "third run after $step still changed something: $out"
    ostree --repo=client pull --commit-metadata-only dcn "$REF" >/dev/null 2>&1 && ostree --repo=client pull dcn "$REF" >/dev/null || fail "pull after the rerun ($step)"
    [[ $(ostree --repo=client rev-parse "dcn:$REF") == "$new" ]] || fail "client not at $v after the rerun ($step)"
    pass "killed after $step: fsck clean, client pulled $( [[ $got == "$old" ]] && echo the old || echo the new ) version; rerun completed $v"
done
ostree --repo=client fsck >/dev/null 2>&1 || fail "client fsck"
ostree --repo=root/repo refs | grep -qv "^$REF$" && fail "stray refs: $(ostree --repo=root/repo refs)"
new_client client2 --set=gpg-verify=true --set=gpg-verify-summary=true --gpg-import=root/dcn-edge.gpg
ostree --repo=client2 pull dcn "$REF" >/dev/null || fail "a summary-verifying client cannot pull at the end"
pass "summary-verifying client pulls the final version"
echo "1 passed, 0 failed"
