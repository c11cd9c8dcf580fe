//! The pipelines job end to end: the real binary over a temp lake, DuckDB as the oracle.

mod common;

use common::{files, rows, scalar, Lake};

const DAYS: [&str; 4] = ["--from", "2026-10-01", "--to", "2026-10-03"];

fn payload(id: i64, project: &str, created_at: &str, duration: i64, e2e: i64) -> String {
    format!(
        r#"{{"pipeline_id":{id},"project":"{project}","ref":"master","created_at":"{created_at}","duration":{duration},"duration_e2e":{e2e},"build":10,"jobs":[{{"name":"e2e","started_at":"{created_at}","finished_at":"{created_at}","duration":{e2e}}}],"jobs_failed":[]}}"#
    )
}

#[test]
fn pipeline_daily_matches_duckdb_quantile_cont() {
    let lake = Lake::new();
    lake.generate(3, 400);
    let mut args = vec!["run"];
    args.extend(DAYS);
    lake.ok(&args);
    let db = lake.duckdb();
    let oracle = rows(
        &db,
        "SELECT date, project, default_branch, count(*),
                quantile_cont(duration - duration_e2e, 0.5), quantile_cont(duration - duration_e2e, 0.8), quantile_cont(duration - duration_e2e, 0.95),
                quantile_cont(duration_e2e, 0.5) FILTER (WHERE NOT has_restarts), quantile_cont(duration_e2e, 0.8) FILTER (WHERE NOT has_restarts),
                quantile_cont(duration_e2e, 0.95) FILTER (WHERE NOT has_restarts),
                quantile_cont(duration, 0.5), quantile_cont(duration, 0.8), quantile_cont(duration, 0.95),
                avg(has_restarts::INT)
         FROM pipelines GROUP BY ALL ORDER BY date, project, default_branch",
    );
    let ours = rows(
        &db,
        "SELECT date, project, default_branch, pipelines, to_e2e_p50, to_e2e_p80, to_e2e_p95, e2e_p50, e2e_p80, e2e_p95,
                duration_p50, duration_p80, duration_p95, restart_rate
         FROM pipeline_daily ORDER BY date, project, default_branch",
    );
    assert!(oracle.len() > 100, "expected many groups, got {}", oracle.len());
    assert_eq!(ours.len(), oracle.len());
    for (a, b) in ours.iter().zip(&oracle) {
        assert_eq!(a, b, "pipeline_daily row differs from quantile_cont over pipelines");
    }
}

