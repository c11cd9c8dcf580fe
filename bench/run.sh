#!/usr/bin/env bash
# Benchmark: pipelake against the DuckDB and Polars peers on the same generated data, in one run.
# Each contender runs BENCH_RUNS times (default 2) from an empty output on a warm page cache; the
# best wall time and the peak RSS are reported.
# Usage: bash bench/run.sh [DAYS=30] [PER_DAY=60000]
# Prints wall time and peak RSS of each, pipelake's ratios, checks that results agree, and
# measures a nightly increment (one landing day on top of DAYS-1 already ingested).
set -euo pipefail
cd "$(dirname "$0")/.."
DAYS=${1:-30}
PER_DAY=${2:-60000}
PEERS=${PEERS:-../shared/peers}
WORK=${BENCH_DIR:-$HOME/.cache/pipelake-bench}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pipelake-target}"
VENV=$WORK/venv
mkdir -p "$WORK"

cargo build --profile perf --quiet
PIPELAKE=$CARGO_TARGET_DIR/perf/pipelake

if [ ! -x "$VENV/bin/duckdb" ] || ! "$VENV/bin/python" -c "import polars" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb-cli polars
fi
DUCKDB=$VENV/bin/duckdb

DATA=$WORK/data-$DAYS-$PER_DAY
if [ ! -f "$DATA/.complete" ]; then
  rm -rf "$DATA"
  python3 "$PEERS/gen_pipelines.py" "$DATA" "$DAYS" "$PER_DAY"
  touch "$DATA/.complete"
fi
echo "data: $(du -sh "$DATA/pipelines" | cut -f1) of NDJSON, $DAYS days x $PER_DAY payloads"

OUT=$WORK/out
# Every contender starts with the raw data in the page cache (the Polars peer's 11 GB can evict it).
warm() { cat "$DATA"/pipelines/*/* > /dev/null; }
measure() { warm; sync; python3 bench/measure.py "$@"; }

rm -rf "$OUT" && mkdir -p "$OUT/duckdb" "$OUT/polars"
P=$(BENCH_RESET="rm -rf $OUT/pipelake; sync" measure pipelake -- "$PIPELAKE" --raw "$DATA" --warehouse "$OUT/pipelake" --log-format json run --date 2026-10-01)
D=$(BENCH_RESET="rm -rf $OUT/duckdb; mkdir -p $OUT/duckdb; sync" RAW=$DATA OUT=$OUT/duckdb measure duckdb -- "$DUCKDB" -c ".read $PEERS/duckdb_pipelines.sql")
Y=$(BENCH_RESET="rm -rf $OUT/polars; mkdir -p $OUT/polars; sync" measure polars -- "$VENV/bin/python" "$PEERS/polars_pipelines.py" "$DATA" "$OUT/polars")

# Same results: pipelines rows and every pipeline_daily percentile against the DuckDB peer, ours
# read through the catalog pipelake publishes (the committed files, not a glob of the folders).
CHECK=$("$DUCKDB" -csv -noheader -c "
  ATTACH '$OUT/pipelake/pipelake.duckdb' AS pl (READ_ONLY);
  WITH ours AS (SELECT * FROM pl.pipeline_daily),
       peer AS (SELECT * FROM read_parquet('$OUT/duckdb/pipeline_daily/*/*.parquet', hive_partitioning = true))
  SELECT
    (SELECT count(*) FROM pl.pipelines) AS ours_rows,
    (SELECT count(*) FROM read_parquet('$OUT/duckdb/pipelines/*/*.parquet')) AS peer_rows,
    (SELECT count(*) FROM ours) AS ours_groups,
    (SELECT count(*) FROM peer) AS peer_groups,
    (SELECT count(*) FROM ours JOIN peer USING (date, project, default_branch)
      WHERE ours.pipelines = peer.pipelines
        AND [ours.to_e2e_p50, ours.to_e2e_p80, ours.to_e2e_p95] = peer.to_e2e_p50_p80_p95
        AND [ours.e2e_p50, ours.e2e_p80, ours.e2e_p95] IS NOT DISTINCT FROM peer.e2e_p50_p80_p95
        AND [ours.duration_p50, ours.duration_p80, ours.duration_p95] = peer.duration_p50_p80_p95
        AND ours.restart_rate = peer.restart_rate) AS equal_groups")

# Nightly increment: the last day on top of the others, against that day alone into an empty warehouse.
LAST=$(ls "$DATA/pipelines" | sort | tail -1)
rm -rf "$OUT/inc" && mkdir -p "$OUT/inc/history/pipelines" "$OUT/inc/alone/pipelines"
for d in $(ls "$DATA/pipelines" | sort); do
  [ "$d" = "$LAST" ] || cp -rl "$DATA/pipelines/$d" "$OUT/inc/history/pipelines/$d"
done
"$PIPELAKE" --raw "$OUT/inc/history" --warehouse "$OUT/inc/wh-history" --log-format json run --date 2026-10-01 >/dev/null 2>&1
cp -rl "$DATA/pipelines/$LAST" "$OUT/inc/history/pipelines/$LAST"
cp -rl "$DATA/pipelines/$LAST" "$OUT/inc/alone/pipelines/$LAST"
INC=$(BENCH_RUNS=1 measure increment -- "$PIPELAKE" --raw "$OUT/inc/history" --warehouse "$OUT/inc/wh-history" --log-format json run --date 2026-10-01)
ALONE=$(BENCH_RUNS=1 measure one-day-alone -- "$PIPELAKE" --raw "$OUT/inc/alone" --warehouse "$OUT/inc/wh-alone" --log-format json run --date 2026-10-01)

python3 - "$P" "$D" "$Y" "$CHECK" "$INC" "$ALONE" <<'PY'
import json, sys
p, d, y = (json.loads(a) for a in sys.argv[1:4])
ours_rows, peer_rows, ours_groups, peer_groups, equal = (int(x) for x in sys.argv[4].split(","))
inc, alone = (json.loads(a) for a in sys.argv[5:7])
print(f"{'':10} {'wall s':>8} {'peak RSS MiB':>13}")
for r in (p, d, y):
    print(f"{r['label']:10} {r['seconds']:>8.2f} {r['peak_rss_mib']:>13.0f}")
print(f"pipelake / duckdb: time {p['seconds']/d['seconds']:.2f}x, memory {p['peak_rss_mib']/d['peak_rss_mib']:.2f}x")
print(f"pipelake / polars: time {p['seconds']/y['seconds']:.2f}x, memory {p['peak_rss_mib']/y['peak_rss_mib']:.2f}x")
print(f"results: pipelines {ours_rows} vs duckdb {peer_rows}; pipeline_daily groups {ours_groups} vs {peer_groups}, {equal} identical")
print(f"increment: last day on top of history {inc['seconds']:.2f}s / {inc['peak_rss_mib']:.0f} MiB; "
      f"that day alone {alone['seconds']:.2f}s / {alone['peak_rss_mib']:.0f} MiB; ratio {inc['seconds']/alone['seconds']:.2f}x")
ok = ours_rows == peer_rows and ours_groups == peer_groups == equal
sys.exit(0 if ok else "results differ from the DuckDB peer")
PY
