//! `pipelake ingest`: decode raw objects not ingested before, one landing day (or less) per
//! transaction, and account for every record.

use std::collections::{BTreeMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

use bytes::Bytes;
use std::sync::mpsc::SyncSender;
use std::time::Instant;

use chrono::Utc;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::{on_pool, Pipelake};
use crate::error::{Error, PolarsContext, Result};
use crate::lake::{decompress, list_raw_objects, too_large, Compression, Decompressed, Location, RawObject};
use crate::settings::{Limits, Settings};
use crate::sources::{BatchOutcome, IngestContext, LoadedObject, Prepared, Reject, Session, Source};
use crate::summaries;
use crate::timestamp::date_to_days;
use crate::warehouse::{ObjectRecord, Txn, Warehouse, INGESTED_OBJECTS, REJECTS};

/// What ingesting one source did.
#[derive(Debug, Default, Serialize)]
pub struct SourceIngest {
    pub source: String,
    pub objects: u64,
    pub bytes: u64,
    pub records: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub rows_written: BTreeMap<String, u64>,
    pub transactions: u64,
    pub seconds: f64,
}

impl SourceIngest {
    /// Count (and log) one published batch, committed as `version`. Returns its raw bytes.
    fn add(&mut self, batch: &[LoadedObject], outcome: BatchOutcome, version: u64) -> u64 {
        let bytes: u64 = batch.iter().map(|o| o.object.size).sum();
        let counts = outcome.totals();
        tracing::info!(
            source = self.source,
            first_landed = %batch[0].object.landed,
            last_landed = %batch[batch.len() - 1].object.landed,
            objects = batch.len(),
            bytes,
            records = counts.records(),
            accepted = counts.accepted,
            duplicates = counts.duplicates,
            rejected = counts.rejected,
            skipped = counts.skipped,
            version,
            "ingested batch"
        );
        self.objects += batch.len() as u64;
        self.bytes += bytes;
        self.records += counts.records();
        self.accepted += counts.accepted;
        self.duplicates += counts.duplicates;
        self.rejected += counts.rejected;
        self.skipped += counts.skipped;
        self.transactions += 1;
        for (table, rows) in outcome.rows_written {
            *self.rows_written.entry(table.to_string()).or_default() += rows;
        }
        bytes
    }
}

/// What `pipelake ingest` did, per source.
#[derive(Debug, Default, Serialize)]
pub struct IngestReport {
    pub sources: Vec<SourceIngest>,
}

impl Pipelake {
    /// Ingest every raw object of `sources` not ingested before.
    pub fn ingest(&mut self, sources: &[&'static dyn Source]) -> Result<IngestReport> {
        let mut report = IngestReport::default();
        for &source in sources {
            let started = Instant::now();
            let name = source.name();
            let listing = list_raw_objects(&self.raw, name)?;
            for skipped in &listing.skipped {
                tracing::warn!(source = name, name = skipped.name, reason = skipped.reason, "raw entry skipped");
            }
            let new = pending_objects(listing.objects, self.warehouse.manifest().objects.get(name));
            let mut summary = SourceIngest { source: name.to_string(), ..Default::default() };
            let bar = self.progress.bytes(new.iter().map(|o| o.size).sum(), &format!("ingest {name}"));
            let pending = batches(new, self.settings.batch_bytes, source.batch_weight());
            let session = Mutex::new(None);
            let (raw, settings, warehouse) = (&self.raw, &self.settings, &mut self.warehouse);
            // A reader thread reads and prepares batches ahead (one waiting, one in the making)
            // while this thread deduplicates and publishes: whenever either side runs serial
            // code, the other has work for the idle core.
            let (ready, incoming) = std::sync::mpsc::sync_channel(1);
            std::thread::scope(|scope| -> Result<()> {
                let reader = scope.spawn(move || read_ahead(raw, settings, source, pending, ready));
                let published = incoming.into_iter().try_for_each(|loaded| {
                    let (prepared, loaded) = loaded?;
                    match stage(source, warehouse, settings, &session, prepared, &loaded)? {
                        Ok((txn, outcome)) => {
                            warehouse.commit(txn)?;
                            bar.inc(summary.add(&loaded, outcome, warehouse.manifest().version));
                        }
                        Err(message) => {
                            // A decoder panicked: a bug that some input reaches. Nothing of the
                            // batch was kept; taken one object at a time, the object that
                            // panics again is rejected whole and every other one is ingested.
                            tracing::warn!(
                                source = name,
                                objects = loaded.len(),
                                error = message,
                                "decoding panicked: one object at a time"
                            );
                            for object in loaded {
                                let one = [object];
                                let (txn, outcome) = match stage(source, warehouse, settings, &session, None, &one)? {
                                    Ok(staged) => staged,
                                    Err(message) => internal_error(warehouse, &one, &message)?,
                                };
                                warehouse.commit(txn)?;
                                bar.inc(summary.add(&one, outcome, warehouse.manifest().version));
                            }
                        }
                    }
                    Ok(())
                });
                // The reader stops once `incoming` is dropped, also after an error.
                let read = reader.join().map_err(|_| Error::bookkeeping("ingest", "reading raw objects panicked"));
                published.and(read)
            })?;
            bar.finish_and_clear();
            summary.seconds = started.elapsed().as_secs_f64();
            let written: Vec<String> = summary.rows_written.iter().map(|(t, n)| format!("{t}={n}")).collect();
            tracing::info!(
                source = name,
                objects = summary.objects,
                bytes = summary.bytes,
                rows_written = written.join(" "),
                transactions = summary.transactions,
                records = summary.records,
                accepted = summary.accepted,
                duplicates = summary.duplicates,
                rejected = summary.rejected,
                skipped = summary.skipped,
                seconds = summary.seconds,
                "ingest done"
            );
            report.sources.push(summary);
        }
        Ok(report)
    }
}

/// Decode, deduplicate and stage one batch in a transaction, ready to commit. `Ok(Err(message))`
/// when decoding panicked: nothing of the batch is kept, nor what the source kept for the next
/// batch (it may hold part of this one).
fn stage(
    source: &dyn Source,
    warehouse: &Warehouse,
    settings: &Settings,
    session: &Mutex<Option<Session>>,
    prepared: Option<Prepared>,
    loaded: &[LoadedObject],
) -> Result<Result<(Txn, BatchOutcome), String>> {
    let ctx = IngestContext { warehouse, settings, prepared: Mutex::new(prepared), session };
    let mut txn = warehouse.begin();
    let staged = on_pool(|| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            loaded.iter().for_each(|o| crate::fault::panic_on(&o.object.key));
            let outcome = source.ingest(loaded, &ctx, &mut txn)?;
            record_objects(&mut txn, loaded, &outcome)?;
            Ok::<_, Error>(outcome)
        }))
    });
    match staged {
        Ok(outcome) => Ok(Ok((txn, outcome?))),
        Err(panic) => {
            session.clear_poison();
            *session.lock().unwrap_or_else(|e| e.into_inner()) = None;
            Ok(Err(crate::error::panic_message(&*panic)))
        }
    }
}

