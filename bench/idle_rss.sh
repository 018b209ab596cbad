#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Peak resident memory (VmHWM) of `trimtab run` with the demo config against
# the demo target, after SECONDS seconds of running. Loopback only; bounded.
#
#   bench/idle_rss.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-20}
port=18080
python3 examples/demo/demo_target.py --listen 127.0.0.1:$port --max-seconds $((seconds + 20)) >/dev/null 2>&1 &
target=$!
trap 'kill $target 2>/dev/null || true' EXIT
sleep 1
mkdir -p out/demo
"$build/trimtab" run --config examples/demo.yaml --duration "$((seconds + 5))s" --log-level error >/dev/null &
trimtab=$!
sleep "$seconds"
grep -E 'VmHWM|VmRSS|Threads' "/proc/$trimtab/status"
wait $trimtab
