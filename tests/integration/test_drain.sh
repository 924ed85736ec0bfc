#!/bin/bash
# Graceful shutdown: on SIGTERM dcn-hoster stops accepting (new connections
# are refused), closes idle keep-alive connections, lets a response in flight
# finish intact, then exits 0; a client that stalls does not hold it past
# --drain-timeout; with nothing in flight it exits at once.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/root"
ostree init --repo="$T/root/repo" --mode=archive
head -c 50M /dev/urandom >"$T/root/big.bin"
SUM=$(sha256sum <"$T/root/big.bin")

# idle_conn RESULT: a keep-alive connection that makes one request (/-/live),
# then waits; writes "ready" to RESULT after the response, then "eof" when the
# server closes the connection (or "timeout").
idle_conn() {
    python3 - "$PORT" "$1" <<'PY' &
import socket, sys, time
port, result = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /-/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, body = buf.split(b"\r\n\r\n", 1)
length = 0
for line in head.split(b"\r\n")[1:]:
    k, v = line.split(b":", 1)
    if k.strip().lower() == b"content-length":
        length = int(v)
while len(body) < length:
    body += s.recv(4096)
open(result, "w").write("ready %s\n" % head.split(b"\r\n")[0].decode())
s.settimeout(15)
try:
    while s.recv(4096):
        pass
    what = "eof"
except socket.timeout:
    what = "timeout"
except ConnectionResetError:
    what = "eof"
open(result, "a").write(what + "\n")
PY
    track_pid $!
}

