#!/bin/bash
# Persistent connections and pipelining (RFC 9112 section 9): curl reusing
# one connection, many requests on one raw socket, 10 and 100 requests sent
# in one write and answered in order with the right bodies (small cached,
# sendfile-sized and 20 MiB responses mixed), HTTP/1.0 and Connection:
# close, a head split into single bytes, '+' as a literal plus, and one
# access-log line per request.
source "$(dirname "$0")/lib.sh"
make_content_root
hoster_start ka --root "$ROOT" --threads 2

# --- curl reuses one connection for several transfers ----------------------
paths=("$OBJ_FILEZ" "$DELTA_PART" repo/summary nope "$OBJ_BIG" data/s100 "$OBJ_FILEZ")
args=()
for i in "${!paths[@]}"; do args+=(-o "$T/k$i" "$URL/${paths[$i]}"); done
hcurl -w '%{num_connects} %{http_code}\n' "${args[@]}" >"$T/curl.out" || true
check_eq "curl, 7 transfers: connections opened per transfer" "1 0 0 0 0 0 0" "$(cut -d' ' -f1 "$T/curl.out" | tr '\n' ' ' | sed 's/ $//')"
check_eq "curl, 7 transfers: statuses" "200 200 200 404 200 200 200" "$(cut -d' ' -f2 "$T/curl.out" | tr '\n' ' ' | sed 's/ $//')"
for i in "${!paths[@]}"; do
    [[ ${paths[$i]} == nope ]] && continue
    check_eq "curl keep-alive transfer $i (/${paths[$i]}): body" "$(sha "$ROOT/${paths[$i]}")" "$(sha "$T/k$i")"
done

# --- raw sockets --------------------------------------------------------------
py_checks "$PORT" "$ROOT" "$OBJ_FILEZ" "$OBJ_BIG" "$DELTA_PART" "$DELTA_SB" <<'PY'
import sys, time, hashlib
from dcnhttp import Conn, check, check_eq, ok, fail
port, root, obj, objbig, part, sb = int(sys.argv[1]), *sys.argv[2:]
def data(p):
    with open(root + "/" + p, "rb") as f:
        return f.read()
def get(p, extra=b"", method=b"GET", version=b"1.1"):
    return method + b" /" + p.encode() + b" HTTP/" + version + b"\r\nHost: t\r\n" + extra + b"\r\n"
etag = None

# 1. Sequential requests on one connection, each read before the next is sent.
c = Conn(port)
seq = [("data/s100", b"", 200), (obj, b"", 200), ("nope", b"", 404), (objbig, b"Range: bytes=10-19\r\n", 206),
       ("repo/summary", b"", 200), (obj, b"", 200), (part, b"", 200), ("data/", b"", 403),
       ("data/s5000", b"", 200), ("data/empty", b"", 200)]
for i, (p, extra, want) in enumerate(seq):
    c.send(get(p, extra))
    r = c.read_response()
    if r is None:
        fail("sequential request %d (/%s): connection closed" % (i + 1, p))
        break
    check_eq("sequential %d /%s: status" % (i + 1, p), want, r.status)
    if want == 200:
        check("sequential %d /%s: body" % (i + 1, p), r.body == data(p))
    if want == 206:
        check("sequential %d /%s: range body" % (i + 1, p), r.body == data(p)[10:20])
    check("sequential %d: no Connection: close" % (i + 1), (r.header("Connection") or "").lower() != "close")
    if p == "repo/summary":
        etag = r.header("ETag")
c.send(get("repo/summary", b"If-None-Match: " + etag.encode() + b"\r\n"))
r = c.read_response()
check_eq("sequential 304 on the same connection", 304, r.status if r else None)
c.send(get("data/a+b"))
r = c.read_response()
check_eq("request after a 304 on the same connection", b"plus\n", r.body if r else None)
c.send(get("data/s100", method=b"DELETE"))
r = c.read_response()
check_eq("405 on the same connection", 405, r.status if r else None)
c.send(get("data/s100"))
r = c.read_response()
check("connection still usable after a 405", r is not None and r.body == data("data/s100"))
c.close()

