# Helpers for the build-infrastructure tests (provision, install, compose
# weldr, teardown, run). Source after lib.sh.
#
# There is no cluster and no libvirt daemon here: kubevirt and libvirt are
# tested with fake `kubectl` and `virsh` executables put first on PATH. They
# record their arguments (JSON lines in $T/kubectl.log, $T/virsh.log),
# check what they are given (manifests parse as YAML with the right kinds;
# the domain XML parses and names disks that exist) and answer like the
# real ones (NotFound errors, `kubectl get -o json` objects, `virsh
# domstate` words). The "VM" is an OpenSSH server this script starts on
# 127.0.0.1 whose AuthorizedKeysFile is the key provision generated (what
# cloud-init would have installed), so install and compose really go over
# SSH. osbuild-composer is tests/weldr-standin/weldr_standin.py.

STANDIN=$DCN_SOURCE_DIR/tests/weldr-standin/weldr_standin.py
SSHD_BIN=$(command -v sshd || echo /usr/sbin/sshd)
ME=$(id -un)

# standin_start [stand-in flags...]: sets WELDR_SOCK, WELDR_LOG, STANDIN_PID.
# The base tree of every compose is $T/base (make_tree variant 1 unless the
# test made it).
standin_start() {
    WELDR_SOCK=$T/weldr/api.socket
    WELDR_LOG=$T/weldr.log
    mkdir -p "$T/weldr"
    rm -f "$WELDR_SOCK"
    [[ -d $T/base ]] || make_tree "$T/base" 1
    python3 "$STANDIN" --socket "$WELDR_SOCK" --log "$WELDR_LOG" --work "$T/weldr-work" --base-tree "$T/base" \
        "$@" 2>>"$T/standin.err" &
    STANDIN_PID=$!
    _dcn_pids+=("$STANDIN_PID")
    local i
    for i in $(seq 1 100); do [[ -S $WELDR_SOCK ]] && return 0; sleep 0.05; done
    cat "$T/standin.err" >&2
    fail "weldr stand-in did not start"
}
standin_stop() { kill "$STANDIN_PID" 2>/dev/null || true; wait "$STANDIN_PID" 2>/dev/null || true; }

# No request broke the published API.
standin_no_violations() {
    if grep -q '"violation"' "$WELDR_LOG"; then
        grep '"violation"' "$WELDR_LOG" >&2
        fail "the stand-in saw requests that do not follow the Weldr API"
    fi
}
# standin_count KEY: how many log lines of the current stand-in (since it
# last started) have that member (compose_started, fetch, compose_cancelled...).
standin_count() {
    python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    e=json.loads(l)
    if "started" in e: n=0
    elif sys.argv[2] in e: n+=1
print(n)' "$WELDR_LOG" "$1"
}
# standin_requests METHOD PATH-PREFIX: how many such requests the current stand-in got.
standin_requests() {
    python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    e=json.loads(l)
    if "started" in e: n=0
    elif e.get("request")==sys.argv[2] and e.get("path","").startswith(sys.argv[3]): n+=1
print(n)' "$WELDR_LOG" "$1" "$2"
}

# standin_get PATH: GET PATH on the stand-in's socket as a Weldr client
# would (Host localhost); prints the HTTP status line, then the body.
standin_get() {
    python3 -c 'import http.client, socket, sys
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
c = C("localhost")
c.request("GET", sys.argv[2])
r = c.getresponse()
print(r.status, r.getheader("Content-Type"))
sys.stdout.write(r.read().decode())' "$WELDR_SOCK" "$1"
}
# standin_listed: every compose composer still holds, as its own list
# endpoints show them (queue new/run, finished, failed): "<list> <id> <status>"
# lines, nothing when its store is empty.
standin_listed() {
    local q f x
    q=$(standin_get /api/v1/compose/queue | tail -n +2)
    f=$(standin_get /api/v1/compose/finished | tail -n +2)
    x=$(standin_get /api/v1/compose/failed | tail -n +2)
    python3 -c 'import json, sys
for text in sys.argv[1:]:
    for name, entries in json.loads(text).items():
        for e in entries:
            print(name, e["id"], e["queue_status"])' "$q" "$f" "$x"
}

