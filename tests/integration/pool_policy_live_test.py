#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""trimtab's own pool policy (policies/pool_size.lua) live: the real `trimtab`
binary runs examples/pgbouncer-pool.yaml (with faster timings) against pgbench
through a real pgbouncer on 127.0.0.1, started by `scripts/services`
(scripts/test exports TRIMTAB_SERVICES_ENV, naming their DIR/env).

pgbench runs three bounded phases with a changing client count (light, busy,
light again); a sampler reads SHOW POOLS and SHOW CONFIG twice a second. In
a closed loop without think time each client needs at most one server
connection, so the clients of a phase are what the load needs. Checks:

1. the busy phase starts with a queue (the test is not vacuous), and the mean
   number of waiting clients (cl_waiting) over its last third is at most a
   quarter of its first seconds': waiting clients fall once the pool grows;
2. the pool (default_pool_size) never exceeds the clients of the phase (or of
   the phase before, while it comes down) plus a margin (MARGIN connections
   or MARGIN_SHARE of the clients, whichever is more), nor does any decision;
3. it comes back down in the last, light phase: at most its clients plus the
   margin at the end, and below the busy phase's peak;
4. the decisions reach pgbouncer: every applied one has an outcome and none
   failed; pgbench saw no failed transaction; the policy never errored;
   trimtab exits 0 on SIGTERM; no password in the journal, logs or /metrics.

