//! Two jobs on one warehouse. On the same work (a source, a summary table) the second waits or
//! stops with a clear message, never writes in between; on disjoint work both commit, the later
//! one after the earlier one's commit, and where they touched the same thing the later one fails
//! with nothing visible. Readers are never blocked; a crashed holder's lease expires. Real
//! processes, on local disk and against the in-process S3 server (which honours conditional
//! writes).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::s3::S3Server;
use common::{assert_success, scalar, Lake};

/// Wait until `ready` holds, at most 30 s.
fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn_holding(mut c: Command, seconds: &str) -> Child {
    c.env("PIPELAKE_HOLD", seconds).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

#[test]
fn a_second_writer_stops_or_waits_and_readers_go_on_on_local_disk() {
    let lake = Lake::new();
    lake.generate(2, 50);
    let lock_file = lake.warehouse().join("_pipelake/locks/vacuum.lock");
    let first = spawn_holding(lake.cmd(&["run", "--date", "2026-10-02"]), "3");
    let pid = first.id().to_string();
    until("the first run to take the warehouse", || std::fs::read_to_string(&lock_file).is_ok_and(|t| t.contains(&pid)));

    // Without --wait: one line naming the holder, exit 1, nothing written.
    let out = lake.cmd(&["ingest"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("is busy: `pipelake run`") && last.contains(&format!("pid {pid}")) && last.contains("--wait"), "{stderr}");
    // Readers are not blocked.
    assert_success(&lake.cmd(&["status"]).output().unwrap(), &["status"]);

    // With --wait: it runs once the first is done, then finds nothing left to ingest.
    let started = Instant::now();
    let out = lake.cmd(&["--wait", "60", "--log-format", "json", "ingest"]).output().unwrap();
    assert_success(&out, &["ingest"]);
    assert!(started.elapsed() > Duration::from_millis(500));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["sources"].as_array().unwrap().iter().all(|s| s["objects"] == 0), "{report}");
    assert_success(&first.wait_with_output().unwrap(), &["run"]);

    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) - count(DISTINCT raw_key) FROM ingested_objects"), 0);
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
}

fn s3(server: &S3Server, dir: &std::path::Path, args: &[&str]) -> Command {
    server.cmd(dir, args)
}

