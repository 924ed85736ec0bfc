#!/bin/bash
# Seeing the fleet from the hoster's metrics: build and ref info, process
# metrics, duration buckets up to 300 s, and adoption per version counted
# exactly for a known set of clients, some behind a trusted proxy
# (--trusted-proxy 127.0.0.1: X-Forwarded-For names the client), some
# connecting from an untrusted address (127.0.0.2: its X-Forwarded-For is
# ignored). The operations endpoints on their own listener (--ops-listen):
# there only, and only they. `promtool check metrics` accepts the output
# (Debian's prometheus package; skipped, saying so, without it).
source "$(dirname "$0")/lib.sh"

REF=rhel/9/x86_64/edge
make_sample_root "$T/root"
REPO=$T/root/repo
V2=$(ostree --repo="$REPO" rev-parse "$REF")
V1=$(ostree --repo="$REPO" rev-parse "$REF^")
obj() { echo "$URL/repo/objects/${1:0:2}/${1:2}.commit"; }
STARTED=$(date +%s)

hoster_start fleet --root "$T/root" --threads 2 --trusted-proxy 127.0.0.1 --trusted-proxy 2001:db8:ffff::/48 \
    --ops-listen 127.0.0.1:0
OPS_PORT=$(sed -n 's|^dcn-hoster: listening on http://[^ ]*:\([0-9]*\)/ (operations endpoints.*|\1|p' "$HOSTER_ERR" | head -n1)
[[ -n $OPS_PORT && $OPS_PORT != "$PORT" ]] || fail "no separate operations listener: $(cat "$HOSTER_ERR")"
OPS=http://127.0.0.1:$OPS_PORT

# ---- --ops-listen: /-/ there only, and only /-/ there ------------------------------------------
for p in /-/ /-/live /-/ready /-/metrics /-/status; do
    check_eq "content listener $p" 404 "$(http_code "$URL$p")"
done
check_eq "content listener /repo/config" 200 "$(http_code "$URL/repo/config")"
for p in /-/ /-/live /-/ready /-/metrics /-/status; do
    check_eq "ops listener $p" 200 "$(http_code "$OPS$p")"
done
for p in /repo/config /repo/summary /dcn.ks /; do
    check_eq "ops listener $p" 404 "$(http_code "$OPS$p")"
done

# ---- a known set of clients --------------------------------------------------------------------
# fetch FROM-ADDR XFF PATH: GET from a local address (127.0.0.1 is the trusted
# proxy, 127.0.0.2 is not) with an X-Forwarded-For field (- for none).
fetch_as() {
    local from=$1 xff=$2 path=$3 h=()
    [[ $xff == - ]] || h=(-H "X-Forwarded-For: $xff")
    local code
    code=$(hcurl --interface "$from" -o /dev/null -w '%{http_code}' "${h[@]}" "$path") || true
    [[ $code == 200 ]] || bad "GET $path from $from (XFF $xff): $code"
}
DELTA=$(delta_path "$V1" "$V2")
SCRATCH=$(delta_path "" "$V2")
# version 2.0.0 (V2): A three times, B, C; D and A by the delta from 1.0.0; E by the scratch delta;
# H over IPv6 behind the proxy; I connects from 127.0.0.2 (untrusted), whatever its header says
fetch_as 127.0.0.1 198.51.100.1 "$(obj "$V2")"        # A
fetch_as 127.0.0.1 198.51.100.1 "$(obj "$V2")"        # A again
fetch_as 127.0.0.1 " 198.51.100.1 " "$(obj "$V2")"    # A, blanks around it
fetch_as 127.0.0.1 198.51.100.2 "$(obj "$V2")"        # B
fetch_as 127.0.0.1 198.51.100.3:4711 "$(obj "$V2")"   # C, with a port
fetch_as 127.0.0.1 198.51.100.4 "$URL/repo/$DELTA/superblock"   # D
fetch_as 127.0.0.1 198.51.100.1 "$URL/repo/$DELTA/superblock"   # A by another way: still one client
fetch_as 127.0.0.1 198.51.100.5 "$URL/repo/$SCRATCH/superblock" # E
fetch_as 127.0.0.1 "[2001:db8::8]:443" "$(obj "$V2")"  # H
fetch_as 127.0.0.1 "2001:db8::8, 2001:db8:ffff::1" "$(obj "$V2")" # H through a second, trusted proxy
fetch_as 127.0.0.2 203.0.113.66 "$(obj "$V2")"        # I (127.0.0.2), the header ignored
fetch_as 127.0.0.2 203.0.113.67 "$(obj "$V2")"        # I again
fetch_as 127.0.0.2 - "$(obj "$V2")"                   # I again
# version 1.0.0 (V1): B, F, and G named by the rightmost untrusted address of a chain
fetch_as 127.0.0.1 198.51.100.2 "$(obj "$V1")"        # B
fetch_as 127.0.0.1 198.51.100.6 "$(obj "$V1")"        # F
fetch_as 127.0.0.1 "6.6.6.6, 198.51.100.7, 127.0.0.1" "$(obj "$V1")" # G; 6.6.6.6 is what G claims
# not fetching a version: a delta part, detached metadata, HEAD, a commit the repo does not have
fetch_as 127.0.0.1 198.51.100.9 "$URL/repo/$DELTA/0"
code=$(hcurl -o /dev/null -w '%{http_code}' -I -H "X-Forwarded-For: 198.51.100.9" "$(obj "$V2")")
check_eq "HEAD of the commit" 200 "$code"
missing=$(printf missing | sha256sum | cut -c1-64)
check_eq "a commit the repository does not hold" 404 \
    "$(hcurl -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 198.51.100.9" "$(obj "$missing")")"
