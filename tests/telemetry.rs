//! The telemetry source end to end: framing, UUID spellings, one check-in per system and day,
//! first_seen across pruning. DuckDB is the oracle.

mod common;

use common::{rows, scalar, Lake};
use pipelake::proto::analytics::{Component, OnlineWorkers};
use pipelake::proto::Analytics;
use prost::Message;

const S: &str = "3f2c1b8e-5d4a-4c3b-9a1e-0f1e2d3c4b5a";
const T: &str = "00000000-0000-4000-8000-000000000001";

fn checkin(system_id: &str, workers: Option<u32>) -> Analytics {
    Analytics {
        system_id: system_id.into(),
        online_workers: workers.map(|p| OnlineWorkers { processes: Some(p), hosts: None }),
        components: vec![Component { name: "core".into(), version: "3.49.1".into() }],
        ..Default::default()
    }
}

fn delimited(messages: &[Analytics]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        m.encode_length_delimited(&mut out).unwrap();
    }
    out
}

fn day(n: i64) -> String {
    (chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(n - 1)).to_string()
}

#[test]
fn spellings_are_one_system_and_the_first_check_in_of_the_day_counts() {
    let lake = Lake::new();
    let upper = S.to_uppercase();
    let dashless = S.replace('-', "");
    lake.put(&format!("telemetry/dt={}/a.pbd", day(1)), delimited(&[checkin(&upper, Some(4)), checkin(&dashless, Some(9))]));
    lake.put(&format!("telemetry/dt={}/b.pb", day(1)), checkin(&format!("{{{S}}}"), Some(7)).encode_to_vec());
    lake.ok(&["ingest"]);
    let db = lake.duckdb();
    assert_eq!(
        rows(&db, "SELECT system_id, workers_processes, workers_hosts, age_days FROM telemetry_checkins"),
        vec![vec![S.to_string(), "4".into(), "NULL".into(), "0".into()]]
    );
    assert_eq!(scalar(&db, "SELECT sum(duplicates) FROM ingested_objects WHERE source = 'telemetry'"), 2);
    assert_eq!(rows(&db, "SELECT name, version FROM telemetry_components"), vec![vec!["core".to_string(), "3.49.1".into()]]);
}

#[test]
fn first_seen_holds_across_pruning_of_raw_check_ins() {
    let lake = Lake::new();
    // T on day 1 only; S from day 2 to day 20.
    lake.put(&format!("telemetry/dt={}/x.pbd", day(1)), delimited(&[checkin(T, Some(1))]));
    for d in 2..=20 {
        lake.put(&format!("telemetry/dt={}/x.pbd", day(d)), delimited(&[checkin(S, Some(2))]));
    }
    lake.ok(&["run", "--date", &day(20)]);
    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT count(*) FROM telemetry_checkins"), 20);
    // Retention is 14 days by default and these landed in January: all pruned.
    assert!(common::files(&lake.raw()).is_empty(), "{:?}", common::files(&lake.raw()));
    lake.put(&format!("telemetry/dt={}/x.pbd", day(40)), delimited(&[checkin(&S.to_uppercase(), Some(3)), checkin(T, None)]));
    lake.ok(&["run", "--date", &day(40)]);
    let db = lake.duckdb();
    assert_eq!(
        rows(
            &db,
            &format!("SELECT system_id, first_seen, age_days FROM telemetry_checkins WHERE date = DATE '{}' ORDER BY system_id", day(40))
        ),
        vec![vec![T.to_string(), day(1), "39".into()], vec![S.to_string(), day(2), "38".into()]]
    );
}

