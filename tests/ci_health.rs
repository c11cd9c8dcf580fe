//! CI health from webhook deliveries, end to end through the binary: each definition of
//! METRICS.md (CI health) pinned on a small timeline worked out by hand here, and every summary
//! of a generated lake recomputed by DuckDB SQL over the fact tables.

mod common;

use common::{rows, scalar, Lake};
use serde_json::{json, Value};

const REPO: &str = "o/r";

/// The setting that puts the collector's pipelines into CI health.
const COLLECTOR_CI: &str = "[sources.pipelines]\nci_health = true\n";

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

/// Generate `days` days of every CI source from 2026-08-01, 30 records a day each.
fn generate_ci(lake: &Lake, days: u32) {
    let days = days.to_string();
    let sources = ["--source", "github", "--source", "gitlab", "--source", "pipelines"];
    let args: Vec<&str> = ["generate", "--days", &days, "--per-day", "30", "--start", "2026-08-01"].into_iter().chain(sources).collect();
    lake.ok(&args);
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
    let lake = Lake::with_config(COLLECTOR_CI);
    generate_ci(&lake, 20);
    lake.ok(&["run", "--from", "2026-07-31", "--to", "2026-08-21"]);
    let db = lake.duckdb();
    for (sql, least) in [
        ("SELECT count(*) FROM ci_runs WHERE attempt = 2", 5),
        ("SELECT count(*) FROM ci_health_daily WHERE red_seconds > 0", 5),
        ("SELECT count(*) FROM ci_job_daily WHERE flaky_runs > 0", 5),
        ("SELECT count(DISTINCT source) FROM ci_runs", 3),
        // The collector: pipelines whose failed job never passed, flaky e2e jobs, jobs retried twice.
        ("SELECT count(*) FROM ci_runs WHERE source = 'pipelines' AND conclusion = 'failure'", 2),
        ("SELECT count(*) FROM ci_job_daily WHERE flaky_runs > 0 AND job = 'e2e-0'", 5),
        ("SELECT count(*) FROM ci_jobs WHERE source = 'pipelines' AND attempt = 3", 2),
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
fn the_collectors_runs_and_jobs_are_what_duckdb_derives_from_its_pipelines() {
    let lake = Lake::with_config(COLLECTOR_CI);
    lake.ok(&["generate", "--days", "12", "--per-day", "60", "--start", "2026-08-01", "--source", "pipelines"]);
    lake.ok(&["run", "--from", "2026-07-31", "--to", "2026-08-13"]);
    let db = lake.duckdb();
    assert!(scalar(&db, "SELECT count(*) FROM pipeline_failed_jobs") > 40);
    // One run per pipeline: finished `duration` after creation, failed when a failed job never
    // passed in it.
    assert_eq!(
        rows(&db, "SELECT run_id, repo, branch, default_branch, attempt, workflow, conclusion, created_at, started_at, finished_at, duration_s, date FROM ci_runs WHERE source = 'pipelines' ORDER BY ALL"),
        rows(
            &db,
            "SELECT pipeline_id::VARCHAR, project, ref, default_branch, 1, 'pipeline',
                CASE WHEN EXISTS (SELECT 1 FROM pipeline_failed_jobs f WHERE f.pipeline_id = p.pipeline_id AND f.name IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM pipeline_jobs j WHERE j.pipeline_id = f.pipeline_id AND j.name = f.name)) THEN 'failure' ELSE 'success' END,
                created_at, created_at, created_at + to_seconds(duration), duration::DOUBLE, (created_at + to_seconds(duration))::DATE
             FROM pipelines p ORDER BY ALL"
        )
    );
    // Passing attempts: each job of `jobs`, after its failed attempts.
    assert_eq!(
        rows(&db, "SELECT run_id, repo, name, attempt, started_at, finished_at, run_s, date FROM ci_jobs WHERE source = 'pipelines' AND conclusion = 'success' ORDER BY ALL"),
        rows(
            &db,
            "SELECT j.pipeline_id::VARCHAR, p.project, j.name,
                1 + (SELECT count(*) FROM pipeline_failed_jobs f WHERE f.pipeline_id = j.pipeline_id AND f.name = j.name),
                j.started_at, j.finished_at, (epoch_us(j.finished_at) - epoch_us(j.started_at)) / 1e6, j.finished_at::DATE
             FROM pipeline_jobs j JOIN pipelines p USING (pipeline_id) ORDER BY ALL"
        )
    );
    // Failed attempts: as sent, else ended when the job's next attempt started (else when the
    // pipeline finished) and began `duration` before; numbered 1.. per job in each pipeline.
    assert_eq!(
        rows(&db, "SELECT run_id, name, started_at, finished_at, run_s, date FROM ci_jobs WHERE source = 'pipelines' AND conclusion = 'failure' ORDER BY ALL"),
        rows(
            &db,
            "WITH f AS (
                SELECT f.*, coalesce(f.finished_at, f.started_at + to_seconds(f.duration),
                    (SELECT min(j.started_at) FROM pipeline_jobs j WHERE j.pipeline_id = f.pipeline_id AND j.name = f.name),
                    p.created_at + to_seconds(p.duration)) AS ended
                FROM pipeline_failed_jobs f JOIN pipelines p USING (pipeline_id) WHERE f.name IS NOT NULL)
             SELECT pipeline_id::VARCHAR, name, coalesce(started_at, ended - to_seconds(duration)), ended, duration::DOUBLE, ended::DATE FROM f ORDER BY ALL"
        )
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM (SELECT run_id, name, list(attempt ORDER BY attempt) AS a, count(*) AS n FROM ci_jobs WHERE source = 'pipelines' AND conclusion = 'failure' GROUP BY ALL) WHERE a <> range(1, n + 1)"),
        0
    );
    assert_eq!(scalar(&db, "SELECT count(*) - count(DISTINCT job_id) FROM ci_jobs"), 0);
}