#[test]
fn every_record_is_accounted_for() {
    let lake = Lake::new();
    lake.generate(3, 300);
    lake.ok(&["ingest"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
    assert_eq!(
        scalar(&db, "SELECT sum(accepted) FROM ingested_objects WHERE source = 'pipelines'"),
        scalar(&db, "SELECT count(*) FROM pipelines")
    );
    assert_eq!(scalar(&db, "SELECT sum(rejected) FROM ingested_objects"), scalar(&db, "SELECT count(*) FROM rejects"));
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipelines"), scalar(&db, "SELECT count(DISTINCT pipeline_id) FROM pipelines"));
    assert!(scalar(&db, "SELECT sum(duplicates) FROM ingested_objects WHERE source = 'pipelines'") > 0, "the generator redelivers");
    assert!(scalar(&db, "SELECT count(*) FROM rejects WHERE source = 'pipelines'") > 0, "the generator writes corrupt lines");
    // Every raw object is in ingested_objects, once.
    let raw_objects = files(&lake.raw()).len() as i64;
    assert_eq!(scalar(&db, "SELECT count(DISTINCT raw_key) FROM ingested_objects"), raw_objects);
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects"), raw_objects);
    // Jobs and builds belong to kept pipelines only, on their pipeline's day.
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipeline_jobs j ANTI JOIN pipelines p USING (pipeline_id, date)"), 0);
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipeline_builds b ANTI JOIN pipelines p USING (pipeline_id, date)"), 0);
}

#[test]
fn redelivery_days_later_is_a_duplicate_and_first_delivery_wins() {
    let lake = Lake::new();
    lake.put(
        "pipelines/dt=2026-10-01/a.ndjson",
        [payload(1, "first/one", "2026-10-01T10:00:00.000+07:00", 100, 30), payload(2, "first/two", "2026-10-01T11:00:00.000Z", 90, 20)]
            .join("\n"),
    );
    lake.ok(&["run", "--date", "2026-10-01"]);
    lake.put(
        "pipelines/dt=2026-10-04/b.ndjson",
        [payload(2, "second/two", "2026-10-01T11:00:00.000Z", 999, 1), payload(3, "second/three", "2026-10-04T01:00:00.000Z", 50, 10)]
            .join("\n"),
    );
    lake.ok(&["run", "--date", "2026-10-04"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT pipeline_id, project, date FROM pipelines ORDER BY pipeline_id"),
        vec![
            vec!["1".to_string(), "first/one".into(), "2026-10-01".into()],
            vec!["2".into(), "first/two".into(), "2026-10-01".into()],
            vec!["3".into(), "second/three".into(), "2026-10-04".into()],
        ]
    );
    assert_eq!(
        rows(&db, "SELECT raw_key, records, accepted, duplicates, rejected FROM ingested_objects WHERE landed = DATE '2026-10-04'"),
        vec![vec!["pipelines/dt=2026-10-04/b.ndjson".to_string(), "2".into(), "1".into(), "1".into(), "0".into()]]
    );
    // Created 10:00 at +07:00 is 03:00 UTC the same day; the duplicate did not disturb day 1's summary.
    assert_eq!(
        rows(&db, "SELECT project, pipelines, duration_p50 FROM pipeline_daily WHERE date = DATE '2026-10-01' ORDER BY project"),
        vec![vec!["first/one".to_string(), "1".into(), "100".into()], vec!["first/two".into(), "1".into(), "90".into()]]
    );
}

#[test]
fn a_second_identical_run_changes_nothing() {
    let lake = Lake::new();
    lake.generate(2, 200);
    let mut args = vec!["run"];
    args.extend(DAYS);
    lake.ok(&args);
    let before: Vec<(String, Vec<u8>)> =
        files(&lake.warehouse()).into_iter().map(|f| (f.clone(), std::fs::read(lake.warehouse().join(&f)).unwrap())).collect();
    lake.ok(&args);
    let after: Vec<(String, Vec<u8>)> =
        files(&lake.warehouse()).into_iter().map(|f| (f.clone(), std::fs::read(lake.warehouse().join(&f)).unwrap())).collect();
    assert_eq!(before.iter().map(|f| &f.0).collect::<Vec<_>>(), after.iter().map(|f| &f.0).collect::<Vec<_>>());
    assert!(before == after, "some file's bytes changed on the second run");
}

#[test]
fn late_data_re_summarises_its_old_day() {
    let lake = Lake::new();
    lake.put("pipelines/dt=2026-10-01/a.ndjson", payload(1, "p/q", "2026-10-01T10:00:00Z", 100, 30));
    lake.ok(&["run", "--date", "2026-10-01"]);
    // Lands on the 5th, happened on the 1st.
    lake.put("pipelines/dt=2026-10-05/late.ndjson", payload(7, "p/q", "2026-10-01T12:00:00Z", 200, 30));
    lake.ok(&["run", "--date", "2026-10-05"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT date, pipelines, duration_p50 FROM pipeline_daily ORDER BY date"),
        vec![vec!["2026-10-01".to_string(), "2".into(), "150".into()]]
    );
}

#[test]
fn backfill_recomputes_the_range_asked_for() {
    let lake = Lake::new();
    lake.generate(3, 100);
    lake.ok(&["ingest"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipeline_daily"), 0);
    lake.ok(&["summarize", "--table", "pipeline_daily", "--from", "2026-10-02", "--to", "2026-10-02"]);
    let db = lake.duckdb();
    assert_eq!(rows(&db, "SELECT DISTINCT date FROM pipeline_daily"), vec![vec!["2026-10-02".to_string()]]);
    // Without days, summarize does the days new data made stale.
    lake.ok(&["summarize"]);
    let db = lake.duckdb();
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM pipeline_daily"),
        scalar(&db, "SELECT count(*) FROM (SELECT DISTINCT date, project, default_branch FROM pipelines)")
    );
}

#[test]
fn corrupt_inputs_land_in_rejects_and_the_run_goes_on() {
    let lake = Lake::new();
    let good = payload(1, "p/q", "2026-10-01T10:00:00Z", 100, 30);
    lake.put(
        "pipelines/dt=2026-10-01/mixed.ndjson",
        format!("{good}\n{{\"pipeline_id\": 2, \"project\": \n\n{}\n", payload(3, "p/q", "not a time", 1, 1)),
    );
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 10..2000 {
            writeln!(e, "{}", payload(i, "p/z", "2026-10-01T10:00:00Z", 100, 30)).unwrap();
        }
        e.finish().unwrap()
    };
    lake.put("pipelines/dt=2026-10-01/truncated.ndjson.gz", &gz[..gz.len() * 2 / 3]);
    lake.put("pipelines/dt=2026-10-01/notes.txt", "hello");
    lake.put("pipelines/dt=2026-10-01/one.json", "{\"pipeline_id\": ");
    lake.put("pipelines/dt=2026-10-01/_SUCCESS", "");
    lake.ok(&["run", "--date", "2026-10-01"]);
    let db = lake.duckdb();
    let rejects = rows(&db, "SELECT raw_key, position, reason FROM rejects ORDER BY raw_key, position");
    let keys: Vec<(&str, &str)> = rejects.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(
        keys,
        vec![
            ("pipelines/dt=2026-10-01/mixed.ndjson", "2"),
            ("pipelines/dt=2026-10-01/mixed.ndjson", "4"),
            ("pipelines/dt=2026-10-01/notes.txt", "0"),
            ("pipelines/dt=2026-10-01/one.json", "1"),
            ("pipelines/dt=2026-10-01/truncated.ndjson.gz", "0"),
        ]
    );
    assert!(rejects[1][2].contains("created_at"), "{:?}", rejects[1]);
    assert!(rejects[4][2].contains("gzip"), "{:?}", rejects[4]);
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
    let intact = scalar(&db, "SELECT count(*) FROM pipelines WHERE project = 'p/z'");
    assert!(intact > 100 && intact < 1990, "the intact part of the truncated object is kept: {intact}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipelines WHERE project = 'p/q'"), 1);
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE raw_key LIKE '%_SUCCESS'"), 0, "markers are not data");
}

#[test]
fn prune_deletes_only_what_was_ingested() {
    let lake = Lake::new();
    std::fs::write(
        lake.dir.path().join("pipelake.toml"),
        "[sources.pipelines]\nretention_days = 1\n[sources.devops_events]\nretention_days = 1\n[sources.perf]\nretention_days = 1\n[sources.commits]\nretention_days = 1\n[sources.github]\nretention_days = 1\n[sources.gitlab]\nretention_days = 1\n[sources.pagerduty]\nretention_days = 1\n",
    )
    .unwrap();
    lake.generate(2, 50);
    lake.ok(&["ingest"]);
    lake.put("pipelines/dt=2026-10-01/late-arrival.ndjson", payload(99, "p/q", "2026-10-01T10:00:00Z", 10, 5));
    let count = files(&lake.raw()).len();
    let dry = lake.ok(&["prune", "--dry-run"]);
    assert!(dry.contains("would delete"), "{dry}");
    assert!(!dry.contains("late-arrival"), "an object not yet ingested is never pruned: {dry}");
    assert_eq!(files(&lake.raw()).len(), count, "dry run deletes nothing");
    lake.ok(&["prune"]);
    assert_eq!(files(&lake.raw()), vec!["pipelines/dt=2026-10-01/late-arrival.ndjson".to_string()]);
    // Pruned objects stay ingested: nothing is decoded twice.
    lake.ok(&["ingest"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipelines WHERE pipeline_id = 99"), 1);
    assert_eq!(scalar(&db, "SELECT count(*) - count(DISTINCT pipeline_id) FROM pipelines"), 0);
}

#[test]
fn bad_usage_is_one_line_and_exit_2() {
    let lake = Lake::new();
    for args in [
        vec!["run", "--source", "nope"],
        vec!["run", "--date", "yesterday"],
        vec!["run", "--from", "2026-10-01"],
        vec!["summarize", "--table", "nope"],
        vec!["summarize", "--from", "2026-10-05", "--to", "2026-10-01"],
        vec!["frobnicate"],
        vec!["generate", "--days", "1", "--per-day", "1", "--source", "nope"],
    ] {
        let out = lake.cmd(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
    std::fs::write(lake.dir.path().join("pipelake.toml"), "raww = 1\n").unwrap();
    let out = lake.cmd(&["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_missing_raw_prefix_is_nothing_to_do() {
    let lake = Lake::new();
    let out = lake.ok(&["run", "--date", "2026-10-01"]);
    assert!(out.contains("0 objects"), "{out}");
}

#[test]
fn query_formats_and_views_agree_with_plain_duckdb() {
    let lake = Lake::new();
    lake.generate(1, 100);
    lake.ok(&["ingest"]);
    let csv = lake.ok(&["query", "SELECT count(*) AS n, min(pipeline_id) AS first FROM pipelines", "--format", "csv"]);
    let db = lake.duckdb();
    let n = scalar(&db, "SELECT count(*) FROM pipelines");
    let first = scalar(&db, "SELECT min(pipeline_id) FROM pipelines");
    assert_eq!(csv, format!("n,first\n{n},{first}\n"));
    let json: serde_json::Value =
        serde_json::from_str(&lake.ok(&["query", "SELECT count(*) AS n FROM pipelines", "--format", "json"])).unwrap();
    assert_eq!(json[0]["n"], serde_json::json!(n));
    let table = lake.ok(&["query", "SELECT 1 AS one"]);
    assert!(table.starts_with("one\n---\n1\n"), "{table}");
}

#[test]
fn status_counts_objects_and_tables() {
    let lake = Lake::new();
    lake.generate(2, 100);
    let before: serde_json::Value = serde_json::from_str(&lake.ok(&["status", "--format", "json"])).unwrap();
    let source = &before["sources"][0];
    assert_eq!(source["source"], "pipelines");
    assert_eq!(source["pending"], source["seen"]);
    lake.ok(&["ingest"]);
    let after: serde_json::Value = serde_json::from_str(&lake.ok(&["status", "--format", "json"])).unwrap();
    assert_eq!(after["sources"][0]["pending"], 0);
    assert_eq!(after["sources"][0]["ingested"], source["seen"]);
    let pipelines = after["tables"].as_array().unwrap().iter().find(|t| t["table"] == "pipelines").unwrap();
    assert_eq!(pipelines["rows"], serde_json::json!(scalar(&lake.duckdb(), "SELECT count(*) FROM pipelines")));
    let last_day = common::rows(&lake.duckdb(), "SELECT max(date) FROM pipelines")[0][0].clone();
    assert_eq!(pipelines["last_day"], serde_json::json!(last_day));
}

/// Regression: timestamps were TIMESTAMPTZ, and the embedded DuckDB (no ICU extension offline)
/// could not apply date functions to them.
#[test]
fn date_functions_work_in_the_embedded_duckdb() {
    let lake = Lake::new();
    lake.generate(2, 100);
    lake.ok(&["ingest"]);
    let out = lake.ok(&[
        "query",
        "SELECT date_trunc('week', created_at) AS week, quantile_cont(duration_e2e, 0.95) AS p95, count(*) AS n FROM pipelines GROUP BY ALL ORDER BY week",
        "--format",
        "csv",
    ]);
    assert!(out.starts_with("week,p95,n\n2026-09-28"), "{out}");
    let hours = lake.ok(&["query", "SELECT count(DISTINCT hour(started_at)) FROM pipeline_jobs", "--format", "csv"]);
    assert!(hours.lines().nth(1).is_some_and(|h| h.parse::<i64>().unwrap() > 1), "{hours}");
}
