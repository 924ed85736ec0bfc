#!/bin/bash
# docs/operator-guide.md as written, on a builder host played by a
# directory: the guide's absolute paths (/srv/dcn, /etc/dcn,
# /usr/local/share/dcn) are moved under $T/root, the cluster is
# tests/rollout/fake-kubectl as `oc` (its `kustomize` is the real kubectl's),
# and virtctl is a stub (a dry run never connects). The guide's own section
# 2 commands make the signing key; its section 3 definition and overlay are
# taken from the page, only the example key id is replaced by the new key's.
# Then, from a fresh state directory: the guide's `check`, its `deploy
# --dry-run`, its first version (`run ... --version 1.0.0`) and, once the
# hosted repo has 1.0.0, its next version (2.0.0), each with --dry-run, must
# exit 0; the plans use a marked placeholder where push has not run. A copy
# of the definition without composer.url must fail the next version at the
# preflight (exit 2), naming the line. No composer is needed: a dry run
# prints the Weldr requests instead of sending them.
source "$(dirname "$0")/../rollout/lib.sh"
command -v ostree >/dev/null || skip "no ostree CLI (scripts/deps/test.txt)"
command -v gpg >/dev/null || skip "no gpg (scripts/deps/test.txt)"
python3 -c 'import yaml' 2>/dev/null || skip "PyYAML missing (python3-yaml)"
fake_kube
GUIDE=$DCN_SOURCE_DIR/docs/operator-guide.md
ROOT=$T/root
extract() { python3 "$DCN_SOURCE_DIR/tests/docs/docs_blocks.py" extract "$GUIDE" --root "$ROOT" "$@"; }
cd "$T"
unset KUBERNETES_SERVICE_HOST
cat >"$T/fakebin/virtctl" <<'STUB'
#!/bin/sh
echo "virtctl stub (tests/docs): a dry run must not connect: $*" >&2
exit 1
STUB
chmod +x "$T/fakebin/virtctl"
export GNUPGHOME=$T/gnupg-default
_dcn_on_exit+=("gpgconf --homedir '$ROOT/etc/dcn/gnupg' --kill gpg-agent 2>/dev/null")

# section 2, the parts that run on the builder host alone
mkdir -p "$ROOT/etc" "$ROOT/srv" "$ROOT/usr/local/share/dcn"
install -d -m 700 "$ROOT/etc/dcn"
install -d -m 755 "$ROOT/srv/dcn"
ln -s "$DCN_SOURCE_DIR/manifests" "$ROOT/usr/local/share/dcn/manifests" # what cmake --install puts there
echo "token-from-oc-create-token" >"$ROOT/etc/dcn/token"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=ingress-ca -keyout /dev/null -out "$ROOT/etc/dcn/ingress-ca.crt" \
    -days 1 2>/dev/null || echo "placeholder CA" >"$ROOT/etc/dcn/ingress-ca.crt"
: >"$ROOT/etc/dcn/kubeconfig"
extract --section "2. The project" --lang sh --contains "quick-gen-key" >section2.sh || fail "section 2 block"
python3 - section2.sh >signing.sh <<'PY'
import sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
for line in text.split("\n"):
    w = line.split()
    if w and (w[0] == "gpg" or w[:2] == ["install", "-d"]) and "/etc/dcn/gnupg" in line:
        print(line)
PY
[[ $(grep -c . signing.sh) == 3 ]] || fail "section 2 should make the key in 3 commands: $(cat signing.sh)"
bash -e signing.sh >signing.out 2>signing.err || fail "the guide's key commands failed: $(cat signing.err)"
KEYID=$(sed -n 's|^sec *[a-z0-9]*/\([0-9A-F]\{16\}\) .*|\1|p' signing.out | head -n1)
[[ -n $KEYID ]] || fail "no 'sec <algo>/<KEY ID>' line from the guide's --list-secret-keys: $(cat signing.out)"
pass "section 2's gpg commands make a signing key ($KEYID) in /etc/dcn/gnupg"

# section 3: the definition and the overlay, as on the page
extract --section "3. The image definition" --lang yaml --contains "name: dcn-edge" >def.yaml || fail "no definition"
example_key=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["sign"]["gpg_key_id"])' def.yaml)
sed "s/$example_key/$KEYID/" def.yaml >"$ROOT/srv/dcn/dcn-edge.yaml"
mkdir -p "$ROOT/srv/dcn/site"
extract --section "3. The image definition" --lang yaml --contains "kind: Kustomization" \
    >"$ROOT/srv/dcn/site/kustomization.yaml" || fail "no overlay"
