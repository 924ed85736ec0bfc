# Shared helpers for integration tests. Source it; it sets `set -euo pipefail`,
# makes $T (a temporary directory removed on exit) and stops every hoster
# started with hoster_start when the script exits.
set -euo pipefail

: "${DCN_HOSTER:?DCN_HOSTER must point at the dcn-hoster binary (ctest sets it)}"
: "${DCN_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/dcn-test.XXXXXX")
_dcn_pids=()
_dcn_cleanup() {
    local pid
    for pid in "${_dcn_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap _dcn_cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

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
    "$DCN_HOSTER" "${listen[@]}" "$@" >"$HOSTER_LOG" 2>"$HOSTER_ERR" &
    HOSTER_PID=$!
    _dcn_pids+=("$HOSTER_PID")
    local i
    for i in $(seq 1 200); do
        if PORT=$(sed -n 's|^dcn-hoster: listening on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$HOSTER_ERR" | head -n1) && [[ -n $PORT ]]; then
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
