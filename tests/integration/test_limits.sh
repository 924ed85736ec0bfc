#!/bin/bash
# Limits and timeouts (docs/hoster.md flags): --head-timeout against a
# slowloris client (408 and close), --idle-timeout on keep-alive connections,
# --send-timeout against a client that stops reading, --max-connections
# (extra connections wait, then get served), 1000 concurrent connections,
# a GET that carries a body, and IPv6 listeners.
source "$(dirname "$0")/lib.sh"
make_content_root
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt 4096 ]]; then ulimit -n 4096 2>/dev/null || true; fi

# --- timeouts: head 1 s, idle 3 s, send 1 s -----------------------------------
hoster_start timeouts --root "$ROOT" --threads 1 --head-timeout 1 --idle-timeout 3 --send-timeout 1
py_checks "$PORT" "$ROOT" "$DELTA_PART" <<'PY'
import select, socket, sys, time
from dcnhttp import Conn, Timeout, check, check_eq, ok, fail
port, root, part = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s100 = open(root + "/data/s100", "rb").read()

def dribble(lines, every, limit):
    """Sends the head start, then one line every `every` s; returns (elapsed
    until the server answered or closed, bytes received, eof)."""
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    s.sendall(b"GET /data/s100 HTTP/1.1\r\nHost: t\r\n")
    got, i = b"", 0
    while time.monotonic() - t0 < limit:
        if i < len(lines):
            try:
                s.sendall(lines[i])
            except OSError:
                pass
            i += 1
        r, _, _ = select.select([s], [], [], every)
        if r:
            s.settimeout(1)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        s.close()
                        return time.monotonic() - t0, got, True
                    got += chunk
            except socket.timeout:
                pass
            except ConnectionResetError:
                s.close()
                return time.monotonic() - t0, got, True
    s.close()
    return time.monotonic() - t0, got, False

# Slowloris: one header line every 0.2 s, forever. The head timer runs from
# the first byte: 408 and close after about 1 s, whatever trickles in.
# Meanwhile another client is served at once.
other = Conn(port)
other.send(b"GET /data/s100 HTTP/1.1\r\nHost: t\r\n\r\n")
t, got, eof = dribble([b"X-Slow-%d: x\r\n" % i for i in range(100)], 0.2, 6)
r = other.read_response()
check("another client served during the slowloris", r is not None and r.body == s100)
check("slowloris: 408 sent (got %r)" % got[:40], got.startswith(b"HTTP/1.1 408 "))
check("slowloris: connection closed", eof)
check("slowloris: cut after 0.8..2.5 s (head-timeout 1): %.2f s" % t, 0.8 <= t <= 2.5)
other.send(b"GET /data/one HTTP/1.1\r\nHost: t\r\n\r\n")
r = other.read_response()
check("the other client's keep-alive connection still serves", r is not None and r.body == b"x")
other.close()

# A partial head, then silence.
t, got, eof = dribble([], 0.2, 6)
check("partial head then silence: 408 and close after 0.8..2.5 s (%.2f s, %r)" % (t, got[:30]),
      got.startswith(b"HTTP/1.1 408 ") and eof and 0.8 <= t <= 2.5)

# A slow head that completes within the head timeout is served.
t, got, eof = dribble([b"X-A: 1\r\n", b"X-B: 2\r\n", b"Connection: close\r\n", b"\r\n"], 0.15, 3)
check("slow head completed in 0.6 s: 200 (%r)" % got[:30], got.startswith(b"HTTP/1.1 200 ") and got.endswith(s100))

# A keep-alive connection idle for longer than the head timeout but shorter
# than the idle timeout is still usable; after the idle timeout it is closed
# (no bytes sent: no unsolicited response).
c = Conn(port)
c.send(b"GET /data/s100 HTTP/1.1\r\nHost: t\r\n\r\n")
r = c.read_response()
check("idle: first response", r is not None and r.body == s100)
time.sleep(1.6)
c.send(b"GET /data/one HTTP/1.1\r\nHost: t\r\n\r\n")
r = c.read_response()
check("idle 1.6 s (> head-timeout, < idle-timeout): connection still serves", r is not None and r.body == b"x")
t0 = time.monotonic()
state = c.wait_eof(6)
t = time.monotonic() - t0
check_eq("idle keep-alive connection: closed without sending anything", "eof", state)
check("idle keep-alive connection: closed after 2.5..4.5 s (idle-timeout 3): %.2f s" % t, 2.5 <= t <= 4.5)
c.close()

