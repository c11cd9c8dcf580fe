#!/usr/bin/env bash
# Benchmark of the fan-out: every source of a generated lake ingested by one process, against one
# process per source at the same time (what the Airflow DAG's mapped ingest tasks do), on the
# same data in the same run. Prints wall time and peak RSS of each way (for the fan-out: the
# peak of the sum of the processes' RSS, sampled every 50 ms), the commits that had to go after
# another process's, and checks that both warehouses hold the same rows.
# Usage: bash bench/fanout.sh [DAYS=10] [PER_DAY=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${1:-10}
PER_DAY=${2:-20000}
WORK=${BENCH_DIR:-$HOME/.cache/pipelake-bench}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pipelake-target}"
cargo build --quiet --profile perf
PIPELAKE=$CARGO_TARGET_DIR/perf/pipelake
DATA=$WORK/fanout-$DAYS-$PER_DAY
OUT=$WORK/fanout-out
if [ ! -d "$DATA" ]; then
  "$PIPELAKE" --raw "$DATA" generate --days "$DAYS" --per-day "$PER_DAY" --start 2026-10-01 >/dev/null
fi
SOURCES=$("$PIPELAKE" plan | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["sources"]))')
rm -rf "$OUT" && mkdir -p "$OUT"
sync

python3 - "$PIPELAKE" "$DATA" "$OUT" $SOURCES <<'EOF'
import json, os, subprocess, sys, time

pipelake, data, out, sources = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]

def rss_mib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total / 1024

def run(label, commands):
    start = time.monotonic()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PIPELAKE_LOG": "info"}) for c in commands]
    peak = 0.0
    while any(p.poll() is None for p in procs):
        peak = max(peak, rss_mib([p.pid for p in procs if p.poll() is None]))
        time.sleep(0.05)
    wall = time.monotonic() - start
    retries = 0
    for p in procs:
        err = p.stderr.read().decode(errors="replace")
        if p.returncode != 0:
            sys.exit(f"{label}: exit {p.returncode}\n{err}")
        retries += sum("this commit goes after it" in l for l in err.splitlines())
    result = {"label": label, "processes": len(procs), "seconds": round(wall, 2), "peak_rss_mib": round(peak), "commit_retries": retries}
    print(json.dumps(result))
    return result

base = [pipelake, "--raw", data, "--log-format", "json"]
one = run("one process", [base + ["--warehouse", f"{out}/one", "ingest"]])
fan = run("one per source", [base + ["--warehouse", f"{out}/fan", "ingest", "--source", s] for s in sources])

# Same rows either way (every table, ingest times aside).
def rows(warehouse):
    sql = "SELECT (SELECT count(*) FROM pipelines), (SELECT count(*) FROM telemetry_checkins), (SELECT count(*) FROM devops_events), (SELECT count(*) FROM perf_samples), (SELECT count(*) FROM commits), (SELECT count(*) FROM ci_events), (SELECT sum(accepted) FROM ingested_objects), (SELECT count(*) FROM rejects)"
    return subprocess.run([pipelake, "--warehouse", warehouse, "query", "--format", "csv", sql], check=True, stdout=subprocess.PIPE).stdout
assert rows(f"{out}/one") == rows(f"{out}/fan"), "the two warehouses differ"
print(json.dumps({"fan_out_time_ratio": round(fan["seconds"] / one["seconds"], 2), "fan_out_memory_ratio": round(fan["peak_rss_mib"] / one["peak_rss_mib"], 2), "same_rows": True}))
EOF
