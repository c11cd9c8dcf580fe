//! The commit log is the only truth: readers see one committed version whatever happens to the
//! writer and whatever lies in the folders, old versions stay readable until vacuumed past the
//! retention, and the catalog `pipelake.duckdb` always names one committed version.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{contents, files, Lake};

const DAYS: [&str; 4] = ["--from", "2026-10-01", "--to", "2026-10-03"];

/// One query giving every table's row count, a fingerprint of a version.
fn counts_sql() -> String {
    pipelake::query::all_tables()
        .iter()
        .map(|t| format!("SELECT '{0}' AS t, count(*) AS n FROM {0}", t.name))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
        + " ORDER BY t"
}

fn counts_at(lake: &Lake, version: Option<u64>) -> String {
    let sql = counts_sql();
    let mut args = vec!["query", sql.as_str(), "--format", "csv"];
    let v = version.map(|v| v.to_string());
    if let Some(v) = &v {
        args.extend(["--as-of", v.as_str()]);
    }
    lake.ok(&args)
}

/// The same counts read through the catalog with DuckDB alone, or `None` when there is none yet.
fn counts_in_catalog(warehouse: &Path) -> Option<String> {
    let path = warehouse.join("pipelake.duckdb");
    if !path.exists() {
        return None;
    }
    let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly).unwrap();
    let conn = duckdb::Connection::open_with_flags(&path, config).unwrap();
    let rows = common::rows(&conn, &counts_sql());
    Some(std::iter::once("t,n".to_string()).chain(rows.iter().map(|r| r.join(","))).map(|l| l + "\n").collect())
}

fn newest_version(lake: &Lake) -> u64 {
    let status: serde_json::Value = serde_json::from_str(&lake.ok(&["status", "--format", "json"])).unwrap();
    status["version"].as_u64().unwrap()
}

#[test]
fn killed_at_every_fault_point_a_reader_sees_a_committed_version_and_a_rerun_ends_as_one_clean_run() {
    let config = "[sources.pipelines]\nretention_days = 3\n[sources.devops_events]\nretention_days = 3\n[sources.perf]\nretention_days = 3\n[sources.commits]\nretention_days = 3\n";
    let reference = Lake::new();
    std::fs::write(reference.dir.path().join("pipelake.toml"), config).unwrap();
    reference.generate(3, 150);
    let mut args = vec!["run"];
    args.extend(DAYS);
    // Two runs: the second recomputes nothing, but a late object makes it replace summary
    // files, which the vacuum of that run deletes (retention 0): every point is passed.
    let late = "pipelines/dt=2026-10-02/late.ndjson";
    let late_line = r#"{"pipeline_id":987654,"project":"p/late","ref":"main","created_at":"2026-10-02T10:00:00Z","duration":9,"duration_e2e":3,"build":1,"jobs":[],"jobs_failed":[]}"#;
    reference.ok(&args);
    reference.put(late, format!("{late_line}\n"));
    reference.ok(&args);
    let expected = contents(&reference.duckdb());
    let expected_raw = files(&reference.raw());
    // Every version the reference went through, by its counts.
    let newest = newest_version(&reference);
    let mut versions: BTreeSet<String> = (1..=newest).map(|v| counts_at(&reference, Some(v))).collect();
    versions.insert(counts_at(&Lake::new(), None));
    assert!(versions.len() > 5, "{versions:?}");

    let mut killed = BTreeSet::new();
    for point in pipelake::fault::POINTS {
        for nth in [1, 2, 4] {
            let lake = Lake::new();
            // Vacuum keeps nothing here, so that it deletes what the late object replaced.
            std::fs::write(lake.dir.path().join("pipelake.toml"), format!("vacuum_retention_days = 0\n{config}")).unwrap();
            lake.generate(3, 150);
            let mut out = lake.cmd(&args).env("PIPELAKE_FAULT", format!("{point}:{nth}")).output().unwrap();
            if out.status.success() {
                lake.put(late, format!("{late_line}\n"));
                out = lake.cmd(&args).env("PIPELAKE_FAULT", format!("{point}:{nth}")).output().unwrap();
                if out.status.success() {
                    continue;
                }
            } else {
                lake.put(late, format!("{late_line}\n"));
            }
            killed.insert(*point);
            // A reader at this very moment, before any job recovers anything: one committed
            // version, through pipelake and through the catalog alike.
            let seen = counts_at(&lake, None);
            assert!(versions.contains(&seen), "a reader after a kill at {point}:{nth} sees no committed version:\n{seen}");
            if let Some(catalog) = counts_in_catalog(&lake.warehouse()) {
                assert!(versions.contains(&catalog), "the catalog after a kill at {point}:{nth}:\n{catalog}");
            }
            lake.ok(&args);
            assert_eq!(contents(&lake.duckdb()), expected, "contents after a kill at {point}:{nth}");
            assert_eq!(files(&lake.raw()), expected_raw, "raw objects after a kill at {point}:{nth}");
            assert_eq!(counts_in_catalog(&lake.warehouse()), Some(counts_at(&lake, None)), "catalog after a kill at {point}:{nth}");
            let leftovers: Vec<String> =
                files(&lake.warehouse()).into_iter().filter(|f| f.contains("staging") || f.contains("txn")).collect();
            assert!(leftovers.is_empty(), "leftovers after a kill at {point}:{nth}: {leftovers:?}");
        }
    }
    assert_eq!(killed, pipelake::fault::POINTS.iter().copied().collect(), "every point is reached in these runs");
}