#[test]
fn the_lease_on_s3_keeps_a_second_writer_out_and_expires_after_a_crash() {
    let server = S3Server::start("lake");
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| assert_success(&s3(&server, dir.path(), args).output().unwrap(), args);
    ok(&["generate", "--days", "1", "--per-day", "20", "--start", "2026-10-01", "--source", "pipelines"]);
    let lease = server.root.path().join("lake/warehouse/_pipelake/leases/source-pipelines.json");

    let first = spawn_holding(s3(&server, dir.path(), &["ingest"]), "3");
    until("the first job's lease", || lease.exists());
    let out = s3(&server, dir.path(), &["prune", "--source", "pipelines"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is busy: `pipelake ingest`"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_success(&first.wait_with_output().unwrap(), &["ingest"]);
    assert!(!lease.exists(), "the lease is given back when the job ends");

    // A holder that crashed left its lease behind: while it runs it blocks, once expired it does not.
    let crashed = |expires: chrono::DateTime<chrono::Utc>| {
        serde_json::json!({"id": "dead", "command": "run", "host": "elsewhere", "pid": 4242,
            "since": "2026-10-01T00:00:00Z", "expires": expires})
        .to_string()
    };
    std::fs::write(&lease, crashed(chrono::Utc::now() + chrono::Duration::minutes(5))).unwrap();
    let out = s3(&server, dir.path(), &["run", "--date", "2026-10-01"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pid 4242 on elsewhere"));
    std::fs::write(&lease, crashed(chrono::Utc::now() - chrono::Duration::seconds(1))).unwrap();
    ok(&["run", "--date", "2026-10-01"]);
    assert!(!lease.exists());
}

#[test]
fn a_lease_is_renewed_while_its_job_runs() {
    let server = S3Server::start("lake");
    let dir = tempfile::tempdir().unwrap();
    let short = |mut c: Command| {
        c.env("PIPELAKE_LEASE_SECONDS", "2");
        c
    };
    let out = s3(&server, dir.path(), &["generate", "--days", "1", "--per-day", "20", "--start", "2026-10-01", "--source", "pipelines"])
        .output()
        .unwrap();
    assert_success(&out, &["generate"]);
    let lease = server.root.path().join("lake/warehouse/_pipelake/leases/vacuum.json");
    let first = spawn_holding(short(s3(&server, dir.path(), &["run", "--date", "2026-10-01"])), "5");
    until("the first job's lease", || lease.exists());
    let taken = std::fs::read_to_string(&lease).unwrap();
    // Past the first expiry: only renewals keep the lease.
    std::thread::sleep(Duration::from_millis(3500));
    let renewed = std::fs::read_to_string(&lease).unwrap();
    assert_ne!(taken, renewed, "the lease was not renewed");
    let out = short(s3(&server, dir.path(), &["vacuum"])).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a renewed lease still keeps others out: {}", String::from_utf8_lossy(&out.stderr));
    assert_success(&first.wait_with_output().unwrap(), &["run"]);
}

/// Whether the process is stopped (state `T` in /proc).
fn stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('T')))
}

#[test]
fn a_writer_paused_past_its_lease_cannot_commit_over_the_job_that_took_over() {
    let server = S3Server::start("lake");
    let dir = tempfile::tempdir().unwrap();
    let short = |mut c: Command| {
        c.env("PIPELAKE_LEASE_SECONDS", "2");
        c
    };
    let ok = |args: &[&str]| {
        let out = short(s3(&server, dir.path(), args)).output().unwrap();
        assert_success(&out, args);
        String::from_utf8(out.stdout).unwrap()
    };
    ok(&["generate", "--days", "1", "--per-day", "20", "--start", "2026-10-01", "--source", "pipelines", "--source", "telemetry"]);

    // The first job writes its files for version 1 and is paused before its commit (a GC pause,
    // a suspended VM), for longer than its lease.
    let mut first = short(s3(&server, dir.path(), &["ingest", "--source", "pipelines"]));
    let first = first.env("PIPELAKE_STOP_AT", "written").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    until("the first job to pause before its commit", || stopped(first.id()));
    std::thread::sleep(Duration::from_secs(3));
    // A second job on the same source takes the expired lease over and commits version 1.
    ok(&["--wait", "30", "ingest", "--source", "pipelines"]);

    // Resumed, the first job finds version 1 taken by a commit of the same objects: it fails,
    // and nothing of it is visible.
    let _ = Command::new("kill").args(["-CONT", &first.id().to_string()]).status();
    let out = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("committed version 1") && stderr.contains("both ingested pipelines object"), "{stderr}");
    let count = |table: &str| ok(&["query", &format!("SELECT count(*) FROM {table}"), "--format", "csv"]);
    let twice = ok(&["query", "SELECT count(*) - count(DISTINCT pipeline_id) FROM pipelines", "--format", "csv"]);
    assert!(twice.ends_with("\n0\n"), "{twice}");
    assert_eq!(count("telemetry_checkins"), "count_star()\n0\n");
    let history: serde_json::Value = serde_json::from_str(&ok(&["history", "--format", "json"])).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");

    // Its files were written but belong to no version: vacuum removes them past the retention.
    std::fs::write(dir.path().join("pipelake.toml"), "vacuum_retention_days = 0\n").unwrap();
    let vacuum: serde_json::Value = serde_json::from_str(&ok(&["--log-format", "json", "vacuum"])).unwrap();
    assert!(vacuum["uncommitted_files"].as_u64().unwrap() >= 3, "{vacuum}");
    // Run again, nothing is left to ingest: the work landed once.
    ok(&["ingest", "--source", "pipelines"]);
    let twice = ok(&["query", "SELECT count(*) - count(DISTINCT pipeline_id) FROM pipelines", "--format", "csv"]);
    assert!(twice.ends_with("\n0\n"), "{twice}");
}

/// The lines of a JSON log that say a commit went after another job's.
fn retries(stderr: &[u8]) -> usize {
    String::from_utf8_lossy(stderr).lines().filter(|l| l.contains("another job committed first: this commit goes after it")).count()
}

