#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""trimtab's own cache policy live (issue #7, "TTLs and app:config on Redis"):
the real `trimtab` binary runs examples/redis-cache.yaml (faster timings)
against the real redis-server that `scripts/services` started on 127.0.0.1
(scripts/test exports TRIMTAB_SERVICES_ENV, naming their DIR/env), beside the
application the example expects: examples/servers-demo/redis_load.py, a
read-through cache whose source of truth changes UPDATES keys a second, so
that most of its hits at the starting TTL are stale reads (which only the
application can count, on its /metrics).

policies/cache_tuning.lua must see the stale share of hits far above its
stale budget and shorten the TTL at once. Checks:

1. trimtab check accepts the derived config;
2. the TTL goes down, within the knob's bounds, and every applied decision
   has an outcome that succeeded;
3. the decision reaches the application through app:config (HSET and the
   message on the channel): its own TTL gauge shows the last applied value
   (read again for up to 5 s while the policy probes around it), and keys
   it caches afterwards carry a TTL no longer than the decided ones;
4. the stale share of the application's hits, once the entries cached at the
   old TTL have expired, is under half of what it was before the change;
5. the policy never failed; trimtab exits 0 on SIGTERM; no password in the
   journal, the logs or /metrics.

The cache's keys and app:config live in Redis database 9, flushed at the end.
About 1.5 minutes, loopback only, bounded (the application stops by itself).
Without TRIMTAB_SERVICES_ENV it fails, unless TRIMTAB_SKIP_INTEGRATION=1 (then
it exits 77: skipped).
"""
import os
import subprocess
import sys
import tempfile
import time

from itest_support import (Checks, REPO_ROOT, RedisCli, check_config_accepted, check_no_secrets, check_outcomes,
                           check_policies_never_failed, derive_config, example_test_args, free_port, http_get,
                           keep_files, knob_bounds, metric_value, ok_outcomes, print_run, read_journal_partial,
                           service_secrets, services_env, stop_run, wait_http)

SKIPPED = 77
APP = os.path.join(REPO_ROOT, "examples", "servers-demo", "redis_load.py")   # the application the example expects
DB = 9
BASELINE_TTL = 30           # the knob's baseline in the test (the example's is 60)
UPDATES = 40                # source-of-truth changes a second: each of the 2,000 keys every 50 s
APP_SECONDS = 100           # the application's run (it stops by itself)
MEASURE = 10.0              # s of the application's counters on each side of the change
WARMUP = 15.0               # s the application runs before trimtab starts
# The example's timings, made faster so that the whole run fits in minutes.
TIMINGS = (
    (r"^tick: 1s$", "tick: 250ms", 1),
    (r"^    interval: 10s\n    timeout: 2s$", "    interval: 1s\n    timeout: 500ms", 2),
    (r"^    cooldown: 5m .*$", "    cooldown: 3s", 1),
    (r"^    baseline: 60$", f"    baseline: {BASELINE_TTL}", 1),
    (r"^    interval: 1m$", "    interval: 1s", 1),
)
# cache_tuning's time scales shrunk to the test's (minutes to seconds).
FAST_PARAMS = {"settle": 3, "measure": 6, "follow": 2, "recover": 10, "settle_capacity": 10}


def app_counters(port):
    _, text = http_get(f"http://127.0.0.1:{port}/metrics")
    return {name: metric_value(text, f"app_cache_{name}") for name in ("hits_total", "stale_reads_total",
                                                                       "ttl_seconds")}


def stale_share(a, b):
    hits = b["hits_total"] - a["hits_total"]
    return (b["stale_reads_total"] - a["stale_reads_total"]) / hits if hits > 0 else float("nan")


def main():
    args = example_test_args("redis-cache.yaml", "copy the run's config, journal, stderr and the app's output here")
    env = services_env(SKIPPED)
    if not isinstance(env, dict):
        return env
    secrets = service_secrets(env)
    checks = Checks()
    redis = RedisCli(env, DB)
    redis("FLUSHDB")
    redis("HSET", "app:config", "cache_ttl", BASELINE_TTL)   # the application's config at the start

    with tempfile.TemporaryDirectory(prefix="trimtab-cache-live-") as tmp:
        port, app_port = free_port(), free_port()
        config = make_config(args.config, tmp, port, app_port)
        run_env = dict(os.environ, **env)
        run_env["REDIS_URL"] = f"{env['REDIS_URL']}/{DB}"
        trimtab, app = None, None
        err_path, app_path = os.path.join(tmp, "stderr.log"), os.path.join(tmp, "app.log")
        try:
            if not check_config_accepted(checks, args.trimtab, config, run_env):
                return 1
            with open(app_path, "w") as out:
                app = subprocess.Popen([sys.executable, APP,
                                        "--port", env["REDIS_PORT"], "--db", str(DB), "--seconds", str(APP_SECONDS),
                                        "--rate", "1000", "--keys", "2000", "--updates", str(UPDATES),
                                        "--metrics-port", str(app_port)],
                                       stdout=out, stderr=subprocess.STDOUT, env=run_env)
            wait_http(f"http://127.0.0.1:{app_port}/metrics", 15.0)
            time.sleep(WARMUP)   # entries of every age up to the TTL: the stale share of a running cache
            with open(err_path, "w") as err:
                trimtab = subprocess.Popen([args.trimtab, "run", "--config", config, "--duration",
                                            f"{APP_SECONDS + 30}s"],
                                           stdout=subprocess.DEVNULL, stderr=err, env=run_env, cwd=tmp)
            wait_http(f"http://127.0.0.1:{port}/healthz", 15.0)

            journal_path = os.path.join(tmp, "journal.jsonl")
            # The stale share at the old TTL, over the last MEASURE s before the first change.
            samples = []
            changed_at, decided = None, None
            end = time.monotonic() + APP_SECONDS - WARMUP - 2 * MEASURE - BASELINE_TTL
            while time.monotonic() < end and changed_at is None:
                samples.append((time.time(), app_counters(app_port)))
                samples = samples[-int(2 * MEASURE):]
                applied = ok_outcomes(read_journal_partial(journal_path), "cache_ttl")
                if applied:
                    changed_at, decided = applied[0]["ts"], applied[0]["decided"]
                time.sleep(1.0)
            checks.check(changed_at is not None, f"the policy changed the TTL within the run (to {decided})")
            if changed_at is not None:
                measured = measure_change(app_port, journal_path, redis, samples, changed_at, decided)

            run = stop_run(checks, trimtab, port, err_path, journal_path)

            check_decisions(checks, run.journal, config, decided)
            if changed_at is not None:
                check_change(checks, measured)
            check_policies_never_failed(checks, run.metrics)
            check_no_secrets(checks, secrets, run.journal_text, run.stderr, run.metrics)
            if checks.failed:
                print_run(run)
            if args.keep:
                keep_files(args.keep, tmp, ("trimtab.yaml", "journal.jsonl", "stderr.log", "app.log"))
        finally:
            for p in (trimtab, app):
                if p and p.poll() is None:
                    p.kill()
                    p.wait(timeout=10)
            try:   # leave the shared Redis as found
                redis("FLUSHDB")
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"warning: could not flush Redis database {DB}: {e}")

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def measure_change(app_port, journal_path, redis, samples, changed_at, decided):
    """What the change did: the stale share before it (the last MEASURE s of
    `samples`) and once the entries cached at the old TTL have expired; the
    application's TTL then, the TTL decided last, and a new key's TTL."""
    before = [c for t, c in samples if t <= changed_at]
    share_before = stale_share(before[max(0, len(before) - int(MEASURE))], before[-1]) if len(before) >= 2 \
        else float("nan")
    # Entries cached at the old TTL are gone BASELINE_TTL s after the change.
    time.sleep(max(0.0, changed_at + BASELINE_TTL + 2 - time.time()))
    a = app_counters(app_port)
    time.sleep(MEASURE)
    b = app_counters(app_port)
    app_ttl, applied = app_and_journal(app_port, journal_path)
    key = first_key(redis)
    return {"share_before": share_before, "share_after": stale_share(a, b), "app_ttl": app_ttl,
            "current": applied[-1] if applied else decided,
            # The policy probes a TTL or two around its choice: a key cached now may carry any of them.
            "largest": max(applied + [decided]),
            "key": key, "key_ttl": int(redis("TTL", key)) if key else None}


def app_and_journal(app_port, journal_path, timeout=5.0):
    """The application's TTL and the TTLs applied so far, read again until
    the TTL is the last applied one or `timeout` s pass: the policy may probe
    (a decision lands between the two reads) and a PUBLISH takes a moment to
    reach the application."""
    deadline = time.monotonic() + timeout
    while True:
        applied = [o["decided"] for o in ok_outcomes(read_journal_partial(journal_path), "cache_ttl")]
        app_ttl = app_counters(app_port)["ttl_seconds"]
        if (applied and app_ttl == applied[-1]) or time.monotonic() >= deadline:
            return app_ttl, applied
        time.sleep(0.2)


def check_change(checks, m):
    checks.check(m["app_ttl"] == m["current"],
                 f"the application's TTL is the last decided one ({m['app_ttl']} s, decided {m['current']} s)")
    checks.check(m["key_ttl"] is not None and 0 <= m["key_ttl"] <= m["largest"],
                 f"a key cached now expires within the decided TTLs ({m['key']}: {m['key_ttl']} s, "
                 f"decided at most {m['largest']} s)")
    checks.check(m["share_after"] < 0.5 * m["share_before"],
                 f"the stale share of hits fell: {m['share_before']:.2f} before the change, "
                 f"{m['share_after']:.2f} once the old entries expired")


def make_config(path, tmp, server_port, app_port):
    """The example with faster timings, the application's port, the fast
    params, its journal and server in the temp dir."""
    with open(path) as f:
        text = f.read()
    policies_dir = os.path.abspath(os.path.join(os.path.dirname(path), "..", "policies"))
    text = derive_config(text, TIMINGS + (
        (r"^    url: http://127\.0\.0\.1:8080/metrics$", f"    url: http://127.0.0.1:{app_port}/metrics", 1),
        (r"^  - file: \.\./policies/", f"  - file: {policies_dir}/", 1),
        (r"^  path: \S*journal\.jsonl$", "  path: journal.jsonl", 1),
        (r"^  listen: 127\.0\.0\.1:\d+$", f"  listen: 127.0.0.1:{server_port}", 1),
        (r"^    params:\n", "    params:\n" + "".join(f"      {k}: {v}\n" for k, v in FAST_PARAMS.items()), 1),
    ))
    out = os.path.join(tmp, "trimtab.yaml")
    with open(out, "w") as f:
        f.write(text)
    return out


def first_key(redis):
    """A cache key in the test's database, or None."""
    cursor = "0"
    for _ in range(100):
        lines = redis("SCAN", cursor, "MATCH", "cache:*", "COUNT", 1000).split()
        cursor, keys = lines[0], lines[1:]
        if keys:
            return keys[0]
        if cursor == "0":
            break
    return None


def check_decisions(checks, journal, config, decided):
    with open(config) as f:
        low, high = knob_bounds(f.read(), "cache_ttl")
    decisions = [r for r in journal if r.get("kind") == "decision" and r.get("knob") == "cache_ttl"]
    out = [d["decided"] for d in decisions if d.get("decided") is not None and not low <= d["decided"] <= high]
    checks.check(decided is not None and decided < BASELINE_TTL and not out,
                 f"the TTL went down from {BASELINE_TTL} s to {decided} s, every decision within {low}..{high} "
                 f"(outside: {out[:3]})")
    check_outcomes(checks, journal, ("cache_ttl",))


if __name__ == "__main__":
    sys.exit(main())
