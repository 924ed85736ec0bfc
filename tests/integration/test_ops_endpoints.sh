#!/bin/bash
# Operations endpoints under /-/: live, ready (200 with a repo, 503 without),
# metrics (valid Prometheus text; counters move with requests), status (JSON
# with the refs the repo has), and nothing else under /-/ reachable.
source "$(dirname "$0")/lib.sh"

REF=rhel/9/x86_64/edge
make_sample_root "$T/root"
V2=$(ostree --repo="$T/root/repo" rev-parse "$REF")
mkdir -p "$T/root/-"
echo secret >"$T/root/-/secret.txt"

# metrics_parse FILE: validates Prometheus text exposition format (0.0.4: line
# syntax, label escapes, values, one TYPE per family before its samples, one
# group per family, histogram buckets cumulative with +Inf == _count) and prints
# each sample as `name{label="v",...} value` (labels sorted), one per line.
metrics_parse() {
    python3 - "$1" <<'PY'
import math, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    sys.exit("metrics: no newline at the end")
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')
sample_re = re.compile(r"^(%s)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$" % name_re)
types, samples, errors = {}, {}, []
current, done, seen_family = None, set(), set()
for n, line in enumerate(text.splitlines(), 1):
    if not line.strip():
        continue
    if line.startswith("#"):
        m = re.match(r"^# (HELP|TYPE) (%s)(?: (.*))?$" % name_re, line)
        if m and m.group(1) == "TYPE" and m.group(2) in seen_family:
            errors.append("line %d: TYPE of %s after its samples" % (n, m.group(2)))
        if m and m.group(1) == "TYPE":
            if m.group(3) not in ("counter", "gauge", "histogram", "summary", "untyped"):
                errors.append("line %d: bad TYPE: %s" % (n, line))
            elif m.group(2) in types:
                errors.append("line %d: second TYPE for %s" % (n, m.group(2)))
            types[m.group(2)] = m.group(3)
        continue
    m = sample_re.match(line)
    if not m:
        errors.append("line %d: not a sample: %r" % (n, line)); continue
    name, labels_s, value = m.group(1), m.group(2) or "", m.group(3)
    labels, pos = {}, 0
    while pos < len(labels_s):
        lm = label_re.match(labels_s, pos)
        if not lm:
            errors.append("line %d: bad labels: %r" % (n, labels_s)); break
        labels[lm.group(1)] = lm.group(2); pos = lm.end()
    try:
        v = float(value.replace("Inf", "inf"))
    except ValueError:
        errors.append("line %d: bad value %r" % (n, value)); continue
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    family = name if name in types or types.get(base) not in ("histogram", "summary") else base
    # one group per family, its TYPE (if any) before its first sample
    if family != current and family in done:
        errors.append("line %d: samples of %s are not in one group" % (n, family))
    if current is not None and family != current:
        done.add(current)
    current = family
    seen_family.add(family)
    key = name + "{" + ",".join('%s="%s"' % kv for kv in sorted(labels.items())) + "}"
    if key in samples:
        errors.append("line %d: duplicate sample %s" % (n, key))
    samples[key] = v
# histograms: cumulative buckets, +Inf bucket == _count, _sum present
for fam, t in types.items():
    if t != "histogram":
        continue
    buckets = sorted((float(k.split('le="')[1].split('"')[0].replace("Inf", "inf")), v)
                     for k, v in samples.items() if k.startswith(fam + "_bucket{"))
    if not buckets or not math.isinf(buckets[-1][0]):
        errors.append("%s: no +Inf bucket" % fam); continue
    if any(b[1] > c[1] for b, c in zip(buckets, buckets[1:])):
        errors.append("%s: buckets not cumulative" % fam)
    if samples.get(fam + "_count{}") != buckets[-1][1]:
        errors.append("%s: _count != +Inf bucket" % fam)
    if fam + "_sum{}" not in samples:
        errors.append("%s: no _sum" % fam)
if errors:
    sys.exit("metrics: " + "\n".join(errors))
for k, v in samples.items():
    print(k, repr(v) if v != int(v) or math.isinf(v) else int(v))
PY
}
# metric FILE KEY: the value of KEY (e.g. 'dcn_hoster_requests_total{status="200"}'), 0 if absent
metric() { awk -v k="$2" '$1 == k { v = $2 } END { print v == "" ? 0 : v }' "$1"; }
scrape() { # scrape NAME: GET /-/metrics into $T/NAME.txt, parsed into $T/NAME
    curl -sS -D "$T/$1.h" -o "$T/$1.txt" "$URL/-/metrics"
    metrics_parse "$T/$1.txt" >"$T/$1" || { cat "$T/$1.txt" >&2; fail "/-/metrics ($1) is not valid Prometheus text"; }
}

