#!/bin/bash
# Runs every HTTP test of libostree's own installed test suite (Debian
# package ostree-tests, /usr/libexec/installed-tests/libostree) with
# dcn-hoster serving its repositories in place of ostree-trivial-httpd.
#
#   run-suite.sh [--baseline] [TEST-NAME...]
#
# The tests are copied to a temporary directory (never into this
# repository) and find tests/ostree-suite/ostree-trivial-httpd where
# libtest.sh looks for the real one (../../libostree/ next to them). An HTTP
# test is one that starts the server (setup_fake_remote_repo*,
# setup_os_repository, or $OSTREE_HTTPD itself). Tests that use an option
# that exists only to test libostree (forced ranges, basic auth, random
# 500/408, expected headers or cookies) are skipped with that reason. Each
# test runs in an empty directory of its own, as gnome-desktop-testing-runner
# does. --baseline runs them against the real ostree-trivial-httpd instead
# (to tell a dcn-hoster failure from the environment's).
#
# Prints a Markdown table (test, result, reason) and writes it to
# $DCN_BUILD_DIR/ostree-suite.md; exits 1 when a test that ran failed.
# shellcheck source=../integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"

installed=/usr/libexec/installed-tests/libostree
[[ -d $installed ]] || skip "libostree's installed tests are missing (Debian package ostree-tests: scripts/install-deps test)"
baseline=0
[[ ${1:-} == --baseline ]] && { baseline=1; shift; }
only=("$@")

W=$T/suite
mkdir -p "$W/installed-tests" "$W/libostree" "$W/runs" "$W/logs"
cp -a "$installed" "$W/installed-tests/libostree"
if [[ $baseline == 1 ]]; then
    ln -s /usr/libexec/libostree/ostree-trivial-httpd "$W/libostree/ostree-trivial-httpd"
else
    cp "$DCN_SOURCE_DIR/tests/ostree-suite/ostree-trivial-httpd" "$W/libostree/ostree-trivial-httpd"
fi
export DCN_HOSTER DCN_SUITE_LOGDIR=$W/logs TMPDIR=$W/tmp
mkdir -p "$TMPDIR"
# The server is started by the tests and outlives a failing one; --autoexit
# ends it with the test's directory. ASan's leak report at its exit would
# only repeat what the hoster's own tests check.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

test_only='--force-range-requests|--require-basic-auth|--random-500s|--random-408s|--expected-cookies|--expected-header'
results=$W/results.tsv
: >"$results"
tests=()
for f in "$W/installed-tests/libostree"/test-*.sh; do
    name=$(basename "$f" .sh)
    if [[ ${#only[@]} -gt 0 ]]; then
        printf '%s\n' "${only[@]}" | grep -qx "$name" || continue
    fi
    grep -qE 'setup_fake_remote_repo|setup_os_repository|OSTREE_HTTPD' "$f" || continue
    tests+=("$name")
done
[[ ${#tests[@]} -gt 0 ]] || fail "no HTTP test found in $installed"

run_one() {
    local name=$1 f=$W/installed-tests/libostree/$1.sh dir=$W/runs/$1 opts rc=0
    opts=$(grep -oE -e "$test_only" "$f" | sort -u | paste -sd, - || true)
    if [[ -n $opts ]]; then
        printf '%s\tskipped\tuses %s: trivial-httpd options that test libostree itself, not dcn-hoster features\n' "$name" "$opts"
        return
    fi
    mkdir -p "$dir"
    (cd "$dir" && exec timeout 600 "$f") >"$W/logs/$name.log" 2>&1 </dev/null || rc=$?
    if [[ $rc == 0 ]] && grep -q '^1\.\.0 # SKIP' "$W/logs/$name.log"; then
        printf '%s\tskipped\t%s\n' "$name" "$(grep -m1 '^1\.\.0 # SKIP' "$W/logs/$name.log" | sed 's/^1\.\.0 # SKIP *//')"
    elif [[ $rc == 0 ]]; then
        printf '%s\tpassed\t%s\n' "$name" "$(grep -cE '^ok( |$)' "$W/logs/$name.log") TAP checks"
    else
        printf '%s\tFAILED\texit %s: %s\n' "$name" "$rc" "$(grep -m1 -E '^not ok|error:' "$W/logs/$name.log" | cut -c1-160)"
    fi
}

# Two at a time: most of each test is the ostree CLI, not the server.
for name in "${tests[@]}"; do
    while [[ $(jobs -rp | wc -l) -ge 2 ]]; do wait -n || true; done
    run_one "$name" >"$W/runs/$name.result" &
done
wait
for name in "${tests[@]}"; do cat "$W/runs/$name.result"; done >"$results"

server=dcn-hoster report=${DCN_BUILD_DIR:-$T}/ostree-suite.md
[[ $baseline == 0 ]] || server=ostree-trivial-httpd report=${DCN_BUILD_DIR:-$T}/ostree-suite-baseline.md
{
    echo "libostree $(ostree --version | sed -n "s/^ *Version: *'\{0,1\}\([^']*\)'\{0,1\}/\1/p") installed tests, HTTP served by $server"
    echo
    echo "| test | result | detail |"
    echo "|---|---|---|"
    sort "$results" | awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }'
    echo
    awk -F'\t' '{ n[$2]++ } END { printf "%d passed, %d skipped, %d failed\n", n["passed"], n["skipped"], n["FAILED"] }' "$results"
} >"$report"
cat "$report"
for name in $(awk -F'\t' '$2 == "FAILED" { print $1 }' "$results"); do
    echo "--- $name (tail of its log)"
    tail -n 25 "$W/logs/$name.log"
    for e in "$W"/logs/hoster-*.err; do [[ -e $e ]] && grep -l . "$e" >/dev/null && { echo "--- $e"; tail -n 5 "$e"; }; done
done >&2
! grep -qP '\tFAILED\t' "$results"
