#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Policy comparison (issue #7): every scenario in sim/scenarios/ for the static
baseline, the reference rules, the anchors and trimtab's own policies, over N
seeds, plain and with --perturb; a table of the scores and a check of the
targets.

Each scenario names its configs by convention (docs/policies.md): `static`
(first, the baseline), `reference` (the review's rules), `anchor_<name>` (what
a user would otherwise run) and `trimtab`; its `primary_score:` says what the
policies are judged on first.

Usage:
  bench/policy_compare.py --trimtab build/trimtab [--seeds 5] [--out DIR]
                          [--scenario NAME ...] [--write-results] [--check]
  bench/policy_compare.py --trimtab build/trimtab --regression

--write-results  replaces the "Policy comparison" section of bench/RESULTS.md
--check          exit 1 when a target fails
--regression     CTest's policy_regression: 2 fixed seeds, plain, configs
                 static/reference/trimtab only; fails if trimtab falls behind
                 the reference rules on a scenario's primary score, or if a
                 run fails.
Writes DIR/<scenario>/{plain,perturb}/ (trimtab sim's outputs: summary.json,
report.html, ...) and DIR/index.html (the tables, self-contained).
"""
import argparse
import html
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = os.path.join(ROOT, "sim", "scenarios")
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")
BEGIN, END = "<!-- policy-compare:begin -->", "<!-- policy-compare:end -->"
# month_bench is the simulator's speed benchmark, not a tuning scenario.
SKIP = {"month_bench"}

# Scores a config must not do worse on than static and reference (outcomes).
# Flaps are judged by their own target (<= 1 per knob per hour): a static
# config cannot flap, so "no more flaps than static" would forbid adapting.
# The hit ratio is one (the issue lists it among the scores): a cache that
# serves fewer hits sends more queries to the database.
OUTCOMES = ["slo_violation_seconds", "timeouts", "errors", "oom_kills", "downtime_seconds", "stale_reads",
            "hit_ratio"]
# What a config costs; compared only against configs whose outcomes are as good.
COSTS = ["connections_mean", "memory_gib_hours", "monitoring_cpu_seconds"]
HIGHER_IS_BETTER = {"hit_ratio"}
# The table's columns: (JSON key, heading).
COLUMNS = [
    ("slo_violation_seconds", "SLO viol. s"), ("timeouts", "timeouts"), ("errors", "errors"),
    ("oom_kills", "OOM"), ("downtime_seconds", "down s"), ("memory_gib_hours", "mem GiB h"),
    ("connections_mean", "conn mean"), ("hit_ratio", "hit ratio"), ("stale_reads", "stale reads"),
    ("monitoring_cpu_seconds", "mon CPU s"), ("knob_changes", "changes"), ("flaps", "flaps"),
]
# "No worse" allows this much relative slack (and half a unit absolute), so
# that a difference far below the seed-to-seed spread does not count.
REL_SLACK, ABS_SLACK = 0.01, 0.5
MAX_FLAPS_PER_KNOB_HOUR = 1.0


def config_names(path):
    """The `name:` of each entry of the scenario's top-level `configs:` list."""
    names, inside = [], False
    with open(path) as f:
        for line in f:
            if re.match(r"^configs:\s*$", line):
                inside = True
                continue
            if inside and re.match(r"^\S", line) and not line.startswith("#"):
                break
            m = re.match(r"^  - name:\s*(\S+)", line) if inside else None
            if m:
                names.append(m.group(1).strip("'\""))
    return names


def compared(names, regression):
    wanted = ["static", "reference"] + ([] if regression else [n for n in names if n.startswith("anchor_")])
    wanted.append("trimtab")
    return [n for n in wanted if n in names]


def run_sim(trimtab, scenario, configs, seeds, out, perturb, duration=None, threads=2):
    cmd = [trimtab, "sim", scenario, "--seeds", str(seeds), "--threads", str(threads), "--out", out]
    for c in configs:
        cmd += ["--compare", c]
    if perturb:
        cmd.append("--perturb")
    if duration:
        cmd += ["--duration", duration]
    started = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"policy_compare: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    summary["_wall"] = time.monotonic() - started
    summary["_cmd"] = " ".join(os.path.relpath(a, ROOT) if os.path.isabs(a) else a for a in cmd)
    return summary


def worse(a, b, key):
    """True when value a is worse than b beyond the slack."""
    if key in HIGHER_IS_BETTER:
        return a < b - REL_SLACK * abs(b)
    return a > b * (1 + REL_SLACK) + ABS_SLACK * (key not in ("hit_ratio", "memory_gib_hours", "connections_mean"))


def strictly_better(a, b, key):
    return a > b if key in HIGHER_IS_BETTER else a < b


