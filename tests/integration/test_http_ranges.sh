#!/bin/bash
# Byte ranges (RFC 9110 section 14; docs/hoster.md "Ranges"): single,
# open-ended, suffix, 416, multipart/byteranges, If-Range, HEAD, and the
# zero- and one-byte edge cases, on the in-memory cache path (files smaller
# than --sendfile-min, an immutable object and a mutable file) and on the
# sendfile path (a 20 MiB delta part). Every body is compared byte for byte
# with a dd slice of the file, and every Content-Length with the body length.
source "$(dirname "$0")/lib.sh"
make_content_root
hoster_start ranges --root "$ROOT" --threads 2

# The multipart/byteranges checker: check_multipart.py next to this test.
MULTIPART_CHECK=$(dirname "$0")/check_multipart.py

# slice FILE FIRST LAST: bytes FIRST..LAST (inclusive) of FILE into $T/slice.
slice() {
    dd if="$1" of="$T/slice" bs=1M iflag=skip_bytes,count_bytes skip="$2" count=$(($3 - $2 + 1)) status=none
}
# body_matches_length WHAT OUT: Content-Length equals the body received.
body_matches_length() {
    check_eq "$1: Content-Length = body length" "$(fsize "$2.body")" "$(hdr "$2.head" Content-Length)"
}
# expect_full WHAT PATH [curl args]: 200 with the whole file.
expect_full() {
    local what=$1 path=$2; shift 2
    local code; code=$(fetch "$T/r" "$URL/$path" "$@")
    check_eq "$what: status" 200 "$code"
    check_eq "$what: no Content-Range" "" "$(hdr "$T/r.head" Content-Range)"
    body_matches_length "$what" "$T/r"
    check_eq "$what: sha256 of the whole file" "$(sha "$ROOT/$path")" "$(sha "$T/r.body")"
}
# expect_206 WHAT PATH RANGE-HEADER FIRST LAST [curl args]: a single part.
expect_206() {
    local what=$1 path=$2 range=$3 first=$4 last=$5; shift 5
    local size code; size=$(fsize "$ROOT/$path")
    code=$(fetch "$T/r" "$URL/$path" -H "Range: $range" "$@")
    check_eq "$what [$range]: status" 206 "$code"
    check_eq "$what [$range]: Content-Range" "bytes $first-$last/$size" "$(hdr "$T/r.head" Content-Range)"
    check_eq "$what [$range]: Content-Length" "$((last - first + 1))" "$(hdr "$T/r.head" Content-Length)"
    body_matches_length "$what [$range]" "$T/r"
    slice "$ROOT/$path" "$first" "$last"
    check_eq "$what [$range]: sha256 = dd slice" "$(sha "$T/slice")" "$(sha "$T/r.body")"
    check_eq "$what [$range]: ETag as in the 200" "$ETAG" "$(hdr "$T/r.head" ETag)"
}
# expect_416 WHAT PATH RANGE-HEADER
expect_416() {
    local what=$1 path=$2 range=$3 size code
    size=$(fsize "$ROOT/$path")
    code=$(fetch "$T/r" "$URL/$path" -H "Range: $range")
    check_eq "$what [$range]: status" 416 "$code"
    check_eq "$what [$range]: Content-Range" "bytes */$size" "$(hdr "$T/r.head" Content-Range)"
    body_matches_length "$what [$range]" "$T/r"
}
# expect_multi WHAT PATH RANGE-HEADER MODE RANGES
expect_multi() {
    local what=$1 path=$2 range=$3 mode=$4 want=$5 size code out
    size=$(fsize "$ROOT/$path")
    code=$(fetch "$T/r" "$URL/$path" -H "Range: $range")
    check_eq "$what [$range]: status" 206 "$code"
    check_eq "$what [$range]: no top-level Content-Range" "" "$(hdr "$T/r.head" Content-Range)"
    body_matches_length "$what [$range]" "$T/r"
    if out=$(python3 "$MULTIPART_CHECK" "$(hdr "$T/r.head" Content-Type)" "$T/r.body" "$ROOT/$path" "$size" "$mode" "$want"); then
        pass "$what [$range]: multipart/byteranges parts ($want)"
    else
        bad "$what [$range]: multipart/byteranges: $out"
    fi
}

