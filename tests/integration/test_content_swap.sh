#!/bin/bash
# Content swap without restart: (1) the root is a symlink re-pointed
# atomically from A to B; (2) the root directory is replaced by rename and
# dcn-hoster gets SIGHUP; (3) a file rewritten in place (same size and mtime)
# is served anew after SIGHUP. New requests see the new content; a large
# download in flight during each swap completes with the old bytes.
source "$(dirname "$0")/lib.sh"

REF=rhel/9/x86_64/edge
BIG=50M      # size of the large file
RATE=10M     # download rate: the download takes about 5 s

# ---- content: A (sample, 2.0.0) and B (A plus a commit 3.0.0) ------------------
make_sample_root "$T/A"
VA=$(ostree --repo="$T/A/repo" rev-parse "$REF")
cp -a "$T/A" "$T/B"
mkdir -p "$T/extra/etc/dcn" && echo B >"$T/extra/etc/dcn/content-b"
VB=$(ostree --repo="$T/B/repo" commit --branch="$REF" --parent="$VA" --tree=ref="$VA" --tree=dir="$T/extra" \
    --owner-uid=0 --owner-gid=0 --add-metadata-string=version=3.0.0 --subject="content B")
ostree --repo="$T/B/repo" summary -u
[[ $VA != "$VB" ]] || fail "A and B have the same commit"
head -c "$BIG" /dev/urandom >"$T/A/big.bin"
head -c "$BIG" /dev/urandom >"$T/B/big.bin"
SUM_A=$(sha256sum <"$T/A/big.bin")
SUM_B=$(sha256sum <"$T/B/big.bin")

ref_now() { curl -sS "$URL/repo/refs/heads/$REF"; }

# start_download NAME: a rate-limited download of /big.bin into $T/NAME in the
# background (DL_PID), returning once it has received at least 1 MB.
start_download() {
    curl -sS --limit-rate "$RATE" -o "$T/$1" "$URL/big.bin" &
    DL_PID=$!
    track_pid "$DL_PID"
    local i
    for i in $(seq 1 100); do
        [[ $(stat -c %s "$T/$1" 2>/dev/null || echo 0) -ge 1048576 ]] && return 0
        sleep 0.05
    done
    fail "download $1 did not start"
}
# finish_download NAME EXPECTED_SHA256
finish_download() {
    local rc=0
    wait "$DL_PID" || rc=$?
    require_eq "curl exit status of download $1" 0 "$rc"
    require_eq "size of download $1" "$(stat -c %s "$T/A/big.bin")" "$(stat -c %s "$T/$1")"
    [[ $(sha256sum <"$T/$1") == "$2" ]] || fail "download $1: bytes differ from the file it started on"
}

# ---- 1. symlink root re-pointed from A to B ---------------------------------------
ln -s A "$T/root"
hoster_start swap --root "$T/root"
require_eq "ref served from A" "$VA" "$(ref_now)"
C=$T/client
ostree init --repo="$C" --mode=archive
ostree remote add --repo="$C" --no-gpg-verify origin "$URL/repo"
ostree --repo="$C" pull origin "$REF" >/dev/null || fail "pull from A failed"
require_eq "client ref after pulling from A" "$VA" "$(ostree --repo="$C" rev-parse "origin:$REF")"

start_download dl-symlink
ln -sfn B "$T/root.tmp" && mv -T "$T/root.tmp" "$T/root"
kill -0 "$DL_PID" 2>/dev/null || fail "the download finished before the swap; the test proves nothing"
require_eq "ref right after re-pointing the root to B" "$VB" "$(ref_now)"
curl -sS -o "$T/summary.got" "$URL/repo/summary"
cmp -s "$T/summary.got" "$T/B/repo/summary" || fail "summary right after the swap is not B's"
ostree --repo="$C" pull origin "$REF" >/dev/null || fail "pull from B failed"
require_eq "client ref after the swap" "$VB" "$(ostree --repo="$C" rev-parse "origin:$REF")"
ostree --repo="$C" fsck >/dev/null 2>"$T/fsck.err" || { cat "$T/fsck.err" >&2; fail "client fsck after the swap"; }
finish_download dl-symlink "$SUM_A"
[[ $(sha256sum <"$T/B/big.bin") == "$SUM_B" ]] || fail "B/big.bin changed"
curl -sS -o "$T/dl-after" "$URL/big.bin"
[[ $(sha256sum <"$T/dl-after") == "$SUM_B" ]] || fail "big.bin requested after the swap is not B's"
hoster_stop
pass "symlink swap A -> B: new requests and pulls see B at once, the download in flight got A's bytes"

# ---- 2. root directory replaced by rename, then SIGHUP ------------------------------
cp -al "$T/A" "$T/srv"
cp -al "$T/B" "$T/B2"
hoster_start hup --root "$T/srv"
require_eq "ref served from srv (A)" "$VA" "$(ref_now)"
start_download dl-hup
mv -T "$T/srv" "$T/srv.old" && mv -T "$T/B2" "$T/srv"
kill -HUP "$HOSTER_PID"
seen=
for i in $(seq 1 40); do
    [[ $(ref_now) == "$VB" ]] && { seen=$i; break; }
    sleep 0.05
done
[[ -n $seen ]] || fail "2 s after SIGHUP the ref is still $(ref_now), not B's $VB"
kill -0 "$DL_PID" 2>/dev/null || fail "the download finished before SIGHUP took effect; the test proves nothing"
finish_download dl-hup "$SUM_A"
kill -0 "$HOSTER_PID" 2>/dev/null || fail "dcn-hoster is gone after SIGHUP"
require_eq "/-/live after SIGHUP" 200 "$(http_code "$URL/-/live")"
pass "directory swap + SIGHUP: B served, same process, the download in flight got A's bytes"

# ---- 3. in-place rewrite (same size, same mtime) + SIGHUP drops cached files ------------
printf 'message one\n' >"$T/srv/motd.txt"
for i in 1 2 3; do require_eq "motd.txt before the rewrite" "message one" "$(curl -sS "$URL/motd.txt")"; done
touch -r "$T/srv/motd.txt" "$T/motd.stamp"
printf 'message two\n' >"$T/srv/motd.txt"     # same inode, same size
touch -r "$T/motd.stamp" "$T/srv/motd.txt"     # same mtime
kill -HUP "$HOSTER_PID"
got=
for i in $(seq 1 40); do
    got=$(curl -sS "$URL/motd.txt")
    [[ $got == "message two" ]] && break
    sleep 0.05
done
require_eq "motd.txt 2 s after an in-place rewrite and SIGHUP" "message two" "$got"
hoster_stop
pass "SIGHUP drops cached files: an in-place rewrite with the same size and mtime is served"
pass "test_content_swap"
