//! What schedulers run: the Airflow DAG and the crontab line in `jobs/`, each turned into the
//! command it would execute and run against a real lake. The DAG is loaded by Python with a
//! small stand-in for the `airflow` package (Airflow itself is not installed in CI): it checks
//! that the file parses, which tasks and arguments it declares, and what their commands are.

mod common;

use std::path::Path;
use std::process::Command;

use common::{assert_success, scalar, Lake};

const STUB_AND_LOAD: &str = r#"
import json, sys, types

captured = {"dag": None, "tasks": []}

class DAG:
    def __init__(self, **kwargs):
        captured["dag"] = {k: (v if isinstance(v, (str, int, bool, list, dict)) or v is None else repr(v)) for k, v in kwargs.items()}
        captured["dag"]["retries"] = kwargs.get("default_args", {}).get("retries")
        captured["dag"].pop("default_args", None)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return False

class BashOperator:
    def __init__(self, task_id, bash_command, **kwargs):
        captured["tasks"].append({"task_id": task_id, "bash_command": bash_command})

airflow = types.ModuleType("airflow")
airflow.DAG = DAG
operators = types.ModuleType("airflow.operators")
bash = types.ModuleType("airflow.operators.bash")
bash.BashOperator = BashOperator
sys.modules.update({"airflow": airflow, "airflow.operators": operators, "airflow.operators.bash": bash})

source = open(sys.argv[1]).read()
exec(compile(source, sys.argv[1], "exec"), {"__name__": "pipelake_dag"})
print(json.dumps(captured))
"#;

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

#[test]
fn the_airflow_dag_declares_the_nightly_run_and_its_command_works() {
    let dag = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/pipelake_dag.py");
    let out = Command::new("python3").arg("-c").arg(STUB_AND_LOAD).arg(&dag).output().expect("python3 runs (installed by .ci/run)");
    assert_success(&out, &["python3", "jobs/pipelake_dag.py"]);
    let captured: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(captured["dag"]["dag_id"], "pipelake_nightly");
    assert_eq!(captured["dag"]["schedule"], "30 2 * * *");
    assert_eq!(captured["dag"]["max_active_runs"], 1, "runs of one warehouse must not overlap");
    assert!(captured["dag"]["retries"].as_i64().unwrap() >= 1);
    let tasks = captured["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    let template = tasks[0]["bash_command"].as_str().unwrap();
    assert!(template.contains("run --date {{ ds }}"), "{template}");

    // Airflow renders {{ ds }} to the run's logical date; the command then does the night's work.
    let lake = lake_with_config();
    let command = runnable(&template.replace("{{ ds }}", "2026-10-02"), lake.dir.path());
    let out = Command::new("bash").arg("-c").arg(&command).current_dir(lake.dir.path()).env("PIPELAKE_LOG", "warn").output().unwrap();
    assert_success(&out, &[&command]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--log-format json: the report is JSON");
    assert!(report["ingest"]["sources"].as_array().unwrap().iter().any(|s| s["accepted"].as_u64() > Some(0)), "{report}");
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
