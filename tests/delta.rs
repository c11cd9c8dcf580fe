//! Every table is a Delta Lake table that an independent reader, delta-rs (the `deltalake`
//! Python package from PyPI, installed by `.ci/run`), reads exactly as `pipelake query` does: at
//! the newest version and at older ones, on local disk and on S3, after a job killed between
//! its commit and its Delta entries.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use common::s3::S3Server;
use common::{assert_success, Lake};

/// The Python of the virtual environment `.ci/run` sets up with `deltalake`.
fn python() -> PathBuf {
    let path = std::env::var_os("PIPELAKE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/pipelake-venv/bin/python"));
    assert!(path.exists(), "{} is missing: `bash .ci/run` installs deltalake there once", path.display());
    path
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/delta_read.py")
}

/// The rows delta-rs reads from the Delta table at `uri` (as of pipelake version `at`), as
/// sorted canonical JSON lines.
fn delta_rows(uri: &str, at: Option<u64>, env: &[(&'static str, String)]) -> Vec<String> {
    let mut cmd = Command::new(python());
    cmd.arg(script()).arg(uri).envs(env.iter().cloned());
    if let Some(v) = at {
        cmd.arg(v.to_string());
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "delta_read.py {uri}: {}", String::from_utf8_lossy(&out.stderr));
    canonical_lines(String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()))
}

/// The rows `pipelake query` gives for a table, in the same form.
fn query_rows(mut cmd: Command) -> Vec<String> {
    let out = cmd.output().unwrap();
    assert_success(&out, &["query"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    canonical_lines(rows)
}

/// Every table read through Delta agrees with `pipelake query` (at `at`); returns the rows
/// compared. A table that never had a file has no Delta log and no rows.
fn assert_delta_agrees(target: &Target, at: Option<u64>) -> usize {
    let Target { query, uri: table_uri, has_log, env } = target;
    let mut compared = 0;
    for table in pipelake::query::all_tables() {
        let sql = format!("SELECT * FROM {}", table.name);
        let version = at.map(|v| v.to_string());
        let mut args = vec!["query", "--format", "json"];
        if let Some(v) = &version {
            args.extend(["--as-of", v]);
        }
        args.push(&sql);
        let expected = query_rows(query(&args));
        if !has_log(table.dir) {
            assert!(expected.is_empty(), "{} has rows but no Delta log", table.name);
            continue;
        }
        let seen = delta_rows(&table_uri(table.dir), at, env);
        assert_eq!(seen.len(), expected.len(), "{} rows through Delta at {at:?}", table.name);
        for (s, e) in seen.iter().zip(&expected) {
            assert_eq!(s, e, "{} at {at:?}: Delta against pipelake query", table.name);
        }
        compared += seen.len();
    }
    compared
}

/// A row with each double as text of 12 significant digits: `pipelake query` prints DuckDB's
/// shortest text of a double, which drops the last bits of some (368.40000000000003 as 368.4).
fn canonical(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value::*;
    match v {
        Number(n) if n.is_f64() => String(format!("{:.11e}", n.as_f64().unwrap())),
        Array(items) => Array(items.into_iter().map(canonical).collect()),
        Object(map) => Object(map.into_iter().map(|(k, v)| (k, canonical(v))).collect()),
        other => other,
    }
}

fn canonical_lines(lines: impl IntoIterator<Item = serde_json::Value>) -> Vec<String> {
    let mut out: Vec<String> = lines.into_iter().map(|v| canonical(v).to_string()).collect();
    out.sort();
    out
}

/// The pipelake versions whose commits changed each table, from `pipelake history`.
fn versions_changing(lake: &Lake) -> BTreeMap<String, BTreeSet<u64>> {
    let history: serde_json::Value = serde_json::from_str(&lake.ok(&["history", "--limit", "100000", "--format", "json"])).unwrap();
    let mut out: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for commit in history.as_array().unwrap() {
        for change in commit["tables"].as_array().unwrap() {
            out.entry(change["table"].as_str().unwrap().to_string()).or_default().insert(commit["version"].as_u64().unwrap());
        }
    }
    out
}

/// Each Delta version of each table and the pipelake version its `txn` names, read from the
/// commit files.
fn delta_versions(lake: &Lake) -> BTreeMap<String, Vec<u64>> {
    let mut out = BTreeMap::new();
    for table in pipelake::query::all_tables() {
        let dir = lake.warehouse().join(table.dir).join("_delta_log");
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut commits: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
        commits.sort();
        for (i, path) in commits.iter().enumerate() {
            assert_eq!(
                path.file_stem().unwrap().to_str().unwrap(),
                format!("{i:020}"),
                "Delta versions of {} follow each other",
                table.name
            );
        }
        let shown: Vec<u64> = commits
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                text.lines()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .find_map(|a| a["txn"]["version"].as_u64())
                    .unwrap_or_else(|| panic!("{} has no txn", p.display()))
            })
            .collect();
        out.insert(table.name.to_string(), shown);
    }
    out
}

/// Runs `pipelake` with these arguments on one warehouse.
type Pipelake<'a> = dyn Fn(&[&str]) -> Command + 'a;

/// A warehouse to compare: how to run `pipelake` on it, the URI of a table folder, whether a
/// table folder has a Delta log, and what a Delta reader needs in its environment.
struct Target<'a> {
    query: Box<Pipelake<'a>>,
    uri: Box<dyn Fn(&str) -> String + 'a>,
    has_log: Box<dyn Fn(&str) -> bool + 'a>,
    env: Vec<(&'static str, String)>,
}

fn local(lake: &Lake) -> Target<'_> {
    let warehouse = lake.warehouse();
    let w2 = warehouse.clone();
    Target {
        query: Box::new(move |args: &[&str]| lake.cmd(args)),
        uri: Box::new(move |dir: &str| warehouse.join(dir).to_string_lossy().to_string()),
        has_log: Box::new(move |dir: &str| w2.join(dir).join("_delta_log").exists()),
        env: Vec::new(),
    }
}

