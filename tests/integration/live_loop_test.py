#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end test of the live loop: the real `trimtab` binary against a local
HTTP target (examples/demo/demo_target.py) on 127.0.0.1.

1. A policy's decision reaches the target (PUT /knobs/...) and the journal.
2. A policy file edited mid-run is hot-reloaded; a broken edit is refused
   and the old version keeps running.
3. Killing the target mid-run leaves trimtab running (healthz answers) and no
   decision is applied on stale data.
4. SIGTERM stops it cleanly: exit code 0, journal flushed, and a knob with
   restore_on_exit is put back to its baseline.
5. A restore that fails at exit (the target is gone) is logged and makes the
   exit code 1.
6. A misspelt metric is warned about once, and `--summary` lists it.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from itest_support import Checks, free_port, http_get, read_journal, wait_http

SCRAPE_INTERVAL = 0.5
STALE_AFTER = 3

POLICY = """
-- proposes a pool size that alternates, so every tick wants a change
return {
  name = "alternate",
  interval = "0.5s",
  tick = function(ctx)
    local size = ctx.value("db_pool_size") or 0
    local waiting = ctx.value("db_pool_clients_waiting") or 0
    ctx.state.n = (ctx.state.n or 0) + 1
    local want = (ctx.state.n % 2 == 0) and 10 or 12
    ctx.propose("db_pool_size", want, string.format("test: size %g waiting %g", size, waiting))
    ctx.value("db_pool_clients_waitng")  -- misspelt on purpose, after the proposal (no veto)
  end,
}
"""

