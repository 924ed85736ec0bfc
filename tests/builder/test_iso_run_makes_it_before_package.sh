#!/bin/bash
# `run` with iso.boot_iso set makes the installer ISO between publish and
# package, so the hosting image of the version carries it; `check` lists
# the step, and without iso.boot_iso run skips it, saying why.
source "$(dirname "$0")/lib.sh"
source "$DCN_SOURCE_DIR/tests/iso/lib.sh"
command -v xorriso >/dev/null && command -v mcopy >/dev/null || skip "no xorriso/mtools"
need_hoster "package ships it"
cd "$T"
make_boot_iso boot.iso
make_tree rootfs 1
write_def def.yaml "iso:" "  boot_iso: ./boot.iso" "deploy:" "  url: http://dcn.example.test" "run:" "  skip: [push, deploy]"
out=$(builder check -f def.yaml --json 2>/dev/null) || fail "check: $out"
[[ $(json_get "$out" stages) == '["compose", "publish", "iso", "package"]' ]] || fail "check's stages: $(json_get "$out" stages)"
out=$(builder run -f def.yaml --json 2>run.err) || { cat run.err >&2; fail "run"; }
order=$(grep -o 'event=stage-done name=[a-z]*' run.err | sed 's/.*name=//' | tr '\n' ' ')
[[ $order == "compose publish iso package " ]] || fail "run's stages: $order"
[[ -f root/dcn-edge-1.0.0.iso ]] || fail "run made no ISO"
layout=$T/.dcn-state/dcn-edge/oci
python3 - "$layout" <<'PY' || fail "the image of 1.0.0 has no iso layer"
import json, sys
d = sys.argv[1]
blob = lambda dg: open("%s/blobs/sha256/%s" % (d, dg.split(":")[1]), "rb").read()
m = json.loads(blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"]))
assert [l["annotations"]["dcn.layer.role"] for l in m["layers"]][-2:] == ["iso", "top"], m["layers"]
PY
pass "run: compose publish iso package; the image's layers end with iso, top"

mkdir other && cd other # a definition of its own: its own state and repo
make_tree rootfs 1
write_def noiso.yaml "run:" "  skip: [push, deploy]"
out=$(builder run -f noiso.yaml --json 2>/dev/null) || fail "run without iso"
python3 -c 'import json,sys; s={x["name"]: x for x in json.loads(sys.argv[1])["stages"]}; sys.exit(not (s["iso"]["status"] == "skipped" and s["iso"]["reason"] == "no iso.boot_iso"))' "$out" ||
    fail "without iso.boot_iso: $out"
pass "without iso.boot_iso run skips iso (reason: no iso.boot_iso)"
