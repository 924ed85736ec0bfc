#!/bin/bash
# Kickstart templates: @URL@, @REPO_URL@, @REF@, @COMMIT@ filled in from
# --public-url or from the Host header, in commands only (comment lines, also
# shell comments in %post, are served as they are); other @...@ text left
# alone; an invalid Host gets 400 when it is needed (and only then);
# text/plain, no-cache, Content-Length of the filled-in body.
source "$(dirname "$0")/lib.sh"

REF=rhel/9/x86_64/edge
make_sample_root "$T/root"
COMMIT=$(ostree --repo="$T/root/repo" rev-parse "$REF")
grep -q '@REPO_URL@' "$T/root/dcn.ks" && grep -q '@REF@' "$T/root/dcn.ks" || fail "sample dcn.ks lacks @REPO_URL@/@REF@"
mkdir -p "$T/root/site/a"
cat >"$T/root/site/a/extra.ks" <<'EOF'
# comment: @URL@ and @REF@ stay as they are
url --url=@URL@/iso # @FOO@ stays, @REF stays, user@example.com stays, @@ stays
ostreesetup --osname=rhel --url=@REPO_URL@ --ref=@REF@
%post
  # a shell comment: @COMMIT@ stays
echo "commit @COMMIT@ @REF@@REF@ @BAR@"
%end
EOF

# expected TEMPLATE URL: the template with the placeholders filled in, but not in comment lines.
expected() {
    sed -e "/^[[:blank:]]*#/!{s|@REPO_URL@|$2/repo|g;s|@URL@|$2|g;s|@REF@|$REF|g;s|@COMMIT@|$COMMIT|g}" "$1"
}
# check_ks PATH BASEURL WHAT [curl args...]: GET PATH, compare with the filled-in template.
check_ks() {
    local path=$1 base=$2 what=$3; shift 3
    curl -sS -D "$T/ks.h" -o "$T/ks.got" "$@" "$URL$path"
    require_eq "status of $path ($what)" 200 "$(head -n1 "$T/ks.h" | tr -d '\r' | cut -d' ' -f2)"
    expected "$T/root$path" "$base" >"$T/ks.want"
    diff -u "$T/ks.want" "$T/ks.got" >"$T/ks.diff" || { cat "$T/ks.diff" >&2; fail "$path ($what): body differs from the filled-in template"; }
    require_eq "Content-Length of $path ($what)" "$(stat -c %s "$T/ks.got")" "$(hdr "$T/ks.h" content-length)"
    local ct; ct=$(hdr "$T/ks.h" content-type)
    [[ $ct == text/plain* ]] || fail "Content-Type of $path: '$ct'"
    require_eq "Cache-Control of $path" no-cache "$(hdr "$T/ks.h" cache-control)"
    [[ -z $(hdr "$T/ks.h" content-encoding) ]] || fail "$path has a Content-Encoding"
}

# ---- 1. with --public-url -------------------------------------------------------------
hoster_start ks-public --root "$T/root" --public-url https://dcn.apps.example.com
check_ks /dcn.ks https://dcn.apps.example.com "--public-url"
grep -qx 'ostreesetup --nogpg --osname=rhel --remote=edge --url=https://dcn.apps.example.com/repo --ref=rhel/9/x86_64/edge' "$T/ks.got" \
    || fail "dcn.ks: no ostreesetup line with the public repo URL and ref"