#[test]
fn the_collectors_pipelines_give_the_ci_health_worked_out_by_hand() {
    let lake = Lake::with_config(COLLECTOR_CI);
    let pipeline = |id: i64, git_ref: &str, created: &str, duration: i64, jobs: Value, failed: Value| {
        json!({"pipeline_id": id, "project": "c/p", "ref": git_ref, "created_at": created, "duration": duration, "duration_e2e": 1,
               "jobs": jobs, "jobs_failed": failed})
        .to_string()
    };
    let e2e = |started: &str, finished: &str, duration: i64| json!({"name": "e2e", "started_at": started, "finished_at": finished, "duration": duration});
    let payloads = [
        // e2e failed twice (an old sender's 100 s without times, a newer one's 60 s) and passed.
        pipeline(
            1,
            "main",
            "2026-10-01T10:00:00Z",
            600,
            json!([e2e("2026-10-01T10:05:00Z", "2026-10-01T10:09:00Z", 240)]),
            json!([{"name": "e2e", "duration": 100}, {"name": "e2e", "duration": 60, "started_at": "2026-10-01T10:02:00Z", "finished_at": "2026-10-01T10:03:00Z"}]),
        ),
        // Across midnight, its deploy job never passed: a failure at 00:10 that turns main red.
        pipeline(
            2,
            "main",
            "2026-10-01T23:50:00Z",
            1200,
            json!([e2e("2026-10-01T23:55:00Z", "2026-10-02T00:05:00Z", 600)]),
            json!([{"name": "deploy", "duration": 30}]),
        ),
        // Green again at 01:30: 4800 s to green.
        pipeline(3, "main", "2026-10-02T01:00:00Z", 1800, json!([e2e("2026-10-02T01:10:00Z", "2026-10-02T01:25:00Z", 900)]), json!([])),
        // Another branch, an offset.
        pipeline(4, "dev", "2026-10-01T12:00:00+02:00", 300, json!([]), json!([])),
        // A duration no pipeline lasts: no finish, not counted.
        pipeline(5, "main", "2026-10-01T11:00:00Z", 1_000_000_000_000, json!([]), json!([])),
    ];
    lake.put("pipelines/dt=2026-10-01/a.ndjson", payloads.join("\n") + "\n" + &payloads[0]);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM rejects"), 0);
    assert_eq!(
        rows(&db, "SELECT run_id, default_branch, conclusion, finished_at, duration_s, date FROM ci_runs ORDER BY run_id"),
        vec![
            strings(&["1", "true", "success", "2026-10-01 10:10:00", "600", "2026-10-01"]),
            strings(&["2", "true", "failure", "2026-10-02 00:10:00", "1200", "2026-10-02"]),
            strings(&["3", "true", "success", "2026-10-02 01:30:00", "1800", "2026-10-02"]),
            strings(&["4", "false", "success", "2026-10-01 10:05:00", "300", "2026-10-01"]),
            strings(&["5", "true", "success", "NULL", "1000000000000", "2026-10-01"]),
        ]
    );
    assert_eq!(
        rows(&db, "SELECT date, workflow, default_branch, runs, succeeded, failed, success_rate, duration_p50_s, red_seconds, time_to_green_p50_s FROM ci_health_daily ORDER BY ALL"),
        vec![
            strings(&["2026-10-01", "pipeline", "false", "1", "1", "0", "1", "300", "NULL", "NULL"]),
            strings(&["2026-10-01", "pipeline", "true", "1", "1", "0", "1", "600", "0", "NULL"]),
            strings(&["2026-10-02", "pipeline", "true", "2", "1", "1", "0.5", "1500", "4800", "4800"]),
        ]
    );
    assert_eq!(
        rows(&db, "SELECT job_id, name, attempt, conclusion, started_at, finished_at, run_s FROM ci_jobs WHERE run_id IN ('1', '2') ORDER BY run_id, attempt, name"),
        vec![
            strings(&["1:jobs_failed[0]", "e2e", "1", "failure", "2026-10-01 10:03:20", "2026-10-01 10:05:00", "100"]),
            strings(&["1:jobs_failed[1]", "e2e", "2", "failure", "2026-10-01 10:02:00", "2026-10-01 10:03:00", "60"]),
            strings(&["1:jobs[0]", "e2e", "3", "success", "2026-10-01 10:05:00", "2026-10-01 10:09:00", "240"]),
            strings(&["2:jobs_failed[0]", "deploy", "1", "failure", "2026-10-02 00:09:30", "2026-10-02 00:10:00", "30"]),
            strings(&["2:jobs[0]", "e2e", "1", "success", "2026-10-01 23:55:00", "2026-10-02 00:05:00", "600"]),
        ]
    );
    // e2e on 10-01: three attempts of pipeline 1, two failed, one flake with 160 s lost; on
    // 10-02 the passes of pipelines 2 and 3; deploy failed for good, no flake.
    assert_eq!(
        rows(&db, "SELECT date, job, runs, failed, run_p50_s, queue_p50_s, flaky_runs, flake_rate, failed_attempt_s FROM ci_job_daily ORDER BY ALL"),
        vec![
            strings(&["2026-10-01", "e2e", "3", "2", "100", "NULL", "1", "0.3333333333333333", "160"]),
            strings(&["2026-10-02", "deploy", "1", "1", "30", "NULL", "0", "0", "0"]),
            strings(&["2026-10-02", "e2e", "2", "0", "750", "NULL", "0", "0", "0"]),
        ]
    );
}

