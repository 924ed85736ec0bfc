#!/bin/bash
# Error statuses (docs/hoster.md "Errors"; RFC 9110/9112): 404, 403 for
# directories, 405 with Allow, 400 for malformed heads, 414, 431, 505, Host
# rules, and HEAD answering with the same headers as GET and no body. After
# 400/414/431/505 the connection must be closed. The request-smuggling corpus
# (tests/smuggling, test_request_smuggling.sh) covers framing and field syntax.
source "$(dirname "$0")/lib.sh"
make_content_root
hoster_start err --root "$ROOT" --threads 2
P_DEF=$PORT URL_DEF=$URL PID_DEF=$HOSTER_PID
hoster_start small --root "$ROOT" --threads 2 --max-head-size 1k --max-headers 10
P_SMALL=$PORT PID_SMALL=$HOSTER_PID
URL=$URL_DEF PORT=$P_DEF

# raw WHAT PORT EXPECTED-STATUS EXPECTED-CONN [raw_request args] <REQUEST
# EXPECTED-CONN: eof (server must close within 3 s), open, or any.
raw() {
    local what=$1 port=$2 want=$3 conn=$4 st c wait=0.5; shift 4
    [[ $conn == eof ]] && wait=3
    read -r st c < <(raw_request --close-wait $wait "$@" "$port" "$T/e")
    check_eq "$what: status" "$want" "$st"
    if [[ $conn != any ]]; then check_eq "$what: connection afterwards" "$conn" "$c"; fi
    if [[ -f $T/e.head && -f $T/e.body && $* != *--head* ]]; then
        check_eq "$what: Content-Length = body length" "$(fsize "$T/e.body")" "$(hdr "$T/e.head" Content-Length)"
    fi
}

# --- 404 / 403 -------------------------------------------------------------
for p in nope repo/objects/00/missing.filez repo/refs/heads/nope data/s100/extra data/s100/ "data/s100%20" repo/summary.sig.x; do
    code=$(fetch "$T/c" "$URL/$p")
    check_eq "/$p: 404" 404 "$code"
    check_eq "/$p: Content-Length = body length" "$(fsize "$T/c.body")" "$(hdr "$T/c.head" Content-Length)"
done
for p in "" data data/ data/sub/ repo repo/ repo/objects/ link-in-dir/ "-/"; do
    code=$(fetch "$T/c" "$URL/$p")
    if [[ $p == "-/" ]]; then
        check_eq "/$p (reserved prefix): the status page, not a directory" "200 text/html; charset=utf-8" \
            "$code $(hdr "$T/c.head" Content-Type)"
        continue
    fi
    check_eq "directory /$p without --list-dirs: 403" 403 "$code"
    check_eq "directory /$p: Content-Length = body length" "$(fsize "$T/c.body")" "$(hdr "$T/c.head" Content-Length)"
done
check_eq "symlink inside the root to a file: 200" 200 "$(fetch "$T/c" "$URL/link-in")"
check_eq "symlink inside the root: body" "$(sha "$ROOT/data/s100")" "$(sha "$T/c.body")"
check_eq "/-/live" "200 ok" "$(fetch "$T/c" "$URL/-/live") $(tr -d '\n' <"$T/c.body")"
check_eq "/-/ready" 200 "$(fetch "$T/c" "$URL/-/ready")"

# --- 405 -------------------------------------------------------------------
for m in POST PUT DELETE OPTIONS PATCH TRACE PROPFIND; do
    code=$(fetch "$T/c" -X "$m" "$URL/data/s100")
    check_eq "$m: 405" 405 "$code"
    check_eq "$m: Allow" "GET, HEAD" "$(hdr "$T/c.head" Allow)"
    check_eq "$m: Content-Length = body length" "$(fsize "$T/c.body")" "$(hdr "$T/c.head" Content-Length)"