hoster_start ops --root "$T/root" --threads 2

# ---- live / ready --------------------------------------------------------------------
require_eq "/-/live" 200 "$(http_code "$URL/-/live")"
require_eq "/-/live body" ok "$(curl -sS "$URL/-/live" | tr -d '\r\n')"
require_eq "/-/ready with a repo" 200 "$(http_code "$URL/-/ready")"
pass "/-/live 200 ok, /-/ready 200"

# ---- metrics ----------------------------------------------------------------------------
scrape m1
ct=$(hdr "$T/m1.h" content-type)
[[ $ct == text/plain* ]] || fail "/-/metrics Content-Type '$ct'"
for name in dcn_hoster_requests_total dcn_hoster_response_bytes_total dcn_hoster_connections_active \
    dcn_hoster_connections_total dcn_hoster_request_duration_seconds_count dcn_hoster_cache_hits_total \
    dcn_hoster_cache_misses_total dcn_hoster_ready; do
    grep -q "^$name[{ ]" "$T/m1" || fail "/-/metrics lacks $name"
done
grep -q '^dcn_hoster_request_duration_seconds_bucket{le="+Inf"} ' "$T/m1" || fail "request_duration_seconds is not a histogram"
require_eq "dcn_hoster_ready with a repo" 1 "$(metric "$T/m1" 'dcn_hoster_ready{}')"

CONFIG_SIZE=$(stat -c %s "$T/root/repo/config")
OBJ=$(cd "$T/root/repo" && find objects -name '*.dirmeta' | sort | head -n1)
for i in 1 2 3; do require_eq "GET /repo/config" 200 "$(http_code "$URL/repo/config")"; done
for i in 1 2; do require_eq "GET /no/such/file-$i" 404 "$(http_code "$URL/no/such/file-$i")"; done
# a small immutable object 8 times over one keep-alive connection: 1 miss at most, then hits
objreq=(); for i in $(seq 8); do objreq+=(-o /dev/null "$URL/repo/$OBJ"); done
curl -sS "${objreq[@]}"
k200='dcn_hoster_requests_total{status="200"}'
k404='dcn_hoster_requests_total{status="404"}'
scrapes=0
for i in $(seq 1 20); do     # counters of other workers may lag by a moment
    scrape m2; scrapes=$((scrapes + 1))
    d404=$(( $(metric "$T/m2" "$k404") - $(metric "$T/m1" "$k404") ))
    [[ $d404 -ge 2 ]] && break
    sleep 0.05
done
d200=$(( $(metric "$T/m2" "$k200") - $(metric "$T/m1" "$k200") ))
require_eq "requests_total{status=404} increase after 2 misses" 2 "$d404"
# 3 configs + 8 objects, plus the earlier scrapes (counted after they answered)
[[ $d200 -ge 11 && $d200 -le $((11 + scrapes)) ]] || fail "requests_total{status=200} rose by $d200, expected 11..$((11 + scrapes))"
dbytes=$(( $(metric "$T/m2" 'dcn_hoster_response_bytes_total{}') - $(metric "$T/m1" 'dcn_hoster_response_bytes_total{}') ))
[[ $dbytes -ge $((3 * CONFIG_SIZE)) ]] || fail "response_bytes_total rose by $dbytes, less than 3 x config ($CONFIG_SIZE)"
dconn=$(( $(metric "$T/m2" 'dcn_hoster_connections_total{}') - $(metric "$T/m1" 'dcn_hoster_connections_total{}') ))
[[ $dconn -ge 6 ]] || fail "connections_total rose by $dconn, expected at least 6"
dcount=$(( $(metric "$T/m2" 'dcn_hoster_request_duration_seconds_count{}') - $(metric "$T/m1" 'dcn_hoster_request_duration_seconds_count{}') ))
[[ $dcount -ge 13 ]] || fail "request_duration_seconds_count rose by $dcount, expected at least 13"
dhits=$(( $(metric "$T/m2" 'dcn_hoster_cache_hits_total{}') - $(metric "$T/m1" 'dcn_hoster_cache_hits_total{}') ))
[[ $dhits -ge 7 ]] || fail "cache_hits_total rose by $dhits after 8 GETs of one small object on one connection"
active=$(metric "$T/m2" 'dcn_hoster_connections_active{}')
[[ $active -ge 1 ]] || fail "connections_active is $active while a connection asks for /-/metrics"
pass "/-/metrics: valid; 200 +$d200, 404 +$d404, bytes +$dbytes, connections +$dconn, cache hits +$dhits"

