#!/bin/bash
# Hostile request-targets (docs/hoster.md "Paths are percent-decoded once...
# confined to the root"): traversal in every spelling, encoded separators,
# backslashes, NUL and control bytes, absolute form, symlinks that leave the
# root, overlong UTF-8, dot-files, the reserved /-/ directory, query and
# fragment tricks, CR/LF injection. Each target is sent raw (python3 socket,
# byte-exact) on its own connection: it must get 400, 403 or 404 (the exact
# one where the contract names it), and no response may carry the secret
# marker stored outside the root, /etc/passwd, a dot-file or an injected
# header. Then a few through curl --path-as-is, the access-log lines are
# checked for escaping, and the server must still be alive.
source "$(dirname "$0")/lib.sh"
make_content_root
hoster_start hostile --root "$ROOT" --threads 2

py_checks "$PORT" "$SECRET_MARKER" "$ROOT/data/s100" <<'PY'
import sys, dcnhttp
port, marker, s100 = int(sys.argv[1]), sys.argv[2].encode(), open(sys.argv[3], "rb").read()
F, N, B = {403}, {404}, {400}
OK200 = "200:s100"  # 200 is right only with the body of data/s100 (a query or fragment dropped)
cases = [
    # plain traversal
    (b"/../secret.txt", F),
    (b"/../../../../../../../../etc/passwd", F),
    (b"/repo/../../secret.txt", F),
    (b"/data/../../secret.txt", F),
    (b"/./././../secret.txt", F),
    (b"/./././../", F),
    (b"/" + b"../" * 200 + b"etc/passwd", F),
    (b"/" + b"../" * 2000 + b"secret.txt", F),
    (b"/-/../../secret.txt", F),
    (b"/data/s100/..", F),  # resolves to the directory data/
    # percent-encoded dots and slashes (decoded once, then resolved)
    (b"/%2e%2e/secret.txt", F),
    (b"/%2e%2e%2fsecret.txt", F),
    (b"/%2E%2E%2Fsecret.txt", F),
    (b"/.%2e/secret.txt", F),
    (b"/%2e./secret.txt", F),
    (b"/%2e%2e/%2e%2e/%2e%2e/etc/passwd", F),
    (b"/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", F),
    (b"/%2e%2e%2f", F),
    (b"/" + b"%2e%2e/" * 900 + b"secret.txt", F),
    (b"/repo/..%2f..%2fsecret.txt", F),
    (b"/repo%2f..%2f..%2fsecret.txt", F),
    (b"/data/s100%2f..%2f..%2f..%2fsecret.txt", F),
    (b"/%2f..%2fsecret.txt", {403, 404}),
    (b"/repo//../../secret.txt", {403, 404}),
    (b"/%3f/../../secret.txt", F),  # an encoded '?' is a path byte
    (b"/%23/../../secret.txt", F),  # an encoded '#' too
    # double encoding: decoded once only, so these are odd names, not dots
    (b"/%252e%252e/secret.txt", N),
    (b"/%252e%252e%252fsecret.txt", N),
    (b"/..%252f..%252fsecret.txt", N),
    # backslashes
    (b"/..\\secret.txt", B),
    (b"/..%5csecret.txt", B),
    (b"/..%5Csecret.txt", B),
    (b"/repo\\..\\..\\secret.txt", B),
    (b"/%5c..%5c..%5csecret.txt", B),
    (b"/%2e%2e%5c%2e%2e%5csecret.txt", B),
    # NUL and control bytes
    (b"/data/s100%00", B),
    (b"/data/s100%00.txt", B),
    (b"/data/..%00/secret.txt", B),
    (b"/.%00./secret.txt", B),
    (b"/data/s100\x00", B),
    (b"/data/%09s100", B),
    (b"/data/s100%7f", B),
    (b"/\x7f", B),
    (b"/data/s100%0d%0aX-Injected:%20yes", B),
    (b"/data/s100%0aX-Injected:%20yes", B),
    (b"/data/s100\r\nX-Injected: yes", B),
    (b"/ /../secret.txt", B),
    # malformed escapes and targets
    (b"/%", B),
    (b"/%2", B),
    (b"/%zz", B),
    (b"/%u002e%u002e/secret.txt", B),
    (b"*", B),
    (b"secret.txt", B),
    (b"../secret.txt", B),
    # absolute form
    (b"http://127.0.0.1/../../secret.txt", {400, 403}),
    (b"http://evil.example/../secret.txt", {400, 403}),
    (b"http://t/%2e%2e/secret.txt", {400, 403}),
    (b"http://t/link-out", {403, 404}),
    # symlinks
    (b"/link-out", {403, 404}),
    (b"/link-out-rel", {403, 404}),
    (b"/link-dir-out/secret.txt", {403, 404}),
    (b"/link-dir-abs/secret.txt", {403, 404}),
    (b"/link-dir-out/../root/data/s100", N),  # lexically: /root/data/s100
    (b"/link-in/../../secret.txt", F),
    (b"/link-loop", {403, 404}),
    # overlong / odd UTF-8 for '.' and '/'
    (b"/%c0%ae%c0%ae/secret.txt", {400, 404}),
    (b"/%c0%ae%c0%ae%c0%afsecret.txt", {400, 404}),
    (b"/%e0%80%ae%e0%80%ae/secret.txt", {400, 404}),
    (b"/\xc0\xae\xc0\xae/secret.txt", {400, 404}),
    (b"/%ef%bc%8e%ef%bc%8e/secret.txt", N),
    # dot-files, dot-segments that are names, the reserved /-/ directory
    (b"/repo/.lock", N),
    (b"/.git/config", N),
    (b"/repo/objects/../.lock", N),
    (b"/repo/%2elock", N),
    (b"/%2egit/config", N),
    (b"/...", N),
    (b"/..;/secret.txt", N),
    (b"/-/secret", N),
    (b"/-/../-/secret", N),
    (b"/%2d/secret", N),
    # names that simply are not there
    (b"/secret.txt", N),
    (b"/outside/secret.txt", N),
    (b"//etc/passwd", N),
    (b"/data/s100;/../../secret.txt", N),
    # query and fragment: dropped, never part of the path
    (b"/../secret.txt?x=1", F),
    (b"/data/s100?../../secret.txt", OK200),
    (b"/data/s100?/../../../etc/passwd", OK200),
    (b"/data/s100?%00", OK200),
    (b"/data/s100#/../../secret.txt", {400, OK200}),
]
leaks = [marker, b"root:x:0:0:", b"LOCKFILE", b"DOTGIT"]
statuses = {}
for target, want in cases:
    req = b"GET " + target + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    show = repr(target if len(target) < 80 else target[:60] + b"...(%d bytes)" % len(target))
    c = dcnhttp.Conn(port, timeout=10)
    raw, r = b"", None
    try:
        c.send(req)
        r = c.read_response()
        status = r.status if r else "none"
        raw = (r.raw_head + b"\r\n\r\n" + r.body) if r else b""
        c.sock.settimeout(0.5)
        try:  # anything after the response (there should be nothing)
            while True:
                more = c.sock.recv(65536)
                if not more:
                    break
                raw += more
        except OSError:
            pass
    except (dcnhttp.Timeout, dcnhttp.ProtocolError) as e:
        status = "error: %s" % e
    finally:
        c.close()
    statuses[status] = statuses.get(status, 0) + 1
    allowed = {s for s in want if isinstance(s, int)}
    ok = status in allowed or (OK200 in want and status == 200 and r is not None and r.body == s100)
    if ok and status not in (200, 400, 403, 404):
        ok = False
    print("%s\t%s -> %s (want %s)" % ("PASS" if ok else "FAIL", show, status,
                                       "/".join(str(s) for s in sorted(want, key=str))))
    for leak in leaks:
        if leak in raw:
            print("FAIL\t%s: response carries %r" % (show, leak))
    if b"x-injected" in (r.raw_head.lower() if r else b""):
        print("FAIL\t%s: injected header in the response head" % show)
