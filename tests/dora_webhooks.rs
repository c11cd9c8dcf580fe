//! The five DORA keys from webhook deliveries, end to end through the binary: each definition of
//! METRICS.md pinned on a small timeline worked out by hand here; the same deliveries redelivered,
//! out of order and split over landing days give the same tables; every summary of a generated
//! lake recomputed by DuckDB SQL over the fact tables.

mod common;

use common::{rows, scalar, Lake};
use serde_json::{json, Value};

const REPO: &str = "acme/app";

fn sha(c: char) -> String {
    std::iter::repeat_n(c, 40).collect()
}

/// An envelope line as a relay writes it.
fn envelope(event: &str, delivery: &str, payload: Value) -> String {
    json!({"event": event, "delivery": delivery, "received_at": "2026-10-05T00:00:00Z", "payload": payload}).to_string()
}

fn push(id: &str, before: &str, after: &str, pushed_at: i64, commits: &[(&str, &str, &str)]) -> String {
    let commits: Vec<Value> = commits.iter().map(|(id, ts, message)| json!({"id": id, "timestamp": ts, "message": message})).collect();
    envelope(
        "push",
        id,
        json!({"ref": "refs/heads/main", "before": before, "after": after, "commits": commits, "head_commit": commits.last(), "repository": {"full_name": REPO, "pushed_at": pushed_at}}),
    )
}

#[allow(clippy::too_many_arguments)]
fn status(id: &str, deployment: i64, sha: &str, environment: &str, production: bool, created: &str, state: &str, at: &str) -> String {
    envelope(
        "deployment_status",
        id,
        json!({"action": "created", "deployment_status": {"id": id.len() as i64 * 1000 + deployment * 10 + state.len() as i64, "state": state, "created_at": at}, "deployment": {"id": deployment, "sha": sha, "environment": environment, "production_environment": production, "created_at": created}, "repository": {"full_name": REPO}}),
    )
}

#[allow(clippy::too_many_arguments)]
fn issue(
    delivery: &str,
    repo: &str,
    id: i64,
    action: &str,
    created: &str,
    at: &str,
    closed: Option<&str>,
    labels: &[&str],
    body: &str,
) -> String {
    let labels: Vec<Value> = labels.iter().map(|l| json!({"name": l})).collect();
    envelope(
        "issues",
        delivery,
        json!({"action": action, "issue": {"id": id, "number": id, "title": "t", "created_at": created, "updated_at": at, "closed_at": closed, "labels": labels, "body": body}, "repository": {"full_name": repo}}),
    )
}

/// 2026-10-01T<hh:mm>:00Z as epoch seconds.
fn epoch(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp()
}