#[test]
fn every_table_reads_the_same_through_delta_at_the_newest_and_at_an_older_version() {
    let whole = Lake::new();
    whole.generate(4, 60);
    // Landed day by day: many versions, so that tables pass Delta checkpoints.
    let lake = common::landed_day_by_day(&whole, false);
    let target = local(&lake);
    let newest = assert_delta_agrees(&target, None);
    assert!(newest > 1000, "{newest} rows compared");
    // An older version: the first day's run.
    let first_run = versions_changing(&lake).values().flat_map(|v| v.iter().copied()).min().unwrap() + 3;
    let older = assert_delta_agrees(&target, Some(first_run));
    assert!(older > 0 && older < newest, "{older} rows at version {first_run}, {newest} at the newest");

    // One Delta version per pipelake version that changed the table, in order.
    let changed = versions_changing(&lake);
    let delta = delta_versions(&lake);
    for (table, shown) in &delta {
        let expected: Vec<u64> = changed.get(table).map(|v| v.iter().copied().collect()).unwrap_or_default();
        assert_eq!(shown, &expected, "Delta versions of {table}");
    }
    // Checkpoints where the protocol puts them, read by delta-rs (above) and pointed at.
    let checkpointed: Vec<&String> = delta.iter().filter(|(_, v)| v.len() > 10).map(|(t, _)| t).collect();
    assert!(!checkpointed.is_empty(), "some table has more than ten Delta versions: {delta:?}");
    for table in checkpointed {
        let dir =
            lake.warehouse().join(pipelake::query::all_tables().iter().find(|t| t.name == table.as_str()).unwrap().dir).join("_delta_log");
        assert!(dir.join(format!("{:020}.checkpoint.parquet", 10)).exists(), "{table}");
        let last: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("_last_checkpoint")).unwrap()).unwrap();
        assert_eq!(last["version"].as_u64().unwrap() % 10, 0, "{table}: {last}");
    }
    // Vacuum keeping no old version: each table's Delta log starts at its newest checkpoint, and
    // delta-rs still reads the newest version as `pipelake query` does.
    std::fs::write(lake.dir.path().join("pipelake.toml"), "vacuum_retention_days = 0\n").unwrap();
    let vacuum: serde_json::Value = serde_json::from_str(&lake.ok(&["--log-format", "json", "vacuum"])).unwrap();
    assert!(vacuum["delta_log_files"].as_u64().unwrap() >= 10, "{vacuum}");
    for table in delta.iter().filter(|(_, v)| v.len() > 10).map(|(t, _)| t) {
        let dir =
            lake.warehouse().join(pipelake::query::all_tables().iter().find(|t| t.name == table.as_str()).unwrap().dir).join("_delta_log");
        assert!(!dir.join(format!("{:020}.json", 0)).exists(), "{table}: version 0 is behind a checkpoint");
        let last: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("_last_checkpoint")).unwrap()).unwrap();
        let newest_checkpoint = last["version"].as_u64().unwrap();
        assert!(dir.join(format!("{newest_checkpoint:020}.json")).exists(), "{table}: the newest checkpoint's version stays");
        assert!(!dir.join(format!("{:020}.json", newest_checkpoint - 1)).exists(), "{table}: the versions before it go");
    }
    assert_eq!(assert_delta_agrees(&target, None), newest);
    // The statistics of every file hold for its rows (checked by pyarrow reading each file).
    for table in ["pipelines", "ci_runs", "ingested_objects", "rejects", "telemetry_checkins", "dora_keys_daily", "changes"] {
        let def = pipelake::query::all_tables().into_iter().find(|t| t.name == table).unwrap();
        let out = Command::new(python()).arg(script()).arg("--check-stats").arg((target.uri)(def.dir)).output().unwrap();
        assert!(out.status.success(), "stats of {table}: {}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(!said.contains(" 0 bounds"), "{table}: {said}");
    }
}

