#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One line of the demo's before/after summary (scripts/demo-servers): over
--seconds, samples pgbouncer's SHOW POOLS (clients waiting, averaged: it is an
instantaneous count) and reads its pool size, and takes Redis's hit ratio
(from the INFO counters' increase over the period) and memory. Passwords come
from $PG_PASSWORD and $REDIS_PASSWORD; psql is given them in its environment,
never on its command line.

  snapshot.py LABEL [--seconds 3]
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp import Resp, info  # noqa: E402

SAMPLES = 6
PSQL_TIMEOUT = 5.0


def admin(query):
    env = dict(os.environ, PGPASSWORD=os.environ["PG_PASSWORD"], PGCONNECT_TIMEOUT="3")
    dsn = f"host=127.0.0.1 port={os.environ['PGBOUNCER_PORT']} dbname=pgbouncer user=postgres"
    out = subprocess.run(["psql", "-X", "-A", "-F", "\t", "-c", query, dsn], env=env, capture_output=True,
                         text=True, timeout=PSQL_TIMEOUT, check=True).stdout.splitlines()
    header = out[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in out[1:] if "\t" in line]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("label")
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    redis = Resp("127.0.0.1", int(os.environ["REDIS_PORT"]), os.environ.get("REDIS_PASSWORD"))
    first = info(redis)
    waiting, clients = [], []
    for _ in range(SAMPLES):
        app = [p for p in admin("SHOW POOLS") if p["database"] == "app"]
        waiting.append(sum(int(p["cl_waiting"]) for p in app))
        clients.append(sum(int(p["cl_active"]) + int(p["cl_waiting"]) for p in app))
        time.sleep(args.seconds / SAMPLES)
    last = info(redis)
    redis.close()
    pool = next((d["pool_size"] for d in admin("SHOW DATABASES") if d["name"] == "app"), "?")
    hits = int(last["keyspace_hits"]) - int(first["keyspace_hits"])
    misses = int(last["keyspace_misses"]) - int(first["keyspace_misses"])
    ratio = f"{hits / (hits + misses):.2f}" if hits + misses else "n/a"
    keys = last.get("db0", "keys=0").split(",")[0].split("=")[1]
    print(f"  {args.label:<7} pgbouncer: pool_size {pool:>3}, clients {max(clients):>3}, "
          f"waiting {sum(waiting) / len(waiting):5.1f} (avg of {SAMPLES})   "
          f"redis: hit ratio {ratio}, memory {int(last['used_memory']) / 1048576:5.1f} MiB "
          f"(peak {int(last['used_memory_peak']) / 1048576:5.1f}), keys {keys}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
