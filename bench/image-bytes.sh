#!/bin/bash
# Bytes a registry receives for version 2 of the hosting image:
#   dcn-builder package + push (object layers shared across versions),
#   with and without the scratch delta (it rides in every version's top layer),
# against "FROM hoster + COPY repo" built with buildah (Containerfile.content:
# one layer with the whole content root per version).
# A synthetic tree (FILES files of SIZE_KB random KiB, default 400 x 100 KiB
# = 40 MiB); version 2 rewrites CHANGED of them and adds 2.
# Counts come from the registry: the blobs a push uploaded (dcn-builder's
# push.json, cross-checked with the registry log) and, for buildah, the
# layers of v2's manifest that v1's does not have (+ config).
#
#   bench/image-bytes.sh [BUILD_DIR]      (default: build; needs docker-registry, buildah)
# Prints a table; not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
export DCN_BUILDER=${DCN_BUILDER:-$build/builder/dcn-builder}
export DCN_HOSTER=${DCN_HOSTER:-$build/hoster/dcn-hoster}
export DCN_SOURCE_DIR=$here/..
FILES=${FILES:-400} SIZE_KB=${SIZE_KB:-100} CHANGED=${CHANGED:-8}
source "$here/../tests/builder/lib.sh"
source "$here/../tests/builder/push_lib.sh"
need_tools docker-registry buildah skopeo
cd "$T"

make_big_tree() { # DIR VARIANT
    python3 - "$1" "$2" "$FILES" "$SIZE_KB" "$CHANGED" <<'PY'
import os, random, sys
d, v, n, kb, changed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
os.makedirs(d + "/usr/lib/app", exist_ok=True)
for i in range(n):
    seed = i + (100000 * v if v == 2 and i < changed else 0)
    r = random.Random(seed)
    with open("%s/usr/lib/app/f%04d" % (d, i), "wb") as f:
        f.write(r.randbytes(kb * 1024))
if v == 2:
    for i in range(2):
        with open("%s/usr/lib/app/new%d" % (d, i), "wb") as f:
            f.write(random.Random(999 + i).randbytes(kb * 1024))
PY
}

registry_start reg
row() { printf '| %-56s | %13s | %13s |\n' "$1" "$2" "$3"; }
results=()

for scratch in true false; do
    rm -rf w && mkdir w && cd w
    make_big_tree rootfs 1
    write_def def.yaml "scratch_delta: $scratch" "registry:" "  url: $REG_URL" "  repository: bench/scratch-$scratch"
    builder compose -f def.yaml >/dev/null 2>&1 && builder publish -f def.yaml >/dev/null 2>&1
    builder package -f def.yaml >/dev/null 2>&1
    v1=$(builder push -f def.yaml --json 2>/dev/null)
    make_big_tree rootfs 2
    builder compose -f def.yaml --version 2.0.0 >/dev/null 2>&1 && builder publish -f def.yaml --version 2.0.0 >/dev/null 2>&1
    builder package -f def.yaml --version 2.0.0 >/dev/null 2>&1
    v2=$(builder push -f def.yaml --version 2.0.0 --json 2>/dev/null)
    results+=("dcn-builder package+push, scratch_delta=$scratch|$(json_get "$v1" uploaded_blob_bytes)|$(json_get "$v2" uploaded_blob_bytes)")
    repo_bytes=$(du -sb root/repo | cut -f1)
    cd "$T"
done

# FROM hoster + COPY repo, with buildah (the same content root, scratch delta on)
BA=(buildah --root "$T/storage" --runroot "$T/run" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot
cd w0 2>/dev/null || { mkdir w0 && cd w0; }
make_big_tree rootfs 1
write_def def.yaml
builder compose -f def.yaml >/dev/null 2>&1 && builder publish -f def.yaml >/dev/null 2>&1
out=$(builder package -f def.yaml --json 2>/dev/null)
layout=$(json_get "$out" layout)
runtime=$(python3 -c 'import json,sys; print([l["digest"] for l in json.loads(sys.argv[1])["layers"] if l["role"]=="runtime"][0])' "$out")
mkdir base && tar -xzf "$layout/blobs/sha256/${runtime#sha256:}" -C base
ctr=$("${BA[@]}" from scratch 2>/dev/null)
"${BA[@]}" copy "$ctr" base/ / >/dev/null
"${BA[@]}" config --entrypoint '["/usr/bin/dcn-hoster"]' "$ctr"
"${BA[@]}" commit -q "$ctr" localhost/hoster:bench >/dev/null 2>&1
build_content() { # VERSION
    rm -rf ctx && mkdir ctx && cp -a root/repo root/dcn-edge.ks ctx/
    "${BA[@]}" bud -q -f "$here/../containerfiles/Containerfile.content" --build-arg HOSTER_IMAGE=localhost/hoster:bench \
        --build-arg VERSION="$1" -t "localhost/edge:$1" ctx >/dev/null 2>&1
    "${BA[@]}" push -q "localhost/edge:$1" "oci:$T/copy-layout:$1" >/dev/null 2>&1
}
build_content 1.0.0
make_big_tree rootfs 2
builder compose -f def.yaml --version 2.0.0 >/dev/null 2>&1 && builder publish -f def.yaml --version 2.0.0 >/dev/null 2>&1
build_content 2.0.0
read -r c1 c2 < <(python3 - "$T/copy-layout" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))["manifests"]
def man(tag):
    dg = [m for m in idx if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]["digest"]
    return json.load(open("%s/blobs/sha256/%s" % (d, dg.split(":")[1])))
m1, m2 = man("1.0.0"), man("2.0.0")
l1 = {l["digest"] for l in m1["layers"]}
full1 = sum(l["size"] for l in m1["layers"]) + m1["config"]["size"]
new2 = sum(l["size"] for l in m2["layers"] if l["digest"] not in l1) + m2["config"]["size"]
print(full1, new2)
PY
)
results+=("FROM hoster + COPY repo (buildah), scratch_delta=true|$c1|$c2")

echo
echo "content: $FILES files x $SIZE_KB KiB random; v2 rewrites $CHANGED and adds 2; repo after v2: $repo_bytes bytes"
row "image" "pushed for v1" "pushed for v2"
row "--------------------------------------------------------" "-------------" "-------------"
for r in "${results[@]}"; do IFS='|' read -r a b c <<<"$r"; row "$a" "$b" "$c"; done
