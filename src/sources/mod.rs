//! Sources: one folder each under `src/sources/`, one registration in [`all`].
//!
//! A source turns a batch of raw objects (in landing order, already decompressed) into fact rows
//! appended to its tables, deduplicated against the warehouse, and accounts for every record:
//! accepted, duplicate or rejected.

pub mod commits;
pub mod devops_events;
pub mod ndjson;
pub mod perf;
pub mod pipelines;
pub mod telemetry;
pub mod webhooks;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use bytes::Bytes;
use chrono::NaiveDate;

use crate::error::Result;
use crate::generate::{DayObjects, GenerateOptions};
use crate::lake::RawObject;
use crate::settings::Settings;
use crate::warehouse::{TableDef, Txn, Warehouse};

/// A raw object read and decompressed, ready to decode.
pub struct LoadedObject {
    pub object: RawObject,
    /// The decompressed bytes (what could be decompressed, when the stream is damaged).
    pub data: Bytes,
    /// Why decompression stopped early, if it did.
    pub damage: Option<String>,
}

impl LoadedObject {
    /// When the object landed, in microseconds: its last-modified time, or the start of its
    /// `dt=` day when it was modified on another day (copied or restored later), so that a copy
    /// lands as the original did. What records without a time of their own are timed by.
    pub fn landing_time(&self) -> i64 {
        let modified = self.object.last_modified.timestamp_micros();
        if crate::timestamp::date_of_micros(modified) == self.object.landed {
            modified
        } else {
            crate::timestamp::date_to_days(self.object.landed) as i64 * crate::timestamp::MICROS_PER_DAY
        }
    }

    /// The object's key without its compression extension, for telling framings apart.
    pub fn base_key(&self) -> &str {
        crate::lake::Compression::of_key(&self.object.key).1
    }
}

/// One record that could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// Index of the object in the batch.
    pub object: usize,
    /// 1-based line or message position; 0 for the object as a whole.
    pub position: u64,
    pub reason: String,
    /// The record's text, when it is text.
    pub record: Option<String>,
}

impl Reject {
    /// Longest record text kept with a reject.
    pub const MAX_RECORD_BYTES: usize = 4096;

    /// Most rejects kept, with position, reason and text, per object (and per chunk of an
    /// object, where decoders work in parallel). Past it, rejected records are counted, and one
    /// row per object says how many were not kept: an object of a billion bad one-byte lines
    /// costs a count, not a billion rows in memory.
    pub const MAX_KEPT_PER_OBJECT: usize = 10_000;

    /// A reject keeping (the start of) the record's text.
    pub fn new(object: usize, position: u64, reason: impl Into<String>, record: &[u8]) -> Self {
        let cut = &record[..record.len().min(Self::MAX_RECORD_BYTES)];
        Reject { object, position, reason: reason.into(), record: Some(String::from_utf8_lossy(cut).into_owned()) }
    }

    /// A reject of the object as a whole (damaged stream, unsupported framing).
    pub fn whole_object(object: usize, reason: impl Into<String>) -> Self {
        Reject { object, position: 0, reason: reason.into(), record: None }
    }
}

/// How many more rejects a decoder keeps, with their text, of one object (or of its share of
/// one); past that, rejects are only counted, in [`RejectBudget::unkept`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RejectBudget {
    left: usize,
    /// Rejects past the budget, counted but not kept.
    pub unkept: u64,
}

impl RejectBudget {
    /// A budget of `keep` rejects.
    pub fn new(keep: usize) -> Self {
        RejectBudget { left: keep, unkept: 0 }
    }

    /// Whether to keep the next reject; when not, it is counted in `unkept`.
    pub fn keep(&mut self) -> bool {
        if self.left > 0 {
            self.left -= 1;
            true
        } else {
            self.unkept += 1;
            false
        }
    }
}

/// How the records of one object were accounted for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCounts {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Valid records of a kind the source does not use.
    pub skipped: u64,
}

impl RecordCounts {
    pub fn records(&self) -> u64 {
        self.accepted + self.duplicates + self.rejected + self.skipped
    }
}

/// What a source did with one batch.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Per object of the batch, in batch order.
    pub counts: Vec<RecordCounts>,
    pub rejects: Vec<Reject>,
    /// Per object: how many more rejects `rejects` keeps, and those only counted.
    budgets: Vec<RejectBudget>,
    /// Per object: the skipped records by kind.
    pub skipped_kinds: Vec<BTreeMap<String, u64>>,
    /// Event days that received rows, per fact table.
    pub days_written: BTreeMap<&'static str, BTreeSet<NaiveDate>>,
    /// Rows appended, per fact table.
    pub rows_written: BTreeMap<&'static str, u64>,
}

impl BatchOutcome {
    /// An outcome for `objects` objects, all counts zero.
    pub fn new(objects: usize) -> Self {
        BatchOutcome {
            counts: vec![RecordCounts::default(); objects],
            budgets: vec![RejectBudget::new(Reject::MAX_KEPT_PER_OBJECT); objects],
            skipped_kinds: vec![BTreeMap::new(); objects],
            ..Default::default()
        }
    }

    /// The counts of all objects together.
    pub fn totals(&self) -> RecordCounts {
        self.counts.iter().fold(RecordCounts::default(), |a, c| RecordCounts {
            accepted: a.accepted + c.accepted,
            duplicates: a.duplicates + c.duplicates,
            rejected: a.rejected + c.rejected,
            skipped: a.skipped + c.skipped,
        })
    }

