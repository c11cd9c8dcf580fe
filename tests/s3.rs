//! The same job against S3 over real HTTP (an in-process s3s server), checked against the same
//! job on local disk.

mod common;

use std::process::Command;

use common::s3::S3Server;
use common::{assert_success, Lake};

fn s3_cmd(server: &S3Server, dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = server.cmd(dir, args);
    // A killed job's lease blocks until it expires: short here, so the rerun waits briefly.
    c.env("PIPELAKE_LEASE_SECONDS", "2").env("PIPELAKE_WAIT", "30");
    c
}

fn s3_ok(server: &S3Server, dir: &std::path::Path, args: &[&str]) -> String {
    let out = s3_cmd(server, dir, args).output().unwrap();
    assert_success(&out, args);
    String::from_utf8(out.stdout).unwrap()
}

const TABLE_QUERIES: &[&str] = &[
    "SELECT * FROM pipelines ORDER BY ALL",
    "SELECT * FROM pipeline_jobs ORDER BY ALL",
    "SELECT * FROM pipeline_builds ORDER BY ALL",
    "SELECT * FROM pipeline_daily ORDER BY ALL",
    "SELECT * FROM telemetry_checkins ORDER BY ALL",
    "SELECT * FROM telemetry_components ORDER BY ALL",
    "SELECT * FROM devops_events ORDER BY ALL",
    "SELECT * FROM rejects ORDER BY ALL",
    "SELECT * EXCLUDE (ingested_at) FROM ingested_objects ORDER BY ALL",
];

#[test]
fn s3_lake_and_warehouse_give_the_same_tables_as_local_disk() {
    let server = S3Server::start("lake");
    let work = tempfile::tempdir().unwrap();
    let gen = ["generate", "--days", "2", "--per-day", "150", "--start", "2026-10-01"];
    let run = ["run", "--from", "2026-10-01", "--to", "2026-10-02"];
    s3_ok(&server, work.path(), &gen);
    // Killed with a transaction's files written and its log entry not, then run again.
    let killed = s3_cmd(&server, work.path(), &run).env("PIPELAKE_FAULT", "written:3").output().unwrap();
    assert!(!killed.status.success(), "the fault point was reached");
    s3_ok(&server, work.path(), &run);

    let local = Lake::new();
    local.generate(2, 150);
    local.ok(&run);

    // A query fetches the files of the tables it names, and only those, into its cache.
    let cached = |table: &str| common::files(&work.path().join("cache")).iter().filter(|f| f.contains(&format!("/{table}/date="))).count();
    s3_ok(&server, work.path(), &["query", "SELECT count(*) FROM pipeline_daily", "--format", "csv"]);
    assert!(cached("pipeline_daily") > 0);
    assert_eq!(cached("pipelines") + cached("telemetry_checkins"), 0, "tables the query does not name are not fetched");
    for sql in TABLE_QUERIES {
        let on_s3 = s3_ok(&server, work.path(), &["query", sql, "--format", "csv"]);
        let on_disk = local.ok(&["query", sql, "--format", "csv"]);
        assert!(on_s3.lines().count() > 1 || sql.contains("rejects"), "{sql} returned no rows");
        assert_eq!(on_s3, on_disk, "{sql}");
    }

    // The objects really are in the bucket, and nothing staged is left behind.
    let stored = common::files(&server.root.path().join("lake/warehouse"));
    assert!(stored.iter().any(|f| f.starts_with("pipelines/date=2026-10-01/") && f.ends_with(".parquet")), "{stored:?}");
    assert!(stored.iter().all(|f| !f.contains("staging/") && !f.contains("txn/")), "{stored:?}");
    // A second run changes nothing: no new version, no new file.
    let before = common::files(&server.root.path().join("lake/warehouse"));
    assert!(before.iter().any(|f| f.starts_with("_pipelake/log/")), "{before:?}");
    s3_ok(&server, work.path(), &run);
    let mut after = common::files(&server.root.path().join("lake/warehouse"));
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(after, before);
}

#[test]
fn an_object_overwritten_in_the_bucket_is_read_again_by_its_etag() {
    let server = S3Server::start("lake");
    let work = tempfile::tempdir().unwrap();
    let key = server.root.path().join("lake/raw/pipelines/dt=2026-10-01/a.ndjson");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    let line = |id: i64| {
        format!(
            r#"{{"pipeline_id":{id},"project":"p","ref":"main","created_at":"2026-10-01T10:00:00Z","duration":9,"duration_e2e":3,"build":1,"jobs":[],"jobs_failed":[]}}"#
        ) + "\n"
    };
    std::fs::write(&key, line(1)).unwrap();
    s3_ok(&server, work.path(), &["run", "--date", "2026-10-01"]);
    // Overwritten with the same size: only the ETag tells the versions apart.
    std::fs::write(&key, line(2)).unwrap();
    s3_ok(&server, work.path(), &["run", "--date", "2026-10-01"]);
    let ids = s3_ok(&server, work.path(), &["query", "SELECT pipeline_id FROM pipelines ORDER BY 1", "--format", "csv"]);
    assert_eq!(ids, "pipeline_id\n1\n2\n");
    let versions = s3_ok(&server, work.path(), &["query", "SELECT count(*) AS n FROM ingested_objects", "--format", "csv"]);
    assert_eq!(versions, "n\n2\n");
}

/// Issue 18: without credentials the store fell through to the instance metadata service, and
/// the error printed the same HTTP failure four times, nested, naming its address.
#[test]
fn a_missing_s3_credential_is_one_line_naming_the_variables_that_provide_one() {
    let server = S3Server::start("lake");
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port: the metadata service does not answer, as off EC2.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = server
        .cmd(dir.path(), &["run"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_METADATA_ENDPOINT", format!("http://{closed}"))
        .env("PIPELAKE_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(line.starts_with("pipelake: ") && line.contains("s3://lake/warehouse"), "{line}");
    assert!(line.contains("no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), "{line}");
    assert!(!line.contains(&closed.to_string()) && !line.contains("Generic S3 error"), "{line}");
}