done
code=$(fetch "$T/c" --data-binary 'hello=world' "$URL/repo/config")
check_eq "POST with a body: 405 + Allow" "405 GET, HEAD" "$code $(hdr "$T/c.head" Allow)"
code=$(fetch "$T/c" -T "$ROOT/data/s5000" "$URL/data/uploaded")
check_eq "PUT upload: 405" 405 "$code"
[[ ! -e $ROOT/data/uploaded ]] && pass "PUT created nothing" || bad "PUT created $ROOT/data/uploaded"
code=$(fetch "$T/c" -X DELETE "$URL/data/s100")
[[ -f $ROOT/data/s100 ]] && pass "DELETE removed nothing" || bad "DELETE removed data/s100"
# Methods are case-sensitive: "get" is not GET.
printf 'get /data/s100 HTTP/1.1\r\nHost: t\r\n\r\n' | raw "lowercase method get" "$PORT" 405 any
# A 405 for a request with a body: the body must not be taken for the next request.
read -r s1 s2 _ < <(printf 'POST /data/s100 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloGET /data/s100 HTTP/1.1\r\nHost: t\r\n\r\n' |
    raw_request --count 2 --close-wait 2 "$PORT" "$T/e")
check_eq "POST with body then GET: POST answered 405" 405 "$s1"
if [[ $s2 == 200 ]]; then
    check_eq "POST with body then GET: GET body" "$(sha "$ROOT/data/s100")" "$(sha "$T/e.2.body")"
elif [[ $s2 == eof || $s2 == none ]]; then
    pass "POST with body then GET: connection closed after the 405 (allowed)"
else
    bad "POST with body then GET: second answer [$s2] (the body was parsed as a request?)"
fi

# --- 400: malformed heads, then the connection is closed --------------------
bad400() { # WHAT FORMAT...
    local what=$1; shift
    # shellcheck disable=SC2059
    printf "$@" | raw "400 $what" "$PORT" 400 eof
}
bad400 "garbage line" 'GARBAGE\r\n\r\n'
bad400 "method only" 'GET\r\n\r\n'
bad400 "HTTP/0.9 request line (no version)" 'GET /data/s100\r\n\r\n'
bad400 "extra word after the version" 'GET /data/s100 HTTP/1.1 extra\r\nHost: t\r\n\r\n'
bad400 "version HTTP/1.x" 'GET /data/s100 HTTP/1.x\r\nHost: t\r\n\r\n'
bad400 "version HTTP/11" 'GET /data/s100 HTTP/11\r\nHost: t\r\n\r\n'
bad400 "protocol FOO/1.1" 'GET /data/s100 FOO/1.1\r\nHost: t\r\n\r\n'
bad400 "lowercase http/1.1 (HTTP-name is case-sensitive)" 'GET /data/s100 http/1.1\r\nHost: t\r\n\r\n'
bad400 "method with a non-token byte" 'G(T /data/s100 HTTP/1.1\r\nHost: t\r\n\r\n'
bad400 "empty target" 'GET  HTTP/1.1\r\nHost: t\r\n\r\n'
bad400 "header without colon" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nX-No-Colon\r\n\r\n'
bad400 "space before the colon (RFC 9112 5.1)" 'GET /data/s100 HTTP/1.1\r\nHost : t\r\n\r\n'
bad400 "obs-fold" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nX-A: b\r\n c\r\n\r\n'
bad400 "empty field name" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\n: x\r\n\r\n'
bad400 "non-token field name" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nX(A): b\r\n\r\n'
bad400 "NUL in a field value" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n'
bad400 "CR inside a field value" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n'
bad400 "invalid Content-Length" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n'
bad400 "negative Content-Length" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n'
bad400 "two different Content-Lengths" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'
bad400 "Content-Length and Transfer-Encoding" 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
bad400 "two Host fields" 'GET /data/s100 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'
bad400 "HTTP/1.1 without Host" 'GET /data/s100 HTTP/1.1\r\nUser-Agent: t\r\n\r\n'
bad400 "asterisk target with GET" 'GET * HTTP/1.1\r\nHost: t\r\n\r\n'
bad400 "backslash in the path" 'GET /data\\s100 HTTP/1.1\r\nHost: t\r\n\r\n'
bad400 "%00 in the path" 'GET /data/s100%%00 HTTP/1.1\r\nHost: t\r\n\r\n'
# and what must still work
printf 'GET /data/s100 HTTP/1.0\r\n\r\n' | raw "HTTP/1.0 without Host" "$PORT" 200 eof
printf '\r\nGET /data/s100 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' | raw "leading empty line (RFC 9112 2.2)" "$PORT" 200 eof
printf 'GET /data/s100 HTTP/1.1\nHost: t\nConnection: close\n\n' | raw "bare LF line ends" "$PORT" 200 eof
printf 'GET http://t/data/s100 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' | raw "absolute-form target" "$PORT" 200 eof
check_eq "absolute-form target: body" "$(sha "$ROOT/data/s100")" "$(sha "$T/e.body")"
printf 'GET /data/s100 HTTP/1.1\r\nhOsT: t\r\nconnection: CLOSE\r\n\r\n' | raw "field names case-insensitive" "$PORT" 200 eof

