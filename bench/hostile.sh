#!/usr/bin/env bash
# Benchmark: peak memory of `pipelake run` over a normal lake, then over the same lake with
# compression bombs, a .pbd of zeros, an endless line and a deeply nested payload added, at the
# default limits and at a tight max_object_megabytes. Memory should follow the limits, not the bombs.
# Raw objects are kept (no retention), so that every run reads the same lake.
# Usage: bash bench/hostile.sh [DAYS=3] [PER_DAY=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${1:-3}
PER_DAY=${2:-20000}
WORK=${BENCH_DIR:-$HOME/.cache/pipelake-bench}/hostile-$DAYS-$PER_DAY
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pipelake-target}"
cargo build --profile perf --quiet
PIPELAKE=$CARGO_TARGET_DIR/perf/pipelake
mkdir -p "$WORK"
if [ ! -f "$WORK/.complete" ]; then
  rm -rf "$WORK/normal" "$WORK/bombs"
  "$PIPELAKE" --raw "$WORK/normal" generate --days "$DAYS" --per-day "$PER_DAY" --start 2026-10-01 >/dev/null
  cp -r "$WORK/normal" "$WORK/bombs"
  python3 - "$WORK/bombs" <<'PY'
import gzip, os, sys
raw = sys.argv[1]
day = "dt=2026-10-01"
def put(key, data):
    path = os.path.join(raw, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
# 4 GiB of newlines in about 4 MB of gzip, written in pieces.
path = os.path.join(raw, "pipelines", day, "bomb.ndjson.gz")
with gzip.open(path, "wb", compresslevel=9) as f:
    block = b"\n" * (64 << 20)
    for _ in range(64):
        f.write(block)
put(f"telemetry/{day}/zeros.pbd", b"\0" * (256 << 20))
put(f"pipelines/{day}/endless.ndjson", b"x" * (512 << 20))
put(f"pipelines/{day}/nested.ndjson", b'{"pipeline_id":1,"x":' + b"[" * (1 << 20) + b"}\n")
PY
  touch "$WORK/.complete"
fi
printf 'max_object_megabytes = 64\n[sources.telemetry]\nretention_days = "forever"\n' > "$WORK/tight.toml"
printf '[sources.telemetry]\nretention_days = "forever"\n' > "$WORK/default.toml"
run() { BENCH_RESET="rm -rf '$WORK/wh'; sync" python3 bench/measure.py "$1" -- "$PIPELAKE" --config "$2" --raw "$3" --warehouse "$WORK/wh" --log-format json run --date 2026-10-01; }
N=$(run normal "$WORK/default.toml" "$WORK/normal")
B=$(run bombs-default-limits "$WORK/default.toml" "$WORK/bombs")
T=$(run bombs-64-MiB-objects "$WORK/tight.toml" "$WORK/bombs")
python3 - "$N" "$B" "$T" <<'PY'
import json, sys
for line in sys.argv[1:]:
    r = json.loads(line)
    print(f"{r['label']:<24} {r['seconds']:>7.2f} s  peak RSS {r['peak_rss_mib']:>7.0f} MiB")
PY
# The bombs cost themselves only: the fact tables hold the same rows as over the normal lake.
COUNTS="SELECT (SELECT count(*) FROM pipelines), (SELECT count(*) FROM telemetry_checkins), (SELECT count(*) FROM devops_events), (SELECT count(*) FROM perf_samples), (SELECT count(*) FROM commits)"
for lake in normal bombs; do
  rm -rf "$WORK/wh-$lake"
  "$PIPELAKE" --config "$WORK/default.toml" --raw "$WORK/$lake" --warehouse "$WORK/wh-$lake" run --date 2026-10-01 >/dev/null 2>&1
done
A=$("$PIPELAKE" --raw "$WORK/normal" --warehouse "$WORK/wh-normal" query "$COUNTS" --format csv | tail -1)
B=$("$PIPELAKE" --raw "$WORK/bombs" --warehouse "$WORK/wh-bombs" query "$COUNTS" --format csv | tail -1)
if [ "$A" = "$B" ]; then echo "fact rows (pipelines, telemetry, devops, perf, commits): $A in both lakes"; else echo "fact rows differ: normal $A, bombs $B" >&2; exit 1; fi