#[test]
fn a_stray_parquet_file_in_a_table_folder_changes_no_count_and_is_left_alone() {
    let lake = Lake::new();
    lake.generate(2, 100);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let before = counts_at(&lake, None);
    let catalog = counts_in_catalog(&lake.warehouse()).unwrap();
    assert_eq!(catalog, before);
    // Someone copies a file of the table next to it, and drops an odd file into a new day.
    let day = lake.warehouse().join("pipelines/date=2026-10-01");
    let original = std::fs::read_dir(&day).unwrap().next().unwrap().unwrap().path();
    std::fs::copy(&original, day.join("copy.parquet")).unwrap();
    std::fs::create_dir_all(lake.warehouse().join("pipelines/date=2030-01-01")).unwrap();
    std::fs::copy(&original, lake.warehouse().join("pipelines/date=2030-01-01/part-1.parquet")).unwrap();
    assert_eq!(counts_at(&lake, None), before);
    assert_eq!(counts_in_catalog(&lake.warehouse()).unwrap(), before);
    let status: serde_json::Value = serde_json::from_str(&lake.ok(&["status", "--format", "json"])).unwrap();
    let pipelines = status["tables"].as_array().unwrap().iter().find(|t| t["table"] == "pipelines").unwrap()["rows"].as_i64().unwrap();
    assert_eq!(pipelines, common::scalar(&lake.duckdb(), "SELECT count(*) FROM pipelines"));
    // A run, with a vacuum that keeps nothing, neither counts nor deletes what it did not write.
    std::fs::write(lake.dir.path().join("pipelake.toml"), "vacuum_retention_days = 0\n").unwrap();
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    assert_eq!(counts_at(&lake, None), before);
    assert!(day.join("copy.parquet").exists() && original.exists());
}

