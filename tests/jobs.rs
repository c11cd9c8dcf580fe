//! What schedulers run, against a real lake: the Airflow DAG in `jobs/` run by a real Airflow
//! (`airflow dags test`, installed from PyPI by `.ci/run` in a cached virtual environment), and
//! the crontab line turned into the command it would execute.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_success, scalar, Lake};

/// A scheduler's command line made runnable here: our binary, this lake's config, run in `dir`.
fn runnable(command: &str, dir: &Path) -> String {
    let binary = env!("CARGO_BIN_EXE_pipelake");
    let config = dir.join("pipelake.toml");
    let command = match command.strip_prefix("pipelake ") {
        Some(rest) => format!("{binary} {rest}"),
        None => command.replace("/usr/local/bin/pipelake", binary),
    };
    command
        .replace("/etc/pipelake/pipelake.toml", &config.to_string_lossy())
        .replace("/var/lib/pipelake", &dir.to_string_lossy())
        .replace("/var/log/pipelake", &dir.to_string_lossy())
}

fn lake_with_config() -> Lake {
    let lake = Lake::new();
    lake.generate(2, 40);
    let config = format!("raw = {:?}\nwarehouse = {:?}\n", lake.raw().to_string_lossy(), lake.warehouse().to_string_lossy());
    std::fs::write(lake.dir.path().join("pipelake.toml"), config).unwrap();
    lake
}

/// The `airflow` command of the virtual environment `.ci/run` sets up.
fn airflow() -> PathBuf {
    let path = std::env::var_os("PIPELAKE_AIRFLOW")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/pipelake-airflow/bin/airflow"));
    assert!(path.exists(), "{} is missing: `bash .ci/run` installs Airflow there once", path.display());
    path
}

#[test]
fn the_airflow_dag_fans_the_nightly_job_out_and_the_warehouse_equals_one_run() {
    let lake = lake_with_config();
    let home = tempfile::tempdir().unwrap();
    let dags = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
    let pipelake = format!("{} --config {}", env!("CARGO_BIN_EXE_pipelake"), lake.dir.path().join("pipelake.toml").display());
    let airflow = |args: &[&str]| {
        let out = Command::new(airflow())
            .args(args)
            .current_dir(lake.dir.path())
            .env("AIRFLOW_HOME", home.path())
            .env("AIRFLOW__CORE__DAGS_FOLDER", &dags)
            .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            .env("PIPELAKE", &pipelake)
            .env("PIPELAKE_LOG", "warn")
            .output()
            .unwrap();
        assert_success(&out, args);
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    airflow(&["db", "migrate"]);
    airflow(&["dags", "reserialize"]);
    let listed = airflow(&["dags", "list"]);
    assert!(listed.contains("pipelake_nightly"), "{listed}");
    airflow(&["dags", "test", "pipelake_nightly", "2026-10-02"]);

    // The commits the tasks made: one ingest per source with data, summaries, then prune and vacuum.
    let history: serde_json::Value = serde_json::from_str(&lake.ok(&["history", "--limit", "10000", "--format", "json"])).unwrap();
    let commands: Vec<&str> = history.as_array().unwrap().iter().rev().map(|c| c["command"].as_str().unwrap()).collect();
    assert!(commands.iter().filter(|c| **c == "ingest").count() >= 5, "{commands:?}");
    assert!(commands.contains(&"summarize"), "{commands:?}");
    assert!(!commands.contains(&"run"), "{commands:?}");

    // The same lake through one `pipelake run` of that day.
    let reference = Lake::new();
    reference.generate(2, 40);
    reference.ok(&["run", "--date", "2026-10-02"]);
    let expected = common::all_rows(|args| reference.ok(args));
    let seen = common::all_rows(|args| lake.ok(args));
    for ((table, e), (_, s)) in expected.iter().zip(&seen) {
        assert_eq!(s, e, "{table}: the Airflow DAG against one run");
    }
    let db = lake.duckdb();
    assert!(scalar(&db, "SELECT count(*) FROM pipeline_daily WHERE date = DATE '2026-10-02'") > 0);
}

#[test]
fn the_crontab_line_runs_the_nightly_job() {
    let crontab = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/crontab")).unwrap();
    let entries: Vec<&str> = crontab.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.contains('=')).collect();
    assert_eq!(entries.len(), 1, "{crontab}");
    let fields: Vec<&str> = entries[0].splitn(6, ' ').collect();
    assert_eq!(fields[..5], ["30", "2", "*", "*", "*"]);
    assert!(crontab.contains("CRON_TZ=UTC"), "the schedule is in UTC, as the default date (yesterday) is");

    let lake = lake_with_config();
    let command = runnable(fields[5], lake.dir.path());
    assert!(command.contains(" run"), "{command}");
    let out = Command::new("bash").arg("-c").arg(&command).env("PIPELAKE_LOG", "info").output().unwrap();
    assert_success(&out, &[&command]);
    // Output goes to the log file the line names, as JSON lines.
    let log = std::fs::read_to_string(lake.dir.path().join("run.jsonl")).unwrap();
    assert!(log.lines().filter(|l| l.starts_with('{')).all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "{log}");
    assert!(log.contains("\"ingest done\""), "{log}");
    let db = lake.duckdb();
    assert!(scalar(&db, "SELECT count(*) FROM ingested_objects") > 0);
}
