#!/bin/bash
# SIGKILL publish at random moments (issue 11, kill and fill), not only
# between its named steps: the kill lands inside libostree's transaction,
# delta generation, summary generation, signing, the swap or prune. A full
# publish is timed step by step first; round i composes a new version,
# starts publish and kills it inside step i (round robin, the last "step"
# being the exit): a seeded random delay within that step's measured
# length, counted from publish reporting the step before. Meanwhile a
# verifying client (gpg-verify + gpg-verify-summary) pulls in a loop through
# dcn-hoster. After each kill:
#   - the summary pair dcn-hoster serves is the old one byte for byte, or a
#     new one that verifies and names the ref's new commit;
#   - refs/heads/<ref> is the old commit or the new one (never half a file);
#   - everything the old summary named (its commit, its deltas) is there;
#   - `ostree fsck` is clean (libostree stages a transaction's objects in
#     tmp/staging-* and renames them into objects/ when it commits: a
#     killed transaction leaves nothing in objects/ that fsck could fault);
# then a rerun completes, the client reaches the new version, and no
# temporary file of publish is left in the repo. Every pull of the looping
# client must succeed.
# ROUNDS (default 15) and SEED (default 11) pick the kills.
source "$(dirname "$0")/lib.sh"
need_hoster "clients pull from it while publish is killed"
cd "$T"
ROUNDS=${ROUNDS:-15}
SEED=${SEED:-11}
make_gpg_key
make_tree rootfs 1
write_def def.yaml "sign:" "  gpg_key_id: $KEYID" "  gpg_homedir: $GNUPGHOME"
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose 1.0.0"
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish 1.0.0"
serve_root "$T/root"
R=root/repo

# new content for version $1 (a changed blob, so deltas have work to do)
change_tree() {
    echo "version $1" >rootfs/etc/dcn/version
    python3 -c "import sys,random; r=random.Random(sys.argv[2]); p=sys.argv[1]; b=bytearray(open(p,'rb').read()); i=r.randrange(len(b)-4096); b[i:i+4096]=bytes(r.getrandbits(8) for _ in range(4096)); open(p,'wb').write(b)" rootfs/usr/lib/dcn/blob2 "$1"
}

# served_deltas: the static deltas the repo's summary lists (read before a publish)
served_deltas() {
    ostree --repo=$R summary --view | sed -n 's/^Static Deltas[^{]*{//p' | grep -oE "'[0-9a-f]{64}(-[0-9a-f]{64})?'" | tr -d "'"
}

# dump_state: what a failed round leaves, for the log (a subshell without
# errexit: a missing directory must not end the test before it says FAIL)
dump_state() (
    set +e +o pipefail
    {
        echo "# old head $old, ref now $(cat "$R/refs/heads/$REF")"
        echo "# old summary's deltas: ${old_deltas[*]}"
        echo "# deltas now:"; ostree --repo=$R static-delta list 2>&1 | sed 's/^/#   /'
        echo "# the old summary's delta directories (libostree lists a delta only when its superblock is there):"
        for d in "${old_deltas[@]}"; do
            dir=$(python3 -c "import base64,sys; b=lambda h: base64.b64encode(bytes.fromhex(h)).decode().rstrip('=').replace('/','_'); n=sys.argv[1].split('-'); print('deltas/%s/%s' % (b(n[0])[:2], b(n[0])[2:] + ''.join('-' + b(x) for x in n[1:])))" "$d")
            echo "#   $d: $dir"; ls -la --time-style=full-iso "$R/$dir" 2>&1 | sed 's/^/#     /'
        done
        echo "# history:"; ostree --repo=$R log "$REF" 2>&1 | grep -E '^commit|Version' | sed 's/^/#   /'
        echo "# grace record:"; sed 's/^/#   /' "$R/.dcn-prune-grace.json" 2>&1
        echo "# publish output:"; sed 's/^/#   /' publish.err
    } >&2
)

# served_pair OUT: summary.sig then summary from dcn-hoster on one connection
served_pair() {
    curl -sS --noproxy '*' -f -o "$1.sig" "$URL/repo/summary.sig" -o "$1" "$URL/repo/summary"
}

