#!/usr/bin/env python3
"""Run a command BENCH_RUNS times (default 2), print one JSON line: the best wall seconds and the
peak RSS (MiB) of the command's processes. Each run starts from what `BENCH_RESET` (a shell
command, optional) leaves, e.g. an empty output directory.

Usage: measure.py LABEL -- CMD ARGS...   (environment passes through)
"""
import json, os, resource, subprocess, sys, time

label = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
runs = int(os.environ.get("BENCH_RUNS", "2"))
reset = os.environ.get("BENCH_RESET")
best = None
for _ in range(runs):
    if reset:
        subprocess.run(["bash", "-c", reset], check=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace"))
        sys.exit(f"{label}: exit {proc.returncode}")
    best = wall if best is None else min(best, wall)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"label": label, "seconds": round(best, 3), "peak_rss_mib": round(peak_kib / 1024, 1), "runs": runs}))
