//! DORA metrics end to end: `dora_deployments` and `dora_daily` recomputed by DuckDB SQL from
//! `devops_events` (the oracle), the toolkit's own lead-time scenario, late events, backfill.

mod common;

use common::{rows, scalar, Lake};

/// An NDJSON line of one event.
fn event(time: &str, repo: &str, kind: &str, metadata: &str) -> String {
    serde_json::json!({"Time": time, "Repo": repo, "Event": kind, "Metadata": metadata}).to_string()
}

/// `dora_deployments` by the toolkit's rule, in SQL: for each commit a deploy names, the latest
/// push of that repo naming it, at or before the deploy and not before the 90-day lookback.
const DEPLOYMENTS_ORACLE: &str = "
WITH deploys AS (
    SELECT row_number() OVER () AS id, time, repo, commit_ids FROM devops_events WHERE event = 'deploy'),
named AS (
    SELECT id, time, repo, unnest(commit_ids) AS commit_id, unnest(range(len(commit_ids))) AS k FROM deploys),
pushes AS (
    SELECT time AS push_time, repo, unnest(commit_ids) AS commit_id FROM devops_events WHERE event = 'push'),
matched AS (
    SELECT n.id, n.k, epoch(any_value(n.time)) - epoch(max(p.push_time)) AS seconds
    FROM named n JOIN pushes p ON p.repo = n.repo AND p.commit_id = n.commit_id
        AND p.push_time <= n.time AND p.push_time::DATE >= n.time::DATE - 90
    GROUP BY n.id, n.k),
candidates AS (
    SELECT n.id, n.k, n.time, c.hash, c.authored_at
    FROM named n JOIN commits c ON c.project = n.repo
        AND ((len(n.commit_id) >= 7 AND starts_with(c.hash, lower(n.commit_id)))
          OR (len(c.hash) >= 7 AND len(c.hash) < len(n.commit_id) AND starts_with(lower(n.commit_id), c.hash)))),
known AS (
    SELECT id, k, any_value(time) AS time, arg_max(hash, len(hash)) AS longest, arg_max(authored_at, len(hash)) AS authored_at,
        list(hash) AS hashes
    FROM candidates GROUP BY id, k),
authored AS (
    SELECT id, epoch(time) - epoch(authored_at) AS seconds FROM known
    WHERE list_bool_and(list_transform(hashes, h -> starts_with(longest, h)))
        AND authored_at <= time AND authored_at::DATE >= time::DATE - 90)
SELECT d.time::DATE AS date, d.repo, d.time AS deploy_time, len(d.commit_ids) AS commits,
    (SELECT count(*) FROM matched m WHERE m.id = d.id) AS commits_matched,
    (SELECT median(seconds) FROM matched m WHERE m.id = d.id) AS lead_time_seconds,
    (SELECT count(*) FROM authored a WHERE a.id = d.id) AS commits_known,
    (SELECT median(seconds) FROM authored a WHERE a.id = d.id) AS commit_lead_time_seconds
FROM deploys d
ORDER BY ALL";

/// `dora_daily` in SQL, for the days and repos pipelake wrote: the toolkit's weekly median of
/// weekdays with a deploy over the weeks from (day - 30) to day, and the 30-day lead time median.
const DAILY_ORACLE: &str = "
WITH deps AS (
    SELECT repo, date, lead_time_seconds FROM dora_deployments
    UNION ALL SELECT '*', date, lead_time_seconds FROM dora_deployments),
days AS (SELECT DISTINCT date AS day FROM dora_daily),
active AS (
    SELECT DISTINCT day, repo FROM days JOIN deps
        ON deps.date BETWEEN date_trunc('week', day - 30)::DATE AND day),
weeks AS (
    SELECT day, unnest(generate_series(date_trunc('week', day - 30), date_trunc('week', day), INTERVAL 7 DAY))::DATE AS week
    FROM days),
weekly AS (
    SELECT a.day, a.repo, w.week,
        (SELECT count(DISTINCT date) FROM deps
         WHERE deps.repo = a.repo AND date >= w.week AND date < w.week + 7 AND date <= a.day AND isodow(date) <= 5) AS n
    FROM active a JOIN weeks w USING (day)),
frequency AS (SELECT day, repo, median(n) AS f FROM weekly GROUP BY ALL),
recent AS (
    SELECT a.day, a.repo,
        count(*) FILTER (WHERE d.date = a.day) AS deploys,
        count(*) FILTER (WHERE d.date >= a.day - 29) AS deploys_30d,
        count(DISTINCT d.date) FILTER (WHERE d.date >= a.day - 29) AS deploy_days_30d,
        median(d.lead_time_seconds) FILTER (WHERE d.date >= a.day - 29) AS lead
    FROM active a JOIN deps d ON d.repo = a.repo AND d.date BETWEEN date_trunc('week', a.day - 30)::DATE AND a.day
    GROUP BY ALL)
