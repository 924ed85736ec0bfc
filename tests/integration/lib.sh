# Shared helpers for integration tests. Source it; it sets `set -euo pipefail`,
# makes $T (a temporary directory removed on exit) and stops every hoster
# started with hoster_start when the script exits.
set -euo pipefail

: "${DCN_HOSTER:?DCN_HOSTER must point at the dcn-hoster binary (ctest sets it)}"
: "${DCN_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/dcn-test.XXXXXX")
_dcn_pids=()
_dcn_on_exit=()
_dcn_cleanup() {
    local pid cmd
    for pid in "${_dcn_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for cmd in "${_dcn_on_exit[@]}"; do eval "$cmd" || true; done
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

# Soft checks: `check_eq WHAT EXPECTED ACTUAL` and `bad MSG` record a failure
# and go on, so one run lists every discrepancy; `finish` ends the script
# (exit 1 if any check failed). Results go to files, so checks made in a
# subshell (e.g. the right side of a pipe) count too.
: >"$T/.checks-ok"; : >"$T/.checks-bad"
bad() { echo "FAIL: $*" >&2; echo "${*//$'\n'/ }" >>"$T/.checks-bad"; }
good() { echo "ok: $*"; echo "$*" >>"$T/.checks-ok"; }
check_eq() { if [[ "$3" == "$2" ]]; then good "$1"; else bad "$1: expected [$2], got [$3]"; fi; }
finish() {
    local nok nbad
    nok=$(wc -l <"$T/.checks-ok") nbad=$(wc -l <"$T/.checks-bad")
    echo "${0##*/}: $nok checks passed, $nbad failed"
    if [[ $nbad -ne 0 ]]; then sed 's/^/  failed: /' "$T/.checks-bad" >&2; exit 1; fi
}

# curl that never goes through a proxy and never hangs.
hcurl() { curl -sS --noproxy '*' --max-time 60 "$@"; }
# fetch OUT [curl args...]: writes OUT.head (header block) and OUT.body
# (empty when there was none), prints the status code (000: no response).
fetch() {
    local o=$1; shift
    rm -f "$o.head" "$o.body"
    hcurl -D "$o.head" -o "$o.body" -w '%{http_code}' "$@" || true
    touch "$o.head" "$o.body"
}
# hdr FILE NAME: value of the first NAME field in a header block (curl -D or
# raw_request output), CR and surrounding blanks stripped; empty if absent.
hdr() {
    tr -d '\r' <"$1" | awk -v n="$2" 'BEGIN { n = tolower(n) }
        { i = index($0, ":"); if (i > 1 && tolower(substr($0, 1, i - 1)) == n) {
              v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; exit } }'
}
# hdr_count FILE NAME: how many NAME fields the header block has.
hdr_count() { tr -d '\r' <"$1" | awk -v n="$2" 'BEGIN { n = tolower(n); c = 0 }
    { i = index($0, ":"); if (i > 1 && tolower(substr($0, 1, i - 1)) == n) c++ } END { print c }'; }
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

# Raw HTTP client (python3), for what curl cannot send. Inline python can
# `import dcnhttp` (Conn, Response; see the module). From bash:
#   raw_request [--head | --head-at I...] [--count N] [--close-wait S] [--timeout S] [--host H] PORT OUT <REQUEST-BYTES
# sends stdin in one write, reads N responses (default 1) into OUT.head/OUT.body
# (the first) and OUT.<i>.head/OUT.<i>.body, and prints the statuses and
# then the connection state: "eof" (server closed), "open" (still open after
# --close-wait seconds, default 0 = not checked: "unknown"). A status is
# "none" when the server closed without answering, "timeout" when it sent
# nothing, "bad" when the bytes were not an HTTP response.
# py_checks [ARGS...] <<'PY' ... PY: runs a python3 script whose lines
# "PASS<TAB>msg" / "FAIL<TAB>msg" (dcnhttp.ok/fail/check/check_eq) count as
# good/bad checks; other output is shown; a script that dies is a failure.
py_checks() {
    local verdict msg
    while IFS=$'\t' read -r verdict msg; do
        case $verdict in
        PASS) good "$msg" ;;
        FAIL) bad "$msg" ;;
        EXIT) [[ $msg == 0 ]] || bad "python check script exited with status $msg" ;;
        *) echo "$verdict${msg:+ $msg}" ;;
        esac
    done < <(rc=0; python3 - "$@" 2>&1 || rc=$?; echo "EXIT	$rc")
}
mkdir -p "$T/py"
export PYTHONPATH=$T/py${PYTHONPATH:+:$PYTHONPATH}
raw_request() { python3 -m dcnhttp "$@"; }
cat >"$T/py/dcnhttp.py" <<'PYEOF'
"""Raw HTTP/1.x client for the dcn integration tests (written by lib.sh)."""
import re, socket, sys, time


class Timeout(Exception):
    pass


class ProtocolError(Exception):
    pass


class Response:
    def __init__(self, version, status, reason, headers, raw_head):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.raw_head, self.body = headers, raw_head, b""

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def __repr__(self):
        return "<%s %d, %d body bytes>" % (self.version, self.status, len(self.body))


