#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Records the real traces of the prediction evaluation from real programs
on this machine and writes them next to the synthetic ones (bench/traces/).

  * a JVM (Debian's openjdk 17) running LeakyService.java, with and without a
    slow leak: heap used from the JVM's own MemoryMXBean (printed to stdout)
    and RSS from /proc/<pid>/status;
  * a redis-server (127.0.0.1, a free port, no persistence, a temp dir)
    whose keyspace grows: INFO used_memory through redis-cli;
  * fragmenter.c: RSS of a process that fragments its heap.

Sampling every 0.2 s; about 3.5 minutes in all. Times are scaled by
TIME_SCALE (one recorded second is a minute of trace time) so the traces read
like an hour of a service; the header says so. Usage:

    bench/traces/record/record_real.py [output-dir]

Needs java/javac, redis-server/redis-cli and cc. The limits: for a trace
with a leak, just above the highest sample of its first 80% (so the crossing
comes late in the trace); without a leak, 5% above its highest sample.
"""
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = 0.2          # seconds between samples
TIME_SCALE = 60.0     # trace seconds per recorded second
WINDOW = 5 * 60.0     # predict_linear range, trace seconds
HORIZON = 15 * 60.0   # alarm horizon, trace seconds
JAVA_SECONDS = 60
REDIS_SECONDS = 45
FRAG_SECONDS = 45


def machine():
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def write(out_dir, name, kind, description, unit, samples, leak):
    """samples: (recorded seconds, value) in time order."""
    pts, last = [], None
    for t, v in samples:
        ts = round(t * TIME_SCALE, 3)
        if last is not None and ts <= last:
            continue
        pts.append((ts, v))
        last = ts
    end = pts[-1][0]
    if leak:
        limit = max(v for t, v in pts if t <= 0.8 * end) * 1.001
    else:
        limit = max(v for _, v in pts) * 1.05
    crosses = next((t for t, v in pts if v >= limit), None)
    path = os.path.join(out_dir, name + ".csv")
    with open(path, "w") as f:
        f.write("# trimtab prediction trace (recorded by record/record_real.py; do not edit)\n")
        f.write(f"# name: {name}\n# kind: {kind}\n# source: recorded\n")
        f.write(f"# description: {description}; sampled every {SAMPLE} s, times x{TIME_SCALE:g}; "
                f"recorded {time.strftime('%Y-%m-%d')} on {machine()}\n")
        f.write(f"# unit: {unit}\n# limit: {limit:.0f}\n")
        f.write(f"# crosses_at: {'never' if crosses is None else f'{crosses:g}'}\n")
        f.write(f"# window: {WINDOW:g}\n# horizon: {HORIZON:g}\n")
        f.write("t,v\n")
        for t, v in pts:
            f.write(f"{t:g},{v:.0f}\n")
    print(f"{path}: {len(pts)} samples, limit {limit:.0f}, crosses at {crosses}")


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def sample_rss(proc, seconds):
    out, start = [], time.monotonic()
    while proc.poll() is None and time.monotonic() - start < seconds:
        rss = rss_bytes(proc.pid)
        if rss is not None:
            out.append((time.monotonic() - start, rss))
        time.sleep(SAMPLE)
    return out


def record_java(out_dir, work):
    subprocess.run(["javac", "-d", work, os.path.join(HERE, "LeakyService.java")], check=True)
    for leak, suffix in ((1_000_000, "leak"), (0, "no_leak")):
        cmd = ["java", "-XX:+UseSerialGC", "-Xms64m", "-Xmx512m", "-Xmn32m", "-cp", work, "LeakyService",
               str(JAVA_SECONDS), str(leak), str(int(SAMPLE * 1000))]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        heap = []

        def read():
            for line in proc.stdout:
                ms, used = line.split()
                heap.append((int(ms) / 1000.0, int(used)))

        reader = threading.Thread(target=read)
        reader.start()
        rss = sample_rss(proc, JAVA_SECONDS + 5)
        proc.wait()
        reader.join()
        what = "leaking 1 MB/s into a never-evicted list" if leak else "no leak"
        desc = f"JVM (openjdk 17, SerialGC, 32 MiB young gen) churning short-lived buffers, {what}"
        write(out_dir, f"java_heap_{suffix}", "sawtooth", desc + ": heap used (MemoryMXBean)", "bytes", heap,
              leak > 0)
        write(out_dir, f"java_rss_{suffix}", "leak" if leak else "plateau", desc + ": RSS (/proc)", "bytes",
              rss, leak > 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resp(*args):
    out = f"*{len(args)}\r\n"
    for a in args:
        a = str(a)
        out += f"${len(a.encode())}\r\n{a}\r\n"
    return out.encode()


def record_redis(out_dir, work):
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", work, "--daemonize", "no"],
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        stop = threading.Event()

        def load():
            # A cache filling up: keys of 200-2000 bytes, a tenth of them short-lived.
            rng, i = random.Random(7), 0
            while not stop.is_set():
                batch = b""
                for _ in range(50):
                    value = "x" * rng.randint(200, 2000)
                    if rng.random() < 0.1:
                        batch += resp("SET", f"session:{i}", value, "EX", 3)
                    else:
                        batch += resp("SET", f"key:{i}", value)
                    i += 1
                sock.sendall(batch)
                got = 0
                while got < 50:
                    got += sock.recv(65536).count(b"\r\n")
                time.sleep(0.025)

        loader = threading.Thread(target=load)
        loader.start()
        samples, start = [], time.monotonic()
        while time.monotonic() - start < REDIS_SECONDS:
            info = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "INFO", "memory"],
                                  capture_output=True, text=True).stdout
            for line in info.splitlines():
                if line.startswith("used_memory:"):
                    samples.append((time.monotonic() - start, int(line.split(":")[1])))
            time.sleep(SAMPLE)
        stop.set()
        loader.join()
        sock.close()
        write(out_dir, "redis_keyspace_growth", "leak",
              "redis-server 7 (no persistence) whose keyspace grows by ~2000 keys/s: INFO used_memory", "bytes",
              samples, True)
    finally:
        server.terminate()
        server.wait(timeout=10)


def record_fragmenter(out_dir, work):
    exe = os.path.join(work, "fragmenter")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "fragmenter.c")], check=True)
    proc = subprocess.Popen([exe, str(FRAG_SECONDS)])
    rss = sample_rss(proc, FRAG_SECONDS + 5)
    proc.wait()
    write(out_dir, "fragmentation_rss", "leak",
          "a C program that fragments its malloc heap (bounded live set, growing RSS): RSS (/proc)", "bytes",
          rss, True)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(HERE)
    work = tempfile.mkdtemp(prefix="trimtab-traces-")
    try:
        record_java(out, work)
        record_redis(out, work)
        record_fragmenter(out, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
