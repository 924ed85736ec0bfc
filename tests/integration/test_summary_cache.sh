#!/bin/bash
# Signed summary and conditional requests: a libostree client with
# gpg-verify=true keeps the summary cached and revalidates summary.sig /
# summary with If-None-Match / If-Modified-Since (304), and after a re-publish
# always gets the new summary (200) and the new commit, never a stale one,
# even when the new summary has the same size and the same mtime second.
source "$(dirname "$0")/lib.sh"

REF=rhel/9/x86_64/edge
make_sample_root "$T/root"
SRV=$T/root/repo
V2=$(ostree --repo="$SRV" rev-parse "$REF")

# ---- a signing key, no passphrase, in a private GNUPGHOME ---------------------
G=$T/gnupg
mkdir -m 700 "$G"
on_exit "gpgconf --homedir '$G' --kill all >/dev/null 2>&1"
gpg --homedir "$G" --batch --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'DCN test <dcn-test@example.invalid>' ed25519 sign never 2>/dev/null
KEY=$(gpg --homedir "$G" --batch --with-colons --list-keys 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
[[ ${#KEY} -eq 40 ]] || fail "no GPG key generated"
gpg --homedir "$G" --batch --export "$KEY" >"$T/pub.gpg"

sign_publish() { # sign_publish COMMIT: sign COMMIT, update and sign the summary
    ostree --repo="$SRV" gpg-sign "$1" "$KEY" --gpg-homedir="$G"
    ostree --repo="$SRV" summary -u --gpg-sign="$KEY" --gpg-homedir="$G"
}
# Sign the sample commits, then re-make their deltas: a delta superblock embeds
# the commit's detached metadata (the signatures) as it was when generated.
V1=$(ostree --repo="$SRV" rev-parse "$REF^")
ostree --repo="$SRV" gpg-sign "$V1" "$KEY" --gpg-homedir="$G"
ostree --repo="$SRV" gpg-sign "$V2" "$KEY" --gpg-homedir="$G"
ostree --repo="$SRV" static-delta delete "$V1-$V2" >/dev/null
ostree --repo="$SRV" static-delta delete "$V2" >/dev/null
ostree --repo="$SRV" static-delta generate --from="$V1" --to="$V2" --min-fallback-size=0 >/dev/null 2>&1
ostree --repo="$SRV" static-delta generate --empty --to="$V2" >/dev/null 2>&1
ostree --repo="$SRV" summary -u --gpg-sign="$KEY" --gpg-homedir="$G"
[[ -s $SRV/summary.sig ]] || fail "summary.sig was not written"

hoster_start summary --root "$T/root"

# ---- conditional requests with curl --------------------------------------------
curl -sS -o /dev/null -D "$T/h1" "$URL/repo/summary"
E1=$(hdr "$T/h1" etag); LM1=$(hdr "$T/h1" last-modified)
[[ $E1 == \"*\" ]] || fail "summary ETag is not a strong quoted ETag: '$E1'"
[[ -n $LM1 ]] || fail "summary has no Last-Modified"
require_eq "summary Cache-Control" no-cache "$(hdr "$T/h1" cache-control)"
require_eq "summary with If-None-Match = current ETag" 304 "$(http_code "$URL/repo/summary" -H "If-None-Match: $E1")"
LM1_UTC=${LM1/GMT/UTC}
require_eq "summary with If-Modified-Since ($LM1_UTC)" 304 "$(http_code "$URL/repo/summary" -H "If-Modified-Since: $LM1_UTC")"
require_eq "summary with a wrong If-None-Match and a matching If-Modified-Since (If-None-Match wins)" 200 \
    "$(http_code "$URL/repo/summary" -H 'If-None-Match: "nope"' -H "If-Modified-Since: $LM1")"
pass "summary: ETag/Last-Modified, 304 on If-None-Match and on If-Modified-Since (UTC spelling)"

# ---- client with gpg-verify=true ------------------------------------------------
C=$T/client
ostree init --repo="$C" --mode=bare-user
ostree remote add --repo="$C" --set=gpg-verify=true --set=gpg-verify-summary=true origin "$URL/repo"
ostree remote gpg-import --repo="$C" origin -k "$T/pub.gpg" >/dev/null
pull() { ostree --repo="$C" pull origin "$REF" >"$T/pull.out" 2>&1 || { cat "$T/pull.out" >&2; fail "pull ($1) failed"; }; }

pull first
require_eq "ref after the first pull" "$V2" "$(ostree --repo="$C" rev-parse "origin:$REF")"

log_mark
pull second
hoster_flush_log
sig=$(log_status /repo/summary.sig | sort -u | tr '\n' ' ')
sum=$(log_status /repo/summary | sort -u | tr '\n' ' ')
require_eq "summary.sig status on the second pull" "304 " "$sig"
[[ -z $sum || $sum == "304 " ]] || fail "summary status on the second pull: expected 304 or no request, got '$sum'"
pass "second pull revalidates: summary.sig 304, summary ${sum:-not requested}"

# ---- re-publish: a new signed commit and summary ---------------------------------
mkdir -p "$T/extra/etc/dcn"
echo "3.0.0" >"$T/extra/etc/dcn/hotfix"
commit_next() { # commit_next VERSION PARENT -> checksum
    ostree --repo="$SRV" commit --branch="$REF" --parent="$2" --tree=ref="$2" --tree=dir="$T/extra" \
        --owner-uid=0 --owner-gid=0 --add-metadata-string=version="$1" --subject="DCN sample $1"
}
V3=$(commit_next 3.0.0 "$V2")
sign_publish "$V3"
# Both mtimes in one second S (fractions .1 here, .9 for the next publish).
S=$(date +%s)
touch -d "@$S.100000000" "$SRV/summary" "$SRV/summary.sig"

require_eq "summary with the old ETag after re-publish" 200 "$(http_code "$URL/repo/summary" -H "If-None-Match: $E1")"
curl -sS -o "$T/summary.new" -H "If-None-Match: $E1" "$URL/repo/summary"
cmp -s "$T/summary.new" "$SRV/summary" || fail "summary body after re-publish is not the new file"
require_eq "summary with the old If-Modified-Since after re-publish" 200 "$(http_code "$URL/repo/summary" -H "If-Modified-Since: $LM1_UTC")"
pass "after re-publish the old validators get 200 and the new bytes"

log_mark
pull third
hoster_flush_log
require_eq "summary.sig status after re-publish" "200 " "$(log_status /repo/summary.sig | sort -u | tr '\n' ' ')"
require_eq "summary status after re-publish" "200 " "$(log_status /repo/summary | sort -u | tr '\n' ' ')"
require_eq "ref after re-publish" "$V3" "$(ostree --repo="$C" rev-parse "origin:$REF")"
pass "pull after re-publish: summary.sig 200, summary 200, new commit $V3"

# ---- re-publish again within the same second, same summary size ------------------
size3=$(stat -c %s "$SRV/summary")
echo "4.0.0" >"$T/extra/etc/dcn/hotfix"
V4=$(commit_next 4.0.0 "$V3")
sign_publish "$V4"
touch -d "@$S.900000000" "$SRV/summary" "$SRV/summary.sig"
size4=$(stat -c %s "$SRV/summary")
log_mark
pull fourth
hoster_flush_log
require_eq "summary.sig status after a same-second re-publish" "200 " "$(log_status /repo/summary.sig | sort -u | tr '\n' ' ')"
require_eq "ref after a same-second re-publish (summary $size3 -> $size4 bytes)" "$V4" "$(ostree --repo="$C" rev-parse "origin:$REF")"
ostree --repo="$C" fsck >/dev/null 2>"$T/fsck.err" || { cat "$T/fsck.err" >&2; fail "client fsck"; }
pass "same-second re-publish (summary $size3 -> $size4 bytes): new summary and commit $V4, fsck clean"

hoster_stop
pass "test_summary_cache"
