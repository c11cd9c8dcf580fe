//! The perf source end to end: messages to `perf_samples`, the resource/trace join, per-commit
//! totals and commit-to-commit changes, each recomputed by DuckDB SQL as the oracle.

mod common;

use common::{rows, scalar, Lake};

fn resource(key: i64, commit: &str, tests: &str) -> String {
    serde_json::json!({"_key": key, "git_commit": commit, "avg_mem": "1.0", "avg_time": "0.1", "unit_test_data": tests}).to_string()
}

fn trace(key: i64, commit: &str, tests: &str) -> String {
    serde_json::json!({"_key": key, "git_commit": commit, "total_function_calls": "1", "total_no_statements_executed": "2",
        "conditional_encode_value": "0", "total_no_iterations": "3", "unit_test_data": tests})
    .to_string()
}

/// `perf_tests` from `perf_samples`: per commit and test, each side's first figures in landing order.
const TESTS_ORACLE: &str = "
WITH r AS (
    SELECT date, git_commit, test_name, arg_min(execution_time_s, message_seq) AS t, arg_min(memory_rss_bytes, message_seq) AS m,
        min(commit_seq) AS cs
    FROM perf_samples WHERE kind = 'resource' GROUP BY ALL),
tr AS (
    SELECT date, git_commit, test_name, arg_min(function_calls, message_seq) AS fc, arg_min(statements_executed, message_seq) AS se,
        arg_min(iterations, message_seq) AS it, arg_min(condition_encoding, message_seq) AS ce, arg_min(result, message_seq) AS res,
        min(commit_seq) AS cs
    FROM perf_samples WHERE kind = 'trace' GROUP BY ALL)
SELECT coalesce(r.date, tr.date), coalesce(r.git_commit, tr.git_commit), coalesce(r.test_name, tr.test_name), r.t, r.m,
    tr.fc, tr.se, tr.it, tr.ce, tr.res = 0, coalesce(r.cs, tr.cs)
FROM r FULL JOIN tr ON r.date = tr.date AND r.git_commit = tr.git_commit AND r.test_name = tr.test_name
ORDER BY ALL";
const TESTS: &str = "SELECT date, git_commit, test_name, execution_time_s, memory_rss_bytes, function_calls, statements_executed,
    iterations, condition_encoding, passed, commit_seq FROM perf_tests ORDER BY ALL";

const COMMITS_ORACLE: &str = "
SELECT date, git_commit, count(*), count(*) FILTER (WHERE passed), count(*) FILTER (WHERE NOT passed), round(sum(execution_time_s), 9),
    round(avg(execution_time_s), 9), round(avg(memory_rss_bytes), 6), min(commit_seq)
FROM perf_tests GROUP BY ALL ORDER BY ALL";
// Sums of floats: polars and DuckDB add in different orders, equal to 9 decimals.
const COMMITS: &str = "SELECT date, git_commit, tests, passed, failed, round(total_time_s, 9), round(avg_time_s, 9),
    round(avg_memory_bytes, 6), commit_seq FROM perf_commits ORDER BY ALL";

const CHANGES_ORACLE: &str = "
WITH ordered AS (
    SELECT *, lag(git_commit) OVER w AS prev_commit, lag(execution_time_s) OVER w AS prev_t, lag(memory_rss_bytes) OVER w AS prev_m,
        lag(date) OVER w AS prev_date
    FROM perf_tests WINDOW w AS (PARTITION BY test_name ORDER BY commit_seq))
SELECT date, git_commit, test_name, prev_commit, execution_time_s, prev_t, execution_time_s - prev_t, memory_rss_bytes, prev_m,
    memory_rss_bytes - prev_m
FROM ordered WHERE prev_commit IS NOT NULL AND prev_date >= date - 30
ORDER BY ALL";
const CHANGES: &str = "SELECT date, git_commit, test_name, previous_commit, execution_time_s, previous_execution_time_s,
    execution_time_change_s, memory_rss_bytes, previous_memory_rss_bytes, memory_change_bytes FROM perf_test_changes ORDER BY ALL";

