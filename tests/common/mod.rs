//! Helpers for the integration tests: the real binary over a lake in a temp dir, and DuckDB as
//! the oracle over the Parquet it writes.
#![allow(dead_code)]

pub mod s3;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use duckdb::Connection;

/// A raw lake and a warehouse in a fresh temp dir.
pub struct Lake {
    pub dir: tempfile::TempDir,
}

impl Lake {
    pub fn new() -> Self {
        Lake { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// A lake whose `pipelake.toml` (read from the directory the binary runs in) is `config`.
    pub fn with_config(config: &str) -> Self {
        let lake = Lake::new();
        std::fs::write(lake.dir.path().join("pipelake.toml"), config).unwrap();
        lake
    }

    pub fn raw(&self) -> PathBuf {
        self.dir.path().join("raw")
    }

    pub fn warehouse(&self) -> PathBuf {
        self.dir.path().join("warehouse")
    }

    /// Write a raw object at `key` (relative to the raw root).
    pub fn put(&self, key: &str, bytes: impl AsRef<[u8]>) {
        let path = self.raw().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// The binary, pointed at this lake, run from the temp dir.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pipelake"));
        c.current_dir(self.dir.path())
            .env_remove("PIPELAKE_FAULT")
            .env_remove("PIPELAKE_CONFIG")
            .env_remove("PIPELAKE_HOLD")
            .env_remove("PIPELAKE_WAIT")
            .env("PIPELAKE_LOG", "warn")
            .arg("--raw")
            .arg(self.raw())
            .arg("--warehouse")
            .arg(self.warehouse())
            .args(args);
        c
    }

    /// Run the binary and insist that it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert_success(&out, args);
        String::from_utf8(out.stdout).unwrap()
    }

    /// DuckDB with the views `pipelake views` prints, as an analyst would set it up.
    pub fn duckdb(&self) -> Connection {
        let views = self.ok(&["views"]);
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&views).unwrap();
        conn
    }

    /// Generate `days` days of data starting 2026-10-01.
    pub fn generate(&self, days: u32, per_day: u32) {
        self.ok(&["generate", "--days", &days.to_string(), "--per-day", &per_day.to_string(), "--start", "2026-10-01"]);
    }
}

pub fn assert_success(out: &Output, args: &[&str]) {
    assert!(
        out.status.success(),
        "pipelake {args:?} failed with {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Rows of a query, every value rendered as text, in the query's order.
pub fn rows(conn: &Connection, sql: &str) -> Vec<Vec<String>> {
    let (_, rows) = pipelake::query::run(conn, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter().map(|r| r.iter().map(pipelake::query::text).collect()).collect()
}

/// One number from a query.
pub fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every table's rows (bookkeeping timestamps left out), sorted: what "the same contents" means.
pub fn contents(conn: &Connection) -> Vec<(String, Vec<Vec<String>>)> {
    pipelake::query::all_tables().iter().map(|t| (t.name.to_string(), rows(conn, &contents_sql(t.name)))).collect()
}

/// The query of a table's rows in [`contents`] and [`all_rows`]: all, sorted, but the time a
/// job ingested an object.
fn contents_sql(table: &str) -> String {
    if table == "ingested_objects" {
        "SELECT * EXCLUDE (ingested_at) FROM ingested_objects ORDER BY ALL".to_string()
    } else {
        format!("SELECT * FROM {table} ORDER BY ALL")
    }
}

/// A copy of `whole`'s raw lake landed one landing day at a time, in order or newest first, with
/// the nightly run (no days named: what new facts made stale) after each day.
pub fn landed_day_by_day(whole: &Lake, newest_first: bool) -> Lake {
    let files = files(&whole.raw());
    let mut days: Vec<&str> = files.iter().filter_map(|f| f.split('/').nth(1)).collect();
    days.sort_unstable();
    days.dedup();
    if newest_first {
        days.reverse();
    }
    let nightly = Lake::new();
    if let Ok(config) = std::fs::read(whole.dir.path().join("pipelake.toml")) {
        std::fs::write(nightly.dir.path().join("pipelake.toml"), config).unwrap();
    }
    for day in days {
        for file in files.iter().filter(|f| f.split('/').nth(1) == Some(day)) {
            nightly.put(file, std::fs::read(whole.raw().join(file)).unwrap());
        }
        nightly.ok(&["run"]);
    }
    nightly
}

/// Files under `dir`, relative, sorted (bookkeeping included).
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// Run a command to its end, stdout and stderr captured: its output and its peak resident
/// memory in bytes (the kernel's count for this child alone, from `wait4`).
pub fn run_measured(mut cmd: Command) -> (Output, u64) {
    use std::io::{Read, Seek};
    use std::os::unix::process::ExitStatusExt;
    let mut out = tempfile::tempfile().unwrap();
    let mut err = tempfile::tempfile().unwrap();
    cmd.stdout(out.try_clone().unwrap()).stderr(err.try_clone().unwrap());
    // Reaped by wait4 below, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we started (and reaps it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    let read = |f: &mut std::fs::File| {
        let mut v = Vec::new();
        f.rewind().unwrap();
        f.read_to_end(&mut v).unwrap();
        v
    };
    let output = Output { status: std::process::ExitStatus::from_raw(status), stdout: read(&mut out), stderr: read(&mut err) };
    (output, usage.ru_maxrss as u64 * 1024)
}

/// Every table's rows, `ingested_at` aside, through `pipelake query` (run by `query`).
pub fn all_rows(query: impl Fn(&[&str]) -> String) -> Vec<(String, String)> {
    pipelake::query::all_tables()
        .iter()
        .map(|t| (t.name.to_string(), query(&["query", "--format", "csv", &contents_sql(t.name)])))
        .collect()
}