# ---- status ------------------------------------------------------------------------------
curl -sS -D "$T/st.h" -o "$T/status.json" "$URL/-/status"
python3 - "$T/status.json" "$REF" "$V2" "$T/root" <<'PY' || fail "/-/status: $(cat "$T/status.json")"
import json, os, sys
path, ref, commit, root = sys.argv[1:]
s = json.load(open(path))
assert s["ready"] is True, "ready: %r" % s["ready"]
assert s["draining"] is False, "draining: %r" % s["draining"]
assert s["repo_path"] == "repo", "repo_path: %r" % s["repo_path"]
assert s["refs"] == {ref: commit}, "refs: %r" % s["refs"]
assert s["root"] in (root, os.path.realpath(root)), "root: %r" % s["root"]
assert isinstance(s["uptime_seconds"], (int, float)) and 0 <= s["uptime_seconds"] < 600, "uptime_seconds: %r" % s["uptime_seconds"]
assert isinstance(s["version"], str) and s["version"], "version: %r" % s["version"]
PY
pass "/-/status: ready, refs {$REF: $V2}"

# ---- which build this is: --version, /-/status, the access log's first line ----------------
ver=$("$DCN_HOSTER" --version) || fail "dcn-hoster --version exited $?"
[[ $ver =~ ^dcn-hoster\ ([0-9][0-9.]*)\ \(commit\ ([0-9a-f]{12}(-dirty)?|unknown)\)$ ]] || fail "--version: '$ver'"
version=${BASH_REMATCH[1]} commit=${BASH_REMATCH[2]}
if [[ $commit != unknown ]] && git -C "$DCN_SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$DCN_SOURCE_DIR" cat-file -e "${commit%-dirty}^{commit}" 2>/dev/null || fail "--version names commit $commit, which this repository does not have"
fi
require_eq "/-/status version and commit" \
    "$version $commit" "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["version"], s["commit"])' "$T/status.json")"
hoster_flush_log
grep -qE "^ts=[0-9T:.Z-]+ event=start program=dcn-hoster version=$version commit=$commit " "$HOSTER_LOG" ||
    fail "no start line with version $version commit $commit in the access log: $(head -n1 "$HOSTER_LOG")"
grep -q "dcn-hoster $version (commit $commit) serving" "$HOSTER_ERR" || fail "the startup line on stderr does not name the build"
pass "dcn-hoster --version, /-/status, access log and stderr agree: $version, commit $commit"

# ---- the /-/ prefix is reserved --------------------------------------------------------------
require_eq "/-/secret.txt (a file under <root>/-/)" 404 "$(http_code "$URL/-/secret.txt")"
require_eq "/%2D/secret.txt" 404 "$(http_code "$URL/%2D/secret.txt")"
require_eq "/repo/../-/secret.txt" 404 "$(http_code "$URL/repo/../-/secret.txt" --path-as-is)"
require_eq "/-/nope" 404 "$(http_code "$URL/-/nope")"
hoster_stop
pass "nothing under <root>/-/ is reachable"

# ---- a root without repo/config: not ready ---------------------------------------------------
mkdir -p "$T/empty/repo"
hoster_start notready --root "$T/empty"
require_eq "/-/live without a repo" 200 "$(http_code "$URL/-/live")"
require_eq "/-/ready without repo/config" 503 "$(http_code "$URL/-/ready")"
scrape m3
require_eq "dcn_hoster_ready without a repo" 0 "$(metric "$T/m3" 'dcn_hoster_ready{}')"
curl -sS -o "$T/status2.json" "$URL/-/status"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["ready"] is False, s' "$T/status2.json" \
    || fail "/-/status without a repo: $(cat "$T/status2.json")"
ostree init --repo="$T/empty/repo" --mode=archive
got=
for i in $(seq 1 20); do got=$(http_code "$URL/-/ready"); [[ $got == 200 ]] && break; sleep 0.05; done
require_eq "/-/ready once repo/config exists" 200 "$got"
hoster_stop
pass "/-/ready 503 without repo/config (metrics ready 0, status ready false), 200 once it exists"
pass "test_ops_endpoints"