# --- 414 / 431 ---------------------------------------------------------------
long=$(head -c 2000 /dev/zero | tr '\0' a)
printf 'GET /%s HTTP/1.1\r\nHost: t\r\n\r\n' "$long" | raw "414 URI of 2000 bytes, --max-head-size 1k" "$P_SMALL" 414 eof
printf 'GET /%s HTTP/1.1\r\nHost: t\r\n\r\n' "${long:0:900}" | raw "URI of 900 bytes under --max-head-size 1k: 404" "$P_SMALL" 404 open
longer=$(head -c 9000 /dev/zero | tr '\0' a)
printf 'GET /%s HTTP/1.1\r\nHost: t\r\n\r\n' "$longer" | raw "414 URI of 9000 bytes, default 8k" "$P_DEF" 414 eof
printf 'GET /%s HTTP/1.1\r\nHost: t\r\n\r\n' "${longer:0:7000}" | raw "URI of 7000 bytes under the default 8k: 404" "$P_DEF" 404 open
# --max-headers 10
hdrs() { local i out=""; for i in $(seq 1 "$1"); do out+="X-H$i: v$i\r\n"; done; printf '%s' "$out"; }
printf 'GET /data/s100 HTTP/1.1\r\nHost: t\r\n%b\r\n' "$(hdrs 9)" | raw "10 header fields, --max-headers 10" "$P_SMALL" 200 open
printf 'GET /data/s100 HTTP/1.1\r\nHost: t\r\n%b\r\n' "$(hdrs 10)" | raw "431 11 header fields, --max-headers 10" "$P_SMALL" 431 eof
printf 'GET /data/s100 HTTP/1.1\r\nHost: t\r\n%b\r\n' "$(hdrs 63)" | raw "64 header fields, default 64" "$P_DEF" 200 open
printf 'GET /data/s100 HTTP/1.1\r\nHost: t\r\n%b\r\n' "$(hdrs 100)" | raw "431 101 header fields, default 64" "$P_DEF" 431 eof
# oversized header block
printf 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n' "${long:0:1500}" | raw "431 one 1500-byte field, --max-head-size 1k" "$P_SMALL" 431 eof
printf 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nX-A: %s\r\nX-B: %s\r\nX-C: %s\r\n\r\n' "${long:0:400}" "${long:0:400}" "${long:0:400}" |
    raw "431 three 400-byte fields, --max-head-size 1k" "$P_SMALL" 431 eof
printf 'GET /data/s100 HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n' "${longer}" | raw "431 a 9000-byte field, default 8k" "$P_DEF" 431 eof
# A head that never ends is cut at the limit, not buffered forever.
python3 - "$P_SMALL" <<'PY' && pass "endless head: 431 and closed at the limit" || bad "endless head not cut at --max-head-size"
import sys, dcnhttp
c = dcnhttp.Conn(int(sys.argv[1]), timeout=5)
c.send(b"GET /data/s100 HTTP/1.1\r\nHost: t\r\n")
try:
    c.send((b"X-Endless: " + b"y" * 100 + b"\r\n") * 600)  # 68 kB, never the empty line