print("PASS\t%d hostile targets sent, statuses %s" % (len(cases), statuses))
PY

# The same kind of targets through curl (--path-as-is keeps the dots).
for p in "/../secret.txt" "/repo/../../secret.txt" "/%2e%2e/secret.txt" "/%2e%2e%2f%2e%2e%2fsecret.txt" \
    "/link-out" "/link-dir-out/secret.txt" "/-/secret" "/repo/.lock"; do
    code=$(fetch "$T/c" --path-as-is "$URL$p")
    case $code in 403 | 404) pass "curl --path-as-is $p: $code" ;; *) bad "curl --path-as-is $p: status $code" ;; esac
    if grep -q -a -e "$SECRET_MARKER" -e LOCKFILE "$T/c.body" "$T/c.head"; then bad "curl $p: secret in the response"; fi
done
code=$(fetch "$T/c" --request-target '/../../secret.txt' "$URL/")
check_eq "curl --request-target /../../secret.txt" 403 "$code"

# Inside the root, symlinks and odd names still work.
check_eq "symlink inside: status" 200 "$(fetch "$T/c" "$URL/link-in")"
check_eq "symlink inside: body" "$(sha "$ROOT/data/s100")" "$(sha "$T/c.body")"
check_eq "dir symlink inside: status" 200 "$(fetch "$T/c" "$URL/link-in-dir/s100")"
check_eq "encoded plain letters" 200 "$(fetch "$T/c" "$URL/%64ata/s%31%30%30")"
check_eq "encoded plain letters: body" "$(sha "$ROOT/data/s100")" "$(sha "$T/c.body")"
check_eq "dot segments inside the root" 200 "$(fetch "$T/c" --path-as-is "$URL/repo/./objects/../../data/./s100")"
check_eq "dot segments inside the root: body" "$(sha "$ROOT/data/s100")" "$(sha "$T/c.body")"

