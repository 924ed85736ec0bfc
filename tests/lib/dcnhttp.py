"""Raw HTTP/1.x client for the dcn integration tests: `import dcnhttp` in a
py_checks script, or `python3 -m dcnhttp` (raw_request in tests/lib/http.sh)."""
import re, socket, sys, time


class Timeout(Exception):
    pass


class ProtocolError(Exception):
    pass


class Response:
    def __init__(self, version, status, reason, headers, raw_head):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.raw_head, self.body = headers, raw_head, b""

    def header(self, name, default=None):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def __repr__(self):
        return "<%s %d, %d body bytes>" % (self.version, self.status, len(self.body))


class Conn:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self, deadline):
        """Reads more bytes; False at EOF (or reset); Timeout at the deadline."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise Timeout()
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ProtocolError("EOF after %d of %d body bytes" % (len(self.buf), n))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            if not self._fill(deadline):
                raise ProtocolError("EOF inside a chunked body")
        i = self.buf.index(b"\r\n")
        out = bytes(self.buf[:i])
        del self.buf[: i + 2]
        return out

    def read_response(self, head=False, timeout=None):
        """Reads one response; None when the server closed before sending a
        byte. head=True: the request was HEAD (no body follows)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                if self.buf:
                    raise ProtocolError("EOF inside a response head: %r" % bytes(self.buf[:300]))
                return None
        i = self.buf.index(b"\r\n\r\n")
        raw_head = bytes(self.buf[:i])
        del self.buf[: i + 4]
        lines = raw_head.split(b"\r\n")
        m = re.match(rb"(HTTP/\d\.\d) (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise ProtocolError("bad status line %r" % lines[0])
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError("bad header line %r" % line)
            headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        r = Response(m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1"), headers, raw_head)
        te = (r.header("Transfer-Encoding") or "").lower()
        cl = r.header_all("Content-Length")
        if head or r.status in (204, 304) or r.status < 200:
            return r
        if te:
            if te != "chunked":
                raise ProtocolError("Transfer-Encoding %r" % te)
            body = bytearray()
            while True:
                size = int(self._line(deadline).split(b";")[0], 16)
                if size == 0:
                    while self._line(deadline):
                        pass
                    break
                body += self._take(size, deadline)
                self._line(deadline)
            r.body = bytes(body)
        elif cl:
            if len(set(cl)) != 1 or not cl[0].isdigit():
                raise ProtocolError("bad Content-Length %r" % cl)
            r.body = self._take(int(cl[0]), deadline)
        else:
            while self._fill(deadline):
                pass
            r.body = bytes(self.buf)
            self.buf.clear()
        return r

    def wait_eof(self, timeout):
        """'eof' if the server closes within timeout, 'open' if not, 'data'
        if it sends more bytes."""
        deadline = time.monotonic() + timeout
        while True:
            if self.buf:
                return "data"
            try:
                if not self._fill(deadline):
                    return "eof"
            except Timeout:
                return "open"


def ok(msg):
    print("PASS\t" + msg.replace("\n", " "), flush=True)


def fail(msg):
    print("FAIL\t" + msg.replace("\n", " "), flush=True)


def check(msg, cond):
    (ok if cond else fail)(msg)
    return cond


def check_eq(msg, want, got):
    if want == got:
        ok(msg)
    else:
        fail("%s: expected [%s], got [%s]" % (msg, want, got))
    return want == got


def request(port, data, head=False, timeout=10.0, host="127.0.0.1"):
    """One connection, one request (bytes), one response (or None)."""
    c = Conn(port, host, timeout)
    try:
        c.send(data)
        return c.read_response(head=head)
    finally:
        c.close()


def _main(argv):
    import argparse
    p = argparse.ArgumentParser(prog="dcnhttp")
    p.add_argument("--head", action="store_true", help="every request is HEAD")
    p.add_argument("--head-at", type=int, action="append", default=[],
                   help="response I (1-based) answers a HEAD request")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--close-wait", type=float, default=0)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("port", type=int)
    p.add_argument("out")
    a = p.parse_args(argv)
    import os
    for suffix in [""] + [".%d" % i for i in range(1, a.count + 1)]:
        for ext in (".head", ".body"):
            if os.path.exists(a.out + suffix + ext):
                os.unlink(a.out + suffix + ext)
    data = sys.stdin.buffer.read()
    c = Conn(a.port, a.host, a.timeout)
    try:
        c.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    words = []
    for i in range(1, a.count + 1):
        try:
            r = c.read_response(head=a.head or i in a.head_at)
        except Timeout:
            words.append("timeout")
            break
        except ProtocolError as e:
            print("dcnhttp: %s" % e, file=sys.stderr)
            words.append("bad")
            break
        if r is None:
            words.append("none")
            break
        words.append(str(r.status))
        head = r.raw_head.replace(b"\r\n", b"\n") + b"\n"
        for suffix in ([""] if i == 1 else []) + [".%d" % i]:
            with open(a.out + suffix + ".head", "wb") as f:
                f.write(head)
            with open(a.out + suffix + ".body", "wb") as f:
                f.write(r.body)
    if c.eof:
        words.append("eof")
    elif a.close_wait > 0:
        words.append(c.wait_eof(a.close_wait))
    else:
        words.append("unknown")
    print(" ".join(words))


if __name__ == "__main__":
    _main(sys.argv[1:])
