#!/usr/bin/env bash
# run-fuzz.sh [SECONDS]
# Builds the libFuzzer targets in their own clang build directory and runs
# each for SECONDS (default 20) with -max_len=8192 (65536 for the tarball
# targets). Exits non-zero when a target crashes or breaks an invariant (the
# reproducer is kept under artifacts/), 77 when clang or libFuzzer is not
# available (ctest: skipped).
#
# The builder's targets start from tests/fuzz/corpus/<target>/ (seeds,
# crash-* reproducers of what they found, run first, so a fix that comes
# undone fails here, and for archive min-*: a long run's corpus minimized
# with -merge=1, so 15 s start from its coverage) with tests/fuzz/dict/<target>.dict; the hoster's seeds
# and dictionaries are written below.
#
# Where: $DCN_BUILD_DIR/fuzz (its corpus/ grows from run to run) when
# DCN_BUILD_DIR is set, else a temporary directory removed at exit.
set -euo pipefail

secs=${1:-20}
[[ $secs =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
targets=(http_parse path_norm range trusted_proxy ostree_object
         challenge registry_reply oci_descriptor ldd verify_status kube_output weldr_reply definition
         archive edge_commit)

cc=${DCN_FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "run-fuzz: $cc not found: skipped (Debian: clang libclang-rt-14-dev)" >&2
    exit 77
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
    "$cc" -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then
    echo "run-fuzz: $cc cannot link libFuzzer: skipped (Debian: libclang-rt-14-dev)" >&2
    exit 77
fi

if [[ -n ${DCN_BUILD_DIR:-} ]]; then
    work=$DCN_BUILD_DIR/fuzz
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/dcn-fuzz.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
build=$work/build
mkdir -p "$build" "$work/artifacts"

# -Werror stays with the gcc builds: a clang-only warning elsewhere in the
# tree must not stop the fuzzers from running.
echo "run-fuzz: configuring $build" >&2
if ! cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDCN_FUZZ=ON -DDCN_TESTS=OFF -DDCN_SANITIZE=OFF -DDCN_WERROR=ON >"$work/configure.log" 2>&1; then
    cat "$work/configure.log" >&2
    echo "run-fuzz: configure failed" >&2
    exit 1
fi
if ! cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    echo "run-fuzz: build failed" >&2
    exit 1
fi

# Seeds and dictionaries, written here so the script needs nothing else.
seed() { # seed TARGET NAME BYTES (backslash escapes as in echo -e)
    mkdir -p "$work/corpus/$1"
    printf '%b' "$3" >"$work/corpus/$1/seed-$2"
}
seed http_parse get '\x08GET /repo/summary HTTP/1.1\r\nHost: h\r\nUser-Agent: libostree/2022.7\r\n\r\n'
seed http_parse cond '\x10GET /repo/summary HTTP/1.1\r\nHost: h\r\nIf-None-Match: W/"a", "b"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 UTC\r\n\r\n'
seed http_parse range '\x08GET /iso HTTP/1.1\r\nHost: h:8080\r\nRange: bytes=0-99, -5,7-\r\nIf-Range: "x"\r\nConnection: keep-alive, close\r\n\r\n'
seed http_parse v10 '\x02\r\nHEAD http://h/a?b HTTP/1.0\nConnection: keep-alive\nContent-Length: 0\n\n'
seed http_parse dates '\x08GET / HTTP/1.1\r\nA: Sunday, 06-Nov-94 08:49:37 GMT\r\nB: Sun Nov  6 08:49:37 1994\r\n\r\n'
seed path_norm plain '\xff/repo/objects/ab/cdef.filez'
seed path_norm dots '\xff/a/./b/../../c//d/%2e%2E/e?x#y'
seed path_norm abs '\x40HTTPS://[::1]:8080/deltas/a+b/c%2Fd/.x'
seed path_norm bad '\xff/..%5c%00%c0%ae%252e'
seed range list '\x0a\x10bytes=0-1, 5-,-3,,9-9'
seed range huge '\xc3\x10bytes=18446744073709551615-,-99999999999999999999'
seed range etag '\x0a\x10W/"4d2-6553f100.75bcd15", "x"'
seed trusted_proxy chain '\x00\x01203.0.113.1, 10.9.9.9\n[2001:db8::1]:443,  198.51.100.3:80 ,unknown'
seed trusted_proxy v6 '\x01\x00fd00::5, 2001:db8::7'
seed ostree_object path '\x03objects/16/1ddeedbb45865291306d4df1a9aec755dec95ee0ad235c28aa8dafff397af1.commit'
seed ostree_object delta '\x02su/Kw8WSvWI3OgKG7vdHioOMqe8vIVQBRRqYUqbLO8es-Fh3e7btFhlKRMG1N8amux1XeyV7grSNcKKqNr_85evE'
cat >"$work/http.dict" <<'EOF'
"GET"
"HEAD"
"HTTP/1.1"
"HTTP/1.0"
"HTTP/2.0"
"\x0d\x0a"
"\x0a"
"\x0d\x0a\x0d\x0a"
"Host: "
"Connection: "
"close"
"keep-alive"
"Content-Length: "
"Transfer-Encoding: chunked"
"Range: bytes="
"If-Range: "
"If-None-Match: "
"If-Modified-Since: "
"Sun, 06 Nov 1994 08:49:37 GMT"
"UTC"
"http://"
EOF
cat >"$work/path_norm.dict" <<'EOF'
"/"
".."
"."
"%2e"
"%2E"
"%2f"
"%2F"
"%25"
"%5c"
"%00"
"%c0%ae"
"?"
"#"
"http://"
"https://"
"@"
":"
EOF
cat >"$work/range.dict" <<'EOF'
"bytes="
"-"
","
" "
"18446744073709551615"
"18446744073709551616"
"W/"
"\""
"*"
EOF
cat >"$work/trusted_proxy.dict" <<'EOF'
","
" "
":"
"["
"]"
"::ffff:"
"10.0.0.1"
"fd00::"
"unknown"
"\x0a"
EOF
cat >"$work/ostree_object.dict" <<'EOF'
"objects/"
".commit"
"deltas/"
"/superblock"
"-"
"_"
"version"
"\x00s"
EOF
declare -A dict=([http_parse]=http.dict [path_norm]=path_norm.dict [range]=range.dict
                 [trusted_proxy]=trusted_proxy.dict [ostree_object]=ostree_object.dict)

status=0
for t in "${targets[@]}"; do
    log=$work/fuzz_$t.log
    echo "run-fuzz: fuzz_$t for ${secs}s" >&2
    rc=0
    mkdir -p "$work/corpus/$t"
    d=$work/${dict[$t]:-}
    [[ -n ${dict[$t]:-} ]] || d=$src/tests/fuzz/dict/$t.dict
    saved=()
    [[ -d $src/tests/fuzz/corpus/$t ]] && saved=("$src/tests/fuzz/corpus/$t")
    max_len=8192
    [[ $t == archive || $t == edge_commit ]] && max_len=65536
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=$max_len -timeout=10 \
        -print_final_stats=1 -dict="$d" \
        -artifact_prefix="$work/artifacts/$t-" "$work/corpus/$t" "${saved[@]}" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n1 || true)
    if [[ $rc -ne 0 ]]; then
        tail -n 40 "$log" >&2
        echo "FAIL fuzz_$t: exit $rc after ${runs:-?} runs; reproducer in $work/artifacts/ (log $log)" >&2
        status=1
    else
        echo "ok fuzz_$t: ${runs:-?} runs in ${secs}s, ${cov:-cov ?}"
    fi
done
if [[ $status -ne 0 && -z ${DCN_BUILD_DIR:-} ]]; then
    trap - EXIT # keep the reproducers
    echo "run-fuzz: kept $work" >&2
fi
exit $status
