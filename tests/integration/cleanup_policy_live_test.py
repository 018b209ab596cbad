#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""trimtab's own cleanup policies live (issue #7, "cleanup on Redis and
PostgreSQL"): the real `trimtab` binary runs examples/memory-cleanup.yaml
(faster timings, a memory limit just above what Redis holds at the start)
against the real redis-server and PostgreSQL that `scripts/services` started on
127.0.0.1 (scripts/test exports TRIMTAB_SERVICES_ENV, naming their DIR/env).

The test writes cache:* keys into Redis at a steady pace (a leak toward the
limit, as redis-server's resident memory shows it through procfs) and holds
idle PostgreSQL sessions open as the app's user. policies/predictive_cleanup.lua
must see the limit coming and climb its ladder cheapest first. Checks:

1. trimtab check accepts the derived config;
2. the ladder reaches Redis and PostgreSQL: MEMORY PURGE (redis_purge), then
   the idle sessions terminated (pg_close_idle: the app user's idle sessions
   are gone, the superuser's control session is not), then the cache flushed
   over seconds (cache_flush: the keys written before it have a TTL of at
   most its value); predictive_cleanup proposes them in that order;
3. every applied decision has an outcome and none failed; every decided value
   is within its knob's bounds; no policy error or quarantine;
4. trimtab exits 0 on SIGTERM; no password in the journal, the logs or
   /metrics.

The test leaves Redis as it found it (its keys live in database 9, flushed at
the end; maxmemory and maxmemory-policy restored). About 1.5 minutes,
loopback only, bounded: the writes stop at MAX_BYTES or after LOAD_SECONDS.
Without TRIMTAB_SERVICES_ENV it fails, unless TRIMTAB_SKIP_INTEGRATION=1 (then
it exits 77: skipped).
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

from itest_support import (Checks, RedisCli, check_config_accepted, check_no_secrets, check_outcomes,
                           check_policies_never_failed, derive_config, example_test_args, free_port, keep_files,
                           knob_bounds, ok_outcomes, pg_login, print_run, read_journal_partial, service_secrets,
                           services_env, stop_run, wait_http)

SKIPPED = 77
DB = 9                      # the test's Redis database: flushed at the end
PREFIX = "cache:itest:"     # under the example's pattern, cache:*
VALUE_BYTES = 2048
KEYS_PER_WRITE = 256        # 0.5 MiB per write ...
WRITE_EVERY = 0.5           # ... every 0.5 s: a 1 MiB/s leak
HEADROOM = 80 * 2 ** 20     # the limit: Redis's resident memory at the start + this
MAX_BYTES = 160 * 2 ** 20   # never write more than this
LOAD_SECONDS = 110.0        # nor for longer
IDLE_SESSIONS = 3
KNOBS = ("redis_purge", "pg_close_idle", "cache_flush", "redis_maxmemory")
LADDER = ("redis_purge", "pg_close_idle", "cache_flush")
# The example's timings, made faster so that the whole run fits in minutes.
TIMINGS = (
    (r"^tick: 1s$", "tick: 250ms", 1),
    (r"^    interval: 5s$", "    interval: 1s", 1),
    (r"^    interval: 10s\n    timeout: 2s$", "    interval: 1s\n    timeout: 500ms", 1),
    (r"^    interval: 15s\n    timeout: 5s$", "    interval: 1s\n    timeout: 500ms", 1),
    (r"^    cooldown: 1m$", "    cooldown: 3s", 1),
    (r"^    cooldown: 2m$", "    cooldown: 3s", 1),
    (r"^    cooldown: 5m$", "    cooldown: 3s", 1),
    (r"^    cooldown: 10m$", "    cooldown: 5s", 1),
    (r"^    min: 60\n    max: 86400\n    baseline: 600$", "    min: 1\n    max: 86400\n    baseline: 5", 1),
    (r"^    interval: 15s$", "    interval: 1s", 2),   # both policies
)
# predictive_cleanup's time scales shrunk to the test's (hours to seconds).
FAST_PARAMS = {"window": 120, "peak_window": 20, "min_history": 10, "settle": 10, "settle_action": 4,
               "calm": 60, "repeat_action": 60}


class Leak(threading.Thread):
    """Writes KEYS_PER_WRITE keys every WRITE_EVERY s until stopped, MAX_BYTES or LOAD_SECONDS."""

    SCRIPT = ("for i = 1, tonumber(ARGV[2]) do redis.call('SET', ARGV[1] .. i, string.rep('x', "
              "tonumber(ARGV[3]))) end return 1")

    def __init__(self, redis):
        super().__init__(daemon=True)
        self.redis = redis
        self.written = 0
        self.writes = 0
        self.first_key_at = []      # (time, key) of each write's first key
        self.errors = []
        self.done = threading.Event()

    def run(self):
        end = time.monotonic() + LOAD_SECONDS
        while not self.done.is_set() and time.monotonic() < end and self.written < MAX_BYTES:
            prefix = f"{PREFIX}{self.writes}:"
            try:
                self.redis("EVAL", self.SCRIPT, 0, prefix, KEYS_PER_WRITE, VALUE_BYTES)
                self.first_key_at.append((time.time(), prefix + "1"))
                self.written += KEYS_PER_WRITE * VALUE_BYTES
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                self.errors.append(str(e))
            self.writes += 1
            self.done.wait(WRITE_EVERY)

    def stop(self):
        self.done.set()
        self.join(timeout=15)


def open_session(env, user, name):
    """A psql session as `user` that stays idle while its stdin is open."""
    dsn, login = pg_login(env, user)
    return subprocess.Popen(["psql", f"{dsn} application_name={name}", "-Xq"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=login)


def sessions(env, name):
    """How many sessions have this application_name."""
    dsn, login = pg_login(env, "postgres")
    r = subprocess.run(["psql", dsn, "-XAtqc",
                        f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}'"],
                       capture_output=True, text=True, env=login, timeout=15)
    if r.returncode != 0:
        raise RuntimeError(f"psql: {r.stderr.strip()}")
    return int(r.stdout.strip())


def redis_rss(env):
    with open(os.path.join(env["SERVICES_DIR"], "redis", "redis.pid")) as f:
        pid = int(f.read().strip())
    with open(f"/proc/{pid}/status") as f:
        kib = int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.MULTILINE)[1])
    return kib * 1024


def main():
    args = example_test_args("memory-cleanup.yaml", "copy the run's config, journal and stderr to this directory")
    env = services_env(SKIPPED)
    if not isinstance(env, dict):
        return env
    secrets = service_secrets(env)
    checks = Checks()
    redis = RedisCli(env, DB)
    saved = {name: redis.config_get(name) for name in ("maxmemory", "maxmemory-policy")}
    redis("FLUSHDB")
    # The example asks for an evicting Redis: a lowered maxmemory must not refuse writes.
    redis("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")

    with tempfile.TemporaryDirectory(prefix="trimtab-cleanup-live-") as tmp:
        port = free_port()
        limit = redis_rss(env) + HEADROOM
        config = make_config(args.config, tmp, port, env, limit)
        run_env = dict(os.environ, **env)
        run_env["REDIS_URL"] = f"{env['REDIS_URL']}/{DB}"   # the actuators' keys: the test's database
        trimtab, leak, idle, keep_session = None, None, [], None
        err_path = os.path.join(tmp, "stderr.log")
        try:
            if not check_config_accepted(checks, args.trimtab, config, run_env):
                return 1
            idle = [open_session(env, "app_user", "itest_idle") for _ in range(IDLE_SESSIONS)]
            keep_session = open_session(env, "postgres", "itest_keep")
            wait_for(lambda: sessions(env, "itest_idle") == IDLE_SESSIONS and sessions(env, "itest_keep") == 1,
                     15.0, "the test's PostgreSQL sessions")

            with open(err_path, "w") as err:
                trimtab = subprocess.Popen([args.trimtab, "run", "--config", config, "--duration",
                                            f"{int(LOAD_SECONDS + 60)}s"],
                                           stdout=subprocess.DEVNULL, stderr=err, env=run_env, cwd=tmp)
            wait_http(f"http://127.0.0.1:{port}/healthz", 15.0)
            leak = Leak(redis)
            leak.start()
            journal_path = os.path.join(tmp, "journal.jsonl")
            # Until the last rung's outcome is journaled (or the leak's bounds end it).
            wait_for(lambda: ok_outcomes(read_journal_partial(journal_path), "cache_flush") or not leak.is_alive(),
                     LOAD_SECONDS + 15, None)
            leak.stop()
            time.sleep(1.0)
            run = stop_run(checks, trimtab, port, err_path, journal_path)
            journal = run.journal

            checks.check(not leak.errors, f"the test's writes succeeded ({leak.errors[:1]})")
            check_ladder(checks, journal, env, redis, leak)
            check_journal(checks, journal, config, run.metrics)
            check_no_secrets(checks, secrets, run.journal_text, run.stderr, run.metrics)
            print(f"limit {limit / 2 ** 20:.0f} MiB; wrote {leak.written / 2 ** 20:.0f} MiB in {leak.writes} "
                  f"writes; Redis RSS now {redis_rss(env) / 2 ** 20:.0f} MiB")
            if checks.failed:
                print_run(run)
            if args.keep:
                keep_files(args.keep, tmp, ("trimtab.yaml", "journal.jsonl", "stderr.log"))
        finally:
            if leak:
                leak.stop()
            if trimtab and trimtab.poll() is None:
                trimtab.kill()
                trimtab.wait(timeout=10)
            for p in idle + ([keep_session] if keep_session else []):
                p.stdin.close()
                p.terminate()
                p.wait(timeout=10)
            try:   # leave the shared Redis as found
                redis("FLUSHDB")
                for name, value in saved.items():
                    redis("CONFIG", "SET", name, value)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"warning: could not restore Redis: {e}")

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