#[test]
fn a_job_killed_between_its_commit_and_its_delta_entries_leaves_them_to_the_next_job() {
    for fault in ["committed:5", "delta:7"] {
        let lake = Lake::new();
        lake.generate(2, 40);
        let out = lake.cmd(&["run"]).env("PIPELAKE_FAULT", fault).output().unwrap();
        assert!(!out.status.success(), "the fault at {fault} is reached");
        // A Delta reader now sees an older, committed version; the next job writes what is missing.
        lake.ok(&["run"]);
        assert_delta_agrees(&local(&lake), None);
        let changed = versions_changing(&lake);
        for (table, shown) in delta_versions(&lake) {
            let expected: Vec<u64> = changed.get(&table).map(|v| v.iter().copied().collect()).unwrap_or_default();
            assert_eq!(shown, expected, "Delta versions of {table} after a kill at {fault}");
        }
    }
}

#[test]
fn a_warehouse_written_before_delta_logs_gets_them_from_its_next_job() {
    let lake = Lake::new();
    lake.generate(2, 40);
    lake.ok(&["run"]);
    // As a version without Delta logs left it.
    for table in pipelake::query::all_tables() {
        let _ = std::fs::remove_dir_all(lake.warehouse().join(table.dir).join("_delta_log"));
    }
    lake.ok(&["ingest"]);
    assert!(assert_delta_agrees(&local(&lake), None) > 100);
}

#[test]
fn on_s3_delta_rs_reads_what_pipelake_query_reads() {
    let server = S3Server::start("lake");
    let work = tempfile::tempdir().unwrap();
    for args in [&["generate", "--days", "2", "--per-day", "40", "--start", "2026-10-01"][..], &["run"]] {
        let out = server.cmd(work.path(), args).output().unwrap();
        assert_success(&out, args);
    }
    let target = Target {
        query: Box::new(|args: &[&str]| server.cmd(work.path(), args)),
        uri: Box::new(|dir: &str| format!("s3://lake/warehouse/{dir}")),
        has_log: Box::new(|dir: &str| server.root.path().join("lake/warehouse").join(dir).join("_delta_log").exists()),
        env: server.env(),
    };
    let compared = assert_delta_agrees(&target, None);
    assert!(compared > 100, "{compared}");
}
