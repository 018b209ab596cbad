#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`trimtab check --config` on every examples/*.yaml: each must be accepted
(exit 0), and there must be some. Variables the configs name as env:NAME get
a dummy value when unset (check compiles and validates; it connects to
nothing), so the test needs no servers.

  examples_check.py --trimtab PATH [--examples DIR]
"""
import argparse
import glob
import os
import re
import subprocess
import sys


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--trimtab", required=True)
    ap.add_argument("--examples", default=os.path.join(root, "examples"))
    args = ap.parse_args()

    configs = sorted(glob.glob(os.path.join(args.examples, "*.yaml")))
    if not configs:
        print(f"FAIL no *.yaml in {args.examples}")
        return 1
    env = dict(os.environ)
    failed = []
    for config in configs:
        with open(config) as f:
            for name in re.findall(r"\benv:([A-Za-z_][A-Za-z0-9_]*)", f.read()):
                env.setdefault(name, "dummy-for-check")
        out = subprocess.run([args.trimtab, "check", "--config", config], capture_output=True, text=True,
                             env=env, timeout=60)
        name = os.path.relpath(config, root)
        if out.returncode == 0:
            print(f"ok   {name}")
        else:
            failed.append(name)
            print(f"FAIL {name} (exit {out.returncode})\n{out.stdout}{out.stderr}".rstrip())
    print(f"{len(configs) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
