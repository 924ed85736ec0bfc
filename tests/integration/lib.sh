# Shared helpers for integration tests. Source it; it sets `set -euo pipefail`,
# makes $T (a temporary directory removed on exit) and stops every hoster
# started with hoster_start when the script exits.
set -euo pipefail
# The tests run the tools scripts/deps installs from Debian packages. A
# shim earlier in PATH must not stand in for them: pyenv's python3, say,
# costs ~0.4 s a call (Debian's: 0.04 s), lacks python3-yaml, and made the
# publish-under-load tests ten times slower, past their timeout.
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

: "${DCN_HOSTER:?DCN_HOSTER must point at the dcn-hoster binary (ctest sets it)}"
: "${DCN_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/dcn-test.XXXXXX")
_dcn_pids=()
_dcn_on_exit=()
_dcn_cleanup() {
    local pid cmd checks_rc=0
    for pid in "${_dcn_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for cmd in "${_dcn_on_exit[@]}"; do eval "$cmd" || true; done
    wait 2>/dev/null || true
    [[ ! -f $T/.checks-bad ]] || checks_unreported_failures || checks_rc=1
    rm -rf "$T"
    [[ $checks_rc == 0 ]] || exit 1 # only ever turns success into failure
}
trap _dcn_cleanup EXIT

# The shared vocabulary (tests/README.md): assertions, HTTP, ports, JSON.
_dcn_lib=$DCN_SOURCE_DIR/tests/lib
# shellcheck source=../lib/assert.sh
source "$_dcn_lib/assert.sh"
# shellcheck source=../lib/http.sh
source "$_dcn_lib/http.sh"
# shellcheck source=../lib/net.sh
source "$_dcn_lib/net.sh"
# shellcheck source=../lib/json.sh
source "$_dcn_lib/json.sh"

