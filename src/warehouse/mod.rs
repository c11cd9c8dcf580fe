//! The warehouse: Hive-partitioned Parquet tables, published atomically, with the bookkeeping
//! under `_pipelake/` that makes runs incremental and crash-safe.
//!
//! Every change goes through a [`Txn`]: new files are staged under `_pipelake/staging/`, a
//! transaction record holding what it changes in the manifest is written (the commit point),
//! staged files are moved into the table folders, and the record moves to `_pipelake/log/`.
//! The committed manifest is the checkpoint `_pipelake/manifest.json` (rewritten every 64
//! versions) with the logged changes after it, so a commit writes its change, not the history.
//! Opening the warehouse finishes a committed transaction that a killed run left half-applied
//! and discards an uncommitted one.

mod keys;
pub mod lock;
mod manifest;
mod parquet;
mod tables;
mod txn;

pub use keys::KeyIndex;
pub use manifest::{DataFile, KeySegment, Manifest, ManifestChange, ObjectRecord};
pub use parquet::{read_parquet, write_parquet};
pub(crate) use tables::columns;
pub use tables::{ColumnDef, TableDef, TableKind, INGESTED_OBJECTS, REJECTS};
pub use txn::Txn;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, PolarsContext, Result};
use crate::lake::Location;
use crate::timestamp::date_to_days;
use lock::WriterLock;

/// Bookkeeping folder.
pub const META_DIR: &str = "_pipelake";
const MANIFEST_KEY: &str = "_pipelake/manifest.json";
const TXN_DIR: &str = "_pipelake/txn";
const LOG_DIR: &str = "_pipelake/log";
const STAGING_DIR: &str = "_pipelake/staging";

/// An opened warehouse and its committed state.
pub struct Warehouse {
    location: Location,
    manifest: Manifest,
    /// Held by a warehouse opened for writing.
    writer: Option<WriterLock>,
}

impl Warehouse {
    /// Open the warehouse at `location` to write to it as `command`: wait up to `wait` for any
    /// other writer (holding a lease of `lease` on object stores), then finish or discard what
    /// a killed run left.
    pub fn open_for_writing(location: Location, command: &str, wait: std::time::Duration, lease: std::time::Duration) -> Result<Self> {
        let writer = WriterLock::acquire(&location, command, wait, lease)?;
        crate::fault::hold();
        let manifest = txn::recover(&location)?;
        Ok(Warehouse { location, manifest, writer: Some(writer) })
    }

    /// Open the warehouse at `location` to read its committed state; changes nothing, takes no
    /// lock (a writer's staged files are not a reader's business).
    pub fn open_read_only(location: Location) -> Result<Self> {
        let manifest = txn::load(&location)?;
        Ok(Warehouse { location, manifest, writer: None })
    }

    /// The committed state.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Where the warehouse lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Start a transaction on top of the committed state.
    pub fn begin(&self) -> Txn {
        Txn::new(self.manifest.clone())
    }

    /// Publish a transaction; on return its files and bookkeeping are visible.
    pub fn commit(&mut self, txn: Txn) -> Result<()> {
        let change = ManifestChange::between(&self.manifest, txn.manifest());
        if txn.is_empty() && change.is_empty() {
            return Ok(());
        }
        match &self.writer {
            Some(writer) => writer.ensure_held()?,
            None => return Err(Error::bookkeeping(self.location.url(), "opened read-only: cannot commit")),
        }
        self.manifest = txn.commit(&self.location, change)?;
        Ok(())
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
