#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""trimtab's forced stop: SIGTERM while an exec actuator's command still runs.

trimtab waits 15 s for in-flight work, then exits with code 1 without it.
A command left running would change its knob after trimtab is gone, with no
journal to say so, so the forced stop also ends every running command's
process group (SIGTERM, SIGKILL after 1 s). Checked here with a command that
ignores SIGTERM and has a child of its own:

1. trimtab exits within the grace plus a few seconds, with code 1, and says
   what it abandoned and what it stopped;
2. the command and its child are gone;
3. the journal's last event is a stop that names the abandoned work.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from itest_support import Checks, free_port, wait_http

POLICY = """
return {
  name = "push",
  interval = "0.2s",
  tick = function(ctx)
    ctx.propose("workers", 7, "test: start the slow command")
  end,
}
"""

# The command records its pid and its child's; both ignore SIGTERM, and it
# would run for 120 s (its timeout is 300 s).
COMMAND = ("trap '' TERM; (trap '' TERM; exec sleep 120) & echo $! > {tmp}/child.pid; "
           "echo $$ > {tmp}/command.pid; wait; wait")

CONFIG = """
service: forced-stop
tick: 200ms
sources:
  - {{name: self, kind: procfs, pid: {pid}, interval: 1s}}
knobs:
  - name: workers
    type: int
    min: 1
    max: 10
    baseline: 2
    actuator:
      kind: exec
      argv: ["/bin/sh", "-c", "{command}"]
      timeout: 300s
      kill_grace: 30s
policies:
  - file: push.lua
journal:
  path: journal.jsonl
server:
  listen: 127.0.0.1:{server_port}
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def read_pid(path, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with open(path) as f:
                text = f.read().strip()
            if text:
                return int(text)
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trimtab", required=True)
    args = ap.parse_args()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="trimtab-forced-stop-") as tmp:
        server_port = free_port()
        with open(os.path.join(tmp, "push.lua"), "w") as f:
            f.write(POLICY)
        config = os.path.join(tmp, "trimtab.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(pid=os.getpid(), server_port=server_port, command=COMMAND.format(tmp=tmp)))
        check = subprocess.run([args.trimtab, "check", "--config", config], capture_output=True, text=True)
        checks.check(check.returncode == 0, f"trimtab check accepts the config ({check.stderr.strip()})")

        trimtab = subprocess.Popen([args.trimtab, "run", "--config", config, "--duration", "100s"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp)
        command_pid = child_pid = 0
        try:
            wait_http(f"http://127.0.0.1:{server_port}/healthz")
            command_pid = read_pid(os.path.join(tmp, "command.pid"))
            child_pid = read_pid(os.path.join(tmp, "child.pid"))
            checks.check(command_pid > 0 and child_pid > 0, "the exec command started, with a child")
            trimtab.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            try:
                _, err = trimtab.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                trimtab.kill()
                _, err = trimtab.communicate()
                checks.check(False, "trimtab exits by itself after SIGTERM")
            took = time.monotonic() - sent
            checks.check(trimtab.returncode == 1, f"exit code 1 for a stop that abandoned work ({trimtab.returncode})")
            # 15 s grace, then up to 1 s for the commands; generous above for a loaded CI machine.
            checks.check(14 <= took <= 30, f"it waited the 15 s grace, then about 1 s more ({took:.1f} s)")
            checks.check("still running after 15 s" in err, "it says what it abandoned")
            checks.check("stopped 1 exec command(s) still running" in err, "it says it stopped the command")
            time.sleep(0.5)
            checks.check(command_pid > 0 and not alive(command_pid), "the command (which ignored SIGTERM) is gone")
            checks.check(child_pid > 0 and not alive(child_pid), "the command's child is gone")

            with open(os.path.join(tmp, "journal.jsonl")) as f:
                records = [json.loads(line) for line in f if line.strip()]
            stops = [r for r in records if r.get("kind") == "event" and r.get("event") == "stop"]
            checks.check(len(stops) == 1 and "abandoned" in stops[0].get("message", ""),
                         "the journal's stop event names the abandoned work")
        finally:
            if trimtab.poll() is None:
                trimtab.kill()
                trimtab.wait()
            for pid in (command_pid, child_pid):  # never leave them behind, even when a check failed
                if pid > 0 and alive(pid):
                    os.kill(pid, signal.SIGKILL)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