#[test]
fn perf_tables_match_duckdb_recomputation_on_a_generated_lake() {
    let lake = Lake::new();
    lake.ok(&["generate", "--source", "perf", "--days", "8", "--per-day", "450", "--start", "2026-10-01"]);
    lake.ok(&["run", "--date", "2026-10-08"]);
    let db = lake.duckdb();
    let tests = rows(&db, TESTS);
    assert!(tests.len() > 2000, "{} tests", tests.len());
    assert_eq!(tests, rows(&db, TESTS_ORACLE));
    assert_eq!(rows(&db, COMMITS), rows(&db, COMMITS_ORACLE));
    let changes = rows(&db, CHANGES);
    assert!(changes.len() > 1000, "{} changes", changes.len());
    assert_eq!(changes, rows(&db, CHANGES_ORACLE));
    // The generator drops the odd test from a resource message and breaks the odd literal.
    assert!(scalar(&db, "SELECT count(*) FROM perf_tests WHERE execution_time_s IS NULL") > 0);
    assert!(scalar(&db, "SELECT count(*) FROM rejects WHERE source = 'perf' AND reason LIKE 'unit_test_data:%'") > 0);
    assert!(scalar(&db, "SELECT sum(duplicates) FROM ingested_objects WHERE source = 'perf'") > 0);
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
}

#[test]
fn a_commit_spanning_days_joins_on_its_first_day_and_redeliveries_count_once() {
    let lake = Lake::new();
    let first = resource(1, "aaaa1111", "[(u'test_a', 0.5, 1000L), (u'test_b', 0.25, 2000L)]");
    lake.put("perf/dt=2026-10-01/a.ndjson", [first.as_str(), &trace(1, "aaaa1111", "[('test_a', 1, 2, 3, 0, 0)]")].join("\n"));
    lake.ok(&["run", "--date", "2026-10-01"]);
    // The next day: the rest of that commit's trace, the first message again, a newer commit
    // and a message whose literal is broken.
    lake.put(
        "perf/dt=2026-10-02/b.ndjson",
        [
            trace(2, "aaaa1111", "[('test_b', 4, 5, 6, 0, 1)]"),
            first.clone(),
            resource(1, "bbbb2222", "[('test_a', 0.75, 1500), ('test_c', 1, 1)]"),
            resource(2, "bbbb2222", "[('test_a', 0.75, 1500), ('test_c' 1, 1)]"),
        ]
        .join("\n"),
    );
    lake.ok(&["run", "--date", "2026-10-02"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(
            &db,
            "SELECT date, git_commit, test_name, execution_time_s, memory_rss_bytes, function_calls, passed FROM perf_tests ORDER BY ALL"
        ),
        vec![
            vec!["2026-10-01", "aaaa1111", "test_a", "0.5", "1000", "1", "true"],
            vec!["2026-10-01", "aaaa1111", "test_b", "0.25", "2000", "4", "false"],
            vec!["2026-10-02", "bbbb2222", "test_a", "0.75", "1500", "NULL", "NULL"],
            vec!["2026-10-02", "bbbb2222", "test_c", "1", "1", "NULL", "NULL"],
        ]
    );
    assert_eq!(
        rows(&db, "SELECT git_commit, tests, passed, failed, total_time_s FROM perf_commits ORDER BY commit_seq"),
        vec![vec!["aaaa1111", "2", "1", "1", "0.75"], vec!["bbbb2222", "2", "0", "0", "1.75"]]
    );
    assert_eq!(
        rows(&db, "SELECT git_commit, test_name, previous_commit, execution_time_change_s, memory_change_bytes FROM perf_test_changes"),
        vec![vec!["bbbb2222", "test_a", "aaaa1111", "0.25", "500"]]
    );
    assert_eq!(
        rows(&db, "SELECT split_part(raw_key, '/', 3), position, reason FROM rejects"),
        vec![vec!["b.ndjson", "4", "unit_test_data: expected ',' or ')' at byte 35, found '1'"]]
    );
    assert_eq!(scalar(&db, "SELECT sum(duplicates) FROM ingested_objects"), 1);
}
