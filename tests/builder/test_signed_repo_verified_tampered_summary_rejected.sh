#!/bin/bash
# A signed repo: a client with gpg-verify and gpg-verify-summary and the
# public key (exported next to the repo) pulls; a tampered summary is
# rejected; a client with another key is rejected. The kickstart of a signed
# repo verifies (no --nogpg) and imports the key served next to the repo.
source "$(dirname "$0")/lib.sh"
cd "$T"
make_gpg_key
make_tree rootfs 1
write_def def.yaml "sign:" "  gpg_key_id: $KEYID" "  gpg_homedir: $GNUPGHOME"
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose"
builder publish -f def.yaml >/dev/null 2>&1 || fail "publish"
[[ -s root/dcn-edge.gpg ]] || fail "no public key next to the repo"
[[ -s root/repo/summary.sig ]] || fail "no summary.sig"
serve_root "$T/root"

new_client client --set=gpg-verify=true --set=gpg-verify-summary=true --gpg-import=root/dcn-edge.gpg
ostree --repo=client pull dcn "$REF" >/dev/null || fail "verifying client cannot pull the signed repo"
ostree --repo=client show --gpg-verify-remote=dcn "dcn:$REF" | grep -q "Good signature" || fail "commit signature not good"
pass "verifying client pulled; commit signature good"

cp root/repo/summary summary.orig
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[-40]^=1; open(p,'wb').write(b)" root/repo/summary
# no newer than its signature: to dcn-hoster a complete pair (a newer summary
# would be a publish in progress, and the last complete pair served instead)
touch -r root/repo/summary.sig root/repo/summary
new_client client2 --set=gpg-verify=true --set=gpg-verify-summary=true --gpg-import=root/dcn-edge.gpg
if ostree --repo=client2 pull dcn "$REF" >/dev/null 2>"$T/err"; then fail "tampered summary accepted"; fi
grep -qi "signature\|gpg" "$T/err" || { cat "$T/err"; fail "tampered summary rejected for another reason"; }
pass "tampered summary rejected: $(head -n1 "$T/err")"
cp summary.orig root/repo/summary && touch -r root/repo/summary.sig root/repo/summary

GNUPGHOME=$T/other make_gpg_key
GNUPGHOME=$T/other gpg --export >other.gpg
new_client client3 --set=gpg-verify=true --set=gpg-verify-summary=true --gpg-import=other.gpg
if ostree --repo=client3 pull dcn "$REF" >/dev/null 2>&1; then fail "client with another key accepted the repo"; fi
pass "client trusting another key rejected the repo"

ks=root/dcn-edge.ks
grep -q '^ostreesetup --osname=rhel --remote=rhel --url=@REPO_URL@ --ref=@REF@$' $ks || { cat $ks; fail "signed kickstart: ostreesetup must verify"; }
grep -qx "curl -fsS -o /usr/share/ostree/trusted.gpg.d/dcn-edge.gpg '@URL@/dcn-edge.gpg'" $ks || fail "kickstart does not fetch the key"
grep -q 'ostree remote gpg-import --keyring=/etc/pki/dcn-edge-ostree.gpg rhel' $ks || fail "kickstart does not import the key"
# documented check (ksvalidator is not packaged in Debian 12): sections balanced, only known placeholders
[[ $(grep -c '^%pre\|^%post' $ks) == $(grep -c '^%end' $ks) ]] || fail "unbalanced %sections"
# (in commands: comment lines are served as they are)
[[ -z $(grep -v '^[[:blank:]]*#' $ks | grep -o '@[A-Z_]*@' | sort -u | grep -v -e '@URL@' -e '@REPO_URL@' -e '@REF@') ]] || fail "unknown placeholder"
pass "kickstart verifies signatures and installs the served key"
curl -fsS "$URL/dcn-edge.ks" >served.ks || fail "dcn-hoster does not serve the kickstart"
grep -q "^ostreesetup --osname=rhel --remote=rhel --url=$URL/repo --ref=$REF\$" served.ks || { cat served.ks; fail "served kickstart not rendered"; }
curl -fsS "$URL/dcn-edge.gpg" | cmp - root/dcn-edge.gpg || fail "public key not served next to the repo"
pass "dcn-hoster serves the rendered kickstart and the public key"
echo "1 passed, 0 failed"