CONFIG = """
service: integration-target
tick: 250ms
store:
  stale_after_scrapes: {stale}
sources:
  - name: app
    kind: prometheus
    url: http://127.0.0.1:{target_port}/metrics
    interval: {interval}s
    timeout: 400ms
knobs:
  - name: db_pool_size
    type: int
    min: 1
    max: 64
    baseline: 3
    restore_on_exit: true
    actuator:
      kind: http
      url: http://127.0.0.1:{target_port}/knobs/db_pool_size
      method: PUT
      timeout: 500ms
      retries: 0
policies:
  - file: alternate.lua
journal:
  path: journal.jsonl
server:
  listen: 127.0.0.1:{server_port}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trimtab", required=True)
    ap.add_argument("--target", required=True, help="path of demo_target.py")
    args = ap.parse_args()
    checks = Checks()

    with tempfile.TemporaryDirectory(prefix="trimtab-it-") as tmp:
        target_port, server_port = free_port(), free_port()
        with open(os.path.join(tmp, "alternate.lua"), "w") as f:
            f.write(POLICY)
        config = os.path.join(tmp, "trimtab.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(stale=STALE_AFTER, target_port=target_port, server_port=server_port,
                                  interval=SCRAPE_INTERVAL))
        target = subprocess.Popen([sys.executable, args.target, "--listen", f"127.0.0.1:{target_port}",
                                   "--load", "flat", "--max-seconds", "60"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        trimtab = None
        try:
            wait_http(f"http://127.0.0.1:{target_port}/healthz")
            check = subprocess.run([args.trimtab, "check", "--config", config], capture_output=True, text=True)
            checks.check(check.returncode == 0, f"trimtab check accepts the config ({check.stderr.strip()})")

            trimtab = subprocess.Popen([args.trimtab, "run", "--config", config, "--duration", "60s", "--summary"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp)
            wait_http(f"http://127.0.0.1:{server_port}/healthz")
            time.sleep(2.0)
            policy_file = os.path.join(tmp, "alternate.lua")
            with open(policy_file, "w") as f:
                f.write("return { name = 'alternate', tick = function(ctx) ctx.propose( end }\n")
            time.sleep(1.5)
            with open(policy_file, "w") as f:
                f.write(POLICY.replace("and 10 or 12", "and 14 or 16"))
            time.sleep(2.5)
            # A config edit is not applied by SIGHUP (policies only): said so.
            with open(config, "a") as f:
                f.write("# edited while running\n")
            trimtab.send_signal(signal.SIGHUP)
            time.sleep(0.5)

            _, knobs = http_get(f"http://127.0.0.1:{target_port}/knobs")
            changes = json.loads(knobs)["changes"]
            checks.check(any(c["knob"] == "db_pool_size" and c["to"] in (10.0, 12.0) for c in changes),
                         f"the policy's decision reached the target ({len(changes)} changes)")
            checks.check(any(c["to"] in (14.0, 16.0) for c in changes),
                         "the edited policy was hot-reloaded and its decisions reached the target")

            status, body = http_get(f"http://127.0.0.1:{server_port}/metrics")
            checks.check(status == 200 and "trimtab_decisions_total" in body, "/metrics serves decision counters")

            target.kill()
            target.wait(timeout=5)
            killed_at = time.time()
            time.sleep(4.0)
            status, _ = http_get(f"http://127.0.0.1:{server_port}/healthz")
            checks.check(status == 200 and trimtab.poll() is None, "trimtab keeps running after the target died")

            # Bring the target back so the baseline can be restored on exit.
            revived_at = time.time()
            target = subprocess.Popen([sys.executable, args.target, "--listen", f"127.0.0.1:{target_port}",
                                       "--load", "flat", "--max-seconds", "60"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_http(f"http://127.0.0.1:{target_port}/healthz")
            time.sleep(2.0)
            trimtab.send_signal(signal.SIGTERM)
            out, err = trimtab.communicate(timeout=30)
            checks.check(trimtab.returncode == 0, f"trimtab exits 0 on SIGTERM (rc {trimtab.returncode})")
            checks.check(err.count("policy alternate: db_pool_clients_waitng found no data at 10 ticks") == 1,
                         "a misspelt metric is warned about once")
            checks.check("policy alternate: db_pool_clients_waitng found no data at " in out,
                         f"the run summary lists the misspelt metric ({out[-300:]!r})")
            _, knobs = http_get(f"http://127.0.0.1:{target_port}/knobs")
            final = json.loads(knobs)["knobs"]["db_pool_size"]
            checks.check(final == 3.0, f"restore_on_exit put the baseline 3 back (target has {final})")

            journal = read_journal(os.path.join(tmp, "journal.jsonl"))
            applied_ok = [r for r in journal if r.get("kind") == "outcome" and r.get("ok")]
            checks.check(len(applied_ok) >= 1, f"the journal has successful outcomes ({len(applied_ok)})")
            # A decision may still be applied until the series go stale:
            # STALE_AFTER failed scrapes after the kill, plus one scrape and one
            # tick of slack for timing.
            grace = (STALE_AFTER + 1) * SCRAPE_INTERVAL + 0.5
            late = [r for r in journal if r.get("kind") == "decision" and r.get("verdict") == "apply"
                    and killed_at + grace < r["ts"] < revived_at]
            checks.check(not late, f"no decision applied on stale data after the kill ({len(late)} late)")
            vetoed = [r for r in journal if r.get("kind") == "decision" and r.get("verdict") == "vetoed"
                      and killed_at < r["ts"] < revived_at and "stale" in r.get("rule", "") + r.get("reason", "")]
            checks.check(len(vetoed) >= 1, f"decisions after the kill are vetoed as stale ({len(vetoed)})")
            events = [r.get("event") for r in journal if r.get("kind") == "event"]
            checks.check("source_down" in events, f"the journal records the source going down ({events})")
            checks.check("reload_failed" in events and "reload" in events,
                         "the journal records the refused and the accepted reload")
            checks.check(events[-1:] == ["stop"], f"the journal ends with a stop event ({events[-3:]})")
            checks.check("changed since trimtab started: SIGHUP reloads the policies only" in err,
                         "a SIGHUP after a config edit says the config is not reloaded")
            if checks.failed:
                print("--- trimtab stderr ---\n" + err[-4000:])

            # 5. A restore that cannot happen (the target is gone at exit) is
            # an error on stderr and exit code 1, not a silent 0.
            os.remove(os.path.join(tmp, "journal.jsonl"))  # start from the baseline again
            trimtab = subprocess.Popen([args.trimtab, "run", "--config", config, "--duration", "60s", "--summary"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp)
            wait_http(f"http://127.0.0.1:{server_port}/healthz")
            time.sleep(2.0)
            target.kill()
            target.wait(timeout=5)
            trimtab.send_signal(signal.SIGTERM)
            out, err = trimtab.communicate(timeout=30)
            checks.check(trimtab.returncode == 1, f"a failed restore makes the exit code 1 (rc {trimtab.returncode})")
            checks.check("knob db_pool_size: not restored to its baseline 3" in err,
                         "the failed restore is logged with the knob and its baseline")
            checks.check("1 of 1 knobs with restore_on_exit were not restored" in err,
                         "the exit says how many knobs were not restored")
            if checks.failed:
                print("--- trimtab stderr (restore) ---\n" + err[-4000:])
        finally:
            if trimtab and trimtab.poll() is None:
                trimtab.kill()
            if target.poll() is None:
                target.kill()

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