# hoster_start NAME [dcn-hoster flags...]
# Starts dcn-hoster on 127.0.0.1 with a kernel-chosen port (unless the flags
# give --listen), waits until it listens, and sets:
#   PORT (the first listener's port), URL (http://127.0.0.1:PORT),
#   HOSTER_PID, HOSTER_LOG ($T/NAME.access.log, stdout), HOSTER_ERR ($T/NAME.err, stderr)
hoster_start() {
    local name=$1; shift
    local listen=(--listen 127.0.0.1:0)
    local a; for a in "$@"; do [[ $a == --listen* ]] && listen=(); done
    HOSTER_LOG=$T/$name.access.log
    HOSTER_ERR=$T/$name.err
    # emptied here, not by the child's redirection: a restart under the same
    # name would otherwise read the previous run's "listening on" line (and
    # port) before the child has truncated the file
    : >"$HOSTER_LOG"; : >"$HOSTER_ERR"
    "$DCN_HOSTER" "${listen[@]}" "$@" >"$HOSTER_LOG" 2>"$HOSTER_ERR" &
    HOSTER_PID=$!
    _dcn_pids+=("$HOSTER_PID")
    local i
    for i in $(seq 1 200); do
        if PORT=$(sed -n 's|^dcn-hoster: listening on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$HOSTER_ERR" 2>/dev/null | head -n1) && [[ -n $PORT ]]; then
            URL=http://127.0.0.1:$PORT
            return 0
        fi
        kill -0 "$HOSTER_PID" 2>/dev/null || { cat "$HOSTER_ERR" >&2; fail "dcn-hoster exited at start"; }
        sleep 0.05
    done
    cat "$HOSTER_ERR" >&2
    fail "dcn-hoster did not start listening"
}

# hoster_flush_log: access-log lines are buffered per worker and flushed at
# least every 100 ms; call this before reading $HOSTER_LOG.
hoster_flush_log() { sleep 0.3; }

# hoster_stop: SIGTERM and wait (drains in-flight responses).
hoster_stop() {
    kill -TERM "$HOSTER_PID" 2>/dev/null || true
    wait "$HOSTER_PID" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Helpers for the HTTP integration tests (test_http_*, test_conditional, ...).

export LC_ALL=C # dates in English, byte-wise grep

fsize() { stat -c %s "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# make_content_root: the standard content root, all under $T. Sets ROOT
# ($T/root, to pass as --root), SECRET_MARKER (a unique string stored only
# OUTSIDE the root, in $T/secret.txt and $T/outside/secret.txt, and in the
# unreachable $ROOT/-/secret), MTIME (epoch of every file) and the paths
# (relative to ROOT, served at /PATH):
#   data/empty data/one data/s100 data/s5000 data/s100000 data/big (20 MiB)
#   data/a+b ("plus") and "data/a b" ("space"), data/sub/ (a directory)
#   OBJ_DIRTREE (100 B) OBJ_COMMIT (1 B) OBJ_FILEZ (5000 B, cached path)
#   OBJ_BIG (100000 B, sendfile path) DELTA_SB (5000 B) DELTA_PART (20 MiB,
#   a name with '+' and '_') DELTA_INDEX, repo/config repo/summary
#   repo/summary.sig repo/refs/heads/x, dot-files repo/.lock and .git/config
#   symlinks: link-in -> data/s100, link-in-dir -> data (inside);
#   link-out -> $T/secret.txt (absolute), link-out-rel -> ../secret.txt,
#   link-dir-out -> ../outside, link-dir-abs -> $T/outside, link-loop -> itself.
make_content_root() {
    ROOT=$T/root
    SECRET_MARKER=DCN-SECRET-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
    MTIME=1704164645 # 2024-01-02T03:04:05Z
    local h1 h2 h3 h4
    h1=$(printf 1 | sha256sum | cut -c1-64); h2=$(printf 2 | sha256sum | cut -c1-64)
    h3=$(printf 3 | sha256sum | cut -c1-64); h4=$(printf 4 | sha256sum | cut -c1-64)
    OBJ_DIRTREE=repo/objects/${h1:0:2}/${h1:2}.dirtree
    OBJ_COMMIT=repo/objects/${h2:0:2}/${h2:2}.commit
    OBJ_FILEZ=repo/objects/${h3:0:2}/${h3:2}.filez
    OBJ_BIG=repo/objects/${h4:0:2}/${h4:2}.filez
    DELTA_SB=repo/deltas/Qx/9+ab_cd3fE+_Kk2mNopqrstuVWxyz0123456789AB-$h4/superblock
    DELTA_PART=${DELTA_SB%/superblock}/0
    DELTA_INDEX=repo/delta-indexes/${h4:0:2}/${h4:2}.index
    printf 'top secret %s\n' "$SECRET_MARKER" >"$T/secret.txt"
    mkdir -p "$T/outside" "$ROOT"/{data/sub,repo/refs/heads,.git,-}
    printf '%s\n' "$SECRET_MARKER" >"$T/outside/secret.txt"
    printf '%s\n' "$SECRET_MARKER" >"$ROOT/-/secret"
    local f
    : >"$ROOT/data/empty"
    printf x >"$ROOT/data/one"
    for f in 100 5000 100000; do head -c $f /dev/urandom >"$ROOT/data/s$f"; done
    head -c 20971520 /dev/urandom >"$ROOT/data/big"
    printf 'plus\n' >"$ROOT/data/a+b"
    printf 'space\n' >"$ROOT/data/a b"
    printf 'inner\n' >"$ROOT/data/sub/inner.txt"
    for f in "$OBJ_DIRTREE" "$OBJ_COMMIT" "$OBJ_FILEZ" "$OBJ_BIG" "$DELTA_SB" "$DELTA_INDEX"; do
        mkdir -p "$ROOT/$(dirname "$f")"
    done
    head -c 100 /dev/urandom >"$ROOT/$OBJ_DIRTREE"
    printf c >"$ROOT/$OBJ_COMMIT"
    head -c 5000 /dev/urandom >"$ROOT/$OBJ_FILEZ"
    head -c 100000 /dev/urandom >"$ROOT/$OBJ_BIG"
    head -c 5000 /dev/urandom >"$ROOT/$DELTA_SB"
    ln "$ROOT/data/big" "$ROOT/$DELTA_PART"
    head -c 300 /dev/urandom >"$ROOT/$DELTA_INDEX"
    printf '[core]\nrepo_version=1\nmode=archive-z2\n' >"$ROOT/repo/config"
    head -c 3000 /dev/urandom >"$ROOT/repo/summary"
    head -c 600 /dev/urandom >"$ROOT/repo/summary.sig"
    printf '%s\n' "$h2" >"$ROOT/repo/refs/heads/x"
    printf 'LOCKFILE\n' >"$ROOT/repo/.lock"
    printf '[core]\nDOTGIT\n' >"$ROOT/.git/config"
    ln -s data/s100 "$ROOT/link-in"
    ln -s data "$ROOT/link-in-dir"
    ln -s "$T/secret.txt" "$ROOT/link-out"
    ln -s ../secret.txt "$ROOT/link-out-rel"
    ln -s ../outside "$ROOT/link-dir-out"
    ln -s "$T/outside" "$ROOT/link-dir-abs"
    ln -s link-loop "$ROOT/link-loop"
    find "$ROOT" -exec touch -h -d "@$MTIME" {} +
}

# ---------------------------------------------------------------------------
# Helpers added for the integration tests (test_*.sh).

# track_pid PID: kill PID (SIGKILL) when the script exits.
track_pid() { _dcn_pids+=("$1"); }

# on_exit 'COMMAND': run COMMAND (eval) when the script exits, before $T is removed.
on_exit() { _dcn_on_exit+=("$1"); }

# make_sample_root DIR: the sample content root (repo + dcn.ks) in DIR.
make_sample_root() {
    bash "$DCN_SOURCE_DIR/sample/make-sample-root.sh" "$1" >/dev/null \
        || fail "make-sample-root.sh $1 failed"
}

# Access log: log_mark remembers how far $HOSTER_LOG goes; log_since_mark
# prints the lines written after it; log_status PATH prints the status of each
# request for exactly PATH (as sent) since the mark, one per line.
LOG_MARK=0
log_mark() { hoster_flush_log; LOG_MARK=$(wc -l <"$HOSTER_LOG"); }
log_since_mark() { tail -n +"$((LOG_MARK + 1))" "$HOSTER_LOG"; }
log_status() {
    log_since_mark | grep -F "path=\"$1\" " | sed -n 's/.* status=\([0-9][0-9]*\) .*/\1/p' || true
}

# hoster_wait_exit SECONDS: waits up to SECONDS for dcn-hoster to exit; sets
# HOSTER_RC (its exit status) and HOSTER_WAITED (seconds waited, decimals).
# Returns 1 if it is still running.
hoster_wait_exit() {
    local limit=$1 start now state
    start=$(date +%s.%N)
    while :; do
        state=$(awk '{print $3}' "/proc/$HOSTER_PID/stat" 2>/dev/null || echo gone)
        now=$(date +%s.%N)
        HOSTER_WAITED=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f", b - a }')
        [[ $state == Z || $state == gone ]] && break
        awk -v w="$HOSTER_WAITED" -v l="$limit" 'BEGIN { exit !(w > l) }' && return 1
        sleep 0.05
    done
    HOSTER_RC=0
    wait "$HOSTER_PID" 2>/dev/null || HOSTER_RC=$?
    return 0
}

# delta_path FROM TO: the repo-relative directory of the static delta FROM->TO
# (FROM empty: scratch delta), with ostree's modified base64 names.
delta_path() {
    python3 - "$1" "$2" <<'PY'
import base64, sys
def mb64(h):
    return base64.b64encode(bytes.fromhex(h)).decode().rstrip("=").replace("/", "_")
f, t = sys.argv[1], mb64(sys.argv[2])
if f:
    f = mb64(f)
    print(f"deltas/{f[:2]}/{f[2:]}-{t}")
else:
    print(f"deltas/{t[:2]}/{t[2:]}")
PY
}
