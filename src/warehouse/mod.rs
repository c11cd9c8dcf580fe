//! The warehouse: Hive-partitioned Parquet tables whose only truth is the commit log under
//! `_pipelake/log/` (see [`log`]).
//!
//! A [`Txn`] writes its files once, under names no other transaction uses, straight to where
//! they stay, then creates the log entry of the next version only if it does not exist yet:
//! that entry is the commit. Files leave a table by a later commit and stay on disk for readers
//! of older versions until `vacuum` deletes them past a retention. Readers build the state of
//! one version from the log and read exactly its files; they never list a table folder.

pub mod catalog;
pub mod delta;
mod history;
mod keys;
mod legacy;
pub mod lock;
pub mod log;
mod manifest;
mod parquet;
mod schema;
mod tables;
mod txn;
mod vacuum;

pub use catalog::{path_literal, CATALOG};
pub use history::{AsOf, Commit, TableChange};
pub use keys::KeyIndex;
pub use manifest::{DataFile, KeySegment, Manifest, ManifestChange, ObjectRecord, Removed};
pub use parquet::{read_parquet, timestamp_column, write_parquet};
pub(crate) use tables::columns;
pub use tables::{ColumnDef, TableDef, TableKind, INGESTED_OBJECTS, REJECTS};
pub use txn::Txn;
pub use vacuum::VacuumReport;

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, PolarsContext, Result};
use crate::lake::Location;
use crate::timestamp::date_to_days;
use lock::WriterLock;

/// Bookkeeping folder.
pub const META_DIR: &str = "_pipelake";

/// An opened warehouse and one committed version of it.
pub struct Warehouse {
    location: Location,
    manifest: Manifest,
    /// When the version was committed (unknown for versions of the first layout).
    committed_at: Option<DateTime<Utc>>,
    /// Every table the views and vacuum know.
    tables: Vec<&'static TableDef>,
    /// Held by a warehouse opened for writing, with the command that writes.
    writer: Option<(WriterLock, String)>,
    /// Publishes the catalog of each version a writer on local disk commits.
    publisher: Option<catalog::Publisher>,
    /// Writes the Delta log entries of each version a writer commits.
    delta: Option<delta::DeltaWriter>,
    /// Commits that went after another job's (see [`Warehouse::commit`]).
    commit_retries: u64,
}

impl Warehouse {
    /// Open the warehouse at `location` to write `scopes` of it as `command`: wait up to `wait`
    /// for any other writer of one of them (holding a lease of `lease` on object stores), then finish what a killed
    /// run of the previous layout left. `tables` are all the tables there are.
    pub fn open_for_writing(
        location: Location,
        tables: Vec<&'static TableDef>,
        command: &str,
        scopes: &[String],
        wait: std::time::Duration,
        lease: std::time::Duration,
    ) -> Result<Self> {
        let writer = WriterLock::acquire(&location, command, scopes, wait, lease)?;
        crate::fault::hold();
        let log = log::Log::list(&location)?;
        let mut manifest = log.state_at(&location, None)?;
        legacy::finish(&location, &mut manifest, command)?;
        let committed_at = history::committed_at(&location, &log, manifest.version)?;
        let publisher = location.local_root().map(catalog::Publisher::start);
        let mut warehouse = Warehouse {
            location,
            manifest,
            committed_at,
            tables,
            writer: Some((writer, command.to_string())),
            publisher,
            delta: None,
            commit_retries: 0,
        };
        warehouse.upgrade_columns()?;
        // The Delta entries of a job killed after its commit, and the Delta logs of a warehouse
        // written before them.
        let (delta, written) = delta::DeltaWriter::recover(&warehouse.location, &warehouse.tables, &warehouse.manifest)?;
        if written > 0 {
            tracing::info!(versions = written, "wrote the Delta log versions the pipelake log was ahead by");
        }
        warehouse.delta = Some(delta);
        // The catalog of a job killed between its commit and its catalog.
        if warehouse.manifest.version > 0 && !warehouse.catalog_is_current() {
            warehouse.publish_catalog();
        }
        Ok(warehouse)
    }

    /// Open the warehouse at `location` to read one committed version: the newest, or the one
    /// `at` names. Changes nothing, takes no lock.
    pub fn open_read_only(location: Location, tables: Vec<&'static TableDef>, at: Option<AsOf>) -> Result<Self> {
        let log = log::Log::list(&location)?;
        let version = match at {
            None => None,
            Some(at) => Some(history::resolve(&location, &log, at)?),
        };
        let manifest = log.state_at(&location, version)?;
        if version.is_some() {
            // An older version's files are either still in the newest one, or out of it and
            // kept until vacuumed; any other was vacuumed.
            let kept = log.state_at(&location, None)?.known_files(&tables);
            let gone = manifest.live_files(&tables).filter(|k| !kept.contains(k)).count();
            if gone > 0 {
                return Err(Error::usage(format!(
                    "version {} can no longer be read: {gone} of its files were vacuumed (they left the warehouse longer than vacuum_retention_days ago); see `pipelake history`",
                    manifest.version
                )));
            }
        }
        let committed_at = history::committed_at(&location, &log, manifest.version)?;
        Ok(Warehouse { location, manifest, committed_at, tables, writer: None, publisher: None, delta: None, commit_retries: 0 })
    }

