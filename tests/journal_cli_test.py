#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`trimtab journal show` and `trimtab journal tail`, on a real journal.

The journal comes from a short simulator run (`trimtab sim --journal`: the
production controller writes it). Checks the filters, `tail -n`, `--json`,
`--config`, the errors for a missing file and a disabled journal, and that
`tail --follow` prints appended records and keeps going across a rotation
(the file renamed to .1 and a new one started) and a truncation.

Usage: tests/journal_cli_test.py --trimtab build/trimtab --scenario sim/scenarios/diurnal_pool.yaml
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

FOLLOW_WAIT = 5.0  # seconds a followed record may take to appear (polls every 0.25 s)


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def run(trimtab, *args):
    return subprocess.run([trimtab, *args], capture_output=True, text=True, timeout=60)


class Follower:
    """`journal tail --follow` in the background; its lines gathered as they come."""

    def __init__(self, trimtab, path):
        self.proc = subprocess.Popen([trimtab, "journal", "tail", "--follow", "-n", "0", "--json", "--file", path],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, message):
        deadline = time.time() + FOLLOW_WAIT
        while time.time() < deadline:
            if any(message in line for line in self.lines):
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)


def event_line(message):
    return json.dumps({"ts": time.time(), "kind": "event", "event": "reload", "message": message}) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trimtab", required=True)
    ap.add_argument("--scenario", required=True)
    args = ap.parse_args()
    t = args.trimtab
    checks = Checks()

    with tempfile.TemporaryDirectory(prefix="trimtab-journal-") as tmp:
        sim = run(t, "sim", args.scenario, "--compare", "trimtab", "--duration", "6h", "--journal", "--out", tmp)
        if sim.returncode != 0:
            print(sim.stdout + sim.stderr)
            return 1
        journal = os.path.join(tmp, "journal-trimtab-seed1.jsonl")
        with open(journal) as f:
            raw = [json.loads(line) for line in f]
        checks.check(len(raw) > 4, f"the simulator wrote a journal ({len(raw)} records)")

        show = run(t, "journal", "show", "--file", journal)
        lines = show.stdout.splitlines()
        checks.check(show.returncode == 0 and len(lines) == len(raw), f"show prints one line per record ({len(lines)})")
        checks.check(lines[0].endswith("event start: service diurnal_pool"), f"the first line is the start ({lines[0]})")

        events = run(t, "journal", "show", "--kind", "event", "--file", journal).stdout.splitlines()
        want_events = sum(1 for r in raw if r["kind"] == "event")
        checks.check(len(events) == want_events and all(" event " in e for e in events),
                     f"--kind event keeps the {want_events} events only")
        knob = run(t, "journal", "show", "--knob", "db_pool_size", "--json", "--file", journal).stdout.splitlines()
        want_knob = sum(1 for r in raw if r.get("knob") == "db_pool_size")
        checks.check(len(knob) == want_knob and all(json.loads(k)["knob"] == "db_pool_size" for k in knob),
                     f"--knob with --json keeps that knob's {want_knob} records, as JSON")

        tail = run(t, "journal", "tail", "-n", "3", "--file", journal).stdout.splitlines()
        checks.check(tail == lines[-3:], "tail -n 3 prints the last three lines of show")

        config = os.path.join(tmp, "trimtab.yaml")
        with open(config, "w") as f:
            f.write(f"service: x\njournal: {{path: {os.path.basename(journal)}}}\n")
        by_config = run(t, "journal", "show", "--config", config).stdout.splitlines()
        checks.check(by_config == lines, "--config reads journal.path, relative to the config's directory")
        with open(config, "w") as f:
            f.write('service: x\njournal: {path: ""}\n')
        disabled = run(t, "journal", "show", "--config", config)
        checks.check(disabled.returncode == 1 and "journal disabled" in disabled.stderr,
                     f"a disabled journal is an error ({disabled.returncode}: {disabled.stderr.strip()})")
        missing = run(t, "journal", "show", "--file", os.path.join(tmp, "absent.jsonl"))
        checks.check(missing.returncode == 1 and "absent.jsonl" in missing.stderr,
                     f"a missing file is an error naming it ({missing.stderr.strip()})")

        followed = os.path.join(tmp, "followed.jsonl")
        shutil.copy(journal, followed)
        follower = Follower(t, followed)
        try:
            time.sleep(0.5)  # let it reach the end of the file
            with open(followed, "a") as f:
                f.write(event_line("appended"))
            checks.check(follower.wait_for('"message":"appended"'), "tail --follow prints an appended record")
            # A record written just before the rotation (within one poll), as a
            # decision and its outcome often are, must not be lost with the old file.
            with open(followed, "a") as f:
                f.write(event_line("just before rotation"))
            os.rename(followed, followed + ".1")  # rotation, as the journal does it
            with open(followed, "w") as f:
                f.write(event_line("after rotation"))
            checks.check(follower.wait_for('"message":"after rotation"'),
                         "tail --follow goes on in the new file after a rotation")
            checks.check(follower.wait_for('"message":"just before rotation"'),
                         "the record written just before the rotation is printed too")
            time.sleep(0.5)
            with open(followed, "w") as f:  # truncated and rewritten, shorter, in place
                f.write(event_line("cut"))
            checks.check(follower.wait_for('"message":"cut"'), "tail --follow starts over after a truncation")
            checks.check(len(follower.lines) == 4, f"each record is printed once ({len(follower.lines)} lines)")
        finally:
            follower.stop()

    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
