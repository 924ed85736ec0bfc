#!/bin/bash
# Zero failed pulls while hoster instances are replaced, as a rolling update
# does behind a Service: several `ostree pull` clients loop through a
# loopback load balancer (tests/rollout/lb.py: new connections round-robin
# over the backends whose /-/ready is 200, checked every 100 ms; open
# connections stay where they are; a refused connection is not retried).
# Instances A and B serve; A gets SIGTERM (it answers /-/ready 503 at once,
# serves on for --shutdown-delay, then drains); a replacement C is added;
# then B gets SIGTERM. Every pull must succeed, each drained instance must
# exit 0, and the balancer must never have had to refuse a client.
# Also prints the hosters' resident memory under this load (the manifests'
# resource numbers come from it).
source "$(dirname "$0")/../integration/lib.sh"
ROLLOUT_DIR=$DCN_SOURCE_DIR/tests/rollout
REF=dcn/test/x86_64/edge
CLIENTS=${DRAIN_CLIENTS:-4}
DELAY=${DRAIN_DELAY:-1}   # --shutdown-delay: > the balancer's check interval (a Service: a few seconds)

# ---- content: ~400 small objects and a few large ones -------------------------
python3 - "$T/tree" <<'PY'
import os, random, sys
root, r = sys.argv[1], random.Random(7)
for i in range(400):
    d = os.path.join(root, "usr/share/d%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%03d" % i), "wb") as f:
        f.write(r.randbytes(r.randint(512, 32768)))
os.makedirs(os.path.join(root, "usr/lib"), exist_ok=True)
for i in range(3):
    with open(os.path.join(root, "usr/lib/big%d" % i), "wb") as f:
        f.write(r.randbytes(3 << 20))
PY
mkdir -p "$T/content"
ostree init --repo="$T/content/repo" --mode=archive
ostree --repo="$T/content/repo" commit -b "$REF" --tree=dir="$T/tree" -s v1 >/dev/null
ostree --repo="$T/content/repo" summary -u

hosters=()
start_instance() { # NAME: sets INST_PID INST_PORT
    hoster_start "$1" --root "$T/content" --threads 1 --shutdown-delay "$DELAY" --drain-timeout 15
    INST_PID=$HOSTER_PID INST_PORT=$PORT
}
start_instance a; A_PID=$INST_PID A_PORT=$INST_PORT
start_instance b; B_PID=$INST_PID B_PORT=$INST_PORT
printf '127.0.0.1:%s\n127.0.0.1:%s\n' "$A_PORT" "$B_PORT" >"$T/backends"

python3 "$ROLLOUT_DIR/lb.py" --backends "$T/backends" --port-file "$T/lb.port" --stats "$T/lb.stats" --status "$T/lb.status" &
LB_PID=$!; track_pid "$LB_PID"
for i in $(seq 1 100); do [[ -s $T/lb.port ]] && break; sleep 0.05; done
LB_URL=http://127.0.0.1:$(cat "$T/lb.port")
for i in $(seq 1 100); do [[ $(http_code "$LB_URL/repo/config") == 200 ]] && break; sleep 0.05; done
require_eq "through the balancer" 200 "$(http_code "$LB_URL/repo/config")"

# ---- the load ---------------------------------------------------------------------
: >"$T/results"
puller() {
    local id=$1 n=0 r rc
    while [[ ! -e $T/stop ]]; do
        n=$((n + 1)); r=$T/client$id
        rm -rf "$r"
        ostree init --repo="$r" --mode=archive
        ostree --repo="$r" remote add --no-gpg-verify dcn "$LB_URL/repo"
        rc=0; timeout 120 ostree --repo="$r" pull dcn "$REF" >"$T/pull.$id.$n.log" 2>&1 || rc=$?
        if [[ $rc == 0 ]]; then echo "ok $id $n $(date +%s.%N)" >>"$T/results"; rm -f "$T/pull.$id.$n.log"
        else echo "FAILED $id $n rc=$rc $(date +%s.%N)" >>"$T/results"; fi
    done
}
for c in $(seq 1 "$CLIENTS"); do puller "$c" & track_pid $!; done
pulls() { grep -c '^ok' "$T/results" || true; }
failed() { grep -c '^FAILED' "$T/results" || true; }
wait_pulls() { # N: wait until N more pulls have finished (at most 120 s)
    local want=$(($(pulls) + $1)) i
    for i in $(seq 1 1200); do [[ $(pulls) -ge $want || $(failed) -gt 0 ]] && return 0; sleep 0.1; done
    fail "pulls stalled: $(pulls) finished, wanted $want"
}
rss_max=0
rss_sample() { local k; k=$(awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0); ((k > rss_max)) && rss_max=$k; true; }

