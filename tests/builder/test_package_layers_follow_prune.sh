#!/bin/bash
# Object layers across four versions with keep: 2 (publish prunes):
#  - each version's image reuses the previous image's object layers and adds
#    one with the new objects;
#  - objects the repo pruned but a reused layer still holds are hidden by
#    whiteouts: the unpacked image's repo has exactly the repo's objects, and
#    ostree fsck passes on it;
#  - a reused layer whose objects are all (or mostly) pruned is dropped, so
#    the image does not grow forever; its live objects ship again;
#  - the layout keeps only the images of kept versions, and their blobs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/push_lib.sh"
need_tools umoci ostree
cd "$T"

# tree N: files a..e of 200 KB, version N replaces some (deterministic content)
tree() {
    rm -rf rootfs && mkdir -p rootfs/usr/lib
    python3 - "$1" <<'PY'
import random, sys
v = int(sys.argv[1])
# which generation of each file version v carries
gen = {1: dict(a=1, b=1, c=1, d=1), 2: dict(a=1, b=2, c=1, d=1), 3: dict(a=3, b=2, c=3, d=3), 4: dict(a=4, b=4, c=4, d=4)}[v]
for name, g in gen.items():
    r = random.Random("%s-%d" % (name, g))
    open("rootfs/usr/lib/" + name, "wb").write(r.randbytes(200000))
PY
}
write_def def.yaml "scratch_delta: false" "prune_grace: 0" # layers follow prune at once
sed -i 's/^keep: 3/keep: 2/; s/^deltas_from: 2/deltas_from: 1/' def.yaml

objects_of() { # DIR: the repo's object files (no .commitmeta), sorted
    (cd "$1/objects" && find . -type f ! -name '*.commitmeta' | sort)
}

for v in 1 2 3 4; do
    tree $v
    builder compose -f def.yaml --version $v.0.0 >/dev/null 2>&1 || fail "compose $v"
    builder publish -f def.yaml --version $v.0.0 >/dev/null 2>&1 || fail "publish $v"
    out=$(builder package -f def.yaml --version $v.0.0 --json 2>package$v.err) || { cat package$v.err; fail "package $v"; }
    roles=$(python3 -c 'import json,sys; print(" ".join("%s:%s" % (l["role"], l.get("shipped_in","")) for l in json.loads(sys.argv[1])["layers"]))' "$out")
    rm -rf bundle
    umoci unpack --rootless --image "$T/.dcn-state/dcn-edge/oci:$v.0.0" bundle >/dev/null 2>&1 || fail "umoci unpack $v"
    diff <(objects_of root/repo) <(objects_of bundle/rootfs/srv/dcn/content/repo) >diff$v.txt \
        || { cat diff$v.txt; fail "$v.0.0: the image's objects differ from the repo's"; }
    cp -a bundle/rootfs/srv/dcn/content/repo imgrepo$v
    ostree fsck --repo=imgrepo$v >/dev/null 2>&1 || fail "$v.0.0: ostree fsck of the image's repo"
    drops=$(grep -c 'event=drop-layer' package$v.err || true)
    whiteouts=$(grep -o 'pruned=[0-9]*' package$v.err | cut -d= -f2)
    pass "$v.0.0: layers [$roles], $whiteouts pruned objects hidden, $drops layer(s) dropped; image repo == repo, fsck clean"
    eval "roles$v=\"\$roles\" drops$v=$drops whiteouts$v=$whiteouts"
done

[[ $roles2 == "runtime: objects:1.0.0 objects:2.0.0 top:" ]] || fail "2.0.0 does not reuse 1.0.0's layer: $roles2"
[[ $whiteouts3 -gt 0 ]] || fail "3.0.0 hid no pruned object (1.0.0's b should be gone)"
[[ $drops4 -gt 0 ]] || fail "4.0.0 dropped no dead layer"
[[ $roles4 != *objects:1.0.0* ]] || fail "4.0.0 still carries 1.0.0's objects layer: $roles4"
tags=$(python3 -c 'import json; print(" ".join(sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(open(".dcn-state/dcn-edge/oci/index.json"))["manifests"])))')
[[ $tags == "3.0.0 4.0.0" ]] || fail "the layout should keep the images of the kept versions only, has: $tags"
python3 - .dcn-state/dcn-edge/oci <<'PY' || fail "the layout holds blobs no image refers to"
import json, os, sys
d = sys.argv[1]; ref = set()
for m in json.load(open(d + "/index.json"))["manifests"]:
    h = m["digest"].split(":")[1]; ref.add(h)
    man = json.load(open("%s/blobs/sha256/%s" % (d, h)))
    ref.add(man["config"]["digest"].split(":")[1]); ref.update(l["digest"].split(":")[1] for l in man["layers"])
have = {f for f in os.listdir(d + "/blobs/sha256") if not f.startswith(".")}
assert have == ref, (have - ref, ref - have)
PY
pass "the layout keeps 3.0.0 and 4.0.0 and exactly their blobs"
echo "1 passed, 0 failed"
