//! A hostile raw lake, tried as a new user would: links, odd names, bombs, dates out of range,
//! huge numbers, changed objects, SQL and secrets. Each test runs the real binary and is named
//! after what it pins; the last one mixes a hostile object of each kind into a normal lake.

mod common;

use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use common::{rows, scalar, Lake};

fn pipeline(id: i64, project: &str, created_at: &str) -> String {
    format!(
        r#"{{"pipeline_id":{id},"project":"{project}","ref":"main","created_at":"{created_at}","duration":90,"duration_e2e":30,"build":10,"jobs":[],"jobs_failed":[]}}"#
    )
}

fn status(lake: &Lake) -> serde_json::Value {
    serde_json::from_str(&lake.ok(&["status", "--format", "json"])).unwrap()
}

fn source<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["sources"].as_array().unwrap().iter().find(|s| s["source"] == name).unwrap()
}

fn reasons(lake: &Lake) -> Vec<String> {
    rows(&lake.duckdb(), "SELECT raw_key || ': ' || reason FROM rejects ORDER BY ALL").into_iter().map(|r| r[0].clone()).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Write `pipelake.toml` in the lake's working folder.
fn config(lake: &Lake, text: &str) {
    std::fs::write(lake.dir.path().join("pipelake.toml"), text).unwrap();
}

#[test]
fn links_in_the_raw_lake_are_skipped_with_a_reason_and_nothing_outside_is_read_or_deleted() {
    let lake = Lake::new();
    let outside = lake.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.ndjson"), pipeline(999, "outside", "2026-10-01T10:00:00Z") + "\n").unwrap();
    lake.put("pipelines/dt=2026-10-01/a.ndjson", pipeline(1, "inside", "2026-10-01T10:00:00Z") + "\n");
    let day = lake.raw().join("pipelines/dt=2026-10-01");
    std::os::unix::fs::symlink(outside.join("secret.ndjson"), day.join("link.ndjson")).unwrap();
    std::os::unix::fs::symlink(&outside, lake.raw().join("pipelines/dt=2026-10-02")).unwrap();
    std::os::unix::fs::symlink(lake.raw().join("pipelines"), day.join("loop")).unwrap();
    std::fs::write(day.join(std::ffi::OsStr::from_bytes(b"bad\xff.ndjson")), pipeline(2, "x", "2026-10-01T10:00:00Z")).unwrap();
    std::fs::write(day.join("new\nline.ndjson"), pipeline(3, "x", "2026-10-01T10:00:00Z")).unwrap();
    let fifo = std::ffi::CString::new(day.join("pipe.ndjson").as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    // Prune everything ingested: nothing behind a link may go.
    config(&lake, "[sources.pipelines]\nretention_days = 0\n");

    lake.ok(&["run", "--date", "2026-10-01"]);
    let db = lake.duckdb();
    assert_eq!(rows(&db, "SELECT pipeline_id FROM pipelines"), vec![vec!["1".to_string()]], "only the object inside the lake");
    assert!(outside.join("secret.ndjson").exists(), "prune never reaches behind a link");
    assert!(!day.join("a.ndjson").exists(), "the ingested object itself is pruned");

    let status = status(&lake);
    let skipped = source(&status, "pipelines")["skipped"].as_array().unwrap().clone();
    let text: Vec<String> = skipped.iter().map(|s| format!("{} {}", s["name"].as_str().unwrap(), s["reason"].as_str().unwrap())).collect();
    assert_eq!(skipped.len(), 6, "{text:#?}");
    for (name, reason) in [
        ("pipelines/dt=2026-10-01/link.ndjson", "symbolic link"),
        ("pipelines/dt=2026-10-02", "symbolic link"),
        ("pipelines/dt=2026-10-01/loop", "symbolic link"),
        ("pipelines/dt=2026-10-01/bad\\xff.ndjson", "not valid UTF-8"),
        ("pipelines/dt=2026-10-01/new\\nline.ndjson", "control characters"),
        ("pipelines/dt=2026-10-01/pipe.ndjson", "not a regular file"),
    ] {
        assert!(text.iter().any(|t| t.starts_with(name) && t.contains(reason)), "{name}: {reason} not in {text:#?}");
    }
    // The text status names them on one line each.
    let plain = lake.ok(&["status"]);
    assert!(plain.contains("skipped, never read (6)"), "{plain}");
    assert!(plain.contains("bad\\xff.ndjson"), "{plain}");
}

#[test]
fn dates_outside_years_1_to_9999_are_rejects_never_partitions() {
    let lake = Lake::new();
    lake.put("pipelines/dt=99999-01-01/a.ndjson", pipeline(1, "far-folder", "2026-10-01T10:00:00Z") + "\n");
    lake.put(
        "pipelines/dt=2026-10-01/b.ndjson",
        [
            pipeline(2, "late", "9999-12-31T23:00:00-05:00"),
            pipeline(3, "leap", "2016-12-31T23:59:60Z"),
            pipeline(4, "ok", "2026-10-01T12:00:00Z"),
        ]
        .join("\n"),
    );
    lake.put(
        "commits/dt=2026-10-01/proj.log",
        "abc1234 - Ann, Sat Jan 1 00:00:00 10000 +0000 : from the future\ndef5678 - Bob, Thu Oct 1 10:00:00 2026 +0000 : ok\n",
    );
    lake.put(
        "devops_events/dt=2026-10-01/e.ndjson",
        r#"{"Time": "9999-12-31T23:59:59-01:00", "Repo": "r", "Event": "push", "Metadata": ""}"#.to_string() + "\n",
    );
    lake.ok(&["run", "--date", "2026-10-01"]);
    let db = lake.duckdb();
    // Reading `date` works, and the leap second stayed on its day.
    assert_eq!(rows(&db, "SELECT max(date)::VARCHAR, min(date)::VARCHAR FROM pipelines"), vec![vec!["2026-10-01", "2016-12-31"]]);
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipelines"), 3);
    assert_eq!(scalar(&db, "SELECT count(*) FROM commits"), 1);
    assert_eq!(scalar(&db, "SELECT count(*) FROM devops_events"), 0);
    let why = reasons(&lake);
    assert!(why.iter().any(|r| r.contains("b.ndjson") && r.contains("outside the years 1 to 9999")), "{why:#?}");
    assert!(why.iter().any(|r| r.contains("proj.log") && r.contains("git date")), "{why:#?}");
    assert!(why.iter().any(|r| r.contains("e.ndjson") && r.contains("outside the years 1 to 9999")), "{why:#?}");
    // No partition outside the four-digit years, in any table.
    let folders = common::files(&lake.warehouse());
    assert!(folders.iter().all(|f| !f.contains("date=+") && !f.contains("date=-")), "{folders:#?}");
    let report = lake.dir.path().join("report.html");
    lake.ok(&["report", "--out", report.to_str().unwrap()]);
}

#[test]
fn numbers_past_64_bits_and_negative_durations_are_rejects_and_a_byte_order_mark_is_no_reject() {
    let lake = Lake::new();
    let huge = r#"{"pipeline_id":10,"project":"p","ref":"main","created_at":"2026-10-01T10:00:00Z","duration":90,"duration_e2e":30,"builds":[{"a":9223372036854775807},{"b":1}],"jobs":[],"jobs_failed":[]}"#;
    let negative = r#"{"pipeline_id":11,"project":"p","ref":"main","created_at":"2026-10-01T10:00:00Z","duration":-90,"duration_e2e":30,"build":1,"jobs":[],"jobs_failed":[]}"#;
    let nan = r#"{"pipeline_id":12,"project":"p","ref":"main","created_at":"2026-10-01T10:00:00Z","duration":NaN,"duration_e2e":30,"build":1,"jobs":[],"jobs_failed":[]}"#;
    let big = r#"{"pipeline_id":99999999999999999999,"project":"p","ref":"main","created_at":"2026-10-01T10:00:00Z","duration":1e400,"duration_e2e":30,"build":1,"jobs":[],"jobs_failed":[]}"#;
    lake.put(
        "pipelines/dt=2026-10-01/a.ndjson",
        format!("\u{feff}{}\n{huge}\n{negative}\n{nan}\n{big}\n", pipeline(1, "bom", "2026-10-01T10:00:00Z")),
    );
    // Pretty-printed single objects are one record each.
    lake.put(
        "devops_events/dt=2026-10-01/pretty.json",
        "\u{feff}{\n  \"Time\": \"2026-10-01 10:00:00\",\n  \"Repo\": \"r\",\n  \"Event\": \"deploy\",\n  \"Metadata\": \"\"\n}\n",
    );
    lake.put(
        "perf/dt=2026-10-01/pretty.json",
        "{\n  \"_key\": 3,\n  \"git_commit\": \"1a2b3c4d\",\n  \"avg_mem\": \"1.0\",\n  \"avg_time\": \"0.1\",\n  \"unit_test_data\": \"[('test_a', 0.5, 100)]\"\n}\n",
    );
    lake.ok(&["run", "--date", "2026-10-01"]);
    let db = lake.duckdb();
    assert_eq!(rows(&db, "SELECT pipeline_id, project FROM pipelines"), vec![vec!["1", "bom"]]);
    assert_eq!(scalar(&db, "SELECT count(*) FROM devops_events"), 1);
    assert_eq!(scalar(&db, "SELECT count(*) FROM perf_samples"), 1);
    let why = reasons(&lake);
    assert_eq!(why.len(), 4, "{why:#?}");
    assert!(why.iter().any(|r| r.contains("64-bit")), "{why:#?}");
    assert!(why.iter().any(|r| r.contains("negative")), "{why:#?}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipelines WHERE build < 0 OR duration < 0"), 0);
}

#[test]
fn names_with_quotes_nul_bytes_and_markup_reach_the_report_as_text() {
    let lake = Lake::new();
    let names = ["it's", "nul\\u0000byte", "<script>alert(1)</script>", "x'); DROP TABLE pipelines; --"];
    let lines: Vec<String> = names.iter().enumerate().map(|(i, n)| pipeline(i as i64 + 1, n, "2026-10-01T10:00:00Z")).collect();
    lake.put("pipelines/dt=2026-10-01/a.ndjson", lines.join("\n"));
    lake.ok(&["run", "--date", "2026-10-01"]);
    assert_eq!(scalar(&lake.duckdb(), "SELECT count(DISTINCT project) FROM pipelines"), 4);
    let out = lake.dir.path().join("report.html");
    lake.ok(&["report", "--out", out.to_str().unwrap()]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(!html.contains("<script>alert") && !html.contains('\0'), "markup and NUL never reach the page as such");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && html.contains("it&#39;s"), "the names are drawn, escaped");
}

#[test]
fn first_delivery_wins_whatever_the_framing() {
    let lake = Lake::new();
    // The single `.json` object sorts first in landing order; the NDJSON one, later the same
    // day, redelivers the same pipeline.
    lake.put("pipelines/dt=2026-10-01/a.json", pipeline(7, "first", "2026-10-01T10:00:00Z"));
    lake.put("pipelines/dt=2026-10-01/b.ndjson", pipeline(7, "second", "2026-10-01T10:00:00Z") + "\n");
    lake.ok(&["run", "--date", "2026-10-01"]);
    let db = lake.duckdb();
    assert_eq!(rows(&db, "SELECT project FROM pipelines"), vec![vec!["first"]]);
    assert_eq!(
        rows(&db, "SELECT raw_key, accepted, duplicates FROM ingested_objects ORDER BY raw_key"),
        vec![vec!["pipelines/dt=2026-10-01/a.json", "1", "0"], vec!["pipelines/dt=2026-10-01/b.ndjson", "0", "1"]]
    );
}

#[test]
fn an_object_changed_after_ingest_is_read_again_and_counts_only_what_is_new() {
    let lake = Lake::new();
    let key = "pipelines/dt=2026-10-01/a.ndjson";
    lake.put(key, format!("{}\n{}\n", pipeline(1, "p", "2026-10-01T10:00:00Z"), pipeline(2, "p", "2026-10-01T11:00:00Z")));
    lake.ok(&["run", "--date", "2026-10-01"]);
    // Lines appended to the same key.
    let mut f = std::fs::OpenOptions::new().append(true).open(lake.raw().join(key)).unwrap();
    writeln!(f, "{}", pipeline(3, "p", "2026-10-01T12:00:00Z")).unwrap();
    drop(f);
    assert_eq!(source(&status(&lake), "pipelines")["pending"], 1, "a changed object is pending");
    lake.ok(&["run", "--date", "2026-10-01"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipelines"), 3);
    assert_eq!(
        rows(&db, "SELECT records, accepted, duplicates, rejected FROM ingested_objects ORDER BY ingested_at"),
        vec![vec!["2", "2", "0", "0"], vec!["3", "1", "2", "0"]],
        "one row per version read, the second saying what was new"
    );
    let s = status(&lake);
    let p = source(&s, "pipelines");
    assert_eq!((p["pending"].as_u64(), p["accepted_records"].as_u64(), p["duplicate_records"].as_u64()), (Some(0), Some(3), Some(2)));
    // A third run changes nothing.
    let before = common::contents(&lake.duckdb());
    lake.ok(&["run", "--date", "2026-10-01"]);
    assert_eq!(common::contents(&lake.duckdb()), before);
}

#[test]
fn events_timed_by_their_landing_stay_duplicates_when_their_object_changes() {
    let lake = Lake::new();
    // No `dt=` folder and no `Time`: the object's last-modified time times its events.
    let key = "devops_events/from-sender.ndjson";
    let event = |repo: &str| format!(r#"{{"Repo": "{repo}", "Event": "push", "Metadata": "{{}}"}}"#);
    lake.put(key, event("a") + "\n");
    lake.ok(&["ingest"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut f = std::fs::OpenOptions::new().append(true).open(lake.raw().join(key)).unwrap();
    writeln!(f, "{}", event("b")).unwrap();
    drop(f);
    lake.ok(&["ingest"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT repo FROM devops_events ORDER BY repo"),
        vec![vec!["a"], vec!["b"]],
        "the first event once, the new one added"
    );
    assert_eq!(scalar(&db, "SELECT count(DISTINCT time) FROM devops_events"), 1, "both timed by the first version's landing");
}

#[test]
fn a_pruned_key_uploaded_again_is_ingested_before_it_is_pruned() {
    let lake = Lake::new();
    config(&lake, "[sources.pipelines]\nretention_days = 0\n");
    let key = "pipelines/dt=2026-10-01/a.ndjson";
    lake.put(key, pipeline(1, "p", "2026-10-01T10:00:00Z") + "\n");
    lake.ok(&["run", "--date", "2026-10-01"]);
    assert!(!lake.raw().join(key).exists(), "ingested, then pruned");
    lake.put(key, pipeline(2, "again", "2026-10-01T10:00:00Z") + "\n");
    lake.ok(&["run", "--date", "2026-10-01"]);
    assert!(!lake.raw().join(key).exists());
    assert_eq!(rows(&lake.duckdb(), "SELECT pipeline_id FROM pipelines ORDER BY 1"), vec![vec!["1"], vec!["2"]]);
}

#[test]
fn bombs_long_records_and_deep_nesting_cost_their_object_with_the_limit_named() {
    let lake = Lake::new();
    config(&lake, "max_object_megabytes = 8\nmax_record_megabytes = 1\n");
    let ok = pipeline(1, "ok", "2026-10-01T10:00:00Z") + "\n";
    let zeros = vec![b'\n'; 64 << 20];
    lake.put("pipelines/dt=2026-10-01/a-bomb.ndjson.gz", gzip(&zeros));
    lake.put("pipelines/dt=2026-10-01/b-bomb.ndjson.zst", zstd::encode_all(&zeros[..], 3).unwrap());
    drop(zeros);
    lake.put("pipelines/dt=2026-10-01/c-big.ndjson", vec![b' '; 9 << 20]);
    lake.put(
        "pipelines/dt=2026-10-01/d-long.ndjson",
        format!("{{\"pad\":\"{}\"}}\n{}", "x".repeat(2 << 20), pipeline(2, "after", "2026-10-01T10:00:00Z")),
    );
    let nested = format!(
        r#"{{"pipeline_id":3,"project":"p","ref":"main","created_at":"2026-10-01T10:00:00Z","duration":1,"duration_e2e":1,"x":{}1{}}}"#,
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    lake.put("pipelines/dt=2026-10-01/e-nested.ndjson", nested + "\n");
    lake.put("pipelines/dt=2026-10-01/f-ok.ndjson", &ok);
    lake.put("telemetry/dt=2026-10-01/zeros.pbd", vec![0u8; 4 << 20]);
    let (out, peak) = common::run_measured(lake.cmd(&["run", "--date", "2026-10-01"]));
    common::assert_success(&out, &["run"]);
    assert!(peak < 600 << 20, "peak RSS {} MiB over a lake of bombs with 8 MiB objects", peak >> 20);
    let db = lake.duckdb();
    assert_eq!(rows(&db, "SELECT pipeline_id FROM pipelines ORDER BY 1"), vec![vec!["1"], vec!["2"]]);
    let why = reasons(&lake);
    for (key, reason) in [
        ("a-bomb.ndjson.gz", "max_object_megabytes (8 MiB)"),
        ("b-bomb.ndjson.zst", "max_object_megabytes (8 MiB)"),
        ("c-big.ndjson", "max_object_megabytes (8 MiB)"),
        ("d-long.ndjson", "max_record_megabytes (1 MiB)"),
        ("e-nested.ndjson", "nested deeper than"),
        ("zeros.pbd", "cannot be a check-in"),
    ] {
        assert!(why.iter().any(|r| r.contains(key) && r.contains(reason)), "{key}: {reason} not in {why:#?}");
    }
    assert_eq!(why.len(), 6, "one reject per bad object or record: {why:#?}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
}

#[test]
fn an_object_of_countless_bad_records_keeps_a_bounded_number_of_rejects_and_counts_them_all() {
    let lake = Lake::new();
    let lines = 60_000;
    lake.put("pipelines/dt=2026-10-01/junk.ndjson", format!("{}\n{}", pipeline(1, "p", "2026-10-01T10:00:00Z"), "x\n".repeat(lines)));
    lake.put("devops_events/dt=2026-10-01/junk.ndjson", "{\n".repeat(lines));
    // Frames just long enough for a check-in, each holding a system_id that is no UUID.
    let frame: Vec<u8> = [&[34u8, 0x0a, 32][..], &[b'Z'; 32][..]].concat();
    lake.put("telemetry/dt=2026-10-01/junk.pbd", frame.repeat(lines));
    lake.ok(&["run", "--date", "2026-10-01"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM pipelines"), 1);
    assert_eq!(
        rows(&db, "SELECT source, records, accepted, rejected FROM ingested_objects ORDER BY source"),
        vec![
            vec!["devops_events".to_string(), lines.to_string(), "0".into(), lines.to_string()],
            vec!["pipelines".to_string(), (lines + 1).to_string(), "1".into(), lines.to_string()],
            vec!["telemetry".to_string(), lines.to_string(), "0".into(), lines.to_string()],
        ]
    );
    for source in ["pipelines", "devops_events", "telemetry"] {
        let kept = scalar(&db, &format!("SELECT count(*) FROM rejects WHERE source = '{source}' AND position > 0"));
        assert!((9_000..=12_000).contains(&kept), "{source}: {kept} rejects kept, about 10,000");
        let note = rows(&db, &format!("SELECT reason FROM rejects WHERE source = '{source}' AND position = 0"));
        assert_eq!(note.len(), 1, "{source}: one row counts the rest");
        assert!(note[0][0].starts_with(&format!("{} more rejected records", lines as i64 - kept)), "{source}: {note:?}");
    }
}

#[test]
fn a_panic_while_decoding_rejects_that_object_and_ingests_the_others() {
    let lake = Lake::new();
    lake.put("pipelines/dt=2026-10-01/a.ndjson", pipeline(1, "p", "2026-10-01T10:00:00Z") + "\n");
    lake.put("pipelines/dt=2026-10-01/poison.ndjson", pipeline(2, "p", "2026-10-01T10:00:00Z") + "\n");
    lake.put("pipelines/dt=2026-10-01/z.ndjson", pipeline(3, "p", "2026-10-01T10:00:00Z") + "\n");
    let out = lake.cmd(&["--log-format", "json", "run", "--date", "2026-10-01"]).env("PIPELAKE_PANIC_ON", "poison").output().unwrap();
    common::assert_success(&out, &["run"]);
    // The panic is logged as JSON like every other line.
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "{logs}");
    assert!(logs.contains("\"panicked\"") && logs.contains("injected panic"), "{logs}");
    let db = lake.duckdb();
    assert_eq!(rows(&db, "SELECT pipeline_id FROM pipelines ORDER BY 1"), vec![vec!["1"], vec!["3"]]);
    assert_eq!(
        rows(&db, "SELECT raw_key, position, reason FROM rejects"),
        vec![vec![
            "pipelines/dt=2026-10-01/poison.ndjson",
            "0",
            "internal error: injected panic decoding pipelines/dt=2026-10-01/poison.ndjson"
        ]]
    );
    // Without the panic the next run has nothing new to read: the object was accounted for.
    lake.ok(&["run", "--date", "2026-10-01"]);
    assert_eq!(scalar(&lake.duckdb(), "SELECT count(*) FROM ingested_objects"), 3);
}

#[test]
fn query_reads_the_warehouse_and_nothing_else() {
    let lake = Lake::new();
    lake.put("pipelines/dt=2026-10-01/a.ndjson", pipeline(1, "p", "2026-10-01T10:00:00Z") + "\n");
    lake.ok(&["run", "--date", "2026-10-01"]);
    let target = lake.warehouse().join("pipelines/date=2026-10-01/extra.parquet");
    let outside = lake.dir.path().join("stolen.csv");
    std::fs::write(lake.dir.path().join("private.csv"), "secret\n42\n").unwrap();
    for sql in [
        format!("COPY (SELECT * FROM pipelines) TO '{}' (FORMAT parquet)", target.display()),
        format!("COPY (SELECT 1) TO '{}'", outside.display()),
        format!("SELECT * FROM read_csv('{}')", lake.dir.path().join("private.csv").display()),
        "SELECT * FROM read_csv('/etc/passwd')".to_string(),
        format!("ATTACH '{}' AS other", lake.dir.path().join("other.duckdb").display()),
        "INSTALL httpfs".to_string(),
        "LOAD httpfs".to_string(),
        "SELECT getenv('HOME')".to_string(),
        "SET enable_external_access = true".to_string(),
        "CREATE TABLE t AS SELECT 1".to_string(),
        "SELECT 1; COPY (SELECT 1) TO 'x.csv'".to_string(),
    ] {
        let out = lake.cmd(&["query", &sql]).output().unwrap();
        assert!(!out.status.success(), "{sql} ran: {}", String::from_utf8_lossy(&out.stdout));
        let err = String::from_utf8_lossy(&out.stderr);
        let said: Vec<&str> = err.lines().filter(|l| l.starts_with("pipelake: ")).collect();
        assert_eq!(said.len(), 1, "one line says why: {sql}: {err}");
    }
    assert!(!target.exists() && !outside.exists());
    assert!(!lake.dir.path().join("other.duckdb").exists());
    // Queries still run, DESCRIBE included, and infinite dates print instead of panicking.
    assert!(lake.ok(&["query", "SELECT count(*) AS n FROM pipelines"]).contains("1"));
    assert!(lake.ok(&["query", "DESCRIBE pipelines"]).contains("pipeline_id"));
    let inf = lake.ok(&["query", "SELECT 'infinity'::date AS a, '-infinity'::date AS b, 'infinity'::timestamp AS c", "--format", "csv"]);
    assert!(inf.contains("infinity,-infinity,"), "{inf}");
}

#[test]
fn credentials_in_the_endpoint_url_never_appear_in_output() {
    let lake = Lake::new();
    let secret = "pa55w0rd-do-not-print";
    for format in ["text", "json"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipelake"))
            .current_dir(lake.dir.path())
            .args(["--log-format", format, "--raw", "s3://bucket/raw", "--warehouse"])
            .arg(lake.warehouse())
            .args(["run", "--date", "2026-10-01"])
            .env("PIPELAKE_LOG", "debug")
            .env("AWS_ENDPOINT_URL", format!("http://admin:{secret}@127.0.0.1:9"))
            .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID")
            .env("AWS_SECRET_ACCESS_KEY", "also-a-secret-value")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        for leaked in [secret, "admin:", "AKIAEXAMPLEKEYID", "also-a-secret-value"] {
            assert!(!all.contains(leaked), "{format}: {leaked} printed in {all}");
        }
        assert!(all.contains("127.0.0.1:9"), "the endpoint itself still shows: {all}");
    }
}

#[test]
fn folders_with_spaces_quotes_globs_and_non_ascii_work_for_every_command() {
    let base = tempfile::tempdir().unwrap();
    let odd = base.path().join("we [i]rd ?* 'lake' é");
    std::fs::create_dir_all(&odd).unwrap();
    let lake = Lake { dir: tempfile::tempdir_in(&odd).unwrap() };
    lake.put("pipelines/dt=2026-10-01/a b [1].ndjson", pipeline(1, "p", "2026-10-01T10:00:00Z") + "\n");
    lake.put("pipelines/dt=2026-10-01/c?*.ndjson", pipeline(2, "p", "2026-10-01T10:00:00Z") + "\n");
    lake.ok(&["run", "--date", "2026-10-01"]);
    assert_eq!(scalar(&lake.duckdb(), "SELECT count(*) FROM pipelines"), 2);
    assert!(lake.ok(&["query", "SELECT count(*) FROM pipeline_daily"]).contains('1'));
    let report = lake.dir.path().join("r [1].html");
    lake.ok(&["report", "--out", report.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&report).unwrap().contains("<svg"));
    let status = status(&lake);
    assert_eq!(source(&status, "pipelines")["ingested"], 2);
}

#[test]
fn a_hostile_object_of_each_kind_in_a_normal_lake_costs_only_itself() {
    let clean = Lake::new();
    clean.generate(2, 60);
    clean.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);

    let lake = Lake::new();
    lake.generate(2, 60);
    config(&lake, "max_object_megabytes = 16\nmax_record_megabytes = 1\n");
    let day = "dt=2026-10-02";
    let outside = lake.dir.path().join("outside.ndjson");
    std::fs::write(&outside, pipeline(999, "outside", "2026-10-01T10:00:00Z") + "\n").unwrap();
    std::os::unix::fs::symlink(&outside, lake.raw().join(format!("pipelines/{day}/link.ndjson"))).unwrap();
    std::fs::write(lake.raw().join(format!("pipelines/{day}")).join(std::ffi::OsStr::from_bytes(b"x\xfe.ndjson")), "{}").unwrap();
    lake.put(&format!("pipelines/{day}/zz-bomb.ndjson.gz"), gzip(&vec![b'\n'; 64 << 20]));
    lake.put(&format!("telemetry/{day}/zz-zeros.pbd"), vec![0u8; 1 << 20]);
    lake.put(&format!("pipelines/{day}/zz-future.ndjson"), pipeline(5_000_001, "p", "9999-12-31T23:30:00-01:00") + "\n");
    lake.put(&format!("pipelines/{day}/zz-nested.ndjson"), format!(r#"{{"pipeline_id":5000002,"x":{}}}"#, "[".repeat(100_000)) + "\n");
    lake.put(&format!("pipelines/{day}/zz-long.ndjson"), "x".repeat(2 << 20));
    lake.put(&format!("commits/{day}/zz.log"), "abc1234 - Ann, Sat Jan 1 00:00:00 99999 +0000 : far\n");
    lake.put(
        &format!("devops_events/{day}/zz.ndjson"),
        r#"{"Time": "2026-10-02 10:00:00", "Repo": "r", "Event": "push", "Metadata": "x"}"#,
    );
    lake.put("pipelines/dt=99999-01-01/zz.ndjson", "not json\n");

    let (out, peak) = common::run_measured(lake.cmd(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]));
    common::assert_success(&out, &["run"]);
    assert!(peak < 1 << 30, "peak RSS {} MiB", peak >> 20);
    let (a, b) = (clean.duckdb(), lake.duckdb());
    // Every normal record is there, as in the clean lake.
    for table in ["pipelines", "pipeline_jobs", "telemetry_checkins", "telemetry_components", "commits", "perf_samples", "pipeline_daily"] {
        let sql = format!("SELECT * FROM {table} ORDER BY ALL");
        assert_eq!(rows(&a, &sql), rows(&b, &sql), "{table}");
    }
    // The devops event is new and counted; each hostile object is accounted for with its reason.
    assert_eq!(scalar(&b, "SELECT count(*) FROM devops_events") - scalar(&a, "SELECT count(*) FROM devops_events"), 1);
    let hostile = rows(&b, "SELECT raw_key || ': ' || reason FROM rejects WHERE raw_key LIKE '%zz%' ORDER BY 1");
    let hostile: Vec<String> = hostile.into_iter().map(|r| r[0].clone()).collect();
    for (key, reason) in [
        ("zz-bomb.ndjson.gz", "max_object_megabytes"),
        ("zz-zeros.pbd", "cannot be a check-in"),
        ("zz-future.ndjson", "outside the years 1 to 9999"),
        ("zz-nested.ndjson", "nested deeper"),
        ("zz-long.ndjson", "max_record_megabytes"),
        ("zz.log", "git date"),
        ("dt=99999-01-01/zz.ndjson", "invalid payload"),
    ] {
        assert!(hostile.iter().any(|r| r.contains(key) && r.contains(reason)), "{key}: {reason} not in {hostile:#?}");
    }
    let skipped = source(&status(&lake), "pipelines")["skipped"].as_array().unwrap().len();
    assert_eq!(skipped, 2, "the link and the name that is not UTF-8");
    assert_eq!(scalar(&b, "SELECT count(*) FROM pipelines WHERE pipeline_id = 999"), 0);
    // A second run changes nothing.
    let before = common::contents(&b);
    let files_before = common::files(&lake.warehouse());
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    assert_eq!(common::contents(&lake.duckdb()), before);
    assert_eq!(common::files(&lake.warehouse()).len(), files_before.len());
}
