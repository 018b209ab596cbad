#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end test of the real `trimtab` binary against a real pgbouncer (and
PostgreSQL behind it) on 127.0.0.1, started by `scripts/services` (scripts/test
exports TRIMTAB_SERVICES_ENV, naming their DIR/env).

A pgbouncer source feeds a policy that proposes a new pool size every tick,
applied by the pgbouncer_pool_size actuator. pgbouncer is killed mid-run and
started again:

1. the policy's decisions reach pgbouncer (SHOW CONFIG) before and after;
2. trimtab keeps ticking while pgbouncer is down (healthz answers, the tick
   counter grows);
3. no decision is applied on stale data while it is down (they are vetoed);
4. it recovers within two source intervals after pgbouncer returns (a
   successful scrape: journal event source_up);
5. the journal lists every attempt: each applied decision has its outcome,
   failed ones with their error; no password appears in the journal, the logs
   or /metrics.

Bounded in time (about 25 s), loopback only. Without TRIMTAB_SERVICES_ENV it
fails, unless TRIMTAB_SKIP_INTEGRATION=1 (then it exits 77: skipped).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

from itest_support import (Checks, PgBouncerAdmin, check_no_secrets, free_port, http_get, service_secrets,
                           services_env, stop_run, wait_http)

SKIPPED = 77
INTERVAL = 1.0           # s between two collections of the pgbouncer source
TICK = 0.25              # s, trimtab's tick
STALE_AFTER = 2          # failed scrapes before the pool series are stale
DOWN_SECONDS = 5.0       # how long pgbouncer stays dead
RUN_LIMIT = "60s"        # trimtab's --duration: a bound if the test hangs
PSQL_TIMEOUT = 10.0
POOL_SIZES = (3, 4)      # what the policy alternates between

POLICY = """
-- proposes a pool size that alternates, so every tick wants an apply; reads
-- the pool's state first, so stale pool data vetoes the proposal
return {
  name = "alternate_pool",
  interval = "0.5s",
  tick = function(ctx)
    -- (SHOW DATABASES and SHOW CONFIG: present even before any client has
    -- connected to a freshly started pgbouncer, unlike SHOW POOLS rows)
    local pool = ctx.value("pgbouncer_databases_pool_size", {database = "app"})
    local size = ctx.value("pgbouncer_config_default_pool_size")
    if not (pool and size) then return end
    ctx.state.n = (ctx.state.n or 0) + 1
    local want = (ctx.state.n % 2 == 0) and SIZE_A or SIZE_B
    ctx.propose("pgbouncer_pool_size", want, string.format("test: app pool %d, default %d", pool, size))
  end,
}
"""

CONFIG = """
service: servers-e2e
tick: {tick}s
store:
  stale_after_scrapes: {stale}
sources:
  - name: pgbouncer
    kind: pgbouncer
    dsn: env:PGBOUNCER_ADMIN_DSN
    interval: {interval}s
    timeout: 500ms
knobs:
  - name: pgbouncer_pool_size
    type: int
    min: 2
    max: 12
    baseline: {baseline}
    actuator:
      kind: pgbouncer_pool_size
      dsn: env:PGBOUNCER_ADMIN_DSN
      database: app
      timeout: 2s
      verify_timeout: 1s
      retries: 0
      breaker_open: 1s
policies:
  - file: alternate_pool.lua
journal:
  path: journal.jsonl
server:
  listen: 127.0.0.1:{server_port}
log:
  level: info
"""