require_eq "Content-Type of dcn.ks" "text/plain; charset=utf-8" "$(hdr "$T/ks.h" content-type)"
check_ks /site/a/extra.ks https://dcn.apps.example.com "nested, unknown placeholders"
grep -qF '# @FOO@ stays, @REF stays, user@example.com stays, @@ stays' "$T/ks.got" || fail "unknown @FOO@ text was changed"
grep -qF "@BAR@" "$T/ks.got" || fail "@BAR@ was changed"
grep -qx '# comment: @URL@ and @REF@ stay as they are' "$T/ks.got" || fail "placeholders in a comment line were filled in"
grep -qx '  # a shell comment: @COMMIT@ stays' "$T/ks.got" || fail "placeholders in a %post comment were filled in"
grep -qx "echo \"commit $COMMIT $REF$REF @BAR@\"" "$T/ks.got" || fail "placeholders in a %post command were not filled in"
# With --public-url the Host is not needed for the URL, but an invalid one
# is still a malformed request (RFC 9112 3.2: 400 for any path).
require_eq "kickstart with --public-url, invalid Host" 400 "$(http_code "$URL/dcn.ks" -H 'Host: evil.com/x')"
check_ks /dcn.ks https://dcn.apps.example.com "--public-url, no Host needed" -H 'Host: other.example:81'
# HEAD: same length, no body.
curl -sS -I -o "$T/head.h" "$URL/dcn.ks"
curl -sS -o "$T/get.body" "$URL/dcn.ks"
require_eq "HEAD /dcn.ks Content-Length" "$(stat -c %s "$T/get.body")" "$(hdr "$T/head.h" content-length)"
hoster_stop
pass "--public-url: placeholders filled in (not in comment lines), unknown ones kept, text/plain; charset=utf-8, no-cache, exact Content-Length"

# ---- 2. from the Host header --------------------------------------------------------------
hoster_start ks-host --root "$T/root"
check_ks /dcn.ks "http://dcn.example.com:8080" "Host with port" -H 'Host: dcn.example.com:8080'
grep -qx 'ostreesetup --nogpg --osname=rhel --remote=edge --url=http://dcn.example.com:8080/repo --ref=rhel/9/x86_64/edge' "$T/ks.got" \
    || fail "dcn.ks: no ostreesetup line with the Host-derived repo URL"
check_ks /dcn.ks "http://dcn.example.com" "Host without port" -H 'Host: dcn.example.com'
check_ks /dcn.ks "http://127.0.0.1:$PORT" "curl's own Host"
check_ks /dcn.ks "http://[::1]:8080" "IPv6 literal Host" -H 'Host: [::1]:8080'
check_ks /site/a/extra.ks "http://10.0.0.5" "IPv4 Host" -H 'Host: 10.0.0.5'
pass "Host header: host:port, host, IPv4, IPv6 literal"

for bad in 'evil.com/x' 'evil.com x' '[::1' '[::1:8080' 'evil.com:80x' 'user@evil.com' 'evil.com"x' 'a/../c'; do
    require_eq "kickstart with Host '$bad'" 400 "$(http_code "$URL/dcn.ks" -H "Host: $bad")"
done
require_eq "kickstart with an empty Host" 400 "$(http_code "$URL/dcn.ks" -H 'Host;')"
require_eq "kickstart over HTTP/1.1 without Host" 400 "$(http_code "$URL/dcn.ks" -H 'Host:')"
# An invalid Host is refused for every path (RFC 9112 3.2), not only kickstarts.
require_eq "repo/config with Host 'evil.com/x'" 400 "$(http_code "$URL/repo/config" -H 'Host: evil.com/x')"
require_eq "kickstart after the 400s" 200 "$(http_code "$URL/dcn.ks")"
hoster_stop
pass "invalid Host -> 400"

# ---- 3. --ref -------------------------------------------------------------------------------
V1=$(ostree --repo="$T/root/repo" rev-parse "$REF^")
ostree --repo="$T/root/repo" refs --create=rhel/9/x86_64/other "$V1"
hoster_start ks-ref --root "$T/root" --public-url http://inst.example --ref rhel/9/x86_64/other
curl -sS -o "$T/ks.got" "$URL/dcn.ks"
grep -qx 'ostreesetup --nogpg --osname=rhel --remote=edge --url=http://inst.example/repo --ref=rhel/9/x86_64/other' "$T/ks.got" \
    || fail "--ref: $(grep ostreesetup "$T/ks.got")"
grep -qx "echo \"installed from http://inst.example/repo ref rhel/9/x86_64/other commit $V1\" > /etc/dcn-install-source" "$T/ks.got" \
    || fail "--ref: @COMMIT@ is not the commit of that ref: $(grep installed "$T/ks.got")"
hoster_stop
pass "--ref: @REF@ and @COMMIT@ follow it"
pass "test_kickstart"
