#!/bin/bash
# Real `ostree pull` clients (Debian's libostree, libcurl backend) against
# dcn-hoster: full pulls into archive and bare-user repos without deltas, and
# a bare-user upgrade 1.0.0 -> 2.0.0 that uses the static delta (with the
# `--commit-metadata-only` workaround for libostree 2022.2-2023.6, see
# shared design.md "Deltas and real clients").
source "$(dirname "$0")/lib.sh"

REF=rhel/9/x86_64/edge
make_sample_root "$T/root"
SRV=$T/root/repo
V2=$(ostree --repo="$SRV" rev-parse "$REF")
V1=$(ostree --repo="$SRV" rev-parse "$REF^")
[[ $V1 != "$V2" ]] || fail "sample repo: 1.0.0 and 2.0.0 are the same commit"

hoster_start pull --root "$T/root"

new_client() { # new_client DIR MODE
    ostree init --repo="$1" --mode="$2"
    ostree remote add --repo="$1" --no-gpg-verify origin "$URL/repo"
}

# ---- 1. full pull, no deltas, archive client --------------------------------
C=$T/client-archive
new_client "$C" archive
log_mark
ostree --repo="$C" pull --disable-static-deltas origin "$REF" >/dev/null || fail "archive pull failed"
ostree --repo="$C" fsck >/dev/null 2>"$T/fsck.err" || { cat "$T/fsck.err" >&2; fail "archive client fsck"; }
require_eq "archive client ref" "$V2" "$(ostree --repo="$C" rev-parse "origin:$REF")"
hoster_flush_log
ndelta=$(log_since_mark | grep -c 'path="/repo/delta' || true)
require_eq "delta requests during a --disable-static-deltas pull" 0 "$ndelta"
nlog=$(log_since_mark | grep -F ' status=200 ' | grep -c 'path="/repo/objects/' || true)
# Every object the archive client now holds was fetched with status 200, and
# the fetched bytes equal the server's files (archive objects are stored as served).
(cd "$C" && find objects -type f -name '*.*' | sort) >"$T/client-objects"
log_since_mark | grep -F ' status=200 ' | sed -n 's|.*path="/repo/\(objects/[^"]*\)".*|\1|p' | sort -u >"$T/fetched-objects"
n_client=$(wc -l <"$T/client-objects")
[[ $n_client -gt 300 ]] || fail "archive client holds only $n_client objects"
require_eq "object requests logged for the archive pull (one per object)" "$n_client" "$nlog"
diff "$T/client-objects" "$T/fetched-objects" >"$T/objdiff" || { head "$T/objdiff" >&2; fail "objects fetched with 200 != objects the client holds"; }
while read -r o; do
    cmp -s "$C/$o" "$SRV/$o" || fail "archive client object $o differs from the server's"
done <"$T/client-objects"
pass "archive pull without deltas: $n_client objects, each fetched once with 200, fsck clean"

# ---- 2. full pull, no deltas, bare-user client --------------------------------
C=$T/client-bare
new_client "$C" bare-user
ostree --repo="$C" pull --disable-static-deltas origin "$REF" >/dev/null || fail "bare-user pull failed"
ostree --repo="$C" fsck >/dev/null 2>"$T/fsck.err" || { cat "$T/fsck.err" >&2; fail "bare-user client fsck"; }
require_eq "bare-user client ref" "$V2" "$(ostree --repo="$C" rev-parse "origin:$REF")"
ostree --repo="$SRV" ls -R -C "$V2" >"$T/ls-server"
ostree --repo="$C" ls -R -C "$V2" >"$T/ls-client"
diff -q "$T/ls-server" "$T/ls-client" >/dev/null || fail "bare-user client tree listing differs from the server's"
pass "bare-user pull without deltas: fsck clean, tree identical"

# ---- 3. upgrade 1.0.0 -> 2.0.0 over the static delta (bare-user) -------------
C=$T/client-upgrade
new_client "$C" bare-user
ostree --repo="$C" pull --disable-static-deltas origin "$REF@$V1" >/dev/null || fail "pull of 1.0.0 failed"
require_eq "client ref after pulling 1.0.0" "$V1" "$(ostree --repo="$C" rev-parse "origin:$REF")"

DELTA=/repo/$(delta_path "$V1" "$V2")
[[ -f $T/root$DELTA/superblock && -f $T/root$DELTA/0 ]] || fail "sample repo lacks the delta $DELTA"
log_mark
# Workaround for the libostree 2022.2-2023.6 race (upstream fix fc5aef6f):
# fetch the commit metadata first, then the content.
ostree --repo="$C" pull --commit-metadata-only origin "$REF" >/dev/null || fail "commit-metadata-only pull failed"
ostree --repo="$C" pull origin "$REF" >"$T/upgrade.out" 2>&1 || { cat "$T/upgrade.out" >&2; fail "upgrade pull failed"; }
hoster_flush_log
require_eq "status of $DELTA/superblock during the upgrade" "200 " "$(log_status "$DELTA/superblock" | sort -u | tr '\n' ' ')"
require_eq "status of $DELTA/0 during the upgrade" "200 " "$(log_status "$DELTA/0" | sort -u | tr '\n' ' ')"
# With --min-fallback-size=0 the delta carries every changed file: no file objects.
nfilez=$(log_since_mark | grep -c 'path="/repo/objects/[^"]*\.filez"' || true)
require_eq "file objects fetched next to the delta during the upgrade" 0 "$nfilez"
# The part's bytes in the log are the file's size.
part_bytes=$(log_since_mark | grep -F "path=\"$DELTA/0\" " | sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' | head -n1)
require_eq "logged bytes of delta part 0" "$(stat -c %s "$T/root$DELTA/0")" "$part_bytes"
ostree --repo="$C" fsck >/dev/null 2>"$T/fsck.err" || { cat "$T/fsck.err" >&2; fail "upgraded client fsck"; }
require_eq "client ref after the upgrade" "$V2" "$(ostree --repo="$C" rev-parse "origin:$REF")"
ostree --repo="$C" checkout -U "origin:$REF" "$T/checkout"
grep -qx 'VERSION_ID="2.0.0"' "$T/checkout/usr/etc/dcn/release" || fail "checked-out tree is not 2.0.0: $(cat "$T/checkout/usr/etc/dcn/release")"
require_eq "symlink in the checkout" dcn-agent "$(readlink "$T/checkout/usr/bin/dcn")"
pass "upgrade 1.0.0 -> 2.0.0: superblock and part 0 fetched (200), no file objects, fsck clean, ref = 2.0.0"

hoster_stop
pass "test_ostree_pull"