def judge(summary):
    """The targets for one scenario and variant: {target: (ok or None, why)}."""
    means = {c["name"]: c["mean"] for c in summary["configs"]}
    primary = summary["scenario"].get("primary_score", "slo_violation_seconds")
    hours = summary["scenario"]["duration_seconds"] / 3600
    t = means.get("trimtab")
    out = {}
    if t is None:
        return {"trimtab": (False, "no trimtab config")}
    baselines = [n for n in ("static", "reference") if n in means]
    problems = []
    for name in baselines:
        b = means[name]
        for key in OUTCOMES:
            if worse(t[key], b[key], key):
                problems.append(f"{key} {fmt(t[key])} vs {name} {fmt(b[key])}")
        as_good = all(not worse(b[k], t[k], k) for k in OUTCOMES)
        if as_good:
            for key in COSTS:
                if worse(t[key], b[key], key):
                    problems.append(f"{key} {fmt(t[key])} vs {name} {fmt(b[key])}")
    out["no worse than static/reference"] = (not problems, "; ".join(problems) or "holds")
    behind = [f"{name} {fmt(means[name][primary])}" for name in baselines
              if not strictly_better(t[primary], means[name][primary], primary)]
    out["primary strictly better"] = (not behind, f"{primary} {fmt(t[primary])}" +
                                      (" vs " + ", ".join(behind) if behind else ""))
    anchors = [n for n in means if n.startswith("anchor_")]
    if anchors:
        lost = []
        for a in anchors:
            m = means[a]
            slo_ok = t["slo_violation_seconds"] < m["slo_violation_seconds"] or (
                t["slo_violation_seconds"] == m["slo_violation_seconds"] == 0)
            cost_ok = all(not worse(t[k], m[k], k) for k in ("connections_mean", "memory_gib_hours"))
            if not (slo_ok and cost_ok):
                lost.append(f"{a} (SLO {fmt(t['slo_violation_seconds'])} vs {fmt(m['slo_violation_seconds'])}, "
                            f"conn {fmt(t['connections_mean'])} vs {fmt(m['connections_mean'])}, "
                            f"mem {fmt(t['memory_gib_hours'])} vs {fmt(m['memory_gib_hours'])})")
        out["beats every anchor"] = (not lost, "; ".join(lost) or "holds")
    else:
        out["beats every anchor"] = (None, "no anchor for these knobs")
    if primary == "oom_kills":
        out["zero OOM kills"] = (t["oom_kills"] == 0, f"{fmt(t['oom_kills'])} OOM kills")
    worst = max((k["flaps"] / hours for k in t.get("knobs", {}).values()), default=0)
    out["<= 1 flap/knob/hour"] = (worst <= MAX_FLAPS_PER_KNOB_HOUR, f"worst knob {worst:.3f} flaps/h")
    return out


def fmt(v):
    if isinstance(v, float) and v != int(v):
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{int(v):,}"


def markdown(results, seeds, commands, machine):
    lines = [BEGIN, "## Policy comparison", "",
             f"Every scenario of `sim/scenarios/` (but `month_bench`, the speed benchmark) for the static "
             f"baseline, the reference rules (`policies/reference/`), the anchors (`policies/anchors/`) and "
             f"trimtab's own policies (`policies/*.lua`), means over {seeds} seeds; "
             f"plain, and with `--perturb` (each scenario's `perturb:` values drawn per seed within their "
             f"spreads, at most ±30 %: load, service time, leak rate, crowd size, change rate, popularity "
             f"skew; load the policies were not tuned on). Produced by:", "",
             "```", commands, "```", "", f"Machine: {machine}.", "",
             "\"No worse\" allows 1 % (and half a unit) of slack and covers the outcomes (SLO seconds, "
             "timeouts, errors, OOM kills, downtime, stale reads, hit ratio); a cost (connections, memory, monitoring "
             "CPU) is compared only with a config whose outcomes are as good; flaps have their own target, "
             "since a static config cannot flap. Against an anchor, trimtab must have fewer SLO-violation "
             "seconds (or both none) and no higher connections and memory. The primary score of each "
             "scenario is its `primary_score:`.", ""]
    for variant in ("plain", "perturb"):
        title = "plain" if variant == "plain" else "perturbed (`--perturb`)"
        lines += [f"### Scores, {title}", ""]
        lines.append("| scenario | config | " + " | ".join(h for _, h in COLUMNS) + " |")
        lines.append("|---|---|" + "---:|" * len(COLUMNS))
        for name, by_variant in results.items():
            s = by_variant.get(variant)
            if not s:
                continue
            primary = s["scenario"].get("primary_score")
            for c in s["configs"]:
                m = c["mean"]
                cells = []
                for key, _ in COLUMNS:
                    cell = fmt(m[key])
                    cells.append(f"**{cell}**" if key == primary and c["name"] == "trimtab" else cell)
                lines.append(f"| {name} | {c['name']} | " + " | ".join(cells) + " |")
        lines += ["", f"### Targets, {title}", "", "| scenario | primary score | target | verdict | detail |",
                  "|---|---|---|---|---|"]
        for name, by_variant in results.items():
            s = by_variant.get(variant)
            if not s:
                continue
            for target, (ok, why) in judge(s).items():
                verdict = "n/a" if ok is None else ("holds" if ok else "**fails**")
                lines.append(f"| {name} | {s['scenario'].get('primary_score')} | {target} | {verdict} | {why} |")
        lines.append("")
    for variant, title in (("plain", "plain"), ("perturb", "perturbed")):
        wins = sum(1 for by in results.values() if by.get(variant)
                   and judge(by[variant]).get("beats every anchor", (None,))[0])
        lines.append(f"Scenarios where trimtab beats every anchor on SLO-violation seconds at equal or lower "
                     f"cost ({title}): {wins} of {len(results)} (target: at least 4 of 5).")
    lines += ["", END]
    return "\n".join(lines)