#[test]
fn an_older_version_stays_readable_until_vacuumed_past_the_retention() {
    let lake = Lake::new();
    lake.generate(2, 100);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let old_version = newest_version(&lake);
    let daily = "SELECT count(*), sum(pipelines) FROM pipeline_daily";
    let old = lake.ok(&["query", daily, "--format", "csv"]);
    // A late object recomputes a summary day: its file is replaced by a new one.
    let late = r#"{"pipeline_id":987654,"project":"p/late","ref":"main","created_at":"2026-10-02T10:00:00Z","duration":9,"duration_e2e":3,"build":1,"jobs":[],"jobs_failed":[]}"#;
    lake.put("pipelines/dt=2026-10-02/late.ndjson", format!("{late}\n"));
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let new = lake.ok(&["query", daily, "--format", "csv"]);
    assert_ne!(new, old);
    // The old version, by number and by time, still reads as it was: its files are kept.
    let v = old_version.to_string();
    assert_eq!(lake.ok(&["query", daily, "--format", "csv", "--as-of", &v]), old);
    let history: serde_json::Value = serde_json::from_str(&lake.ok(&["history", "--format", "json"])).unwrap();
    let at =
        history.as_array().unwrap().iter().find(|c| c["version"] == old_version).unwrap()["committed_at"].as_str().unwrap().to_string();
    assert_eq!(lake.ok(&["query", daily, "--format", "csv", "--as-of", &at]), old);
    // History says what each version changed: the late one added a pipeline and swapped a day.
    let text = lake.ok(&["history"]);
    assert!(text.contains("pipelines +1 rows/1 files"), "{text}");
    assert!(text.contains("pipeline_daily +") && text.contains("-"), "{text}");
    // status says what vacuum will free once the retention has passed; a vacuum with the
    // default retention keeps it all.
    let status: serde_json::Value = serde_json::from_str(&lake.ok(&["status", "--format", "json"])).unwrap();
    let kept = status["vacuum"]["kept_files"].as_u64().unwrap();
    assert!(kept >= 1, "{status}");
    assert_eq!(status["vacuum"]["removed_files"], 0);
    lake.ok(&["vacuum"]);
    assert_eq!(lake.ok(&["query", daily, "--format", "csv", "--as-of", &v]), old);
    // Past the retention, vacuum deletes them, once.
    std::fs::write(lake.dir.path().join("pipelake.toml"), "vacuum_retention_days = 0\n").unwrap();
    let dry: serde_json::Value = serde_json::from_str(&lake.ok(&["--log-format", "json", "vacuum", "--dry-run"])).unwrap();
    assert_eq!(dry["removed_files"].as_u64().unwrap(), kept, "{dry}");
    let done: serde_json::Value = serde_json::from_str(&lake.ok(&["--log-format", "json", "vacuum"])).unwrap();
    assert_eq!(done["removed_files"].as_u64().unwrap(), kept, "{done}");
    let out = lake.cmd(&["query", daily, "--as-of", &v]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("version {v} can no longer be read")) && stderr.contains("vacuumed"), "{stderr}");
    assert_eq!(lake.ok(&["query", daily, "--format", "csv"]), new, "the newest version loses nothing");
    let again: serde_json::Value = serde_json::from_str(&lake.ok(&["--log-format", "json", "vacuum"])).unwrap();
    assert_eq!(again["removed_files"], 0, "{again}");
}

#[test]
fn a_second_identical_run_writes_no_file_and_no_version() {
    let lake = Lake::new();
    lake.generate(2, 100);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let before: BTreeSet<String> = files(&lake.warehouse()).into_iter().filter(|f| !f.ends_with("writer.lock")).collect();
    let catalog = || std::fs::metadata(lake.warehouse().join("pipelake.duckdb")).unwrap().modified().unwrap();
    let published = catalog();
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let after: BTreeSet<String> = files(&lake.warehouse()).into_iter().filter(|f| !f.ends_with("writer.lock")).collect();
    assert_eq!(after, before);
    assert_eq!(catalog(), published, "the catalog of the same version is not written again");
    // Deleted (or left behind by a job killed before publishing it), the next job writes it.
    std::fs::remove_file(lake.warehouse().join("pipelake.duckdb")).unwrap();
    lake.ok(&["ingest"]);
    assert_eq!(counts_in_catalog(&lake.warehouse()), Some(counts_at(&lake, None)));
}

/// Copy a folder tree (fixtures are read-only in the checkout's spirit).
fn copy_tree(from: &Path, to: &Path) {
    for f in files(from) {
        let target = to.join(&f);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), target).unwrap();
    }
}

fn fixture(name: &str) -> Lake {
    let lake = Lake::new();
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layout-v1").join(name), lake.dir.path());
    lake
}

