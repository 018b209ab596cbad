#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Simulator benchmark (issue #4): 30 simulated days at 1 s with three Lua
policies every 5 s, on one core; target <= 3 s wall, <= 200 MB peak RSS.

Also breaks the time down: the models and the driver alone (the static
config), each policy alone, and the cost of each kind of ctx call measured
with one-line probe policies (cost = run time minus the empty policy's, over
the number of policy ticks).

Usage: bench/sim_bench.py --trimtab build/trimtab [--repeat 3] [--days 30]
Prints a Markdown table (paste into bench/RESULTS.md, section Simulator).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = os.path.join(ROOT, "sim", "scenarios", "month_bench.yaml")

# One ctx call per tick (the probes run every 5 s, like the benchmark's policies).
PROBES = {
    "empty": "",
    "ctx.knob": 'local k = ctx.knob("db_pool_size")',
    "ctx.value": 'local v = ctx.value("db_pool_clients_waiting")',
    "ctx.window 10m": 'local w = ctx.window("db_pool_connections_active", nil, "10m")',
    "ctx.rate 10m": 'local r = ctx.rate("cache_hits_total", nil, "10m")',
    "string.format": 'local s = string.format("%.1f busy at %.0f%%", 1.5, 75)',
}


def run(trimtab, scenario, config, out, days):
    """Runs one config on one thread; returns (wall s, CPU s, max RSS MiB)."""
    cmd = ["/usr/bin/time", "-v", trimtab, "sim", scenario, "--compare", config, "--threads", "1",
           "--duration", f"{days}d", "--timing", "--out", out]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    wall = float(re.search(r"timing: \S+ simulated s in ([\d.]+) s wall", p.stderr).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", p.stderr).group(1))
    user += float(re.search(r"System time \(seconds\): ([\d.]+)", p.stderr).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return wall, user, rss


def best(trimtab, scenario, config, out, days, repeat):
    """The run with the least CPU time (the machine may be shared)."""
    runs = [run(trimtab, scenario, config, out, days) for _ in range(repeat)]
    return min(runs, key=lambda r: r[1])


def probe_scenario(tmp):
    """month_bench's models with one config per probe policy."""
    with open(SCENARIO) as f:
        text = f.read()
    head = text[: text.index("\nconfigs:")]
    lines = [head, "configs:"]
    for i, (name, body) in enumerate(PROBES.items()):
        path = os.path.join(tmp, f"probe{i}.lua")
        with open(path, "w") as f:
            f.write(f'return {{ name = "probe{i}", interval = "5s", tick = function(ctx) {body} end }}\n')
        lines += [f"  - name: probe{i}", "    policies:", f"      - file: {path}"]
    scenario = os.path.join(tmp, "probe.yaml")
    with open(scenario, "w") as f:
        f.write("\n".join(lines) + "\n")
    return scenario


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trimtab", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--days", type=int, default=30)
    a = ap.parse_args()
    ticks = a.days * 86400 / 5  # policy ticks of one policy every 5 s
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        print(f"{a.days} simulated days at 1 s, one thread, best of {a.repeat}\n")
        print("| config | wall (s) | CPU (s) | simulated s per CPU s | peak RSS (MiB) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        rows = {}
        for config in ["policies", "static", "pool_size_only", "ttl_only", "memory_guard_only"]:
            wall, cpu, rss = best(a.trimtab, SCENARIO, config, out, a.days, a.repeat)
            rows[config] = cpu
            print(f"| {config} | {wall:.2f} | {cpu:.2f} | {a.days * 86400 / cpu:,.0f} | {rss:.0f} |")
        print("\nCPU per policy tick (config minus static, over "
              f"{ticks:,.0f} ticks): " + ", ".join(
                  f"{c} {(rows[c] - rows['static']) / ticks * 1e6:.2f} us"
                  for c in ["pool_size_only", "ttl_only", "memory_guard_only"]))
        scenario = probe_scenario(tmp)
        walls = {}
        for i, name in enumerate(PROBES):
            walls[name] = best(a.trimtab, scenario, f"probe{i}", out, a.days, a.repeat)[1]
        print("\n| probe (one call per tick) | CPU (s) | CPU per call (us) |")
        print("| --- | ---: | ---: |")
        base = walls["empty"]
        for name, wall in walls.items():
            extra = "" if name == "empty" else f"{(wall - base) / ticks * 1e6:.2f}"
            if name == "empty":
                extra = f"{(wall - rows['static']) / ticks * 1e6:.2f} (whole empty tick)"
            print(f"| {name} | {wall:.2f} | {extra} |")


if __name__ == "__main__":
    main()