#[test]
fn damaged_messages_are_rejected_and_the_rest_is_read() {
    let lake = Lake::new();
    let mut stream = delimited(&[checkin(S, Some(1)), checkin("", Some(1)), checkin("nope", None)]);
    let dup = Analytics { components: vec![Component { name: "core".into(), version: "3.1.0".into() }; 2], ..checkin(T, None) };
    dup.encode_length_delimited(&mut stream).unwrap();
    let tail = delimited(&[checkin(T, Some(5))]);
    stream.extend_from_slice(&tail[..tail.len() - 3]);
    lake.put(&format!("telemetry/dt={}/batch.pbd", day(1)), stream);
    lake.put(&format!("telemetry/dt={}/garbled.pb", day(1)), [0x0a, 0x40, b'x']);
    lake.put(
        &format!("telemetry/dt={}/dev.pb", day(1)),
        Analytics { components: vec![Component { name: "core".into(), version: "3.50.0.dev".into() }], ..checkin(T, None) }.encode_to_vec(),
    );
    lake.put(&format!("telemetry/dt={}/notes.txt", day(1)), "hi");
    lake.ok(&["ingest"]);
    let db = lake.duckdb();
    let rejects = rows(&db, "SELECT split_part(raw_key, '/', 3), position, reason FROM rejects ORDER BY ALL");
    let short: Vec<(String, String, String)> =
        rejects.iter().map(|r| (r[0].clone(), r[1].clone(), r[2].split([':', ' ']).next().unwrap().to_string())).collect();
    assert_eq!(
        short,
        vec![
            ("batch.pbd".into(), "2".into(), "empty".into()),
            ("batch.pbd".into(), "3".into(), "system_id".into()),
            ("batch.pbd".into(), "4".into(), "component".into()),
            ("batch.pbd".into(), "5".into(), "truncated".into()),
            ("dev.pb".into(), "1".into(), "non_ga_version".into()),
            ("garbled.pb".into(), "1".into(), "invalid".into()),
            ("notes.txt".into(), "0".into(), "unsupported".into()),
        ]
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM telemetry_checkins"), 1);
    assert_eq!(scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
    assert_eq!(scalar(&db, "SELECT sum(records) FROM ingested_objects"), 8);
}

#[test]
fn development_mode_keeps_pre_release_versions() {
    let lake = Lake::new();
    std::fs::write(lake.dir.path().join("pipelake.toml"), "deployment = \"development\"\n").unwrap();
    lake.put(
        &format!("telemetry/dt={}/dev.pb", day(1)),
        Analytics { components: vec![Component { name: "core".into(), version: "3.50.0.dev".into() }], ..checkin(T, None) }.encode_to_vec(),
    );
    lake.ok(&["ingest"]);
    assert_eq!(scalar(&lake.duckdb(), "SELECT count(*) FROM telemetry_checkins"), 1);
}

/// Each telemetry summary recomputed in DuckDB SQL from the fact tables.
#[test]
fn summaries_match_duckdb_recomputed_from_the_facts() {
    let lake = Lake::new();
    lake.generate(4, 400);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-05"]);
    let db = lake.duckdb();
    let pairs = [
        (
            "SELECT date, age_days, systems FROM telemetry_age_daily ORDER BY ALL",
            "SELECT date, age_days, count(*) FROM telemetry_checkins GROUP BY ALL ORDER BY ALL",
        ),
        (
            "SELECT date, persistent_systems, round(avg_workers_processes, 9), round(avg_workers_hosts, 9),
                    round(avg_content_apps_processes, 9), round(avg_content_apps_hosts, 9)
             FROM telemetry_averages_daily ORDER BY date",
            "SELECT d.date::DATE, count(c.system_id), round(avg(workers_processes), 9), round(avg(workers_hosts), 9),
                    round(avg(content_apps_processes), 9), round(avg(content_apps_hosts), 9)
             FROM generate_series(DATE '2026-10-01', DATE '2026-10-05', INTERVAL 1 DAY) d(date)
             LEFT JOIN telemetry_checkins c ON c.date = d.date::DATE AND c.age_days >= 1
             GROUP BY d.date ORDER BY d.date",
        ),
        (
            "SELECT date, component, granularity, version, systems FROM telemetry_versions_daily ORDER BY ALL",
            "SELECT c.date, name, 'xyz', version, count(*) FROM telemetry_components c JOIN telemetry_checkins k USING (date, system_id)
             WHERE k.age_days >= 1 GROUP BY ALL
             UNION ALL
             SELECT c.date, name, 'xy', regexp_extract(version, '^[^.]+\\.[^.]+'), count(*) FROM telemetry_components c
             JOIN telemetry_checkins k USING (date, system_id) WHERE k.age_days >= 1 GROUP BY ALL
             ORDER BY ALL",
        ),
        (
            "SELECT date, postgresql_version, display, systems FROM telemetry_postgresql_daily ORDER BY ALL",
            "SELECT date, coalesce(postgresql_version, 0) AS v,
                    CASE WHEN v = 0 THEN 'Unknown'
                         WHEN v >= 100000 THEN (v // 10000)::VARCHAR || '.' || (v % 10000)::VARCHAR
                         ELSE (v // 10000)::VARCHAR || '.' || (v // 100 % 100)::VARCHAR || '.' || (v % 100)::VARCHAR END,
                    count(*)
             FROM telemetry_checkins WHERE age_days >= 1 GROUP BY ALL ORDER BY ALL",
        ),
        (
            "SELECT date, metric, value, systems FROM telemetry_rbac_daily ORDER BY ALL",
            "SELECT date, replace(metric, 'rbac_', ''), value, count(*) FROM (
               UNPIVOT (SELECT date, rbac_users, rbac_groups, rbac_domains, rbac_custom_access_policies, rbac_custom_roles
                        FROM telemetry_checkins WHERE age_days >= 1 AND rbac_users IS NOT NULL)
               ON rbac_users, rbac_groups, rbac_domains, rbac_custom_access_policies, rbac_custom_roles INTO NAME metric VALUE value)
             GROUP BY ALL ORDER BY ALL",
        ),
    ];
    for (ours, oracle) in pairs {
        let (ours, oracle) = (rows(&db, ours), rows(&db, oracle));
        assert!(!oracle.is_empty(), "{oracle:?}");
        assert_eq!(ours, oracle);
    }
    // Days without check-ins still get their averages row.
    assert_eq!(scalar(&db, "SELECT count(*) FROM telemetry_averages_daily WHERE date = DATE '2026-10-05' AND persistent_systems = 0"), 1);
}

#[test]
fn first_seen_and_same_day_dedup_hold_over_many_runs_and_late_objects() {
    let lake = Lake::new();
    let system = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    // Day d: systems d..d+3 check in (each system on four consecutive days); one run per day,
    // more runs than the state keeps segments before merging them.
    for d in 1..=20u32 {
        let messages: Vec<Analytics> = (d..d + 4).map(|n| checkin(&system(n), Some(n))).collect();
        lake.put(&format!("telemetry/dt={}/x.pbd", day(d.into())), delimited(&messages));
        lake.ok(&["ingest"]);
    }
    // Late objects in old day folders: system 50 first appears on day 3 (later it checks in on
    // day 21), system 5 again on day 5 (a duplicate of its day-5 check-in), system 1 on day 9.
    lake.put(&format!("telemetry/dt={}/late.pbd", day(3)), delimited(&[checkin(&system(50), Some(1))]));
    lake.put(&format!("telemetry/dt={}/late.pbd", day(5)), delimited(&[checkin(&system(5), Some(99))]));
    lake.put(&format!("telemetry/dt={}/late.pbd", day(9)), delimited(&[checkin(&system(1), Some(2))]));
    lake.put(&format!("telemetry/dt={}/x.pbd", day(21)), delimited(&[checkin(&system(50), None), checkin(&system(2), None)]));
    lake.ok(&["ingest"]);

    let db = lake.duckdb();
    assert_eq!(scalar(&db, "SELECT sum(duplicates) FROM ingested_objects"), 1);
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM telemetry_checkins WHERE system_id = '00000000-0000-4000-8000-000000000005' AND workers_processes = 99"
        ),
        0
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM (SELECT system_id, date FROM telemetry_checkins GROUP BY ALL HAVING count(*) > 1)"), 0);
    // Every check-in's first_seen is its system's earliest check-in, as DuckDB finds it.
    let wrong = "SELECT count(*) FROM telemetry_checkins c
        JOIN (SELECT system_id, min(date) AS first FROM telemetry_checkins GROUP BY ALL) f USING (system_id)
        WHERE c.first_seen <> f.first OR c.age_days <> c.date - f.first";
    assert_eq!(scalar(&db, wrong), 0);
    assert_eq!(
        rows(&db, &format!("SELECT system_id, first_seen, age_days FROM telemetry_checkins WHERE date = DATE '{}' ORDER BY 1", day(21))),
        vec![vec![system(2), day(1), "20".into()], vec![system(50), day(3), "18".into()]]
    );
    // The state stays a bounded number of objects however many runs wrote it, once the
    // segments merged away are vacuumed.
    std::fs::write(lake.dir.path().join("pipelake.toml"), "vacuum_retention_days = 0\n").unwrap();
    lake.ok(&["vacuum"]);
    let state = common::files(&lake.warehouse().join("_pipelake/state/telemetry_first_seen"));
    assert!(!state.is_empty() && state.len() <= 16, "{state:?}");
}
