#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A small stand-in service for trimtab's demo and integration tests.

It models a shop backend whose database pool is too small for its load: the
load follows a scripted curve, requests queue for pool connections (an M/M/c
queue, Erlang C), and the cache hit ratio follows its TTL. It serves
Prometheus text on GET /metrics and accepts knob changes as JSON on
PUT/POST /knobs/<name> ({"value": 12}); GET /knobs returns the knobs and
every change received, so tests can check what reached the target.

Only 127.0.0.1 by default. Standard library only.
"""
import argparse
import json
import math
import os
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE_TIME = 0.050        # seconds of database time per query (one per cache miss)
CACHE_KEYS = 50000         # distinct keys, zipf(1.0) popularity
KNOB_BOUNDS = {"db_pool_size": (1, 256), "cache_ttl_seconds": (1, 86400)}


def erlang_c(c, a):
    """Probability that an arrival waits in an M/M/c queue with offered load a (Erlangs)."""
    if a <= 0:
        return 0.0
    if a >= c:
        return 1.0
    term, total = 1.0, 1.0
    for k in range(1, c):
        term *= a / k
        total += term
    term *= a / c
    last = term * c / (c - a)
    return last / (total + last)


class Shop:
    def __init__(self, load_curve, seed):
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.rng = random.Random(seed)
        self.load_curve = load_curve
        self.knobs = {"db_pool_size": 3.0, "cache_ttl_seconds": 60.0}
        self.changes = []
        self.requests = 0.0
        self.hits = 0.0
        self.misses = 0.0
        self.wait_sum = 0.0
        self.last = self.start
        self.waiting = 0.0
        self.p95 = 0.0
        self.active = 0.0
        h = [1.0 / (i + 1) for i in range(CACHE_KEYS)]
        norm = sum(h)
        self.popularity = [x / norm for x in h]

    def rps(self, t):
        """Scripted load: a climb to a peak, a plateau, then a fall."""
        if self.load_curve == "flat":
            return 150.0
        if t < 6:
            base = 100.0
        elif t < 14:
            base = 100.0 + (t - 6) * 60.0
        elif t < 24:
            base = 580.0
        else:
            base = 150.0
        return base * (1.0 + 0.05 * math.sin(t))

    def advance(self):
        now = time.monotonic()
        dt, self.last = now - self.last, now
        t = now - self.start
        lam = self.rps(t)
        c = int(self.knobs["db_pool_size"])
        ttl = self.knobs["cache_ttl_seconds"]
        # non-resetting TTL cache: h_i = lam_i T / (1 + lam_i T)
        hit = sum(p * (p * lam * ttl) / (1.0 + p * lam * ttl) for p in self.popularity)
        db_lam = lam * (1.0 - hit)
        a = db_lam * SERVICE_TIME
        mu = 1.0 / SERVICE_TIME
        if a < c:
            pw = erlang_c(c, a)
            mean_wait = pw / (c * mu - db_lam)
            p95 = max(0.0, math.log(max(pw, 1e-12) / 0.05) / (c * mu - db_lam)) if pw > 0.05 else 0.0
            waiting = db_lam * mean_wait  # Little's law
        else:  # overloaded: the queue grows
            mean_wait = 1.0 + (a - c)
            p95 = 2.0 + (a - c)
            waiting = (a - c) * 10.0 + 5.0
        noise = 1.0 + self.rng.uniform(-0.05, 0.05)
        self.waiting = waiting * noise
        self.p95 = (p95 + SERVICE_TIME) * noise
        self.active = min(float(c), a)
        n = lam * dt
        self.requests += n
        self.hits += n * hit
        self.misses += n * (1.0 - hit)
        self.wait_sum += n * mean_wait

    def metrics(self):
        with self.lock:
            self.advance()
            k = self.knobs
            lines = [
                "# HELP app_requests_total Requests served.",
                "# TYPE app_requests_total counter",
                f"app_requests_total {self.requests:.3f}",
                "# HELP app_request_latency_p95_seconds 95th percentile request latency.",
                "# TYPE app_request_latency_p95_seconds gauge",
                f"app_request_latency_p95_seconds {self.p95:.6f}",
                "# HELP db_pool_size Configured database pool size.",
                "# TYPE db_pool_size gauge",
                f"db_pool_size {k['db_pool_size']:.0f}",
                "# HELP db_pool_connections_active Pool connections in use.",
                "# TYPE db_pool_connections_active gauge",
                f"db_pool_connections_active {self.active:.3f}",
                "# HELP db_pool_clients_waiting Requests waiting for a pool connection.",
                "# TYPE db_pool_clients_waiting gauge",
                f"db_pool_clients_waiting {self.waiting:.3f}",
                "# HELP db_query_duration_seconds Database time per query.",
                "# TYPE db_query_duration_seconds gauge",
                f"db_query_duration_seconds {SERVICE_TIME}",
                "# HELP cache_hits_total Cache hits.",
                "# TYPE cache_hits_total counter",
                f'cache_hits_total{{cache="catalog"}} {self.hits:.3f}',
                "# HELP cache_misses_total Cache misses.",
                "# TYPE cache_misses_total counter",
                f'cache_misses_total{{cache="catalog"}} {self.misses:.3f}',
                "# HELP cache_ttl_seconds Configured cache TTL.",
                "# TYPE cache_ttl_seconds gauge",
                f"cache_ttl_seconds {k['cache_ttl_seconds']:.0f}",
            ]
            return "\n".join(lines) + "\n"

    def set_knob(self, name, value):
        if name not in KNOB_BOUNDS:
            return 404, {"error": f"unknown knob {name}"}
        lo, hi = KNOB_BOUNDS[name]
        if not isinstance(value, (int, float)) or not (lo <= value <= hi):
            return 400, {"error": f"{name} must be a number in [{lo}, {hi}]"}
        with self.lock:
            self.advance()
            old = self.knobs[name]
            self.knobs[name] = float(value)
            self.changes.append({"t": round(time.monotonic() - self.start, 3), "knob": name,
                                 "from": old, "to": float(value)})
        return 200, {"knob": name, "value": float(value)}


class Handler(BaseHTTPRequestHandler):
    shop = None
    server_version = "demo-target/1"

    def log_message(self, *args):  # quiet: trimtab prints what matters
        pass

    def reply(self, code, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/metrics":
            self.reply(200, self.shop.metrics(), "text/plain; version=0.0.4")
        elif self.path == "/knobs":
            with self.shop.lock:
                self.reply(200, {"knobs": self.shop.knobs, "changes": self.shop.changes})
        elif self.path == "/healthz":
            self.reply(200, "ok\n", "text/plain")
        else:
            self.reply(404, {"error": "not found"})

    def do_PUT(self):
        if not self.path.startswith("/knobs/"):
            return self.reply(404, {"error": "not found"})
        length = min(int(self.headers.get("Content-Length", "0")), 65536)
        try:
            payload = json.loads(self.rfile.read(length) or b"{}")
            value = payload["value"]
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": 'expected JSON {"value": number}'})
        code, body = self.shop.set_knob(self.path[len("/knobs/"):], value)
        self.reply(code, body)

    do_POST = do_PUT


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:18080", help="host:port (default 127.0.0.1:18080)")
    ap.add_argument("--load", choices=["scripted", "flat"], default="scripted")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pid-file", help="write our pid here")
    ap.add_argument("--max-seconds", type=float, default=600, help="exit after this long (bounded by design)")
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    Handler.shop = Shop(args.load, args.seed)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(str(os.getpid()))
    threading.Timer(args.max_seconds, server.shutdown).start()
    print(f"demo_target listening on {host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
