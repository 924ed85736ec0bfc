#!/bin/bash
# make-sample-root.sh OUTDIR
#
# Makes a small dcn-hoster content root with the ostree CLI:
#   OUTDIR/repo    archive-mode ostree repository, ref rhel/9/x86_64/edge with
#                  two commits (1.0.0, then 2.0.0 with 1.0.0 as parent), a
#                  static delta 1.0.0 -> 2.0.0 (--min-fallback-size=0), a
#                  scratch delta for 2.0.0 (--empty), and `ostree summary -u`
#   OUTDIR/dcn.ks  RHEL for Edge kickstart template (@REPO_URL@, @REF@)
#
# The trees are generated files (a few hundred, some larger than 64 KB, a
# symlink, nested directories; 2.0.0 changes, adds and removes some).
# Commits use fixed timestamps and ownership, so their checksums are the same
# on every run (the summary carries its own time, so it differs).
#
# Idempotent: everything is built in a temporary directory beside OUTDIR and
# renamed into place at the end; a failed run leaves OUTDIR as it was.
#
# Environment (optional, used by tests):
#   DCN_SAMPLE_REF      ref to commit to (default rhel/9/x86_64/edge)
#   DCN_SAMPLE_BIG_KB   size in KB of the largest generated file (default 256)
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[[ $# -eq 1 && -n $1 ]] || usage
command -v ostree >/dev/null || { echo "$0: the ostree CLI is needed (Debian package: ostree)" >&2; exit 1; }

out=${1%/}
ref=${DCN_SAMPLE_REF:-rhel/9/x86_64/edge}
big_kb=${DCN_SAMPLE_BIG_KB:-256}
parent_dir=$(dirname -- "$out")
mkdir -p -- "$parent_dir"
umask 022
export LC_ALL=C

tmp=$(mktemp -d "$parent_dir/.$(basename -- "$out").tmp.XXXXXX")
old=
cleanup() {
    rm -rf -- "$tmp"
    [[ -z $old ]] || rm -rf -- "$old"
}
trap cleanup EXIT
chmod 0755 "$tmp"

# quiet CMD...: runs CMD, showing its output only when it fails.
quiet() {
    local rc=0
    "$@" >"$tmp/.log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then cat "$tmp/.log" >&2; echo "$0: failed ($rc): $*" >&2; exit 1; fi
    rm -f "$tmp/.log"
}

# gen_tree DIR VERSION: writes the generated file tree for VERSION (1 or 2).
# Content comes from a Park-Miller generator (exact in awk's doubles), seeded
# per file, so the same VERSION always yields the same bytes.
gen_tree() {
    local dir=$1 version=$2 p
    mkdir -p "$dir"/usr/bin "$dir"/usr/lib/dcn/plugins "$dir"/usr/share/dcn "$dir"/etc/dcn/conf.d \
        "$dir"/usr/share/doc
    for p in $(seq -w 1 24); do
        mkdir -p "$dir/usr/share/dcn/pkg$p/data/nested/deeper" "$dir/usr/share/doc/pkg$p"
    done
    awk -v root="$dir" -v version="$version" -v big_kb="$big_kb" '
    function rnd() { seed = (seed * 16807) % 2147483647; return seed }
    function hexline(n,   s, i) {
        s = ""
        for (i = 0; i < n; i++) s = s sprintf("%08x", rnd())
        return s
    }
    # emit(path, seed, lines, words): text of `lines` lines of `words` hex words
    function emit(path, s, lines, words,   i) {
        seed = s % 2147483646 + 1
        for (i = 0; i < lines; i++) print hexline(words) > (root "/" path)
        close(root "/" path)
        nfiles++
    }
    # a file whose line `changed` (if >= 0) differs in version 2: bsdiff-able
    function emit_patched(path, s, lines, words, changed,   i) {
        seed = s % 2147483646 + 1
        for (i = 0; i < lines; i++) {
            if (i % changed == 0 && version == 2) print "patched in 2.0.0 line " i > (root "/" path)
            else print hexline(words) > (root "/" path)
        }
        close(root "/" path)
        nfiles++
    }
    BEGIN {
        # Large "binaries": > 64 KB each. dcn-agent is patched in place in v2,
        # dcn-tool is rewritten, the others stay.
        lines_big = int(big_kb * 1024 / 65)
        emit_patched("usr/bin/dcn-agent", 11, lines_big, 8, 97)
        emit("usr/bin/dcn-tool", 12 + (version == 2 ? 1000 : 0), int(lines_big / 2), 8)
        emit("usr/bin/dcn-monitor", 13, int(lines_big / 3), 8)
        emit("usr/lib/dcn/libdcn.so.1", 14, int(lines_big / 2.5), 8)
        # 24 packages x 12 small files, in nested directories.
        for (p = 1; p <= 24; p++) {
            pkg = sprintf("pkg%02d", p)
            for (f = 1; f <= 12; f++) {
                sub_ = (f <= 4) ? "" : (f <= 8) ? "data/" : (f <= 10) ? "data/nested/" : "data/nested/deeper/"
                s = p * 100 + f
                # v2 changes every 7th file
                if (version == 2 && (p * 12 + f) % 7 == 0) s += 50000
                emit("usr/share/dcn/" pkg "/" sub_ "file" f ".dat", s, 2 + (s % 40), 4)
            }
            printf "%s %s\nversion %s.0.0\n", pkg, "documentation", version > (root "/usr/share/doc/" pkg "/README")
            close(root "/usr/share/doc/" pkg "/README")
            nfiles++
        }
        for (c = 1; c <= 20; c++) {
            f = sprintf("etc/dcn/conf.d/%02d-setting.conf", c)
            printf "# setting %d\nvalue=%d\n", c, ((version == 2 && c % 5 == 0) ? c * 2 : c) > (root "/" f)
            close(root "/" f)
            nfiles++
        }
        # a plugin present only in 1.0.0, another only in 2.0.0
        emit("usr/lib/dcn/plugins/" (version == 2 ? "new-plugin.so" : "old-plugin.so"), 20 + version, 300, 8)
        printf "NAME=\"DCN sample\"\nVERSION_ID=\"%d.0.0\"\n", version > (root "/etc/dcn/release")
        close(root "/etc/dcn/release")
    }'
    chmod 0755 "$dir"/usr/bin/*
    ln -s dcn-agent "$dir/usr/bin/dcn"        # symlink to a file
    ln -s usr/lib "$dir/lib"                   # symlink to a directory, as on RHEL
    : >"$dir/etc/dcn/empty.conf"               # an empty file
    # What `ostree admin deploy` needs: a kernel and initramfs where libostree
    # looks (small stand-ins), an ID in os-release, /etc kept in /usr/etc.
    mkdir -p "$dir/usr/lib/modules/6.1.0-dcn"
    printf 'stand-in kernel\n' >"$dir/usr/lib/modules/6.1.0-dcn/vmlinuz"
    printf 'stand-in initramfs\n' >"$dir/usr/lib/modules/6.1.0-dcn/initramfs.img"
    printf 'NAME="DCN sample"\nID=dcn\nVERSION_ID="%d.0.0"\n' "$version" >"$dir/usr/lib/os-release"
    mv "$dir/etc" "$dir/usr/etc"
}

repo=$tmp/repo
quiet ostree init --repo="$repo" --mode=archive
trees=$tmp/.trees
gen_tree "$trees/v1" 1
gen_tree "$trees/v2" 2

commit_args=(--repo="$repo" --branch="$ref" --owner-uid=0 --owner-gid=0 --no-xattrs --fsync=false)
v1=$(ostree commit "${commit_args[@]}" --tree=dir="$trees/v1" --parent=none \
    --timestamp=2024-01-01T00:00:00Z --subject="DCN sample 1.0.0" \
    --add-metadata-string=version=1.0.0)
v2=$(ostree commit "${commit_args[@]}" --tree=dir="$trees/v2" --parent="$v1" \
    --timestamp=2024-02-01T00:00:00Z --subject="DCN sample 2.0.0" \
    --add-metadata-string=version=2.0.0)
rm -rf -- "$trees"

quiet ostree static-delta generate --repo="$repo" --from="$v1" --to="$v2" --min-fallback-size=0
quiet ostree static-delta generate --repo="$repo" --empty --to="$v2"
quiet ostree summary --repo="$repo" -u

cat >"$tmp/dcn.ks" <<'EOF'
# RHEL for Edge installation for a DCN device.
# Served by dcn-hoster: @REPO_URL@, @REF@ (and @URL@, @COMMIT@) are filled in
# for each request, in commands (comment lines like these are served as they are).
lang en_US.UTF-8
keyboard us
timezone UTC --utc
text
network --bootproto=dhcp --device=link --activate --onboot=on
rootpw --lock
zerombr
clearpart --all --initlabel --disklabel=gpt
autopart --type=plain --fstype=xfs --nohome
reboot --eject

# The ostree content: the device later upgrades from the same remote.
ostreesetup --nogpg --osname=rhel --remote=edge --url=@REPO_URL@ --ref=@REF@

%post --log=/var/log/anaconda/post-dcn.log --erroronfail
# Remember where this device was installed from.
echo "installed from @REPO_URL@ ref @REF@ commit @COMMIT@" > /etc/dcn-install-source
%end
EOF

# Into place. rename(2) cannot replace a non-empty directory, so an existing
# OUTDIR is first moved aside (and removed on exit).
if [[ -e $out || -L $out ]]; then
    old=$(mktemp -u "$parent_dir/.$(basename -- "$out").old.XXXXXX")
    mv -T -- "$out" "$old"
fi
mv -T -- "$tmp" "$out"
echo "make-sample-root: $out: $ref 1.0.0=$v1 2.0.0=$v2"
