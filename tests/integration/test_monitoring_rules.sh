#!/bin/bash
# The monitoring component (manifests/hoster/monitoring): the PrometheusRule's
# groups pass `promtool check rules`, every alert fires on the situation it
# names and not before (`promtool test rules`, monitoring/rules.test.yaml),
# every dcn_hoster_* metric the rules use is one a running dcn-hoster
# exports, and, where kubectl can render kustomize components, the
# component on top of the OpenShift and Kubernetes layouts, alone and with
# the ops-port component, gives a ServiceMonitor that reaches /-/metrics on
# the right Service port, probes on the port that answers them, a Route or
# Ingress that reach only content, and manifests that still pass
# tests/rollout/check_manifests.py. Skipped (77) without promtool (Debian package prometheus).
source "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || skip "no promtool (Debian package prometheus, scripts/deps/test.txt)"
python3 -c 'import yaml' 2>/dev/null || skip "PyYAML missing (python3-yaml)"
MON=$DCN_SOURCE_DIR/manifests/hoster/monitoring
RULE=$MON/prometheusrule.yaml

# rules.yaml: the groups as Prometheus reads them; the test copy without
# annotations (promtool test rules compares annotations whole; check rules
# has parsed their templates already)
python3 - "$RULE" "$T/full.yaml" "$T/rules.yaml" <<'PY' || fail "cannot extract the rule groups from $RULE"
import sys, yaml
src, full, bare = sys.argv[1:]
d = yaml.safe_load(open(src))
assert d["kind"] == "PrometheusRule" and d["apiVersion"] == "monitoring.coreos.com/v1", d["kind"]
groups = d["spec"]["groups"]
yaml.safe_dump({"groups": groups}, open(full, "w"), sort_keys=False)
for g in groups:
    for r in g["rules"]:
        r.pop("annotations", None)
yaml.safe_dump({"groups": groups}, open(bare, "w"), sort_keys=False)
PY
if out=$(promtool check rules "$T/full.yaml" 2>&1); then pass "promtool check rules: $(echo "$out" | grep -o '[0-9]* rules found')"; else bad "promtool check rules: $out"; fi
cp "$(dirname "$0")/monitoring/rules.test.yaml" "$T/"
if out=$(cd "$T" && promtool test rules rules.test.yaml 2>&1); then pass "promtool test rules: every alert fires when it should and not before"; else bad "promtool test rules: $out"; fi
for a in DcnHosterNoReadyReplica DcnHosterServerErrors DcnHosterReplicasServeDifferentCommits DcnHosterNewVersionNotFetched; do
    grep -q "alertname: $a$" "$T/rules.test.yaml" && grep -q "alert: $a$" "$T/full.yaml" || bad "alert $a missing from the rules or their tests"
done

# every metric the rules use exists on a running hoster
make_sample_root "$T/root"
hoster_start mon --root "$T/root" --ops-listen 127.0.0.1:0
OPS=http://127.0.0.1:$(sed -n 's|^dcn-hoster: listening on http://[^ ]*:\([0-9]*\)/ (operations.*|\1|p' "$HOSTER_ERR" | head -n1)
hcurl -o "$T/metrics.txt" "$OPS/-/metrics"
hoster_stop
used=$(grep -o 'dcn_hoster_[a-z_]*' "$T/full.yaml" | sort -u)
[[ -n $used ]] || bad "the rules use no dcn_hoster_ metric"
for m in $used; do
    grep -q "^$m[{ ]" "$T/metrics.txt" && pass "the rules' $m is exported" || bad "the rules use $m, which dcn-hoster does not export"
done

# rendering: kubectl's kustomize must know Components (kustomize >= 3.7)
if ! command -v kubectl >/dev/null || ! kubectl kustomize --help >/dev/null 2>&1; then
    echo "note: no kubectl with kustomize: the component's rendering is not checked"
    finish; exit 0
fi
DIGEST=sha256:$(printf fleet | sha256sum | cut -c1-64)
for variant in openshift kubernetes openshift+ops kubernetes+ops; do
    platform=${variant%+ops}
    comps="  - hoster/monitoring"
    [[ $variant == *+ops ]] && comps+=$'\n'"  - hoster/ops-port"
    mkdir -p "$T/overlay-$variant"
    cp -r "$DCN_SOURCE_DIR/manifests/hoster" "$T/overlay-$variant/hoster"
    cat >"$T/overlay-$variant/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - hoster/$platform
