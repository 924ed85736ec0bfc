# Helpers for dcn-builder's integration tests. Source it after setting
# nothing: ctest sets DCN_BUILDER, DCN_SOURCE_DIR and (when the target
# exists) DCN_HOSTER. Builds on tests/integration/lib.sh ($T, the vocabulary
# of tests/lib/: fail, pass, require_eq, json_get ...; hoster_start, cleanup
# on exit).
#
# serve_root DIR serves DIR over loopback HTTP with dcn-hoster. A build
# without dcn-hoster skips (77) the tests that need it (need_hoster says
# why); a dcn-hoster that does not start fails them.
: "${DCN_BUILDER:?DCN_BUILDER must point at the dcn-builder binary (ctest sets it)}"
: "${DCN_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# ctest leaves DCN_HOSTER unset when the build has no dcn-hoster target;
# tests/integration/lib.sh wants it set, and only need_hoster looks at it.
HOSTER_BUILT=${DCN_HOSTER:+1}
export DCN_HOSTER=${DCN_HOSTER:-"(not built)"}
set -euo pipefail
# shellcheck source=../integration/lib.sh
source "$DCN_SOURCE_DIR/tests/integration/lib.sh" || exit 1
[[ -d ${T:-} ]] || { echo "FAIL: tests/integration/lib.sh did not make \$T" >&2; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export GNUPGHOME=$T/no-gnupg # never touch the user's keyring

REF=rhel/9/x86_64/edge

builder() { "$DCN_BUILDER" "$@"; }

# make_tree DIR VARIANT: a small root filesystem. Variant 2 changes one
# file, adds one and removes one relative to variant 1.
make_tree() {
    local d=$1 v=$2
    rm -rf "$d"; mkdir -p "$d"/usr/bin "$d"/usr/lib/dcn "$d"/etc/dcn "$d"/var/empty
    printf '#!/bin/sh\necho hello %s\n' "$v" >"$d"/usr/bin/hello; chmod 755 "$d"/usr/bin/hello
    ln -s /usr/bin/hello "$d"/usr/bin/hi          # absolute symlink, kept as is
    ln -s ../lib/dcn "$d"/usr/bin/dcn-lib         # relative symlink
    # bigger files so deltas have something to do (deterministic content)
    python3 -c "import random,sys; r=random.Random(1); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(300000)))" >"$d"/usr/lib/dcn/blob1
    python3 -c "import random,sys; r=random.Random(2); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(200000)))" >"$d"/usr/lib/dcn/blob2
    # deployable by ostree admin deploy: a (stand-in) kernel and an ID
    mkdir -p "$d"/usr/lib/modules/6.1.0-dcn
    echo "stand-in kernel" >"$d"/usr/lib/modules/6.1.0-dcn/vmlinuz
    echo "stand-in initramfs" >"$d"/usr/lib/modules/6.1.0-dcn/initramfs.img
    printf 'NAME="DCN test"\nID=dcn\nVERSION_ID="%s.0.0"\n' "$v" >"$d"/usr/lib/os-release
    echo "setting=1" >"$d"/etc/dcn/dcn.conf; chmod 600 "$d"/etc/dcn/dcn.conf
    echo "only in v1" >"$d"/etc/dcn/old.conf
    chmod 1777 "$d"/var/empty
    if [[ $v == 2 ]]; then
        rm "$d"/etc/dcn/old.conf
        echo "added in v2" >"$d"/etc/dcn/new.conf
        python3 -c "import random,sys; r=random.Random(1); b=bytearray(r.getrandbits(8) for _ in range(300000)); b[1000:1010]=b'v2v2v2v2v2'; sys.stdout.buffer.write(b)" >"$d"/usr/lib/dcn/blob1
    fi
}

# write_def FILE [extra yaml lines...]
write_def() {
    local f=$1; shift
    {
        echo "name: dcn-edge"
        echo "version: 1.0.0"
        echo "ref: $REF"
        echo "compose:"
        echo "  backend: tree"
        echo "  source: ./rootfs"
        echo "repo: ./root/repo"
        echo "keep: 3"
        echo "deltas_from: 2"
        local l; for l in "$@"; do echo "$l"; done
    } >"$f"
}

# need_hoster WHY: skip (77) when this build has no dcn-hoster, saying WHY
# the test needs it; a dcn-hoster that is built but does not run is the
# failure hoster_start reports, never a skip.
need_hoster() {
    [[ -n $HOSTER_BUILT ]] || skip "this build has no dcn-hoster (needed: $1)"
    [[ -x $DCN_HOSTER ]] || fail "DCN_HOSTER=$DCN_HOSTER is not an executable (build dcn-hoster)"
}

# serve_root DIR: dcn-hoster serves DIR; sets URL, PORT, HOSTER_LOG.
serve_root() {
    need_hoster "it serves the repo over HTTP"
    hoster_start hoster --root "$1"
    echo "# serving $1 with dcn-hoster at $URL"
}

# log_mark (tests/integration/lib.sh); ...; paths_since_mark: the request
# paths served after the mark.
paths_since_mark() { hoster_flush_log; log_since_mark | sed -n 's/.*path="\([^"]*\)".*/\1/p'; }

# new_client DIR [remote-add options]: a bare-user repo with remote "dcn".
new_client() {
    local c=$1; shift
    ostree init --mode=bare-user --repo="$c"
    ostree --repo="$c" remote add "$@" dcn "$URL/repo"
}

# tree_listing DIR: path, type, mode and content hash of everything under DIR.
tree_listing() {
    (cd "$1" && find . -mindepth 1 -printf '%p %y %m %l\n' | sort && find . -type f -exec sha256sum {} + | sort -k2)
}

# tree_listing_as_committed DIR: tree_listing of DIR as the tree backend
# commits it: /etc moved to /usr/etc, where ostree admin deploy expects it.
tree_listing_as_committed() {
    local d=$T/.as-committed
    rm -rf "$d" && cp -a "$1" "$d"
    if [[ -d $d/etc ]]; then mkdir -p "$d/usr" && mv "$d/etc" "$d/usr/etc"; fi
    tree_listing "$d"
}

# make_gpg_key: a signing key in $GNUPGHOME (no passphrase); sets KEYID.
make_gpg_key() {
    mkdir -p -m 700 "$GNUPGHOME"
    gpg --batch --quiet --passphrase '' --quick-gen-key 'DCN Test <dcn@test.invalid>' ed25519 sign 0 2>/dev/null
    KEYID=$(gpg --list-keys --with-colons | awk -F: '/^fpr:/{print $10; exit}')
    [[ -n $KEYID ]] || fail "could not make a GPG key"
    trap 'gpgconf --kill all >/dev/null 2>&1 || true; _dcn_cleanup' EXIT
}
