# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the Python integration tests (loopback only, bounded waits)."""
import json
import socket
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
