//! CI health from webhook deliveries, end to end through the binary: each definition of
//! METRICS.md (CI health) pinned on a small timeline worked out by hand here, and every summary
//! of a generated lake recomputed by DuckDB SQL over the fact tables.

mod common;

use common::{rows, scalar, Lake};
use serde_json::{json, Value};

const REPO: &str = "o/r";

fn envelope(event: &str, delivery: &str, payload: Value) -> String {
    json!({"event": event, "delivery": delivery, "payload": payload}).to_string()
}

#[allow(clippy::too_many_arguments)]
fn run(delivery: &str, id: i64, attempt: i64, branch: &str, conclusion: &str, created: &str, started: &str, finished: &str) -> String {
    let status = if conclusion.is_empty() { "in_progress" } else { "completed" };
    let conclusion = if conclusion.is_empty() { Value::Null } else { json!(conclusion) };
    envelope(
        "workflow_run",
        delivery,
        json!({"action": "completed", "workflow_run": {"id": id, "run_attempt": attempt, "name": "CI", "head_branch": branch, "head_sha": format!("{id:040}"), "status": status, "conclusion": conclusion, "created_at": created, "run_started_at": started, "updated_at": finished}, "workflow": {"name": "CI"}, "repository": {"full_name": REPO, "default_branch": "main"}}),
    )
}