    /// Count a reject against its object and keep it (up to [`Reject::MAX_KEPT_PER_OBJECT`]
    /// per object; past that it is only counted).
    pub fn reject(&mut self, reject: Reject) {
        let object = reject.object;
        self.counts[object].rejected += 1;
        if self.budgets[object].keep() {
            self.rejects.push(reject);
        }
    }

    /// Count a valid record of a kind the source does not use, by its kind.
    pub fn skip(&mut self, object: usize, kind: String) {
        self.counts[object].skipped += 1;
        *self.skipped_kinds[object].entry(kind).or_default() += 1;
    }

    /// Count `n` rejected records of `object` that a decoder did not keep (past its bound).
    pub fn reject_unkept(&mut self, object: usize, n: u64) {
        self.counts[object].rejected += n;
        self.budgets[object].unkept += n;
    }

    /// Per object (its index in the batch) with any: the rejected records only counted.
    pub fn unkept(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.budgets.iter().enumerate().filter(|(_, b)| b.unkept > 0).map(|(object, b)| (object, b.unkept))
    }

    /// Append frames to fact tables within `txn` (encoded together, in parallel), noting the
    /// days and rows written.
    pub fn append(&mut self, txn: &mut Txn, tables: Vec<(&'static TableDef, polars::prelude::DataFrame)>) -> Result<()> {
        let rows: Vec<(&'static str, u64)> = tables.iter().map(|(t, df)| (t.name, df.height() as u64)).collect();
        let days = txn.append_many(tables)?;
        for ((name, rows), days) in rows.into_iter().zip(days) {
            *self.rows_written.entry(name).or_default() += rows;
            self.days_written.entry(name).or_default().extend(days);
        }
        Ok(())
    }
}

/// What [`Source::prepare`] computed ahead of [`Source::ingest`] for a batch.
pub type Prepared = Box<dyn std::any::Any + Send>;

/// What a source keeps from one batch to the next within one ingest (state it would otherwise
/// read back from the warehouse for every batch).
pub type Session = Box<dyn std::any::Any + Send>;

/// What a source may consult while ingesting: the committed warehouse, the settings, what
/// `prepare` computed for this batch, and what earlier batches of this ingest left.
pub struct IngestContext<'a> {
    pub warehouse: &'a Warehouse,
    pub settings: &'a Settings,
    pub prepared: Mutex<Option<Prepared>>,
    pub session: &'a Mutex<Option<Session>>,
}

impl IngestContext<'_> {
    /// Take what `prepare` computed for this batch, if it was of type `T`.
    pub fn take_prepared<T: 'static>(&self) -> Option<T> {
        let prepared = self.prepared.lock().ok()?.take()?;
        prepared.downcast::<T>().ok().map(|b| *b)
    }

    /// Take what an earlier batch of this ingest kept with [`IngestContext::keep_session`], if it
    /// was of type `T`. A batch that fails keeps nothing: the ingest stops there.
    pub fn take_session<T: 'static>(&self) -> Option<T> {
        let session = self.session.lock().ok()?.take()?;
        session.downcast::<T>().ok().map(|b| *b)
    }

    /// Keep `session` for the next batch, once this one's transaction is built.
    pub fn keep_session<T: Send + 'static>(&self, session: T) {
        if let Ok(mut slot) = self.session.lock() {
            *slot = Some(Box::new(session));
        }
    }
}

/// A kind of raw data pipelake ingests.
pub trait Source: Send + Sync {
    /// The folder under the raw root, and the name `--source` takes.
    fn name(&self) -> &'static str;
    /// The fact tables it writes.
    fn tables(&self) -> &'static [&'static TableDef];
    /// Raw objects older than this many days are pruned once ingested; `None` (the default)
    /// keeps them.
    fn default_retention_days(&self) -> Option<u32> {
        None
    }
    /// How much a raw byte weighs in a batch, for what it takes once decoded (text formats 1;
    /// dense binary ones more), so that every source's batches take similar memory.
    fn batch_weight(&self) -> u64 {
        1
    }
    /// Work on a batch that needs nothing from the warehouse (decoding), done while the previous
    /// batch is still being deduplicated and written; `ingest` gets it back through
    /// [`IngestContext::take_prepared`]. By default nothing.
    fn prepare(&self, _batch: &[LoadedObject], _settings: &Settings) -> Option<Prepared> {
        None
    }
    /// Decode a batch of objects in landing order, deduplicate against the warehouse and append
    /// to the fact tables within `txn` (including any dedup bookkeeping).
    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome>;
    /// Realistic raw objects of one landing day, quirks included (`pipelake generate`).
    fn generate(&self, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects;
}

/// A stable 64-bit fingerprint of some bytes (FNV-1a), for dedup keys that are not numbers:
/// equal bytes, equal keys, in every version of pipelake.
pub fn fingerprint(bytes: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Every registered source, in the order runs process them.
pub fn all() -> &'static [&'static dyn Source] {
    static ALL: [&dyn Source; 8] = [
        &pipelines::PipelinesSource,
        &telemetry::TelemetrySource,
        &devops_events::DevopsEventsSource,
        &perf::PerfSource,
        &commits::CommitsSource,
        &webhooks::GITHUB,
        &webhooks::GITLAB,
        &webhooks::PAGERDUTY,
    ];
    &ALL
}

/// The source called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Source> {
    all().iter().copied().find(|s| s.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_never_change() {
        // FNV-1a's published test vectors: keys written by one version must match the next.
        assert_eq!(fingerprint(b"") as u64, 0xcbf29ce484222325);
        assert_eq!(fingerprint(b"a") as u64, 0xaf63dc4c8601ec8c);
        assert_ne!(fingerprint(b"{\"a\": 1}"), fingerprint(b"{\"a\": 2}"));
    }
}
