# pipelake tasks. `just --list` shows them. CI runs `bash .ci/run`.

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/pipelake-target")

# the whole test suite (what CI runs, after fmt and clippy)
test:
    python3 tests/fetch_webhook_examples.py >/dev/null
    cargo test

# fmt, clippy and tests, as CI does
ci:
    bash .ci/run

# the nightly job over a copy of the checked-in sample lake, in ./lake
demo:
    mkdir -p lake && cp -r sample-data/raw lake/
    cargo run -- run

# rewrite golden files (schemas/, tests/golden/) after an intended change
bless:
    PIPELAKE_BLESS=1 cargo test --test schemas --test golden

# benchmark against the DuckDB and Polars peers (release build; see README, Performance)
bench days="30" per_day="60000":
    bash bench/run.sh {{days}} {{per_day}}

# telemetry check-ins per second (release build)
# one process ingesting every source against one process per source at once (the DAG's fan-out)
bench-fanout days="10" per_day="20000":
    bash bench/fanout.sh {{days}} {{per_day}}

bench-telemetry days="10" per_day="200000":
    bash bench/telemetry.sh {{days}} {{per_day}}

# regenerate sample-data/ (deterministic; hand-written objects such as legacy-sender.ndjson stay)
sample-data:
    rm -rf sample-data/raw/commits
    rm -f sample-data/raw/*/dt=*/part-* sample-data/raw/*/dt=*/single-* sample-data/raw/*/dt=*/checkin* sample-data/raw/*/dt=*/events.ndjson sample-data/raw/*/dt=*/sender-dump.json sample-data/raw/*/dt=*/messages.ndjson sample-data/raw/*/dt=*/deliveries-* sample-data/raw/*/dt=*/firehose-*
    cargo run -- --raw sample-data/raw generate --days 3 --per-day 200 --start 2026-10-01

# peak memory over a normal lake and the same lake with compression bombs and endless lines (release build)
bench-hostile days="3" per_day="20000":
    bash bench/hostile.sh {{days}} {{per_day}}