/// The timeline worked out in [`github_timeline_gives_the_keys_worked_out_by_hand`], one line
/// per delivery.
fn github_timeline() -> Vec<String> {
    let (a1, a2, a3, b1, s0) = (sha('1'), sha('2'), sha('3'), sha('b'), sha('0').replace('0', "9"));
    vec![
        // P1: the first push seen; its before was never seen.
        push(
            "p1",
            &s0,
            &a1,
            epoch("2026-10-01T09:00:00Z"),
            &[("c".repeat(40).as_str(), "2026-10-01T03:00:00-05:00", "one"), (&a1, "2026-10-01T03:30:00-05:00", "two")],
        ),
        // D1: the repo's first production deployment.
        status("d1a", 1, &a1, "production", true, "2026-10-01T09:05:00Z", "in_progress", "2026-10-01T09:10:00Z"),
        status("d1b", 1, &a1, "production", true, "2026-10-01T09:05:00Z", "success", "2026-10-01T09:20:00Z"),
        // P2, P3: b1 and a2, then a revert.
        push(
            "p2",
            &a1,
            &a2,
            epoch("2026-10-01T11:00:00Z"),
            &[(&b1, "2026-10-01T10:00:00Z", "fix"), (&a2, "2026-10-01T12:30:00+02:00", "more")],
        ),
        envelope(
            "pull_request",
            "pr",
            json!({"action": "closed", "pull_request": {"id": 77, "merged": true, "merged_at": "2026-10-01T10:59:00Z", "updated_at": "2026-10-01T10:59:00Z", "merge_commit_sha": a2, "base": {"ref": "main"}}, "repository": {"full_name": REPO}}),
        ),
        push("p3", &a2, &a3, epoch("2026-10-01T12:00:00Z"), &[(&a3, "2026-10-01T11:40:00Z", "Revert \"fix\"")]),
        // D2: fails, then succeeds; D1 goes inactive then.
        status("d2a", 2, &a3, "production", true, "2026-10-01T12:05:00Z", "failure", "2026-10-01T12:10:00Z"),
        status("d2b", 2, &a3, "production", true, "2026-10-01T12:05:00Z", "success", "2026-10-01T12:30:00Z"),
        status("d1c", 1, &a1, "production", true, "2026-10-01T09:05:00Z", "inactive", "2026-10-01T12:30:01Z"),
        // Staging, and a production deployment that never succeeds: no deployments.
        status("d5", 5, &a3, "staging", false, "2026-10-01T12:40:00Z", "success", "2026-10-01T12:41:00Z"),
        status("d6", 6, &a3, "production", true, "2026-10-01T12:50:00Z", "error", "2026-10-01T12:51:00Z"),
        // D3: a rollback to a1. D4: a sha no push named.
        status("d3", 3, &a1, "Production", false, "2026-10-02T07:55:00Z", "success", "2026-10-02T08:00:00Z"),
        status("d4", 4, &sha('f'), "production", true, "2026-10-02T08:55:00Z", "success", "2026-10-02T09:00:00Z"),
        // I1: names a2 (shipped by D2); I2: no root cause, 15 minutes after D2.
        issue(
            "i1a",
            REPO,
            101,
            "opened",
            "2026-10-01T13:00:00Z",
            "2026-10-01T13:00:00Z",
            None,
            &["Incident"],
            "Checkout fails.\nroot cause: 22222222\n",
        ),
        issue(
            "i1b",
            REPO,
            101,
            "closed",
            "2026-10-01T13:00:00Z",
            "2026-10-01T14:00:00Z",
            Some("2026-10-01T14:00:00Z"),
            &["Incident"],
            "root cause: 22222222",
        ),
        issue("i2a", REPO, 102, "opened", "2026-10-01T12:45:00Z", "2026-10-01T12:45:00Z", None, &["incident", "p1"], ""),
        issue("i2b", REPO, 102, "closed", "2026-10-01T12:45:00Z", "2026-10-01T15:45:00Z", Some("2026-10-01T15:45:00Z"), &["incident"], ""),
        // I3: another repository, no deployment.
        issue("i3a", "acme/other", 103, "opened", "2026-10-01T10:00:00Z", "2026-10-01T10:00:00Z", None, &["incident"], ""),
        issue(
            "i3b",
            "acme/other",
            103,
            "closed",
            "2026-10-01T10:00:00Z",
            "2026-10-01T11:00:00Z",
            Some("2026-10-01T11:00:00Z"),
            &["incident"],
            "",
        ),
        // I4: opened 08:30 without the label, labelled later; closed, reopened, closed again.
        issue("i4a", REPO, 104, "opened", "2026-10-02T08:30:00Z", "2026-10-02T08:30:00Z", None, &[], ""),
        issue("i4b", REPO, 104, "labeled", "2026-10-02T08:30:00Z", "2026-10-02T08:40:00Z", None, &["incident"], ""),
        issue("i4c", REPO, 104, "closed", "2026-10-02T08:30:00Z", "2026-10-02T09:00:00Z", Some("2026-10-02T09:00:00Z"), &["incident"], ""),
        issue("i4d", REPO, 104, "reopened", "2026-10-02T08:30:00Z", "2026-10-02T09:30:00Z", None, &["incident"], ""),
        issue("i4e", REPO, 104, "closed", "2026-10-02T08:30:00Z", "2026-10-02T10:30:00Z", Some("2026-10-02T10:30:00Z"), &["incident"], ""),
        // Not an incident.
        issue("i5", REPO, 105, "opened", "2026-10-01T08:00:00Z", "2026-10-01T08:00:00Z", None, &["bug"], ""),
    ]
}

/// A PagerDuty incident of a service no repository is mapped to.
fn pagerduty_unmapped() -> String {
    let event = |id: &str, kind: &str, at: &str| {
        json!({"event": {"id": id, "event_type": kind, "occurred_at": at, "data": {"id": "QPD1", "status": "x", "created_at": "2026-10-02T11:00:00Z", "service": {"id": "PSVC", "summary": "batch"}}}}).to_string()
    };
    // Bare bodies back to back, as Firehose writes them.
    [event("e1", "incident.triggered", "2026-10-02T11:00:00Z"), event("e2", "incident.resolved", "2026-10-02T11:20:00Z")].concat()
}

