#!/usr/bin/env python3
"""Sends the request-smuggling corpus to dcn-hoster and to nginx (Debian's
nginx-light, from PATH) on loopback and prints a Markdown table of what each
answered. Both serve the same throwaway content root; nginx runs from a
temporary directory with its own config (one process, no master, no paths
outside the directory). Asserts nothing: docs/hoster.md explains each
difference.

    compare_nginx.py --hoster PATH/dcn-hoster [--all] [--corpus FILE]

Prints only the cases where the two differ unless --all, then the cases
that differ but have no row in docs/hoster.md's table ("Compared with
nginx"), and the rows there that no longer differ. Exit status 77 when nginx
is not installed, 1 when a server does not start, else 0.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_corpus  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited at start (status %s)" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on port %d" % (what, port))


def start_nginx(work, root):
    port = free_port()
    tmp = os.path.join(work, "tmp")
    os.makedirs(tmp)
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""# throwaway config for the corpus comparison: defaults everywhere else
master_process off;
daemon off;
worker_processes 1;
error_log {work}/error.log;
pid {work}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        root {root};
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", work, "-e", os.path.join(work, "error.log"), "-c", conf],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr"), "w"))
    return proc, port


def start_hoster(binary, work, root):
    err = os.path.join(work, "hoster.err")
    proc = subprocess.Popen([binary, "--root", root, "--listen", "127.0.0.1:0", "--threads", "1",
                             "--access-log", "off"], stdout=subprocess.DEVNULL, stderr=open(err, "w"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("dcn-hoster exited at start: " + open(err).read())
        for line in open(err):
            if line.startswith("dcn-hoster: listening on http://"):
                return proc, int(line.split(":")[-1].split("/")[0])
        time.sleep(0.05)
    raise RuntimeError("dcn-hoster did not start")


DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "hoster.md")


def documented_cases(path=DOC):
    """The case names of the rows of docs/hoster.md's nginx table."""
    names, inside = set(), False
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("#"):
            inside = line.strip() == "### Compared with nginx"
        elif inside and line.startswith("| ") and not line.startswith("| case "):
            names.add(line.split("|")[1].strip())
    return names


def version():
    r = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
    return r.stderr.strip().replace("nginx version: ", "")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hoster", default=os.environ.get("DCN_HOSTER"), help="dcn-hoster binary (env DCN_HOSTER)")
    ap.add_argument("--corpus", default=http_corpus.DEFAULT_CORPUS)
    ap.add_argument("--all", action="store_true", help="print every case, not only the differences")
    a = ap.parse_args(argv)
    if not shutil.which("nginx"):
        print("compare_nginx: nginx is not installed (scripts/install-deps bench): comparison skipped")
        return 77
    if not a.hoster:
        ap.error("--hoster is required")
    cases = http_corpus.load(a.corpus)
    work = tempfile.mkdtemp(prefix="dcn-corpus-")
    procs = []
    try:
        root = os.path.join(work, "root")
        http_corpus.make_root(root)
        ndir = os.path.join(work, "nginx")
        os.makedirs(ndir)
        nginx, nport = start_nginx(ndir, root)
        procs.append(nginx)
        hoster, hport = start_hoster(a.hoster, work, root)
        procs.append(hoster)
        wait_listening(nport, nginx, "nginx")
        rows, differ = [], []
        for c in cases:
            h = http_corpus.run_case(hport, c)
            n = http_corpus.run_case(nport, c)
            if h != n:
                differ.append(c.name)
            if a.all or h != n:
                rows.append((c.name, c.expected, h, n))
        print("dcn-hoster against nginx %s: %d cases, %d answered differently" % (version(), len(cases), len(differ)))
        print()
        print("| case | expected | dcn-hoster | nginx |")
        print("|---|---|---|---|")
        for name, want, h, n in rows:
            mark = "" if h == want else " (!)"
            print("| %s | %s | %s%s | %s |" % (name, want, h, mark, n))
        documented = documented_cases()
        if documented is not None:
            print()
            missing = [n for n in differ if n not in documented]
            stale = sorted(documented - set(differ))
            print("not explained in docs/hoster.md: %s" % (" ".join(missing) or "none"))
            print("in docs/hoster.md but no longer different: %s" % (" ".join(stale) or "none"))
        return 0
    except RuntimeError as e:
        print("compare_nginx: %s" % e, file=sys.stderr)
        return 1
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