SELECT r.day, r.repo, r.deploys, r.deploys_30d, r.deploy_days_30d, f.f,
    CASE WHEN f.f >= 5 THEN 'elite' WHEN f.f >= 1 THEN 'high' WHEN r.deploy_days_30d >= 1 THEN 'medium' ELSE 'low' END,
    r.lead,
    CASE WHEN r.lead IS NULL THEN NULL WHEN r.lead < 86400 THEN 'elite' WHEN r.lead < 7 * 86400 THEN 'high'
         WHEN r.lead < 30 * 86400 THEN 'medium' ELSE 'low' END
FROM recent r JOIN frequency f USING (day, repo)
ORDER BY ALL";

const DAILY: &str = "SELECT date, repo, deploys, deploys_30d, deploy_days_30d, deploy_frequency_30d, deploy_frequency_class,
    lead_time_median_seconds_30d, lead_time_class FROM dora_daily ORDER BY ALL";
const DEPLOYMENTS: &str = "SELECT date, repo, deploy_time, commits, commits_matched, lead_time_seconds, commits_known,
    commit_lead_time_seconds FROM dora_deployments ORDER BY ALL";

#[test]
fn dora_tables_match_duckdb_recomputation_on_a_generated_lake() {
    let lake = Lake::new();
    lake.ok(&["generate", "--source", "devops_events", "--source", "commits", "--days", "45", "--per-day", "120", "--start", "2026-10-01"]);
    // Pushes days before the deploys naming them, across repos and chunk boundaries.
    let mut late = Vec::new();
    for i in 0..40 {
        let day = format!("2026-10-{:02}", 1 + i % 28);
        late.push(event(&format!("{day} 08:00:00"), "mobile", "push", &format!(r#"{{"commit_id": "m{i}"}}"#)));
    }
    late.push(event("2026-11-10 09:00:00", "mobile", "deploy", r#"{"commit_ids": ["m1", "m2", "m3", "m30", "nope"]}"#));
    lake.put("devops_events/dt=2026-11-14/mobile.ndjson", late.join("\n"));
    lake.ok(&["run", "--date", "2026-11-14"]);
    let db = lake.duckdb();
    let deployments = rows(&db, DEPLOYMENTS);
    assert!(deployments.len() > 500, "{} deploys", deployments.len());
    assert_eq!(deployments, rows(&db, DEPLOYMENTS_ORACLE));
    assert!(scalar(&db, "SELECT count(*) FROM dora_deployments WHERE lead_time_seconds IS NULL") > 0);
    assert!(scalar(&db, "SELECT count(*) FROM dora_deployments WHERE commits_matched > 1") > 0);
    // The commits source knows the pushed commits: full hashes (JSON) and 8-character ones (git log).
    assert!(scalar(&db, "SELECT count(*) FROM dora_deployments WHERE commits_known > 0 AND repo = 'api'") > 0);
    assert!(scalar(&db, "SELECT count(*) FROM dora_deployments WHERE commits_known > 0 AND repo = 'web'") > 0);

    let daily = rows(&db, DAILY);
    assert_eq!(daily, rows(&db, DAILY_ORACLE));
    // Every day from the first event to the last has its rows, all repos together included.
    assert_eq!(scalar(&db, "SELECT count(DISTINCT date) FROM dora_daily WHERE repo = '*'"), 45);
    assert!(scalar(&db, "SELECT count(*) FROM dora_daily WHERE deploy_frequency_30d >= 1") > 0);
    assert!(scalar(&db, "SELECT count(DISTINCT deploy_frequency_class) FROM dora_daily") >= 2);
}

#[test]
fn toolkit_lead_time_scenario_and_a_deploy_without_pushes() {
    // The toolkit's own test: commits pushed 2, 6 and 1 days before the deploy, median 2 days.
    // Its commit ids are numbers.
    let lake = Lake::new();
    let lines = [
        event("2024-01-07 17:31:41", "test_repo", "push", r#"{"commit_id": 100}"#),
        event("2024-01-03 17:31:41", "test_repo", "push", r#"{"commit_id": 200}"#),
        event("2024-01-08 17:31:41", "test_repo", "push", r#"{"commit_id": 300}"#),
        event("2024-01-09 17:31:41", "test_repo", "deploy", r#"{"commit_ids": [100, 200, 300]}"#),
        event("2024-01-09 18:00:00", "other", "deploy", r#"{"commit_ids": ["never-pushed"]}"#),
        event("2024-01-10 12:00:00", "other", "deploy", "not json"),
    ];
    lake.put("devops_events/dt=2024-01-10/events.ndjson", lines.join("\n"));
    lake.ok(&["run", "--date", "2024-01-10"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT repo, commits, commits_matched, lead_time_seconds FROM dora_deployments ORDER BY deploy_time"),
        vec![
            vec!["test_repo".to_string(), "3".into(), "3".into(), "172800".into()],
            vec!["other".to_string(), "1".into(), "0".into(), "NULL".into()],
            vec!["other".to_string(), "0".into(), "0".into(), "NULL".into()],
        ]
    );
    // Deploys without a lead time still count as deploys.
    assert_eq!(
        rows(&db, "SELECT date, repo, deploys, lead_time_median_seconds_30d, lead_time_class FROM dora_daily ORDER BY ALL"),
        vec![
            vec!["2024-01-09".to_string(), "*".into(), "2".into(), "172800".into(), "high".into()],
            vec!["2024-01-09".to_string(), "other".into(), "1".into(), "NULL".into(), "NULL".into()],
            vec!["2024-01-09".to_string(), "test_repo".into(), "1".into(), "172800".into(), "high".into()],
            vec!["2024-01-10".to_string(), "*".into(), "1".into(), "172800".into(), "high".into()],
            vec!["2024-01-10".to_string(), "other".into(), "1".into(), "NULL".into(), "NULL".into()],
            vec!["2024-01-10".to_string(), "test_repo".into(), "0".into(), "172800".into(), "high".into()],
        ]
    );
}

/// Deploy lines of `repo` on the given days at noon.
fn deploys(repo: &str, days: &[&str]) -> String {
    days.iter().map(|d| event(&format!("{d} 12:00:00"), repo, "deploy", r#"{"commit_ids": []}"#)).collect::<Vec<_>>().join("\n")
}

#[test]
fn late_events_resummarise_every_day_whose_window_they_fall_in() {
    let early = deploys("api", &["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]);
    let later = deploys("api", &["2026-10-20", "2026-11-02", "2026-11-03", "2026-11-09", "2026-11-12"]);
    // Landed days later in a newer folder: a deploy of 2026-10-08 and a push its commit names.
    let late = [
        event("2026-10-08 09:00:00", "api", "push", r#"{"commit_id": "c1"}"#),
        event("2026-10-08 10:00:00", "api", "deploy", r#"{"commit_ids": ["c1"]}"#),
    ]
    .join("\n");

    let nightly = Lake::new();
    nightly.put("devops_events/dt=2026-10-07/a.ndjson", &early);
    nightly.put("devops_events/dt=2026-11-12/b.ndjson", &later);
    nightly.ok(&["run", "--date", "2026-11-12"]);
    let before = rows(&nightly.duckdb(), DAILY);
    nightly.put("devops_events/dt=2026-11-13/late.ndjson", &late);
    nightly.ok(&["run", "--date", "2026-11-13"]);

    let at_once = Lake::new();
    at_once.put("devops_events/dt=2026-10-07/a.ndjson", &early);
    at_once.put("devops_events/dt=2026-11-12/b.ndjson", &later);
    at_once.put("devops_events/dt=2026-11-13/late.ndjson", &late);
    at_once.ok(&["run", "--date", "2026-11-13"]);

    let (nightly_db, at_once_db) = (nightly.duckdb(), at_once.duckdb());
    let after = rows(&nightly_db, DAILY);
    assert_eq!(after, rows(&at_once_db, DAILY));
    assert_eq!(rows(&nightly_db, DEPLOYMENTS), rows(&at_once_db, DEPLOYMENTS));
    assert_eq!(after, rows(&nightly_db, DAILY_ORACLE));
    // The late deploy moved the 30-day figures of days weeks after it, not only its own day.
    let changed: Vec<&Vec<String>> = after.iter().filter(|r| !before.contains(r)).collect();
    assert!(changed.iter().any(|r| r[0] == "2026-11-06" && r[1] == "api"), "{changed:?}");
    assert!(changed.iter().all(|r| r[0].as_str() >= "2026-10-08"), "{changed:?}");
}

#[test]
fn summarize_backfills_a_range_of_dora_daily() {
    let lake = Lake::new();
    lake.ok(&["generate", "--source", "devops_events", "--days", "20", "--per-day", "60", "--start", "2026-10-01"]);
    let full = Lake::new();
    lake.ok(&["ingest"]);
    lake.ok(&["summarize", "--table", "dora_deployments"]);
    lake.ok(&["summarize", "--table", "dora_daily", "--from", "2026-10-10", "--to", "2026-10-12"]);
    full.ok(&["generate", "--source", "devops_events", "--days", "20", "--per-day", "60", "--start", "2026-10-01"]);
    full.ok(&["run", "--date", "2026-10-20"]);
    let got = rows(&lake.duckdb(), DAILY);
    let want: Vec<Vec<String>> =
        rows(&full.duckdb(), DAILY).into_iter().filter(|r| ("2026-10-10".."2026-10-13").contains(&r[0].as_str())).collect();
    assert!(!got.is_empty());
    assert_eq!(got, want);
}
