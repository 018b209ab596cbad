# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the Python integration tests (loopback only, bounded waits)."""
import argparse
import json
import os
import re
import signal
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
    must match exactly once (re.MULTILINE), or (regex, replacement, times)
    triples, matching exactly `times` times: a test that runs an example config
    with other timings fails loudly when the example changes under it."""
    for pattern, repl, *times in replacements:
        expected = times[0] if times else 1
        text, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
        if n != expected:
            raise AssertionError(f"config rewrite {pattern!r} matched {n} times, expected {expected}")
    return text


REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def example_test_args(example, keep_help, add_arguments=None):
    """Arguments of a test that runs an example config live: --trimtab (required),
    --config (default examples/EXAMPLE), --keep DIR, and what `add_arguments(ap)`
    adds; the two paths made absolute."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--trimtab", required=True)
    ap.add_argument("--config", default=os.path.join(REPO_ROOT, "examples", example))
    ap.add_argument("--keep", help=keep_help)
    if add_arguments:
        add_arguments(ap)
    args = ap.parse_args()
    args.trimtab = os.path.abspath(args.trimtab)
    args.config = os.path.abspath(args.config)
    return args


def check_config_accepted(checks, trimtab, config, env):
    """`trimtab check` on the derived config; False (after a failed check) when refused."""
    check = subprocess.run([trimtab, "check", "--config", config], capture_output=True, text=True, env=env,
                           timeout=30)
    checks.check(check.returncode == 0, f"trimtab check accepts the config ({check.stderr.strip()[-300:]})")
    return check.returncode == 0


class StoppedRun:
    """What a live run left: /metrics just before SIGTERM, stderr, the journal."""

    def __init__(self, metrics, stderr, journal, journal_text):
        self.metrics, self.stderr, self.journal, self.journal_text = metrics, stderr, journal, journal_text


def stop_run(checks, trimtab, server_port, err_path, journal_path):
    """Reads /metrics, stops trimtab with SIGTERM (checking it exits 0), and reads what it wrote."""
    _, metrics = http_get(f"http://127.0.0.1:{server_port}/metrics")
    trimtab.send_signal(signal.SIGTERM)
    trimtab.wait(timeout=30)
    checks.check(trimtab.returncode == 0, f"trimtab exits 0 on SIGTERM (rc {trimtab.returncode})")
    with open(err_path) as f:
        stderr = f.read()
    with open(journal_path) as f:
        journal_text = f.read()
    return StoppedRun(metrics, stderr, read_journal(journal_path), journal_text)


def read_journal_partial(path):
    """The journal's records so far, or [] while it is missing or a line is half written."""
    try:
        return read_journal(path)
    except (OSError, ValueError):
        return []


def service_secrets(env):
    """The servers' passwords: none may appear in what trimtab writes."""
    return [env[k] for k in ("PG_PASSWORD", "PG_APP_PASSWORD", "REDIS_PASSWORD") if env.get(k)]


def check_no_secrets(checks, secrets, journal_text, stderr, metrics):
    leaked = [s for s in secrets if s in journal_text or s in stderr or s in metrics]
    checks.check(not leaked, "no password in the journal, the logs or /metrics")


def check_policies_never_failed(checks, metrics):
    errors = metric_value(metrics, "trimtab_policy_errors_total") or 0.0
    quarantined = metric_value(metrics, "trimtab_policy_quarantined") or 0.0
    checks.check(errors == 0 and quarantined == 0,
                 f"the policies never failed (errors {errors:.0f}, quarantined {quarantined:.0f})")


def ok_outcomes(journal, knob):
    """The outcomes of `knob` that succeeded, in journal order."""
    return [r for r in journal if r.get("kind") == "outcome" and r.get("knob") == knob and r.get("ok")]


def print_run(run):
    """After a failed check: the tail of trimtab's stderr and every decision and outcome but the unchanged."""
    print("--- trimtab stderr (tail) ---\n" + run.stderr[-3000:])
    print("--- decisions ---")
    for r in run.journal:
        if r.get("kind") in ("decision", "outcome") and r.get("verdict") != "unchanged":
            print(f"{r['ts']:.1f} {r['kind']} {r.get('policy')} {r.get('knob')} {r.get('verdict')} {r.get('decided')} "
                  f"ok={r.get('ok')} {str(r.get('reason', r.get('detail', '')))[:110]}")


def pg_login(env, user):
    """(dsn, process env) for psql or pgbench straight on PostgreSQL as `user`
    ("postgres" or "app_user"): the password goes in PGPASSWORD, never on a
    command line where `ps` shows it."""
    password = env["PG_PASSWORD"] if user == "postgres" else env["PG_APP_PASSWORD"]
    return (f"host=127.0.0.1 port={env['PG_PORT']} dbname=app user={user}",
            dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="3"))


def check_outcomes(checks, journal, knobs):
    """Every applied decision on `knobs` has its outcome, and none failed. Returns the applied ones."""
    applied = [r for r in journal if r.get("kind") == "decision" and r.get("knob") in knobs
               and r.get("verdict") == "apply"]
    outcomes = [r for r in journal if r.get("kind") == "outcome" and r.get("knob") in knobs]
    failed = [o for o in outcomes if not o.get("ok")]

    def key(r):
        return (r["ts"], r["knob"], r["decided"])
    done = {key(o) for o in outcomes}
    missing = [key(d) for d in applied if key(d) not in done]
    checks.check(applied and not missing and not failed,
                 f"every applied decision has an outcome, none failed ({len(applied)} applied, {len(missing)} "
                 f"without, {len(failed)} failed{': ' + failed[0].get('detail', '')[:120] if failed else ''})")
    return applied


def knob_bounds(config_text, knob):
    """(min, max) of a knob in a config's text (integers, as the examples write them)."""
    block = re.search(rf"^  - name: {knob}\b.*\n((?:    .*\n)+)", config_text, re.MULTILINE)[1]
    return tuple(int(re.search(rf"^    {b}: (\d+)", block, re.MULTILINE)[1]) for b in ("min", "max"))


def keep_files(dest, src_dir, names):
    """Copies a run's files (those that exist) to `dest`, for a look after the test."""
    os.makedirs(dest, exist_ok=True)
    for name in names:
        src = os.path.join(src_dir, name)
        if os.path.exists(src):
            with open(src) as f, open(os.path.join(dest, name), "w") as g:
                g.write(f.read())


class RedisCli:
    """redis-cli on the services' Redis, database `db` (the password through
    REDISCLI_AUTH, off the command line). Raises RuntimeError on an error reply."""

    def __init__(self, env, db=0, timeout=10.0):
        self.base = ["redis-cli", "-h", "127.0.0.1", "-p", env["REDIS_PORT"], "-n", str(db)]
        self.env = dict(os.environ, REDISCLI_AUTH=env["REDIS_PASSWORD"])
        self.timeout = timeout

    def __call__(self, *args):
        r = subprocess.run(self.base + [str(a) for a in args], capture_output=True, text=True, env=self.env,
                           timeout=self.timeout)
        if r.returncode != 0 or r.stdout.startswith(("ERR", "OOM", "WRONGTYPE", "NOAUTH")):
            raise RuntimeError(f"redis-cli {args[0]}: {r.stdout.strip()} {r.stderr.strip()}")
        return r.stdout.strip()

    def config_get(self, name):
        return self("CONFIG", "GET", name).splitlines()[1]


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