def services(script, command, env, name):
    return subprocess.run([script, command, env["SERVICES_DIR"], name], capture_output=True, text=True,
                          timeout=60).returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trimtab", required=True)
    ap.add_argument("--services", required=True, help="path of scripts/services")
    args = ap.parse_args()
    args.trimtab = os.path.abspath(args.trimtab)
    args.services = os.path.abspath(args.services)

    env = services_env(SKIPPED)
    if not isinstance(env, dict):
        return env
    secrets = service_secrets(env)
    bouncer = PgBouncerAdmin(env, timeout=PSQL_TIMEOUT)
    checks = Checks()
    original = bouncer.default_pool_size()

    with tempfile.TemporaryDirectory(prefix="trimtab-e2e-") as tmp:
        server_port = free_port()
        with open(os.path.join(tmp, "alternate_pool.lua"), "w") as f:
            f.write(POLICY.replace("SIZE_A", str(POOL_SIZES[0])).replace("SIZE_B", str(POOL_SIZES[1])))
        config = os.path.join(tmp, "trimtab.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(tick=TICK, stale=STALE_AFTER, interval=INTERVAL, baseline=original,
                                  server_port=server_port))
        run_env = dict(os.environ, **env)   # the config names its secrets as env:NAME
        base = f"http://127.0.0.1:{server_port}"
        trimtab = None
        err_path = os.path.join(tmp, "stderr.log")
        try:
            check = subprocess.run([args.trimtab, "check", "--config", config], capture_output=True, text=True,
                                   env=run_env, timeout=30)
            checks.check(check.returncode == 0, f"trimtab check accepts the config ({check.stderr.strip()})")
            if check.returncode != 0:
                return 1

            with open(err_path, "w") as err:
                trimtab = subprocess.Popen([args.trimtab, "run", "--config", config, "--duration", RUN_LIMIT],
                                           stdout=subprocess.DEVNULL, stderr=err, env=run_env, cwd=tmp)
            wait_http(f"{base}/healthz", 15.0)
            time.sleep(3.0)
            size = bouncer.default_pool_size()
            checks.check(size in POOL_SIZES, f"the policy's decisions reach pgbouncer (SHOW CONFIG: {size})")

            # ---- pgbouncer dies ----
            killed_at = time.time()
            checks.check(services(args.services, "kill", env, "pgbouncer"), "scripts/services kill pgbouncer")
            _, metrics = http_get(f"{base}/metrics")
            ticks_before = ticks_of(metrics)
            time.sleep(DOWN_SECONDS)
            status, _ = http_get(f"{base}/healthz")
            checks.check(status == 200 and trimtab.poll() is None, "trimtab keeps running while pgbouncer is down")
            _, metrics = http_get(f"{base}/metrics")
            ticks_after = ticks_of(metrics)
            checks.check(ticks_after >= ticks_before + (DOWN_SECONDS / TICK) / 2,
                         f"trimtab keeps ticking while pgbouncer is down ({ticks_before} -> {ticks_after} ticks)")
            checks.check('trimtab_source_up{source="pgbouncer"} 0' in metrics,
                         "/metrics shows the pgbouncer source down")

            # ---- pgbouncer returns (same port, same passwords; its pool size is back to the ini's) ----
            started = services(args.services, "start", env, "pgbouncer")
            revived_at = time.time()
            checks.check(started, "scripts/services start pgbouncer")
            time.sleep(2 * INTERVAL + 3.0)
            size = bouncer.default_pool_size()
            checks.check(size in POOL_SIZES, f"decisions reach pgbouncer again after it returned (SHOW CONFIG: {size})")
            run = stop_run(checks, trimtab, server_port, err_path, os.path.join(tmp, "journal.jsonl"))
            stderr, journal = run.stderr, run.journal
            check_journal(checks, journal, killed_at, revived_at)
            check_no_secrets(checks, secrets, run.journal_text, stderr, run.metrics)
            if checks.failed:
                print("--- trimtab stderr (tail) ---\n" + stderr[-4000:])
                print("--- journal (tail) ---")
                for r in journal[-12:]:
                    print(f"{r['ts'] - killed_at:7.2f} {r['kind']} {r.get('verdict', r.get('event'))} "
                          f"{r.get('decided', '')} {r.get('rule', r.get('message', ''))[:100]} {r.get('detail', '')[:80]}")
        finally:
            if trimtab and trimtab.poll() is None:
                trimtab.kill()
                trimtab.wait(timeout=10)
            # Leave the shared servers as found: pgbouncer up, its pool size back.
            services(args.services, "start", env, "pgbouncer")
            try:
                bouncer.query(f"SET default_pool_size = {original}")
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"warning: could not restore default_pool_size {original}: {e}")

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def ticks_of(metrics):
    for line in metrics.splitlines():
        if line.startswith("trimtab_tick_duration_seconds_count"):
            return float(line.split()[-1])
    return -1.0


def check_journal(checks, journal, killed_at, revived_at):
    events = [r for r in journal if r.get("kind") == "event"]
    decisions = [r for r in journal if r.get("kind") == "decision"]
    outcomes = [r for r in journal if r.get("kind") == "outcome"]
    down = [e for e in events if e["event"] == "source_down" and e["message"].startswith("pgbouncer")]
    up = [e for e in events if e["event"] == "source_up" and e["message"].startswith("pgbouncer")
          and e["ts"] > killed_at]
    checks.check(len(down) >= 1 and killed_at <= down[0]["ts"],
                 f"the journal records the source going down ({[e['message'][:60] for e in down]})")
    # Recovery: a successful scrape within two intervals of pgbouncer's return
    # (plus one tick, the controller's granularity).
    late = (up[0]["ts"] - revived_at) if up else None
    checks.check(up and late <= 2 * INTERVAL + TICK,
                 f"recovered within two intervals after pgbouncer returned (source_up after {late} s)")

    # Stale data: once STALE_AFTER scrapes have failed (plus one interval and
    # one tick of slack), nothing is applied until the source is back.
    grace = (STALE_AFTER + 1) * INTERVAL + TICK
    recovered = up[0]["ts"] if up else revived_at
    applied_stale = [d for d in decisions if d["verdict"] == "apply" and killed_at + grace < d["ts"] < recovered]
    checks.check(not applied_stale, f"no decision applied on stale data while pgbouncer was down "
                                    f"({len(applied_stale)} applied)")
    vetoed = [d for d in decisions if d["verdict"] == "vetoed" and killed_at < d["ts"] < recovered
              and "stale" in d.get("rule", "")]
    checks.check(len(vetoed) >= 1, f"decisions on stale data are vetoed ({len(vetoed)}, e.g. "
                                   f"{vetoed[0]['rule'][:80] if vetoed else '-'})")

    # Every attempt: each applied decision has exactly one outcome (same time,
    # knob and value), and nothing has an outcome without a decision.
    def key(r):
        return (r["ts"], r["knob"], r["decided"])
    applied = [key(d) for d in decisions if d["verdict"] == "apply"]
    outcome_keys = [key(o) for o in outcomes]
    missing = [k for k in applied if outcome_keys.count(k) != 1]
    orphans = [k for k in outcome_keys if k not in applied]
    checks.check(applied and not missing and not orphans,
                 f"every applied decision has one outcome ({len(applied)} applied, {len(missing)} without, "
                 f"{len(orphans)} orphan outcomes)")
    ok_before = [o for o in outcomes if o["ok"] and o["ts"] < killed_at]
    ok_after = [o for o in outcomes if o["ok"] and o["ts"] > revived_at]
    failed = [o for o in outcomes if not o["ok"]]
    checks.check(ok_before and ok_after, f"applies succeed before the kill ({len(ok_before)}) and after the "
                                         f"return ({len(ok_after)})")
    checks.check(all(o.get("detail") for o in failed),
                 f"failed applies are journalled with their error ({len(failed)}: "
                 f"{failed[0]['detail'][:80] if failed else 'none'})")


if __name__ == "__main__":
    sys.exit(main())