fn keys(lake: &Lake, day: &str, repo: &str, window: i64) -> Vec<String> {
    let db = lake.duckdb();
    let sql = format!(
        "SELECT deployments, deploy_days, lead_time_changes, lead_time_p50_seconds, lead_time_p90_seconds, merge_lead_time_p50_seconds, \
         failed_deployments, change_failure_rate, recovered_incidents, recovery_p50_seconds, restored_incidents, time_to_restore_p50_seconds, \
         rework_deployments, rework_rate FROM dora_keys_daily WHERE date = '{day}' AND repo = '{repo}' AND window_days = {window}"
    );
    let mut r = rows(&db, &sql);
    assert_eq!(r.len(), 1, "{sql}");
    r.remove(0)
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

#[test]
fn github_timeline_gives_the_keys_worked_out_by_hand() {
    let lake = Lake::new();
    lake.put("github/dt=2026-10-02/deliveries.ndjson", github_timeline().join("\n") + "\n");
    lake.put("pagerduty/dt=2026-10-02/firehose.json", pagerduty_unmapped());
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM rejects"), 0);

    // Deployments: D2 succeeded at 12:30 after its failure; D1 stays a success after inactive;
    // D3 is production by its name ("Production" matches `production`, any case) though GitHub
    // did not mark it; staging and a never-successful one are kept but are no deployments.
    let deployments = rows(&db, "SELECT deployment_id, production, first_success_at, final_state, statuses, history, len(new_commits), rework FROM deployments ORDER BY deployment_id::INT");
    assert_eq!(
        deployments,
        vec![
            strings(&["1", "true", "2026-10-01 09:20:00", "success", "3", "first_deployment", "0", "NULL"]),
            strings(&["2", "true", "2026-10-01 12:30:00", "success", "2", "previous_deployment", "3", "revert"]),
            strings(&["3", "true", "2026-10-02 08:00:00", "success", "1", "redeploy", "0", "redeploy"]),
            strings(&["4", "true", "2026-10-02 09:00:00", "success", "1", "no_push", "0", "NULL"]),
            strings(&["5", "false", "2026-10-01 12:41:00", "success", "1", "NULL", "0", "NULL"]),
            strings(&["6", "true", "NULL", "error", "1", "NULL", "0", "NULL"]),
        ]
    );
    // D2 newly deployed a3 (11:40), b1 (10:00) and a2 (12:30+02:00 = 10:30 UTC): the pushes
    // followed back through `before` to a1, which D1 deployed.
    assert_eq!(
        rows(&db, "SELECT list_sort(new_commits), list_sort(lead_times_s), merge_lead_times_s FROM deployments WHERE deployment_id = '2'"),
        vec![vec![format!("[{}, {}, {}]", sha('2'), sha('3'), sha('b')), "[3000, 7200, 9000]".into(), "[5460]".into()]]
    );
    // Incidents: I1 by its root cause (a2, shipped by D2), I2 to the last deployment before it
    // (D2, 15 minutes), I4 opened at its creation though labelled later, resolved at its last
    // close, blamed on D3 (D4 came after it opened); I3 has no deployment; the unmapped
    // PagerDuty incident is kept with a NULL repo; the bug is no incident.
    assert_eq!(
        rows(&db, "SELECT source, incident_id, repo, opened_at, resolved_at, reopened, root_cause_sha, deployment_id, attribution FROM incidents ORDER BY opened_at"),
        vec![
            strings(&["github", "103", "acme/other", "2026-10-01 10:00:00", "2026-10-01 11:00:00", "false", "NULL", "NULL", "NULL"]),
            strings(&["github", "102", REPO, "2026-10-01 12:45:00", "2026-10-01 15:45:00", "false", "NULL", "2", "last_deployment"]),
            strings(&["github", "101", REPO, "2026-10-01 13:00:00", "2026-10-01 14:00:00", "false", "22222222", "2", "root_cause"]),
            strings(&["github", "104", REPO, "2026-10-02 08:30:00", "2026-10-02 10:30:00", "true", "NULL", "3", "last_deployment"]),
            strings(&["pagerduty", "QPD1", "NULL", "2026-10-02 11:00:00", "2026-10-02 11:20:00", "false", "NULL", "NULL", "NULL"]),
        ]
    );

    // 2026-10-02, 7 days, acme/app: D1-D4 on 2 days. Lead times 3000, 7200, 9000: p50 7200, p90
    // 7200 * 0.2 + 9000 * 0.8 = 8640; the merged PR 12:30 - 10:59 = 5460 s. Failed: D2 (two
    // incidents) and D3: 2 of 4. Recovery from the deployment: I1 14:00 - 12:30 = 5400, I2
    // 15:45 - 12:30 = 11700, I4 10:30 - 08:00 = 9000: median 9000. Restore: 3600, 10800, 7200:
    // median 7200. Rework: D2 (revert), D3 (rollback), D4 (I4, blamed on D3, open at 09:00).
    assert_eq!(
        keys(&lake, "2026-10-02", REPO, 7),
        strings(&["4", "2", "3", "7200", "8640", "5460", "2", "0.5", "3", "9000", "3", "7200", "3", "0.75"])
    );
    // 2026-10-01: D1 and D2; D2 failed; I1 and I2 recovered: (5400 + 11700) / 2.
    assert_eq!(
        keys(&lake, "2026-10-01", REPO, 7),
        strings(&["2", "1", "3", "7200", "8640", "5460", "1", "0.5", "2", "8550", "2", "7200", "1", "0.5"])
    );
    // All repositories: the same deployments; restore over every incident, the unmapped one
    // included: 1200, 3600, 3600, 7200, 10800.
    assert_eq!(
        keys(&lake, "2026-10-02", "*", 30),
        strings(&["4", "2", "3", "7200", "8640", "5460", "2", "0.5", "3", "9000", "5", "3600", "3", "0.75"])
    );
    // A repository with an incident and no deployment: rates NULL, not 0.
    assert_eq!(
        keys(&lake, "2026-10-01", "acme/other", 90),
        strings(&["0", "0", "0", "NULL", "NULL", "NULL", "0", "NULL", "0", "NULL", "1", "3600", "0", "NULL"])
    );

    // Classes of 2026-10-02, 7 days: 2 deploy days a week (high), lead time 2 h (elite, < 1 day),
    // 50 % failing (low), recovery 2.5 h (high); 2025: 7 days / 4 deployments = 151200 s between
    // deployments (< 1 week), lead time and recovery < 1 day, the rates without a class.
    assert_eq!(
        rows(&db, "SELECT report_year, metric, value, class FROM dora_classes_daily WHERE date = '2026-10-02' AND repo = 'acme/app' AND window_days = 7 ORDER BY ALL"),
        vec![
            strings(&["2023", "change_failure_rate", "0.5", "low"]),
            strings(&["2023", "deployment_frequency", "2", "high"]),
            strings(&["2023", "lead_time", "7200", "elite"]),
            strings(&["2023", "recovery_time", "9000", "high"]),
            strings(&["2025", "change_failure_rate", "0.5", "NULL"]),
            strings(&["2025", "deployment_frequency", "151200", "lt_1w"]),
            strings(&["2025", "lead_time", "7200", "lt_1d"]),
            strings(&["2025", "recovery_time", "9000", "lt_1d"]),
            strings(&["2025", "rework_rate", "0.75", "NULL"]),
        ]
    );
    let status = lake.ok(&["status"]);
    assert!(
        status.contains("incidents kept without a repository (map their services in [sources.pagerduty] services): PSVC 1"),
        "{status}"
    );
    let json: Value = serde_json::from_str(&lake.ok(&["status", "--format", "json"])).unwrap();
    assert_eq!(json["unmapped_services"], json!({"PSVC": 1}));
}

/// What the DORA tables hold, for comparing warehouses.
fn dora_tables(lake: &Lake) -> Vec<Vec<Vec<String>>> {
    let db = lake.duckdb();
    ["deployments", "changes", "incidents", "dora_keys_daily", "dora_classes_daily"]
        .iter()
        .map(|t| rows(&db, &format!("SELECT * FROM {t} ORDER BY ALL")))
        .collect()
}

#[test]
fn redelivered_out_of_order_and_late_deliveries_give_the_same_tables() {
    let ordered = Lake::new();
    let lines = github_timeline();
    ordered.put("github/dt=2026-10-02/deliveries.ndjson", lines.join("\n") + "\n");
    ordered.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    ordered.ok(&["run"]);

    // The same deliveries backwards, spread over three landing days, each second one delivered
    // twice, and some bodies also bare (a Firehose copy without a delivery id: the same event
    // by its content). Ingested day by day, newest landing first, by the nightly run alone.
    let shuffled = Lake::new();
    let mut reversed = lines.clone();
    reversed.reverse();
    let bare: String = lines.iter().step_by(3).map(|l| serde_json::from_str::<Value>(l).unwrap()["payload"].to_string()).collect();
    let days = ["2026-10-05", "2026-10-03", "2026-10-02"];
    let mut redelivered = bare.matches("}{").count() + 1;
    for (n, day) in days.iter().enumerate() {
        let mine: Vec<&String> = reversed.iter().skip(n).step_by(days.len()).collect();
        let mut text = String::new();
        for (i, line) in mine.iter().enumerate() {
            text += &format!("{line}\n");
            if i % 2 == 1 {
                text += &format!("{line}\n");
                redelivered += 1;
            }
        }
        shuffled.put(&format!("github/dt={day}/deliveries.ndjson"), text);
        if n == 1 {
            shuffled.put(&format!("github/dt={day}/firehose.json"), &bare);
        }
        shuffled.ok(&["run"]);
    }
    let db = shuffled.duckdb();
    assert_eq!(scalar(&db, "SELECT sum(duplicates) FROM ingested_objects"), redelivered as i64);
    assert_eq!(dora_tables(&ordered), dora_tables(&shuffled));
}

/// `dora_keys_daily` recomputed in SQL from `deployments` and `incidents`, for every row the
/// table has: what an analyst checking the numbers would write.
const KEYS_ORACLE: &str = "
WITH grid AS (SELECT date, repo, window_days FROM dora_keys_daily),
dep AS (SELECT * FROM deployments WHERE production AND first_success_at IS NOT NULL),
failed AS (SELECT DISTINCT deployment_source, deployment_id FROM incidents WHERE deployment_id IS NOT NULL),
d AS (
    SELECT g.date, g.repo AS row_repo, g.window_days, dep.*
    FROM grid g JOIN dep ON (g.repo = '*' OR dep.repo = g.repo)
        AND dep.first_success_at::DATE BETWEEN g.date - (g.window_days - 1)::INT AND g.date),
dstats AS (
    SELECT date, row_repo AS repo, window_days, count(*) AS deployments, count(DISTINCT first_success_at::DATE) AS deploy_days,
        count(*) FILTER (WHERE (source, deployment_id) IN (SELECT (deployment_source, deployment_id) FROM failed)) AS failed_deployments,
        count(*) FILTER (WHERE rework IS NOT NULL OR EXISTS (
            SELECT 1 FROM incidents i WHERE i.deployment_id IS NOT NULL AND i.repo = d.repo
                AND i.opened_at <= d.first_success_at AND (i.resolved_at IS NULL OR d.first_success_at < i.resolved_at))) AS rework_deployments
    FROM d GROUP BY date, row_repo, window_days),
leads AS (
    SELECT date, repo, window_days, count(x) AS n, quantile_cont(x, 0.5) AS p50, quantile_cont(x, 0.9) AS p90
    FROM (SELECT date, row_repo AS repo, window_days, unnest(lead_times_s) AS x FROM d) GROUP BY ALL),
merges AS (
    SELECT date, repo, window_days, quantile_cont(x, 0.5) AS p50
    FROM (SELECT date, row_repo AS repo, window_days, unnest(merge_lead_times_s) AS x FROM d) GROUP BY ALL),
rec AS (
    SELECT g.date, g.repo, g.window_days, count(*) AS n,
        quantile_cont((epoch_us(i.resolved_at) - epoch_us(i.deployed_at)) / 1e6, 0.5) AS p50
    FROM grid g JOIN incidents i ON i.deployment_id IS NOT NULL AND (g.repo = '*' OR i.repo = g.repo)
        AND i.resolved_at::DATE BETWEEN g.date - (g.window_days - 1)::INT AND g.date
    GROUP BY ALL),
res AS (
    SELECT g.date, g.repo, g.window_days, count(*) AS n,
        quantile_cont((epoch_us(i.resolved_at) - epoch_us(i.opened_at)) / 1e6, 0.5) AS p50
    FROM grid g JOIN incidents i ON (g.repo = '*' OR i.repo = g.repo)
        AND i.resolved_at::DATE BETWEEN g.date - (g.window_days - 1)::INT AND g.date
    GROUP BY ALL)
SELECT g.date, g.repo, g.window_days,
    coalesce(s.deployments, 0), coalesce(s.deploy_days, 0), coalesce(l.n, 0), l.p50, l.p90, m.p50,
    coalesce(s.failed_deployments, 0), s.failed_deployments / s.deployments,
    coalesce(rec.n, 0), rec.p50, coalesce(res.n, 0), res.p50,
    coalesce(s.rework_deployments, 0), s.rework_deployments / s.deployments
FROM grid g
LEFT JOIN dstats s USING (date, repo, window_days)
LEFT JOIN leads l USING (date, repo, window_days)
LEFT JOIN merges m USING (date, repo, window_days)
LEFT JOIN rec USING (date, repo, window_days)
LEFT JOIN res USING (date, repo, window_days)
ORDER BY ALL";

const KEYS_AS_STORED: &str = "
SELECT date, repo, window_days, deployments, deploy_days, lead_time_changes, lead_time_p50_seconds, lead_time_p90_seconds,
    merge_lead_time_p50_seconds, failed_deployments, change_failure_rate, recovered_incidents, recovery_p50_seconds,
    restored_incidents, time_to_restore_p50_seconds, rework_deployments, rework_rate
FROM dora_keys_daily ORDER BY ALL";

/// GitHub deployments folded in SQL from their deliveries: first success, final state, statuses.
const GITHUB_DEPLOYMENTS_ORACLE: &str = "
WITH s AS (
    SELECT repo, payload->>'$.deployment.id' AS id, kind, occurred_at,
        payload->>'$.deployment_status.state' AS state,
        CASE payload->>'$.deployment_status.state' WHEN 'success' THEN 4 WHEN 'inactive' THEN 5
            WHEN 'failure' THEN 3 WHEN 'error' THEN 3 WHEN 'in_progress' THEN 2 ELSE 1 END AS rank
    FROM deployment_events WHERE source = 'github')
SELECT repo, id,
    min(occurred_at) FILTER (WHERE state = 'success') AS first_success_at,
    CASE WHEN bool_or(state = 'success') THEN 'success'
        ELSE coalesce(arg_max(state, (occurred_at, rank)) FILTER (WHERE state IS NOT NULL), 'created') END AS final_state,
    count(*) FILTER (WHERE kind = 'deployment_status') AS statuses
FROM s GROUP BY ALL ORDER BY ALL";

/// GitHub incidents folded in SQL: labelled `incident` in any delivery; resolved at the last
/// close unless reopened after it.
const GITHUB_INCIDENTS_ORACLE: &str = "
WITH e AS (
    SELECT payload->>'$.issue.id' AS id, repo, payload->>'action' AS action, occurred_at,
        strptime(payload->>'$.issue.created_at', '%Y-%m-%dT%H:%M:%SZ') AS created,
        list_contains(list_transform(CAST(payload->'$.issue.labels' AS JSON[]), l -> lower(l->>'name')), 'incident') AS labelled
    FROM incident_events WHERE source = 'github'),
f AS (
    SELECT id, any_value(repo) AS repo, min(created) AS opened_at,
        max(occurred_at) FILTER (WHERE action = 'closed') AS closed, max(occurred_at) FILTER (WHERE action = 'reopened') AS reopened
    FROM e GROUP BY id HAVING bool_or(labelled))
SELECT id, repo, opened_at, CASE WHEN closed > coalesce(reopened, '-infinity'::TIMESTAMP) THEN closed END, reopened IS NOT NULL
FROM f ORDER BY ALL";

#[test]
fn every_dora_summary_of_a_generated_lake_is_what_duckdb_computes_from_the_facts() {
    let lake = Lake::new();
    std::fs::write(lake.dir.path().join("pipelake.toml"), "[sources.pagerduty]\nservices = { \"PAPI001\" = \"acme/api\" }\n").unwrap();
    lake.ok(&[
        "generate",
        "--days",
        "40",
        "--per-day",
        "30",
        "--start",
        "2026-08-01",
        "--source",
        "github",
        "--source",
        "gitlab",
        "--source",
        "pagerduty",
        "--source",
        "devops_events",
    ]);
    lake.ok(&["run", "--from", "2026-08-01", "--to", "2026-09-09"]);
    let db = lake.duckdb();
    // Enough of everything that the comparisons mean something.
    for (sql, least) in [
        ("SELECT count(*) FROM dora_keys_daily WHERE repo = '*' AND window_days = 30", 40),
        ("SELECT count(*) FROM deployments WHERE source = 'github' AND history = 'previous_deployment'", 30),
        ("SELECT count(*) FROM deployments WHERE source = 'gitlab' AND history = 'previous_deployment'", 30),
        ("SELECT count(*) FROM deployments WHERE rework = 'redeploy'", 2),
        ("SELECT count(*) FROM deployments WHERE rework = 'revert'", 2),
        ("SELECT count(*) FROM deployments WHERE final_state NOT IN ('success')", 3),
        ("SELECT count(*) FROM incidents WHERE attribution = 'root_cause'", 3),
        ("SELECT count(*) FROM incidents WHERE attribution = 'last_deployment'", 3),
        ("SELECT count(*) FROM incidents WHERE reopened", 2),
        ("SELECT count(*) FROM incidents WHERE repo IS NULL", 2),
        ("SELECT count(*) FROM incidents WHERE source = 'pagerduty' AND repo = 'acme/api'", 2),
        ("SELECT count(*) FROM dora_keys_daily WHERE failed_deployments > 0 AND rework_deployments > 0 AND merge_lead_time_p50_seconds > 0", 10),
    ] {
        assert!(scalar(&db, sql) >= least, "{sql}: {}", scalar(&db, sql));
    }
    let (stored, oracle) = (rows(&db, KEYS_AS_STORED), rows(&db, KEYS_ORACLE));
    let differ: Vec<String> =
        stored.iter().zip(&oracle).filter(|(a, b)| a != b).take(5).map(|(a, b)| format!("stored {a:?}\noracle {b:?}")).collect();
    assert!(differ.is_empty() && stored.len() == oracle.len(), "{} rows differ:\n{}", differ.len(), differ.join("\n"));
    assert_eq!(
        rows(
            &db,
            "SELECT repo, deployment_id, first_success_at, final_state, statuses FROM deployments WHERE source = 'github' ORDER BY ALL"
        ),
        rows(&db, GITHUB_DEPLOYMENTS_ORACLE)
    );
    assert_eq!(
        rows(&db, "SELECT incident_id, repo, opened_at, resolved_at, reopened FROM incidents WHERE source = 'github' ORDER BY ALL"),
        rows(&db, GITHUB_INCIDENTS_ORACLE)
    );
    // Attribution without a root cause: the repo's last production deployment at or before the
    // opening, within the 7 days.
    let wrong = scalar(
        &db,
        "SELECT count(*) FROM incidents i WHERE i.root_cause_sha IS NULL AND i.repo IS NOT NULL AND i.deployment_id IS DISTINCT FROM (
            SELECT arg_max(d.deployment_id, (d.first_success_at, d.source, d.deployment_id)) FROM deployments d
            WHERE d.repo = i.repo AND d.production AND d.first_success_at <= i.opened_at
                AND d.first_success_at >= i.opened_at - INTERVAL 7 DAY)",
    );
    assert_eq!(wrong, 0);
    // No rate above 1, every numerator within its denominator.
    assert_eq!(scalar(&db, "SELECT count(*) FROM dora_keys_daily WHERE failed_deployments > deployments OR rework_deployments > deployments OR change_failure_rate > 1"), 0);
    // Classes, from the keys by METRICS.md's bounds.
    let classes_oracle = "
        SELECT date, repo, window_days, 2023 AS y, 'deployment_frequency' AS m, deploy_days * 7 / window_days AS v,
            CASE WHEN v >= 5 THEN 'elite' WHEN v >= 1 THEN 'high' WHEN v >= 7 / 30 THEN 'medium' ELSE 'low' END
        FROM dora_keys_daily
        UNION ALL SELECT date, repo, window_days, 2023, 'change_failure_rate', change_failure_rate,
            CASE WHEN change_failure_rate <= 0.05 THEN 'elite' WHEN change_failure_rate <= 0.10 THEN 'high'
                WHEN change_failure_rate <= 0.15 THEN 'medium' WHEN change_failure_rate IS NOT NULL THEN 'low' END
        FROM dora_keys_daily
        UNION ALL SELECT date, repo, window_days, 2025, 'lead_time', lead_time_p50_seconds,
            CASE WHEN lead_time_p50_seconds < 3600 THEN 'lt_1h' WHEN lead_time_p50_seconds < 86400 THEN 'lt_1d'
                WHEN lead_time_p50_seconds < 7 * 86400 THEN 'lt_1w' WHEN lead_time_p50_seconds < 30 * 86400 THEN 'lt_1m'
                WHEN lead_time_p50_seconds < 182 * 86400 THEN 'lt_6m' WHEN lead_time_p50_seconds IS NOT NULL THEN 'gte_6m' END
        FROM dora_keys_daily
        ORDER BY ALL";
    assert_eq!(
        rows(&db, "SELECT date, repo, window_days, report_year, metric, value, class FROM dora_classes_daily WHERE (report_year, metric) IN ((2023, 'deployment_frequency'), (2023, 'change_failure_rate'), (2025, 'lead_time')) ORDER BY ALL"),
        rows(&db, classes_oracle)
    );
}