def write_results(md, begin=BEGIN, end=END):
    """Replaces the section between the markers begin and end of bench/RESULTS.md (or appends md)."""
    with open(RESULTS) as f:
        text = f.read()
    if begin in text and end in text:
        text = text[:text.index(begin)] + md + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + md + "\n"
    with open(RESULTS, "w") as f:
        f.write(text)


def write_html(out, md_tables, results):
    rows = []
    for line in md_tables.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            tag = "th" if cells and cells[0] == "scenario" else "td"
            rows.append("<tr>" + "".join(f"<{tag}>{html.escape(c).replace('**', '')}</{tag}>" for c in cells) +
                        "</tr>")
        elif line.startswith("### "):
            rows.append(f"</table><h2>{html.escape(line[4:])}</h2><table>")
        elif line.startswith("## "):
            continue
    links = "".join(f'<li>{html.escape(n)}: <a href="{n}/plain/report.html">plain</a>, '
                    f'<a href="{n}/perturb/report.html">perturbed</a></li>' for n in results)
    page = ("<!doctype html><meta charset=utf-8><title>trimtab policy comparison</title><style>"
            "body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:nth-child(-n+2){text-align:left}"
            "</style><h1>trimtab policy comparison</h1><p>Per-scenario reports (charts):</p><ul>" + links +
            "</ul><table>" + "\n".join(rows) + "</table>")
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write(page)


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs"


def regression(args, scenarios):
    failed = []
    for path in scenarios:
        name = os.path.splitext(os.path.basename(path))[0]
        configs = compared(config_names(path), regression=True)
        if "trimtab" not in configs or "reference" not in configs:
            failed.append(f"{name}: needs configs reference and trimtab, has {configs}")
            continue
        out = os.path.join(args.out, name)
        s = run_sim(args.trimtab, path, configs, 2, out, False, duration=None, threads=args.threads)
        means = {c["name"]: c["mean"] for c in s["configs"]}
        primary = s["scenario"]["primary_score"]
        t, r = means["trimtab"][primary], means["reference"][primary]
        behind = (t < r) if primary in HIGHER_IS_BETTER else (t > r)
        print(f"{name}: {primary} trimtab {fmt(t)} reference {fmt(r)} -> {'BEHIND' if behind else 'ok'}"
              f" ({s['_wall']:.1f} s)")
        if behind:
            failed.append(f"{name}: trimtab {primary} {fmt(t)} is behind the reference rules' {fmt(r)}")
    if failed:
        print("FAIL\n" + "\n".join(failed))
        return 1
    print(f"ok: trimtab's policies are not behind the reference rules on any of {len(scenarios)} scenarios")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trimtab", required=True, help="the trimtab binary")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "policy-compare"))
    ap.add_argument("--scenario", action="append", help="only this scenario (repeatable)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--write-results", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--regression", action="store_true")
    args = ap.parse_args()
    args.trimtab = os.path.abspath(args.trimtab)
    if not os.access(args.trimtab, os.X_OK):
        sys.exit(f"policy_compare: {args.trimtab} is not an executable")
    scenarios = sorted(os.path.join(SCENARIOS, f) for f in os.listdir(SCENARIOS)
                       if f.endswith(".yaml") and f[:-5] not in SKIP)
    if args.scenario:
        scenarios = [p for p in scenarios if os.path.basename(p)[:-5] in args.scenario]
        if not scenarios:
            sys.exit(f"policy_compare: no scenario named {args.scenario}")
    os.makedirs(args.out, exist_ok=True)
    if args.regression:
        return regression(args, scenarios)
    results, commands = {}, []
    for path in scenarios:
        name = os.path.basename(path)[:-5]
        configs = compared(config_names(path), regression=False)
        results[name] = {}
        for variant in ("plain", "perturb"):
            out = os.path.join(args.out, name, variant)
            s = run_sim(args.trimtab, path, configs, args.seeds, out, variant == "perturb", threads=args.threads)
            results[name][variant] = s
            print(f"{name} {variant}: {', '.join(configs)} x {args.seeds} seeds in {s['_wall']:.1f} s",
                  file=sys.stderr)
    commands.append(f"bench/policy_compare.py --trimtab build/trimtab --seeds {args.seeds} --write-results")
    md = markdown(results, args.seeds, "\n".join(commands), machine())
    print(md)
    write_html(args.out, md, results)
    if args.write_results:
        write_results(md)
    failures = [(n, v, t) for n, by in results.items() for v, s in by.items()
                for t, (ok, _) in judge(s).items() if ok is False]
    if failures:
        print(f"{len(failures)} target checks fail (see the Targets tables)", file=sys.stderr)
    return 1 if (args.check and failures) else 0


if __name__ == "__main__":
    sys.exit(main())
