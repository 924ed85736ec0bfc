#!/usr/bin/env python3
"""Benchmark driver behind bench/run: starts dcn-hoster, nginx, lighttpd and
h2o on loopback over the same content root, runs the workloads against each
and prints Markdown tables. See bench/README.md.

Correctness checks (status codes, byte counts, ostree fsck) fail the run
(exit 1); timings are only reported, never asserted.
"""
import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1

FAILURES = []  # (server, workload, message)
NOTES = []
SERVER_NAMES = ("dcn-hoster", "nginx", "lighttpd", "h2o")
CURRENT = {"workload": "setup"}


def fail(msg):
    """Records a failed correctness check. Messages start with the server's name."""
    server = msg.split(":", 1)[0]
    FAILURES.append((server if server in SERVER_NAMES else None, CURRENT["workload"], msg))
    print(f"bench: CHECK FAILED: {msg}", file=sys.stderr, flush=True)


def failed(server, workload):
    return any(s == server and w == workload for s, w, _ in FAILURES)


def info(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


# ---------------------------------------------------------------- processes

def proc_children():
    """ppid -> [pid] for every process."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def proc_tree(pid):
    kids = proc_children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    """utime + stime (clock ticks) summed over processes (all their threads)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
    return total


def rss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


# ---------------------------------------------------------------- servers

# files a client asks for that may be absent: 404 is the normal answer
OPTIONAL_404 = ("/summary.sig", ".commitmeta")
DCN_LOG = re.compile(r'method=(\S+) path="((?:[^"\\]|\\.)*)" status=(\d+) bytes=(\d+)')
CLF_LOG = re.compile(r'"(\S+) (\S+) (HTTP/[\d.]+)" (\d{3}) (\d+|-)')


class Server:
    name = "?"

    h2c = False  # leave the server's h2c upgrade on (lighttpd, h2o)
    flush_wait = 0.0  # seconds after a logged request until every earlier one is logged too

    def __init__(self, port, root, out):
        self.port = port
        self.root = root
        self.dir = os.path.join(out, self.name)
        self.proc = None
        self.pids = []
        self.config_path = None
        self.config_text = ""
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")

    url = property(lambda self: f"http://127.0.0.1:{self.port}")

    def prepare(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        self.write_config()

    def write_config(self):
        pass

    def command(self):
        raise NotImplementedError

    def start(self):
        self.prepare()
        cmd = self.command()
        self.cmdline = " ".join(cmd)
        stdout = open(self.stdout_path(), "ab")
        stderr = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        stdout.close()
        stderr.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} at start; "
                                   f"see {self.dir}/stderr.log")
            try:
                st, _, _ = http_get(self.port, "/repo/config")
                if st == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{self.name} not answering on {self.url} after 15 s")
        time.sleep(0.3)  # let every worker come up
        self.pids = proc_tree(self.proc.pid)

    def stdout_path(self):
        return os.devnull

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cpu(self):
        return cpu_ticks(self.pids)

    def rss(self):
        return rss_kib(self.pids)

    def log_size(self):
        try:
            return os.path.getsize(self.access_log)
        except OSError:
            return 0

    def log_entries(self, start, end=None):
        """[(method, path, proto, status, bytes)] logged from byte offset start."""
        with open(self.access_log, "rb") as f:
            f.seek(start)
            data = f.read() if end is None else f.read(end - start)
        out = []
        for line in data.decode("utf-8", "replace").splitlines():
            e = self.parse_line(line)
            # PRI * HTTP/2.0: lighttpd logs the h2c connection preface (with --h2c)
            if e and not e[1].startswith(("/-/", "/bench-marker-")) and e[0] != "PRI":
                out.append(e)
        return out

    def parse_line(self, line):
        m = CLF_LOG.search(line)
        if not m:
            return None
        b = m.group(5)
        return (m.group(1), m.group(2), m.group(3), int(m.group(4)), 0 if b == "-" else int(b))


class DcnHoster(Server):
    name = "dcn-hoster"
    flush_wait = 0.25  # per-worker log buffers, flushed every 100 ms

    def __init__(self, port, root, out, binary, extra=()):
        super().__init__(port, root, out)
        self.binary = binary
        self.extra = list(extra)

    def command(self):
        return [self.binary, "--root", self.root, "--listen", f"127.0.0.1:{self.port}",
                "--threads", str(NCPU), "--access-log", "on", *self.extra]

    def write_config(self):
        self.config_text = ("# command line (access log: stdout redirected to a file)\n"
                            + " ".join(self.command()) + f" >{self.access_log}\n")

    def stdout_path(self):
        return self.access_log

    def parse_line(self, line):
        m = DCN_LOG.search(line)
        if not m:
            return None
        return (m.group(1), m.group(2), "HTTP/1.1", int(m.group(3)), int(m.group(4)))

    def version(self):
        try:
            r = subprocess.run([self.binary, "--version"], capture_output=True, text=True, timeout=5)
            v = (r.stdout or r.stderr).strip().splitlines()
            if r.returncode == 0 and v:
                return v[0]
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            _, _, body = http_get(self.port, "/-/status")
            return "dcn-hoster " + json.loads(body).get("version", "?")
        except Exception:
            pass
        r = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"], capture_output=True, text=True)
        return "dcn-hoster " + (r.stdout.strip() or "(unknown version)")

    def metric(self, name):
        _, _, body = http_get(self.port, "/-/metrics")
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith(name) and (line[len(name)] in " {"):
                total += float(line.rsplit(" ", 1)[1])
        return total, len(body)


