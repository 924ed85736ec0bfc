"""A proxy in front of the registry for the push tests (fault_proxy_start
in push_lib.sh): PORT UPSTREAM FAILS LOG. Answers 500 to the first FAILS
requests of each kind (method + path with upload ids and digests blanked),
then forwards; logs "<status> <method> <path>" per request."""
import http.client, re, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse
port, upstream, fails, log = int(sys.argv[1]), urlparse(sys.argv[2]), int(sys.argv[3]), open(sys.argv[4], "a", buffering=1)
seen, lock = {}, threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        kind = self.command + " " + re.sub(r"[0-9a-f-]{36}|sha256(:|%3A)[0-9a-f]{64}", "X", self.path.split("?")[0])
        with lock:
            seen[kind] = seen.get(kind, 0) + 1
            bad = seen[kind] <= fails
        if bad:
            msg = b'{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}'
            self.send_response(500); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(msg))); self.end_headers()
            if self.command != "HEAD": self.wfile.write(msg)
            log.write("500 %s %s\n" % (self.command, self.path)); return
        c = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        c.request(self.command, self.path, body=body if (n or self.command in ("PUT", "PATCH", "POST")) else None, headers=hdrs)
        r = c.getresponse(); data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length": self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)) if self.command != "HEAD" else (r.getheader("Content-Length") or "0"))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
        log.write("%d %s %s\n" % (r.status, self.command, self.path)); c.close()
    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
