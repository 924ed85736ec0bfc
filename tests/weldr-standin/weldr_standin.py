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

Composes live in an in-memory store, as in composer: a compose's state is
derived as composer derives it from its job (cancelled -> FAILED, not
started -> WAITING, not finished -> RUNNING, else FINISHED or FAILED), and
it stays listed (/api/v1/compose/queue, /finished, /failed) until DELETE
/api/v1/compose/delete/<id> removes it, so the tests can check that
dcn-builder leaves nothing behind. SIGHUP empties the store, as a composer
whose state directory was lost (a rebuilt builder VM) would be.

A compose is real: the blueprint's tree (--base-tree plus the blueprint
and package list under /usr/share/dcn-standin) is committed with the ostree
CLI into an archive repo, with the parent composer would use, and tarred
with compose.json as the edge-commit image. With ostree.url set, the POST
fetches <url>/refs/heads/<ref> synchronously, as composer does (200, body
trimmed, must be hex; a 64-hex parent is used as is; parent needs url).

Python standard library only; HTTP/1.1 over a unix socket.

  weldr_standin.py --socket S --log L --work DIR --base-tree DIR
                   [--queue-seconds N] [--build-seconds N] [--missing PKG]... [--fail] [--hang]
                   [--reply-delay S] [--delete-error MSG]
"""
import argparse
import datetime
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
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
    p.add_argument("--queue-seconds", type=float, default=0.2, help="time a compose stays WAITING")
    p.add_argument("--build-seconds", type=float, default=1.0, help="time a compose stays RUNNING")
    p.add_argument("--missing", action="append", default=[], help="package depsolve reports missing")
    p.add_argument("--fail", action="store_true", help="composes end FAILED")
    p.add_argument("--hang", action="store_true", help="composes stay RUNNING")
    p.add_argument("--reply-delay", type=float, default=0.0,
                   help="seconds between starting a compose and answering its POST (a client interrupted then must still cancel it)")
    p.add_argument("--delete-error", metavar="MSG",
                   help="deleting a compose fails with ComposeError '<id>: MSG' (composer's store could not delete "
                        "it); the compose stays")
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
        ("GET", re.compile(r"^/api/v1/compose/queue$"), "compose_queue"),
        ("GET", re.compile(r"^/api/v1/compose/finished$"), "compose_finished"),
        ("GET", re.compile(r"^/api/v1/compose/failed$"), "compose_failed"),
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
             "compose_type": "edge-commit", "image_size": 0, "job_created": time.time(), "job_started": 0,
             "job_finished": 0, "success": False, "cancelled": False,
             "ref": ref or "rhel/9/x86_64/edge", "parent": resolved, "toml": entry[1], "packages":
             [p["name"] for p in bp.get("packages", [])], "log": []}
        with self.st.lock:
            self.st.composes[cid] = c
        self.st.log(compose_started=cid, ref=c["ref"], parent=resolved, url=url, size=req.get("size"))
        threading.Thread(target=build, args=(self.st, c), daemon=True).start()
        time.sleep(self.st.args.reply_delay)
        self.send_json(200, {"build_id": cid, "status": True, "warnings": []})

    def lookup(self, text, unknown_msg):
        """The compose for a path's uuid, as composer's single-uuid handlers
        find it: a malformed uuid or an unknown compose is 400 UnknownUUID."""
        try:
            cid = str(uuid.UUID(text))
        except ValueError:
            return self.send_error_json(400, "UnknownUUID", "%s is not a valid build uuid" % text)
        c = self.st.composes.get(cid)
        if not c:
            return self.send_error_json(400, "UnknownUUID", unknown_msg % text)
        return c

    def do_compose_queue(self, raw):
        with self.st.lock:
            entries = [(state(c), entry(c)) for c in self.st.composes.values()]
        self.send_json(200, {"new": [e for s, e in entries if s == "WAITING"],
                             "run": [e for s, e in entries if s == "RUNNING"]})

    def list_in_state(self, key, want):
        with self.st.lock:
            entries = sorted((entry(c) for c in self.st.composes.values() if state(c) == want), key=lambda e: e["id"])
        self.send_json(200, {key: entries})

    def do_compose_finished(self, raw):
        self.list_in_state("finished", "FINISHED")

    def do_compose_failed(self, raw):
        self.list_in_state("failed", "FAILED")

    def do_compose_status(self, raw, ids):
        # composer: a malformed uuid is 400 UnknownUUID; a well-formed one it
        # does not know is left out, so an unknown compose is 200 {"uuids":[]}
        wanted = []
        with self.st.lock:
            if ids == "*":
                wanted = list(self.st.composes)
            else:
                for text in ids.split(","):
                    try:
                        wanted.append(str(uuid.UUID(text)))
                    except ValueError:
                        return self.send_error_json(400, "UnknownUUID", "%s is not a valid build uuid" % text)
            out = [entry(self.st.composes[cid]) for cid in wanted if cid in self.st.composes]
        self.send_json(200, {"uuids": sorted(out, key=lambda e: e["id"])})

    def do_compose_log(self, raw, text):
        c = self.lookup(text, "Compose %s doesn't exist")
        if not c:
            return
        s = state(c)
        if s == "WAITING":
            # composer: "weirdly, Lorax returns 200 in this case"
            return self.send_error_json(200, "BuildInWrongState", "Build %s has not started yet. No logs to view."
                                        % text)
        if s == "RUNNING":
            log = "Build %s is still running.\n" % text
        else:
            log = "\n".join(c["log"]) + "\n" if c["log"] else "The compose result is empty.\n"
        # composer sets application/json on every reply, the log's plain text too
        body = log.encode()
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_compose_image(self, raw, text):
        c = self.lookup(text, "Compose %s doesn't exist")
        if not c:
            return
        s = state(c)
        if s != "FINISHED":
            return self.send_error_json(400, "BuildInWrongState", "Build %s is in wrong state: %s" % (text, s))
        cid = c["id"]
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
        # always 200; what could not be deleted is in "errors"
        res, errors = [], []
        for text in ids.split(","):
            try:
                cid = str(uuid.UUID(text))
            except ValueError:
                errors.append({"id": "UnknownUUID", "msg": "%s is not a valid uuid" % text})
                continue
            with self.st.lock:
                c = self.st.composes.get(cid)
                if not c:
                    errors.append({"id": "UnknownUUID", "msg": "compose %s doesn't exist" % cid})
                elif state(c) not in ("FINISHED", "FAILED"):
                    errors.append({"id": "BuildInWrongState", "msg": "Compose %s is not in FINISHED or FAILED." % cid})
                elif self.st.args.delete_error:
                    errors.append({"id": "ComposeError", "msg": "%s: %s" % (cid, self.st.args.delete_error)})
                else:
                    del self.st.composes[cid]
                    shutil.rmtree(os.path.join(self.st.args.work, cid), ignore_errors=True)
                    res.append({"uuid": cid, "status": True})
        self.st.log(compose_deleted=[r["uuid"] for r in res], delete_errors=errors)
        self.send_json(200, {"uuids": res, "errors": errors})

    def do_compose_cancel(self, raw, text):
        c = self.lookup(text, "Compose %s doesn't exist")
        if not c:
            return
        if state(c) not in ("WAITING", "RUNNING"):
            return self.send_error_json(400, "BuildInWrongState", "Build %s is not in WAITING or RUNNING." % text)
        # composer marks the job cancelled before it answers: FAILED from now on
        c["cancelled"] = True
        self.st.log(compose_cancelled=c["id"])
        self.send_json(200, {"uuid": c["id"], "status": True})


def state(c):
    """queue_status as composer derives it from the compose's job."""
    if c["cancelled"]:
        return "FAILED"
    if not c["job_started"]:
        return "WAITING"
    if not c["job_finished"]:
        return "RUNNING"
    return "FINISHED" if c["success"] else "FAILED"


