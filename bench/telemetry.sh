#!/usr/bin/env bash
# Benchmark: telemetry check-ins per second through `pipelake run`, with peak RSS, and whether
# memory grows with history (one more landing day on top of DAYS, against that day alone).
# Usage: bash bench/telemetry.sh [DAYS=10] [PER_DAY=200000]
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${1:-10}
PER_DAY=${2:-200000}
WORK=${BENCH_DIR:-$HOME/.cache/pipelake-bench}/telemetry-$DAYS-$PER_DAY
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pipelake-target}"
cargo build --profile perf --quiet
PIPELAKE=$CARGO_TARGET_DIR/perf/pipelake
mkdir -p "$WORK"
if [ ! -f "$WORK/.complete" ]; then
  rm -rf "$WORK/all"
  "$PIPELAKE" --raw "$WORK/all" generate --source telemetry --days $((DAYS + 1)) --per-day "$PER_DAY" --start 2026-10-01 >/dev/null
  touch "$WORK/.complete"
fi
# Keep raw objects: no retention in the benchmark.
printf '[sources.telemetry]\nretention_days = "forever"\n' > "$WORK/pipelake.toml"
LAST=$(ls "$WORK/all/telemetry" | sort | tail -1)
rm -rf "$WORK/history" "$WORK/alone" "$WORK/wh-"*
mkdir -p "$WORK/history/telemetry" "$WORK/alone/telemetry"
for d in $(ls "$WORK/all/telemetry" | sort); do
  [ "$d" = "$LAST" ] || cp -rl "$WORK/all/telemetry/$d" "$WORK/history/telemetry/$d"
done
sync
# Each measured run starts from the warehouse it should: the full run from none (best of
# BENCH_RUNS), the increment from the history just built (one run).
run() { python3 bench/measure.py "$1" -- "$PIPELAKE" --config "$WORK/pipelake.toml" --raw "$2" --warehouse "$3" --log-format json run --date 2026-10-01; }
FULL=$(BENCH_RESET="rm -rf '$WORK/wh-history'; sync" run history "$WORK/history" "$WORK/wh-history")
RECORDS=$("$PIPELAKE" --config "$WORK/pipelake.toml" --raw "$WORK/history" --warehouse "$WORK/wh-history" query "SELECT sum(records) FROM ingested_objects" --format csv | tail -1)
cp -rl "$WORK/all/telemetry/$LAST" "$WORK/history/telemetry/$LAST"
cp -rl "$WORK/all/telemetry/$LAST" "$WORK/alone/telemetry/$LAST"
INC=$(BENCH_RUNS=1 run increment "$WORK/history" "$WORK/wh-history")
ALONE=$(BENCH_RESET="rm -rf '$WORK/wh-alone'; sync" run one-day-alone "$WORK/alone" "$WORK/wh-alone")
python3 - "$FULL" "$RECORDS" "$INC" "$ALONE" <<'PY'
import json, sys
full, records, inc, alone = json.loads(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(f"telemetry: {records} check-ins in {full['seconds']:.2f}s = {records / full['seconds'] / 1e6:.2f} M check-ins/s, peak RSS {full['peak_rss_mib']:.0f} MiB")
print(f"increment: one day on top of history {inc['seconds']:.2f}s / {inc['peak_rss_mib']:.0f} MiB; that day alone {alone['seconds']:.2f}s / {alone['peak_rss_mib']:.0f} MiB")
PY