def make_config(path, tmp, server_port, env, limit):
    """The example with faster timings, redis-server found by its pid file, the
    limit and the fast params set, its journal and server in the temp dir."""
    with open(path) as f:
        text = f.read()
    policies_dir = os.path.join(os.path.dirname(path), "..", "policies")
    pid_file = os.path.join(env["SERVICES_DIR"], "redis", "redis.pid")
    text = derive_config(text, TIMINGS + (
        (r"^    cmdline: redis-server$", f"    pid_file: {pid_file}", 1),
        (r"^  - file: \.\./policies/", f"  - file: {os.path.abspath(policies_dir)}/", 2),
        (r"^      limit: 1\.25GiB.*$", f"      limit: {limit}", 2),
        (r"^  path: \S*journal\.jsonl$", "  path: journal.jsonl", 1),
        (r"^  listen: 127\.0\.0\.1:\d+$", f"  listen: 127.0.0.1:{server_port}", 1),
    ))
    m = re.search(r"predictive_cleanup\.lua\n(?:    .*\n)*?    params:\n", text)
    if not m:
        raise AssertionError(f"{path}: no params block for predictive_cleanup")
    fast = "".join(f"      {k}: {v}\n" for k, v in FAST_PARAMS.items())
    text = text[:m.end()] + fast + text[m.end():]
    out = os.path.join(tmp, "trimtab.yaml")
    with open(out, "w") as f:
        f.write(text)
    return out