# sshd_start AUTHORIZED_KEYS_FILE: an OpenSSH server on 127.0.0.1 for $ME.
# Sets SSHD_PORT, SSHD_PID, SSHD_KNOWN_HOSTS (a known_hosts line for it).
sshd_start() {
    local keys=$1 d=$T/sshd
    [[ -x $SSHD_BIN ]] || fail "no sshd: install openssh-server (scripts/deps/test.txt)"
    mkdir -p "$d"
    [[ -f $d/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519"
    [[ $(id -u) != 0 ]] || mkdir -p /run/sshd
    SSHD_PORT=${SSHD_PORT:-$(free_port)}
    cat >"$d/config" <<EOF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile $d/pid
AuthorizedKeysFile $keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
LogLevel ERROR
EOF
    "$SSHD_BIN" -D -e -f "$d/config" 2>>"$T/sshd.err" &
    SSHD_PID=$!
    _dcn_pids+=("$SSHD_PID")
    local i
    for i in $(seq 1 100); do
        if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$SSHD_PORT" 2>/dev/null; then
            SSHD_KNOWN_HOSTS=$T/known_hosts
            echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" >"$SSHD_KNOWN_HOSTS"
            return 0
        fi
        kill -0 "$SSHD_PID" 2>/dev/null || { cat "$T/sshd.err" >&2; fail "sshd exited at start"; }
        sleep 0.05
    done
    fail "sshd did not start"
}
sshd_stop() { kill "$SSHD_PID" 2>/dev/null || true; wait "$SSHD_PID" 2>/dev/null || true; }

# fake_tools: writes the fake kubectl and virsh into $T/bin and puts it first on PATH.
fake_tools() {
    mkdir -p "$T/bin" "$T/fake"
    export FAKE_STATE=$T/fake FAKE_LOG_DIR=$T
    cat >"$T/bin/kubectl" <<'EOF'
#!/usr/bin/env python3
# Fake kubectl (tests only): records argv, answers like kubectl against a
# cluster with KubeVirt and CDI. Objects live as JSON files in $FAKE_STATE.
import json, os, sys, yaml
state, logdir = os.environ["FAKE_STATE"], os.environ["FAKE_LOG_DIR"]
argv = sys.argv[1:]
with open(os.path.join(logdir, "kubectl.log"), "a") as f:
    f.write(json.dumps(argv) + "\n")
ns = "default"
if "-n" in argv:
    i = argv.index("-n"); ns = argv[i + 1]; del argv[i:i + 2]
GROUPS = {"VirtualMachine": "virtualmachine.kubevirt.io", "Secret": "secret", "DataVolume": "datavolume.cdi.kubevirt.io"}
KINDS = {"virtualmachine": "VirtualMachine", "secret": "Secret", "datavolume": "DataVolume",
         "virtualmachineinstance": "VirtualMachineInstance", "vmi": "VirtualMachineInstance"}
def path(kind, name): return os.path.join(state, "%s.%s.%s.json" % (ns, kind, name))
def die(msg, code=1): sys.stderr.write(msg + "\n"); sys.exit(code)
cmd = argv[0]
if cmd == "apply":
    files = [argv[i + 1] for i, a in enumerate(argv) if a == "-f"]
    for fn in files:
        for doc in yaml.safe_load_all(open(fn)):
            if not doc: continue
            for k in ("apiVersion", "kind", "metadata"):
                if k not in doc: die("error: error validating \"%s\": %s not set" % (fn, k))
            kind, name = doc["kind"], doc["metadata"]["name"]
            if kind not in GROUPS: die("error: unexpected kind %s in %s" % (kind, fn))
            if doc["metadata"].get("namespace", ns) != ns: die("error: the namespace from the provided object does not match")
            p = path(kind, name)
            verb = "created"
            if os.path.exists(p):
                verb = "unchanged" if json.load(open(p)) == doc else "configured"
            json.dump(doc, open(p, "w"))
            print("%s/%s %s" % (GROUPS[kind], name, verb))
    sys.exit(0)
if cmd == "get":
    kind, name = KINDS.get(argv[1], argv[1]), argv[2]
    if kind == "VirtualMachineInstance":
        if not os.path.exists(path("VirtualMachine", name)):
            die('Error from server (NotFound): virtualmachineinstances.kubevirt.io "%s" not found' % name)
        n = path("VirtualMachineInstance", name) + ".polls"
        polls = int(open(n).read()) if os.path.exists(n) else 0
        open(n, "w").write(str(polls + 1))
        if polls == 0:   # the DataVolume is still importing
            die('Error from server (NotFound): virtualmachineinstances.kubevirt.io "%s" not found' % name)
        if polls == 1:
            st = {"phase": "Scheduling", "conditions": []}
        else:
            st = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}, {"type": "AgentConnected", "status": "True"}],
                  "interfaces": [{"name": "default", "ipAddress": os.environ.get("FAKE_VMI_IP", "127.0.0.1") + "/32"}]}
        print(json.dumps({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": name, "namespace": ns}, "status": st}))
        sys.exit(0)
    if kind == "DataVolume":
        vm = [f for f in os.listdir(state) if f.startswith(ns + ".VirtualMachine.")]
        if not vm: die('Error from server (NotFound): datavolumes.cdi.kubevirt.io "%s" not found' % name)
        print(json.dumps({"kind": "DataVolume", "metadata": {"name": name}, "status": {"phase": "ImportInProgress", "progress": "42.00%"}}))
        sys.exit(0)
    die("error: the server doesn't have a resource type \"%s\"" % argv[1])
if cmd == "delete":
    objs = [a for a in argv[1:] if not a.startswith("--")]
    for o in objs:
        k, name = o.split("/", 1)
        kind = KINDS.get(k, k)
        p = path(kind, name)
        if kind == "DataVolume":  # owned by the VM: gone with it
            p2 = path("VirtualMachine", name.rsplit("-rootdisk", 1)[0])
            if os.path.exists(p2) or os.path.exists(p):
                print('datavolume.cdi.kubevirt.io "%s" deleted' % name)
            continue
        if os.path.exists(p):
            os.unlink(p)
            if os.path.exists(path("VirtualMachineInstance", name) + ".polls"): os.unlink(path("VirtualMachineInstance", name) + ".polls")
            print('%s "%s" deleted' % (GROUPS.get(kind, kind), name))
        elif "--ignore-not-found=true" not in argv:
            die('Error from server (NotFound): %s "%s" not found' % (k, name))
    sys.exit(0)
die("fake kubectl: unsupported: %s" % " ".join(sys.argv[1:]))
EOF
    cat >"$T/bin/virsh" <<'EOF'
#!/usr/bin/env python3
# Fake virsh (tests only): records argv, keeps domains as files in
# $FAKE_STATE, checks the domain XML like `virsh define` would.
import json, os, sys
import xml.etree.ElementTree as ET
state, logdir = os.environ["FAKE_STATE"], os.environ["FAKE_LOG_DIR"]
argv = sys.argv[1:]
with open(os.path.join(logdir, "virsh.log"), "a") as f:
    f.write(json.dumps(argv) + "\n")
while argv and argv[0] in ("-q", "-c"):
    argv = argv[2:] if argv[0] == "-c" else argv[1:]
def dom(name): return os.path.join(state, "domain." + name)
def die(msg): sys.stderr.write(msg + "\n"); sys.exit(1)
cmd, rest = argv[0], argv[1:]
if cmd == "define":
    try:
        root = ET.parse(rest[0]).getroot()
    except ET.ParseError as e:
        die("error: Failed to define domain from %s\nerror: (domain_definition):%s" % (rest[0], e))
    if root.tag != "domain" or root.get("type") not in ("kvm", "qemu"): die("error: bad domain type")
    name = root.findtext("name")
    for d in root.iter("disk"):
        src = d.find("source").get("file")
        if not os.path.exists(src): die("error: Cannot access storage file '%s': No such file or directory" % src)
    json.dump({"xml": open(rest[0]).read(), "state": "shut off"}, open(dom(name), "w"))
    print("Domain '%s' defined from %s" % (name, rest[0])); sys.exit(0)
name = rest[0] if rest else ""
if not os.path.exists(dom(name)):
    die("error: failed to get domain '%s'" % name)
d = json.load(open(dom(name)))
if cmd == "domstate": print(d["state"]); print(); sys.exit(0)
if cmd == "start":
    if d["state"] == "running": die("error: Domain is already active")
    d["state"] = "running"; json.dump(d, open(dom(name), "w")); print("Domain '%s' started" % name); sys.exit(0)
if cmd == "destroy":
    if d["state"] != "running": die("error: Requested operation is not valid: domain is not running")
    d["state"] = "shut off"; json.dump(d, open(dom(name), "w")); print("Domain '%s' destroyed" % name); sys.exit(0)
if cmd == "undefine":
    os.unlink(dom(name)); print("Domain '%s' has been undefined" % name); sys.exit(0)
if cmd == "domifaddr":
    print(" vnet0      52:54:00:12:34:56    ipv4         %s/24" % os.environ.get("FAKE_DOMAIN_IP", "127.0.0.1")); sys.exit(0)
die("fake virsh: unsupported: %s" % " ".join(sys.argv[1:]))
EOF
    chmod +x "$T/bin/kubectl" "$T/bin/virsh"
    export PATH=$T/bin:$PATH
}

