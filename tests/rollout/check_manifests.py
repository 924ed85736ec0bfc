#!/usr/bin/env python3
"""Structural check of rendered dcn-hoster manifests (what `dcn-builder
deploy` would apply): parsed, required fields present, the image pinned by
digest, probes on the hoster's real endpoints, the securityContext the
restricted policies want, drain settings that fit the grace period, and
selectors/ports that connect Service, Route/Ingress, PDB and pods.

  check_manifests.py RENDERED.yaml --image REF@sha256:... --platform openshift|kubernetes
                     [--hoster-url http://127.0.0.1:PORT]   also GET each probe path: 200
  check_manifests.py RENDERED.yaml ... --self-test          each known defect, injected, is caught

Prints one line per check group; exits 1 with the failures listed."""
import argparse
import copy
import re
import sys
import urllib.request

import yaml

HOSTER_PATHS = {"/-/ready", "/-/live", "/-/status", "/-/metrics"}  # docs/hoster.md
DIGEST = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")


def quantity_cpu(v):
    v = str(v)
    return float(v[:-1]) / 1000 if v.endswith("m") else float(v)


def quantity_bytes(v):
    v = str(v)
    for suf, mul in (("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30)):
        if v.endswith(suf):
            return float(v[:-2]) * mul
    return float(v)


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def check(docs, image, platform):
    errs = []

    def need(cond, msg):
        if not cond:
            errs.append(msg)
        return cond

    by_kind = {}
    for d in docs:
        for f in ("apiVersion", "kind", "metadata"):
            need(f in d, "object without %s: %r" % (f, str(d)[:80]))
        need("name" in d.get("metadata", {}), "%s without metadata.name" % d.get("kind"))
        by_kind.setdefault(d.get("kind"), []).append(d)

    deps = by_kind.get("Deployment", [])
    if not need(len(deps) == 1, "expected one Deployment, found %d" % len(deps)):
        return errs
    dep = deps[0]
    need(dep["apiVersion"] == "apps/v1", "Deployment apiVersion %s" % dep["apiVersion"])
    spec = dep.get("spec", {})
    need(spec.get("replicas", 1) >= 2, "replicas %s: fewer than 2 cannot roll without a gap" % spec.get("replicas"))
    strat = spec.get("strategy", {})
    need(strat.get("type") == "RollingUpdate", "strategy is not RollingUpdate")
    need(strat.get("rollingUpdate", {}).get("maxUnavailable") == 0, "rollingUpdate.maxUnavailable is not 0")
    need(strat.get("rollingUpdate", {}).get("maxSurge", 0) not in (0, "0", "0%"), "maxSurge 0 with maxUnavailable 0 cannot progress")
    match = spec.get("selector", {}).get("matchLabels", {})
    tmpl = spec.get("template", {})
    labels = tmpl.get("metadata", {}).get("labels", {})
    need(match and all(labels.get(k) == v for k, v in match.items()), "selector.matchLabels do not match the pod labels")
    pod = tmpl.get("spec", {})
    cs = [c for c in pod.get("containers", []) if c.get("name") == "hoster"]
    if not need(len(cs) == 1, "no container named hoster"):
        return errs
    c = cs[0]
    need(bool(DIGEST.match(c.get("image", ""))), "image %r is not pinned by digest" % c.get("image"))
    need(c.get("image") == image, "image %r, expected %r" % (c.get("image"), image))
    need(c.get("imagePullPolicy") in (None, "IfNotPresent"), "imagePullPolicy %s (a digest never changes)" % c.get("imagePullPolicy"))

    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    need("http" in ports, "container has no port named http")
    env = env_of(c)
    listen = env.get("DCN_HOSTER_LISTEN", "0.0.0.0:8080")
    need(listen.rsplit(":", 1)[-1] == str(ports.get("http")), "DCN_HOSTER_LISTEN %s does not listen on containerPort %s" % (listen, ports.get("http")))
    need(env.get("DCN_HOSTER_ROOT") == "/srv/dcn/content", "DCN_HOSTER_ROOT is not the image's content root /srv/dcn/content")
    for probe, path in (("readinessProbe", "/-/ready"), ("livenessProbe", "/-/live")):
        p = c.get(probe)
        if not need(p and "httpGet" in p, "%s missing or not httpGet" % probe):
            continue
        g = p["httpGet"]
        need(g.get("path") == path, "%s path %s, expected %s" % (probe, g.get("path"), path))
        need(g.get("path") in HOSTER_PATHS, "%s path %s is no hoster endpoint" % (probe, g.get("path")))
        need(g.get("port") in ports or g.get("port") in ports.values(), "%s port %s is no container port" % (probe, g.get("port")))
        need(p.get("timeoutSeconds", 1) < p.get("periodSeconds", 10) + 1, "%s timeout longer than its period" % probe)

    # drain: grace period covers shutdown delay + drain timeout
    delay = float(env.get("DCN_HOSTER_SHUTDOWN_DELAY", 0))
    drain = float(env.get("DCN_HOSTER_DRAIN_TIMEOUT", 25))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    need(delay >= 2, "DCN_HOSTER_SHUTDOWN_DELAY %s: endpoints and routers need a few seconds to forget a pod" % delay)
    need(grace >= delay + drain, "terminationGracePeriodSeconds %s < shutdown delay %s + drain timeout %s" % (grace, delay, drain))
    ready = c.get("readinessProbe", {})
    need(ready.get("periodSeconds", 10) * 1 <= delay, "readiness period %s longer than the shutdown delay %s" % (ready.get("periodSeconds"), delay))

    # security: non-root, read-only, nothing extra (OpenShift restricted-v2, PSS restricted)
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True, "runAsNonRoot is not true")
    need(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true")
    need(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false")
    need(csc.get("privileged") in (None, False), "privileged container")
    need("ALL" in csc.get("capabilities", {}).get("drop", []), "capabilities do not drop ALL")
    need(not csc.get("capabilities", {}).get("add"), "capabilities added")
    need((psc.get("seccompProfile") or csc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", "seccompProfile is not RuntimeDefault")
    need(pod.get("automountServiceAccountToken") is False, "service account token mounted")
    need(not pod.get("hostNetwork") and not pod.get("hostPID"), "host namespaces used")
    uid = psc.get("runAsUser", csc.get("runAsUser"))
    if platform == "openshift":
        need(uid is None, "runAsUser %s set: OpenShift's restricted SCC assigns the UID" % uid)
    else:
        need(isinstance(uid, int) and uid > 0, "runAsUser not a non-zero number on plain Kubernetes")

    res = c.get("resources", {})
    for k in ("cpu", "memory"):
        need(k in res.get("requests", {}) and k in res.get("limits", {}), "resources %s request/limit missing" % k)
    if not errs:
        need(quantity_bytes(res["limits"]["memory"]) >= quantity_bytes(env.get("DCN_HOSTER_CACHE_SIZE", "32m").replace("m", "Mi")) + (32 << 20),
             "memory limit leaves less than 32 MiB beside the cache")
        threads = int(env.get("DCN_HOSTER_THREADS", "0") or 0)
        need(threads == 0 or threads <= max(1, quantity_cpu(res["limits"]["cpu"])), "DCN_HOSTER_THREADS above the CPU limit")

    svcs = [s for s in by_kind.get("Service", []) if s["spec"].get("selector") and
            all(labels.get(k) == v for k, v in s["spec"]["selector"].items())]
    if need(len(svcs) == 1, "expected one Service selecting the pods, found %d" % len(svcs)):
        svc = svcs[0]
        sp = svc["spec"]["ports"]
        need(all(p.get("targetPort") in ports or p.get("targetPort") in ports.values() for p in sp), "Service targetPort is no container port")
        svc_port_names = {p.get("name") for p in sp} | {p.get("port") for p in sp}
    pdbs = by_kind.get("PodDisruptionBudget", [])
    if need(len(pdbs) == 1, "expected one PodDisruptionBudget"):
        sel = pdbs[0]["spec"].get("selector", {}).get("matchLabels", {})
        need(sel and all(labels.get(k) == v for k, v in sel.items()), "PDB selector does not match the pods")
        mu, ma = pdbs[0]["spec"].get("maxUnavailable"), pdbs[0]["spec"].get("minAvailable")
        need((mu is not None and mu != 0) or (ma is not None and ma < spec.get("replicas", 1)),
             "PDB allows no disruption at all: node drains would block")
    if platform == "openshift":
        routes = by_kind.get("Route", [])
        if need(len(routes) == 1, "expected one Route on OpenShift"):
            r = routes[0]["spec"]
            need(r.get("to", {}).get("kind") == "Service" and svcs and r["to"].get("name") == svcs[0]["metadata"]["name"], "Route does not point at the Service")
            need(svcs and r.get("port", {}).get("targetPort") in svc_port_names | set(ports), "Route targetPort is not a Service port")
            need(r.get("tls", {}).get("termination") == "edge", "Route is not edge TLS")
        need(not by_kind.get("Ingress"), "an Ingress on OpenShift (the Route is the way in)")
    else:
        ings = by_kind.get("Ingress", [])
        if need(len(ings) == 1, "expected one Ingress on Kubernetes"):
            for rule in ings[0]["spec"].get("rules", []):
                for p in rule.get("http", {}).get("paths", []):
                    b = p["backend"]["service"]
                    need(svcs and b["name"] == svcs[0]["metadata"]["name"], "Ingress backend is not the Service")
                    need(svcs and (b["port"].get("name") in svc_port_names or b["port"].get("number") in svc_port_names), "Ingress backend port is not a Service port")
        need(not by_kind.get("Route"), "a Route on plain Kubernetes")
    return errs


def dep_container(docs):
    d = [x for x in docs if x["kind"] == "Deployment"][0]
    return d, [c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "hoster"][0]


def self_test(docs, image, platform):
    """Each defect, injected into a copy, must be reported."""
    def mut(fn):
        def run():
            x = copy.deepcopy(docs)
            fn(x)
            return x
        return run

    def set_image(x, v):
        dep_container(x)[1]["image"] = v

    def set_env(x, name, v):
        for e in dep_container(x)[1]["env"]:
            if e["name"] == name:
                e["value"] = v

    cases = {
        "image by tag": mut(lambda x: set_image(x, image.split("@")[0] + ":latest")),
        "another digest": mut(lambda x: set_image(x, image[:-1] + ("0" if image[-1] != "0" else "1"))),
        "readiness on /healthz": mut(lambda x: dep_container(x)[1]["readinessProbe"]["httpGet"].update(path="/healthz")),
        "liveness on a port that is not there": mut(lambda x: dep_container(x)[1]["livenessProbe"]["httpGet"].update(port="metrics")),
        "maxUnavailable 1": mut(lambda x: dep_container(x)[0]["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=1)),
        "writable root": mut(lambda x: dep_container(x)[1]["securityContext"].update(readOnlyRootFilesystem=False)),
        "privilege escalation": mut(lambda x: dep_container(x)[1]["securityContext"].pop("allowPrivilegeEscalation")),
        "capabilities kept": mut(lambda x: dep_container(x)[1]["securityContext"].pop("capabilities")),
        "root allowed": mut(lambda x: (dep_container(x)[0]["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot", None),
                                       dep_container(x)[1]["securityContext"].pop("runAsNonRoot", None))),
        "grace shorter than the drain": mut(lambda x: dep_container(x)[0]["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=10)),
        "no shutdown delay": mut(lambda x: set_env(x, "DCN_HOSTER_SHUTDOWN_DELAY", "0")),
        "Service selects nothing": mut(lambda x: [d["spec"].update(selector={"app": "other"}) for d in x if d["kind"] == "Service"]),
        "no PDB": mut(lambda x: x.remove([d for d in x if d["kind"] == "PodDisruptionBudget"][0])),
        "one replica": mut(lambda x: dep_container(x)[0]["spec"].update(replicas=1)),
        "no memory limit": mut(lambda x: dep_container(x)[1]["resources"]["limits"].pop("memory")),
    }
    missed = []
    for name, make in cases.items():
        errs = check(make(), image, platform)
        print("self-test: %-40s -> %s" % (name, errs[0] if errs else "NOT CAUGHT"))
        if not errs:
            missed.append(name)
    return missed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rendered")
    ap.add_argument("--image", required=True)
    ap.add_argument("--platform", choices=("openshift", "kubernetes"), required=True)
    ap.add_argument("--hoster-url")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    with open(a.rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    errs = check(docs, a.image, a.platform)
    if a.hoster_url and not errs:
        _, c = dep_container(docs)
        for probe in ("readinessProbe", "livenessProbe"):
            path = c[probe]["httpGet"]["path"]
            try:
                with urllib.request.urlopen(a.hoster_url + path, timeout=5) as r:
                    status = r.status
            except Exception as e:  # noqa: BLE001 - report whatever it was
                status = str(e)
            print("probe %s GET %s%s -> %s" % (probe, a.hoster_url, path, status))
            if status != 200:
                errs.append("%s %s answered %s on a running dcn-hoster" % (probe, path, status))
    if a.self_test and not errs:
        missed = self_test(docs, a.image, a.platform)
        errs += ["self-test: defect not caught: " + m for m in missed]
    kinds = sorted(d["kind"] for d in docs)
    if errs:
        print("FAIL %s (%s): %s" % (a.rendered, a.platform, ", ".join(kinds)))
        for e in errs:
            print("  - " + e)
        sys.exit(1)
    print("ok %s (%s): %s" % (a.rendered, a.platform, ", ".join(kinds)))


main()