wait_file_line() { # wait_file_line FILE REGEX SECONDS
    local i
    for i in $(seq 1 "$(awk -v s="$3" 'BEGIN { print int(s * 20) }')"); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# ---- 1. a download in flight finishes; new connections are refused -------------
hoster_start drain --root "$T/root" --drain-timeout 20
idle_conn "$T/idle"
wait_file_line "$T/idle" '^ready HTTP/1.1 200' 5 || fail "keep-alive connection: no 200 for /-/live: $(cat "$T/idle" 2>/dev/null)"
curl -sS --limit-rate 10M -o "$T/dl" "$URL/big.bin" &
DL_PID=$!
track_pid "$DL_PID"
for i in $(seq 1 100); do [[ $(stat -c %s "$T/dl" 2>/dev/null || echo 0) -ge 1048576 ]] && break; sleep 0.05; done
[[ $(stat -c %s "$T/dl" 2>/dev/null || echo 0) -ge 1048576 ]] || fail "download did not start"

kill -TERM "$HOSTER_PID"
kill -0 "$DL_PID" 2>/dev/null || fail "the download ended before SIGTERM; the test proves nothing"
refused=
for i in $(seq 1 40); do
    rc=0; curl -sS -o /dev/null --max-time 2 "$URL/-/live" 2>/dev/null || rc=$?
    [[ $rc -eq 7 ]] && { refused=1; break; }
    sleep 0.05
done
[[ -n $refused ]] || fail "2 s after SIGTERM a new connection is still accepted (curl exit $rc)"
wait_file_line "$T/idle" '^(eof|timeout)$' 3 || fail "idle keep-alive connection still open 3 s after SIGTERM"
require_eq "idle keep-alive connection after SIGTERM" eof "$(tail -n1 "$T/idle")"
if kill -0 "$DL_PID" 2>/dev/null; then
    [[ $(awk '{print $3}' "/proc/$HOSTER_PID/stat") != Z ]] || fail "dcn-hoster exited with a download in flight"
fi
rc=0; curl -sS -o /dev/null --max-time 2 "$URL/-/live" 2>/dev/null || rc=$?
require_eq "curl exit status for a new connection while draining (7: refused)" 7 "$rc"

rc=0; wait "$DL_PID" || rc=$?
require_eq "curl exit status of the download in flight at SIGTERM" 0 "$rc"
[[ $(sha256sum <"$T/dl") == "$SUM" ]] || fail "the download in flight at SIGTERM is not the file's bytes"
hoster_wait_exit 3 || fail "dcn-hoster still running 3 s after the last response finished"
require_eq "exit status after draining" 0 "$HOSTER_RC"
pass "SIGTERM: new connections refused, idle keep-alive closed, download finished intact, exit 0 ${HOSTER_WAITED}s after it"

# ---- 1b. a request queued on an open connection during the drain: 503, close ------------
head -c 20M /dev/urandom >"$T/root/mid.bin"
# A generous drain timeout: on a loaded machine a 64 KiB receive buffer can
# take longer than the default 25 s for 20 MB, and this case is not about it.
hoster_start pipelined --root "$T/root" --drain-timeout 300
python3 - "$PORT" "$HOSTER_PID" "$(stat -c %s "$T/root/mid.bin")" >"$T/pipelined.out" 2>&1 <<'PY' || { cat "$T/pipelined.out" >&2; fail "pipelined /-/ready during the drain"; }
import os, signal, socket, sys, time
port, pid, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", port))
# the second request waits behind the first, a response larger than the socket buffers
s.sendall(b"GET /mid.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
          b"GET /-/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
data = s.recv(65536)
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
s.settimeout(20)
while True:
    c = s.recv(1 << 20)
    if not c:
        break
    data += c
head1, rest = data.split(b"\r\n\r\n", 1)
assert head1.startswith(b"HTTP/1.1 200 "), head1
assert len(rest) >= size, "first response cut short: %d of %d body bytes" % (len(rest), size)
second = rest[size:]
head2 = second.split(b"\r\n\r\n", 1)[0]
assert head2.startswith(b"HTTP/1.1 503 "), "queued /-/ready during the drain: %r" % second[:200]
assert b"\r\nconnection: close" in head2.lower(), "queued /-/ready without Connection: close: %r" % head2
print("ok")
PY
hoster_wait_exit 5 || fail "dcn-hoster still running 5 s after the pipelined responses"
require_eq "exit status after the pipelined drain" 0 "$HOSTER_RC"
pass "SIGTERM: a /-/ready queued on an open connection gets 503 with Connection: close, exit 0"

# ---- 2. a stalled client does not hold the process past --drain-timeout --------------
hoster_start stall --root "$T/root" --drain-timeout 2
python3 - "$PORT" "$T/stalled" <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:   # the response has started...
    head += s.recv(1)
open(sys.argv[2], "w").write(head.split(b"\r\n")[0].decode() + "\n")
time.sleep(60)                   # ...and is never read further
PY
track_pid $!
wait_file_line "$T/stalled" '^HTTP/1.1 200' 10 || fail "stalled client: no 200 response head: $(cat "$T/stalled" 2>/dev/null)"
kill -TERM "$HOSTER_PID"
hoster_wait_exit 6 || fail "dcn-hoster still running 6 s after SIGTERM with --drain-timeout 2"
awk -v w="$HOSTER_WAITED" 'BEGIN { exit !(w >= 1.5) }' \
    || fail "dcn-hoster exited ${HOSTER_WAITED}s after SIGTERM with a response in flight (drain-timeout 2 s)"
pass "stalled client: exit ${HOSTER_WAITED}s after SIGTERM with --drain-timeout 2 (status $HOSTER_RC)"

# ---- 3. nothing in flight: exit 0 at once ---------------------------------------------
hoster_start idle --root "$T/root"
require_eq "/-/ready before SIGTERM" 200 "$(http_code "$URL/-/ready")"
kill -TERM "$HOSTER_PID"
hoster_wait_exit 1.5 || fail "idle dcn-hoster still running 1.5 s after SIGTERM"
require_eq "exit status of an idle dcn-hoster after SIGTERM" 0 "$HOSTER_RC"
pass "idle: exit 0 ${HOSTER_WAITED}s after SIGTERM"
pass "test_drain"
