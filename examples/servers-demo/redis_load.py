#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The demo's cache workload (scripts/demo-servers): a read-through cache in
Redis with zipf-distributed keys. Each lookup GETs `cache:<k>`; a miss SETs
it with the application's TTL. The TTL is the application's config: read from
the hash app:config (field cache_ttl) at start and updated whenever a message
arrives on the channel app:config (what trimtab's redis_app_config actuator
publishes). Bounded in time (--seconds) and rate (--rate lookups/s).

  redis_load.py --port P [--seconds 70] [--rate 1500] [--keys 200000]
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
import time

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
    args = ap.parse_args()

    password = os.environ.get("REDIS_PASSWORD")
    rnd = random.Random(args.seed)
    cum = list(itertools.accumulate(1.0 / (k ** args.zipf) for k in range(1, args.keys + 1)))
    total = cum[-1]
    # Shuffled ranks: popular keys spread over the keyspace, as in a real cache.
    names = [f"cache:{k}" for k in range(args.keys)]
    rnd.shuffle(names)
    value = b"v" * args.value_size

    db = Resp(args.host, args.port, password)
    sub = Resp(args.host, args.port, password)
    sub.call("SUBSCRIBE", APP_CONFIG)
    ttl = args.ttl
    current = db.call("HGET", APP_CONFIG, "cache_ttl")
    if current:
        ttl = int(float(current))
    print(f"cache_ttl {ttl} s at start", flush=True)

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
        keys = [names[bisect.bisect_left(cum, rnd.random() * total)] for _ in range(per_batch)]
        replies = db.pipeline([("GET", k) for k in keys])
        missed = [k for k, r in zip(keys, replies) if r is None]
        if missed:
            db.pipeline([("SET", k, value, "EX", ttl) for k in missed])
        lookups += len(keys)
        hits += len(keys) - len(missed)
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


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sys.exit(main())
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(0)