#[test]
fn a_lake_landed_day_by_day_either_way_and_run_nightly_ends_as_one_run_over_it() {
    // Late statuses and incident closes land a day after they happened; landing the days in
    // order, and newest first, with the nightly run (no days named: what new facts made stale)
    // after each, recomputes exactly the days in reach and ends where one run over the whole
    // lake ends.
    let whole = Lake::new();
    whole.ok(&[
        "generate",
        "--days",
        "12",
        "--per-day",
        "30",
        "--start",
        "2026-08-01",
        "--source",
        "github",
        "--source",
        "gitlab",
        "--source",
        "pagerduty",
    ]);
    whole.ok(&["run", "--from", "2026-08-01", "--to", "2026-08-12"]);
    whole.ok(&["run"]);
    let expected = dora_tables(&whole);
    let db = whole.duckdb();
    assert!(scalar(&db, "SELECT count(*) FROM incidents WHERE resolved_at::DATE > opened_at::DATE") > 0, "incidents across midnight");
    for newest_first in [false, true] {
        let nightly = common::landed_day_by_day(&whole, newest_first);
        assert!(dora_tables(&nightly) == expected, "landed {}", if newest_first { "newest first" } else { "in order" });
    }
}

#[test]
fn gitlab_timeline_with_offsets_and_a_squash_merge_gives_the_keys_worked_out_by_hand() {
    let lake = Lake::new();
    std::fs::write(lake.dir.path().join("pipelake.toml"), "production_environments = [\"production\", \"prod-eu\"]\n").unwrap();
    let (a, b, c, d) = (sha('a'), sha('b'), sha('c'), sha('d'));
    let project = json!({"path_with_namespace": "grp/svc"});
    let push = |before: &str, after: &str, commits: Vec<Value>| {
        json!({"object_kind": "push", "before": before, "after": after, "ref": "refs/heads/main", "commits": commits, "project": project})
            .to_string()
    };
    let deployment = |id: i64, sha: &str, env: &str, tier: &str, status: &str, at: &str| {
        envelope(
            "Deployment Hook",
            &format!("{id}-{status}"),
            json!({"object_kind": "deployment", "deployment_id": id, "status": status, "status_changed_at": at, "environment": env, "environment_tier": tier, "short_sha": &sha[..8], "commit_url": format!("https://gitlab.example.com/grp/svc/-/commit/{sha}"), "project": project}),
        )
    };
    let issue = |action: &str, at: &str| {
        json!({"object_kind": "issue", "object_attributes": {"id": 9, "iid": 1, "type": "Incident", "action": action, "created_at": "2026-10-01 12:40:00 UTC", "updated_at": at}, "project": project}).to_string()
    };
    let lines = [
        push(&sha('9'), &a, vec![json!({"id": a, "timestamp": "2026-10-01T12:00:00+02:00", "message": "a"})]),
        // The first production deployment: running at 12:05 +0200 (10:05 UTC), success 10:10 UTC.
        deployment(10, &a, "production", "production", "running", "2026-10-01 12:05:00 +0200"),
        deployment(10, &a, "production", "production", "success", "2026-10-01 10:10:00 UTC"),
        push(&a, &b, vec![json!({"id": c, "timestamp": "2026-10-01T13:00:00+02:00", "message": "c"}), json!({"id": b, "timestamp": "2026-10-01T13:30:00+02:00", "message": "squashed"})]),
        json!({"object_kind": "merge_request", "object_attributes": {"id": 5, "state": "merged", "action": "merge", "merge_commit_sha": b, "target_branch": "main", "updated_at": "2026-10-01 11:45:00 UTC"}, "project": project}).to_string(),
        // Fails at 14:00 +0200, succeeds at 12:30 UTC.
        deployment(11, &b, "production", "production", "failed", "2026-10-01 14:00:00 +0200"),
        deployment(11, &b, "production", "production", "success", "2026-10-01 12:30:00 UTC"),
        // prod-eu is production by the setting; its sha no push named.
        deployment(12, &d, "prod-eu", "other", "success", "2026-10-01 15:00:00 UTC"),
        deployment(13, &d, "review/x", "development", "success", "2026-10-01 15:10:00 UTC"),
        issue("open", "2026-10-01 12:40:00 UTC"),
        issue("close", "2026-10-01 13:40:00 UTC"),
    ];
    lake.put("gitlab/dt=2026-10-01/hooks.ndjson", lines.join("\n"));
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-01"]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM rejects"), 0);
    assert_eq!(
        rows(&db, "SELECT deployment_id, production, sha, first_success_at, final_state, history, list_sort(lead_times_s), merge_lead_times_s FROM deployments ORDER BY 1"),
        vec![
            strings(&["10", "true", &a, "2026-10-01 10:10:00", "success", "first_deployment", "[]", "[]"]),
            // c at 11:00 UTC and b at 11:30 UTC: 5400 and 3600 s; the squash merge 12:30 - 11:45.
            strings(&["11", "true", &b, "2026-10-01 12:30:00", "success", "previous_deployment", "[3600, 5400]", "[2700]"]),
            strings(&["12", "true", &d, "2026-10-01 15:00:00", "success", "no_push", "[]", "[]"]),
            strings(&["13", "false", &d, "2026-10-01 15:10:00", "success", "NULL", "[]", "[]"]),
        ]
    );
    assert_eq!(
        rows(&db, "SELECT repo, opened_at, resolved_at, deployment_id, attribution FROM incidents"),
        vec![strings(&["grp/svc", "2026-10-01 12:40:00", "2026-10-01 13:40:00", "11", "last_deployment"])]
    );
    // 3 deployments on 1 day; lead times 3600, 5400: p50 4500, p90 3600 * 0.1 + 5400 * 0.9 =
    // 5220; merge 2700; 1 of 3 failed, recovered 13:40 - 12:30 = 4200 s, restored in 3600 s.
    assert_eq!(
        keys(&lake, "2026-10-01", "grp/svc", 7),
        strings(&["3", "1", "2", "4500", "5220", "2700", "1", "0.3333333333333333", "1", "4200", "1", "3600", "0", "0"])
    );
}