    /// The committed state.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// When the version open was committed, when known.
    pub fn committed_at(&self) -> Option<DateTime<Utc>> {
        self.committed_at
    }

    /// Where the warehouse lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Start a transaction on top of the committed state.
    pub fn begin(&self) -> Txn {
        Txn::new(self.manifest.clone())
    }

    /// Commit a transaction; on return its files and bookkeeping are the newest version, and
    /// the catalog names them. When another job (on other scopes) committed first, this one is
    /// moved on top of what it committed and tried again, unless both changed the same thing
    /// (see [`Manifest::rebase`]): then it fails with [`Error::Conflict`], nothing of it visible.
    pub fn commit(&mut self, mut txn: Txn) -> Result<()> {
        txn.manifest_mut().note_changed_tables(&self.manifest);
        let change = ManifestChange::between(&self.manifest, txn.manifest());
        if txn.is_empty() && change.is_empty() {
            return Ok(());
        }
        let command = match &self.writer {
            Some((lock, command)) => {
                // Only saves wasted work: the conditional create of the log entry is the fence.
                lock.ensure_held()?;
                command.clone()
            }
            None => return Err(Error::bookkeeping(self.location.url(), "opened read-only: cannot commit")),
        };
        let (mut ours, read, written) = txn.write(&self.location)?;
        let mut change = Some(change);
        let committed_at = loop {
            let change = change.take().unwrap_or_else(|| ManifestChange::between(&self.manifest, &ours));
            if let Some(at) = txn::append(&self.location, &ours, change, &command)? {
                break at;
            }
            // Another job committed this version first: read what it committed, and go after it
            // if the two touched nothing in common.
            let lost = ours.version;
            let log = log::Log::list(&self.location)?;
            let mut current = self.manifest.clone();
            for entry in log.entries_from(&self.location, current.version + 1)? {
                if entry.version != current.version + 1 {
                    break;
                }
                entry.change_from(&current).apply_to(&mut current);
            }
            if current.version < lost {
                return Err(Error::bookkeeping(
                    self.location.display(&log::log_key(lost)),
                    "the commit log holds this version, but it cannot be read",
                ));
            }
            ours = Manifest::rebase(&self.manifest, &ours, &current, &read).map_err(|why| {
                Error::Conflict(format!(
                    "another pipelake job committed version {lost} of {} first, and {why}: nothing of this job's last transaction is visible; run it again",
                    self.location.url()
                ))
            })?;
            self.commit_retries += 1;
            tracing::info!(
                lost,
                version = ours.version,
                retries = self.commit_retries,
                "another job committed first: this commit goes after it"
            );
            self.manifest = current;
        };
        let base = std::mem::replace(&mut self.manifest, ours);
        if let Some(delta) = &mut self.delta {
            // The pipelake log is the truth: Delta entries a failure leaves out are written by
            // the next job that opens the warehouse.
            if let Err(e) = delta.publish(&self.location, &self.tables, &base, &self.manifest, &written) {
                tracing::warn!(error = %e, version = self.manifest.version, "could not write the Delta log entries of this version; the next job writes them");
            }
        }
        self.committed_at = Some(committed_at);
        self.publish_catalog();
        Ok(())
    }

    /// How many of this job's commits went after another job's commit made in between.
    pub fn commit_retries(&self) -> u64 {
        self.commit_retries
    }

    /// Read the given days of a table into one frame with its `date` column, or `None` when the
    /// table has no rows on those days. `columns` limits what is decoded (all when `None`).
    pub fn read_days(&self, table: &TableDef, days: &[NaiveDate], columns: Option<&[&str]>) -> Result<Option<DataFrame>> {
        let Some(partitions) = self.manifest.tables.get(table.name) else { return Ok(None) };
        let mut keys = Vec::new();
        let mut dates = Vec::new();
        for day in days {
            for file in partitions.get(day).into_iter().flatten() {
                keys.push(table.file_key(*day, &file.file));
                dates.push(*day);
            }
        }
        if keys.is_empty() {
            return Ok(None);
        }
        let columns: Option<Vec<String>> = columns.map(|c| c.iter().map(|s| s.to_string()).collect());
        let bodies = self.location.get_many(&keys);
        let frames = bodies
            .into_par_iter()
            .zip(dates)
            .zip(&keys)
            .map(|((bytes, day), key)| {
                let mut df = read_parquet(bytes?, columns.clone()).context(format!("read {key}"))?;
                let n = df.height();
                df.with_column(Column::new_scalar("date".into(), Scalar::new(DataType::Date, AnyValue::Date(date_to_days(day))), n))
                    .context("add date")?;
                Ok(df.lazy())
            })
            .collect::<Result<Vec<_>>>()?;
        let df = concat(frames, UnionArgs::default()).and_then(|lf| lf.collect()).context(format!("read {}", table.name))?;
        Ok(Some(df))
    }
}