/// Issue 18: one job per source and per summary table, at the same time, against one warehouse
/// on S3 (today the second exited 1, "warehouse is busy").
#[test]
fn jobs_on_disjoint_work_commit_at_the_same_time_on_s3_and_end_as_one_run() {
    let server = S3Server::start("lake");
    let dir = tempfile::tempdir().unwrap();
    let json = |args: &[&str]| {
        let mut c = s3(&server, dir.path(), &["--log-format", "json"]);
        c.args(args).env("PIPELAKE_LOG", "info");
        c
    };
    let ok = |args: &[&str]| {
        let out = s3(&server, dir.path(), args).output().unwrap();
        assert_success(&out, args);
        String::from_utf8(out.stdout).unwrap()
    };
    ok(&["generate", "--days", "2", "--per-day", "40", "--start", "2026-10-01"]);

    // The pipelines ingest pauses before its first commit; every other source commits meanwhile.
    let mut paused = json(&["ingest", "--source", "pipelines"]);
    let paused = paused.env("PIPELAKE_STOP_AT", "written").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    until("the pipelines ingest to pause before its commit", || stopped(paused.id()));
    let others: Vec<Child> = pipelake::sources::all()
        .iter()
        .map(|s| s.name())
        .filter(|s| *s != "pipelines")
        .map(|s| json(&["ingest", "--source", s]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let mut total = 0;
    for child in others {
        let out = child.wait_with_output().unwrap();
        assert_success(&out, &["ingest"]);
        total += retries(&out.stderr);
    }
    let _ = Command::new("kill").args(["-CONT", &paused.id().to_string()]).status();
    let out = paused.wait_with_output().unwrap();
    assert_success(&out, &["ingest", "--source", "pipelines"]);
    let resumed = retries(&out.stderr);
    assert!(resumed >= 1, "the paused ingest went after the others' commits: {}", String::from_utf8_lossy(&out.stderr));
    total += resumed;

    // Summaries of disjoint tables at once: the collector's, the telemetry's, PerfCI's.
    let tables = ["pipeline_daily", "telemetry_age_daily", "perf_tests", "changes"];
    let children: Vec<Child> =
        tables.iter().map(|t| json(&["summarize", "--table", t]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()).collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_success(&out, &["summarize"]);
        total += retries(&out.stderr);
    }
    // The rest of the summaries, then compare with one `run` of the same lake on local disk.
    ok(&["summarize"]);
    eprintln!("commit retries: {total}");
    let local = Lake::new();
    local.generate(2, 40);
    // A day with data: `run` alone would also compute yesterday, which has none.
    local.ok(&["run", "--date", "2026-10-01"]);
    let expected = common::all_rows(|args| local.ok(args));
    let seen = common::all_rows(|args| ok(args));
    for ((table, e), (_, s)) in expected.iter().zip(&seen) {
        assert_eq!(s, e, "{table}: the jobs at once against one run");
    }
    // Every version each job committed is in the log, one after the other.
    let history: serde_json::Value = serde_json::from_str(&ok(&["history", "--limit", "10000", "--format", "json"])).unwrap();
    let versions: Vec<u64> = history.as_array().unwrap().iter().map(|c| c["version"].as_u64().unwrap()).rev().collect();
    assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
}

/// A summary computed from facts another job changed before it committed cannot go after that
/// commit: it fails, nothing of it visible, and the next summarize computes it from the new facts.
#[test]
fn a_summary_computed_from_facts_that_changed_meanwhile_fails_cleanly() {
    let lake = Lake::new();
    lake.ok(&["generate", "--days", "1", "--per-day", "30", "--start", "2026-10-01", "--source", "pipelines"]);
    lake.ok(&["ingest", "--source", "pipelines"]);
    let mut summary = lake.cmd(&["summarize", "--table", "pipeline_daily"]);
    let summary = summary.env("PIPELAKE_STOP_AT", "written").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    until("the summary to pause before its commit", || stopped(summary.id()));
    let late = r#"{"pipeline_id":987654,"project":"p/late","ref":"main","created_at":"2026-10-01T10:00:00Z","duration":9,"duration_e2e":3,"build":1,"jobs":[],"jobs_failed":[]}"#;
    lake.put("pipelines/dt=2026-10-02/late.ndjson", format!("{late}\n"));
    lake.ok(&["ingest", "--source", "pipelines"]);
    let _ = Command::new("kill").args(["-CONT", &summary.id().to_string()]).status();
    let out = summary.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("table pipelines, which this job computed from, changed"), "{stderr}");
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipeline_daily"), 0, "nothing of the failed summary is visible");
    lake.ok(&["summarize", "--table", "pipeline_daily"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT sum(pipelines) FROM pipeline_daily"), scalar(&db, "SELECT count(*) FROM pipelines"));
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipeline_daily WHERE project = 'p/late'"), 1);
}