# The head timer starts at the first byte of each request, not at the end
# of the previous response: request 2 starts 0.6 s after response 1 and
# trickles in over 0.6 s (1.2 s after response 1, 0.6 s after its start).
c = Conn(port)
c.send(b"GET /data/one HTTP/1.1\r\nHost: t\r\n\r\n")
r = c.read_response()
time.sleep(0.6)
for piece in (b"GET /data/s100 HTTP/1.1\r\n", b"Host: t\r\n", b"X-A: 1\r\n", b"\r\n"):
    c.send(piece)
    time.sleep(0.2)
try:
    r = c.read_response()
except Timeout:
    r = None
check("second request trickling in for 0.6 s, 1.2 s after the first response: served (%r)" % (r,),
      r is not None and r.status == 200 and r.body == s100)
c.close()

# A connection that never sends a byte is closed too (by the head or idle timer).
c = Conn(port)
t0 = time.monotonic()
state = c.wait_eof(6)
t = time.monotonic() - t0
check("silent new connection closed after 0.8..4.5 s: %s after %.2f s" % (state, t),
      state in ("eof", "data") and 0.8 <= t <= 4.5)
c.close()

# A client that stops reading a 20 MiB response is dropped after --send-timeout.
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", port))
s.sendall(("GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % part).encode())
time.sleep(3)
total, eof = 0, False
s.settimeout(3)
try:
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            eof = True
            break
        total += len(chunk)
except socket.timeout:
    pass
except ConnectionResetError:
    eof = True
s.close()
check("client not reading: dropped after the send timeout (%d of 20971520+ bytes, eof=%s)" % (total, eof),
      eof and total < 20971520)

# A client that reads slowly but steadily is not dropped: --send-timeout is
# about no progress, not a deadline for the whole response.
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(("127.0.0.1", port))
s.sendall(("GET /%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % part).encode())
s.settimeout(5)
got, t0, eof = bytearray(), time.monotonic(), False
try:
    while time.monotonic() - t0 < 3.5:  # about 256 kB every 0.4 s for 3.5 s
        n = 0
        while n < 262144:
            chunk = s.recv(262144 - n)
            if not chunk:
                eof = True
                break
            n += len(chunk)
            got += chunk
        if eof:
            break
        time.sleep(0.4)
    while not eof:  # then the rest at full speed
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
except (socket.timeout, ConnectionResetError) as e:
    print("slow reader: %r" % e)
s.close()
head, _, body = bytes(got).partition(b"\r\n\r\n")
check("slow but steady reader for 3.5 s (send-timeout 1): whole 20 MiB received (%d body bytes)" % len(body),
      head.startswith(b"HTTP/1.1 200 ") and body == open(root + "/" + part, "rb").read())
PY
if kill -0 "$HOSTER_PID"; then pass "server alive after the timeout tests"; else bad "server died"; fi
check_eq "server serves after the timeout tests" 200 "$(fetch "$T/c" "$URL/data/s100")"

# --- --max-connections 4 (one worker): the 5th and 6th wait ---------------
hoster_start maxconn --root "$ROOT" --threads 1 --max-connections 4 --idle-timeout 30
py_checks "$PORT" <<'PY'
import select, sys, time
from dcnhttp import Conn, Timeout, check, check_eq, fail
port = int(sys.argv[1])
req = b"GET /data/one HTTP/1.1\r\nHost: t\r\n\r\n"
held = []
for i in range(4):
    c = Conn(port, timeout=5)
    c.send(req)
    r = c.read_response()
    check_eq("connection %d of 4: served" % (i + 1), (200, b"x"), (r.status, r.body) if r else None)
    held.append(c)
extra = []
for i in range(2):
    c = Conn(port, timeout=5)  # the kernel completes the handshake (backlog)
    c.send(req)
    extra.append(c)
time.sleep(1.5)
for i, c in enumerate(extra):
    ready = select.select([c.sock], [], [], 0)[0]
    check("connection %d over the limit: not served while 4 are open" % (5 + i), not ready)
held.pop(0).close()
try:
    r = extra[0].read_response(timeout=3)
except Timeout:
    r = None
check("connection 5: served once one closed", r is not None and r.status == 200 and r.body == b"x")
held.pop(0).close()
try:
    r = extra[1].read_response(timeout=3)
except Timeout:
    r = None
check("connection 6: served once another closed", r is not None and r.status == 200 and r.body == b"x")
for c in held + extra:
    c.close()
time.sleep(0.3)
n = 0
for i in range(20):
    try:
        c = Conn(port, timeout=3)
        c.send(b"GET /data/one HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        r = c.read_response()
        n += r is not None and r.body == b"x"
        c.close()
    except (OSError, Timeout):
        pass
check_eq("after the limit: 20 sequential connections served", 20, n)
conns = [Conn(port, timeout=3) for _ in range(4)]
for c in conns:
    c.send(req)
n = sum(1 for c in conns if (lambda r: r is not None and r.body == b"x")(c.read_response()))
check_eq("after the limit: 4 concurrent connections again", 4, n)
PY

# --- 1000 concurrent connections -----------------------------------------------
hoster_start many --root "$ROOT" --threads 2
py_checks "$PORT" "$ROOT" "$OBJ_FILEZ" <<'PY'
import selectors, socket, sys, time, errno
from dcnhttp import Conn, check, check_eq, ok, fail
port, root, obj = int(sys.argv[1]), sys.argv[2], sys.argv[3]
N = 1000
paths = ["data/s100", obj, "data/s100000", "repo/summary", "data/s5000"]
want = {p: open(root + "/" + p, "rb").read() for p in paths}
sel = selectors.DefaultSelector()
class C:
    pass
conns = []
deadline = time.monotonic() + 40
# Phase 1: all connect (non-blocking), and stay open.
for i in range(N):
    c = C()
    c.i, c.path, c.buf, c.state = i, paths[i % len(paths)], bytearray(), "connecting"
    c.s = socket.socket()
    c.s.setblocking(False)
    err = c.s.connect_ex(("127.0.0.1", port))
    if err not in (0, errno.EINPROGRESS):
        fail("connect %d: %s" % (i, errno.errorcode.get(err, err)))
        continue
    sel.register(c.s, selectors.EVENT_WRITE, c)
    conns.append(c)
connected = 0
while connected < len(conns) and time.monotonic() < deadline:
    for key, _ in sel.select(1):
        c = key.data
        err = c.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        c.state = "connected" if err == 0 else "failed"
        connected += 1
        sel.unregister(c.s)
check_eq("%d connections established at once" % N, N, sum(c.state == "connected" for c in conns))
# Phase 2: every connection sends its request; phase 3: read every response.
for c in conns:
    if c.state == "connected":
        c.s.sendall(("GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % c.path).encode())
        c.state = "reading"
        sel.register(c.s, selectors.EVENT_READ, c)
pending = sum(c.state == "reading" for c in conns)
while pending and time.monotonic() < deadline:
    for key, _ in sel.select(1):
        c = key.data
        try:
            chunk = c.s.recv(1 << 18)
        except ConnectionResetError:
            chunk = b""
        c.buf += chunk
        done = False
        if b"\r\n\r\n" in c.buf:
            head, _, body = bytes(c.buf).partition(b"\r\n\r\n")
            cl = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if cl and len(body) >= int(cl[0]):
                c.status, c.body, done = head.split(b" ")[1], body, True
        if not chunk and not done:
            c.status, c.body, done = b"closed", b"", True
        if done:
            c.state = "done"
            sel.unregister(c.s)
            pending -= 1
good = sum(1 for c in conns if c.state == "done" and c.status == b"200" and c.body == want[c.path])
bad = [(c.i, c.path, c.state, getattr(c, "status", None)) for c in conns
       if not (c.state == "done" and c.status == b"200" and c.body == want[c.path])]
check("%d concurrent connections: all answered 200 with the right body (%d ok; first failures %s)"
      % (N, good, bad[:5]), good == N)
# All still open (keep-alive): the server counts them (asked on one more connection).
m = Conn(port, timeout=10)
m.send(b"GET /-/metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
r = m.read_response()
m.close()
active = None
for line in (r.body.decode(errors="replace") if r else "").splitlines():
    if line.startswith("dcn_hoster_connections_active"):
        active = float(line.split()[-1])
check("metrics: dcn_hoster_connections_active >= %d while all are open (%s)" % (N, active),
      active is not None and active >= N)
for c in conns:
    c.s.close()
PY
if kill -0 "$HOSTER_PID"; then pass "server alive after 1000 connections"; else bad "server died"; fi
check_eq "server serves after 1000 connections" 200 "$(fetch "$T/c" "$URL/$OBJ_FILEZ")"

# --- a GET with a body -----------------------------------------------------------
# RFC 9110 9.3.1: content in a GET has no meaning; a server may serve the
# request (and skip the body) or reject it and close. It must never take
# the body for the next request, nor hang.
py_checks "$PORT" "$ROOT" <<'PY'
import sys
from dcnhttp import Conn, Timeout, ProtocolError, check, ok, fail
port, root = int(sys.argv[1]), sys.argv[2]
s100 = open(root + "/data/s100", "rb").read()
for label, body in [("Content-Length: 5", b"Content-Length: 5\r\n\r\nhello"),
                    ("chunked", b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]:
    c = Conn(port, timeout=5)
    c.send(b"GET /data/s100 HTTP/1.1\r\nHost: t\r\n" + body + b"GET /data/one HTTP/1.1\r\nHost: t\r\n\r\n")
    try:
        r1 = c.read_response()
        r2 = c.read_response() if r1 is not None else None
        tail = c.wait_eof(2) if r2 is None else "answered"
    except (Timeout, ProtocolError) as e:
        fail("GET with body (%s): %s" % (label, e))
        continue
    finally:
        c.close()
    s1 = r1.status if r1 else None
    if s1 == 200 and r1.body == s100 and r2 is not None:
        check("GET with body (%s): served, body skipped, next request answered" % label,
              r2.status == 200 and r2.body == b"x")
    elif s1 == 200 and r1.body == s100:
        check("GET with body (%s): served, then the connection closed (%s)" % (label, tail), tail == "eof")
    elif s1 == 400:
        check("GET with body (%s): rejected with 400 and closed (%s, second %r)" % (label, tail, r2),
              r2 is None and tail == "eof")
    else:
        fail("GET with body (%s): first answer %r, second %r" % (label, r1, r2))
    print("info: GET with body (%s): first %s, then %s" % (label, s1, r2.status if r2 else tail))
PY

# --- IPv6 ----------------------------------------------------------------------
if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
    hoster_start v6 --root "$ROOT" --threads 1 --listen '[::1]:0'
    grep -q 'listening on http://\[::1\]:' "$HOSTER_ERR" && pass "IPv6 listener announced" || bad "no 'listening on http://[::1]:PORT/' line: $(cat "$HOSTER_ERR")"
    check_eq "IPv6 [::1]: GET" 200 "$(fetch "$T/c" -g "http://[::1]:$PORT/$OBJ_FILEZ")"
    check_eq "IPv6 [::1]: body" "$(sha "$ROOT/$OBJ_FILEZ")" "$(sha "$T/c.body")"
    check_eq "IPv6 [::1]: Range" 206 "$(fetch "$T/c" -g "http://[::1]:$PORT/data/s100000" -H 'Range: bytes=5-9')"
    hoster_flush_log
    grep -q -E 'peer=(\[::1\]|::1):[0-9]+ ' "$HOSTER_LOG" && pass "IPv6 peer in the access log" || bad "IPv6 peer not logged as [::1]:port: $(head -1 "$HOSTER_LOG")"
    # Both families at once.
    hoster_start dual --root "$ROOT" --threads 2 --listen 127.0.0.1:0 --listen '[::1]:0'
    p4=$(sed -n 's|^dcn-hoster: listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$HOSTER_ERR")
    p6=$(sed -n 's|^dcn-hoster: listening on http://\[::1\]:\([0-9]*\)/.*|\1|p' "$HOSTER_ERR")
    check_eq "dual listen: IPv4 listener serves" 200 "$(fetch "$T/c" "http://127.0.0.1:$p4/data/s100")"
    check_eq "dual listen: IPv6 listener serves" 200 "$(fetch "$T/c" -g "http://[::1]:$p6/data/s100")"
else
    echo "SKIP: IPv6 checks: ::1 is not configured on this machine"
fi

finish