#[allow(clippy::too_many_arguments)]
fn job(delivery: &str, id: i64, run_id: i64, attempt: i64, conclusion: &str, created: &str, started: &str, completed: &str) -> String {
    envelope(
        "workflow_job",
        delivery,
        json!({"action": "completed", "workflow_job": {"id": id, "run_id": run_id, "run_attempt": attempt, "name": "test", "head_branch": "main", "head_sha": format!("{run_id:040}"), "status": "completed", "conclusion": conclusion, "created_at": created, "started_at": started, "completed_at": completed, "runner_name": "r1"}, "repository": {"full_name": REPO}}),
    )
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_timeline_gives_the_ci_health_worked_out_by_hand() {
    let lake = Lake::new();
    let github = [
        // Run 1 fails at 10:10 (red from then), its re-run turns green at 10:30: 1200 s to green.
        run("r1a", 1, 1, "main", "failure", "2026-10-01T09:59:00Z", "2026-10-01T10:00:00Z", "2026-10-01T10:10:00Z"),
        run("r1b", 1, 2, "main", "success", "2026-10-01T09:59:00Z", "2026-10-01T10:20:00Z", "2026-10-01T10:30:00Z"),
        // An in-progress delivery of the re-run, delivered late: the completed one wins.
        run("r1c", 1, 2, "main", "", "2026-10-01T09:59:00Z", "2026-10-01T10:20:00Z", "2026-10-01T10:21:00Z"),
        // Cancelled (counted, not in the rate), skipped (not counted).
        run("r2", 2, 1, "main", "cancelled", "2026-10-01T10:59:00Z", "2026-10-01T10:59:00Z", "2026-10-01T11:00:00Z"),
        run("r3", 3, 1, "main", "skipped", "2026-10-01T11:05:00Z", "2026-10-01T11:05:00Z", "2026-10-01T11:05:00Z"),
        // Red across midnight: 23:00 to 01:00, two hours to green.
        run("r4", 4, 1, "main", "failure", "2026-10-01T22:49:00Z", "2026-10-01T22:50:00Z", "2026-10-01T23:00:00Z"),
        run("r5", 5, 1, "main", "success", "2026-10-02T00:49:00Z", "2026-10-02T00:50:00Z", "2026-10-02T01:00:00Z"),
        // Another branch: its own row, no red time.
        run("r6", 6, 1, "feature", "timed_out", "2026-10-01T11:50:00Z", "2026-10-01T11:51:00Z", "2026-10-01T12:00:00Z"),
        // The job of run 1: failed in the first attempt (500 s), passed in the re-run.
        job("j1", 11, 1, 1, "failure", "2026-10-01T10:00:00Z", "2026-10-01T10:00:30Z", "2026-10-01T10:08:50Z"),
        job("j2", 12, 1, 2, "success", "2026-10-01T10:20:00Z", "2026-10-01T10:20:10Z", "2026-10-01T10:29:20Z"),
    ];
    lake.put("github/dt=2026-10-01/a.ndjson", github.join("\n"));
    // GitLab: pipeline 77 fails, is retried and passes (one id, two attempts); its lint job is
    // retried twice (new ids) and passes the third time.
    let project = json!({"path_with_namespace": "g/p", "default_branch": "main"});
    let pipeline = |status: &str, finished: Option<&str>, duration: Option<i64>| {
        json!({"object_kind": "pipeline", "object_attributes": {"id": 77, "ref": "main", "sha": "ab", "status": status, "created_at": "2026-10-01 11:00:00 UTC", "finished_at": finished, "duration": duration, "queued_duration": 5}, "project": project}).to_string()
    };
    let build = |id: i64, status: &str, created: &str, finished: &str, duration: f64| {
        json!({"object_kind": "build", "build_id": id, "pipeline_id": 77, "build_name": "lint", "build_status": status, "build_created_at": created, "build_started_at": created, "build_finished_at": finished, "build_duration": duration, "build_queued_duration": 2.5, "sha": "ab", "project": project}).to_string()
    };
    let gitlab = [
        pipeline("running", None, None),
        pipeline("failed", Some("2026-10-01 12:00:00 UTC"), Some(300)),
        pipeline("running", None, None).replace("11:00:00 UTC\"", "11:00:00 UTC\" "),
        pipeline("success", Some("2026-10-01 14:30:00 +0200"), Some(400)),
        build(1, "failed", "2026-10-01 11:00:00 UTC", "2026-10-01 11:05:00 UTC", 290.0),
        build(2, "failed", "2026-10-01 12:01:00 UTC", "2026-10-01 12:06:00 UTC", 295.5),
        build(3, "success", "2026-10-01 12:10:00 UTC", "2026-10-01 12:15:00 UTC", 280.0),
    ];
    lake.put("gitlab/dt=2026-10-01/b.ndjson", gitlab.join("\n"));
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM rejects"), 0);
    assert_eq!(
        rows(&db, "SELECT source, run_id, attempt, conclusion, finished_at, duration_s, queue_s FROM ci_runs WHERE run_id IN ('1', '77') ORDER BY ALL"),
        vec![
            strings(&["github", "1", "1", "failure", "2026-10-01 10:10:00", "600", "60"]),
            strings(&["github", "1", "2", "success", "2026-10-01 10:30:00", "600", "NULL"]),
            strings(&["gitlab", "77", "1", "failure", "2026-10-01 12:00:00", "300", "5"]),
            strings(&["gitlab", "77", "2", "success", "2026-10-01 12:30:00", "400", "NULL"]),
        ]
    );
    // 2026-10-01, o/r, CI, main: runs 1/1 (failure), 1/2 (success), 2 (cancelled), 4 (failure);
    // skipped not counted. Success rate 1 / (4 - 1). Durations 600, 600, 60, 600. Red 10:10-10:30
    // and 23:00-24:00: 4800 s; one spell ended, in 1200 s.
    let health_of = |repo: &str| {
        rows(&db, &format!("SELECT date, workflow, default_branch, runs, succeeded, failed, cancelled, success_rate, duration_p50_s, duration_p80_s, duration_p95_s, red_seconds, time_to_green_p50_s FROM ci_health_daily WHERE repo = '{repo}' ORDER BY ALL"))
    };
    assert_eq!(
        health_of(REPO),
        vec![
            strings(&["2026-10-01", "CI", "false", "1", "0", "1", "0", "0", "540", "540", "540", "NULL", "NULL"]),
            strings(&["2026-10-01", "CI", "true", "4", "1", "2", "1", "0.3333333333333333", "600", "600", "600", "4800", "1200"]),
            // 00:00-01:00 red; the spell from 23:00 ended at 01:00: 7200 s.
            strings(&["2026-10-02", "CI", "true", "1", "1", "0", "0", "1", "600", "600", "600", "3600", "7200"]),
        ]
    );
    // GitLab: the failure at 12:00 opens a spell its retry closes at 12:30.
    assert_eq!(
        health_of("g/p"),
        vec![strings(&["2026-10-01", "pipeline", "true", "2", "1", "1", "0", "0.5", "350", "380", "395", "1800", "1800"])]
    );
    // Jobs: the test job flaky in run 1 (500 s lost); lint retried twice, flaky once, 585.5 s lost.
    assert_eq!(
        rows(&db, "SELECT repo, job, runs, failed, run_p50_s, queue_p50_s, flaky_runs, flake_rate, failed_attempt_s FROM ci_job_daily ORDER BY ALL"),
        vec![
            strings(&["g/p", "lint", "3", "2", "290", "2.5", "1", "0.3333333333333333", "585.5"]),
            strings(&["o/r", "test", "2", "1", "525", "20", "1", "0.5", "500"]),
        ]
    );
    assert_eq!(
        rows(&db, "SELECT job_id, attempt FROM ci_jobs WHERE source = 'gitlab' ORDER BY 1"),
        vec![strings(&["1", "1"]), strings(&["2", "2"]), strings(&["3", "3"])]
    );
}

#[test]
fn every_ci_summary_of_a_generated_lake_is_what_duckdb_computes_from_the_facts() {
    let lake = Lake::new();
    lake.ok(&["generate", "--days", "20", "--per-day", "30", "--start", "2026-08-01", "--source", "github", "--source", "gitlab"]);
    lake.ok(&["run", "--from", "2026-08-01", "--to", "2026-08-20"]);
    let db = lake.duckdb();
    for (sql, least) in [
        ("SELECT count(*) FROM ci_runs WHERE attempt = 2", 5),
        ("SELECT count(*) FROM ci_health_daily WHERE red_seconds > 0", 5),
        ("SELECT count(*) FROM ci_job_daily WHERE flaky_runs > 0", 5),
        ("SELECT count(DISTINCT source) FROM ci_runs", 2),
        // Red at midnight: a spell that did not end the day it began.
        ("SELECT count(*) FROM ci_health_daily WHERE red_seconds > 0 AND time_to_green_p50_s IS NULL", 1),
        ("SELECT count(*) FROM ci_health_daily WHERE NOT default_branch", 5),
        ("SELECT count(*) FROM ci_runs WHERE conclusion = 'skipped'", 3),
        // GitLab's lint job retried twice.
        ("SELECT count(*) FROM ci_jobs WHERE name = 'lint' AND attempt = 3", 2),
    ] {
        assert!(scalar(&db, sql) >= least, "{sql}: {}", scalar(&db, sql));
    }
    // Runs from their deliveries (GitHub): the newest delivery of each id and attempt.
    assert_eq!(
        rows(&db, "SELECT run_id, attempt, conclusion, epoch_us(finished_at) - epoch_us(started_at) FROM ci_runs WHERE source = 'github' ORDER BY ALL"),
        rows(
            &db,
            "SELECT payload->>'$.workflow_run.id', (payload->>'$.workflow_run.run_attempt')::BIGINT,
                arg_max(payload->>'$.workflow_run.conclusion', occurred_at),
                arg_max(epoch_us(strptime(payload->>'$.workflow_run.updated_at', '%Y-%m-%dT%H:%M:%SZ')) - epoch_us(strptime(payload->>'$.workflow_run.run_started_at', '%Y-%m-%dT%H:%M:%SZ')), occurred_at)
             FROM ci_events WHERE source = 'github' AND kind = 'workflow_run' GROUP BY repo, 1, 2 ORDER BY ALL"
        )
    );
    // The health counts and percentiles from ci_runs.
    assert_eq!(
        rows(&db, "SELECT date, repo, workflow, default_branch, runs, succeeded, failed, cancelled, success_rate, duration_p50_s, duration_p80_s, duration_p95_s FROM ci_health_daily ORDER BY ALL"),
        rows(
            &db,
            "SELECT finished_at::DATE, repo, workflow, default_branch, count(*),
                count(*) FILTER (WHERE conclusion = 'success'),
                count(*) FILTER (WHERE conclusion IN ('failure', 'timed_out', 'startup_failure')),
                count(*) FILTER (WHERE conclusion = 'cancelled'),
                count(*) FILTER (WHERE conclusion = 'success') / nullif(count(*) FILTER (WHERE conclusion <> 'cancelled'), 0),
                quantile_cont(duration_s, 0.5), quantile_cont(duration_s, 0.8), quantile_cont(duration_s, 0.95)
             FROM ci_runs WHERE conclusion IN ('success', 'failure', 'timed_out', 'startup_failure', 'cancelled') AND finished_at IS NOT NULL
             GROUP BY ALL ORDER BY ALL"
        )
    );
    // Per job, from ci_jobs; flakes: a pass after a failed attempt of the same run and sha.
    assert_eq!(
        rows(&db, "SELECT date, repo, job, runs, failed, run_p50_s, run_p95_s, queue_p50_s, queue_p95_s, flaky_runs, failed_attempt_s FROM ci_job_daily ORDER BY ALL"),
        rows(
            &db,
            "WITH counted AS (SELECT * FROM ci_jobs WHERE conclusion IN ('success', 'failure', 'timed_out', 'startup_failure', 'cancelled')),
             firsts AS (
                SELECT source, repo, run_id, sha, name, min(attempt) FILTER (WHERE conclusion = 'success') AS passed FROM counted GROUP BY ALL),
             flaky AS (
                SELECT c.finished_at::DATE AS date, c.repo, c.name, count(*) AS n,
                    sum((SELECT sum(coalesce(f.run_s, 0)) FROM counted f WHERE f.source = c.source AND f.repo = c.repo AND f.run_id = c.run_id
                        AND f.sha IS NOT DISTINCT FROM c.sha AND f.name = c.name AND f.attempt < c.attempt AND f.conclusion IN ('failure', 'timed_out', 'startup_failure'))) AS lost
                FROM counted c JOIN firsts p ON p.source = c.source AND p.repo = c.repo AND p.run_id = c.run_id AND p.sha IS NOT DISTINCT FROM c.sha AND p.name = c.name AND p.passed = c.attempt
                WHERE c.conclusion = 'success' AND EXISTS (SELECT 1 FROM counted f WHERE f.source = c.source AND f.repo = c.repo AND f.run_id = c.run_id
                        AND f.sha IS NOT DISTINCT FROM c.sha AND f.name = c.name AND f.attempt < c.attempt AND f.conclusion IN ('failure', 'timed_out', 'startup_failure'))
                GROUP BY ALL)
             SELECT counted.finished_at::DATE AS day, counted.repo, counted.name, count(*), count(*) FILTER (WHERE conclusion IN ('failure', 'timed_out', 'startup_failure')),
                quantile_cont(run_s, 0.5), quantile_cont(run_s, 0.95), quantile_cont(queue_s, 0.5), quantile_cont(queue_s, 0.95),
                coalesce(any_value(flaky.n), 0), coalesce(any_value(flaky.lost), 0)
             FROM counted LEFT JOIN flaky ON flaky.date = counted.finished_at::DATE AND flaky.repo = counted.repo AND flaky.name = counted.name
             GROUP BY ALL ORDER BY ALL"
        )
    );
}

#[test]
fn a_lake_landed_day_by_day_either_way_and_run_nightly_ends_as_one_run_over_it() {
    // Re-runs, red spells and flakes cross days; landing the days in order and newest first,
    // with the nightly run after each, ends where one run over the whole lake ends.
    let tables = |lake: &Lake| -> Vec<Vec<Vec<String>>> {
        let db = lake.duckdb();
        ["ci_runs", "ci_jobs", "ci_health_daily", "ci_job_daily"]
            .iter()
            .map(|t| rows(&db, &format!("SELECT * FROM {t} ORDER BY ALL")))
            .collect()
    };
    let whole = Lake::new();
    whole.ok(&["generate", "--days", "10", "--per-day", "30", "--start", "2026-08-01", "--source", "github", "--source", "gitlab"]);
    whole.ok(&["run", "--from", "2026-08-01", "--to", "2026-08-10"]);
    let expected = tables(&whole);
    assert!(expected[2].len() > 20, "{} health rows", expected[2].len());
    for newest_first in [false, true] {
        let nightly = common::landed_day_by_day(&whole, newest_first);
        assert!(tables(&nightly) == expected, "landed {}", if newest_first { "newest first" } else { "in order" });
    }
}

#[test]
fn a_failure_delivered_after_the_next_days_green_makes_that_day_red_until_the_green() {
    let lake = Lake::new();
    lake.put(
        "github/dt=2026-10-02/a.ndjson",
        run("g", 5, 1, "main", "success", "2026-10-02T00:49:00Z", "2026-10-02T00:50:00Z", "2026-10-02T01:00:00Z"),
    );
    lake.ok(&["run"]);
    lake.put(
        "github/dt=2026-10-03/b.ndjson",
        run("f", 4, 1, "main", "failure", "2026-10-01T22:49:00Z", "2026-10-01T22:50:00Z", "2026-10-01T23:00:00Z"),
    );
    lake.ok(&["run"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT date, runs, red_seconds, time_to_green_p50_s FROM ci_health_daily ORDER BY date"),
        vec![strings(&["2026-10-01", "1", "3600", "NULL"]), strings(&["2026-10-02", "1", "3600", "7200"])]
    );
}

#[test]
fn red_seconds_of_a_day_without_red_is_zero_not_negative_zero() {
    // Regression: the sum of no spells was f64's -0.0, which DuckDB and CSV readers print as -0.
    let lake = Lake::new();
    lake.put(
        "github/dt=2026-10-02/a.ndjson",
        run("g", 5, 1, "main", "success", "2026-10-02T00:49:00Z", "2026-10-02T00:50:00Z", "2026-10-02T01:00:00Z"),
    );
    lake.ok(&["run", "--date", "2026-10-02"]);
    let db = lake.duckdb();
    assert_eq!(rows(&db, "SELECT red_seconds, signbit(red_seconds) FROM ci_health_daily"), vec![strings(&["0", "false"])]);
}