/// A transaction that rejects one object whole, for a decoder that panicked on it.
fn internal_error(warehouse: &Warehouse, one: &[LoadedObject], message: &str) -> Result<(Txn, BatchOutcome)> {
    let mut txn = warehouse.begin();
    let mut outcome = BatchOutcome::new(one.len());
    for i in 0..one.len() {
        outcome.reject(Reject::whole_object(i, format!("internal error: {message}")));
    }
    record_objects(&mut txn, one, &outcome)?;
    Ok((txn, outcome))
}

/// The listed objects not ingested in their current version: new keys, and keys whose object
/// changed since (appended to, overwritten, or uploaded again after prune). A changed object
/// keeps the landing day and last-modified time of its first version (see
/// [`ObjectRecord::modified`]), so that records timed by its landing stay duplicates.
fn pending_objects(listed: Vec<RawObject>, known: Option<&BTreeMap<String, ObjectRecord>>) -> Vec<RawObject> {
    listed
        .into_iter()
        .filter_map(|mut o| match known.and_then(|k| k.get(&o.key)) {
            None => Some(o),
            Some(record) if record.is_version(&o.version, o.size) => None,
            Some(record) => {
                if let Some(first) = record.modified {
                    o.last_modified = first;
                    o.landed = record.landed;
                }
                Some(o)
            }
        })
        .collect()
}

/// Read, decompress and prepare `batches` in order, handing each to `ready`; stop after the first
/// that fails to read, or when nobody receives any more. A batch whose objects expand past the
/// batch size is cut there, and the rest is read as the next batch.
fn read_ahead(
    raw: &Location,
    settings: &Settings,
    source: &dyn Source,
    batches: Vec<Vec<RawObject>>,
    ready: SyncSender<Result<(Option<Prepared>, Vec<LoadedObject>)>>,
) {
    let mut queue: VecDeque<Vec<RawObject>> = batches.into();
    while let Some(batch) = queue.pop_front() {
        let loaded = load(raw, batch, &settings.limits, settings.batch_bytes / source.batch_weight().max(1)).map(|(loaded, rest)| {
            if !rest.is_empty() {
                queue.push_front(rest);
            }
            (prepare_guarded(source, &loaded, settings), loaded)
        });
        let failed = loaded.is_err();
        if ready.send(loaded).is_err() || failed {
            break;
        }
    }
}