# 2. Pipelining: 10 requests in one write, 10 responses in order.
pipe = [("data/s100", b"GET", b"", 200, lambda b: b == data("data/s100")),
        (part, b"GET", b"", 200, lambda b: b == data(part)),
        (obj, b"GET", b"", 200, lambda b: b == data(obj)),
        ("nope", b"GET", b"", 404, None),
        (objbig, b"HEAD", b"", 200, lambda b: b == b""),
        ("data/s100000", b"GET", b"", 200, lambda b: b == data("data/s100000")),
        (part, b"GET", b"Range: bytes=1000000-1000099,-10\r\n", 206, None),
        ("repo/summary", b"GET", b"If-None-Match: " + etag.encode() + b"\r\n", 304, lambda b: b == b""),
        ("data/a+b", b"GET", b"", 200, lambda b: b == b"plus\n"),
        (sb, b"GET", b"", 200, lambda b: b == data(sb))]
c = Conn(port, timeout=30)
c.send(b"".join(get(p, extra, method=m) for p, m, extra, _, _ in pipe))
for i, (p, m, extra, want, body_ok) in enumerate(pipe):
    r = c.read_response(head=(m == b"HEAD"))
    if r is None:
        fail("pipelined response %d (/%s): connection closed" % (i + 1, p))
        break
    check_eq("pipelined %d %s /%s: status" % (i + 1, m.decode(), p), want, r.status)
    if body_ok:
        check("pipelined %d /%s: body (%d bytes)" % (i + 1, p, len(r.body)), body_ok(r.body))
    if m == b"HEAD":
        check_eq("pipelined HEAD: Content-Length", str(len(data(p))), r.header("Content-Length"))
    if want == 206:
        ct = r.header("Content-Type") or ""
        check("pipelined multi-range: multipart and both parts", ct.startswith("multipart/byteranges")
              and data(part)[1000000:1000100] in r.body and data(part)[-10:] in r.body)
check_eq("after 10 pipelined responses: nothing more, connection open", "open", c.wait_eof(0.5))
c.close()

# 3. 100 pipelined requests for distinct URLs (a query per request) in one write.
c = Conn(port, timeout=30)
small = data("data/s100")
c.send(b"".join(get("data/s100?n=%d" % i) for i in range(100)))
n_ok = 0
for i in range(100):
    r = c.read_response()
    if r is None:
        break
    n_ok += r.status == 200 and r.body == small
check_eq("100 pipelined requests: correct responses", 100, n_ok)
c.close()

# 3b. 2000 pipelined requests (far more than one read buffer holds).
c = Conn(port, timeout=30)
c.send(b"".join(get("data/one") for i in range(2000)))
n_ok = 0
for i in range(2000):
    r = c.read_response()
    if r is None:
        break
    n_ok += r.status == 200 and r.body == b"x"
check_eq("2000 pipelined requests in one write: correct responses", 2000, n_ok)
c.close()

# 3c. A malformed request inside a pipeline: the ones before it are answered,
#     it gets 400, and nothing after it is (the connection closes).
c = Conn(port)
c.send(get("data/one") + b"BAD\r\n\r\n" + get("data/one"))
st = []
for _ in range(3):
    r = c.read_response()
    st.append(r.status if r else None)
    if r is None:
        break
check_eq("200, malformed, 200 pipelined: 200, 400, then EOF", [200, 400, None], st)
c.close()

# 4. Large first, then small: each response whole and in order.
c = Conn(port, timeout=30)
order = [part, "data/s100", obj, part, "data/one"]
c.send(b"".join(get(p) for p in order))
got = []
for p in order:
    r = c.read_response()
    got.append(r is not None and r.status == 200 and r.body == data(p))
check_eq("large/small/large pipelined: all intact and in order", [True] * 5, got)
c.close()

# 5. Connection: close is honoured: the response says so, the server closes,
#    and a request pipelined behind it is not answered.
c = Conn(port)
c.send(get("data/s100", b"Connection: close\r\n") + get("data/one"))
r = c.read_response()
check("Connection: close: answered", r is not None and r.status == 200 and r.body == small)
check_eq("Connection: close: response carries Connection: close", "close", (r.header("Connection") or "").lower() if r else None)
check_eq("Connection: close: server closes, nothing more sent", "eof", c.wait_eof(3))
c.close()
c = Conn(port)
c.send(get("data/s100") + get("data/one", b"Connection: close\r\n") + get("data/s100"))
st = []
for _ in range(3):
    r = c.read_response()
    st.append(r.status if r else None)
    if r is None:
        break
