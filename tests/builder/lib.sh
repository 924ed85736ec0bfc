# Helpers for dcn-builder's integration tests. Source it after setting
# nothing: ctest sets DCN_BUILDER, DCN_SOURCE_DIR and (when the target
# exists) DCN_HOSTER. Builds on tests/integration/lib.sh ($T, fail, pass,
# hoster_start, cleanup on exit).
#
# serve_root DIR serves DIR over loopback HTTP: with dcn-hoster when the
# binary is there and runs, otherwise with Python's http.server (an interim
# stand-in while dcn-hoster is being written; the test says which it used).
: "${DCN_BUILDER:?DCN_BUILDER must point at the dcn-builder binary (ctest sets it)}"
: "${DCN_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
USE_HOSTER=0
if [[ -n ${DCN_HOSTER:-} && -x ${DCN_HOSTER:-} ]] && timeout 5 "$DCN_HOSTER" --help >/dev/null 2>&1; then
    USE_HOSTER=1
fi
export DCN_HOSTER=${DCN_HOSTER:-/nonexistent}
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

# json_get JSONLINE KEY: prints a top-level member.
json_get() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else (json.dumps(v) if isinstance(v,(list,dict,bool)) else v))' "$1" "$2"; }

SERVER_LOG=
serve_root() {
    local dir=$1
    if [[ $USE_HOSTER == 1 ]]; then
        hoster_start hoster --root "$dir"
        SERVER_LOG=$HOSTER_LOG
        echo "# serving $dir with dcn-hoster at $URL"
        return
    fi
    SERVER_LOG=$T/http.log
    python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$dir" >"$T/http.out" 2>"$SERVER_LOG" &
    _dcn_pids+=($!)
    local i
    for i in $(seq 1 100); do
        PORT=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$T/http.out" | head -n1)
        [[ -n $PORT ]] && break
        sleep 0.05
    done
    [[ -n $PORT ]] || fail "python http.server did not start"
    URL=http://127.0.0.1:$PORT
    echo "# serving $dir with python3 http.server at $URL (interim: dcn-hoster not runnable here)"
}

# log_mark; ...; paths_since_mark: the request paths served after the mark.
log_mark() { [[ $USE_HOSTER == 1 ]] && hoster_flush_log; MARK=$(wc -l <"$SERVER_LOG"); }
paths_since_mark() {
    [[ $USE_HOSTER == 1 ]] && hoster_flush_log
    tail -n +$((MARK + 1)) "$SERVER_LOG" | if [[ $USE_HOSTER == 1 ]]; then
        sed -n 's/.*path="\([^"]*\)".*/\1/p'
    else
        sed -n 's/.*"GET \([^ ]*\) HTTP.*/\1/p'
    fi
}

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

# make_gpg_key: a signing key in $GNUPGHOME (no passphrase); sets KEYID.
make_gpg_key() {
    mkdir -p -m 700 "$GNUPGHOME"
    gpg --batch --quiet --passphrase '' --quick-gen-key 'DCN Test <dcn@test.invalid>' ed25519 sign 0 2>/dev/null
    KEYID=$(gpg --list-keys --with-colons | awk -F: '/^fpr:/{print $10; exit}')
    [[ -n $KEYID ]] || fail "could not make a GPG key"
    trap 'gpgconf --kill all >/dev/null 2>&1 || true; _dcn_cleanup' EXIT
}