def entry(c):
    """composer's ComposeEntry: job_started/job_finished left out while 0,
    image_size only once FINISHED."""
    s = state(c)
    e = {"id": c["id"], "blueprint": c["blueprint"], "version": c["version"], "compose_type": c["compose_type"],
         "image_size": c["image_size"] if s == "FINISHED" else 0, "queue_status": s, "job_created": c["job_created"]}
    if c["job_started"]:
        e["job_started"] = c["job_started"]
    if c["job_finished"]:
        e["job_finished"] = c["job_finished"]
    return e


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
    time.sleep(args.queue_seconds)
    if c["cancelled"]:
        return
    c["log"].append("Pipeline build: org.osbuild.rpm (standin)")
    c["job_started"] = time.time()
    if args.hang:
        return  # stays RUNNING until cancelled
    time.sleep(args.build_seconds)
    if c["cancelled"]:
        return
    if args.fail:
        c["log"].append("Error: org.osbuild.rpm: transaction failed: package kernel-core conflicts (standin)")
        c["log"].append("Build failed")
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
        # osbuild's org.osbuild.ostree.preptree moves /etc to /usr/etc, where
        # ostree admin deploy expects it
        tree = os.path.join(work, "tree")
        shutil.copytree(args.base_tree, tree, symlinks=True)
        if os.path.isdir(os.path.join(tree, "etc")):
            os.makedirs(os.path.join(tree, "usr"), exist_ok=True)
            os.rename(os.path.join(tree, "etc"), os.path.join(tree, "usr", "etc"))
        repo = os.path.join(work, "tar", "repo")
        os.makedirs(repo)
        run(["ostree", "init", "--mode=archive", "--repo=" + repo])
        inputhash = hashlib.sha256(c["toml"].encode()).hexdigest()
        cmd = ["ostree", "--repo=" + repo, "commit", "--branch=" + c["ref"],
               "--tree=dir=" + tree, "--tree=dir=" + os.path.join(work, "overlay"),
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
        c["success"] = True
        c["job_finished"] = time.time()
        st.log(compose_finished=c["id"], commit=commit, parent=c["parent"])
    except (subprocess.CalledProcessError, OSError) as e:
        err = getattr(e, "stderr", None)
        c["log"].append("standin build error: %s %s" % (e, err))
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

    def forget(signum, frame):
        with srv.state.lock:
            gone = sorted(srv.state.composes)
            srv.state.composes.clear()
        srv.state.log(forgot=gone)
    signal.signal(signal.SIGHUP, forget)
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