# busy PORT: wait (up to 10 s) until the balancer has connections open to PORT,
# so the SIGTERM lands on an instance with downloads in flight
busy() {
    local i
    for i in $(seq 1 200); do
        python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["127.0.0.1:"+sys.argv[2]]["active"] > 0 else 1)' \
            "$T/lb.status" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "# note: no connection open to port $1 at SIGTERM"
}
wait_pulls "$CLIENTS"
rss_sample "$A_PID"; rss_sample "$B_PID"
echo "# $(pulls) pulls done through A+B; SIGTERM A"
busy "$A_PORT"
kill -TERM "$A_PID"
HOSTER_PID=$A_PID; hoster_wait_exit 20 || fail "A still running 20 s after SIGTERM"
require_eq "A's exit status after the drain" 0 "$HOSTER_RC"
echo "# A exited ${HOSTER_WAITED}s after SIGTERM; starting its replacement C"

start_instance c; C_PID=$INST_PID C_PORT=$INST_PORT
printf '127.0.0.1:%s\n127.0.0.1:%s\n' "$B_PORT" "$C_PORT" >"$T/backends"
wait_pulls "$CLIENTS"
rss_sample "$B_PID"; rss_sample "$C_PID"
echo "# $(pulls) pulls done; SIGTERM B"
busy "$B_PORT"
kill -TERM "$B_PID"
HOSTER_PID=$B_PID; hoster_wait_exit 20 || fail "B still running 20 s after SIGTERM"
require_eq "B's exit status after the drain" 0 "$HOSTER_RC"
wait_pulls "$CLIENTS"
touch "$T/stop"
wait_for_pullers() { local i; for i in $(seq 1 1200); do pgrep -f "ostree --repo=$T/client" >/dev/null || return 0; sleep 0.1; done; }
wait_for_pullers
kill -TERM "$LB_PID"; wait "$LB_PID" 2>/dev/null || true

echo "# results: $(pulls) pulls succeeded, $(failed) failed"
if [[ $(failed) -gt 0 ]]; then
    grep FAILED "$T/results" >&2
    for f in "$T"/pull.*.log; do [[ -e $f ]] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
    fail "$(failed) pull(s) failed during the rolling replacement"
fi
python3 - "$T/lb.stats" "$A_PORT" "$B_PORT" "$C_PORT" <<'PY' || fail "balancer statistics"
import json, sys
s = json.load(open(sys.argv[1]))
ports = dict(zip("ABC", sys.argv[2:5]))
b = {k: s["backends"]["127.0.0.1:" + p] for k, p in ports.items()}
for k, v in b.items():
    print("# %s: %d connections, %d refused, %.1f MB, readiness %s" % (k, v["connections"], v["refused"], v["bytes"] / 1e6, v["transitions"]))
assert s["no_backend"] == 0, "clients found no ready backend %d times" % s["no_backend"]
assert all(v["refused"] == 0 for v in b.values()), "a backend refused connections the balancer sent it"
assert all(v["connections"] > 0 for v in b.values()), "a backend served nothing: the test proves little"
for k in "AB":
    nr = [t for t in b[k]["transitions"] if t[1] == "not-ready"]
    assert nr, "%s never went not-ready" % k
    print("# %s went not-ready with %d connection(s) open; they finished on it" % (k, nr[0][2]))
PY
pass "rolling replacement under $CLIENTS looping ostree pull clients: $(pulls) pulls, 0 failed; drained instances exited 0"
echo "# resident memory of a hoster under this load (1 thread, 32 MiB cache default): max $((rss_max / 1024)) MiB"
pass "test_drain_behind_proxy"
