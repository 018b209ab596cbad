# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the Python integration tests (loopback only, bounded waits)."""
import json
import os
import re
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_http(url, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            return http_get(url, 0.5)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def read_journal(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Checks:
    """Counts named checks; the scripts end with the 'N passed, N failed' line CI reads."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {what}", flush=True)


def load_env_file(path):
    """KEY='value' lines as scripts/services writes them (DIR/env) -> dict."""
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            env[key] = value
    return env


def services_env(skipped=77):
    """The servers' env (TRIMTAB_SERVICES_ENV) as a dict, or an exit code: `skipped`
    when TRIMTAB_SKIP_INTEGRATION=1, else 1 after saying what is missing."""
    path = os.environ.get("TRIMTAB_SERVICES_ENV", "")
    if path and os.path.isfile(path):
        return load_env_file(path)
    if os.environ.get("TRIMTAB_SKIP_INTEGRATION") == "1":
        print("skipped: TRIMTAB_SKIP_INTEGRATION=1")
        return skipped
    print("FAIL TRIMTAB_SERVICES_ENV is not set: run scripts/test, or "
          "`scripts/services start DIR` and export TRIMTAB_SERVICES_ENV=DIR/env")
    return 1


class PgBouncerAdmin:
    """pgbouncer's admin console through psql, the password in psql's environment
    (never on its command line). `query` returns the rows of every statement."""

    def __init__(self, env, timeout=10.0):
        self.dsn = f"host=127.0.0.1 port={env['PGBOUNCER_PORT']} dbname=pgbouncer user=postgres"
        self.env = dict(os.environ, PGPASSWORD=env["PG_PASSWORD"], PGCONNECT_TIMEOUT="3")
        self.timeout = timeout

    MARK = "@@trimtab-itest-result@@"

    def query(self, *statements):
        """Rows of each statement, as lists of dicts keyed by column name."""
        argv = ["psql", "-X", "-A", "-F", "|", "--pset=footer=off"]
        for s in statements:
            argv += ["-c", f"\\echo {self.MARK}", "-c", s]
        out = subprocess.run(argv + [self.dsn], env=self.env, capture_output=True, text=True,
                             timeout=self.timeout)
        if out.returncode != 0:
            raise RuntimeError(f"psql {statements!r}: {out.stderr.strip()}")
        results = []
        for chunk in out.stdout.split(self.MARK + "\n")[1:]:
            lines = [line for line in chunk.splitlines() if line]
            header = lines[0].split("|") if lines else []
            results.append([dict(zip(header, line.split("|"))) for line in lines[1:]])
        if len(results) != len(statements):
            raise RuntimeError(f"psql {statements!r}: {len(results)} results")
        return results

    def default_pool_size(self):
        """default_pool_size from SHOW CONFIG."""
        for r in self.query("SHOW CONFIG")[0]:
            if r.get("key") == "default_pool_size":
                return int(r["value"])
        raise RuntimeError("SHOW CONFIG has no default_pool_size")

    def pool(self, database):
        """SHOW POOLS row of `database` (ints) plus default_pool_size from SHOW CONFIG."""
        pools, config = self.query("SHOW POOLS", "SHOW CONFIG")
        row = {"default_pool_size": None}
        for r in config:
            if r.get("key") == "default_pool_size":
                row["default_pool_size"] = int(r["value"])
        for r in pools:
            if r.get("database") == database:
                for k in ("cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_used", "sv_tested",
                          "sv_login"):
                    row[k] = row.get(k, 0) + int(r.get(k, 0) or 0)
        return row


def derive_config(text, replacements):
    """Rewrite a config file's text with (regex, replacement) pairs, each of which
    must match exactly once (re.MULTILINE): a test that runs an example config
    with other timings fails loudly when the example changes under it."""
    for pattern, repl in replacements:
        text, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
        if n != 1:
            raise AssertionError(f"config rewrite {pattern!r} matched {n} times, expected once")
    return text


def metric_value(metrics_text, name, labels=None):
    """Sum of the samples of `name` (with every label in `labels`) in a Prometheus
    text exposition; None when there is none."""
    total, found = 0.0, False
    for line in metrics_text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        series_name = head.split("{", 1)[0]
        if series_name != name:
            continue
        if labels and not all(f'{k}="{v}"' in head for k, v in labels.items()):
            continue
        total += float(value)
        found = True
    return total if found else None
