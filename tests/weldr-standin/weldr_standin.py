#!/usr/bin/env python3
"""A stand-in for osbuild-composer's Weldr API, for dcn-builder's tests.

osbuild-composer is not packaged for Debian, so the tests talk to this
instead. It follows the published API shapes (osbuild/osbuild-composer
internal/weldr/api.go and osbuild/weldr-client; summarised in
shared/platform.md) and checks every request against them: path, method,
Host, Content-Type exactly, JSON members and types, the TOML blueprint.
Anything off is a "violation": logged (the tests fail on any) and answered
400. It answers like composer: JSON with `Content-Type: application/json;
charset=utf-8`, errors as {"status":false,"errors":[{"id","msg"}]}, 405
with an empty body for a wrong method.

A compose is real: the blueprint's tree (--base-tree plus the blueprint
and package list under /usr/share/dcn-standin) is committed with the ostree
CLI into an archive repo, with the parent composer would use, and tarred
with compose.json as the edge-commit image. With ostree.url set, the POST
fetches <url>/refs/heads/<ref> synchronously, as composer does (200, body
trimmed, must be hex; a 64-hex parent is used as is; parent needs url).

Python standard library only; HTTP/1.1 over a unix socket.

  weldr_standin.py --socket S --log L --work DIR --base-tree DIR
                   [--build-seconds N] [--missing PKG]... [--fail] [--hang]
"""
import argparse
import datetime
import hashlib
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
import uuid

NAME_RE = re.compile(r"^[a-zA-Z0-9._-]+$")
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
BLUEPRINT_KEYS = {"name", "description", "version", "packages", "modules", "groups", "customizations",
                  "distro", "containers", "enabled_modules", "minimal"}