#[test]
fn hostile_deliveries_cost_only_themselves() {
    let lake = Lake::new();
    let good = github_timeline();
    let deep = format!("{}{}", "{\"a\":[".repeat(3000), "]}".repeat(3000));
    let hostile = [
        // Nesting past any decoder's stack, bare and in an envelope.
        deep.clone(),
        format!("{{\"event\": \"push\", \"delivery\": \"deep\", \"payload\": {deep}}}"),
        // Numbers no id holds, NaN (not JSON), a year past 9999, a body that is no object.
        json!({"event": "deployment", "delivery": "big", "payload": {"deployment": {"id": 1, "sha": "a", "created_at": "2026-10-01T00:00:00Z"}, "repository": {"full_name": REPO}}}).to_string().replace("\"id\":1", "\"id\":1e400"),
        r#"{"event": "deployment", "delivery": "nan", "payload": {"deployment": {"id": NaN}}}"#.to_string(),
        json!({"event": "deployment_status", "delivery": "y99999", "payload": {"deployment_status": {"id": 5, "state": "success", "created_at": "99999-01-01T00:00:00Z"}, "deployment": {"id": 9, "created_at": "99999-01-01T00:00:00Z"}, "repository": {"full_name": REPO}}}).to_string(),
        "[1, 2, 3]".to_string(),
        "\"just a string\"".to_string(),
        // A used kind whose fields are of the wrong shape: nothing identifies it.
        json!({"event": "deployment", "delivery": "shape", "payload": {"deployment": "x", "repository": {"full_name": REPO}}}).to_string(),
        // SQL and control characters in names are data, never SQL.
        json!({"event": "issues", "delivery": "sql", "payload": {"action": "opened", "issue": {"id": 666, "created_at": "2026-10-01T01:00:00Z", "labels": [{"name": "incident"}], "title": "'); DROP TABLE incidents; --\u{0}\u{7}"}, "repository": {"full_name": "x'); DROP TABLE deployments; --"}}}).to_string(),
        // An endless line (cut by the record limit below).
        format!("{{\"event\": \"push\", \"payload\": {{\"x\": \"{}\"}}}}", "y".repeat(2 << 20)),
    ];
    std::fs::write(lake.dir.path().join("pipelake.toml"), "max_record_megabytes = 1\n").unwrap();
    lake.put("github/dt=2026-10-02/good.ndjson", good.join("\n") + "\n");
    lake.put("github/dt=2026-10-02/hostile.ndjson", hostile.join("\n") + "\n");
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let db = lake.duckdb();
    let reasons = rows(&db, "SELECT position, reason FROM rejects ORDER BY position");
    // Every hostile record but the one with SQL in it is one reject with its reason.
    assert_eq!(reasons.len(), hostile.len() - 1, "{reasons:?}");
    for (n, reason) in [
        (1, "recursion limit"),
        (2, "recursion limit"),
        (3, "number out of range"),
        (4, "not JSON"),
        (5, "is not a time of the years 1 to 9999"),
        (6, "not a JSON object"),
        (7, "not a JSON object"),
        (8, "identify"),
        (10, "max_record_megabytes"),
    ] {
        assert!(reasons.iter().any(|r| r[0] == n.to_string() && r[1].contains(reason)), "line {n}: {reason} not in {reasons:?}");
    }
    // The normal deliveries are all there: the same keys as in a clean lake.
    let clean = Lake::new();
    clean.put("github/dt=2026-10-02/good.ndjson", good.join("\n") + "\n");
    clean.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    assert_eq!(keys(&lake, "2026-10-02", REPO, 7), keys(&clean, "2026-10-02", REPO, 7));
    assert_eq!(scalar(&db, "SELECT count(*) FROM incidents WHERE repo = 'x''); DROP TABLE deployments; --'"), 1);
    assert!(scalar(&db, "SELECT count(*) FROM deployments") > 0);
}