except (BrokenPipeError, ConnectionResetError):
    pass
try:
    r = c.read_response()
except dcnhttp.Timeout:
    r = "timeout"
print("endless head: %r" % (r,))
sys.exit(0 if r is not None and r.status == 431 and c.wait_eof(3) == "eof" else 1)
PY

# --- 505 ---------------------------------------------------------------------
printf 'GET /data/s100 HTTP/2.0\r\nHost: t\r\n\r\n' | raw "505 HTTP/2.0" "$PORT" 505 eof
printf 'GET /data/s100 HTTP/3.0\r\nHost: t\r\n\r\n' | raw "505 HTTP/3.0" "$PORT" 505 eof
printf 'GET /data/s100 HTTP/0.9\r\nHost: t\r\n\r\n' | raw "505 HTTP/0.9" "$PORT" 505 eof
read -r st _ < <(printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' | raw_request --close-wait 3 "$PORT" "$T/e")
[[ $st == 505 || $st == 400 ]] && pass "HTTP/2 prior-knowledge preface: $st" || bad "HTTP/2 prior-knowledge preface: status $st, expected 505 or 400"
# A higher minor version is served as 1.1 (RFC 9110 2.5).
printf 'GET /data/s100 HTTP/1.2\r\nHost: t\r\n\r\n' | raw "HTTP/1.2 served as HTTP/1.1" "$PORT" 200 open
check_eq "HTTP/1.2: answered in HTTP/1.1" "HTTP/1.1 200 OK" "$(head -n1 "$T/e.head")"
# Upgrade: h2c (libostree over libcurl asks for it): answered in HTTP/1.1.
out=$(hcurl --http2 -o "$T/c.body" -w '%{http_code} %{http_version}' "$URL/$OBJ_FILEZ" || true)
check_eq "Upgrade: h2c answered in HTTP/1.1" "200 1.1" "$out"
check_eq "Upgrade: h2c: body" "$(sha "$ROOT/$OBJ_FILEZ")" "$(sha "$T/c.body")"

# --- HEAD = GET without the body ---------------------------------------------
for p in "$OBJ_FILEZ" "$OBJ_BIG" "$DELTA_PART" repo/summary repo/config data/empty data/one nope data/; do
    gcode=$(fetch "$T/g" "$URL/$p")
    hcode=$(fetch "$T/h" -I "$URL/$p")
    check_eq "HEAD /$p: status as GET" "$gcode" "$hcode"
    for f in Content-Length ETag Last-Modified Content-Type Cache-Control Accept-Ranges Allow; do
        check_eq "HEAD /$p: $f as GET" "$(hdr "$T/g.head" $f)" "$(hdr "$T/h.head" $f)"
    done
done
# and really without a body (the pipelined GET after it must come back intact)
read -r s1 s2 s3 _ < <(printf 'HEAD /%s HTTP/1.1\r\nHost: t\r\n\r\nHEAD /nope HTTP/1.1\r\nHost: t\r\n\r\nGET /data/s100 HTTP/1.1\r\nHost: t\r\n\r\n' "$OBJ_BIG" |
    raw_request --head-at 1 --head-at 2 --count 3 "$PORT" "$T/e")
check_eq "HEAD, HEAD 404, GET on one connection" "200 404 200" "$s1 $s2 $s3"
if [[ -f $T/e.3.body ]]; then check_eq "GET after two HEADs: body intact" "$(sha "$ROOT/data/s100")" "$(sha "$T/e.3.body")"; fi

if kill -0 "$PID_DEF" && kill -0 "$PID_SMALL"; then pass "both servers alive"; else bad "a server died"; fi
finish