COMPOSE_KEYS = {"blueprint_name", "compose_type", "branch", "size", "ostree", "upload"}
OSTREE_KEYS = {"ref", "parent", "url", "rhsm"}
JSON_TYPE = "application/json; charset=utf-8"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.blueprints = {}  # name -> (dict, toml text)
        self.composes = {}    # id -> dict
        self.log_lock = threading.Lock()

    def log(self, **entry):
        entry["t"] = round(time.time(), 3)
        with self.log_lock, open(self.args.log, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--socket", required=True)
    p.add_argument("--log", required=True, help="JSON lines: requests, fetches, composes, violations")
    p.add_argument("--work", required=True, help="scratch directory for compose results")
    p.add_argument("--base-tree", required=True, help="root filesystem every compose starts from")
    p.add_argument("--build-seconds", type=float, default=1.0, help="time a compose stays RUNNING")
    p.add_argument("--missing", action="append", default=[], help="package depsolve reports missing")
    p.add_argument("--fail", action="store_true", help="composes end FAILED")
    p.add_argument("--hang", action="store_true", help="composes stay RUNNING")
    p.add_argument("--reply-delay", type=float, default=0.0,
                   help="seconds between starting a compose and answering its POST (a client interrupted then must still cancel it)")
    return p.parse_args()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "weldr-standin/1"

    # ---- plumbing ----
    def address_string(self):
        return "unix"

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.state

    def violation(self, msg):
        self.st.log(violation=msg, method=self.command, path=self.path)
        self.send_json(400, {"status": False, "errors": [{"id": "StandinViolation", "msg": msg}]})

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_error_json(self, code, eid, msg):
        self.send_json(code, {"status": False, "errors": [{"id": eid, "msg": msg}]})

    def send_empty(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # ---- routing ----
    ROUTES = [
        ("GET", re.compile(r"^/api/status$"), "status"),
        ("POST", re.compile(r"^/api/v1/blueprints/new$"), "blueprints_new"),
        ("GET", re.compile(r"^/api/v1/blueprints/depsolve/([^/]+)$"), "depsolve"),
        ("POST", re.compile(r"^/api/v1/compose$"), "compose"),
        ("GET", re.compile(r"^/api/v1/compose/status/([^/]+)$"), "compose_status"),
        ("GET", re.compile(r"^/api/v1/compose/log/([^/]+)$"), "compose_log"),
        ("GET", re.compile(r"^/api/v1/compose/image/([^/]+)$"), "compose_image"),
        ("DELETE", re.compile(r"^/api/v1/compose/delete/([^/]+)$"), "compose_delete"),
        ("DELETE", re.compile(r"^/api/v1/compose/cancel/([^/]+)$"), "compose_cancel"),
    ]

    def dispatch(self):
        raw = self.body()
        self.st.log(request=self.command, path=self.path, content_type=self.headers.get("Content-Type"),
                    host=self.headers.get("Host"), body=raw.decode("utf-8", "replace")[:4000])
        if self.headers.get("Host") != "localhost":
            return self.violation("Host must be localhost, got %r" % self.headers.get("Host"))
        path = self.path
        if "?" in path:
            return self.violation("unexpected query string")
        allowed = False
        for method, rx, name in self.ROUTES:
            m = rx.match(path)
            if not m:
                continue
            allowed = True
            if method == self.command:
                return getattr(self, "do_" + name)(raw, *m.groups())
        if allowed:
            self.st.log(violation="method %s not allowed on %s" % (self.command, path), method=self.command, path=path)
            return self.send_empty(405)
        self.st.log(violation="unknown path %s" % path, method=self.command, path=path)
        return self.send_error_json(404, "HTTPError", "Not Found")

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = dispatch

    # ---- endpoints ----
    def do_status(self, raw):
        self.send_json(200, {"api": "1", "backend": "osbuild-composer", "build": "devel-standin", "db_supported": True,
                             "db_version": "0", "schema_version": "0", "msgs": []})

    def do_blueprints_new(self, raw):
        ct = self.headers.get("Content-Type")
        if ct != "text/x-toml":
            return self.violation("blueprints/new: Content-Type must be exactly text/x-toml, got %r" % ct)
        if not raw:
            return self.send_error_json(400, "BlueprintsError", "Missing blueprint")
        try:
            bp = tomllib.loads(raw.decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            return self.violation("blueprint is not TOML: %s" % e)
        problems = check_blueprint(bp)
        if problems:
            return self.violation("blueprint: " + "; ".join(problems))
        with self.st.lock:
            self.st.blueprints[bp["name"]] = (bp, raw.decode())
        self.send_json(200, {"status": True})

    def do_depsolve(self, raw, names):
        bps, errors = [], []
        for name in names.split(","):
            entry = self.st.blueprints.get(name)
            if not entry:
                errors.append({"id": "UnknownBlueprint", "msg": "%s: blueprint not found" % name})
                continue
            bp = entry[0]
            wanted = [p["name"] for p in bp.get("packages", [])]
            missing = [p for p in wanted if p in self.st.args.missing]
            if missing:
                errors.append({"id": "BlueprintsError", "msg": "%s: DNF error occurred: MarkingErrors: Error occurred "
                               "when marking packages for installation: Problems in request:\nmissing packages: %s"
                               % (name, ", ".join(missing))})
                deps = []
            else:
                deps = [{"name": p, "epoch": 0, "version": "1.0", "release": "1.el9", "arch": "x86_64"}
                        for p in wanted + ["rpm-ostree", "kernel"]]
            bps.append({"blueprint": bp, "dependencies": deps})
        self.send_json(200, {"blueprints": bps, "errors": errors})

    def do_compose(self, raw):
        ct = self.headers.get("Content-Type")
        if ct != "application/json":
            return self.violation("compose: Content-Type must be exactly application/json, got %r" % ct)
        try:
            req = json.loads(raw)
        except ValueError as e:
            return self.violation("compose: body is not JSON: %s" % e)
        problems = check_compose_request(req)
        if problems:
            return self.violation("compose: " + "; ".join(problems))
        if req["compose_type"] != "edge-commit":
            return self.send_error_json(400, "ComposeError", "Failed to get compose type \"%s\": unknown compose type"
                                        % req["compose_type"])
        entry = self.st.blueprints.get(req["blueprint_name"])
        if not entry:
            return self.send_error_json(400, "UnknownBlueprint", "Unknown blueprint name: %s" % req["blueprint_name"])
        ost = req.get("ostree") or {}
        ref, parent, url = ost.get("ref", ""), ost.get("parent", ""), ost.get("url", "")
        if parent and not url:
            return self.send_error_json(400, "OSTreeOptionsError", "ostree parent ref specified, but no URL to "
                                        "retrieve it")
        resolved = None
        if url:
            if HEX64_RE.match(parent):
                resolved = parent
            else:
                want = parent or ref
                fetch = url.rstrip("/") + "/refs/heads/" + want
                try:
                    with urllib.request.urlopen(fetch, timeout=300) as r:
                        text = r.read().decode().strip()
                        code = r.status
                except urllib.error.HTTPError as e:
                    self.st.log(fetch=fetch, status=e.code)
                    return self.send_error_json(400, "OSTreeOptionsError", "error sending request to ostree "
                                                "repository \"%s\": status code %d" % (fetch, e.code))
                except (urllib.error.URLError, OSError) as e:
                    self.st.log(fetch=fetch, error=str(e))
                    return self.send_error_json(400, "OSTreeOptionsError", "error sending request to ostree "
                                                "repository \"%s\": %s" % (fetch, e))
                self.st.log(fetch=fetch, status=code, body=text)
                if not HEX64_RE.match(text):
                    return self.send_error_json(400, "OSTreeOptionsError", "ostree repository \"%s\" returned invalid "
                                                "reference" % fetch)
                resolved = text
        cid = str(uuid.uuid4())
        bp = entry[0]
        c = {"id": cid, "blueprint": bp["name"], "version": bp.get("version", "0.0.0"),
             "compose_type": "edge-commit", "image_size": 0, "queue_status": "WAITING",
             "job_created": time.time(), "job_started": 0, "job_finished": 0,
             "ref": ref or "rhel/9/x86_64/edge", "parent": resolved, "toml": entry[1], "packages":
             [p["name"] for p in bp.get("packages", [])], "log": [], "cancelled": False}
        with self.st.lock:
            self.st.composes[cid] = c
        self.st.log(compose_started=cid, ref=c["ref"], parent=resolved, url=url, size=req.get("size"))
        threading.Thread(target=build, args=(self.st, c), daemon=True).start()
        time.sleep(self.st.args.reply_delay)
        self.send_json(200, {"build_id": cid, "status": True, "warnings": []})

    def known(self, cid):
        c = self.st.composes.get(cid)
        if not c:
            self.send_error_json(400, "UnknownUUID", "%s is not a valid build uuid" % cid)
        return c

    def do_compose_status(self, raw, ids):
        out = []
        for cid in ids.split(","):
            c = self.st.composes.get(cid)
            if not c:
                return self.send_error_json(400, "UnknownUUID", "%s is not a valid build uuid" % cid)
            out.append({k: c[k] for k in ("id", "blueprint", "version", "compose_type", "image_size", "queue_status",
                                          "job_created", "job_started", "job_finished")})
        self.send_json(200, {"uuids": out})

    def do_compose_log(self, raw, cid):
        c = self.known(cid)
        if not c:
            return
        if c["queue_status"] == "WAITING":
            return self.send_error_json(400, "BuildInWrongState", "Build %s has not started yet. No logs to view"
                                        % cid)
        body = ("\n".join(c["log"]) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_compose_image(self, raw, cid):
        c = self.known(cid)
        if not c:
            return
        if c["queue_status"] != "FINISHED":
            return self.send_error_json(400, "BuildInWrongState", "Build %s is in wrong state: %s"
                                        % (cid, c["queue_status"]))
        path = c["tarball"]
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-tar")
        self.send_header("Content-Disposition", "attachment; filename=%s-commit.tar" % cid)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        with open(path, "rb") as f:
            shutil.copyfileobj(f, self.wfile)
        self.st.log(image_sent=cid, bytes=size)

    def do_compose_delete(self, raw, ids):
        res, errors = [], []
        for cid in ids.split(","):
            with self.st.lock:
                c = self.st.composes.get(cid)
                if c and c["queue_status"] in ("FINISHED", "FAILED"):
                    del self.st.composes[cid]
                    res.append({"uuid": cid, "status": True})
                elif c:
                    errors.append({"id": "BuildInWrongState", "msg": "Build %s is not in FINISHED or FAILED." % cid})
                else:
                    errors.append({"id": "UnknownUUID", "msg": "%s is not a valid build uuid" % cid})
        self.st.log(compose_deleted=ids)
        self.send_json(200, {"uuids": res, "errors": errors})

    def do_compose_cancel(self, raw, cid):
        c = self.known(cid)
        if not c:
            return
        if c["queue_status"] not in ("WAITING", "RUNNING"):
            return self.send_error_json(400, "BuildInWrongState", "Build %s is not in WAITING or RUNNING." % cid)
        c["cancelled"] = True
        c["queue_status"] = "FAILED"
        c["job_finished"] = time.time()
        self.st.log(compose_cancelled=cid)
        self.send_json(200, {"uuid": cid, "status": True})


def check_blueprint(bp):
    p = []
    for k in bp:
        if k not in BLUEPRINT_KEYS:
            p.append("unknown key %r" % k)
    name = bp.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        p.append("name must match ^[a-zA-Z0-9._-]+$, got %r" % (name,))
    if "description" in bp and not isinstance(bp["description"], str):
        p.append("description must be a string")
    if "version" in bp and (not isinstance(bp["version"], str) or not SEMVER_RE.match(bp["version"])):
        p.append("Invalid 'version', must use Semantic Versioning: %r" % (bp.get("version"),))
    for key in ("packages", "modules", "groups"):
        items = bp.get(key, [])
        if not isinstance(items, list):
            p.append("%s must be an array of tables" % key)
            continue
        for it in items:
            if not isinstance(it, dict) or not isinstance(it.get("name"), str) or not it["name"]:
                p.append("%s entries need a name" % key)
            elif key != "groups" and "version" in it and not isinstance(it["version"], str):
                p.append("%s %s: version must be a string" % (key, it["name"]))
            elif key == "groups" and set(it) - {"name"}:
                p.append("groups take only a name")
    if "customizations" in bp and not isinstance(bp["customizations"], dict):
        p.append("customizations must be a table")
    return p


def check_compose_request(req):
    p = []
    if not isinstance(req, dict):
        return ["body must be a JSON object"]
    for k in req:
        if k not in COMPOSE_KEYS:
            p.append("unknown member %r" % k)
    for k in ("blueprint_name", "compose_type", "branch"):
        if not isinstance(req.get(k), str) or not req.get(k):
            p.append("%s must be a non-empty string" % k)
    if req.get("branch") not in (None, "master"):
        p.append("branch must be master")
    if "size" in req and (not isinstance(req["size"], int) or isinstance(req["size"], bool) or req["size"] < 0):
        p.append("size must be a non-negative integer (bytes)")
    ost = req.get("ostree")
    if ost is not None:
        if not isinstance(ost, dict):
            p.append("ostree must be an object")
        else:
            for k, v in ost.items():
                if k not in OSTREE_KEYS:
                    p.append("unknown ostree member %r" % k)
                elif k != "rhsm" and not isinstance(v, str):
                    p.append("ostree.%s must be a string" % k)
            if ost.get("url") and not re.match(r"^https?://", ost["url"]):
                p.append("ostree.url must be http(s)")
    return p


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def build(st, c):
    """WAITING -> RUNNING -> a real edge-commit tarball -> FINISHED."""
    args = st.args
    time.sleep(0.2)
    if c["cancelled"]:
        return
    c["queue_status"] = "RUNNING"
    c["job_started"] = time.time()
    c["log"].append("Pipeline build: org.osbuild.rpm (standin)")
    if args.hang:
        return  # stays RUNNING until cancelled
    time.sleep(args.build_seconds)
    if c["cancelled"]:
        return
    if args.fail:
        c["log"].append("Error: org.osbuild.rpm: transaction failed: package kernel-core conflicts (standin)")
        c["log"].append("Build failed")
        c["queue_status"] = "FAILED"
        c["job_finished"] = time.time()
        st.log(compose_failed=c["id"])
        return
    try:
        work = os.path.join(args.work, c["id"])
        overlay = os.path.join(work, "overlay", "usr", "share", "dcn-standin")
        os.makedirs(overlay)
        with open(os.path.join(overlay, "blueprint.toml"), "w") as f:
            f.write(c["toml"])
        with open(os.path.join(overlay, "packages.txt"), "w") as f:
            f.write("\n".join(c["packages"]) + "\n")
        repo = os.path.join(work, "tar", "repo")
        os.makedirs(repo)
        run(["ostree", "init", "--mode=archive", "--repo=" + repo])
        inputhash = hashlib.sha256(c["toml"].encode()).hexdigest()
        cmd = ["ostree", "--repo=" + repo, "commit", "--branch=" + c["ref"],
               "--tree=dir=" + args.base_tree, "--tree=dir=" + os.path.join(work, "overlay"),
               "--owner-uid=0", "--owner-gid=0",
               "--subject=" + c["blueprint"] + " " + c["version"],
               "--add-metadata-string=version=" + c["version"],
               "--add-metadata-string=rpmostree.inputhash=" + inputhash]
        if c["parent"]:
            cmd.append("--parent=" + c["parent"])
        commit = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
        with open(os.path.join(work, "tar", "compose.json"), "w") as f:
            json.dump({"ref": c["ref"], "ostree-n-metadata-total": 0, "ostree-commit": commit,
                       "rpm-ostree-inputhash": inputhash, "ostree-version": c["version"]}, f)
        tarball = os.path.join(work, c["id"] + "-commit.tar")
        with tarfile.open(tarball, "w") as t:
            t.add(os.path.join(work, "tar", "compose.json"), arcname="./compose.json")
            t.add(repo, arcname="./repo")
        c["tarball"] = tarball
        c["image_size"] = os.path.getsize(tarball)
        c["log"].append("commit %s" % commit)
        c["queue_status"] = "FINISHED"
        c["job_finished"] = time.time()
        st.log(compose_finished=c["id"], commit=commit, parent=c["parent"])
    except (subprocess.CalledProcessError, OSError) as e:
        err = getattr(e, "stderr", None)
        c["log"].append("standin build error: %s %s" % (e, err))
        c["queue_status"] = "FAILED"
        c["job_finished"] = time.time()
        st.log(compose_failed=c["id"], error=str(e))


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    args = parse_args()
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    os.makedirs(args.work, exist_ok=True)
    srv = Server(args.socket, Handler)
    srv.state = State(args)
    srv.state.log(started=datetime.datetime.now(datetime.timezone.utc).isoformat(), pid=os.getpid())
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        try:
            os.unlink(args.socket)
        except OSError:
            pass


if __name__ == "__main__":
    main()
