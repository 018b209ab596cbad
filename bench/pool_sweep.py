#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Try one setting of a pool policy on quiet_night, plain and perturbed.

The figures of quiet_night's hardest target (perturbed connections no more
than the reference rules', within 1 flap an hour; docs/policies.md) for any
pool_size params, or for a variant of the policy file, in one line:

  bench/pool_sweep.py NAME '{"headroom": 0.07, "grow_headroom": 0.05}' \\
      [--pool-file policies/pool_size.lua] [--interval '{"fast": 10}'] [--seeds 5]

prints mean connections, SLO-violation seconds, pool flaps per hour and
monitoring CPU seconds over the seeds, plain | perturbed. The config runs
the pool policy beside metric_interval (params from --interval), as the
scenario's trimtab config does. Flaps count as the simulator does: a change
that reverses the previous one within 600 s (the scenario's flap window).
Outputs go to a temporary directory, removed at the end.
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAP_WINDOW = 600
HOURS = 72  # quiet_night runs 3 days


def flow(d):
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in d.items()) + "}"


def pool_flaps_per_hour(events_csv, seeds):
    changes = collections.defaultdict(list)
    for r in csv.DictReader(open(events_csv)):
        if r["what"] == "db_pool_size":
            changes[r["seed"]].append((float(r["t_s"]), float(r["value"])))
    flaps = 0
    for series in changes.values():
        last_t, last_dir, current = None, 0, 20.0  # the config's static pool size
        for t, v in series:
            direction = (v > current) - (v < current)
            if direction == 0:
                continue
            if last_t is not None and direction == -last_dir and t - last_t <= FLAP_WINDOW:
                flaps += 1
            last_t, last_dir, current = t, direction, v
    return flaps / seeds / HOURS


def run(trimtab, name, pool_params, interval_params, pool_file, seeds, tmp):
    config = os.path.join(tmp, f"{name}.yaml")
    with open(config, "w") as f:
        f.write(f"name: {name}\nknobs: {{scrape_interval_seconds: 10, db_pool_size: 20}}\npolicies:\n"
                f"  - file: {os.path.abspath(pool_file)}\n    params: {flow(pool_params)}\n"
                f"  - file: {ROOT}/policies/metric_interval.lua\n    params: {flow(interval_params)}\n")
    out = {}
    for mode in ("plain", "perturb"):
        dest = os.path.join(tmp, f"out_{mode}")
        cmd = [trimtab, "sim", f"{ROOT}/sim/scenarios/quiet_night.yaml", "--compare", config,
               "--seeds", str(seeds), "--out", dest] + (["--perturb"] if mode == "perturb" else [])
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        mean = json.load(open(os.path.join(dest, "summary.json")))["configs"][0]["mean"]
        out[mode] = (mean["connections_mean"], mean["slo_violation_seconds"],
                     pool_flaps_per_hour(os.path.join(dest, "events.csv"), seeds), mean["monitoring_cpu_seconds"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name")
    ap.add_argument("pool_params", help="JSON object of the pool policy's params")
    ap.add_argument("--pool-file", default=os.path.join(ROOT, "policies/pool_size.lua"))
    ap.add_argument("--interval", default='{"fast": 10}', help="JSON params of metric_interval")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--trimtab", default=os.path.join(ROOT, "build/trimtab"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pool-sweep-") as tmp:
        r = run(args.trimtab, args.name, json.loads(args.pool_params), json.loads(args.interval),
                args.pool_file, args.seeds, tmp)
    p, q = r["plain"], r["perturb"]
    print(f"{args.name:28s} plain conn {p[0]:.2f} slo {p[1]:.1f} flaps/h {p[2]:.2f} mon {p[3]:.0f} | "
          f"perturbed conn {q[0]:.2f} slo {q[1]:.0f} flaps/h {q[2]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