#[test]
fn a_warehouse_of_the_first_layout_reads_the_same_and_is_upgraded_in_place() {
    // Written by pipelake before the log was the only truth (staging, moves, manifest.json),
    // with the expected tables as that version's `pipelake query` printed them.
    let lake = fixture("clean");
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layout-v1/clean/expected");
    // The first writing job adds the column `skipped` (0) to the older `ingested_objects` files.
    let check = |what: &str, upgraded: bool| {
        for entry in std::fs::read_dir(&expected).unwrap() {
            let path = entry.unwrap().path();
            let table = path.file_stem().unwrap().to_str().unwrap().to_string();
            let sql = if table == "ingested_objects" && upgraded {
                format!("SELECT * EXCLUDE (ingested_at, skipped) FROM {table} ORDER BY ALL")
            } else if table == "ingested_objects" {
                format!("SELECT * EXCLUDE (ingested_at) FROM {table} ORDER BY ALL")
            } else {
                format!("SELECT * FROM {table} ORDER BY ALL")
            };
            assert_eq!(lake.ok(&["query", &sql, "--format", "csv"]), std::fs::read_to_string(&path).unwrap(), "{table} {what}");
        }
    };
    check("read before any upgrade", false);
    let version = newest_version(&lake);
    // A run of this version changes nothing in it, and the tables still read the same.
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    check("after a run of this version", true);
    let skipped = lake.ok(&["query", "SELECT count(*), sum(skipped) FROM ingested_objects", "--format", "csv"]);
    assert!(skipped.ends_with(",0\n") && !skipped.contains("\n0,"), "{skipped}");
    // One version rewrites the files with the added column; summaries this version added
    // (deployments, changes, the DORA keys from the toolkit's events) are computed for the days
    // asked for, one version each.
    let upgraded = newest_version(&lake);
    assert!(upgraded > version, "the files rewritten with the added column");
    let deployments = lake.ok(&["query", "SELECT count(*) FROM deployments WHERE source = 'devops_events'", "--format", "csv"]);
    assert_ne!(deployments, "count_star()\n0\n", "toolkit deploys are deployments");
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    assert_eq!(newest_version(&lake), upgraded, "nothing new, no new version");
    // New data lands and is summarised like in a warehouse this version started.
    let late = r#"{"pipeline_id":987654,"project":"p/late","ref":"main","created_at":"2026-10-02T10:00:00Z","duration":9,"duration_e2e":3,"build":1,"jobs":[],"jobs_failed":[]}"#;
    lake.put("pipelines/dt=2026-10-03/late.ndjson", format!("{late}\n"));
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let fresh = fixture("clean");
    std::fs::remove_dir_all(fresh.warehouse()).unwrap();
    fresh.put("pipelines/dt=2026-10-03/late.ndjson", format!("{late}\n"));
    fresh.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    assert_same_but_failed_jobs(&lake, &fresh);
    assert_eq!(counts_in_catalog(&lake.warehouse()), Some(counts_at(&lake, None)));
}

/// A warehouse written before `pipeline_failed_jobs` existed against one made afresh from the
/// same lake: the same, but for the failed jobs of the pipelines ingested then, which that
/// version did not keep by name (README, CI health).
fn assert_same_but_failed_jobs(old: &Lake, fresh: &Lake) {
    let split = |lake: &Lake| {
        let mut tables = contents(&lake.duckdb());
        let at = tables.iter().position(|(t, _)| t == "pipeline_failed_jobs").expect("the table is listed");
        let failed = tables.remove(at).1;
        (tables, failed)
    };
    let ((old_tables, old_failed), (fresh_tables, fresh_failed)) = (split(old), split(fresh));
    assert_eq!(old_tables, fresh_tables);
    assert!(!fresh_failed.is_empty(), "the fixture's pipelines have failed jobs");
    assert!(old_failed.iter().all(|row| fresh_failed.contains(row)), "{old_failed:?}");
}

#[test]
fn a_run_of_the_first_layout_killed_after_its_commit_is_finished_losing_nothing() {
    // Killed with a committed transaction half moved into place (`publishing`).
    let lake = fixture("killed");
    assert!(lake.warehouse().join("_pipelake/txn").exists());
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let fresh = fixture("killed");
    std::fs::remove_dir_all(fresh.warehouse()).unwrap();
    fresh.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    assert_same_but_failed_jobs(&lake, &fresh);
    let leftovers: Vec<String> = files(&lake.warehouse()).into_iter().filter(|f| f.contains("staging") || f.contains("txn/")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