range_suite() { # LABEL PATH
    local what=$1 path=$2 size lm code
    size=$(fsize "$ROOT/$path")
    # Twice: the first request may fill the cache, the second is served from it.
    code=$(fetch "$T/r" "$URL/$path"); check_eq "$what: warm-up status" 200 "$code"
    expect_full "$what plain GET" "$path"
    check_eq "$what: Accept-Ranges" bytes "$(hdr "$T/r.head" Accept-Ranges)"
    ETAG=$(hdr "$T/r.head" ETag)
    lm=$(hdr "$T/r.head" Last-Modified)
    if [[ $ETAG == \"*\" ]]; then pass "$what: strong ETag $ETAG"; else bad "$what: ETag [$ETAG] is not a strong entity tag"; fi

    expect_206 "$what single" "$path" "bytes=0-99" 0 99
    expect_206 "$what one byte" "$path" "bytes=10-10" 10 10
    expect_206 "$what middle" "$path" "bytes=1000-2999" 1000 2999
    expect_206 "$what last byte" "$path" "bytes=$((size - 1))-$((size - 1))" $((size - 1)) $((size - 1))
    expect_206 "$what open-ended" "$path" "bytes=$((size - 1000))-" $((size - 1000)) $((size - 1))
    expect_206 "$what open-ended from 0" "$path" "bytes=0-" 0 $((size - 1))
    expect_206 "$what last-pos beyond the end" "$path" "bytes=100-$((size + 5000))" 100 $((size - 1))
    expect_206 "$what suffix" "$path" "bytes=-500" $((size - 500)) $((size - 1))
    expect_206 "$what suffix larger than the file" "$path" "bytes=-$((size + 10))" 0 $((size - 1))
    # numbers past 2^64 (a last-pos past 2^64 may be ignored: servers MAY ignore Range)
    expect_206 "$what suffix past 2^64" "$path" "bytes=-99999999999999999999999" 0 $((size - 1))
    expect_206 "$what unit is case-insensitive (RFC 9110 14.1)" "$path" "BYTES=0-4" 0 4
    expect_206 "$what multi-range with one satisfiable" "$path" "bytes=$((size + 10))-$((size + 20)),5-9" 5 9

    expect_416 "$what first-pos = size" "$path" "bytes=$size-"
    expect_416 "$what first-pos beyond size" "$path" "bytes=$((size + 5))-$((size + 10))"
    expect_416 "$what all ranges unsatisfiable" "$path" "bytes=$((size + 5))-,$((size + 100))-$((size + 200))"
    expect_416 "$what zero-length suffix (RFC 9110 14.1.1)" "$path" "bytes=-0"
    expect_416 "$what first-pos past 2^64" "$path" "bytes=99999999999999999999999-"

    expect_multi "$what multi" "$path" "bytes=0-9,100-199,-50" exact "0-9,100-199,$((size - 50))-$((size - 1))"
    expect_multi "$what multi in request order" "$path" "bytes=3000-3099,0-0" exact "3000-3099,0-0"
    expect_multi "$what multi with OWS" "$path" "bytes=0-4, 20-24 ,40-44" exact "0-4,20-24,40-44"
    expect_multi "$what multi first and last byte" "$path" "bytes=0-0,-1" exact "0-0,$((size - 1))-$((size - 1))"
    expect_multi "$what multi overlapping" "$path" "bytes=0-99,50-149,4000-4009" union "0-99,50-149,4000-4009"
    local r16="" r17 i
    for i in $(seq 0 15); do r16+="${r16:+,}$((i * 200))-$((i * 200 + 9))"; done
    expect_multi "$what 16 ranges" "$path" "bytes=$r16" exact "$r16"
    r17="$r16,4990-4999"
    expect_full "$what 17 ranges: header ignored" "$path" -H "Range: bytes=$r17"

    local inv
    for inv in "bytes=abc" "bytes=5-1" "bytes=" "bytes=-" "bytes 0-10" "bytes=0-1-2" "bytes=1e3-" "bytes=0x10-0x20" "bytes=--5" "=0-5"; do
        expect_full "$what invalid Range [$inv]" "$path" -H "Range: $inv"
    done
    expect_full "$what other unit [items=0-5]" "$path" -H "Range: items=0-5"
    expect_full "$what other unit [none]" "$path" -H "Range: none"

    expect_206 "$what If-Range matching ETag" "$path" "bytes=0-99" 0 99 -H "If-Range: $ETAG"
    expect_206 "$what If-Range = Last-Modified" "$path" "bytes=0-99" 0 99 -H "If-Range: $lm"
    expect_full "$what If-Range other ETag" "$path" -H "Range: bytes=0-99" -H 'If-Range: "not-the-etag"'
    expect_full "$what If-Range weak ETag" "$path" -H "Range: bytes=0-99" -H "If-Range: W/$ETAG"
    expect_full "$what If-Range older date" "$path" -H "Range: bytes=0-99" \
        -H "If-Range: $(date -u -d "@$((MTIME - 3600))" '+%a, %d %b %Y %H:%M:%S GMT')"
    expect_full "$what If-Range without Range" "$path" -H "If-Range: $ETAG"

    # HEAD with Range: GET is the only method with range handling, so the
    # Range field is ignored (RFC 9110 14.2): 200, full Content-Length, no body.
    code=$(fetch "$T/h" -I "$URL/$path" -H "Range: bytes=0-99")
    check_eq "$what HEAD+Range: status (RFC 9110 14.2)" 200 "$code"
    check_eq "$what HEAD+Range: Content-Length" "$size" "$(hdr "$T/h.head" Content-Length)"
    check_eq "$what HEAD+Range: no Content-Range" "" "$(hdr "$T/h.head" Content-Range)"
    # ... and really no body: a GET pipelined behind it must come back intact.
    local s1 s2
    read -r s1 s2 _ < <(printf 'HEAD /%s HTTP/1.1\r\nHost: t\r\nRange: bytes=0-99\r\n\r\nGET /data/s100 HTTP/1.1\r\nHost: t\r\n\r\n' "$path" |
        raw_request --head-at 1 --count 2 "$PORT" "$T/raw")
    check_eq "$what HEAD+Range (raw): status" 200 "$s1"
    check_eq "$what HEAD+Range then GET on one connection: GET status" 200 "$s2"
    if [[ -f $T/raw.2.body ]]; then
        check_eq "$what HEAD+Range: next response intact" "$(sha "$ROOT/data/s100")" "$(sha "$T/raw.2.body")"
    fi
}

range_suite "cached object" "$OBJ_FILEZ"
range_suite "small file" data/s5000
range_suite "large delta part" "$DELTA_PART"
range_suite "100 kB object" "$OBJ_BIG"

# Zero-length and one-byte files.
ETAG=$(hcurl -o /dev/null -D - "$URL/data/one" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
expect_full "empty file" data/empty
check_eq "empty file: Content-Length 0" 0 "$(hdr "$T/r.head" Content-Length)"
expect_416 "empty file" data/empty "bytes=0-0"
expect_416 "empty file" data/empty "bytes=0-"
expect_416 "empty file, suffix" data/empty "bytes=-5"
expect_206 "one-byte file" data/one "bytes=0-0" 0 0
expect_206 "one-byte file" data/one "bytes=-1" 0 0
expect_206 "one-byte file" data/one "bytes=-100" 0 0
expect_206 "one-byte file" data/one "bytes=0-100" 0 0
expect_416 "one-byte file" data/one "bytes=1-"

# 416 for a HEAD? No: HEAD ignores Range, even an unsatisfiable one.
code=$(fetch "$T/h" -I "$URL/data/empty" -H "Range: bytes=5-")
check_eq "HEAD empty file + unsatisfiable Range: status" 200 "$code"

# Ranges on a missing file and a directory keep their error status.
check_eq "Range on a missing file" 404 "$(fetch "$T/r" "$URL/data/nope" -H 'Range: bytes=0-1')"
check_eq "Range on a directory" 403 "$(fetch "$T/r" "$URL/data/sub/" -H 'Range: bytes=0-1')"

finish
