//! What a run tells the people and log collectors watching it: one JSON line per stage with what
//! it read, wrote, deduplicated and rejected and how long it took; `status` as JSON; a raw
//! prefix that does not exist is nothing to do, not an error.

mod common;

use common::{assert_success, Lake};
use serde_json::Value;

#[test]
fn json_logs_say_per_stage_what_was_done() {
    let lake = Lake::new();
    lake.generate(2, 60);
    let out = lake.cmd(&["--log-format", "json", "run", "--date", "2026-10-02"]).env("PIPELAKE_LOG", "info").output().unwrap();
    assert_success(&out, &["run"]);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let messages = |m: &str| lines.iter().filter(move |l| l["message"] == m).collect::<Vec<_>>();
    let ingested = messages("ingest done");
    assert_eq!(ingested.len(), pipelake::sources::all().len(), "one per source");
    for l in &ingested {
        for field in ["source", "objects", "bytes", "records", "accepted", "duplicates", "rejected", "skipped", "rows_written", "seconds"] {
            assert!(!l[field].is_null(), "ingest done without {field}: {l}");
        }
        let counted = l["accepted"].as_u64().unwrap()
            + l["duplicates"].as_u64().unwrap()
            + l["rejected"].as_u64().unwrap()
            + l["skipped"].as_u64().unwrap();
        assert_eq!(l["records"].as_u64().unwrap(), counted, "{l}");
    }
    assert!(ingested.iter().any(|l| l["rows_written"].as_str().unwrap().contains("pipelines=")), "{ingested:?}");
    let summarized = messages("summarized");
    assert_eq!(summarized.len(), pipelake::summaries::all().len(), "one per summary table");
    assert!(summarized.iter().all(|l| l["table"].is_string() && l["rows"].is_u64() && l["seconds"].is_f64()));
    let pruned = messages("prune done");
    assert_eq!(pruned.len(), 1);
    assert!(pruned[0]["seconds"].is_f64());
    // The command's report on stdout is one JSON document too.
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["ingest"]["sources"].is_array() && report["summarize"]["tables"].is_array());

    let status: Value = serde_json::from_str(&lake.ok(&["status", "--format", "json"])).unwrap();
    assert!(
        status["sources"].as_array().unwrap().iter().any(|s| s["source"] == "pipelines" && s["ingested"].as_u64() > Some(0)),
        "{status}"
    );
    assert!(
        status["tables"].as_array().unwrap().iter().any(|t| t["table"] == "pipeline_daily" && t["rows"].as_u64() > Some(0)),
        "{status}"
    );
}

#[test]
fn a_raw_prefix_that_does_not_exist_is_nothing_to_do() {
    let lake = Lake::new();
    let out = lake.cmd(&["--log-format", "json", "run", "--date", "2026-10-02"]).output().unwrap();
    assert_success(&out, &["run"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["ingest"]["sources"].as_array().unwrap().iter().all(|s| s["objects"] == 0), "{report}");
    assert!(!lake.raw().exists(), "a reading command does not create the raw root");
}

/// Issue 18: `query` without its SQL said "the following required arguments were not
/// provided:" and listed nothing.
#[test]
fn a_missing_argument_is_named_on_the_one_line_of_a_usage_error() {
    let lake = Lake::new();
    let out = lake.cmd(&["query"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end(), "pipelake: the following required arguments were not provided: <SQL> (see pipelake --help)");
}