def wait_for(condition, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.5)
    if what:
        raise AssertionError(f"{what}: not ready within {seconds} s")
    return False


def check_ladder(checks, journal, env, redis, leak):
    outcomes = {k: ok_outcomes(journal, k) for k in LADDER}
    checks.check(bool(outcomes["redis_purge"]),
                 f"MEMORY PURGE ran (redis_purge: {len(outcomes['redis_purge'])} ok)")
    checks.check(bool(outcomes["pg_close_idle"]),
                 f"idle sessions were closed (pg_close_idle: {len(outcomes['pg_close_idle'])} ok)")
    idle_left, kept = sessions(env, "itest_idle"), sessions(env, "itest_keep")
    checks.check(idle_left == 0 and kept == 1,
                 f"the app user's idle sessions are gone ({idle_left} of {IDLE_SESSIONS} left), the "
                 f"superuser's is not ({kept} of 1)")
    flushed = outcomes["cache_flush"]
    checks.check(bool(flushed), f"the cache was flushed (cache_flush: {len(flushed)} ok)")
    if flushed:
        at, ttl_max = flushed[0]["ts"], flushed[0]["decided"]
        before = [key for t, key in leak.first_key_at if t < at - 1.0][-5:]
        ttls = [int(redis("TTL", key)) for key in before]
        # -2: already expired, which a flush over seconds allows; -1 would be no TTL.
        checks.check(before and all(t == -2 or 0 <= t <= ttl_max for t in ttls),
                     f"keys written before the flush expire within its {ttl_max:.0f} s (TTLs {ttls})")
    proposals = [r for r in journal if r.get("kind") == "decision" and r.get("policy") == "predictive_cleanup"
                 and r.get("knob") in LADDER]
    first = {}
    for r in proposals:
        first.setdefault(r["knob"], r["ts"])
    order = sorted(first, key=first.get)
    checks.check(order == [k for k in LADDER if k in first] and len(order) == len(LADDER),
                 f"predictive_cleanup climbs the ladder cheapest first ({', '.join(order)})")


def check_journal(checks, journal, config, metrics):
    with open(config) as f:
        text = f.read()
    bounds = {knob: knob_bounds(text, knob) for knob in KNOBS}
    decisions = [r for r in journal if r.get("kind") == "decision" and r.get("knob") in KNOBS]
    out = [(d["knob"], d["decided"]) for d in decisions
           if d.get("decided") is not None and not bounds[d["knob"]][0] <= d["decided"] <= bounds[d["knob"]][1]]
    checks.check(decisions and not out, f"every decided value within its knob's bounds ({len(decisions)} "
                 f"decisions, outside: {out[:3]})")
    check_outcomes(checks, journal, KNOBS)
    check_policies_never_failed(checks, metrics)


if __name__ == "__main__":
    sys.exit(main())