class Nginx(Server):
    name = "nginx"

    def write_config(self):
        user = ""
        if os.geteuid() == 0:
            import grp
            import pwd
            user = f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};\n"
        tmp = os.path.join(self.dir, "tmp")
        os.makedirs(tmp)
        self.config_path = os.path.join(self.dir, "nginx.conf")
        self.config_text = f"""# Like RHEL's nginx.conf that the edge-container image ships (sendfile,
# tcp_nopush, keepalive_timeout 65, main log format), unprivileged paths,
# worker_processes = dcn-hoster's --threads, worker_connections raised from
# 1024 for the 10,000-connection workload.
{user}worker_processes {NCPU};
worker_rlimit_nofile 20000;
error_log {self.error_log};
pid {self.dir}/nginx.pid;
daemon off;

events {{
    worker_connections 16384;
}}

http {{
    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';
    access_log  {self.access_log}  main;

    sendfile            on;
    tcp_nopush          on;
    tcp_nodelay         on;
    keepalive_timeout   65;
    types_hash_max_size 4096;

    include             /etc/nginx/mime.types;
    default_type        application/octet-stream;

    client_body_temp_path {tmp}/body;
    proxy_temp_path       {tmp}/proxy;
    fastcgi_temp_path     {tmp}/fastcgi;
    uwsgi_temp_path       {tmp}/uwsgi;
    scgi_temp_path        {tmp}/scgi;

    server {{
        listen       127.0.0.1:{self.port};
        server_name  _;
        root         {self.root};
    }}
}}
"""
        with open(self.config_path, "w") as f:
            f.write(self.config_text)

    def command(self):
        return ["nginx", "-p", self.dir, "-e", self.error_log, "-c", self.config_path]

    def version(self):
        r = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
        return r.stderr.strip().replace("nginx version: ", "")


class Lighttpd(Server):
    name = "lighttpd"

    def write_config(self):
        self.config_path = os.path.join(self.dir, "lighttpd.conf")
        h2c = "" if self.h2c else ('# HTTP/1.1 like the others: libostree asks for "Upgrade: h2c" (see README)\n'
                                   'server.feature-flags = ( "server.h2c" => "disable" )\n')
        self.config_text = f"""# lighttpd is one event-driven process (server.max-worker is discouraged).
# Keep-alive idle raised from 5 s to 60 s like the other servers, fd and
# connection limits raised for the 10,000-connection workload.
server.modules        = ( "mod_accesslog" )
server.document-root  = "{self.root}"
server.bind           = "127.0.0.1"
server.port           = {self.port}
server.pid-file       = "{self.dir}/lighttpd.pid"
server.errorlog       = "{self.error_log}"
server.max-fds        = 20000
server.max-connections = 16384
server.max-keep-alive-idle = 60
server.network-backend = "sendfile"
{h2c}accesslog.filename    = "{self.access_log}"
mimetype.assign       = ( ".html" => "text/html", ".txt" => "text/plain", "" => "application/octet-stream" )
"""
        with open(self.config_path, "w") as f:
            f.write(self.config_text)

    def command(self):
        return ["lighttpd", "-D", "-f", self.config_path]

    def version(self):
        return sh(["lighttpd", "-v"]).split(" - ")[0].strip()


class H2o(Server):
    name = "h2o"

    def write_config(self):
        user = ""
        if os.geteuid() == 0:
            import pwd
            user = f"user: {pwd.getpwuid(os.getuid()).pw_name}\n"
        self.config_path = os.path.join(self.dir, "h2o.conf")
        h2c = "" if self.h2c else ('# HTTP/1.1 like the others: libostree asks for "Upgrade: h2c" (see README)\n'
                                   'http1-upgrade-to-http2: OFF\n')
        self.config_text = f"""# Debian's h2o 2.2.5; num-threads = dcn-hoster's --threads; idle timeout
# raised from 10 s to 60 s and max-connections from 1024 for the
# 10,000-connection workload. Default (Apache combined) access-log format.
{user}listen:
  host: 127.0.0.1
  port: {self.port}
num-threads: {NCPU}
max-connections: 16384
http1-request-timeout: 60
{h2c}pid-file: {self.dir}/h2o.pid
error-log: {self.error_log}
access-log: {self.access_log}
hosts:
  default:
    paths:
      /:
        file.dir: {self.root}
"""
        with open(self.config_path, "w") as f:
            f.write(self.config_text)

    def command(self):
        return ["h2o", "-c", self.config_path]

    def version(self):
        return sh(["h2o", "-v"]).splitlines()[0].replace(" version", "")


# ---------------------------------------------------------------- HTTP helpers

