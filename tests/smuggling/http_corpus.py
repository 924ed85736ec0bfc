#!/usr/bin/env python3
"""Sends the request-smuggling corpus (requests.tsv) to an HTTP server over
raw sockets and reports what came back.

The table has one case per line, tab-separated:

    name <TAB> expected <TAB> request <TAB> reference

`request` is the raw bytes with escapes: \\r \\n \\t \\0 \\\\ \\xHH, and
\\{N*text} for `text` repeated N times. `expected` lists the status of every
response the server must send, in order, then `close` (the server closes the
connection after them) or `keep` (it stays usable). Lines starting with # and
blank lines are ignored.

What the runner does per case, on a fresh connection:
 1. sends the request bytes in one write;
 2. reads until it has as many responses as expected, the server closes, or
    nothing comes for --quiet seconds;
 3. if the connection is still open, sends a sentinel request
    (GET /sentinel, Connection: close) and reads until the server closes.
The outcome is the list of statuses and `keep` if the last response is the
sentinel's (the connection was still in sync: dropped from the list),
`close` if the server closed without answering it, `timeout` if it never
closed. No timing is asserted: the waits only bound a broken server.

A response whose body is the file /smuggled is shown as STATUS! (e.g. 200!):
the corpus puts /smuggled only inside request bodies, so such a response was
taken from body bytes. A reply that is not HTTP/1.x (an HTTP/0.9 body) is
shown as 0.9.

Other outcomes: `cut` (the close cut a response short), `bad` (bytes that
are not a response), `timeout` (the server neither answered the sentinel nor
closed).

Usage:
    http_corpus.py --make-root DIR
        writes the files the corpus asks for (/f, /smuggled, /sentinel) into
        DIR, to be served as the content root;
    http_corpus.py --port PORT [--corpus FILE] [--only NAME]...
        runs the cases against 127.0.0.1:PORT; exit status 0 when every case
        had its expected outcome, 1 otherwise.
"""
import argparse
import os
import re
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "requests.tsv")

# The content the corpus requests: /f is what well-formed requests ask for,
# /smuggled appears only inside bodies, /sentinel ends every kept connection.
FILES = {"f": b"FILE\n", "smuggled": b"SMUGGLED\n", "sentinel": b"SENTINEL\n"}
SENTINEL_REQUEST = b"GET /sentinel HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"


def make_root(directory):
    os.makedirs(directory, exist_ok=True)
    for name, data in FILES.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


_ESCAPE = re.compile(rb"\\(?:(r)|(n)|(t)|(0)|(\\)|x([0-9a-fA-F]{2})|\{(\d+)\*([^}]*)\})")


def unescape(text):
    """The request bytes of a table cell."""
    raw = text.encode("latin-1")

    def sub(m):
        if m.group(1):
            return b"\r"
        if m.group(2):
            return b"\n"
        if m.group(3):
            return b"\t"
        if m.group(4):
            return b"\0"
        if m.group(5):
            return b"\\"
        if m.group(6):
            return bytes([int(m.group(6), 16)])
        return unescape(m.group(8).decode("latin-1")) * int(m.group(7))

    return _ESCAPE.sub(sub, raw)


class Case:
    def __init__(self, name, expected, request_text, reference, line):
        self.name, self.expected, self.reference, self.line = name, expected, reference, line
        self.request_text = request_text
        self.request = unescape(request_text)
        words = expected.split()
        if not words or words[-1] not in ("close", "keep"):
            raise ValueError("line %d (%s): expected must end in close or keep: %r" % (line, name, expected))
        self.expected_count = len(words) - 1


def load(path=DEFAULT_CORPUS):
    cases, seen = [], set()
    with open(path, encoding="latin-1") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 4:
                raise ValueError("line %d: %d columns, want 4 (name, expected, request, reference)" % (n, len(cols)))
            if cols[0] in seen:
                raise ValueError("line %d: duplicate case name %s" % (n, cols[0]))
            seen.add(cols[0])
            cases.append(Case(cols[0], cols[1], cols[2], cols[3], n))
    return cases


