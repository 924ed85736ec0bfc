#!/bin/bash
# dcn-hoster with its root, and its access log (stdout), on a full file
# system (issue 11, kill and fill). It only reads the root; the one thing it
# writes is the log. Checked: with the disk full, GETs of files, the summary
# pair and /-/metrics are answered in full (no hang, no crash: each request
# has a deadline), the log lines that cannot be written are dropped; once
# space is freed, log lines are written again without a restart. Runs as
# root (mount); skipped otherwise.
source "$(dirname "$0")/lib.sh"
cd "$T"
mkdir -p full
mount -t tmpfs -o size=2m dcn-test "$T/full" 2>/dev/null || skip "cannot mount a tmpfs here (needs root)"
on_exit "umount -l '$T/full'"
mkdir -p full/root/repo/objects
printf '[core]\nrepo_version=1\nmode=archive-z2\n' >full/root/repo/config
head -c 5000 /dev/urandom >full/root/repo/summary
head -c 300 /dev/urandom >full/root/repo/summary.sig
touch -d '+1 second' full/root/repo/summary.sig
head -c 300000 /dev/urandom >full/root/big.bin
hoster_start full/hoster --root "$T/full/root" --ops-listen 127.0.0.1:0
OPS=$(sed -n 's|^dcn-hoster: listening on http://[^ ]*:\([0-9]*\)/ (operations.*|\1|p' "$HOSTER_ERR" | head -n1)
curl -sS --noproxy '*' -o /dev/null "$URL/big.bin" || fail "GET before the disk is full"
hoster_flush_log
lines_before=$(wc -l <"$HOSTER_LOG")
[[ $lines_before -ge 1 ]] || fail "no access log line before the disk is full"

# fill the file system
dd if=/dev/zero of=full/filler bs=64k 2>/dev/null || true
[[ $(df -k --output=avail "$T/full" | tail -n1) -eq 0 ]] || fail "the file system is not full"
for i in $(seq 1 20); do
    code=$(curl -sS --noproxy '*' -m 5 -o got.bin -w '%{http_code}' "$URL/big.bin") || fail "GET $i with the disk full: no answer"
    [[ $code == 200 ]] && cmp -s got.bin full/root/big.bin || fail "GET $i with the disk full: $code"
done
code=$(curl -sS --noproxy '*' -m 5 -o got.sig -w '%{http_code}' "$URL/repo/summary.sig" -o got.summary "$URL/repo/summary") || fail "summary pair with the disk full"
cmp -s got.sig full/root/repo/summary.sig && cmp -s got.summary full/root/repo/summary || fail "summary pair with the disk full"
metrics=$(curl -sS --noproxy '*' -m 5 -f "http://127.0.0.1:$OPS/-/metrics") || fail "metrics with the disk full: no answer"
grep -q '^dcn_hoster_requests_total' <<<"$metrics" || fail "metrics with the disk full"
kill -0 "$HOSTER_PID" || fail "dcn-hoster died"
pass "disk full: files, the summary pair and metrics served; the log lines dropped"

# free the space: logging goes on by itself
rm -f full/filler
hoster_flush_log
lines_mid=$(wc -l <"$HOSTER_LOG")
curl -sS --noproxy '*' -o /dev/null "$URL/big.bin?after" || fail "GET after freeing space"
hoster_flush_log
grep -q 'path="/big.bin' <(tail -n +$((lines_mid + 1)) "$HOSTER_LOG") || fail "no access log line after space was freed"
pass "space freed: access log lines written again, same process"
echo "1 passed, 0 failed"
