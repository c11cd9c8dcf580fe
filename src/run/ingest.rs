//! `pipelake ingest`: decode raw objects not ingested before, one landing day (or less) per
//! transaction, and account for every record.

use std::collections::BTreeMap;
use std::sync::mpsc::SyncSender;
use std::time::Instant;

use chrono::Utc;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::{on_pool, Pipelake};
use crate::error::{Error, PolarsContext, Result};
use crate::lake::{decompress, list_raw_objects, Compression, Location, RawObject};
use crate::settings::Settings;
use crate::sources::{BatchOutcome, IngestContext, LoadedObject, Prepared, Source};
use crate::summaries;
use crate::timestamp::date_to_days;
use crate::warehouse::{ObjectRecord, Txn, INGESTED_OBJECTS, REJECTS};

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
            version,
            "ingested batch"
        );
        self.objects += batch.len() as u64;
        self.bytes += bytes;
        self.records += counts.records();
        self.accepted += counts.accepted;
        self.duplicates += counts.duplicates;
        self.rejected += counts.rejected;
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
            let known = self.warehouse.manifest().objects.get(name);
            let new: Vec<RawObject> =
                list_raw_objects(&self.raw, name)?.into_iter().filter(|o| known.is_none_or(|k| !k.contains_key(&o.key))).collect();
            let mut summary = SourceIngest { source: name.to_string(), ..Default::default() };
            let bar = self.progress.bytes(new.iter().map(|o| o.size).sum(), &format!("ingest {name}"));
            let pending = batches(new, self.settings.batch_bytes, source.batch_weight());
            let session = std::sync::Mutex::new(None);
            let (raw, settings, warehouse) = (&self.raw, &self.settings, &mut self.warehouse);
            // A reader thread reads and prepares batches ahead (one waiting, one in the making)
            // while this thread deduplicates and publishes: whenever either side runs serial
            // code, the other has work for the idle core.
            let (ready, incoming) = std::sync::mpsc::sync_channel(1);
            std::thread::scope(|scope| -> Result<()> {
                let reader = scope.spawn(move || read_ahead(raw, settings, source, pending, ready));
                let published = incoming.into_iter().try_for_each(|loaded| {
                    let (prepared, loaded) = loaded?;
                    let ctx = IngestContext { warehouse, settings, prepared: std::sync::Mutex::new(prepared), session: &session };
                    let mut txn = warehouse.begin();
                    let outcome = on_pool(|| {
                        let outcome = source.ingest(&loaded, &ctx, &mut txn)?;
                        record_objects(&mut txn, &loaded, &outcome)?;
                        Ok::<_, Error>(outcome)
                    })?;
                    warehouse.commit(txn)?;
                    let bytes = summary.add(&loaded, outcome, warehouse.manifest().version);
                    bar.inc(bytes);
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
                seconds = summary.seconds,
                "ingest done"
            );
            report.sources.push(summary);
        }
        Ok(report)
    }
}

/// Read, decompress and prepare `batches` in order, handing each to `ready`; stop after the first
/// that fails to read, or when nobody receives any more.
fn read_ahead(
    raw: &Location,
    settings: &Settings,
    source: &dyn Source,
    batches: Vec<Vec<RawObject>>,
    ready: SyncSender<Result<(Option<Prepared>, Vec<LoadedObject>)>>,
) {
    for batch in batches {
        let loaded = load(raw, batch).map(|l| on_pool(|| (source.prepare(&l, settings), l)));
        let failed = loaded.is_err();
        if ready.send(loaded).is_err() || failed {
            break;
        }
    }
}

/// Read and decompress a batch of objects.
fn load(raw: &Location, batch: Vec<RawObject>) -> Result<Vec<LoadedObject>> {
    let keys: Vec<String> = batch.iter().map(|o| o.key.clone()).collect();
    let bodies = raw.get_many(&keys).into_iter().collect::<Result<Vec<_>>>()?;
    Ok(on_pool(|| {
        batch
            .into_par_iter()
            .zip(bodies)
            .map(|(object, bytes)| {
                let (data, damage) = decompress(bytes, Compression::of_key(&object.key).0);
                LoadedObject { object, data, damage }
            })
            .collect()
    }))
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
        Int32Chunked::from_vec("date".into(), landed.clone()).into_date().into_column(),
    ])
    .context("ingested_objects rows")?;
    txn.append(&INGESTED_OBJECTS, objects)?;

    if !outcome.rejects.is_empty() {
        let r = &outcome.rejects;
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

    for (o, counts) in batch.iter().zip(&outcome.counts) {
        let record = ObjectRecord {
            landed: o.object.landed,
            size: o.object.size,
            records: counts.records(),
            accepted: counts.accepted,
            duplicates: counts.duplicates,
            rejected: counts.rejected,
            pruned: false,
        };
        txn.manifest_mut().objects.entry(o.object.source.clone()).or_default().insert(o.object.key.clone(), record);
    }
    for summary in summaries::all() {
        let changed = summary.inputs().iter().filter_map(|t| outcome.days_written.get(t.name)).flatten().copied().collect();
        let affected = summary.affected_days(&changed, txn.manifest());
        if !affected.is_empty() {
            txn.manifest_mut().mark_pending(summary.table().name, affected);
        }
    }
    Ok(())
}
