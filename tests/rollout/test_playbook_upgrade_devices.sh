#!/bin/bash
# dcn.edge.upgrade_devices (from the collection built and installed into a
# temporary path) against six devices in batches of two. Each device is a
# chroot reached through Ansible's community.general.chroot connection (a
# real connection plugin, with become through su) whose own ostree sysroot
# was installed from the kickstart dcn-hoster serves; rpm-ostree and
# systemctl are stand-ins that do the work with real `ostree admin`
# (tests/rollout/device_lib.sh, device-standin/). The hoster serves a
# repository dcn-builder published: 1.0.0 installed, 2.0.0 the upgrade.
#   a wrong variable: the job fails before any device is touched, naming it;
#   --check: every device "would upgrade", nothing changes;
#   dev4 set to fail greenboot's health check: batch 1 (dev1, dev2) and dev3
#     upgrade and boot 2.0.0 (through the static delta); dev4 boots 2.0.0,
#     is unhealthy, is rolled back and boots its 1.0.0 deployment again; the
#     play fails and stops; dev5 and dev6 are untouched; the run summary says so;
#   dev4 fixed, rerun: dev4, dev5, dev6 upgrade; dev1-3 report changed=0 and
#     nothing on them changes.
DCN_SOURCE_DIR=${DCN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$DCN_SOURCE_DIR/tests/rollout/device_lib.sh"
devices_enter_mount_ns "$@"
source "$DCN_SOURCE_DIR/tests/rollout/lib.sh"
source "$DCN_SOURCE_DIR/tests/rollout/collection_lib.sh"
need_hoster "it serves the kickstart and /-/status"
[[ -f /usr/lib/python3/dist-packages/ansible_collections/community/general/plugins/connection/chroot.py ]] ||
    ansible-doc -t connection community.general.chroot >/dev/null 2>&1 ||
    skip "no community.general.chroot connection (Debian's ansible ships it)"
on_exit devices_cleanup
cd "$T"
collection_install

# 1.0.0 published and served; six devices installed from the served kickstart
make_tree rootfs 1
write_def def.yaml "kickstart:" "  path: ./root/dcn-edge.ks"
builder compose -f def.yaml >c1.err 2>&1 && builder publish -f def.yaml >p1.err 2>&1 || { cat c1.err p1.err; fail "publish 1.0.0"; }
V1=$(ostree --repo=root/repo rev-parse "$REF")
serve_root "$T/root"
curl -fsS --noproxy '*' "$URL/dcn-edge.ks" >served.ks || fail "kickstart not served"
DEVICES=(dev1 dev2 dev3 dev4 dev5 dev6)
for dev in "${DEVICES[@]}"; do device_install "$dev" served.ks; done
for dev in "${DEVICES[@]}"; do
    [[ $(device_deployments "$dev") == "$V1.0 1.0.0" && $(device_booted "$dev") == "$V1.0" ]] ||
        fail "$dev after install: $(device_deployments "$dev"), booted $(device_booted "$dev")"
done
pass "six devices installed from the served kickstart, booted into 1.0.0 ($V1)"

# 2.0.0 published: what the hoster serves now
make_tree rootfs 2
builder compose -f def.yaml --version 2.0.0 >c2.err 2>&1 && builder publish -f def.yaml --version 2.0.0 >p2.err 2>&1 ||
    { cat c2.err p2.err; fail "publish 2.0.0"; }
V2=$(ostree --repo=root/repo rev-parse "$REF")
[[ $(curl -fsS --noproxy '*' "$URL/-/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["refs"][sys.argv[1]])' "$REF") == "$V2" ]] ||
    fail "/-/status does not serve 2.0.0's $V2"

cat >inventory.yml <<INV
all:
  children:
    dcn_devices:
      vars:
        ansible_connection: community.general.chroot
        ansible_python_interpreter: /usr/bin/python3
        ansible_become_method: su
      hosts:
$(for dev in "${DEVICES[@]}"; do printf '        %s:\n          ansible_host: %s\n' "$dev" "$T/devices/$dev"; done)
INV
# the devices' commands resolve through this PATH (chroot keeps the
# environment): the stand-ins in /usr/local/bin come first
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
VARS=(-e "dcn_device_status_url=$URL/-/status" -e dcn_device_batch=2 -e '{"dcn_device_reboot_command": "/usr/local/bin/systemctl reboot"}')

RC=0
upgrade() { # NAME [args...]: runs dcn.edge.upgrade_devices, output in $T/NAME.out, exit status in RC
    local name=$1; shift
    RC=0
    ansible-playbook -i inventory.yml dcn.edge.upgrade_devices "$@" >"$T/$name.out" 2>&1 || RC=$?
    echo "# $name: exit $RC"
}
# recap NAME HOST FIELD: a number from the PLAY RECAP line of HOST ("" when HOST has none)
recap() { sed -n "s/^$2 *:.* $3=\([0-9]*\).*/\1/p" "$T/$1.out"; }
# summary NAME KEY: the run summary's KEY as JSON (the debug task's YAML)
summary() {
    python3 - "$T/$1.out" "$2" <<'PY'
import json, sys, yaml
lines = open(sys.argv[1]).read().splitlines()
start = max(i for i, l in enumerate(lines) if l.startswith("TASK [dcn.edge.dcn_device : Run summary]"))
body = []
for l in lines[start + 1:]:
    if l.startswith(("TASK [", "PLAY ", "RUNNING HANDLER")):
        break
    body.append(l)
doc = yaml.safe_load("\n".join(l for l in body if not l.startswith(("ok:", "changed:"))))
print(json.dumps(doc["msg"][sys.argv[2]], sort_keys=True))
PY
}
states() { local dev; for dev in "${DEVICES[@]}"; do echo "== $dev"; device_state "$dev"; done; }

# a wrong variable fails before any device is touched, and says which
states >before-wrong.state
upgrade no-url -e dcn_device_batch=2
[[ $RC != 0 ]] || fail "no dcn_device_status_url: the play succeeded"
grep -q "missing required arguments: dcn_device_status_url" no-url.out || { cat no-url.out; fail "no dcn_device_status_url: not named"; }
upgrade bad-choice "${VARS[@]}" -e dcn_device_commit_metadata_first=sometimes
[[ $RC != 0 ]] && grep -q "dcn_device_commit_metadata_first must be one of: auto, always, never" bad-choice.out ||
    { cat bad-choice.out; fail "a wrong dcn_device_commit_metadata_first was not refused by name"; }
[[ $(grep -h '^TASK \[' no-url.out bad-choice.out | sort -u) == "TASK [dcn.edge.dcn_device : Validating arguments against arg spec 'main' - "* ]] ||
    { grep -h '^TASK \[' no-url.out bad-choice.out; fail "a task ran although the variables were wrong"; }
states >after-wrong.state
cmp -s before-wrong.state after-wrong.state || fail "a failed argument check changed a device"
pass "a missing or wrong variable fails before any device is touched, naming the variable"

# --check: which devices would upgrade; nothing changes
upgrade check "${VARS[@]}" --check
[[ $RC == 0 ]] || { cat check.out; fail "--check failed"; }
[[ $(summary check would_upgrade) == '["dev1", "dev2", "dev3", "dev4", "dev5", "dev6"]' ]] || { cat check.out; fail "--check: $(summary check would_upgrade)"; }
states >after-check.state
cmp -s before-wrong.state after-check.state || { diff before-wrong.state after-check.state; fail "--check changed a device"; }
pass "--check: all six would upgrade, none changed"

# dev4 fails its health check after the upgrade
echo fail >"$T/devices/dev4/standin/greenboot"
for dev in dev5 dev6; do device_state "$dev" >"$dev.before"; done
DEV4_BEFORE=$(device_booted dev4)
log_mark
upgrade first "${VARS[@]}"
[[ $RC != 0 ]] || { cat first.out; fail "the run with an unhealthy device succeeded"; }
for dev in dev1 dev2 dev3; do
    [[ $(device_booted "$dev") == "$V2.0" && $(device_deployments "$dev") == "$V2.0 2.0.0"$'\n'"$V1.0 1.0.0" ]] ||
        { cat first.out; fail "$dev: booted $(device_booted "$dev"), deployments $(device_deployments "$dev" | tr '\n' ' ')"; }
    [[ $(recap first "$dev" failed) == 0 && $(recap first "$dev" changed) -gt 0 ]] || fail "$dev recap: $(grep "^$dev " first.out)"
done
[[ $(device_booted dev4) == "$DEV4_BEFORE" ]] || { cat first.out; fail "dev4 was not rolled back: booted $(device_booted dev4), was $DEV4_BEFORE"; }
[[ $(device_deployments dev4 | head -n1) == "$V1.0 1.0.0" ]] || fail "dev4: the previous deployment is not the default: $(device_deployments dev4 | tr '\n' ' ')"
[[ $(cat "$T/devices/dev4/standin/boots") == "$V1.0"$'\n'"$V2.0"$'\n'"$V1.0" ]] || fail "dev4 boots: $(tr '\n' ' ' <"$T/devices/dev4/standin/boots")"
[[ $(recap first dev4 failed) == 1 ]] || fail "dev4 recap: $(grep '^dev4 ' first.out)"
for dev in dev5 dev6; do
    device_state "$dev" | cmp -s - "$dev.before" || fail "$dev was touched by a run that stopped before its batch"
    [[ -z $(recap first "$dev" ok) ]] || fail "$dev ran: $(grep "^$dev " first.out)"
done
tr -s ' \n' ' ' <first.out | grep -q "fatal: \[dev4\]: FAILED! => changed: false msg: 'failed and rolled back: Check that greenboot says healthy: greenboot health check failed after booting $V2" ||
    { grep -A3 'fatal: \[dev4\]' first.out; fail "dev4's failure does not give the reason"; }
[[ $(summary first upgraded) == '["dev1", "dev2", "dev3"]' && $(summary first skipped) == '["dev5", "dev6"]' && $(summary first already_current) == '[]' ]] ||
    { sed -n '/Run summary\]/,/^PLAY RECAP/p' first.out; fail "first run summary"; }
summary first failed_and_rolled_back | grep -q '"dev4": ".*greenboot health check failed' || fail "summary: dev4 not failed and rolled back: $(summary first failed_and_rolled_back)"
PATHS=$(paths_since_mark)
grep -q "^/repo/deltas/" <<<"$PATHS" || fail "the upgrades did not use the static delta"
! grep -q '\.filez$' <<<"$PATHS" || fail "the upgrades fetched loose file objects"
pass "dev4 unhealthy: dev1-3 upgraded to 2.0.0 (static delta), dev4 rolled back to $DEV4_BEFORE and failed, the play stopped, dev5-6 untouched"
sed -n '/TASK \[dcn.edge.dcn_device : Run summary\]/,/^$/p' first.out

# dev4 fixed: the rerun upgrades the rest and changes nothing on the others
echo pass >"$T/devices/dev4/standin/greenboot"
for dev in dev1 dev2 dev3; do device_state "$dev" >"$dev.before"; done
upgrade rerun "${VARS[@]}"
[[ $RC == 0 ]] || { cat rerun.out; fail "rerun after the fix failed"; }
for dev in dev1 dev2 dev3; do
    [[ $(recap rerun "$dev" changed) == 0 && $(recap rerun "$dev" failed) == 0 ]] || fail "$dev rerun: $(grep "^$dev " rerun.out)"
    device_state "$dev" | cmp -s - "$dev.before" || fail "$dev changed on the rerun"
done
for dev in dev4 dev5 dev6; do
    [[ $(device_booted "$dev") == "$V2".* && $(device_deployments "$dev" | head -n1) == "$V2".*" 2.0.0" ]] ||
        fail "$dev after the rerun: booted $(device_booted "$dev"), deployments $(device_deployments "$dev" | tr '\n' ' ')"
    [[ $(recap rerun "$dev" changed) -gt 0 ]] || fail "$dev rerun: $(grep "^$dev " rerun.out)"
done
[[ $(summary rerun upgraded) == '["dev4", "dev5", "dev6"]' && $(summary rerun already_current) == '["dev1", "dev2", "dev3"]' \
   && $(summary rerun skipped) == '[]' && $(summary rerun failed_and_rolled_back) == '{}' ]] ||
    { sed -n '/Run summary\]/,/^PLAY RECAP/p' rerun.out; fail "rerun summary"; }
pass "rerun after the fix: dev4-6 upgraded, dev1-3 changed=0 and unchanged"
sed -n '/^PLAY RECAP/,$p' rerun.out
echo "5 passed, 0 failed"