def http_get(port, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def read_file(root, path, first=None, last=None):
    with open(os.path.join(root, path.lstrip("/")), "rb") as f:
        if first is None:
            return f.read()
        f.seek(first)
        return f.read(last - first + 1)


# ---------------------------------------------------------------- formatting

def fmt(v, kind):
    if v is None:
        return "–"
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "ms":
        return f"{v / 1000:.2f}"
    if kind == "us1":
        return f"{v:.1f}"
    if kind == "f2":
        return f"{v:.2f}"
    if kind == "f1":
        return f"{v:.1f}"
    if kind == "mb":
        return f"{v / 1e6:.1f}"
    if kind == "mib":
        return f"{v / 1024:.1f}"
    return str(v)


def table(title, servers, rows, note=None):
    """rows: (label, better: 'higher'|'lower'|None, kind, {server: value})"""
    names = [s.name for s in servers]
    peers = [n for n in names if n != "dcn-hoster"]
    has_dcn = "dcn-hoster" in names
    head = ["metric"] + names + ([f"dcn ÷ {p}" for p in peers] if has_dcn else [])
    lines = [f"### {title}", ""]
    if note:
        lines += [note, ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for label, better, kind, vals in rows:
        cells = [label + {"higher": " (↑)", "lower": " (↓)"}.get(better, "")]
        cells += [fmt(vals.get(n), kind) + (" ✗" if failed(n, CURRENT["workload"]) and n in vals else "")
                  for n in names]
        if has_dcn:
            d = vals.get("dcn-hoster")
            for p in peers:
                v = vals.get(p)
                if d is None or v is None or not better:
                    cells.append("–")
                elif v == 0:
                    cells.append("∞" if d else "1.00")
                else:
                    cells.append(f"{d / v:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- workloads

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.mode = "quick" if args.quick else "full"
        self.base = os.path.join(HERE, "out", self.mode)
        self.root = os.path.join(self.base, "root")
        self.repo = os.path.join(self.root, "repo")
        self.run_dir = os.path.join(HERE, "out", "run-" + self.mode)
        with open(os.path.join(self.base, "meta.json")) as f:
            self.meta = json.load(f)
        self.small_list = os.path.join(self.base, "lists", "small-objects.txt")
        self.small = {}
        with open(self.small_list) as f:
            for line in f:
                p, s = line.split()
                self.small[p] = int(s)
        self.dur = args.duration or (2 if self.quick else 8)
        self.warm = 0 if self.quick else 2  # seconds of warm-up load before workload 1
        self.dur_large = args.duration or (1 if self.quick else 8)
        self.servers = []
        self.sections = []
        self.cleanup = []
        self.marker = 0
        self.times = []
        self.load_start = open("/proc/loadavg").read().split()[:3]

    # -- helpers
    def wrk(self, srv, script, script_args, conns, duration, threads=None):
        threads = threads or min(NCPU, conns)
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "10s",
               "-s", os.path.join(HERE, script), srv.url, "--", *map(str, script_args)]
        c0 = srv.cpu()
        r = subprocess.run(cmd, capture_output=True, text=True)
        c1 = srv.cpu()
        if r.returncode != 0:
            fail(f"{srv.name}: wrk failed ({r.returncode}): {r.stderr.strip()[:300]}")
            return None
        m = re.search(r"BENCH-JSON (\{.*\})", r.stdout)
        if not m:
            fail(f"{srv.name}: no result from wrk: {r.stdout[-300:]}")
            return None
        res = json.loads(m.group(1))
        res["cpu_s"] = (c1 - c0) / CLK_TCK
        res["secs"] = res["duration_us"] / 1e6
        res["rps"] = res["requests"] / res["secs"] if res["secs"] else 0
        errs = {k: res[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
                if res[k]}
        if errs:
            fail(f"{srv.name}: wrk {script} c={conns}: errors {errs}")
        return res

    def check_log(self, srv, entries, expect, allowance, what):
        """expect(path) -> (status, bytes) or None for an unexpected path.
        Up to `allowance` entries may be short (responses cut when wrk stopped)."""
        bad_status = bad_bytes = short = unknown = 0
        example = None
        for method, path, proto, status, nbytes in entries:
            e = expect(path)
            if e is None:
                unknown += 1
                example = example or f"unexpected path {path}"
                continue
            if status == 499 and nbytes < e[1]:  # nginx: client closed before the response (wrk stopping)
                short += 1
            elif status != e[0]:
                bad_status += 1
                example = example or f"{path}: status {status}, expected {e[0]}"
            elif nbytes != e[1]:
                if nbytes < e[1]:
                    short += 1
                else:
                    bad_bytes += 1
                    example = example or f"{path}: {nbytes} bytes, expected {e[1]}"
        if short > allowance:
            bad_bytes += short - allowance
            example = example or f"{short} short responses (allowed: {allowance})"
        if bad_status or bad_bytes:
            fail(f"{srv.name}: {what}: {bad_status} wrong status, {bad_bytes} wrong byte counts "
                 f"in the access log (e.g. {example})")
        if unknown:
            NOTES.append(f"{srv.name}: {what}: {unknown} access-log lines for other paths (e.g. {example})")
        return len(entries)

    def flush_logs(self, srv):
        """Returns once every request finished so far is in srv's access log: sends a
        marker request (404) and waits for its line, then the server's own flush
        interval (dcn-hoster buffers per worker thread)."""
        self.marker += 1
        mark = f"/bench-marker-{os.getpid()}-{self.marker}"
        off = srv.log_size()
        http_get(srv.port, mark)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(srv.access_log, "rb") as f:
                f.seek(off)
                if mark.encode() in f.read():
                    break
            time.sleep(0.05)
        else:
            fail(f"{srv.name}: access log did not show a request after 10 s")
        time.sleep(srv.flush_wait)

    # -- setup
    def start_servers(self, binary):
        os.makedirs(self.run_dir, exist_ok=True)
        port = self.args.port
        classes = {"dcn-hoster": lambda p: DcnHoster(p, self.root, self.run_dir, binary, self.args.dcn_args.split()),
                   "nginx": lambda p: Nginx(p, self.root, self.run_dir),
                   "lighttpd": lambda p: Lighttpd(p, self.root, self.run_dir),
                   "h2o": lambda p: H2o(p, self.root, self.run_dir)}
        Server.h2c = self.args.h2c
        for i, name in enumerate(self.args.servers):
            srv = classes[name](port + i)
            info(f"starting {name} on {srv.url}")
            srv.start()
            self.servers.append(srv)

    def stop_servers(self):
        for s in self.servers:
            s.stop()

    def warm_page_cache(self):
        t0 = time.monotonic()
        n = 0
        for dp, dns, fns in os.walk(self.root):
            for f in fns:
                with open(os.path.join(dp, f), "rb") as fh:
                    while True:
                        b = fh.read(1 << 20)
                        if not b:
                            break
                        n += len(b)
        info(f"page cache warmed: {n / 1e6:.0f} MB read in {time.monotonic() - t0:.1f}s")

    # -- pre-check: same requests, same answers
    def precheck(self):
        rng = random.Random(7)
        paths = ["/repo/config", "/repo/summary", f"/repo/refs/heads/{self.meta['ref']}",
                 f"/repo/objects/{self.meta['v2'][:2]}/{self.meta['v2'][2:]}.commit"]
        paths += rng.sample(sorted(self.small), min(40, len(self.small)))
        paths += [d["path"] for d in self.meta["deltas"]]  # names with '+' and '_'
        paths += ["/files/part-32m.bin"]
        iso = "/files/disk.iso"
        iso_size = os.path.getsize(os.path.join(self.root, iso.lstrip("/")))
        ranges = [(0, 999), (iso_size - 4096, iso_size - 1), (123456789 % iso_size, 123456789 % iso_size + 4194303)]
        cases = [(p, None) for p in paths] + [(iso, r) for r in ranges] + [("/repo/nonexistent-object", "404")]
        rows = []
        header_rows = {}
        for srv in self.servers:
            ok = 0
            for path, rng_ in cases:
                hdrs = {}
                if rng_ == "404":
                    want_status, want = 404, None
                elif rng_:
                    hdrs["Range"] = f"bytes={rng_[0]}-{rng_[1]}"
                    want_status, want = 206, read_file(self.root, path, *rng_)
                else:
                    want_status, want = 200, read_file(self.root, path)
                st, h, body = http_get(srv.port, path, hdrs)
                problems = []
                if st != want_status:
                    problems.append(f"status {st} (expected {want_status})")
                if want is not None:
                    if body != want:
                        problems.append(f"body differs ({len(body)} bytes, expected {len(want)})")
                    if h.get("content-length") != str(len(want)):
                        problems.append(f"Content-Length {h.get('content-length')} (expected {len(want)})")
                    if "content-encoding" in h:
                        problems.append(f"Content-Encoding {h['content-encoding']}")
                    if rng_ and h.get("content-range") != f"bytes {rng_[0]}-{rng_[1]}/{iso_size}":
                        problems.append(f"Content-Range {h.get('content-range')}")
                if problems:
                    fail(f"{srv.name}: pre-check GET {path} {hdrs}: {', '.join(problems)}")
                else:
                    ok += 1
            rows.append((srv.name, ok, len(cases)))
            # what a client sees for one small object (informative)
            st, h, _ = http_get(srv.port, sorted(self.small)[0])
            header_rows[srv.name] = {k: h.get(k, "–") for k in
                                     ("content-type", "cache-control", "etag", "accept-ranges", "connection")}
        out = ["### Pre-check: identical answers", "",
               f"Each server got the same {len(cases)} requests (config, summary, ref, commit, "
               f"{min(40, len(self.small))} random small objects, every delta superblock/part, the 32 MiB file, "
               "3 Range requests on the large file, one missing path); status, Content-Length, "
               "Content-Range and body bytes were compared with the files on disk.", "",
               "| server | requests answered as expected | Content-Type (object) | Cache-Control (object) | ETag (object) |",
               "|---|---|---|---|---|"]
        for name, ok, n in rows:
            h = header_rows[name]
            out.append(f"| {name} | {ok}/{n} | {h['content-type']} | {h['cache-control']} | `{h['etag']}` |")
        out.append("")
        self.sections.append("\n".join(out))

    # -- workload 1
    def small_objects(self):
        conns_list = [64, 512]
        res = {}
        for srv in self.servers:
            info(f"small objects: {srv.name} (warm-up {self.warm}s)")
            if self.warm:
                self.wrk(srv, "small-objects.lua", [self.small_list, 1], 64, self.warm)
            for conns in conns_list:
                self.flush_logs(srv)
                off = srv.log_size()
                r = self.wrk(srv, "small-objects.lua", [self.small_list, conns], conns, self.dur)
                self.flush_logs(srv)
                if r is None:
                    continue
                ent = srv.log_entries(off)
                r["logged"] = self.check_log(srv, ent, lambda p: (200, self.small[p]) if p in self.small else None,
                                             conns, f"small objects c={conns}")
                r["log_bytes"] = sum(e[4] for e in ent)
                res[(srv.name, conns)] = r
                info(f"  c={conns}: {r['rps']:,.0f} req/s, p99 {r['lat_p99_us'] / 1000:.2f} ms, "
                     f"{r['cpu_s'] * 1e6 / max(r['requests'], 1):.1f} µs CPU/req")
        if self.args.perf:
            self.perf_profile()
        for conns in conns_list:
            def col(f):
                return {s.name: f(res[(s.name, conns)]) for s in self.servers if (s.name, conns) in res}
            rows = [
                ("requests/s", "higher", "int", col(lambda r: r["rps"])),
                ("latency p50 ms", "lower", "ms", col(lambda r: r["lat_p50_us"])),
                ("latency p99 ms", "lower", "ms", col(lambda r: r["lat_p99_us"])),
                ("latency max ms", "lower", "ms", col(lambda r: r["lat_max_us"])),
                ("server CPU µs/request", "lower", "us1", col(lambda r: r["cpu_s"] * 1e6 / max(r["requests"], 1))),
                ("server CPU seconds", None, "f2", col(lambda r: r["cpu_s"])),
                ("requests (wrk)", None, "int", col(lambda r: r["requests"])),
                ("requests logged", None, "int", col(lambda r: r["logged"])),
                ("body MB (log)", None, "mb", col(lambda r: r["log_bytes"])),
            ]
            self.sections.append(table(
                f"1. Small objects, {conns} keep-alive connections", self.servers, rows,
                f"wrk -t{min(NCPU, conns)} -c{conns} -d{self.dur}s --latency -s bench/small-objects.lua: random GETs over "
                f"{len(self.small):,} .dirtree/.dirmeta/.filez ≤ 16 KiB (mean "
                f"{self.meta['small_object_bytes'] / max(len(self.small), 1):,.0f} B). Server CPU = utime+stime of all "
                "its processes (/proc/PID/stat) over the run ÷ requests. wrk shares the cores with the server."))

    def perf_profile(self):
        """perf record (cpu-clock, call graphs) of dcn-hoster under the 64-connection
        small-object load; not part of the figures (sampling costs CPU)."""
        srv = next((s for s in self.servers if isinstance(s, DcnHoster)), None)
        if not srv or not shutil.which("perf"):
            info("--perf: needs dcn-hoster among the servers and perf installed")
            return
        data = os.path.join(HERE, "out", "perf-dcn-hoster.data")
        rep_path = os.path.join(HERE, "out", "perf-dcn-hoster.txt")
        info(f"perf record of dcn-hoster under small objects c=64 -> {rep_path}")
        rec = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "1999", "-g", "-o", data,
                                "-p", str(srv.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        self.wrk(srv, "small-objects.lua", [self.small_list, 3], 64, self.dur)
        rec.send_signal(signal.SIGINT)
        rec.wait()
        with open(rep_path, "w") as f:
            for args in (["--no-children", "--sort", "dso,sym", "-g", "none", "--percent-limit", "0.5"],
                         ["--no-children", "--sort", "sym", "-g", "caller,0.5,callee", "--percent-limit", "3"]):
                r = subprocess.run(["perf", "report", "-i", data, "--stdio", *args], capture_output=True, text=True)
                f.write(r.stdout)
        self.sections.append(f"(perf profile of dcn-hoster under workload 1, c=64: `{os.path.relpath(rep_path, TOP)}`)\n")

    # -- workload 2
    def large_files(self):
        part = "/files/part-32m.bin"
        iso = "/files/disk.iso"
        part_size = os.path.getsize(os.path.join(self.root, part.lstrip("/")))
        iso_size = os.path.getsize(os.path.join(self.root, iso.lstrip("/")))
        rbytes = 4 << 20
        conns = 16
        cases = [("32 MiB file, whole (200)", part, part_size, 0, 200, part_size),
                 (f"{iso_size >> 20} MiB file, random 4 MiB Range (206)", iso, iso_size, rbytes, 206, rbytes)]
        res = {}
        for label, path, size, rb, want_status, want_bytes in cases:
            for srv in self.servers:
                info(f"large file: {srv.name}: {label}")
                self.flush_logs(srv)
                off = srv.log_size()
                r = self.wrk(srv, "large-file.lua", [path, size, rb, 1], conns, self.dur_large)
                self.flush_logs(srv)
                if r is None:
                    continue
                ent = srv.log_entries(off)
                self.check_log(srv, ent, lambda p, path=path, s=want_status, b=want_bytes: (s, b) if p == path else None,
                               conns, f"large file {label}")
                r["log_bytes"] = sum(e[4] for e in ent)
                r["gbps"] = r["bytes"] / r["secs"] / 1e9
                res[(srv.name, label)] = r
                info(f"  {r['gbps']:.2f} GB/s, {r['cpu_s'] / (r['log_bytes'] / 1e9 or 1):.2f} CPU s/GB")
        rows = []
        for label, *_ in cases:
            def col(f, label=label):
                return {s.name: f(res[(s.name, label)]) for s in self.servers if (s.name, label) in res}
            rows += [
                (f"{label}: GB/s", "higher", "f2", col(lambda r: r["gbps"])),
                (f"{label}: latency p99 ms", "lower", "ms", col(lambda r: r["lat_p99_us"])),
                (f"{label}: server CPU s per GB", "lower", "f2",
                 col(lambda r: r["cpu_s"] / (r["log_bytes"] / 1e9) if r["log_bytes"] else None)),
                (f"{label}: responses", None, "int", col(lambda r: r["requests"])),
            ]
        self.sections.append(table(
            "2. Large files", self.servers, rows,
            f"wrk -t{NCPU} -c{conns} -d{self.dur_large}s -s bench/large-file.lua. GB = 10⁹ bytes received by wrk "
            "(headers included) per second. Every logged response was checked: status and body bytes "
            "(4 MiB for each Range)."))

    # -- workload 3
    def ostree_pull_cmd(self, srv, d):
        sh(["ostree", f"--repo={d}", "init", "--mode=archive"])
        sh(["ostree", f"--repo={d}", "remote", "add", "--no-gpg-verify", "bench", f"{srv.url}/repo"])
        if not self.args.fsync:
            sh(["ostree", f"--repo={d}", "config", "set", "core.fsync", "false"])
        return ["ostree", f"--repo={d}", "pull", "--disable-static-deltas", "--depth=-1", "bench", self.meta["ref"]]

    def objects_listing(self, repo):
        out = set()
        od = os.path.join(repo, "objects")
        for dp, dns, fns in os.walk(od):
            for f in fns:
                if f.endswith((".commit", ".dirtree", ".dirmeta", ".filez", ".commitmeta")):
                    out.add((os.path.relpath(os.path.join(dp, f), od), os.path.getsize(os.path.join(dp, f))))
        return out

    def client_base(self):
        """Where client repositories go: a tmpfs when there is one (the clients' own
        file-system work is not what we measure), else bench/out."""
        if self.cleanup:
            return self.cleanup[0]
        if self.args.client_dir:
            base = self.args.client_dir
        elif os.path.isdir("/dev/shm") and shutil.disk_usage("/dev/shm").free > 4 * self.meta["tree_bytes"] + (1 << 30):
            base = f"/dev/shm/dcn-bench-{os.getpid()}"
        else:
            base = os.path.join(self.run_dir, "clients")
        os.makedirs(base, exist_ok=True)
        self.cleanup.append(base)
        return base

    def pulls(self):
        want = self.objects_listing(self.repo)
        base = self.client_base()
        res = {}
        fsck_dirs = {}
        nconc = 4
        for srv in self.servers:
            cdir = os.path.join(base, srv.name)
            os.makedirs(cdir)
            info(f"ostree pull: {srv.name}: one client")
            self.flush_logs(srv)
            off = srv.log_size()
            one = os.path.join(cdir, "one")
            cmd = self.ostree_pull_cmd(srv, one)
            c0 = srv.cpu()
            t0 = time.monotonic()
            r = subprocess.run(cmd, capture_output=True, text=True)
            t1 = time.monotonic()
            c1 = srv.cpu()
            self.flush_logs(srv)
            ent = srv.log_entries(off)
            row = {"t1": t1 - t0, "cpu1": (c1 - c0) / CLK_TCK, "req1": len(ent),
                   "bytes1": sum(e[4] for e in ent), "h2": sum(1 for e in ent if e[2].startswith("HTTP/2"))}
            if r.returncode != 0:
                fail(f"{srv.name}: ostree pull failed: {r.stderr.strip()[-400:]}")
            else:
                fsck_dirs[srv.name] = one
                if self.objects_listing(one) != want:
                    fail(f"{srv.name}: pulled repo's objects differ from the served repo")
                bad = [e for e in ent if e[3] != 200 and not (e[3] == 404 and e[1].endswith(OPTIONAL_404))]
                if bad:
                    fail(f"{srv.name}: ostree pull saw {len(bad)} unexpected responses, e.g. {bad[0]}")
            info(f"  {row['t1']:.1f}s, {row['req1']} requests; {nconc} clients at once")
            off = srv.log_size()
            procs = []
            c0 = srv.cpu()
            t0 = time.monotonic()
            for i in range(nconc):
                d = os.path.join(cdir, f"c{i}")
                procs.append((d, subprocess.Popen(self.ostree_pull_cmd(srv, d), stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.PIPE, text=True)))
            times = {}
            while len(times) < nconc:  # note when each client ends
                for d, p in procs:
                    if d not in times and p.poll() is not None:
                        times[d] = time.monotonic() - t0
                time.sleep(0.02)
            t1 = time.monotonic()
            c1 = srv.cpu()
            for d, p in procs:
                err = p.stderr.read()
                if p.returncode != 0:
                    fail(f"{srv.name}: concurrent ostree pull failed: {err.strip()[-400:]}")
                elif self.objects_listing(d) != want:
                    fail(f"{srv.name}: concurrent pull into {d}: objects differ from the served repo")
                shutil.rmtree(d)
            self.flush_logs(srv)
            ent = srv.log_entries(off)
            row.update({"t4": t1 - t0, "t4mean": statistics.mean(times.values()), "cpu4": (c1 - c0) / CLK_TCK,
                        "req4": len(ent), "bytes4": sum(e[4] for e in ent)})
            info(f"  {row['t4']:.1f}s")
            res[srv.name] = row
        # fsck every 1-client repo, after the timed part, as many at once as there are cores
        info(f"ostree fsck of {len(fsck_dirs)} pulled repositories")
        t0 = time.monotonic()
        todo = list(fsck_dirs.items())
        running = []
        while todo or running:
            while todo and len(running) < NCPU:
                name, d = todo.pop(0)
                running.append((name, d, subprocess.Popen(["ostree", f"--repo={d}", "fsck"], stdout=subprocess.PIPE,
                                                          stderr=subprocess.STDOUT, text=True)))
            name, d, p = running.pop(0)
            outp = p.communicate()[0]
            if p.returncode != 0:
                fail(f"{name}: ostree fsck of the pulled repo failed: {outp.strip()[-400:]}")
            else:
                res[name]["fsck"] = "ok"
            shutil.rmtree(d)
        info(f"  fsck done in {time.monotonic() - t0:.1f}s")
        for srv in self.servers:
            shutil.rmtree(os.path.join(base, srv.name), ignore_errors=True)

        def col(k):
            return {n: r[k] for n, r in res.items()}
        rows = [
            ("1 client: wall s", "lower", "f2", col("t1")),
            ("1 client: server CPU s", "lower", "f2", col("cpu1")),
            ("1 client: requests", None, "int", col("req1")),
            ("1 client: body MB", None, "mb", col("bytes1")),
            ("1 client: requests over HTTP/2 (h2c upgrade)", None, "int", col("h2")),
            (f"{nconc} clients at once: wall s (until the last ends)", "lower", "f2", col("t4")),
            (f"{nconc} clients at once: mean s per client", "lower", "f2", col("t4mean")),
            (f"{nconc} clients at once: server CPU s", "lower", "f2", col("cpu4")),
            (f"{nconc} clients at once: requests", None, "int", col("req4")),
            ("ostree fsck of the 1-client repo", None, "str", {n: r.get("fsck", "FAILED") for n, r in res.items()}),
        ]
        o = self.meta["objects"]
        self.sections.append(table(
            "3. ostree pull of the whole repository (archive client, --disable-static-deltas --depth=-1)",
            self.servers, rows,
            f"{sum(o.values()):,} objects ({', '.join(f'{v:,} {k}' for k, v in sorted(o.items()))}), "
            f"{self.meta['object_bytes'] / 1e6:.0f} MB. libostree {self.ostree_version}; the client does "
            "checksum work too, so wall time is mostly client-bound on 2 cores. Each pulled repo's objects "
            "(names and sizes) were compared with the served repo; the 1-client repo passed `ostree fsck`."))

    # -- workload 4
    def bare_user_template(self):
        t = os.path.join(HERE, "out", self.mode + "-client-v1")
        stamp = open(os.path.join(self.base, "stamp")).read().strip()
        sf = t + ".stamp"
        if os.path.exists(sf) and open(sf).read().strip() == stamp:
            return t
        info("preparing a bare-user client at v1 (cached)")
        if os.path.exists(t):
            shutil.rmtree(t)
        sh(["ostree", f"--repo={t}", "init", "--mode=bare-user"])
        sh(["ostree", f"--repo={t}", "remote", "add", "--no-gpg-verify", "bench", "http://127.0.0.1:9/repo"])
        sh(["ostree", f"--repo={t}", "pull-local", self.repo, self.meta["v1"]])
        sh(["ostree", f"--repo={t}", "refs", f"--create=bench:{self.meta['ref']}", self.meta["v1"]])
        with open(sf, "w") as f:
            f.write(stamp + "\n")
        return t

    def client_copy(self, template, dest, srv):
        if os.path.exists(dest):
            shutil.rmtree(dest)
        sh(["cp", "-al", template, dest])
        cfg = os.path.join(dest, "config")
        text = open(cfg).read().replace("http://127.0.0.1:9/repo", f"{srv.url}/repo")
        os.unlink(cfg)  # hard-linked to the template
        with open(cfg, "w") as f:
            f.write(text)
        if not self.args.fsync:
            sh(["ostree", f"--repo={dest}", "config", "set", "core.fsync", "false"])

    def upgrades(self):
        # the clients' own file-system work (O_TMPFILE + linkat per object) costs
        # seconds on this ext4 and varies from run to run: clients go to the tmpfs
        base = self.client_base()
        template = os.path.join(base, "client-v1")
        if not os.path.exists(template):
            sh(["cp", "-a", self.bare_user_template(), template])
        ref = self.meta["ref"]
        res = {}
        modes = [("static delta (metadata-only first)", [["pull", "--commit-metadata-only", "bench", ref],
                                                          ["pull", "bench", ref]]),
                 ("object by object (--disable-static-deltas)", [["pull", "--disable-static-deltas", "bench", ref]])]
        for srv in self.servers:
            for label, steps in modes:
                info(f"upgrade v1->v2: {srv.name}: {label}")
                d = os.path.join(base, "upgrade-client")
                self.client_copy(template, d, srv)
                self.flush_logs(srv)
                off = srv.log_size()
                m0 = srv.metric("dcn_hoster_response_bytes_total") if isinstance(srv, DcnHoster) else None
                t0 = time.monotonic()
                ok = True
                for step in steps:
                    r = subprocess.run(["ostree", f"--repo={d}", *step], capture_output=True, text=True)
                    if r.returncode != 0:
                        fail(f"{srv.name}: upgrade ({label}): ostree {' '.join(step)} failed: {r.stderr.strip()[-400:]}")
                        ok = False
                        break
                t = time.monotonic() - t0
                self.flush_logs(srv)
                ent = srv.log_entries(off)
                row = {"t": t, "req": len(ent), "bytes": sum(e[4] for e in ent),
                       "delta_req": sum(1 for e in ent if "/deltas/" in e[1]),
                       "obj_req": sum(1 for e in ent if "/objects/" in e[1])}
                if m0 is not None:
                    m1 = srv.metric("dcn_hoster_response_bytes_total")
                    row["metrics_bytes"] = m1[0] - m0[0] - m0[1]
                if ok:
                    got = sh(["ostree", f"--repo={d}", "rev-parse", f"bench:{ref}"]).strip()
                    if got != self.meta["v2"]:
                        fail(f"{srv.name}: upgrade ({label}) ended at {got}, not v2 {self.meta['v2']}")
                    sh(["ostree", f"--repo={d}", "ls", "-R", self.meta["v2"]])  # every dirtree is there
                    bad = [e for e in ent if e[3] != 200 and not (e[3] == 404 and e[1].endswith(OPTIONAL_404))]
                    if bad:
                        fail(f"{srv.name}: upgrade ({label}): unexpected responses, e.g. {bad[0]}")
                res[(srv.name, label)] = row
                info(f"  {t:.1f}s, {row['req']} requests, {row['bytes'] / 1e6:.1f} MB")
            shutil.rmtree(os.path.join(base, "upgrade-client"))
        rows = []
        for label, _ in modes:
            def col(k, label=label):
                return {s.name: res[(s.name, label)].get(k) for s in self.servers if (s.name, label) in res}
            rows += [(f"{label}: wall s", "lower", "f2", col("t")),
                     (f"{label}: body MB sent (access log)", "lower", "mb", col("bytes")),
                     (f"{label}: requests", None, "int", col("req")),
                     (f"{label}: of which deltas/", None, "int", col("delta_req")),
                     (f"{label}: of which objects/", None, "int", col("obj_req"))]
            if any(isinstance(s, DcnHoster) for s in self.servers):
                rows.append((f"{label}: body MB (dcn-hoster /-/metrics)", None, "mb", col("metrics_bytes")))
        m = self.meta
        self.sections.append(table(
            "4. Upgrade v1 → v2 in a bare-user client", self.servers, rows,
            f"v2 changes {m['changed']:,} files, removes {m['deleted']}, adds {m['added']} "
            f"(of {m['tree_files']:,}). Delta generated with --min-fallback-size=0. Debian's libostree "
            f"{self.ostree_version} has the delta race (upstream fix fc5aef6f, 2023.7): the delta run does the "
            "documented workaround, `ostree pull --commit-metadata-only` then `ostree pull`. Body bytes are summed "
            "from each server's access log. The client ends at v2 (`rev-parse`, `ls -R`)."))

    # -- workload 5
    def idle(self):
        n = self.args.idle
        binary = os.path.join(HERE, "out", "idle-conns")
        obj = sorted(self.small)[0]
        res = {}
        for srv in self.servers:
            info(f"{n} idle connections: {srv.name}")
            lat0 = self.curl_latency(srv, obj, 5)
            rss0 = srv.rss()
            t0 = time.monotonic()
            p = subprocess.Popen([binary, "127.0.0.1", str(srv.port), obj, str(n)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = p.stdout.readline().split()
            topen = time.monotonic() - t0
            row = {"rss0": rss0, "lat0": lat0, "open_s": topen}
            if len(line) < 3 or line[0] != "open" or int(line[2]) != n:
                p.stdin.close()
                err = p.stderr.read()
                p.wait()
                fail(f"{srv.name}: could not hold {n} connections open: {' '.join(line)} {err.strip()[:300]}")
                res[srv.name] = row
                continue
            time.sleep(1.0)
            row["rss"] = srv.rss()
            row["lat"] = self.curl_latency(srv, obj, 5)
            p.stdin.write("check\n")
            p.stdin.flush()
            alive = p.stdout.readline().split()
            row["alive"] = int(alive[1]) if len(alive) == 2 else 0
            if row["alive"] != n:
                fail(f"{srv.name}: only {row['alive']} of {n} idle connections still open after the measurement")
            row["per_conn"] = (row["rss"] - rss0) * 1024 / n
            p.stdin.close()
            p.wait()
            res[srv.name] = row
            info(f"  RSS {rss0 / 1024:.1f} -> {row['rss'] / 1024:.1f} MiB, latency {row['lat'] * 1000:.2f} ms")
            time.sleep(0.3 if self.quick else 1.0)  # let the server close them

        def col(k, f=lambda v: v):
            return {nm: f(r[k]) for nm, r in res.items() if k in r}
        rows = [("server RSS before, MiB", "lower", "mib", col("rss0")),
                (f"server RSS with {n:,} idle connections, MiB", "lower", "mib", col("rss")),
                ("RSS per idle connection, bytes", "lower", "int", col("per_conn")),
                ("1 request meanwhile (curl time_total, median of 5) ms", "lower", "f2", col("lat", lambda v: v * 1000)),
                ("same request on the idle server ms", "lower", "f2", col("lat0", lambda v: v * 1000)),
                (f"time to open {n:,} connections + 1 request each, s", None, "f2", col("open_s")),
                ("connections still open at the end", None, "int", col("alive"))]
        self.sections.append(table(
            f"5. {n:,} idle keep-alive connections", self.servers, rows,
            f"bench/idle-conns.c opens {n:,} connections, sends one GET of a small object on each, reads the "
            "response and keeps the connection open. RSS = sum of VmRSS over the server's processes "
            "(kernel socket buffers are not in it)."))

    def curl_latency(self, srv, path, k):
        ts = []
        for _ in range(k):
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
                                srv.url + path], capture_output=True, text=True)
            code, t = r.stdout.split()
            if code != "200":
                fail(f"{srv.name}: curl {path}: status {code}")
            ts.append(float(t))
        return statistics.median(ts)

    # -- report
    def machine(self):
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        mem = 0
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) / 1024 / 1024
        return cpu, mem

    def header(self):
        cpu, mem = self.machine()
        m = self.meta
        lines = [f"## dcn-hoster benchmark ({self.mode} mode)", "",
                 f"- command: `{' '.join(['bench/run'] + self.user_args())}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
                 f"- machine: {NCPU} cores, {cpu}, {mem:.0f} GiB RAM, kernel {platform.release()}, "
                 f"{platform.freedesktop_os_release().get('PRETTY_NAME', '?') if hasattr(platform, 'freedesktop_os_release') else '?'}",
                 f"- load generator: {self.wrk_version} on the same cores as the server (loopback 127.0.0.1); "
                 f"libostree {self.ostree_version}",
                 "- servers: " + ", ".join(f"{s.name} `{s.version()}`" for s in self.servers),
                 f"- repository: ref `{m['ref']}`, v1 `{m['v1'][:12]}`, v2 `{m['v2'][:12]}`, "
                 f"{m['tree_files']:,} files / {m['tree_bytes'] / 1e6:.0f} MB per tree copied from /usr, "
                 f"{sum(m['objects'].values()):,} objects / {m['object_bytes'] / 1e6:.0f} MB, "
                 f"deltas v1→v2 and scratch, summary -u",
                 "- ratios: dcn-hoster ÷ peer; (↑) higher is better, (↓) lower is better", ""]
        return "\n".join(lines)

    @staticmethod
    def user_args():
        """bench/run's own arguments (without the --binary/--output it adds)."""
        out, skip = [], False
        for a in sys.argv[1:]:
            if skip:
                skip = False
            elif a in ("--binary", "--output"):
                skip = True
            elif not a.startswith(("--binary=", "--output=")):
                out.append(a)
        return out

    def configs(self):
        out = ["### Server configurations", ""]
        for s in self.servers:
            out += [f"**{s.name}** (`{s.cmdline}`)", "", "```", s.config_text.rstrip(), "```", ""]
        return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--binary", help="dcn-hoster binary")
    ap.add_argument("--servers", default="dcn-hoster,nginx,lighttpd,h2o")
    ap.add_argument("--workloads", default="1,2,3,4,5")
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--duration", type=int, default=0, help="seconds per wrk run (default 8, quick 3)")
    ap.add_argument("--idle", type=int, default=0, help="idle connections (default 10000, quick 2000)")
    ap.add_argument("--output", help="also write the report here")
    ap.add_argument("--client-dir", help="where client repositories go (default: a tmpfs under /dev/shm)")
    ap.add_argument("--dcn-args", default="", help="extra dcn-hoster flags, e.g. '--cache-size 256m'")
    ap.add_argument("--perf", action="store_true",
                    help="also perf-record dcn-hoster under the small-object load (bench/out/perf-dcn-hoster.txt)")
    ap.add_argument("--fsync", action="store_true", help="leave fsync on in the archive pull clients")
    ap.add_argument("--h2c", action="store_true",
                    help="keep lighttpd's and h2o's default h2c upgrade (libostree then pulls over HTTP/2)")
    args = ap.parse_args()
    args.servers = [s for s in args.servers.split(",") if s]
    args.workloads = set(args.workloads.split(","))
    if not args.idle:
        args.idle = 2000 if args.quick else 10000

    b = Bench(args)
    b.ostree_version = sh(["ostree", "--version"]).split("Version:")[1].split()[0].strip("'")
    b.wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
    t0 = time.monotonic()
    try:
        b.warm_page_cache()
        b.start_servers(args.binary)
        CURRENT["workload"] = "pre-check"
        b.precheck()
        steps = [("1", b.small_objects), ("2", b.large_files), ("3", b.pulls), ("4", b.upgrades), ("5", b.idle)]
        for k, fn in steps:
            if k in args.workloads:
                CURRENT["workload"] = k
                ts = time.monotonic()
                fn()
                b.times.append((k, time.monotonic() - ts))
                info(f"workload {k} took {b.times[-1][1]:.0f}s")
    finally:
        b.stop_servers()
        for d in b.cleanup:
            shutil.rmtree(d, ignore_errors=True)
    elapsed = time.monotonic() - t0
    report = [b.header()] + b.sections + [b.configs()]
    report.append("### Correctness")
    report.append("")
    if FAILURES:
        report += [f"- FAILED (workload {w}): {m}" for _, w, m in FAILURES]
        report.append("- figures marked ✗ come from a run that failed a check")
    else:
        report.append("- every check passed (statuses, Content-Length and bodies in the pre-check, per-response "
                      "status and byte counts in the access logs, pulled objects, ostree fsck, upgrade end commit)")
    report += [f"- note: {n}" for n in NOTES]
    report.append(f"- benchmark time: {elapsed:.0f} s (" + ", ".join(f"workload {k}: {t:.0f} s" for k, t in b.times)
                  + f"); load average at start {' '.join(b.load_start)}, at end "
                  + " ".join(open("/proc/loadavg").read().split()[:3]) + " (other work on the machine skews figures)")
    text = "\n".join(report) + "\n"
    print(text)
    if args.output:
        partial = (set(args.servers) != set(SERVER_NAMES) or args.workloads != {"1", "2", "3", "4", "5"}
                   or args.dcn_args or args.h2c or args.duration or args.perf)
        if partial:  # keep the last complete report where it is
            root, ext = os.path.splitext(args.output)
            args.output = root + "-partial" + ext
        with open(args.output, "w") as f:
            f.write(text)
    # dcn-hoster's failures (and the bench's own) fail the run; a peer's are reported
    fatal = [m for s, _, m in FAILURES if s in (None, "dcn-hoster")]
    return 1 if fatal else 0


if __name__ == "__main__":
    sys.exit(main())
