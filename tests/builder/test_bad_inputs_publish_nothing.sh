#!/bin/bash
# Bad inputs give clear errors and publish nothing: a missing source, a
# tarball with '..' entries, one that writes through a symlink, a hard link
# to nothing, a truncated tarball, a definition with wrong types. Nothing is
# ever written outside the staging repo (compose reads tarballs straight into
# ostree, never extracting). Ordinary absolute symlinks inside the tree are
# kept as they are; tar, tar.gz, tar.zst and tar.xz all compose to the same
# tree as the directory.
source "$(dirname "$0")/lib.sh"
cd "$T"
make_tree rootfs 1
write_def def.yaml

# expect_fail NAME PATTERN -- command...: must exit non-zero with PATTERN on stderr.
expect_fail() {
    local name=$1 pattern=$2; shift 3
    if "$@" >"$T/out" 2>"$T/err"; then cat "$T/err"; fail "$name: succeeded"; fi
    grep -q -- "$pattern" "$T/err" || { cat "$T/err"; fail "$name: no '$pattern' in the error"; }
    pass "$name: $(grep '^dcn-builder:' "$T/err" | tail -n1)"
}

expect_fail "missing source" "compose.source $T/nope: [Nn]o such file" -- builder compose -f def.yaml --source nope
write_def bad.yaml "delta_min_fallback_mb: lots"
expect_fail "wrong type" "bad.yaml:10: key 'delta_min_fallback_mb': expected an integer from 0 to 1048576, got 'lots'" -- builder compose -f bad.yaml
write_def bad2.yaml "sign: yes"
expect_fail "scalar for a mapping" "bad2.yaml:10: key 'sign': expected a mapping of keys, got a scalar" -- builder publish -f bad2.yaml
expect_fail "bad flag value" "\-\-keep: key 'keep'" -- builder compose -f def.yaml --keep=-1

mkdir -p outside
python3 - <<'PY'
import io, tarfile
def add(t, name, data=b"x", **kw):
    ti = tarfile.TarInfo(name); ti.size = len(data)
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
with tarfile.open("dotdot.tar", "w") as t:
    add(t, "usr/ok"); add(t, "../outside/escaped")
with tarfile.open("through-symlink.tar", "w") as t:
    add(t, "etc", type=tarfile.SYMTYPE, linkname="/tmp")
    add(t, "etc/passwd", b"pwned")
with tarfile.open("through-rel-symlink.tar", "w") as t:
    add(t, "a", type=tarfile.SYMTYPE, linkname="../outside")
    add(t, "a/escaped")
with tarfile.open("badlink.tar", "w") as t:
    add(t, "x", type=tarfile.LNKTYPE, linkname="not/there")
PY
expect_fail "'..' entry" "entry '../outside/escaped': '..' in a member name is not allowed" -- builder compose -f def.yaml --source dotdot.tar
expect_fail "write through symlink" "entry 'etc/passwd' would be written through 'etc', which is a symlink" -- builder compose -f def.yaml --source through-symlink.tar
expect_fail "write through relative symlink" "entry 'a/escaped' would be written through 'a'" -- builder compose -f def.yaml --source through-rel-symlink.tar
expect_fail "dangling hard link" "hard link to 'not/there'" -- builder compose -f def.yaml --source badlink.tar
tar -C rootfs -czf full.tar.gz .
head -c 150000 full.tar.gz >truncated.tar.gz
expect_fail "truncated tarball" "Reading archive .*truncated.tar.gz" -- builder compose -f def.yaml --source truncated.tar.gz
[[ -z $(ls -A outside) && ! -e /tmp/passwd ]] || fail "something was written outside the staging repo"
[[ ! -e root/repo ]] || fail "a failed compose created the hosted repo"
expect_fail "publish without compose" "publish needs version 1.0.0 staged by compose" -- builder publish -f def.yaml
[[ ! -e root/repo/refs/heads/rhel ]] || fail "something was published"
pass "nothing written outside staging, nothing published"

# every supported form composes to the same tree as the directory
tree_of() { ostree --repo=root/.repo-staging ls -R -C "dcn-staging/$REF/$1" | sha256sum; }
builder compose -f def.yaml --version d 2>/dev/null >/dev/null || fail "compose directory"
tar -C rootfs -cf t.tar . && tar -C rootfs --zstd -cf t.tar.zst . && tar -C rootfs -cJf t.tar.xz .
for f in t.tar full.tar.gz t.tar.zst t.tar.xz; do
    v=${f//./-}
    builder compose -f def.yaml --version "$v" --source "$f" 2>/dev/null >/dev/null || fail "compose $f"
    [[ $(tree_of "$v") == "$(tree_of d)" ]] || { diff <(ostree --repo=root/.repo-staging ls -R -C "dcn-staging/$REF/$v") <(ostree --repo=root/.repo-staging ls -R -C "dcn-staging/$REF/d"); fail "$f composes to another tree than the directory"; }
done
ostree --repo=root/.repo-staging ls "dcn-staging/$REF/t-tar-zst" /usr/bin/hi | grep -q -- '-> /usr/bin/hello$' || fail "absolute symlink not kept"
ostree --repo=root/.repo-staging ls "dcn-staging/$REF/t-tar-zst" /usr/etc/dcn/dcn.conf | grep -q '^-00600 0 0' || fail "mode 0600 not kept"
ostree --repo=root/.repo-staging ls "dcn-staging/$REF/t-tar-zst" /var/empty | grep -q '^d01777' || fail "sticky dir mode not kept"
pass "directory, tar, tar.gz, tar.zst, tar.xz give the same tree; symlinks and modes kept"
echo "1 passed, 0 failed"