FETCHES=16 # recorded fetches of hosted commits above: 13 of 2.0.0, 3 of 1.0.0

curl -sS -o "$T/m.txt" "$OPS/-/metrics"
python3 - "$T/m.txt" "$REF" "$V1" "$V2" "$FETCHES" "$STARTED" "$(date +%s)" "$("$DCN_HOSTER" --version)" <<'PY' > "$T/checks.out" || true
import re, sys
path, ref, v1, v2, fetches, started, now, version_line = sys.argv[1:]
started, now, fetches = int(started), int(now), int(fetches)
samples = {}
for line in open(path, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', line.rstrip("\n"))
    if not m:
        print("FAIL\tnot a sample: %r" % line); continue
    labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
    samples.setdefault(m.group(1), []).append((labels, float(m.group(3))))
def check(what, cond, detail=""):
    print("PASS\t%s" % what if cond else "FAIL\t%s: %s" % (what, detail))
def one(name, **want):
    hits = [v for l, v in samples.get(name, []) if all(l.get(k) == w for k, w in want.items())]
    return hits[0] if len(hits) == 1 else None
ver, commit = re.match(r"dcn-hoster (\S+) \(commit (\S+)\)", version_line).groups()
check("build_info{version,commit} is 1 and names this build", one("dcn_hoster_build_info", version=ver, commit=commit) == 1,
      repr(samples.get("dcn_hoster_build_info")))
check("ref_info{ref,commit,version} is 1 for the ref's commit",
      one("dcn_hoster_ref_info", ref=ref, commit=v2, version="2.0.0") == 1 and len(samples["dcn_hoster_ref_info"]) == 1,
      repr(samples.get("dcn_hoster_ref_info")))
got2 = one("dcn_hoster_version_clients", ref=ref, version="2.0.0", commit=v2)
got1 = one("dcn_hoster_version_clients", ref=ref, version="1.0.0", commit=v1)
check("version_clients 2.0.0 = 7 (A B C D E H I)", got2 == 7, "got %r" % got2)
check("version_clients 1.0.0 = 3 (B F G)", got1 == 3, "got %r" % got1)
check("adoption_fetches_total = %d" % fetches, one("dcn_hoster_adoption_fetches_total") == fetches,
      "got %r" % one("dcn_hoster_adoption_fetches_total"))
check("adoption_pairs = 10", one("dcn_hoster_adoption_pairs") == 10, "got %r" % one("dcn_hoster_adoption_pairs"))
check("adoption_capacity = 65536 (default)", one("dcn_hoster_adoption_capacity") == 65536)
check("adoption_evicted_total = 0", one("dcn_hoster_adoption_evicted_total") == 0)
for v, c in (("2.0.0", v2), ("1.0.0", v1)):
    t = one("dcn_hoster_version_last_fetch_timestamp_seconds", ref=ref, version=v, commit=c)
    check("last fetch of %s within the test" % v, t is not None and started <= t <= now, "got %r" % t)
    t = one("dcn_hoster_version_hosted_since_timestamp_seconds", ref=ref, version=v, commit=c)
    check("hosted since of %s within the test" % v, t is not None and started <= t <= now, "got %r" % t)
check("commit dates (sample: 2024-02-01, 2024-01-01)",
      one("dcn_hoster_version_commit_timestamp_seconds", version="2.0.0") == 1706745600 and
      one("dcn_hoster_version_commit_timestamp_seconds", version="1.0.0") == 1704067200)
buckets = [l.get("le") for l, _ in samples.get("dcn_hoster_request_duration_seconds_bucket", [])]
check("duration buckets reach 300 s", buckets[-2:] == ["300", "+Inf"] and "60" in buckets and "120" in buckets, repr(buckets))
rss = one("process_resident_memory_bytes"); fds = one("process_open_fds"); st = one("process_start_time_seconds")
cpu = one("process_cpu_seconds_total"); mx = one("process_max_fds")
check("process_resident_memory_bytes plausible", rss is not None and 1 << 20 < rss < 1 << 34, repr(rss))
check("process_open_fds plausible", fds is not None and 5 < fds < 10000, repr(fds))
check("process_max_fds >= open fds", mx is not None and mx >= fds)
check("process_cpu_seconds_total > 0", cpu is not None and cpu > 0, repr(cpu))
check("process_start_time_seconds at the test's start", st is not None and started - 5 <= st <= now + 1, "%r vs %d" % (st, started))
PY
while IFS=$'\t' read -r verdict msg; do
    case $verdict in PASS) pass "$msg" ;; FAIL) bad "$msg" ;; *) echo "$verdict $msg" ;; esac