#[test]
fn without_the_setting_the_collectors_pipelines_stay_out_of_ci_health() {
    let lake = Lake::new();
    lake.ok(&["generate", "--days", "2", "--per-day", "40", "--start", "2026-08-01", "--source", "pipelines"]);
    lake.ok(&["run", "--from", "2026-07-31", "--to", "2026-08-03"]);
    let db = lake.duckdb();
    assert!(scalar(&db, "SELECT count(*) FROM pipeline_failed_jobs") > 0);
    for table in ["ci_runs", "ci_jobs", "ci_health_daily", "ci_job_daily"] {
        assert_eq!(scalar(&db, &format!("SELECT count(*) FROM {table}")), 0, "{table}");
    }
    // Turned on, `summarize` over those days puts them in.
    std::fs::write(lake.dir.path().join("pipelake.toml"), COLLECTOR_CI).unwrap();
    lake.ok(&["summarize", "--from", "2026-07-31", "--to", "2026-08-03"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM ci_runs"), scalar(&db, "SELECT count(*) FROM pipelines"));
}

#[test]
fn collector_times_at_the_ends_of_the_calendar_cost_no_run() {
    // A pipeline a minute before year 10000 lasting an hour, failed attempts of i64::MAX
    // seconds, starting at the last second, or ending at the first instant of year 1: whatever
    // is derived stays a time a partition can hold, or is no time.
    let lake = Lake::with_config(COLLECTOR_CI);
    let payloads = [
        json!({"pipeline_id": 1, "project": "c/p", "ref": "main", "created_at": "9999-12-31T23:59:00Z", "duration": 3600, "duration_e2e": 1,
               "jobs": [{"name": "e", "started_at": "9999-12-31T23:59:30Z", "finished_at": "9999-12-31T23:59:59Z", "duration": 29}],
               "jobs_failed": [{"name": "e", "duration": i64::MAX}, {"name": "e", "started_at": "9999-12-31T23:59:59Z", "duration": 100}]}),
        json!({"pipeline_id": 2, "project": "c/p", "ref": "main", "created_at": "0001-01-01T00:00:00Z", "duration": 0, "duration_e2e": 0,
               "jobs_failed": [{"name": "never", "duration": 5}]}),
    ];
    lake.put("pipelines/dt=2026-10-01/a.ndjson", payloads.iter().map(Value::to_string).collect::<Vec<_>>().join("\n"));
    lake.ok(&["run"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM rejects"), 0);
    assert_eq!(
        rows(&db, "SELECT run_id, conclusion, finished_at, date FROM ci_runs ORDER BY run_id"),
        vec![strings(&["1", "success", "NULL", "9999-12-31"]), strings(&["2", "failure", "0001-01-01 00:00:00", "0001-01-01"]),]
    );
    assert_eq!(
        rows(&db, "SELECT job_id, attempt, started_at, finished_at, date FROM ci_jobs ORDER BY job_id"),
        vec![
            strings(&["1:jobs[0]", "3", "9999-12-31 23:59:30", "9999-12-31 23:59:59", "9999-12-31"]),
            strings(&["1:jobs_failed[0]", "1", "NULL", "9999-12-31 23:59:30", "9999-12-31"]),
            strings(&["1:jobs_failed[1]", "2", "9999-12-31 23:59:59", "9999-12-31 23:59:30", "9999-12-31"]),
            strings(&["2:jobs_failed[0]", "1", "NULL", "0001-01-01 00:00:00", "0001-01-01"]),
        ]
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
    let whole = Lake::with_config(COLLECTOR_CI);
    generate_ci(&whole, 10);
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