class Conn:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self, deadline):
        """Reads more bytes; False at EOF (or reset); Timeout at the deadline."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise Timeout()
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ProtocolError("EOF after %d of %d body bytes" % (len(self.buf), n))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            if not self._fill(deadline):
                raise ProtocolError("EOF inside a chunked body")
        i = self.buf.index(b"\r\n")
        out = bytes(self.buf[:i])
        del self.buf[: i + 2]
        return out

    def read_response(self, head=False, timeout=None):
        """Reads one response; None when the server closed before sending a
        byte. head=True: the request was HEAD (no body follows)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                if self.buf:
                    raise ProtocolError("EOF inside a response head: %r" % bytes(self.buf[:300]))
                return None
        i = self.buf.index(b"\r\n\r\n")
        raw_head = bytes(self.buf[:i])
        del self.buf[: i + 4]
        lines = raw_head.split(b"\r\n")
        m = re.match(rb"(HTTP/\d\.\d) (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise ProtocolError("bad status line %r" % lines[0])
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError("bad header line %r" % line)
            headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        r = Response(m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1"), headers, raw_head)
        te = (r.header("Transfer-Encoding") or "").lower()
        cl = r.header_all("Content-Length")
        if head or r.status in (204, 304) or r.status < 200:
            return r
        if te:
            if te != "chunked":
                raise ProtocolError("Transfer-Encoding %r" % te)
            body = bytearray()
            while True:
                size = int(self._line(deadline).split(b";")[0], 16)
                if size == 0:
                    while self._line(deadline):
                        pass
                    break
                body += self._take(size, deadline)
                self._line(deadline)
            r.body = bytes(body)
        elif cl:
            if len(set(cl)) != 1 or not cl[0].isdigit():
                raise ProtocolError("bad Content-Length %r" % cl)
            r.body = self._take(int(cl[0]), deadline)
        else:
            while self._fill(deadline):
                pass
            r.body = bytes(self.buf)
            self.buf.clear()
        return r

    def wait_eof(self, timeout):
        """'eof' if the server closes within timeout, 'open' if not, 'data'
        if it sends more bytes."""
        deadline = time.monotonic() + timeout
        while True:
            if self.buf:
                return "data"
            try:
                if not self._fill(deadline):
                    return "eof"
            except Timeout:
                return "open"


def ok(msg):
    print("PASS\t" + msg.replace("\n", " "), flush=True)


def fail(msg):
    print("FAIL\t" + msg.replace("\n", " "), flush=True)


def check(msg, cond):
    (ok if cond else fail)(msg)
    return cond


def check_eq(msg, want, got):
    if want == got:
        ok(msg)
    else:
        fail("%s: expected [%s], got [%s]" % (msg, want, got))
    return want == got


def request(port, data, head=False, timeout=10.0, host="127.0.0.1"):
    """One connection, one request (bytes), one response (or None)."""
    c = Conn(port, host, timeout)
    try:
        c.send(data)
        return c.read_response(head=head)
    finally:
        c.close()


def _main(argv):
    import argparse
    p = argparse.ArgumentParser(prog="dcnhttp")
    p.add_argument("--head", action="store_true", help="every request is HEAD")
    p.add_argument("--head-at", type=int, action="append", default=[],
                   help="response I (1-based) answers a HEAD request")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--close-wait", type=float, default=0)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("port", type=int)
    p.add_argument("out")
    a = p.parse_args(argv)
    import os
    for suffix in [""] + [".%d" % i for i in range(1, a.count + 1)]:
        for ext in (".head", ".body"):
            if os.path.exists(a.out + suffix + ext):
                os.unlink(a.out + suffix + ext)
    data = sys.stdin.buffer.read()
    c = Conn(a.port, a.host, a.timeout)
    try:
        c.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    words = []
    for i in range(1, a.count + 1):
        try:
            r = c.read_response(head=a.head or i in a.head_at)
        except Timeout:
            words.append("timeout")
            break
        except ProtocolError as e:
            print("dcnhttp: %s" % e, file=sys.stderr)
            words.append("bad")
            break
        if r is None:
            words.append("none")
            break
        words.append(str(r.status))
        head = r.raw_head.replace(b"\r\n", b"\n") + b"\n"
        for suffix in ([""] if i == 1 else []) + [".%d" % i]:
            with open(a.out + suffix + ".head", "wb") as f:
                f.write(head)
            with open(a.out + suffix + ".body", "wb") as f:
                f.write(r.body)
    if c.eof:
        words.append("eof")
    elif a.close_wait > 0:
        words.append(c.wait_eof(a.close_wait))
    else:
        words.append("unknown")
    print(" ".join(words))


if __name__ == "__main__":
    _main(sys.argv[1:])
PYEOF

# ---------------------------------------------------------------------------
# Helpers added for the integration tests (test_*.sh).

# track_pid PID: kill PID (SIGKILL) when the script exits.
track_pid() { _dcn_pids+=("$1"); }

# on_exit 'COMMAND': run COMMAND (eval) when the script exits, before $T is removed.
on_exit() { _dcn_on_exit+=("$1"); }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"; }

# make_sample_root DIR: the sample content root (repo + dcn.ks) in DIR.
make_sample_root() {
    bash "$DCN_SOURCE_DIR/sample/make-sample-root.sh" "$1" >/dev/null \
        || fail "make-sample-root.sh $1 failed"
}

# http_code URL [curl args...]: prints the status code (000: no response).
http_code() {
    local url=$1; shift
    curl -s -o /dev/null -w '%{http_code}' "$@" "$url" || true
}

# header NAME FILE: value of header NAME in a curl -D dump (last response).
header() {
    tr -d '\r' <"$2" | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" '
        /^HTTP\// { v = "" }
        { i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v) } }
        END { print v }'
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