/// [`Source::prepare`], on the pool; a panic leaves the work to `ingest`, where a panic is
/// isolated to the object that causes it.
fn prepare_guarded(source: &dyn Source, loaded: &[LoadedObject], settings: &Settings) -> Option<Prepared> {
    on_pool(|| std::panic::catch_unwind(AssertUnwindSafe(|| source.prepare(loaded, settings))).ok().flatten())
}

/// Read and decompress a batch of objects, in order, until what they expand to passes `budget`
/// bytes: the objects after that come back, not decompressed, for the next batch (which reads
/// them again: compressed, they weigh at most a quarter of the batch size, and only a batch
/// that expands past its size is cut). Memory stays near the budget plus one object per core,
/// whatever the compression ratio. An object larger than
/// `limits.object_bytes` (listed, or once decompressed) is not kept: it becomes a reject.
fn load(raw: &Location, batch: Vec<RawObject>, limits: &Limits, budget: u64) -> Result<(Vec<LoadedObject>, Vec<RawObject>)> {
    let keys: Vec<String> = batch.iter().filter(|o| o.size <= limits.object_bytes).map(|o| o.key.clone()).collect();
    let mut bodies = raw.get_many(&keys).into_iter();
    let group = polars_core::runtime::THREAD_POOL.current_num_threads().max(1);
    let mut loaded: Vec<LoadedObject> = Vec::with_capacity(batch.len());
    let mut used = 0u64;
    let mut objects = batch.into_iter().peekable();
    while objects.peek().is_some() {
        if used > budget && !loaded.is_empty() {
            return Ok((loaded, objects.collect()));
        }
        let mut items = Vec::with_capacity(group);
        for object in objects.by_ref().take(group) {
            if object.size > limits.object_bytes {
                let reason = too_large(object.size, limits.object_bytes);
                items.push((object, Err(reason)));
                continue;
            }
            match bodies.next().expect("a body per read key") {
                Ok(bytes) => items.push((object, Ok(bytes))),
                // Deleted since it was listed: nothing to account for.
                Err(Error::Store { source: object_store::Error::NotFound { .. }, .. }) => {
                    tracing::warn!(key = object.key, "raw object gone since it was listed");
                }
                // On local disk, a file this process may not read, or one replaced by a link or
                // a pipe since it was listed: the object is a reject, the run goes on.
                Err(Error::Io { source, .. }) => items.push((object, Err(format!("cannot be read: {source}")))),
                // The store itself failing (network, credentials) fails the run, to be retried.
                Err(e) => return Err(e),
            }
        }
        let done: Vec<LoadedObject> = on_pool(|| {
            items
                .into_par_iter()
                .map(|(object, body)| {
                    let (data, damage) = match body.map(|bytes| decompress(bytes, Compression::of_key(&object.key).0, limits.object_bytes))
                    {
                        Ok(Decompressed::Whole(data)) => (data, None),
                        Ok(Decompressed::Damaged(data, reason)) => (data, Some(reason)),
                        Ok(Decompressed::TooLarge(reason)) | Err(reason) => (Bytes::new(), Some(reason)),
                    };
                    LoadedObject { object, data, damage }
                })
                .collect()
        });
        used += done.iter().map(|o| o.data.len() as u64).sum::<u64>();
        loaded.extend(done);
    }
    Ok((loaded, Vec::new()))
}

/// Group objects (in landing order) into batches of at most `max_bytes` (compressed objects
/// weigh four times their size, for what they expand to, times the source's batch weight). A batch may span landing days: the
/// order within it is still landing order, and fewer, larger transactions keep all cores busy.
fn batches(objects: Vec<RawObject>, max_bytes: u64, source_weight: u64) -> Vec<Vec<RawObject>> {
    let mut out: Vec<Vec<RawObject>> = Vec::new();
    let mut weight = 0u64;
    for o in objects {
        let w = if Compression::of_key(&o.key).0 == Compression::None { o.size } else { o.size.saturating_mul(4) };
        let w = w.saturating_mul(source_weight);
        match out.last_mut() {
            Some(last) if weight + w <= max_bytes => {
                weight += w;
                last.push(o);
            }
            _ => {
                weight = w;
                out.push(vec![o]);
            }
        }
    }
    out
}

