//! The devops_events source end to end: time spellings, missing Time, metadata, derived and
//! unknown events, exact duplicates across history.

mod common;

use common::{rows, scalar, Lake};

#[test]
fn events_are_decoded_deduplicated_and_accounted_for() {
    let lake = Lake::new();
    let push = r#"{"Time": "2026-10-01 10:00:00", "Repo": "api", "Event": "push", "Metadata": "{\"pass\": true, \"commit_id\": \"c1\"}"}"#;
    lake.put(
        "devops_events/dt=2026-10-01/events.ndjson",
        [
            push,
            push,
            r#"{"Time": "2026-10-01T12:00:00Z", "Repo": "api", "Event": "deploy", "Metadata": "{\"commit_ids\": [\"c1\", \"c9\"]}"}"#,
            r#"{"Time": "2026-10-01 12:30:00", "Repo": "ALL", "Event": "test_run", "Metadata": "not json"}"#,
            r#"{"Time": "2026-10-01 23:59:00", "Repo": "ALL", "Event": "calc_deploy_frequency", "Metadata": "2.0"}"#,
            r#"{"Time": "2026-10-01 23:59:00", "Repo": "api", "Event": "build"}"#,
            r#"{"Time": "noon", "Repo": "api", "Event": "push"}"#,
        ]
        .join("\n"),
    );
    lake.put(
        "devops_events/dt=2026-10-01/dump.json",
        r#"[{"Repo": "web", "Event": "test_pass"}, {"Repo": "web", "Event": "push", "Metadata": ""}]"#,
    );
    lake.ok(&["ingest"]);
    // The same push again, days later: a duplicate across history.
    lake.put("devops_events/dt=2026-10-03/late.ndjson", push);
    lake.ok(&["ingest"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT time, repo, event, metadata, commit_ids, time_from_landing FROM devops_events ORDER BY time, repo, event"),
        vec![
            vec!["2026-10-01 00:00:00".to_string(), "web".into(), "push".into(), "".into(), "[]".into(), "true".into()],
            vec!["2026-10-01 00:00:00".to_string(), "web".into(), "test_pass".into(), "NULL".into(), "[]".into(), "true".into()],
            vec![
                "2026-10-01 10:00:00".to_string(),
                "api".into(),
                "push".into(),
                r#"{"pass": true, "commit_id": "c1"}"#.into(),
                "[c1]".into(),
                "false".into()
            ],
            vec![
                "2026-10-01 12:00:00".to_string(),
                "api".into(),
                "deploy".into(),
                r#"{"commit_ids": ["c1", "c9"]}"#.into(),
                "[c1, c9]".into(),
                "false".into()
            ],
            vec!["2026-10-01 12:30:00".to_string(), "ALL".into(), "test_run".into(), "not json".into(), "[]".into(), "false".into()],
        ]
    );
    let reasons: Vec<String> = rows(&db, "SELECT reason FROM rejects ORDER BY position")
        .into_iter()
        .map(|r| r[0].split([':', ' ']).next().unwrap().to_string())
        .collect();
    assert_eq!(reasons, vec!["derived_event", "unknown", "Time"]);
    assert_eq!(scalar(&db, "SELECT sum(duplicates) FROM ingested_objects"), 2);
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
    assert_eq!(scalar(&db, "SELECT sum(records) FROM ingested_objects"), 10);
}