#[test]
fn an_incident_closed_after_midnight_and_delivered_the_next_day_is_resolved_by_the_nightly_run() {
    let lake = Lake::new();
    let opened = issue("o", REPO, 7, "opened", "2026-10-01T22:00:00Z", "2026-10-01T22:00:00Z", None, &["incident"], "");
    lake.put("github/dt=2026-10-01/a.ndjson", format!("{opened}\n"));
    lake.ok(&["run"]);
    let closed =
        issue("c", REPO, 7, "closed", "2026-10-01T22:00:00Z", "2026-10-02T01:30:00Z", Some("2026-10-02T01:30:00Z"), &["incident"], "");
    lake.put("github/dt=2026-10-02/b.ndjson", format!("{closed}\n"));
    lake.ok(&["run"]);
    let db = lake.duckdb();
    assert_eq!(rows(&db, "SELECT date, resolved_at FROM incidents"), vec![strings(&["2026-10-01", "2026-10-02 01:30:00"])]);
    // Restored in 3.5 hours, counted on the day it was resolved.
    assert_eq!(keys(&lake, "2026-10-02", REPO, 7)[10..12], strings(&["1", "12600"]));
}

#[test]
fn a_deployment_created_past_year_9999_costs_no_run() {
    // Regression: a time inside a payload (not the delivery's own) was folded unchecked; a
    // never-successful deployment "created" in year 11476 was dated there, and its partition
    // could not be written.
    let lake = Lake::new();
    let line = status("x", 9, &sha('9'), "production", true, "2026-10-01T09:00:00Z", "error", "2026-10-01T10:00:00Z")
        .replace("\"2026-10-01T09:00:00Z\"", "300000000000");
    assert!(line.contains("300000000000"), "{line}");
    lake.put("github/dt=2026-10-01/a.ndjson", format!("{line}\n"));
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-01"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT date, created_at, final_state FROM deployments"),
        vec![strings(&["2026-10-01", "2026-10-01 10:00:00", "error"])]
    );
}