About 2.5 minutes, loopback only. Without TRIMTAB_SERVICES_ENV it fails,
unless TRIMTAB_SKIP_INTEGRATION=1 (then it exits 77: skipped). `--policy`
and `--params` run another pool policy in the same harness (to compare).
"""
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from itest_support import (Checks, PgBouncerAdmin, REPO_ROOT, check_no_secrets, check_outcomes,
                           check_policies_never_failed, derive_config, example_test_args, free_port, pg_login,
                           service_secrets, services_env, stop_run, wait_http)

SKIPPED = 77
PHASES = ((4, 20.0), (24, 50.0), (6, 40.0))   # pgbench clients, seconds
MARGIN = 3               # spare connections allowed over what the clients can use ...
MARGIN_SHARE = 0.25      # ... or this share of them, whichever is more (a policy's headroom)
SAMPLE = 0.5             # s between two SHOW POOLS samples
FIRST_PART = 5.0         # s: the start of the busy phase, before the policy could react
TAIL = 5.0               # s: the end of a phase, where the pool has settled
DATABASE = "app"
# The example's timings, made faster so the whole run fits in minutes.
TIMINGS = (
    (r"^tick: 1s$", "tick: 250ms"),
    (r"^    interval: 2s\n    timeout: 1s$", "    interval: 1s\n    timeout: 500ms"),
    (r"^    cooldown: 10s$", "    cooldown: 3s"),
    (r"^    interval: 4s$", "    interval: 1s"),
)
# Tuning params of policies/pool_size.lua scaled to the test's time (the
# example's own values suit minutes of production load). Only those the
# policy declares are set.
FAST_PARAMS = {"shrink_after": "10s", "quiet_window": "15s"}


def main():
    def more(ap):
        ap.add_argument("--policy", help="another pool policy file instead of the example's")
        ap.add_argument("--params", help="JSON object: that policy's params (replace the example's)")
    args = example_test_args("pgbouncer-pool.yaml", "copy the run's files (config, journal, samples) to this directory",
                             more)
    env = services_env(SKIPPED)
    if not isinstance(env, dict):
        return env
    secrets = service_secrets(env)
    bouncer = PgBouncerAdmin(env)
    checks = Checks()
    original = int(bouncer.pool(DATABASE)["default_pool_size"])

    with tempfile.TemporaryDirectory(prefix="trimtab-pool-live-") as tmp:
        port = free_port()
        config, baseline = make_config(args, tmp, port)
        run_env = dict(os.environ, **env)   # the config names its secrets as env:NAME
        trimtab, load, sampler = None, None, None
        err_path = os.path.join(tmp, "stderr.log")
        try:
            check = subprocess.run([args.trimtab, "check", "--config", config], capture_output=True, text=True,
                                   env=run_env, timeout=30)
            checks.check(check.returncode == 0, f"trimtab check accepts the config ({check.stderr.strip()})")
            if check.returncode != 0:
                return 1
            init_pgbench(env)
            # Start from the example's baseline: the pool as a fresh pgbouncer has it.
            bouncer.query(f"SET default_pool_size = {baseline}", f"RECONNECT {DATABASE}")

            run_limit = f"{int(sum(s for _, s in PHASES) + 60)}s"
            with open(err_path, "w") as err:
                trimtab = subprocess.Popen([args.trimtab, "run", "--config", config, "--duration", run_limit],
                                           stdout=subprocess.DEVNULL, stderr=err, env=run_env, cwd=tmp)
            wait_http(f"http://127.0.0.1:{port}/healthz", 15.0)

            load = Load(env, os.path.join(REPO_ROOT, "examples", "servers-demo", "pgbench_txn.sql"))
            sampler = Sampler(bouncer)
            sampler.start()
            load.start()
            load.join(timeout=sum(s for _, s in PHASES) + 60)
            sampler.stop()

            run = stop_run(checks, trimtab, port, err_path, os.path.join(tmp, "journal.jsonl"))
            metrics, stderr, journal = run.metrics, run.stderr, run.journal

            check_load(checks, load)
            report = check_pool(checks, load.phases, sampler.samples)
            check_journal(checks, journal, metrics)
            check_no_secrets(checks, secrets, run.journal_text, stderr, metrics)
            print_report(report)
            if checks.failed:
                print("--- trimtab stderr (tail) ---\n" + stderr[-3000:])
                print("--- decisions ---")
                t0 = load.phases[0]["start"] if load.phases else 0
                for r in journal:
                    if r.get("kind") == "decision":
                        print(f"{r['ts'] - t0:7.1f} {r.get('verdict')} {r.get('previous', '')} -> "
                              f"{r.get('decided')} [{r.get('rule', '')}] {str(r.get('reason', ''))[:110]}")
            if args.keep:
                keep(args.keep, tmp, sampler.samples, load.phases)
        finally:
            if load:
                load.stop()
            if sampler:
                sampler.stop()
            if trimtab and trimtab.poll() is None:
                trimtab.kill()
                trimtab.wait(timeout=10)
            try:   # leave the shared pgbouncer as found
                bouncer.query(f"SET default_pool_size = {original}")
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"warning: could not restore default_pool_size {original}: {e}")

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def make_config(args, tmp, server_port):
    """The example with faster timings, an absolute policy path, its journal and
    server in the temp dir. Returns (path, the knob's baseline)."""
    with open(args.config) as f:
        text = f.read()
    m = re.search(r"^  - file: (\S+)$", text, re.MULTILINE)
    if not m:
        raise AssertionError(f"{args.config}: no policy file")
    policy = os.path.abspath(args.policy or os.path.join(os.path.dirname(args.config), m[1]))
    text = derive_config(text, TIMINGS + (
        (r"^  - file: \S+$", f"  - file: {policy}"),
        (r"^  path: \S*journal\.jsonl$", "  path: journal.jsonl"),
        (r"^  listen: 127\.0\.0\.1:\d+$", f"  listen: 127.0.0.1:{server_port}"),
    ))
    params = json.loads(args.params) if args.params else None
    text = set_params(text, params, policy)
    baseline = int(re.search(r"^    baseline: (\d+)", text, re.MULTILINE)[1])
    path = os.path.join(tmp, "trimtab.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path, baseline


def set_params(text, replace, policy):
    """The policy's `params:` block: replaced by `replace` (--params), else the
    example's with FAST_PARAMS merged in (those the policy declares)."""
    m = re.search(r"^    params:\n((?:      \S.*\n)*)", text, re.MULTILINE)
    if not m:
        raise AssertionError("the example's policy has no params block")
    if replace is not None:
        params = replace
    else:
        params = {}
        for line in m[1].splitlines():
            key, _, value = line.strip().partition(":")
            params[key] = value.strip()
        with open(policy) as f:
            source = f.read()
        params.update({k: v for k, v in FAST_PARAMS.items() if re.search(rf"\b{k}\s*=", source)})
    block = "    params:\n" + "".join(f"      {k}: {v}\n" for k, v in params.items()) if params else ""
    return text[:m.start()] + block + text[m.end():]


def init_pgbench(env):
    """pgbench's tables (scale 1), straight on PostgreSQL."""
    dsn, login = pg_login(env, "app_user")
    out = subprocess.run(["pgbench", "-i", "-q", "-s", "1", dsn], env=login, capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"pgbench -i: {out.stderr.strip()[-500:]}")


class Load(threading.Thread):
    """pgbench through pgbouncer, phase by phase (each bounded by -T)."""

    def __init__(self, env, script):
        super().__init__(daemon=True)
        self.argv = ["pgbench", "-n", "-j", "2", "-f", script,
                     f"host=127.0.0.1 port={env['PGBOUNCER_PORT']} dbname=app user=app_user"]
        self.env = dict(os.environ, PGPASSWORD=env["PG_APP_PASSWORD"])
        self.phases = []
        self.proc = None
        self.stopped = False

    def run(self):
        for clients, seconds in PHASES:
            if self.stopped:
                return
            phase = {"clients": clients, "start": time.time()}
            self.phases.append(phase)
            self.proc = subprocess.Popen(self.argv + ["-c", str(clients), "-T", str(int(seconds))], env=self.env,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                out, _ = self.proc.communicate(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, _ = self.proc.communicate()
            phase.update(end=time.time(), rc=self.proc.returncode, output=out)
            tps = re.search(r"tps = ([\d.]+) \(without", out)
            failed = re.search(r"number of failed transactions: (\d+)", out)
            phase["tps"] = float(tps[1]) if tps else None
            phase["failed"] = int(failed[1]) if failed else None

    def stop(self):
        self.stopped = True
        if self.proc and self.proc.poll() is None:
            self.proc.kill()


class Sampler(threading.Thread):
    """SHOW POOLS and SHOW CONFIG every SAMPLE seconds: (time, row) pairs."""

    def __init__(self, bouncer):
        super().__init__(daemon=True)
        self.bouncer = bouncer
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            t = time.time()
            try:
                row = self.bouncer.pool(DATABASE)
                row["t"] = t
                self.samples.append(row)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"sampler: {e}", flush=True)
            self.done.wait(max(0.0, SAMPLE - (time.time() - t)))

    def stop(self):
        self.done.set()
        if self.is_alive():
            self.join(timeout=15)


def mean(xs):
    return statistics.fmean(xs) if xs else float("nan")


def check_load(checks, load):
    ran = [p for p in load.phases if "rc" in p]
    checks.check(len(ran) == len(PHASES) and all(p["rc"] == 0 for p in ran),
                 f"pgbench ran every phase ({[(p['clients'], p.get('rc')) for p in load.phases]})")
    checks.check(all(p.get("failed") == 0 for p in ran),
                 f"pgbench saw no failed transaction ({[p.get('failed') for p in ran]})")
    if any(p.get("rc") not in (0, None) for p in ran):
        print("--- pgbench output (failed phase) ---")
        print("\n".join(p["output"][-1500:] for p in ran if p["rc"] != 0))


def check_pool(checks, phases, samples):
    """The pool against the load, from the sampled SHOW POOLS / SHOW CONFIG."""
    report = []
    for i, p in enumerate(phases):
        end = p.get("end", p["start"])
        rows = [s for s in samples if p["start"] <= s["t"] < end and s["default_pool_size"] is not None]
        if not rows:
            report.append(dict(p, rows=0))
            continue
        first = [s for s in rows if s["t"] < p["start"] + FIRST_PART]
        third = [s for s in rows if s["t"] >= end - (end - p["start"]) / 3]
        tail = [s for s in rows if s["t"] >= end - TAIL]
        sizes = [s["default_pool_size"] for s in rows]
        report.append(dict(p, rows=len(rows), index=i,
                           waiting_first=mean([s["cl_waiting"] for s in first]),
                           waiting_last_third=mean([s["cl_waiting"] for s in third]),
                           waiting_tail=mean([s["cl_waiting"] for s in tail]),
                           pool_first=sizes[0], pool_min=min(sizes), pool_max=max(sizes),
                           pool_tail=mean([s["default_pool_size"] for s in tail]),
                           servers_max=max(s["sv_active"] + s["sv_idle"] + s["sv_used"] for s in rows)))
    if len(report) != len(PHASES) or any(r["rows"] == 0 for r in report):
        checks.check(False, f"SHOW POOLS sampled in every phase ({[r['rows'] for r in report]} samples)")
        return report

    busy = max(range(len(report)), key=lambda i: report[i]["clients"])
    b = report[busy]
    checks.check(b["waiting_first"] >= 5,
                 f"the busy phase ({b['clients']} clients) starts with a queue: mean cl_waiting "
                 f"{b['waiting_first']:.1f} over its first {FIRST_PART:.0f} s (pool {b['pool_first']})")
    checks.check(b["waiting_last_third"] <= 0.25 * b["waiting_first"],
                 f"waiting clients fall as the pool grows: mean cl_waiting {b['waiting_last_third']:.2f} "
                 f"over the busy phase's last third <= a quarter of {b['waiting_first']:.1f}")
    over = []
    for i, r in enumerate(report):
        need = max(r["clients"], report[i - 1]["clients"] if i else 0)
        if r["pool_max"] > allowed(need):
            over.append(f"phase {i + 1}: pool {r['pool_max']} > {allowed(need)}")
    checks.check(not over, "the pool never exceeds what the clients can use plus a margin "
                           f"({'; '.join(over) or [r['pool_max'] for r in report]})")
    last = report[-1]
    checks.check(last["pool_tail"] <= allowed(last["clients"]) and last["pool_tail"] < b["pool_max"],
                 f"the pool comes back down in the light phase: {last['pool_tail']:.1f} at its end "
                 f"(<= {allowed(last['clients'])} for {last['clients']} clients, busy peak {b['pool_max']})")
    return report


def allowed(clients):
    """The largest pool `clients` closed-loop clients justify: one connection each, plus the margin."""
    return clients + max(MARGIN, math.ceil(MARGIN_SHARE * clients))


def check_journal(checks, journal, metrics):
    decisions = [r for r in journal if r.get("kind") == "decision" and r.get("knob") == "pgbouncer_pool_size"]
    applied = [d for d in decisions if d.get("verdict") == "apply"]
    peak = allowed(max(clients for clients, _ in PHASES))
    too_big = [d["decided"] for d in applied if d["decided"] > peak]
    checks.check(len(applied) >= 2, f"the policy's decisions are applied ({len(applied)} of {len(decisions)})")
    checks.check(not too_big, f"no applied decision past what the busiest phase justifies, {peak} ({too_big})")
    check_outcomes(checks, journal, ("pgbouncer_pool_size",))
    check_policies_never_failed(checks, metrics)


def print_report(report):
    print("phase clients  seconds  tps     cl_waiting first/last-third/tail  pool first/min/max/tail  servers max")
    for i, r in enumerate(report):
        if not r.get("rows"):
            continue
        print(f"{i + 1:5d} {r['clients']:7d} {r.get('end', 0) - r['start']:8.1f}  {r.get('tps') or 0:6.1f}  "
              f"{r['waiting_first']:8.2f} {r['waiting_last_third']:8.2f} {r['waiting_tail']:8.2f}      "
              f"{r['pool_first']:4d} {r['pool_min']:4d} {r['pool_max']:4d} {r['pool_tail']:6.1f}   "
              f"{r['servers_max']:5d}", flush=True)


def keep(dest, tmp, samples, phases):
    os.makedirs(dest, exist_ok=True)
    for name in ("trimtab.yaml", "journal.jsonl", "stderr.log"):
        src = os.path.join(tmp, name)
        if os.path.exists(src):
            with open(src) as f, open(os.path.join(dest, name), "w") as g:
                g.write(f.read())
    with open(os.path.join(dest, "samples.json"), "w") as f:
        json.dump({"phases": [{k: v for k, v in p.items() if k != "output"} for p in phases],
                   "samples": samples}, f)


if __name__ == "__main__":
    sys.exit(main())
