#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One vocabulary: every metric name the simulator's models publish must be
listed in docs/metrics.md, so that a policy written against the catalogue
runs live and offline unchanged (issue #7).

Runs every scenario of sim/scenarios/ for a few simulated minutes with
--record (what the controller scraped, every family included), collects the
metric names, and fails naming each one docs/metrics.md does not list as
`name`. Also fails if a scenario does not run.

Usage: tests/metrics_catalogue_check.py --trimtab build/trimtab [--out DIR]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def published_names(trimtab, scenario, out):
    cmd = [trimtab, "sim", scenario, "--duration", "5m", "--compare", "static", "--record", "--out", out]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL {' '.join(cmd)}:\n{p.stdout}{p.stderr}")
    names = set()
    for path in glob.glob(os.path.join(out, "recording-*.jsonl")):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    names.add(re.split(r"[{]", json.loads(line)["key"], maxsplit=1)[0])
    if not names:
        sys.exit(f"FAIL {scenario}: the recording holds no samples")
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trimtab", required=True)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    with open(os.path.join(ROOT, "docs", "metrics.md")) as f:
        listed = set(re.findall(r"`([a-zA-Z_:][a-zA-Z0-9_:]*)`", f.read()))
    out = args.out or tempfile.mkdtemp(prefix="trimtab-catalogue-")
    published = {}
    for scenario in sorted(glob.glob(os.path.join(ROOT, "sim", "scenarios", "*.yaml"))):
        name = os.path.basename(scenario)[:-5]
        for metric in published_names(args.trimtab, scenario, os.path.join(out, name)):
            published.setdefault(metric, name)
    missing = sorted(m for m in published if m not in listed)
    for m in missing:
        print(f"FAIL {m} (published in scenario {published[m]}) is not listed in docs/metrics.md")
    print(f"{len(published)} simulator metric names, {len(missing)} missing from docs/metrics.md")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
