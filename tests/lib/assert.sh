# The shell tests' assertions. Sourced by tests/integration/lib.sh (after it
# made $T), so every test that sources a lib.sh has them. One order for every
# comparison: WHAT EXPECTED ACTUAL (as dcnhttp.check_eq in Python).
#
#   fail MSG                           stop the test now (exit 1)
#   pass MSG                           record a passed check
#   bad MSG                            record a failed check, go on
#   require_eq WHAT EXPECTED ACTUAL    stop the test unless ACTUAL == EXPECTED
#   check_eq WHAT EXPECTED ACTUAL      record pass/fail, go on
#   finish                             end of a test: exit 1 if any check failed
#   skip REASON                        the test cannot run here (exit 77)
#
# require_* is for a value later steps build on; check_* for a list of
# independent facts, so one run lists every discrepancy. Results go to files,
# so checks made in a subshell (e.g. the right side of a pipe) count too. A
# test that ends without `finish` after a failed check still fails: the exit
# trap (integration/lib.sh) asks checks_unreported_failures.
: "${T:?source tests/lib/assert.sh after \$T exists (tests/integration/lib.sh makes it)}"
: >"$T/.checks-ok"; : >"$T/.checks-bad"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; echo "${*//$'\n'/ }" >>"$T/.checks-ok"; }
bad() { echo "FAIL: $*" >&2; echo "${*//$'\n'/ }" >>"$T/.checks-bad"; }
skip() { echo "SKIP: $*"; exit 77; }

# A wrong number of words (a lost quote, an empty word eaten) must not turn
# into a comparison of the wrong things.
_eq_usage() { [[ $1 == 3 ]] || fail "$2 takes WHAT EXPECTED ACTUAL, got $1 arguments: ${*:3}"; }
check_eq() {
    _eq_usage $# check_eq "$@"
    if [[ "$3" == "$2" ]]; then pass "$1"; else bad "$1: expected [$2], got [$3]"; fi
}
require_eq() {
    _eq_usage $# require_eq "$@"
    [[ "$3" == "$2" ]] || fail "$1: expected [$2], got [$3]"
}

finish() {
    local nok nbad
    nok=$(wc -l <"$T/.checks-ok") nbad=$(wc -l <"$T/.checks-bad")
    echo "${0##*/}: $nok checks passed, $nbad failed"
    : >"$T/.checks-finished"
    if [[ $nbad -ne 0 ]]; then sed 's/^/  failed: /' "$T/.checks-bad" >&2; exit 1; fi
}

# checks_unreported_failures: for the exit trap; returns 1 (and lists them)
# when checks failed and the script never reached `finish`.
checks_unreported_failures() {
    [[ -s $T/.checks-bad && ! -e $T/.checks-finished ]] || return 0
    echo "FAIL: ${0##*/} ended without finish; $(wc -l <"$T/.checks-bad") check(s) had failed:" >&2
    sed 's/^/  failed: /' "$T/.checks-bad" >&2
    return 1
}
