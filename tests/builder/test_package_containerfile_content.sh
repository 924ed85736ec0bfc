#!/bin/bash
# containerfiles/Containerfile.content with buildah, daemonless (vfs storage
# in $T, chroot isolation, no RUN step): a content root layered on a
# hoster-only base image. No base image can be pulled here, so the base is
# made from the runtime layer `dcn-builder package` wrote (what
# Containerfile.hoster's final stage holds). The result is exported as an
# OCI layout, unpacked with umoci, its entrypoint run as an arbitrary UID on
# a read-only root, and ostree pulls from it.
# Containerfile.hoster itself (multi-stage from source) needs a Debian base
# image from the internet: not built here (docs/image.md).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/push_lib.sh"
need_tools buildah umoci ostree
# buildah applies a layer after `mount --make-rprivate /`, which the kernel
# refuses (EINVAL) where / is not a mount point: inside a chroot such as
# ../shared/tools/fresh-debian's. A machine or container root always is one.
mountpoint -q / || skip "/ is not a mount point here (a chroot): buildah cannot commit layers (remount / fails with EINVAL)"
cd "$T"
BA=(buildah --root "$T/storage" --runroot "$T/run" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot

make_tree rootfs 1
write_def def.yaml
builder compose -f def.yaml >/dev/null 2>&1 || fail "compose"
out=$(builder publish -f def.yaml --json 2>/dev/null) || fail "publish"
v1=$(json_get "$out" commit)
out=$(builder package -f def.yaml --json 2>/dev/null) || fail "package"
layout=$(json_get "$out" layout)
runtime=$(python3 -c 'import json,sys; print([l["digest"] for l in json.loads(sys.argv[1])["layers"] if l["role"]=="runtime"][0])' "$out")

# the hoster-only base image
mkdir base-rootfs
tar -xzf "$layout/blobs/sha256/${runtime#sha256:}" -C base-rootfs || fail "extracting the runtime layer"
ctr=$("${BA[@]}" from scratch 2>/dev/null) || fail "buildah from scratch"
"${BA[@]}" copy "$ctr" base-rootfs/ / >/dev/null || fail "buildah copy"
"${BA[@]}" config --user 1001 --port 8080 --entrypoint '["/usr/bin/dcn-hoster"]' \
    --cmd '--listen=0.0.0.0:8080 --root=/srv/dcn/content' "$ctr" || fail "buildah config"
"${BA[@]}" commit -q "$ctr" localhost/dcn-hoster:test >/dev/null 2>&1 || fail "buildah commit of the base"
pass "hoster-only base image from the runtime layer"

# the content image, the way an operator would build it
mkdir ctx
cp -a root/repo root/dcn-edge.ks ctx/
"${BA[@]}" bud -q -f "$DCN_SOURCE_DIR/containerfiles/Containerfile.content" \
    --build-arg HOSTER_IMAGE=localhost/dcn-hoster:test --build-arg VERSION=1.0.0 \
    -t localhost/dcn-edge:1.0.0 ctx >bud.out 2>&1 || { cat bud.out; fail "buildah bud Containerfile.content"; }
"${BA[@]}" push -q localhost/dcn-edge:1.0.0 "oci:$T/content-layout:1.0.0" >/dev/null 2>&1 || fail "buildah push to an OCI layout"
umoci unpack --rootless --image "$T/content-layout:1.0.0" bundle >/dev/null 2>&1 || fail "umoci unpack"
IMAGE_CONFIG=$T/config.json
python3 - "$T/content-layout" "$IMAGE_CONFIG" <<'PY'
import json, sys
d = sys.argv[1]
blob = lambda dg: open("%s/blobs/sha256/%s" % (d, dg.split(":")[1]), "rb").read()
m = json.loads(blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"]))
c = blob(m["config"]["digest"])
assert json.loads(c)["config"]["Labels"]["org.opencontainers.image.version"] == "1.0.0"
open(sys.argv[2], "wb").write(c)
PY
[[ $? == 0 ]] || fail "the built image has no version label"
pass "buildah bud Containerfile.content: $(du -sb "$T/content-layout/blobs" | cut -f1) bytes of blobs"

if ! can_run_entrypoint; then
    echo "SKIP: running the entrypoint needs root with unshare/nsenter here"
    echo "1 passed, 0 failed"
    exit 0
fi
run_entrypoint "$T/bundle/rootfs" entry
in_entry_net ostree init --mode=bare-user --repo="$T/client"
in_entry_net ostree --repo="$T/client" remote add --no-gpg-verify dcn http://127.0.0.1:8080/repo
in_entry_net ostree --repo="$T/client" pull dcn "$REF" >/dev/null || { cat "$ENTRY_ERR"; fail "ostree pull from the buildah image"; }
[[ $(ostree --repo="$T/client" rev-parse "dcn:$REF") == "$v1" ]] || fail "the client is not at 1.0.0"
pass "the buildah-built image serves the repo as uid 1000740000 on a read-only root; ostree pull works"
echo "1 passed, 0 failed"