check_eq("keep-alive, close, then a third: two answers then EOF", [200, 200, None], st)
c.close()

# 6. HTTP/1.0: closed after one response unless keep-alive was asked for.
c = Conn(port)
c.send(b"GET /data/s100 HTTP/1.0\r\n\r\n")
r = c.read_response()
check("HTTP/1.0: answered", r is not None and r.status == 200 and r.body == small)
check_eq("HTTP/1.0 without keep-alive: server closes", "eof", c.wait_eof(3))
c.close()
c = Conn(port)
c.send(b"GET /data/s100 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
r = c.read_response()
check("HTTP/1.0 keep-alive: answered", r is not None and r.status == 200 and r.body == small)
if r is not None and (r.header("Connection") or "").lower() == "keep-alive":
    c.send(b"GET /data/one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r2 = c.read_response()
    check("HTTP/1.0 keep-alive: kept and second request answered", r2 is not None and r2.body == b"x")
else:
    check_eq("HTTP/1.0 keep-alive not offered: server closes", "eof", c.wait_eof(3))
c.close()
c = Conn(port)
c.send(b"GET /data/s100 HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, close\r\n\r\n")
r = c.read_response()
check_eq("Connection: keep-alive, close: closes", "eof", c.wait_eof(3) if r else "no response")
c.close()

# 7. A head split into single bytes, then a second request split mid-head.
c = Conn(port)
req = get(obj, b"User-Agent: dribble\r\n")
for i in range(len(req)):
    c.send(req[i:i + 1])
    time.sleep(0.002)
r = c.read_response()
check("request sent byte by byte: answered", r is not None and r.status == 200 and r.body == data(obj))
two = get("data/s100") + get("data/one")
cut = len(get("data/s100")) + 7
c.send(two[:cut])
time.sleep(0.2)
c.send(two[cut:])
r1, r2 = c.read_response(), c.read_response()
check("second request split mid-head: both answered",
      r1 is not None and r1.body == small and r2 is not None and r2.body == b"x")
c.close()

# 8. '+' is a literal plus; %2B too; %20 is the space.
c = Conn(port)
for target, want in [("data/a+b", b"plus\n"), ("data/a%2Bb", b"plus\n"), ("data/a%2bb", b"plus\n"),
                     ("data/a%20b", b"space\n")]:
    c.send(get(target))
    r = c.read_response()
    check_eq("/%s" % target, (200, want), (r.status, r.body) if r else None)
c.send(get(sb.replace("+", "%2B")))
r = c.read_response()
check_eq("delta with '+' in its name, %2B-encoded", (200, True), (r.status, r.body == data(sb)) if r else None)
c.close()
PY
check_eq "delta superblock with '+' and '_' in its name (curl)" 200 "$(fetch "$T/c" "$URL/$DELTA_SB")"
check_eq "delta superblock with '+': body" "$(sha "$ROOT/$DELTA_SB")" "$(sha "$T/c.body")"

# --- one access-log line per request ------------------------------------------
hoster_flush_log
n=$(grep -c -E '^ts=[^ ]+ peer=127\.0\.0\.1:[0-9]+ method=GET path="/data/s100\?n=[0-9]+" status=200 bytes=100 dur_us=[0-9]+ ua="[^"]*"$' "$HOSTER_LOG" || true)
check_eq "access log: one line per pipelined request, status and bytes" 100 "$n"
n=$(grep -o 'path="/data/s100?n=[0-9]*"' "$HOSTER_LOG" | sort -u | wc -l)
check_eq "access log: the 100 distinct targets" 100 "$n"
check_eq "access log: HEAD logged with bytes=0" 1 "$(grep -c -F "method=HEAD path=\"/$OBJ_BIG\" status=200 bytes=0 " "$HOSTER_LOG" || true)"
# the 20 MiB part went out 5 times whole (curl, sequential, pipelined x3) and once as ranges
check_eq "access log: 20 MiB responses with bytes=20971520" 5 "$(grep -c -F "path=\"/$DELTA_PART\" status=200 bytes=20971520 " "$HOSTER_LOG" || true)"
check_eq "access log: the multi-range response" 1 "$(grep -c -F "path=\"/$DELTA_PART\" status=206 " "$HOSTER_LOG" || true)"
check_eq "access log: user agent" 1 "$(grep -c 'ua="dribble"' "$HOSTER_LOG" || true)"

finish
