#!/bin/bash
# Conditional requests (RFC 9110 section 13; docs/hoster.md "Conditionals")
# as libostree sends them (If-None-Match with the ETag as received,
# If-Modified-Since with "UTC"), the validators and cache headers on every
# kind of path, freshness of mutable files after a publish, and that no
# Content-Encoding is ever added.
source "$(dirname "$0")/lib.sh"
make_content_root
hoster_start cond --root "$ROOT" --threads 2

httpdate() { date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S GMT'; }
LM=$(httpdate "$MTIME")

# expect_status WHAT PATH STATUS [curl args]: checks the status, and for a
# 304: no body, the ETag, Date and Cache-Control of the 200, and no
# Content-Length other than the 200's; for a 200: the whole file.
expect_status() {
    local what=$1 path=$2 want=$3 code; shift 3
    code=$(fetch "$T/c" "$URL/$path" "$@")
    check_eq "$what: status" "$want" "$code"
    if [[ $want == 304 ]]; then
        check_eq "$what: 304 has no body" 0 "$(fsize "$T/c.body")"
        check_eq "$what: 304 carries the ETag" "$ETAG" "$(hdr "$T/c.head" ETag)"
        check_eq "$what: 304 carries Cache-Control" "$CC" "$(hdr "$T/c.head" Cache-Control)"
        [[ -n $(hdr "$T/c.head" Date) ]] && pass "$what: 304 has Date" || bad "$what: 304 without Date"
        local cl; cl=$(hdr "$T/c.head" Content-Length)
        if [[ -n $cl && $cl != "$(fsize "$ROOT/$path")" ]]; then
            bad "$what: 304 with Content-Length $cl, not the 200's (RFC 9110 8.6)"
        fi
    elif [[ $want == 200 ]]; then
        check_eq "$what: whole body" "$(sha "$ROOT/$path")" "$(sha "$T/c.body")"
        check_eq "$what: Content-Length = body length" "$(fsize "$T/c.body")" "$(hdr "$T/c.head" Content-Length)"
    fi
}

cond_suite() { # LABEL PATH CACHE-CONTROL
    local what=$1 path=$2 code
    CC=$3
    code=$(fetch "$T/c" "$URL/$path")
    check_eq "$what: plain GET" 200 "$code"
    ETAG=$(hdr "$T/c.head" ETag)
    check_eq "$what: Last-Modified is the file's mtime" "$LM" "$(hdr "$T/c.head" Last-Modified)"

    expect_status "$what INM exact" "$path" 304 -H "If-None-Match: $ETAG"
    expect_status "$what INM list" "$path" 304 -H "If-None-Match: \"x1\", $ETAG, \"x2\""
    expect_status "$what INM list without spaces" "$path" 304 -H "If-None-Match: \"x1\",$ETAG"
    expect_status "$what INM *" "$path" 304 -H "If-None-Match: *"
    expect_status "$what INM W/ form (weak comparison)" "$path" 304 -H "If-None-Match: W/$ETAG"
    expect_status "$what INM other tag" "$path" 200 -H 'If-None-Match: "not-it"'
    expect_status "$what INM other tags (list)" "$path" 200 -H 'If-None-Match: "a", W/"b"'
    expect_status "$what INM prefix of the tag" "$path" 200 -H "If-None-Match: ${ETAG%?}x\""

    expect_status "$what IMS = Last-Modified (GMT)" "$path" 304 -H "If-Modified-Since: $LM"
    expect_status "$what IMS = Last-Modified (UTC, libostree)" "$path" 304 -H "If-Modified-Since: ${LM% GMT} UTC"
    expect_status "$what IMS later than Last-Modified" "$path" 304 -H "If-Modified-Since: $(httpdate $((MTIME + 86400)))"
    expect_status "$what IMS RFC 850 form" "$path" 304 -H "If-Modified-Since: $(date -u -d "@$MTIME" '+%A, %d-%b-%y %H:%M:%S GMT')"
    expect_status "$what IMS asctime form" "$path" 304 -H "If-Modified-Since: $(date -u -d "@$MTIME" '+%a %b %e %H:%M:%S %Y')"
    expect_status "$what IMS one second older" "$path" 200 -H "If-Modified-Since: $(httpdate $((MTIME - 1)))"
    expect_status "$what IMS older (UTC)" "$path" 200 -H "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 UTC"
    expect_status "$what IMS garbage" "$path" 200 -H "If-Modified-Since: yesterday"
    expect_status "$what IMS day 32" "$path" 200 -H "If-Modified-Since: Tue, 32 Jan 2024 03:04:05 GMT"
    expect_status "$what IMS hour 24" "$path" 200 -H "If-Modified-Since: Tue, 02 Jan 2024 24:04:05 GMT"
    expect_status "$what IMS other zone" "$path" 200 -H "If-Modified-Since: Tue, 02 Jan 2024 03:04:05 PST"

    expect_status "$what INM other + IMS equal: INM wins" "$path" 200 \
        -H 'If-None-Match: "not-it"' -H "If-Modified-Since: $LM"
    expect_status "$what INM equal + IMS older: INM wins" "$path" 304 \
        -H "If-None-Match: $ETAG" -H "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"
    expect_status "$what INM equal + Range: 304 first" "$path" 304 -H "If-None-Match: $ETAG" -H 'Range: bytes=0-9'

    code=$(fetch "$T/c" -I "$URL/$path" -H "If-None-Match: $ETAG")
    check_eq "$what HEAD + INM" 304 "$code"

    # A 304 really has no body: the next response on the connection is intact.
    local s1 s2
    read -r s1 s2 _ < <(printf 'GET /%s HTTP/1.1\r\nHost: t\r\nIf-None-Match: %s\r\n\r\nGET /data/s100 HTTP/1.1\r\nHost: t\r\n\r\n' "$path" "$ETAG" |
        raw_request --count 2 "$PORT" "$T/raw")
    check_eq "$what raw 304 then GET: statuses" "304 200" "$s1 $s2"
    if [[ -f $T/raw.2.body ]]; then
        check_eq "$what raw 304 then GET: second body intact" "$(sha "$ROOT/data/s100")" "$(sha "$T/raw.2.body")"
    fi
}

IMM="public, max-age=31536000, immutable"
cond_suite "summary" repo/summary no-cache
cond_suite "cached object" "$OBJ_FILEZ" "$IMM"
cond_suite "large delta part" "$DELTA_PART" "$IMM"
cond_suite "100 kB data file" data/s100000 no-cache

check_eq "INM * on a missing file" 404 "$(fetch "$T/c" "$URL/repo/objects/00/nope.filez" -H 'If-None-Match: *')"

# --- Headers on every kind of path -----------------------------------------
now=$(date -u +%s)
for p in "$OBJ_FILEZ" "$OBJ_DIRTREE" "$OBJ_COMMIT" "$OBJ_BIG" "$DELTA_SB" "$DELTA_INDEX" \
    repo/summary repo/summary.sig repo/config repo/refs/heads/x data/s100 data/empty; do
    case $p in
    repo/objects/* | repo/deltas/* | repo/delta-indexes/*) want=$IMM ;;
    *) want=no-cache ;;
    esac
    code=$(fetch "$T/c" "$URL/$p")
    check_eq "/$p: status" 200 "$code"
    check_eq "/$p: Cache-Control" "$want" "$(hdr "$T/c.head" Cache-Control)"
    check_eq "/$p: Last-Modified" "$LM" "$(hdr "$T/c.head" Last-Modified)"
    check_eq "/$p: Accept-Ranges" bytes "$(hdr "$T/c.head" Accept-Ranges)"
    check_eq "/$p: Content-Length" "$(fsize "$ROOT/$p")" "$(hdr "$T/c.head" Content-Length)"
    check_eq "/$p: body" "$(sha "$ROOT/$p")" "$(sha "$T/c.body")"
    check_eq "/$p: one Date, one ETag, one Content-Type, one Content-Length" "1 1 1 1" \
        "$(hdr_count "$T/c.head" Date) $(hdr_count "$T/c.head" ETag) $(hdr_count "$T/c.head" Content-Type) $(hdr_count "$T/c.head" Content-Length)"
    et=$(hdr "$T/c.head" ETag)
    if [[ $et =~ ^\"[!#-~]+\"$ ]]; then pass "/$p: strong ETag $et"; else bad "/$p: ETag [$et] is not a strong entity-tag"; fi
    d=$(hdr "$T/c.head" Date)
    if [[ $d =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\ [0-9]{2}\ (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ GMT$ ]] &&
        dt=$(date -u -d "$d" +%s) && ((dt >= now - 60 && dt <= now + 60)); then
        pass "/$p: Date is an IMF-fixdate of now"
    else
        bad "/$p: Date [$d] is not an IMF-fixdate close to now ($(httpdate "$now"))"
    fi
    [[ -n $(hdr "$T/c.head" Content-Type) ]] && pass "/$p: Content-Type" || bad "/$p: no Content-Type"
    # libostree reads "ETag: " and "Last-Modified: " with exactly one space.
    if grep -q $'^ETag: "[^\r]*"\r$' "$T/c.head" && grep -q $'^Last-Modified: [A-Z][^ \r]' "$T/c.head"; then
        pass "/$p: 'ETag: ' and 'Last-Modified: ' spelled as libostree parses them"
    else
        bad "/$p: ETag/Last-Modified lines not in the form libostree parses: $(grep -i -e ^etag -e ^last-modified "$T/c.head" | tr -d '\r' | tr '\n' '|')"
    fi
done

# --- Never a Content-Encoding ----------------------------------------------
for p in "$OBJ_FILEZ" "$OBJ_BIG" repo/summary repo/config data/s100000 "$DELTA_SB"; do
    for ae in gzip "gzip, deflate, br" "*" "identity;q=0, gzip"; do
        code=$(fetch "$T/c" "$URL/$p" -H "Accept-Encoding: $ae")
        check_eq "/$p with Accept-Encoding [$ae]: status and Content-Encoding" "200 " "$code $(hdr "$T/c.head" Content-Encoding)"
        check_eq "/$p with Accept-Encoding [$ae]: identical bytes" "$(sha "$ROOT/$p")" "$(sha "$T/c.body")"
    done
done
code=$(fetch "$T/c" -I "$URL/$DELTA_PART" -H "Accept-Encoding: gzip")
check_eq "HEAD large file with Accept-Encoding: gzip: no Content-Encoding" "200 " "$code $(hdr "$T/c.head" Content-Encoding)"

# --- Mutable files are never stale after a publish -------------------------
# A publish writes the summary, then its signature: each step below makes
# summary.sig as new as the summary (dcn-hoster serves the two as a pair,
# and holds back a summary newer than its signature: test_summary_pairs.sh).
p=repo/summary
code=$(fetch "$T/c" "$URL/$p"); old_etag=$(hdr "$T/c.head" ETag)
for _ in 1 2 3; do fetch "$T/c" "$URL/$p" >/dev/null; done # served often: cached if it can be
# 1. rewritten in place, another size and mtime.
head -c 4000 /dev/urandom >"$ROOT/$p"; touch -d "@$((MTIME + 100))" "$ROOT/$p" "$ROOT/repo/summary.sig"
code=$(fetch "$T/c" "$URL/$p")
check_eq "summary rewritten in place: new body" "$(sha "$ROOT/$p")" "$(sha "$T/c.body")"
new_etag=$(hdr "$T/c.head" ETag)
[[ $new_etag != "$old_etag" ]] && pass "summary rewritten: new ETag" || bad "summary rewritten: ETag unchanged ($new_etag)"
check_eq "summary rewritten: new Last-Modified" "$(httpdate $((MTIME + 100)))" "$(hdr "$T/c.head" Last-Modified)"
check_eq "summary rewritten: old ETag no longer matches" 200 "$(fetch "$T/c" "$URL/$p" -H "If-None-Match: $old_etag")"
check_eq "summary rewritten: old ETag no longer matches: body" "$(sha "$ROOT/$p")" "$(sha "$T/c.body")"
check_eq "summary rewritten: old date is older" 200 "$(fetch "$T/c" "$URL/$p" -H "If-Modified-Since: $LM")"
# 2. replaced by rename (how a publish writes it), same size, later mtime.
old_etag=$new_etag
head -c 4000 /dev/urandom >"$ROOT/$p.tmp"; touch -d "@$((MTIME + 200))" "$ROOT/$p.tmp"; mv "$ROOT/$p.tmp" "$ROOT/$p"
touch -d "@$((MTIME + 200))" "$ROOT/repo/summary.sig"
code=$(fetch "$T/c" "$URL/$p")
check_eq "summary renamed over: new body" "$(sha "$ROOT/$p")" "$(sha "$T/c.body")"
new_etag=$(hdr "$T/c.head" ETag)
[[ $new_etag != "$old_etag" ]] && pass "summary renamed over: new ETag" || bad "summary renamed over: ETag unchanged ($new_etag)"
# 3. same size, same second, other nanoseconds: the ETag (size + mtime in ns) changes.
old_etag=$new_etag
head -c 4000 /dev/urandom >"$ROOT/$p"; touch -d "@$((MTIME + 200)).5" "$ROOT/$p" "$ROOT/repo/summary.sig"
code=$(fetch "$T/c" "$URL/$p")
check_eq "summary changed within the same second: new body" "$(sha "$ROOT/$p")" "$(sha "$T/c.body")"
new_etag=$(hdr "$T/c.head" ETag)
[[ $new_etag != "$old_etag" ]] && pass "summary changed within the same second: new ETag" || bad "summary changed within the same second: ETag unchanged ($new_etag)"
check_eq "summary changed within the same second: old ETag gets 200" 200 "$(fetch "$T/c" "$URL/$p" -H "If-None-Match: $old_etag")"
# 4. a ref moves.
printf '%064d\n' 7 >"$ROOT/repo/refs/heads/x"
code=$(fetch "$T/c" "$URL/repo/refs/heads/x")
check_eq "ref moved: new body" "$(printf '%064d' 7)" "$(tr -d '\n' <"$T/c.body")"
# 5. a file appears after a 404.
check_eq "a file removed: 404" 404 "$(rm "$ROOT/data/one" && fetch "$T/c" "$URL/data/one")"
printf y >"$ROOT/data/one"
check_eq "a file published again: 200" 200 "$(fetch "$T/c" "$URL/data/one")"
check_eq "a file published again: body" y "$(cat "$T/c.body")"
# 6. summary.sig re-signed (the same summary, a newer signature)
head -c 600 /dev/urandom >"$ROOT/repo/summary.sig"
check_eq "summary.sig published again: 200" 200 "$(fetch "$T/c" "$URL/repo/summary.sig")"
check_eq "summary.sig published again: body" "$(sha "$ROOT/repo/summary.sig")" "$(sha "$T/c.body")"

finish