done <"$T/checks.out"
[[ -s $T/checks.out ]] || bad "the metrics check printed nothing"

# sizes: what the version's objects take, as `ostree ls -R` lists them
python3 - "$REPO" "$V1" "$V2" "$T/m.txt" <<'PY' >"$T/sizes.out" || bad "size check failed to run"
import os, re, subprocess, sys
repo, v1, v2, metrics = sys.argv[1:]
text = open(metrics).read()
for c in (v1, v2):
    objs = {(c, "commit")}
    for line in subprocess.run(["ostree", "--repo=" + repo, "ls", "-R", "-C", c], capture_output=True, text=True, check=True).stdout.splitlines():
        f = line.split()
        if line.startswith("d"):
            objs |= {(f[4], "dirtree"), (f[5], "dirmeta")}
        else:
            objs.add((f[4], "filez"))
    want = sum(os.path.getsize("%s/objects/%s/%s.%s" % (repo, o[:2], o[2:], t)) for o, t in objs)
    m = re.search(r'dcn_hoster_version_size_bytes\{[^}]*commit="%s"\} (\d+)' % c, text)
    print("%s %s %s" % (c[:12], want, m.group(1) if m else "none"))
PY
while read -r c want got; do check_eq "size of $c (objects reachable from it)" "$want" "$got"; done <"$T/sizes.out"

# ---- a new version appears without a restart, and counts from its first fetch ------------------------
mkdir -p "$T/v3tree/usr/share/dcn"; echo three >"$T/v3tree/usr/share/dcn/v3"
V3=$(ostree commit --repo="$REPO" -b "$REF" --tree=dir="$T/v3tree" --parent="$V2" --subject="DCN sample 3.0.0" \
    --add-metadata-string=version=3.0.0 --timestamp='2024-03-01 00:00:00 UTC' --owner-uid=0 --owner-gid=0)
seen=
for i in $(seq 1 100); do
    curl -sS -o "$T/m3.txt" "$OPS/-/metrics"
    grep -q "^dcn_hoster_ref_info{ref=\"$REF\",version=\"3.0.0\",commit=\"$V3\"} 1$" "$T/m3.txt" && { seen=1; break; }
    sleep 0.1
done
[[ -n $seen ]] && pass "a new version is listed in ref_info without a restart" || bad "ref_info never showed $V3"
fetch_as 127.0.0.1 198.51.100.50 "$(obj "$V3")"
curl -sS -o "$T/m4.txt" "$OPS/-/metrics"
check_eq "version_clients 3.0.0 after one client" 1 \
    "$(sed -n "s/^dcn_hoster_version_clients{ref=\"${REF//\//\\/}\",version=\"3.0.0\",commit=\"$V3\"} //p" "$T/m4.txt")"
check_eq "version_clients 2.0.0 unchanged" 7 \
    "$(sed -n "s/^dcn_hoster_version_clients{ref=\"${REF//\//\\/}\",version=\"2.0.0\",commit=\"$V2\"} //p" "$T/m4.txt")"

# ---- promtool check metrics ------------------------------------------------------------------------
if command -v promtool >/dev/null; then
    if out=$(promtool check metrics <"$T/m4.txt" 2>&1); then
        pass "promtool check metrics: no problems"
    else
        bad "promtool check metrics: $out"
    fi
else
    echo "note: promtool not installed (Debian package prometheus, scripts/deps/test.txt): promtool check skipped"
fi
hoster_stop

# ---- bad values are refused at start, saying what is wrong ------------------------------------------
for args in "--trusted-proxy 10.0.0.1/24" "--trusted-proxy 10.0.0.0/33" "--trusted-proxy example.com" \
            "--listen 127.0.0.1:18999 --ops-listen 127.0.0.1:18999" "--adoption-max 0"; do
    rc=0
    # shellcheck disable=SC2086 # the flags are words
    "$DCN_HOSTER" --root "$T/root" $args >/dev/null 2>"$T/bad.err" || rc=$?
    check_eq "exit status for $args" 2 "$rc"
    grep -q "dcn-hoster: " "$T/bad.err" && pass "$args: $(head -1 "$T/bad.err")" || bad "$args: no message"
done
finish