# Access log: one well-formed line per request, hostile bytes escaped.
hoster_flush_log
nlines=$(wc -l <"$HOSTER_LOG")
if [[ $nlines -ge 80 ]]; then pass "access log has $nlines lines"; else bad "access log has only $nlines lines"; fi
check_eq "access log: one start line naming the build" 1 "$(grep -c -E '^ts=[0-9T:.Z-]+ event=start program=dcn-hoster version=[0-9.]+ commit=[0-9a-z-]+ ' "$HOSTER_LOG" || true)"
badlines=$(LC_ALL=C grep -v ' event=start ' "$HOSTER_LOG" | grep -n -a -v -E '^ts=[0-9T:.Z-]+ peer=[^ ]+ method=[^ ]* path="([^"\\]|\\x[0-9a-fA-F]{2})*" status=[0-9]{3} bytes=[0-9]+ dur_us=[0-9]+( reason=[a-z-]+)? ua="([^"\\]|\\x[0-9a-fA-F]{2})*"$' | head -5 || true)
check_eq "access log lines all well-formed" "" "$badlines"
if LC_ALL=C grep -q -a '[^ -~]' "$HOSTER_LOG"; then bad "access log has raw non-printable bytes"; else pass "access log printable"; fi
if grep -q -F 'path="/data/s100%0d%0aX-Injected:%20yes"' "$HOSTER_LOG"; then pass "log keeps the target as sent"; else bad "no log line with the target as sent (/data/s100%0d%0aX-Injected:%20yes)"; fi
if grep -q -F 'path="/../secret.txt?x=1" status=403' "$HOSTER_LOG"; then pass "log line for /../secret.txt?x=1 with the query"; else bad "no log line 'path=\"/../secret.txt?x=1\" status=403'"; fi
if grep -q -F 'path="/..\x5csecret.txt"' "$HOSTER_LOG"; then pass "backslash escaped in the log"; else bad "no log line with the backslash escaped as \\x5c"; fi

check_eq "still alive: /-/live" 200 "$(fetch "$T/c" "$URL/-/live")"
check_eq "still serving" 200 "$(fetch "$T/c" "$URL/$OBJ_FILEZ")"
if kill -0 "$HOSTER_PID"; then pass "process alive"; else bad "process died"; fi
finish
