#!/usr/bin/env python3
"""A small loopback TCP load balancer standing in for a Kubernetes Service
in the drain test: it balances new connections round-robin over the backends
whose /-/ready answers 200 (checked every --interval seconds, as endpoints
follow readiness), and stops sending new connections to a backend as soon as
its /-/ready is 503 or it refuses connections. Connections already open stay
with their backend until either side closes them (as conntrack keeps them).
It never retries a refused connection elsewhere: a client whose connection
was refused sees it closed, as behind a real Service.

  lb.py --backends FILE --port-file FILE --stats FILE [--status FILE] [--interval 0.1]

FILE lists host:port backends, one a line; it is re-read at every check,
so a test adds and removes backends like an Endpoints update. On SIGTERM the
stats are written as JSON: per backend connections, refused, bytes, and the
readiness transitions with the connections open at that moment."""
import argparse
import asyncio
import json
import os
import signal
import time

T0 = time.monotonic()


class Backend:
    def __init__(self, addr):
        self.addr = addr
        self.host, port = addr.rsplit(":", 1)
        self.port = int(port)
        self.ready = False
        self.active = 0
        self.connections = 0
        self.refused = 0
        self.bytes = 0
        self.transitions = []  # [seconds, "ready"|"not-ready", open connections]


class LB:
    def __init__(self, a):
        self.a = a
        self.backends = {}
        self.rr = 0
        self.no_backend = 0

    def read_backends(self):
        try:
            with open(self.a.backends) as f:
                addrs = [l.strip() for l in f if l.strip()]
        except FileNotFoundError:
            addrs = []
        for addr in addrs:
            if addr not in self.backends:
                self.backends[addr] = Backend(addr)
        return [self.backends[x] for x in addrs]

    async def probe(self, b):
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(b.host, b.port), 0.5)
        except (OSError, asyncio.TimeoutError):
            return False
        try:
            w.write(b"GET /-/ready HTTP/1.1\r\nHost: lb\r\nConnection: close\r\nUser-Agent: lb-probe\r\n\r\n")
            line = await asyncio.wait_for(r.readline(), 0.5)
            return line.split(b" ")[1:2] == [b"200"]
        except (OSError, asyncio.TimeoutError, IndexError):
            return False
        finally:
            w.close()

    async def health(self):
        while True:
            current = self.read_backends()
            results = await asyncio.gather(*(self.probe(b) for b in current))
            for b, ok in zip(current, results):
                if ok != b.ready:
                    b.ready = ok
                    b.transitions.append([round(time.monotonic() - T0, 3), "ready" if ok else "not-ready", b.active])
            if self.a.status:
                with open(self.a.status + ".tmp", "w") as f:
                    json.dump({x: {"ready": y.ready, "active": y.active} for x, y in self.backends.items()}, f)
                os.replace(self.a.status + ".tmp", self.a.status)
            for addr, b in self.backends.items():
                if b not in current and b.ready:
                    b.ready = False
                    b.transitions.append([round(time.monotonic() - T0, 3), "removed", b.active])
            await asyncio.sleep(self.a.interval)

    def pick(self):
        ready = [b for b in self.backends.values() if b.ready]
        if not ready:
            return None
        self.rr += 1
        return ready[self.rr % len(ready)]

    async def pipe(self, r, w, b):
        try:
            while True:
                data = await r.read(65536)
                if not data:
                    break
                b.bytes += len(data)
                w.write(data)
                await w.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            try:
                w.close()
            except OSError:
                pass

    async def client(self, cr, cw):
        b = self.pick()
        if not b:
            self.no_backend += 1
            cw.close()
            return
        try:
            br, bw = await asyncio.open_connection(b.host, b.port)
        except OSError:
            b.refused += 1
            cw.close()
            return
        b.connections += 1
        b.active += 1
        try:
            await asyncio.gather(self.pipe(cr, bw, b), self.pipe(br, cw, b))
        finally:
            b.active -= 1

    def stats(self):
        return {"no_backend": self.no_backend,
                "backends": {a: {"connections": b.connections, "refused": b.refused, "bytes": b.bytes,
                                 "transitions": b.transitions} for a, b in self.backends.items()}}


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--status", help="file rewritten at every check: {backend: {ready, active}}")
    a = ap.parse_args()
    lb = LB(a)
    server = await asyncio.start_server(lb.client, "127.0.0.1", 0, backlog=512)
    health = asyncio.ensure_future(lb.health())
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    health.cancel()
    server.close()
    with open(a.stats, "w") as f:
        json.dump(lb.stats(), f, indent=1)


asyncio.run(main())
