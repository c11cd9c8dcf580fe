#!/usr/bin/env python3
"""Run a command, print one JSON line: wall seconds and peak RSS (MiB) of the command's process tree.

Usage: measure.py LABEL -- CMD ARGS...   (environment passes through)
"""
import json, os, resource, subprocess, sys, time

label = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
start = time.monotonic()
proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if proc.returncode != 0:
    sys.stderr.write(proc.stderr.decode(errors="replace"))
    sys.exit(f"{label}: exit {proc.returncode}")
print(json.dumps({"label": label, "seconds": round(wall, 3), "peak_rss_mib": round(peak_kib / 1024, 1)}))