class _Stream:
    def __init__(self, sock):
        self.sock, self.buf, self.eof = sock, bytearray(), False

    def fill(self, deadline):
        """Reads what arrives before deadline; False at EOF, None at the deadline."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True


def parse_responses(data, eof):
    """Splits a byte stream into responses: a list of (status, body) where
    status is an int, or '0.9' for bytes that are not an HTTP/1.x response
    (only once the stream ended). Stops at an incomplete response."""
    out, i = [], 0
    while i < len(data):
        if not b"HTTP/".startswith(bytes(data[i:i + 5])):
            if eof:
                out.append(("0.9", bytes(data[i:])))
            return out, len(data) if eof else i
        end = data.find(b"\r\n\r\n", i)
        if end < 0:
            return out, i
        lines = bytes(data[i:end]).split(b"\r\n")
        m = re.match(rb"HTTP/\d\.\d (\d{3})", lines[0])
        if not m:
            if eof:
                out.append(("bad", bytes(data[i:])))
                return out, len(data)
            return out, i
        status = int(m.group(1))
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            fields.setdefault(name.strip().lower(), value.strip())
        j = end + 4
        if status < 200 or status in (204, 304):
            out.append((status, b""))
            i = j
            continue
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = bytearray()
            while True:
                e = data.find(b"\r\n", j)
                if e < 0:
                    return out, i
                size = int(bytes(data[j:e]).split(b";")[0], 16)
                j = e + 2
                if size == 0:
                    e = data.find(b"\r\n", j)  # no trailers from the servers we test
                    if e < 0:
                        return out, i
                    j = e + 2
                    break
                if len(data) < j + size + 2:
                    return out, i
                body += data[j:j + size]
                j += size + 2
            out.append((status, bytes(body)))
            i = j
        elif b"content-length" in fields:
            n = int(fields[b"content-length"])
            if len(data) < j + n:
                return out, i
            out.append((status, bytes(data[j:j + n])))
            i = j + n
        else:  # delimited by the close
            if not eof:
                return out, i
            out.append((status, bytes(data[j:])))
            i = len(data)
    return out, i


def run_case(port, case, host="127.0.0.1", quiet=3.0, limit=10.0):
    """Sends one case on a fresh connection; returns its outcome string
    ("400 close", "200 200 keep", ...)."""
    sock = socket.create_connection((host, port), timeout=limit)
    try:
        s = _Stream(sock)
        try:
            sock.sendall(case.request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        # 2. the expected number of responses, the close, or a quiet period
        while not s.eof:
            responses, _ = parse_responses(s.buf, False)
            if case.expected_count and len(responses) >= case.expected_count:
                break
            if s.fill(time.monotonic() + quiet) is None:
                break
        sent_sentinel = False
        if not s.eof:
            try:
                sock.sendall(SENTINEL_REQUEST)
                sent_sentinel = True
            except (BrokenPipeError, ConnectionResetError):
                pass
            deadline = time.monotonic() + limit
            while s.fill(deadline):
                pass
        responses, used = parse_responses(s.buf, s.eof)
        if s.eof and used < len(s.buf):
            responses.append(("cut", b""))  # a response the close cut short
        words = []
        for status, body in responses:
            if isinstance(status, str):
                words.append(status)
            elif body == FILES["smuggled"]:
                words.append("%s!" % status)
            else:
                words.append(str(status))
        if sent_sentinel and responses and responses[-1][0] == 200 and responses[-1][1] == FILES["sentinel"]:
            words[-1] = "keep"
        elif s.eof:
            words.append("close")
        else:
            words.append("timeout")
        return " ".join(words)
    finally:
        sock.close()


def show(data, limit=90):
    """A request's bytes, escaped for one line."""
    text = "".join(c if 0x20 <= ord(c) < 0x7f and c != "\\" else
                   {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}.get(c, "\\x%02x" % ord(c))
                   for c in data.decode("latin-1"))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int)
    ap.add_argument("--make-root", metavar="DIR", help="write the content root the corpus needs, then exit")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--only", action="append", default=[], help="run only this case (repeatable)")
    a = ap.parse_args(argv)
    if a.make_root:
        make_root(a.make_root)
        return 0
    if a.port is None:
        ap.error("--port or --make-root is required")
    cases = load(a.corpus)
    if a.only:
        cases = [c for c in cases if c.name in a.only]
    failed = 0
    for c in cases:
        got = run_case(a.port, c, a.host)
        if got == c.expected:
            print("ok: %s: %s" % (c.name, got))
        else:
            failed += 1
            print("FAIL: %s: expected [%s], got [%s]  (%s; line %d: %s)"
                  % (c.name, c.expected, got, c.reference, c.line, show(c.request)))
    print("http_corpus: %d cases, %d as expected, %d not" % (len(cases), len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
