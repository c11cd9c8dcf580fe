//! The commits source end to end: git-monitoring-server JSON and plain `git log` text, separators
//! inside names and messages, offsets to UTC, dedup on project and hash across deliveries.

mod common;

use common::{rows, scalar, Lake};

#[test]
fn git_history_in_both_forms() {
    let lake = Lake::new();
    let entry = |hash: &str, author: &str, date: &str, message: &str| {
        serde_json::json!({"hash": hash, "author": author, "date": date, "message": message}).to_string()
    };
    let project = serde_json::json!({"name": "pulp", "url": "https://github.com/pulp/pulpcore", "commits": [
        entry("1A2B3C4D5E6F7A8B9C0D1A2B3C4D5E6F7A8B9C0D", "Jane Doe", "Sat May 25 11:04:54 2019 +0100", "Fix the build"),
        entry("0000000000000000000000000000000000000001", "Bob", "2019-05-26T08:00:00-07:00", "Add : colons"),
        "{not json".to_string(),
    ]});
    lake.put("commits/dt=2019-05-27/pulp.json", project.to_string());
    lake.put(
        "commits/dt=2019-05-27/pulp-cli.git.log",
        [
            "deadbeef - Smith - Jones, Anna, Mon May 27 09:00:00 2019 -0700 : fix: a : b - c",
            "cafef00d - O'Brien, Pat, Sun May 26 23:30:00 2019 +0530 : Revert \"x, Sun May 26 23:30:00 2019 +0530 : y\"",
            "cafef00d - O'Brien, Pat, Sun May 26 23:30:00 2019 +0530 : Revert \"x, Sun May 26 23:30:00 2019 +0530 : y\"",
            "not a git log line",
        ]
        .join("\n"),
    );
    lake.ok(&["ingest"]);
    // The same history delivered again the next day: nothing new.
    lake.put("commits/dt=2019-05-28/pulp-cli.log", "deadbeef - Smith - Jones, Anna, Mon May 27 09:00:00 2019 -0700 : fix: a : b - c\n");
    lake.ok(&["ingest"]);

    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT date, project, hash, author, authored_at, message FROM commits ORDER BY authored_at"),
        vec![
            vec!["2019-05-25", "pulp", "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d", "Jane Doe", "2019-05-25 10:04:54", "Fix the build"],
            vec!["2019-05-26", "pulp", "0000000000000000000000000000000000000001", "Bob", "2019-05-26 15:00:00", "Add : colons"],
            vec![
                "2019-05-26",
                "pulp-cli",
                "cafef00d",
                "O'Brien, Pat",
                "2019-05-26 18:00:00",
                "Revert \"x, Sun May 26 23:30:00 2019 +0530 : y\""
            ],
            vec!["2019-05-27", "pulp-cli", "deadbeef", "Smith - Jones, Anna", "2019-05-27 16:00:00", "fix: a : b - c"],
        ]
    );
    assert_eq!(
        rows(&db, "SELECT split_part(raw_key, '/', 3), position, split_part(reason, ':', 1) FROM rejects ORDER BY ALL"),
        vec![vec!["pulp-cli.git.log", "4", "no \" - \" after the hash"], vec!["pulp.json", "3", "commit entry is not JSON"]]
    );
    assert_eq!(
        rows(&db, "SELECT split_part(raw_key, '/', 3), records, accepted, duplicates, rejected FROM ingested_objects ORDER BY raw_key"),
        vec![vec!["pulp-cli.git.log", "4", "2", "1", "1"], vec!["pulp.json", "3", "2", "0", "1"], vec!["pulp-cli.log", "1", "0", "1", "0"],]
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
}

#[test]
fn unreadable_objects_are_rejected_whole() {
    let lake = Lake::new();
    lake.put("commits/dt=2019-05-27/broken.json", "{\"name\": \"x\", \"commits\": [");
    lake.put("commits/dt=2019-05-27/history.csv", "a,b");
    lake.ok(&["ingest"]);
    let db = lake.duckdb();
    let reasons: Vec<String> = rows(&db, "SELECT reason FROM rejects ORDER BY raw_key").into_iter().map(|r| r[0].clone()).collect();
    assert!(reasons[0].starts_with("invalid JSON"), "{reasons:?}");
    assert!(reasons[1].starts_with("unsupported object type"), "{reasons:?}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM commits"), 0);
}