# the guide's commands, with the moved paths, plus --dry-run where the guide runs for real
guide_cmd() { # guide_cmd SECTION CONTAINS: the command line(s) of that block that run dcn-builder
    extract --section "$1" --lang sh --contains "$2" | python3 -c '
import sys; t = sys.stdin.read().replace("\\\n", " ")
print("\n".join(l.strip() for l in t.split("\n") if l.strip().startswith("dcn-builder") and sys.argv[1] in l))' "$2"
}
run_guide() { # run_guide NAME COMMAND...: runs a guide command line with the built dcn-builder
    local name=$1; shift
    local line="$*"
    [[ -n $line ]] || fail "$name: no such command in the guide"
    export KUBECONFIG=$ROOT/etc/dcn/kubeconfig
    (eval "${line/dcn-builder/\"\$DCN_BUILDER\"}") >"$name.out" 2>"$name.err"
}

run_guide check "$(guide_cmd "3. The image definition" "dcn-builder check")" ||
    fail "the guide's check: $(cat check.err)"
grep -q "ready for provision install compose publish package push teardown deploy 1.0.0" check.out ||
    fail "check did not cover the whole run: $(cat check.out)"
pass "the guide's definition passes the preflight of every stage run goes through"

run_guide deploy-dry "$(guide_cmd "3. The image definition" "deploy -f")" ||
    fail "the guide's deploy --dry-run: $(cat deploy-dry.err)"
grep -q "host: dcn.apps.example.com" deploy-dry.out || fail "the overlay's Route host is not in the rendered manifests"
pass "the guide's deploy --dry-run renders the overlay (the Route gets the guide's host)"

first=$(guide_cmd "4. The first version" "--version 1.0.0")
run_guide first "$first --dry-run" || fail "the first version's run --dry-run (fresh state directory): $(tail -n5 first.err)"
for want in "kind: VirtualMachine" "name: \"rhel9\"" "virtctl -n dcn port-forward --stdio=true vm/dcn-edge-builder 22" \
            "POST /api/v1/compose" "no parent: rhel/9/x86_64/edge has no published head yet" \
            "would publish 1.0.0 on rhel/9/x86_64/edge" "push has not run yet" "the image below is a PLACEHOLDER" \
            "image-registry.openshift-image-registry.svc:5000/dcn/dcn-hoster@sha256:0000000000000000000000000000000000000000000000000000000000000000"; do
    grep -qF -- "$want" first.out || fail "the first version's plan lacks '$want'"
done
[[ ! -e $ROOT/srv/dcn/.dcn-state/dcn-edge/run.json && ! -e $ROOT/srv/dcn/root ]] || fail "the dry run wrote state or a repo"
pass "the guide's first version, --dry-run on a fresh state directory: exit 0, deploy on a marked placeholder digest"

# 1.0.0 is hosted: the next version builds on it through composer.url
make_tree "$T/tree" 1
mkdir -p "$ROOT/srv/dcn/root"
ostree init --mode=archive --repo="$ROOT/srv/dcn/root/repo"
ostree --repo="$ROOT/srv/dcn/root/repo" commit -b rhel/9/x86_64/edge --tree=dir="$T/tree" -s "dcn-edge 1.0.0" \
    --add-metadata-string=version=1.0.0 >/dev/null
next=$(guide_cmd "6. Upgrading the fleet" "--version 2.0.0")
run_guide next "$next --dry-run" || fail "the next version's run --dry-run: $(tail -n5 next.err)"
grep -qF "composer reads http://dcn-hoster.dcn.svc:8080/repo/refs/heads/rhel/9/x86_64/edge" next.out ||
    fail "the next version is not composed on the hosted head: $(grep -A2 'POST /api/v1/compose' next.out)"
pass "the guide's next version, --dry-run: composer is sent to the hosted head (composer.url)"

# the same definition without composer.url: the preflight stops the next version, naming the line
grep -v "^  url: http://dcn-hoster" "$ROOT/srv/dcn/dcn-edge.yaml" >"$ROOT/srv/dcn/broken.yaml"
line=$(grep -n "^composer:" "$ROOT/srv/dcn/broken.yaml" | cut -d: -f1)
rc=0; "$DCN_BUILDER" run -f "$ROOT/srv/dcn/broken.yaml" --version 2.0.0 >broken.out 2>broken.err || rc=$?
[[ $rc == 2 ]] || fail "a definition without composer.url: exit $rc, expected 2: $(cat broken.err)"
grep -q "broken.yaml:$line: composer.url is not set" broken.err || fail "no line for composer.url: $(cat broken.err)"
[[ -z $(grep '"apply"' "$FAKE_KUBE_DIR/calls.log") ]] || fail "something was applied"
pass "without composer.url the next version stops at the preflight (exit 2, broken.yaml:$line), nothing applied"
echo "6 passed, 0 failed"
