//! The views over one committed version, and the catalog `<warehouse>/pipelake.duckdb` that
//! every writing job on local disk publishes as it commits: one small DuckDB database whose
//! views name exactly the files of the newest version, for dashboards and anyone's own DuckDB
//! (`duckdb -readonly`).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::log::log_key;
use super::{TableDef, Warehouse, META_DIR};
use crate::error::{Error, Result};
use crate::lake::Location;

/// The catalog's name under the warehouse root.
pub const CATALOG: &str = "pipelake.duckdb";

/// A path as a DuckDB string literal that names exactly that file: DuckDB reads `*`, `?` and
/// `[` in a path as a glob, so each is written as a one-character class (`[*]`), and quotes
/// are doubled.
pub fn path_literal(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 2);
    out.push('\'');
    for c in path.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            '\'' => out.push_str("''"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl Warehouse {
    /// `CREATE OR REPLACE VIEW` statements over the files of the version this warehouse was
    /// opened at, named one by one (no folder is listed: a file not in the version is never
    /// read), rooted at `root` (a local path or a URL DuckDB can read). A table with no files
    /// gets an empty view of the right columns. `pipelake_version` says which version it is.
    pub fn views_sql(&self, root: &str) -> String {
        self.views_sql_of(root, |_| true)
    }

    /// [`Warehouse::views_sql`] for the tables `wanted` picks only.
    pub fn views_sql_of(&self, root: &str, wanted: impl Fn(&TableDef) -> bool) -> String {
        let root = root.trim_end_matches('/');
        let mut sql = String::new();
        for table in self.tables.iter().filter(|t| wanted(t)) {
            let paths: Vec<String> = self
                .manifest
                .tables
                .get(table.name)
                .into_iter()
                .flatten()
                .flat_map(|(day, files)| files.iter().map(move |f| path_literal(&format!("{root}/{}", table.file_key(*day, &f.file)))))
                .collect();
            let _ = writeln!(sql, "-- {}", table.doc);
            let _ = writeln!(sql, "{}", view_sql(table, &paths));
        }
        let committed = self.committed_at.map_or("NULL".to_string(), |t| format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f")));
        let _ = writeln!(sql, "-- The committed version these views read.");
        let _ = writeln!(
            sql,
            "CREATE OR REPLACE VIEW pipelake_version AS SELECT {}::UBIGINT AS version, {committed} AS committed_at;",
            self.manifest.version
        );
        sql
    }

    /// Whether the catalog on disk was published after the newest commit (a job killed between
    /// the two leaves it older).
    pub(super) fn catalog_is_current(&self) -> bool {
        let Some(root) = self.location.local_root() else { return true };
        let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        match (modified(root.join(CATALOG)), modified(root.join(log_key(self.manifest.version)))) {
            (Some(catalog), Some(commit)) => catalog >= commit,
            (Some(_), None) => self.manifest.version == 0,
            (None, _) => false,
        }
    }

    /// Hand the catalog of the committed version to the publisher (local disk only).
    pub(super) fn publish_catalog(&self) {
        let (Some(publisher), Some(root)) = (&self.publisher, self.location.local_root()) else { return };
        publisher.publish(Catalog {
            root: root.to_path_buf(),
            location: self.location.clone(),
            version: self.manifest.version,
            views: self.views_sql(&root.to_string_lossy()),
        });
    }
}

/// The catalog of one version, to be written.
struct Catalog {
    root: PathBuf,
    location: Location,
    version: u64,
    views: String,
}

impl Catalog {
    /// Write it, logging a failure: the commit stands, and the next one publishes again.
    fn publish(&self) {
        match self.write() {
            Ok(()) => tracing::debug!(version = self.version, "catalog published"),
            Err(e) => tracing::error!(version = self.version, error = %e, "could not publish the catalog"),
        }
        crate::fault::point("catalog");
    }

    /// Write the catalog whole under a new name, then rename it over the old one, so that a
    /// dashboard opening it sees the previous version or this one. Skipped when a newer
    /// version was committed meanwhile (by a job that took over), whose own catalog must win.
    fn write(&self) -> Result<()> {
        let temp = self.root.join(format!("{META_DIR}/catalog-{}.duckdb", uuid::Uuid::new_v4().simple()));
        let written = (|| {
            let conn = duckdb::Connection::open(&temp)?;
            conn.execute_batch(&self.views)?;
            conn.execute_batch("CHECKPOINT")?;
            drop(conn);
            crate::lake::sync_path(&temp)
        })();
        let target = self.root.join(CATALOG);
        let result = written.and_then(|()| {
            if self.location.exists(&log_key(self.version + 1))? {
                return Ok(());
            }
            std::fs::rename(&temp, &target).map_err(|source| Error::Io { context: format!("publish {}", target.display()), source })?;
            crate::lake::sync_path(&self.root)
        });
        let _ = std::fs::remove_file(&temp);
        let _ = std::fs::remove_file(temp.with_extension("duckdb.wal"));
        result
    }
}

/// How often, at most, a job publishes the catalog while it commits: a catalog takes DuckDB a
/// while to write, and a run commits every batch.
const PUBLISH_EVERY: Duration = Duration::from_secs(5);

/// Writes catalogs on a thread of its own, so that a commit does not wait for DuckDB: at most
/// one every [`PUBLISH_EVERY`], of the newest version handed over (the versions in between are
/// skipped), and the job's last version when it ends: dropping the publisher waits for it.
pub(super) struct Publisher {
    jobs: Option<mpsc::Sender<Catalog>>,
    thread: Option<JoinHandle<()>>,
}

impl Publisher {
    /// Start publishing catalogs into the local warehouse at `root`, first removing what a
    /// writer killed while writing one left.
    pub(super) fn start(root: &std::path::Path) -> Publisher {
        for entry in std::fs::read_dir(root.join(META_DIR)).into_iter().flatten().flatten() {
            if entry.file_name().to_str().is_some_and(|n| n.starts_with("catalog-") && n.contains(".duckdb")) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        let (jobs, queue) = mpsc::channel::<Catalog>();
        let thread = std::thread::spawn(move || {
            let mut pending: Option<Catalog> = None;
            let mut last_written: Option<Instant> = None;
            loop {
                let wait = last_written.map_or(Duration::ZERO, |t| PUBLISH_EVERY.saturating_sub(t.elapsed()));
                let next = match &pending {
                    None => queue.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                    Some(_) if !wait.is_zero() => queue.recv_timeout(wait),
                    Some(_) => Err(mpsc::RecvTimeoutError::Timeout),
                };
                match next {
                    // The newest version wins.
                    Ok(catalog) => pending = Some(catalog),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Some(catalog) = pending.take() {
                            catalog.publish();
                            last_written = Some(Instant::now());
                        }
                    }
                    // The job is done: its last version now.
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        if let Some(catalog) = pending.take() {
                            catalog.publish();
                        }
                        return;
                    }
                }
            }
        });
        Publisher { jobs: Some(jobs), thread: Some(thread) }
    }

    fn publish(&self, catalog: Catalog) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(catalog);
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One table's view over `paths` (DuckDB literals), or an empty view of its columns.
fn view_sql(table: &TableDef, paths: &[String]) -> String {
    if paths.is_empty() {
        let cols: Vec<String> = table.columns.iter().map(|c| format!("CAST(NULL AS {}) AS \"{}\"", c.sql_type, c.name)).collect();
        return format!("CREATE OR REPLACE VIEW {} AS SELECT {}, CAST(NULL AS DATE) AS \"date\" WHERE false;", table.name, cols.join(", "));
    }
    let list = if paths.len() == 1 { paths[0].clone() } else { format!("[{}]", paths.join(", ")) };
    format!(
        "CREATE OR REPLACE VIEW {} AS SELECT * FROM read_parquet({list}, hive_partitioning = true, hive_types = {{'date': DATE}});",
        table.name
    )
}