# publish_killed DEF VERSION AFTER DELAY_MS: runs publish and SIGKILLs it
# DELAY_MS after it reported step AFTER ("-": after it started); prints
# "killed" or "finished" and, per step, "STEP START_MS END_MS" (from the
# start, as this side saw the step lines); its stderr goes to publish.err.
# Anchoring on the step before keeps the aim when this machine is slower or
# faster than when the windows were measured.
publish_killed() {
    python3 - "$DCN_BUILDER" "$@" <<'PY'
import os, re, signal, subprocess, sys, threading, time
builder, defn, version, after, delay = sys.argv[1:6]
delay = int(delay) / 1000
t0 = time.monotonic()
err = open("publish.err", "w")
p = subprocess.Popen([builder, "publish", "-f", defn, "--version", version],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
killed = threading.Event()
def kill_later():
    time.sleep(delay)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        killed.set()
if after == "-":
    threading.Thread(target=kill_later, daemon=True).start()
prev, steps = 0, []
for line in p.stderr:
    err.write(line); err.flush()
    m = re.search(r"event=step step=(\S+)", line)
    if m:
        now = int((time.monotonic() - t0) * 1000)
        steps.append("%s %d %d" % (m.group(1), prev, now))
        prev = now
        if m.group(1) == after:
            threading.Thread(target=kill_later, daemon=True).start()
rc = p.wait()
steps.append("exit %d %d" % (prev, int((time.monotonic() - t0) * 1000)))
print("killed" if killed.is_set() else ("finished" if rc == 0 else "failed %d" % rc))
print("\n".join(steps))
PY
}

# Time one whole publish step by step, in a copy of the repo once it holds
# as many versions as in the rounds (so as many deltas are made).
for v in 1.0.1 1.0.2; do
    change_tree $v
    builder compose -f def.yaml --version $v >/dev/null 2>&1 || fail "compose $v"
    builder publish -f def.yaml --version $v >/dev/null 2>&1 || fail "publish $v"
done
change_tree 1.9.0
builder compose -f def.yaml --version 1.9.0 >/dev/null 2>&1 || fail "compose 1.9.0"
cp -a root measure
sed 's|^repo: .*|repo: ./measure/repo|' def.yaml >measure.yaml
publish_killed measure.yaml 1.9.0 never 0 >measure.out
[[ $(head -n1 measure.out) == finished ]] || { cat publish.err; fail "timing publish"; }
tail -n +2 measure.out >windows.txt
rm -rf measure
echo "# one publish, step windows in ms (step start end): $(tr '\n' ';' <windows.txt)"

# The looping client: every pull must verify and succeed.
new_client client --set=gpg-verify=true --set=gpg-verify-summary=true --gpg-import=root/dcn-edge.gpg
ostree --repo=client pull dcn "$REF" >/dev/null || fail "first pull"
: >pulls.log
(
    while [[ ! -e stop ]]; do
        if ostree --repo=client pull dcn "$REF" >/dev/null 2>pull.err; then echo ok >>pulls.log
        else echo "fail: $(date -u +%T.%N): $(tr '\n' ' ' <pull.err)" >>pulls.log; fi
    done
) &
track_pid $!
LOOP=$!

# the kills: round i aims inside step i (round robin, the order publish
# runs them), at a seeded random point of its measured length, counted from
# the report of the step before
mapfile -t KILLS < <(python3 - "$ROUNDS" "$SEED" windows.txt <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
windows = [l.split() for l in open(sys.argv[3])]
r = random.Random(seed)
for i in range(n):
    k = i % len(windows)
    step, a, b = windows[k]
    before = windows[k - 1][0] if k else "-"
    print(int(r.random() * (int(b) - int(a) + 1)), before, step)
PY
)

killed_inside=0 finished=0
for i in $(seq 1 "$ROUNDS"); do
    v=2.0.$i
    read -r ms after aim <<<"${KILLS[$((i - 1))]}"
    change_tree "$v"
    builder compose -f def.yaml --version "$v" >/dev/null 2>&1 || fail "compose $v"
    old=$(ostree --repo=$R rev-parse "$REF")
    cp $R/summary old.summary; cp $R/summary.sig old.summary.sig
    mapfile -t old_deltas < <(served_deltas)
    [[ ${#old_deltas[@]} -gt 0 ]] || fail "round $i: the served summary lists no deltas (nothing to check)"

    publish_killed def.yaml "$v" "$after" "$ms" >kill.out
    what=$(head -n1 kill.out)
    [[ $what == killed || $what == finished ]] || { cat publish.err; fail "round $i: publish failed on its own ($what)"; }
    if [[ $what == killed ]]; then killed_inside=$((killed_inside + 1)); else finished=$((finished + 1)); fi
    step=$(sed -n 's/.*event=step step=\([a-z-]*\).*/\1/p' publish.err | tail -n1)
    ms="$ms ms after ${after/#-/the start}"

    # refs/heads: the old commit or the new one, a whole file
    ref_now=$(cat "$R/refs/heads/$REF")
    [[ $ref_now == "$old" ]] || ostree --repo=$R show "$ref_now" >/dev/null 2>&1 \
        || fail "round $i (${ms}, last step ${step:-none}): refs/heads holds [$ref_now]"
    # what the old summary named is all there
    have=$(ostree --repo=$R static-delta list 2>list.err) \
        || { cat list.err >&2; fail "round $i (${ms}, last step ${step:-none}): ostree static-delta list failed"; }
    for d in "${old_deltas[@]}"; do
        grep -qxF "$d" <<<"$have" || { dump_state; fail "round $i (${ms}, last step ${step:-none}): delta $d of the served summary is gone"; }
    done
    ostree --repo=$R show "$old" >/dev/null 2>&1 || fail "round $i: the old head $old is gone"
    # fsck: clean, partial commits aside (see the head of this file)
    ostree --repo=$R fsck >fsck.out 2>&1 || { cat fsck.out; fail "round $i (${ms}, last step ${step:-none}): fsck"; }
    # the served pair: the old one, or a new one that verifies and names the new ref
    served_pair served || fail "round $i: dcn-hoster did not serve the summary pair"
    if cmp -s served old.summary && cmp -s served.sig old.summary.sig; then
        state=old
    else
        state=new
        ostree --repo=client pull dcn "$REF" >/dev/null 2>pull1.err || { cat pull1.err; fail "round $i (${ms}, last step ${step:-none}): a new summary is served that does not verify"; }
        [[ $(ostree --repo=client rev-parse "dcn:$REF") == "$ref_now" ]] || fail "round $i: the new summary does not name the ref's commit"
    fi

    out=$(builder publish -f def.yaml --version "$v" --json 2>rerun.err) || { cat rerun.err; fail "round $i: rerun after a kill ${ms}"; }
    new=$(json_get "$out" commit)
    [[ $(json_get "$out" parent) == "$old" ]] || fail "round $i: rerun: parent is not the previous head"
    ostree --repo=client pull dcn "$REF" >/dev/null 2>pull2.err || { cat pull2.err; fail "round $i: pull after the rerun"; }
    [[ $(ostree --repo=client rev-parse "dcn:$REF") == "$new" ]] || fail "round $i: client not at $v after the rerun"
    leftovers=$(cd $R && find . -maxdepth 1 -name '.dcn-*' ! -name .dcn-release.lock ! -name .dcn-prune-grace.json; ls tmp | grep -v '^cache$' || true)
    [[ -z $leftovers ]] || fail "round $i: temporary files left after the rerun: $leftovers"
    pass "round $i: $what $ms (aimed inside $aim, last step ${step:-none}): served $state pair, ref $([[ $ref_now == "$old" ]] && echo old || echo new); rerun reached $v"
done

touch stop
wait "$LOOP" || true
made=$(wc -l <pulls.log)
failed=$(grep -c '^fail' pulls.log || true)
if [[ $failed -ne 0 ]]; then grep '^fail' pulls.log | head -n 5 >&2; fail "$failed of $made looping pulls failed"; fi
[[ $made -ge 10 ]] || fail "only $made looping pulls were made"
ostree --repo=client fsck >/dev/null 2>&1 || fail "client fsck"
ostree --repo=$R fsck >/dev/null 2>&1 || fail "served repo fsck at the end"
pass "$ROUNDS kills ($killed_inside inside a publish, $finished after it ended); $made looping pulls, none failed"
echo "1 passed, 0 failed"
