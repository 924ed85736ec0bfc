#!/usr/bin/env python3
"""Builds the benchmark content root: an ostree archive repository with two
versions of a tree copied from this machine's /usr, their static deltas and a
summary, plus two large plain files.

usage: make-repo.py --mode full|quick --out DIR

Everything is deterministic for a given machine: files are taken from
/usr/lib, /usr/share and /usr/include in the order of a hash of their path, up
to a fixed count (so the size stays the same, and a package installed later
changes only a few files at the margin), v2 changes files picked by another
hash, commit timestamps are fixed, large files come from a seeded PRNG.

The result is cached: DIR/<mode>/stamp holds a hash of this script and the
mode's parameters; when it matches, nothing is rebuilt.

Layout written:
  DIR/<mode>/root/repo/                  archive repo, ref bench/x86_64/edge -> v2 (parent v1)
  DIR/<mode>/root/files/part-32m.bin     32 MiB file (delta-part-like workload)
  DIR/<mode>/root/files/disk.iso         1 GiB (quick: 256 MiB) file for Range requests
  DIR/<mode>/lists/small-objects.txt     "<url path> <size>" of .dirtree/.dirmeta/small .filez
  DIR/<mode>/meta.json                   commits, counts, sizes
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import time

REF = "bench/x86_64/edge"
SOURCES = ["/usr/lib", "/usr/share", "/usr/include"]
MODES = {
    # files per tree (v1)
    "full": {"files": 28000, "iso_mib": 1024, "part_mib": 32},
    "quick": {"files": 1400, "iso_mib": 256, "part_mib": 32},
}
BIG_FRAC = 0.5          # files of 1..16 MiB are eligible when a hash of their path is below this
CHANGE_FRAC = 0.05      # of v1's regular files modified in v2
DELETE_FRAC = 0.005     # of v1's files removed in v2
ADD_FRAC = 0.025        # of v1's file count: files added in v2 (the next ones in hash order)
SMALL_OBJECT_MAX = 16 * 1024  # .filez up to this size count as "small objects"
TS_V1 = "2025-01-01 00:00:00 +0000"
TS_V2 = "2025-02-01 00:00:00 +0000"


def log(msg):
    print(f"make-repo: {msg}", file=sys.stderr, flush=True)


def h(path, salt):
    d = hashlib.sha1((salt + path).encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(d[:4], "big") / 2**32


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ostree(repo, *args, capture=False):
    cmd = ["ostree", f"--repo={repo}", *args]
    if capture:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(cmd, check=True)
    return None


def candidates():
    """(path, lstat) of regular files and symlinks under SOURCES, sorted."""
    out = []
    for top in SOURCES:
        for dp, dns, fns in os.walk(top):
            dns.sort()
            # stay on one filesystem and out of things that change while we read
            dns[:] = [d for d in dns if not os.path.ismount(os.path.join(dp, d))]
            for f in sorted(fns):
                p = os.path.join(dp, f)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                    out.append((p, st))
    return out


def eligible(p, st):
    size = st.st_size if stat.S_ISREG(st.st_mode) else 0
    if size <= 1 << 20:
        return True
    return size <= 16 << 20 and h(p, "big") < BIG_FRAC


def copy_in(src, st, tree):
    dst = os.path.join(tree, src.lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(src), dst)
        return True
    try:
        with open(src, "rb") as f:
            data = f.read()
    except OSError:
        return False
    with open(dst, "wb") as f:
        f.write(data)
    os.chmod(dst, 0o755 if st.st_mode & 0o111 else 0o644)
    return True


def modify(path):
    """v2 content: 32 bytes in the middle replaced, a line appended."""
    with open(path, "rb") as f:
        data = f.read()
    patch = hashlib.sha256(b"v2:" + path.encode("utf-8", "surrogateescape")).digest()
    mid = len(data) // 2
    data = data[:mid] + patch + data[mid + len(patch):] + b"\n# changed in v2\n"
    mode = os.stat(path).st_mode & 0o777
    os.unlink(path)  # break the hard link to v1's copy
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def write_prng_file(path, mib, seed):
    rng = random.Random(seed)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        for _ in range(mib):
            f.write(rng.randbytes(1 << 20))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    params = MODES[args.mode]

    with open(__file__, "rb") as f:
        stamp = hashlib.sha256(f.read() + json.dumps(params, sort_keys=True).encode()).hexdigest()
    base = os.path.join(os.path.abspath(args.out), args.mode)
    stamp_file = os.path.join(base, "stamp")
    if os.path.exists(stamp_file) and open(stamp_file).read().strip() == stamp:
        log(f"{base}: up to date (cached)")
        return 0

    t0 = time.monotonic()
    log(f"building {args.mode} content in {base}")
    if os.path.exists(base):
        shutil.rmtree(base)
    work = os.path.join(base, "work")
    root = os.path.join(base, "root")
    repo = os.path.join(root, "repo")
    lists = os.path.join(base, "lists")
    for d in (work, root, lists, os.path.join(root, "files")):
        os.makedirs(d)

    cands = sorted(((p, st) for p, st in candidates() if eligible(p, st)), key=lambda c: h(c[0], "pick"))
    n = params["files"]
    v1 = sorted(cands[:n])
    extra = sorted(cands[n:n + int(n * ADD_FRAC)])

    tree1 = os.path.join(work, "tree-v1")
    os.makedirs(tree1)
    copied = [(p, st) for p, st in v1 if copy_in(p, st, tree1)]
    nbytes = sum(st.st_size for p, st in copied if stat.S_ISREG(st.st_mode))
    log(f"v1 tree: {len(copied)} files, {nbytes / 1e6:.0f} MB ({time.monotonic() - t0:.0f}s)")

    ostree(repo, "init", "--mode=archive")
    common = ["--owner-uid=0", "--owner-gid=0", "--no-xattrs", "--generate-sizes"]
    ostree(repo, "commit", f"--branch={REF}", f"--tree=dir={tree1}", f"--timestamp={TS_V1}",
           "--subject=bench v1", "--add-metadata-string=version=1", *common)
    c1 = ostree(repo, "rev-parse", REF, capture=True)
    log(f"v1 commit {c1} ({time.monotonic() - t0:.0f}s)")

    tree2 = os.path.join(work, "tree-v2")
    run("cp", "-al", tree1, tree2)
    changed = deleted = 0
    for p, st in copied:
        dst = os.path.join(tree2, p.lstrip("/"))
        if not stat.S_ISREG(st.st_mode):
            continue
        x = h(p, "v2")
        if x < CHANGE_FRAC:
            modify(dst)
            changed += 1
        elif x < CHANGE_FRAC + DELETE_FRAC:
            os.unlink(dst)
            deleted += 1
    added = sum(1 for p, st in extra if copy_in(p, st, tree2))
    ostree(repo, "commit", f"--branch={REF}", f"--tree=dir={tree2}", f"--timestamp={TS_V2}",
           "--subject=bench v2", "--add-metadata-string=version=2", *common)
    c2 = ostree(repo, "rev-parse", REF, capture=True)
    log(f"v2 commit {c2}: {changed} changed, {deleted} deleted, {added} added "
        f"({time.monotonic() - t0:.0f}s)")

    ostree(repo, "static-delta", "generate", "--min-fallback-size=0", f"--from={c1}", f"--to={c2}")
    log(f"delta v1->v2 done ({time.monotonic() - t0:.0f}s)")
    ostree(repo, "static-delta", "generate", "--empty", f"--to={c2}")
    log(f"scratch delta done ({time.monotonic() - t0:.0f}s)")
    ostree(repo, "summary", "-u")
    shutil.rmtree(work)

    write_prng_file(os.path.join(root, "files", "part-32m.bin"), params["part_mib"], 32)
    write_prng_file(os.path.join(root, "files", "disk.iso"), params["iso_mib"], 1024)

    # object lists
    counts = {}
    small = []
    obj_bytes = 0
    objdir = os.path.join(repo, "objects")
    for dp, dns, fns in os.walk(objdir):
        dns.sort()
        for f in sorted(fns):
            full = os.path.join(dp, f)
            size = os.path.getsize(full)
            obj_bytes += size
            ext = f.rsplit(".", 1)[-1]
            counts[ext] = counts.get(ext, 0) + 1
            if ext in ("dirtree", "dirmeta") or (ext == "filez" and size <= SMALL_OBJECT_MAX):
                small.append(("/" + os.path.relpath(full, root), size))
    with open(os.path.join(lists, "small-objects.txt"), "w") as f:
        for p, s in small:
            f.write(f"{p} {s}\n")

    deltas = []
    for dp, dns, fns in os.walk(os.path.join(repo, "deltas")):
        for f in fns:
            full = os.path.join(dp, f)
            deltas.append({"path": "/" + os.path.relpath(full, root), "size": os.path.getsize(full)})
    deltas.sort(key=lambda d: d["path"])
    meta = {
        "mode": args.mode, "ref": REF, "v1": c1, "v2": c2,
        "tree_files": len(copied), "tree_bytes": nbytes,
        "changed": changed, "deleted": deleted, "added": added,
        "objects": counts, "object_bytes": obj_bytes,
        "small_objects": len(small),
        "small_object_bytes": sum(s for _, s in small),
        "deltas": deltas,
        "build_seconds": round(time.monotonic() - t0, 1),
    }
    with open(os.path.join(base, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    with open(stamp_file, "w") as f:
        f.write(stamp + "\n")
    log(f"done in {meta['build_seconds']}s: {sum(counts.values())} objects, "
        f"{obj_bytes / 1e6:.0f} MB in objects/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
