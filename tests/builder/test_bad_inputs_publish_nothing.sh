#!/bin/bash
# Bad inputs give clear errors and publish nothing: a missing source, a
# tarball with '..' entries, one that writes through a symlink, a hard link
# to nothing, a truncated tarball, a tar bomb, a definition with wrong types.
# Nothing is ever written outside the staging repo (compose reads tarballs
# straight into ostree, never extracting). The same for the edge-commit
# backend (what osbuild-composer sends back, extracted under staging/tmp):
# '..', absolute names, symlinks and hard links pointing outside, device
# nodes and fifos, a sparse entry of 1 TiB, tar bombs (data that compresses
# away, a million entries, an object that unpacks to 100 MiB), compose.json
# twice, corrupt objects: each a clear
# error naming the entry, nothing outside staging, nothing left in
# staging/tmp, nothing staged, nothing published. Ordinary absolute symlinks
# inside the tree are kept as they are; tar, tar.gz, tar.zst and tar.xz all
# compose to the same tree as the directory.
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
with tarfile.open("target-not-utf8.tar", "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as t:
    add(t, "usr/x", type=tarfile.SYMTYPE, linkname="/usr/\xff")
PY
expect_fail "'..' entry" "entry '../outside/escaped': '..' in a member name is not allowed" -- builder compose -f def.yaml --source dotdot.tar
expect_fail "write through symlink" "entry 'etc/passwd' would be written through 'etc', which is a symlink" -- builder compose -f def.yaml --source through-symlink.tar
expect_fail "write through relative symlink" "entry 'a/escaped' would be written through 'a'" -- builder compose -f def.yaml --source through-rel-symlink.tar
expect_fail "dangling hard link" "hard link to 'not/there'" -- builder compose -f def.yaml --source badlink.tar
expect_fail "symlink target not UTF-8" "entry 'usr/x': the symlink target is not UTF-8 text" -- builder compose -f def.yaml --source target-not-utf8.tar
tar -C rootfs -czf full.tar.gz .
head -c 150000 full.tar.gz >truncated.tar.gz
expect_fail "truncated tarball" "Reading archive .*truncated.tar.gz" -- builder compose -f def.yaml --source truncated.tar.gz
[[ -z $(ls -A outside) && ! -e /tmp/passwd ]] || fail "something was written outside the staging repo"
[[ ! -e root/repo ]] || fail "a failed compose created the hosted repo"
expect_fail "publish without compose" "publish needs version 1.0.0 staged by compose" -- builder publish -f def.yaml
[[ ! -e root/repo/refs/heads/rhel ]] || fail "something was published"
pass "nothing written outside staging, nothing published"

# a tar bomb for the tree backend too: 200 MiB of zeros in a few KiB of zstd
mkdir -p bomb/usr && head -c 200M /dev/zero >bomb/usr/zeros
tar -C bomb --zstd -cf bomb.tar.zst . && rm -rf bomb
expect_fail "tree: tar bomb" "entry './usr/zeros' (209715200 bytes): the tarball would expand to more than 67108864 bytes .*refused as a tar bomb" -- builder compose -f def.yaml --version bomb --source bomb.tar.zst

# ---- the edge-commit backend: what osbuild-composer sends back ----
mkdir -p ec ecbig/repo/objects/aa
ostree init --mode=archive --repo=ec/repo
c=$(ostree --repo=ec/repo commit -b "$REF" --tree=dir=rootfs -s composer)
printf '{"ref": "%s", "ostree-commit": "%s"}\n' "$REF" "$c" >ec/compose.json
obj=ecbig/repo/objects/aa/$(printf 'b%.0s' {1..62}).filez
truncate -s 1T "$obj" # sparse: a 1 TiB entry in a tarball of a few KiB
tar -S -C ecbig -cf ec-sparse.tar repo
truncate -s 0 "$obj" && head -c 200M /dev/zero >"$obj"
tar -C ecbig --zstd -cf ec-bomb.tar.zst repo && rm -rf ecbig
# an object that unpacks to 100 MiB: its .filez (zlib) is a few hundred KiB
mkdir -p zeros/usr ecz && head -c 100M /dev/zero >zeros/usr/zeros && ostree init --mode=archive --repo=ecz/repo
cz=$(ostree --repo=ecz/repo commit -b "$REF" --tree=dir=zeros -s composer) && rm -rf zeros
printf '{"ref": "%s", "ostree-commit": "%s"}\n' "$REF" "$cz" >ecz/compose.json && tar -C ecz -cf ec-zlib-bomb.tar compose.json repo
: >f && awk 'BEGIN { for (i = 0; i <= 1000000; i++) print "f" }' >many.list
tar --hard-dereference -cf - -T many.list | zstd -q -1 >ec-many.tar.zst
OUTSIDE=$T/outside python3 - <<'PY'
import glob, io, os, tarfile
def add(t, name, data=b"x", **kw):
    ti = tarfile.TarInfo(name); ti.size = len(data)
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
def make(name, extra, first=False, repo="ec/repo"):
    with tarfile.open(name, "w") as t:
        if first: extra(t)
        t.add("ec/compose.json", "./compose.json"); t.add(repo, "./repo")
        if not first: extra(t)
make("ec-ok.tar", lambda t: None)
make("ec-dotdot.tar", lambda t: add(t, "repo/../../outside/escaped"))
make("ec-abs.tar", lambda t: add(t, "/tmp/dcn-edge-abs-escaped"))
make("ec-symlink.tar", lambda t: add(t, "repo/objects/zz", type=tarfile.SYMTYPE, linkname=os.environ["OUTSIDE"]), first=True)
make("ec-hardlink.tar", lambda t: add(t, "repo/passwd", type=tarfile.LNKTYPE, linkname="/etc/passwd"))
make("ec-blockdev.tar", lambda t: add(t, "repo/objects/sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0))
make("ec-chardev.tar", lambda t: add(t, "dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3))
make("ec-fifo.tar", lambda t: add(t, "repo/fifo", type=tarfile.FIFOTYPE))
make("ec-twice.tar", lambda t: add(t, "compose.json", open("ec/compose.json", "rb").read()))
# corrupt objects, under their old names: a file name in a dirtree, a byte of a file
os.system("cp -a ec/repo ec/bad-tree && cp -a ec/repo ec/bad-file")
for p in glob.glob("ec/bad-tree/objects/*/*.dirtree"):
    b = open(p, "rb").read()
    if b"hello" in b: open(p, "wb").write(b.replace(b"hello", b"jello", 1))
big = max(glob.glob("ec/bad-file/objects/*/*.filez"), key=os.path.getsize)
b = bytearray(open(big, "rb").read()); b[len(b) // 2] ^= 0xff; open(big, "wb").write(bytes(b))
make("ec-corrupt-tree.tar", lambda t: None, repo="ec/bad-tree")
make("ec-corrupt-file.tar", lambda t: None, repo="ec/bad-file")
PY
# each in a staging repo of its own: objects one import checked and wrote
# would let the next skip its own (corrupt) copy
edge() { local v=$1 pattern=$2; expect_fail "edge-commit: $v" "$pattern" -- builder compose -f def.yaml --version "ec-$v" --backend edge-commit --staging "$T/ecs/$v" --source "$3"; }
edge dotdot "entry 'repo/../../outside/escaped': '..' is not allowed" ec-dotdot.tar
edge absolute "entry '/tmp/dcn-edge-abs-escaped': absolute member names are not allowed" ec-abs.tar
edge symlink "entry 'repo/objects/zz' is a symlink to $T/outside: only files and directories belong" ec-symlink.tar
edge hardlink "entry 'repo/passwd' is a hard link (to '/etc/passwd'): only files and directories belong" ec-hardlink.tar
edge block-device "entry 'repo/objects/sda' is a block device: only files and directories belong" ec-blockdev.tar
edge char-device "entry 'dev/null' is a character device: only files and directories belong" ec-chardev.tar
edge fifo "entry 'repo/fifo' is a fifo: only files and directories belong" ec-fifo.tar
edge sparse "entry 'repo/objects/aa/b*\.filez' (1099511627776 bytes): the tarball would expand to more than 67108864 bytes .*refused as a tar bomb" ec-sparse.tar
edge bomb "entry 'repo/objects/aa/b*\.filez' (209715200 bytes): the tarball would expand to more than 67108864 bytes .*refused as a tar bomb" ec-bomb.tar.zst
edge many-entries "entry 'f' (0 bytes): the tarball would expand to more than 67108864 bytes .*refused as a tar bomb" ec-many.tar.zst
edge zlib-bomb "edge-commit repo: [0-9a-f]\{64\}\.filez (104857600 bytes): the objects would unpack to more than 67108864 bytes: refused as a tar bomb" ec-zlib-bomb.tar
edge compose-json-twice "entry 'compose.json': compose.json appears twice" ec-twice.tar
edge corrupt-dirtree "edge-commit repo: [0-9a-f]\{64\}\.dirtree is corrupt: its content has checksum" ec-corrupt-tree.tar
edge corrupt-file "edge-commit repo: [0-9a-f]\{64\}\.filez: " ec-corrupt-file.tar
# the same tarball untouched composes (so each refusal above is the entry's doing)
builder compose -f def.yaml --version ec-ok --backend edge-commit --staging "$T/ecs/ok" --source ec-ok.tar >/dev/null 2>"$T/err" || { cat "$T/err"; fail "the untouched edge-commit tarball did not compose"; }
[[ -z $(ls -A outside) && ! -e /tmp/dcn-edge-abs-escaped ]] || fail "an edge-commit tarball wrote outside the staging repo"
[[ -z $(ls ecs/*/tmp | grep dcn-edge) ]] || fail "an extraction directory was left in staging/tmp"
for s in ecs/*; do
    [[ $s == ecs/ok || -z $(ostree --repo="$s" refs) ]] || fail "a refused edge-commit tarball was staged in $s"
done
ostree --repo=ecs/ok refs | grep -q "/ec-ok$" || fail "the untouched edge-commit tarball was not staged"
expect_fail "publish a refused edge-commit version" "publish needs version ec-corrupt-file staged by compose" -- builder publish -f def.yaml --version ec-corrupt-file --staging "$T/ecs/corrupt-file"
[[ ! -e root/repo/refs/heads/rhel ]] || fail "something was published"
pass "edge-commit: nothing written outside staging, nothing left, nothing staged, nothing published"

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