/// Add the batch's `ingested_objects` and `rejects` rows, remember the objects as ingested and
/// mark the summary days the new facts make stale.
fn record_objects(txn: &mut Txn, batch: &[LoadedObject], outcome: &BatchOutcome) -> Result<()> {
    let now = Utc::now().timestamp_micros();
    let n = batch.len();
    let landed: Vec<i32> = batch.iter().map(|o| date_to_days(o.object.landed)).collect();
    let objects = DataFrame::new_infer_height(vec![
        Column::new("source".into(), batch.iter().map(|o| o.object.source.as_str()).collect::<Vec<_>>()),
        Column::new("raw_key".into(), batch.iter().map(|o| o.object.key.as_str()).collect::<Vec<_>>()),
        Column::new("size".into(), batch.iter().map(|o| o.object.size as i64).collect::<Vec<_>>()),
        Int32Chunked::from_vec("landed".into(), landed.clone()).into_date().into_column(),
        Int64Chunked::from_vec("ingested_at".into(), vec![now; n]).into_datetime(TimeUnit::Microseconds, None).into_column(),
        Column::new("records".into(), outcome.counts.iter().map(|c| c.records() as i64).collect::<Vec<_>>()),
        Column::new("accepted".into(), outcome.counts.iter().map(|c| c.accepted as i64).collect::<Vec<_>>()),
        Column::new("duplicates".into(), outcome.counts.iter().map(|c| c.duplicates as i64).collect::<Vec<_>>()),
        Column::new("rejected".into(), outcome.counts.iter().map(|c| c.rejected as i64).collect::<Vec<_>>()),
        Column::new("skipped".into(), outcome.counts.iter().map(|c| c.skipped as i64).collect::<Vec<_>>()),
        Int32Chunked::from_vec("date".into(), landed.clone()).into_date().into_column(),
    ])
    .context("ingested_objects rows")?;
    txn.append(&INGESTED_OBJECTS, objects)?;

    // One row per object for the rejected records past the bound, which were only counted.
    let unkept: Vec<Reject> = outcome
        .unkept()
        .map(|(object, n)| {
            let reason =
                format!("{n} more rejected records, counted but not kept (at most {} kept per object)", Reject::MAX_KEPT_PER_OBJECT);
            Reject::whole_object(object, reason)
        })
        .collect();
    if !outcome.rejects.is_empty() || !unkept.is_empty() {
        let r: Vec<&Reject> = outcome.rejects.iter().chain(&unkept).collect();
        let rejects = DataFrame::new_infer_height(vec![
            Column::new("source".into(), r.iter().map(|x| batch[x.object].object.source.as_str()).collect::<Vec<_>>()),
            Column::new("raw_key".into(), r.iter().map(|x| batch[x.object].object.key.as_str()).collect::<Vec<_>>()),
            Column::new("position".into(), r.iter().map(|x| x.position as i64).collect::<Vec<_>>()),
            Column::new("reason".into(), r.iter().map(|x| x.reason.as_str()).collect::<Vec<_>>()),
            Column::new("record".into(), r.iter().map(|x| x.record.as_deref()).collect::<Vec<_>>()),
            Int32Chunked::from_vec("date".into(), r.iter().map(|x| landed[x.object]).collect()).into_date().into_column(),
        ])
        .context("rejects rows")?;
        txn.append(&REJECTS, rejects)?;
    }

    for ((o, counts), kinds) in batch.iter().zip(&outcome.counts).zip(&outcome.skipped_kinds) {
        let objects = txn.manifest_mut().objects.entry(o.object.source.clone()).or_default();
        // A changed object adds what its new version gave to what earlier versions gave, so
        // that the counts stay those of the rows in the tables.
        let before = objects.get(&o.object.key);
        let record = ObjectRecord {
            landed: o.object.landed,
            size: o.object.size,
            records: before.map_or(0, |b| b.records) + counts.records(),
            accepted: before.map_or(0, |b| b.accepted) + counts.accepted,
            duplicates: before.map_or(0, |b| b.duplicates) + counts.duplicates,
            rejected: before.map_or(0, |b| b.rejected) + counts.rejected,
            skipped: before.map_or(0, |b| b.skipped) + counts.skipped,
            skipped_kinds: {
                let mut all = before.map(|b| b.skipped_kinds.clone()).unwrap_or_default();
                for (kind, n) in kinds {
                    *all.entry(kind.clone()).or_default() += n;
                }
                all
            },
            pruned: false,
            version: Some(o.object.version.clone()),
            modified: Some(o.object.last_modified),
        };
        objects.insert(o.object.key.clone(), record);
    }
    for summary in summaries::all() {
        let mut affected = std::collections::BTreeSet::new();
        for input in summary.inputs() {
            if let Some(days) = outcome.days_written.get(input.name) {
                affected.extend(summary.affected_days(input, days, txn.manifest()));
            }
        }
        if !affected.is_empty() {
            txn.manifest_mut().mark_pending(summary.table().name, affected);
        }
    }
    Ok(())
}
