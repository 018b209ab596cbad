#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The demo's cache workload (scripts/demo-servers), and the application
examples/redis-cache.yaml expects: a read-through cache in Redis with
zipf-distributed keys. Each lookup GETs `cache:<k>`; a miss SETs it with the
application's TTL. The TTL is the application's config: read from the hash
app:config (field cache_ttl) at start and updated whenever a message arrives
on the channel app:config (what trimtab's redis_app_config actuator
publishes). Bounded in time (--seconds) and rate (--rate lookups/s).

With --updates U, the source of truth changes U keys a second (any key
alike): a cached value carries the version it was read at, and a hit on an
older version is a stale read, which Redis cannot see. With
--metrics-port P the application serves its counters on
http://127.0.0.1:P/metrics (app_cache_lookups_total, app_cache_hits_total,
app_cache_stale_reads_total, app_cache_ttl_seconds), for trimtab's
prometheus source.

  redis_load.py --port P [--seconds 70] [--rate 1500] [--keys 200000]
                [--db N] [--updates U] [--metrics-port P]
  (the password is read from $REDIS_PASSWORD)
"""
import argparse
import bisect
import itertools
import json
import os
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp import Resp  # noqa: E402

BATCH_SECONDS = 0.05   # one pipelined batch of lookups per this period
APP_CONFIG = "app:config"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=70)
    ap.add_argument("--rate", type=float, default=1500, help="lookups per second")
    ap.add_argument("--keys", type=int, default=200000)
    ap.add_argument("--zipf", type=float, default=0.9, help="zipf exponent of key popularity")
    ap.add_argument("--value-size", type=int, default=512)
    ap.add_argument("--ttl", type=int, default=300, help="TTL until app:config says otherwise")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db", type=int, default=0, help="Redis database of the cache's keys")
    ap.add_argument("--updates", type=float, default=0, help="source-of-truth changes per second")
    ap.add_argument("--metrics-port", type=int, default=0, help="serve /metrics on 127.0.0.1:PORT")
    args = ap.parse_args()

    password = os.environ.get("REDIS_PASSWORD")
    rnd = random.Random(args.seed)
    cum = list(itertools.accumulate(1.0 / (k ** args.zipf) for k in range(1, args.keys + 1)))
    total = cum[-1]
    # Shuffled ranks: popular keys spread over the keyspace, as in a real cache.
    names = [f"cache:{k}" for k in range(args.keys)]
    rnd.shuffle(names)
    padding = b"v" * args.value_size
    versions = {}   # key -> its version in the source of truth (absent: 0)
    counters = Counters()
    if args.metrics_port:
        serve_metrics(args.metrics_port, counters)

    db = Resp(args.host, args.port, password)
    if args.db:
        db.call("SELECT", args.db)
    sub = Resp(args.host, args.port, password)
    sub.call("SUBSCRIBE", APP_CONFIG)
    ttl = args.ttl
    current = db.call("HGET", APP_CONFIG, "cache_ttl")
    if current:
        ttl = int(float(current))
    print(f"cache_ttl {ttl} s at start", flush=True)
    counters.ttl = ttl

    per_batch = max(1, int(args.rate * BATCH_SECONDS))
    lookups = hits = 0
    end = time.monotonic() + args.seconds
    next_batch = time.monotonic()
    while time.monotonic() < end:
        while sub.pending():
            msg = sub.read()
            if isinstance(msg, list) and len(msg) == 3 and msg[0] == b"message":
                try:
                    change = json.loads(msg[2])
                    new = int(float(change["value"]))
                except (ValueError, KeyError, TypeError):
                    continue
                if change.get("field", "cache_ttl") == "cache_ttl" and new != ttl:
                    print(f"cache_ttl {ttl} -> {new} s (message on {APP_CONFIG})", flush=True)
                    ttl = new
                    counters.ttl = ttl
        for _ in range(rnd_count(rnd, args.updates * BATCH_SECONDS)):
            k = names[rnd.randrange(args.keys)]
            versions[k] = versions.get(k, 0) + 1
        keys = [names[bisect.bisect_left(cum, rnd.random() * total)] for _ in range(per_batch)]
        replies = db.pipeline([("GET", k) for k in keys])
        missed = [k for k, r in zip(keys, replies) if r is None]
        stale = sum(1 for k, r in zip(keys, replies) if r is not None and version_of(r) < versions.get(k, 0))
        if missed:
            db.pipeline([("SET", k, b"%d:" % versions.get(k, 0) + padding, "EX", ttl) for k in missed])
        lookups += len(keys)
        hits += len(keys) - len(missed)
        counters.add(len(keys), len(keys) - len(missed), stale)
        next_batch += BATCH_SECONDS
        delay = next_batch - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_batch = time.monotonic()   # behind: do not burst to catch up
    print(f"{lookups} lookups, hit ratio {hits / max(1, lookups):.2f}, final cache_ttl {ttl} s", flush=True)
    db.close()
    sub.close()
    return 0


def version_of(value):
    """The version a cached value was read at ("<version>:<padding>"; 0 for any other value)."""
    head = value.split(b":", 1)[0]
    return int(head) if head.isdigit() else 0


def rnd_count(rnd, mean):
    """A whole number of events with this mean: the fraction decides the last one."""
    whole = int(mean)
    return whole + (1 if rnd.random() < mean - whole else 0)


class Counters:
    """The application's own counters, read by the /metrics thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lookups = self.hits = self.stale = 0
        self.ttl = 0

    def add(self, lookups, hits, stale):
        with self.lock:
            self.lookups += lookups
            self.hits += hits
            self.stale += stale

    def exposition(self):
        with self.lock:
            rows = (("app_cache_lookups_total", "counter", "cache lookups", self.lookups),
                    ("app_cache_hits_total", "counter", "lookups the cache answered", self.hits),
                    ("app_cache_stale_reads_total", "counter",
                     "hits that returned a value older than the source of truth", self.stale),
                    ("app_cache_ttl_seconds", "gauge", "the TTL new cache entries get", self.ttl))
        return "".join(f"# HELP {n} {h}\n# TYPE {n} {t}\n{n} {v}\n" for n, t, h, v in rows).encode()


def serve_metrics(port, counters):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = counters.exposition()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sys.exit(main())
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(0)
