#!/bin/bash
# The README's first command on a new user's machine: scripts/quickstart in a
# clean clone inside a freshly debootstrapped Debian 12 root
# (../shared/tools/fresh-debian), then a real `ostree pull` from outside the
# root against the dcn-hoster it starts. Whatever the quickstart needs and
# does not install (a package missing from scripts/deps/build.txt, a tool a
# minbase root lacks) fails here, while the machine the suite runs on has
# everything installed.
#
# The root holds the committed HEAD of this checkout (fresh-debian clones it):
# uncommitted changes are not tested. Skips (77) where the machine cannot make
# such a root: no fresh-debian tool, not root, no debootstrap and no cached base.
# shellcheck source=../integration/lib.sh
source "$(dirname "$0")/../integration/lib.sh"

tool=$(cd "$DCN_SOURCE_DIR/.." && pwd)/shared/tools/fresh-debian
[[ -x $tool ]] || skip "no $tool on this machine"
[[ $(id -u) == 0 ]] || skip "fresh-debian needs root (debootstrap, chroot, mounts)"
if [[ ! -s ${FRESH_DEBIAN_CACHE:-/var/cache/fresh-debian}/bookworm-git.tar ]] &&
    ! command -v debootstrap >/dev/null && ! apt-cache show debootstrap >/dev/null 2>&1; then
    skip "no cached fresh-debian base and no debootstrap to make one"
fi
command -v ostree >/dev/null || skip "no ostree client (scripts/install-deps test)"
cd "$DCN_SOURCE_DIR"
git diff --quiet HEAD -- 2>/dev/null ||
    echo "# note: uncommitted changes in $DCN_SOURCE_DIR are not in the fresh root (it clones HEAD $(git rev-parse --short HEAD))"

port=$(free_port)
root=$(mktemp -d /var/tmp/dcn-fresh-root.XXXXXX) # on disk: the root grows to a few GB
rmdir "$root"
# The root's processes share this machine's PIDs: stop whatever runs inside
# it (the quickstart ends in an exec of dcn-hoster) so fresh-debian can unmount.
stop_root() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/root" 2>/dev/null) == "$root" ]] && kill "${p#/proc/}" 2>/dev/null
    done
    wait "$FRESH_PID" 2>/dev/null || true
}
on_exit stop_root

echo "# fresh-debian -- scripts/quickstart --listen 127.0.0.1:$port (apt-get, build, two releases; several minutes)"
"$tool" --dir "$root" -- scripts/quickstart --listen "127.0.0.1:$port" >"$T/quickstart.log" 2>&1 &
FRESH_PID=$!
url=http://127.0.0.1:$port
for _ in $(seq 1 2400); do
    kill -0 "$FRESH_PID" 2>/dev/null || { tail -n 40 "$T/quickstart.log" >&2; fail "the quickstart ended before serving"; }
    curl -sf --noproxy '*' --max-time 2 "$url/-/ready" >/dev/null 2>&1 && break
    sleep 1
done
curl -sf --noproxy '*' --max-time 2 "$url/-/ready" >/dev/null || { tail -n 40 "$T/quickstart.log" >&2; fail "nothing served on $url after 40 min"; }
pass "the quickstart installed, built, released and serves on $url in a fresh Debian 12 root"

# A real client outside the root: the served version is the last one released.
ostree --repo="$T/client" init --mode=bare-user
ostree --repo="$T/client" remote add --no-gpg-verify dcn "$url/repo"
ostree --repo="$T/client" pull dcn rhel/9/x86_64/edge >"$T/pull.log" 2>&1 || { cat "$T/pull.log" >&2; fail "ostree pull"; }
ostree --repo="$T/client" cat rhel/9/x86_64/edge /usr/lib/os-release | grep -qx 'VERSION_ID="2.0.0"' ||
    fail "the pulled tree is not 2.0.0: $(ostree --repo="$T/client" cat rhel/9/x86_64/edge /usr/lib/os-release)"
ostree --repo="$T/client" fsck >/dev/null || fail "client fsck"
pass "ostree pull from outside got 2.0.0, fsck clean"

ks=$(curl -sf --noproxy '*' "$url/dcn-edge.ks") || fail "no kickstart at $url/dcn-edge.ks"
grep -q "ostreesetup .*--url=$url/repo" <<<"$ks" || fail "the kickstart does not point at this server: $ks"
pass "the kickstart points at $url/repo"
echo "3 passed, 0 failed"
