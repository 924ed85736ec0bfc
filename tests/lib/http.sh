# HTTP from the shell tests. Sourced by tests/integration/lib.sh (needs
# assert.sh for py_checks). Header blocks come from `curl -D FILE`, `fetch`
# or `raw_request`; one order: FILE first, then the field NAME.
#
#   hcurl [curl args...]           curl that never goes through a proxy and never hangs
#   fetch OUT [curl args...]       OUT.head + OUT.body; prints the status (000: no response)
#   http_code URL [curl args...]   the status code only (000: no response)
#   hdr FILE NAME                  value of NAME in the last response of FILE
#                                  (first such field, CR and outer blanks stripped; "" if absent)
#   hdr_count FILE NAME            how many NAME fields the last response has
#   raw_request ...                bytes curl cannot send (tests/lib/dcnhttp.py; see below)
#   py_checks [ARGS...] <<'PY'     a python3 check script (import dcnhttp) whose
#                                  PASS/FAIL lines count as pass/bad checks

hcurl() { curl -sS --noproxy '*' --max-time 60 "$@"; }

fetch() {
    local o=$1; shift
    rm -f "$o.head" "$o.body"
    hcurl -D "$o.head" -o "$o.body" -w '%{http_code}' "$@" || true
    touch "$o.head" "$o.body"
}

http_code() {
    local url=$1; shift
    curl -s -o /dev/null -w '%{http_code}' "$@" "$url" || true
}

# awk over the last response of a header block (curl -D writes one block per
# response: interim 1xx, redirects).
_hdr_awk() {
    tr -d '\r' <"$1" | awk -v n="$2" 'BEGIN { n = tolower(n) }
        /^HTTP\// { v = ""; seen = 0; c = 0; next }
        { i = index($0, ":"); if (i > 1 && tolower(substr($0, 1, i - 1)) == n) {
              c++; if (!seen) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); seen = 1 } } }
        END { '"$3"' }'
}
hdr() { _hdr_awk "$1" "$2" 'print v'; }
hdr_count() { _hdr_awk "$1" "$2" 'print c'; }

# raw_request [--head | --head-at I...] [--count N] [--close-wait S] [--timeout S] [--host H] PORT OUT <REQUEST-BYTES
# sends stdin in one write, reads N responses (default 1) into OUT.head/OUT.body
# (the first) and OUT.<i>.head/OUT.<i>.body, and prints the statuses and
# then the connection state: "eof" (server closed), "open" (still open after
# --close-wait seconds, default 0 = not checked: "unknown"). A status is
# "none" when the server closed without answering, "timeout" when it sent
# nothing, "bad" when the bytes were not an HTTP response.
export PYTHONPATH=$DCN_SOURCE_DIR/tests/lib${PYTHONPATH:+:$PYTHONPATH}
raw_request() { python3 -m dcnhttp "$@"; }

# py_checks [ARGS...] <<'PY' ... PY: runs a python3 script whose lines
# "PASS<TAB>msg" / "FAIL<TAB>msg" (dcnhttp.ok/fail/check/check_eq) count as
# pass/bad checks; other output is shown; a script that dies is a failure.
py_checks() {
    local verdict msg
    while IFS=$'\t' read -r verdict msg; do
        case $verdict in
        PASS) pass "$msg" ;;
        FAIL) bad "$msg" ;;
        EXIT) [[ $msg == 0 ]] || bad "python check script exited with status $msg" ;;
        *) echo "$verdict${msg:+ $msg}" ;;
        esac
    done < <(rc=0; python3 - "$@" 2>&1 || rc=$?; echo "EXIT	$rc")
}
