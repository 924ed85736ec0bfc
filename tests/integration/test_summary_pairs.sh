#!/bin/bash
# summary and summary.sig are served as one pair (hoster/summary_pair.h):
#   - a connection that got summary.sig gets the summary of that pair next,
#     even when both were replaced in between (libostree asks for the two
#     on one connection); another request in between ends the pairing;
#   - a summary newer than its signature (a publish in progress:
#     `ostree summary -u` writes the summary and unlinks summary.sig before
#     signing; dcn-builder renames summary, then summary.sig) is held back:
#     the last complete pair is served until the signature follows...
#   - ...or until the state has lasted SUMMARY_SETTLE_S (10 s): then it is
#     what the repository is, and served as it is;
#   - an unsigned repository's summary is served at once;
#   - a content swap serves the new root's pair.
source "$(dirname "$0")/lib.sh"

ROOT=$T/root
mkdir -p "$ROOT/repo"
printf '[core]\nrepo_version=1\nmode=archive-z2\n' >"$ROOT/repo/config"
# put NAME BODY [TOUCH-ARGS]: replace repo/NAME by rename (as publishers do)
put() {
    printf '%s' "$2" >"$ROOT/repo/.$1.tmp"
    [[ -n ${3:-} ]] && touch -d "$3" "$ROOT/repo/.$1.tmp"
    mv "$ROOT/repo/.$1.tmp" "$ROOT/repo/$1"
}
put summary M0 @1704164645; put summary.sig S0 @1704164645
hoster_start pairs --root "$ROOT"

# get_pair [PATH...]: one connection, GET each path in turn; prints the bodies
# (or the status when not 200), space-separated. "run:COMMAND" between two
# requests runs COMMAND there (the test changes the repo meanwhile).
get_pair() {
    python3 - "$PORT" "$@" <<'PY'
import subprocess, sys, dcnhttp
c = dcnhttp.Conn(int(sys.argv[1]))
out = []
for p in sys.argv[2:]:
    if p.startswith("run:"):
        subprocess.run(["bash", "-c", p[4:]], check=True)
        continue
    c.send(b"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % p.encode())
    r = c.read_response()
    out.append(r.body.decode() if r.status == 200 else str(r.status))
print(" ".join(out))
PY
}

check_eq "a complete pair" "S0 M0" "$(get_pair repo/summary.sig repo/summary)"

# both replaced between the two requests of one connection
export -f put; export ROOT
check_eq "one connection: summary.sig, then (M1, S1 published), summary: the pair of the signature" "S0 M0" \
    "$(get_pair repo/summary.sig "run:put summary M1; put summary.sig S1" repo/summary)"
check_eq "the next connection: the new pair" "S1 M1" "$(get_pair repo/summary.sig repo/summary)"
check_eq "summary alone, first on a connection: the current one" "M1" "$(get_pair repo/summary)"
check_eq "another request between: the pairing ends" "S1 404 M2" \
    "$(get_pair repo/summary.sig "run:put summary M2; put summary.sig S2" repo/refs/heads/none repo/summary)"

# a publish in progress: the summary first, its signature later
put summary M3
check_eq "summary newer than its signature: the last complete pair" "S2 M2" "$(get_pair repo/summary.sig repo/summary)"
check_eq "...also for summary alone" "M2" "$(get_pair repo/summary)"
put summary.sig S3
check_eq "the signature follows: the new pair" "S3 M3" "$(get_pair repo/summary.sig repo/summary)"

# libostree's `ostree summary -u`: the summary written, summary.sig unlinked, then signed
put summary M4; rm "$ROOT/repo/summary.sig"
check_eq "summary.sig gone from a signed repo: the last complete pair" "S3 M3" "$(get_pair repo/summary.sig repo/summary)"
put summary.sig S4
check_eq "signed again: the new pair" "S4 M4" "$(get_pair repo/summary.sig repo/summary)"

# an incomplete state that lasts is what the repository is
put summary M5
check_eq "incomplete: held back" "S4 M4" "$(get_pair repo/summary.sig repo/summary)"
sleep 11
check_eq "incomplete for longer than 10 s: served as it is" "S4 M5" "$(get_pair repo/summary.sig repo/summary)"

# an unsigned repository: every summary at once
rm "$ROOT/repo/summary.sig"
check_eq "signature removed: held back first" "S4 M5" "$(get_pair repo/summary.sig repo/summary)"
sleep 11
check_eq "signature removed for good (after 10 s): 404 and the summary" "404 M5" "$(get_pair repo/summary.sig repo/summary)"
put summary M6
check_eq "unsigned repo: a new summary at once" "404 M6" "$(get_pair repo/summary.sig repo/summary)"

# validators come from the pair served
code=$(fetch "$T/h" "$URL/repo/summary"); etag=$(hdr "$T/h.head" ETag)
check_eq "304 against the pair's ETag" 304 "$(fetch "$T/h" "$URL/repo/summary" -H "If-None-Match: $etag")"
# summary newer than the signature: M6 stays (explicit mtimes: two writes
# within one clock tick get equal mtimes, which the rule reads as a pair)
put summary.sig S7 @1704164700; put summary M7 @1704164701
check_eq "held back: the old ETag still matches" 304 "$(fetch "$T/h" "$URL/repo/summary" -H "If-None-Match: $etag")"
check_eq "HEAD of a held pair" "200 2" "$(fetch "$T/h" -I "$URL/repo/summary") $(hdr "$T/h.head" Content-Length)"
check_eq "Range on a held pair" "206 6" "$(fetch "$T/h" "$URL/repo/summary" -H 'Range: bytes=1-1') $(cat "$T/h.body")"

# a content swap: the new root's pair
mkdir -p "$T/root2/repo"; cp "$ROOT/repo/config" "$T/root2/repo/"
printf M8 >"$T/root2/repo/summary"; printf S8 >"$T/root2/repo/summary.sig"
mv "$ROOT" "$T/root1"; mv "$T/root2" "$ROOT"; kill -HUP "$HOSTER_PID"
for _ in $(seq 50); do [[ $(get_pair repo/summary) == M8 ]] && break; sleep 0.1; done
check_eq "after a content swap: the new root's pair" "S8 M8" "$(get_pair repo/summary.sig repo/summary)"

finish