components:
$comps
images:
  - name: dcn-hoster
    newName: registry.example/dcn/dcn-hoster
    digest: $DIGEST
YAML
    if ! kubectl kustomize "$T/overlay-$variant" >"$T/$variant.yaml" 2>"$T/$variant.err"; then
        if grep -qi "component" "$T/$variant.err"; then
            echo "note: this kubectl's kustomize cannot render components: $(head -1 "$T/$variant.err")"
            continue
        fi
        bad "$variant: does not render: $(cat "$T/$variant.err")"
        continue
    fi
    python3 - "$T/$variant.yaml" "$variant" <<'PY' >"$T/$variant.checks" || bad "$variant: the render check died"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
variant = sys.argv[2]
ops = variant.endswith("+ops")
def check(what, cond, detail=""):
    print("PASS\t%s: %s" % (variant, what) if cond else "FAIL\t%s: %s: %s" % (variant, what, detail))
kind = lambda k: [d for d in docs if d["kind"] == k]
dep = kind("Deployment")[0]
c = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "hoster"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
env = {e["name"]: e.get("value") for e in c["env"]}
svc = [s for s in kind("Service") if s["metadata"]["name"] == "dcn-hoster"][0]
svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
check("one Service", len(kind("Service")) == 1)
want_port = "ops" if ops else "http"
if ops:
    check("container ports http and ops", set(ports) == {"http", "ops"}, repr(ports))
    listen = env.get("DCN_HOSTER_OPS_LISTEN", "")
    check("DCN_HOSTER_OPS_LISTEN on the ops containerPort", listen.rsplit(":", 1)[-1] == str(ports.get("ops")), repr(listen))
    check("the Service's ops port targets it", svc_ports.get("ops", {}).get("targetPort") == "ops", repr(svc_ports))
else:
    check("no ops listener", "DCN_HOSTER_OPS_LISTEN" not in env and set(ports) == {"http"}, repr(ports))
check("DCN_HOSTER_LISTEN on http", env.get("DCN_HOSTER_LISTEN", "").rsplit(":", 1)[-1] == str(ports.get("http")))
for probe in ("readinessProbe", "livenessProbe"):
    check("%s on port %s" % (probe, want_port), c[probe]["httpGet"]["port"] == want_port, repr(c[probe]))
pod_labels = dep["spec"]["template"]["metadata"]["labels"]
sm = kind("ServiceMonitor")
check("one ServiceMonitor", len(sm) == 1)
if sm:
    sel = sm[0]["spec"]["selector"]["matchLabels"]
    check("the ServiceMonitor selects the Service dcn-hoster (job=dcn-hoster in the rules)",
          all(svc["metadata"].get("labels", {}).get(k) == v for k, v in sel.items()), repr(sel))
    ep = sm[0]["spec"]["endpoints"]
    check("it scrapes /-/metrics on the Service's %s port" % want_port,
          [(e["port"], e["path"]) for e in ep] == [(want_port, "/-/metrics")] and want_port in svc_ports, repr(ep))
check("one PrometheusRule", len(kind("PrometheusRule")) == 1)
for r in kind("Route"):
    check("the Route reaches only content (port http)", r["spec"]["port"]["targetPort"] == "http")
for i in kind("Ingress"):
    bp = [p["backend"]["service"]["port"] for rule in i["spec"]["rules"] for p in rule["http"]["paths"]]
    check("the Ingress reaches only content (port http)", all(p.get("name") == "http" for p in bp), repr(bp))
PY
    while IFS=$'\t' read -r verdict msg; do
        case $verdict in PASS) pass "$msg" ;; FAIL) bad "$msg" ;; *) echo "$verdict $msg" ;; esac
    done <"$T/$variant.checks"
    if python3 "$DCN_SOURCE_DIR/tests/rollout/check_manifests.py" "$T/$variant.yaml" \
        --image "registry.example/dcn/dcn-hoster@$DIGEST" --platform "$platform" >"$T/$variant.cm" 2>&1; then
        pass "$variant: passes the rollout's structural check (check_manifests.py)"
    else
        bad "$variant: fails check_manifests.py: $(cat "$T/$variant.cm")"
    fi
done
finish
