//! Transactions: stage, commit, publish, and recovery of a transaction a killed run left behind.

use std::collections::BTreeSet;

use bytes::Bytes;
use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{write_parquet, DataFile, Manifest, ManifestChange, TableDef, LOG_DIR, MANIFEST_KEY, STAGING_DIR, TXN_DIR};
use crate::error::{Error, PolarsContext, Result};
use crate::fault;
use crate::lake::Location;
use crate::timestamp::{day_runs, days_to_date};

/// The transaction record: once written, the transaction is committed and will be published,
/// by this run or by the next one to open the warehouse. Once published it moves to the log,
/// where readers find what it changed in the manifest.
#[derive(Debug, Serialize, Deserialize)]
struct TxnRecord {
    version: u64,
    /// (staged key, final key) pairs.
    moves: Vec<(String, String)>,
    /// Final keys deleted by this transaction (replaced partitions, compacted segments, ...).
    removes: Vec<String>,
    #[serde(default)]
    change: ManifestChange,
    /// The whole new manifest, in records written before changes were logged (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    manifest: Option<Manifest>,
}

/// Every this many versions the whole manifest is written to `manifest.json` and the log up to
/// it is deleted: opening reads one checkpoint and at most this many small changes.
const CHECKPOINT_EVERY: u64 = 64;

/// A set of changes published together or not at all.
pub struct Txn {
    manifest: Manifest,
    staged: Vec<(String, Bytes)>,
    removes: Vec<String>,
    files_written: usize,
}

impl Txn {
    pub(super) fn new(mut manifest: Manifest) -> Self {
        manifest.version += 1;
        Txn { manifest, staged: Vec::new(), removes: Vec::new(), files_written: 0 }
    }

    /// The version this transaction will commit as.
    pub fn version(&self) -> u64 {
        self.manifest.version
    }

    /// The state this transaction will commit.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Change the state this transaction will commit.
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    /// Whether the transaction would change nothing in the tables.
    pub fn is_empty(&self) -> bool {
        self.staged.is_empty() && self.removes.is_empty()
    }

    /// Append the rows of `df` to `table`, one new file per `date` partition. `df` must have a
    /// `date` column of type Date, which becomes the partition and is not stored in the files.
    /// Returns the partition days written.
    pub fn append(&mut self, table: &TableDef, df: DataFrame) -> Result<BTreeSet<NaiveDate>> {
        Ok(self.append_many(vec![(table, df)])?.pop().unwrap_or_default())
    }

    /// [`Txn::append`] for several tables at once, encoding all their partitions in one
    /// parallel pass. Returns the partition days written, per table.
    pub fn append_many(&mut self, tables: Vec<(&TableDef, DataFrame)>) -> Result<Vec<BTreeSet<NaiveDate>>> {
        let mut parts = Vec::new();
        let mut names = Vec::with_capacity(tables.len());
        for (t, (table, df)) in tables.iter().enumerate() {
            names.push(format!("part-{:08}-{}.parquet", self.manifest.version, self.files_written));
            self.files_written += 1;
            if df.height() > 0 {
                parts.extend(split_by_date(df).context(format!("partition {}", table.name))?.into_iter().map(|p| (t, p)));
            }
        }
        let encoded: Vec<(usize, NaiveDate, usize, Bytes)> = parts
            .into_par_iter()
            .map(|(t, part)| {
                let table = tables[t].0;
                let days = part.column("date").and_then(|c| c.date()).map(|d| d.physical().get(0));
                let day = match days {
                    Ok(Some(d)) => days_to_date(d),
                    _ => return Err(Error::bookkeeping(table.name, "rows without a date")),
                };
                let mut part = part.drop("date").context("drop date")?;
                let bytes = write_parquet(&mut part).context(format!("encode {}", table.name))?;
                Ok((t, day, part.height(), bytes))
            })
            .collect::<Result<_>>()?;
        let mut days = vec![BTreeSet::new(); tables.len()];
        for (t, day, rows, bytes) in encoded {
            let (table, name) = (tables[t].0, &names[t]);
            let file = DataFile { file: name.clone(), rows: rows as u64, bytes: bytes.len() as u64, hash: None };
            self.manifest.tables.entry(table.name.to_string()).or_default().entry(day).or_default().push(file);
            self.staged.push((table.file_key(day, name), bytes));
            days[t].insert(day);
        }
        Ok(days)
    }

    /// Replace a whole partition of `table` by the rows of `df` (without a `date` column), or
    /// remove it when `df` is `None` or empty. The new file has a fixed name, so that a reader
    /// listing the folder sees the old file or the new one, never both. Returns whether the
    /// partition changed.
    pub fn replace_partition(&mut self, table: &TableDef, day: NaiveDate, df: Option<DataFrame>) -> Result<bool> {
        const NAME: &str = "data.parquet";
        let encoded = match df {
            Some(mut df) if df.height() > 0 => {
                let bytes = write_parquet(&mut df).context(format!("encode {}", table.name))?;
                Some((df.height() as u64, bytes))
            }
            _ => None,
        };
        let parts = self.manifest.tables.entry(table.name.to_string()).or_default();
        let old = parts.remove(&day).unwrap_or_default();
        if let (Some((_, bytes)), [only]) = (&encoded, old.as_slice()) {
            if only.file == NAME && only.hash == Some(content_hash(bytes)) {
                // Recomputed to the same bytes: leave the file alone.
                parts.insert(day, old);
                return Ok(false);
            }
        }
        let changed = encoded.is_some() || !old.is_empty();
        for file in &old {
            if file.file != NAME || encoded.is_none() {
                self.removes.push(table.file_key(day, &file.file));
            }
        }
        if let Some((rows, bytes)) = encoded {
            let file = DataFile { file: NAME.to_string(), rows, bytes: bytes.len() as u64, hash: Some(content_hash(&bytes)) };
            parts.insert(day, vec![file]);
            self.staged.push((table.file_key(day, NAME), bytes));
        }
        if parts.is_empty() {
            self.manifest.tables.remove(table.name);
        }
        Ok(changed)
    }

    /// Publish an object at `key` with this transaction (bookkeeping files such as key segments).
    pub fn put_object(&mut self, key: String, bytes: Bytes) {
        self.staged.push((key, bytes));
    }

    /// Delete the object at `key` when this transaction publishes.
    pub fn remove_object(&mut self, key: String) {
        self.removes.push(key);
    }

    /// Stage, commit and publish; `change` is what it changes in the committed state it began
    /// from. Returns the new committed state.
    pub(super) fn commit(self, location: &Location, change: ManifestChange) -> Result<Manifest> {
        let version = self.manifest.version;
        let staging = staging_folder(version);
        let mut moves = Vec::with_capacity(self.staged.len());
        let mut uploads = Vec::with_capacity(self.staged.len());
        // Staged files sit side by side, not in a copy of the table folders: on local disk every
        // folder is an inode to allocate (and an empty folder left behind) per transaction.
        for (i, (key, bytes)) in self.staged.into_iter().enumerate() {
            let staged_key = format!("{staging}/{i}-{}", key.rsplit('/').next().unwrap_or(&key));
            moves.push((staged_key.clone(), key));
            uploads.push((staged_key, bytes));
        }
        let staged_keys: Vec<String> = uploads.iter().map(|(k, _)| k.clone()).collect();
        location.put_many(uploads)?;
        // On local disk the data reaches the disk before the record that makes it count, and
        // the record before anyone is told: a power loss leaves this version or the one before.
        location.sync(&staged_keys)?;
        fault::point("staged");

        let record = TxnRecord { version, moves, removes: self.removes, change, manifest: None };
        let json = serde_json::to_vec(&record).map_err(|e| Error::bookkeeping(TXN_DIR, e))?;
        if !location.put_if_absent(&txn_key(version), Bytes::from(json))? {
            return Err(Error::bookkeeping(
                txn_key(version),
                "another pipelake process committed the same version: run one job at a time per warehouse",
            ));
        }
        location.sync(&[txn_key(version)])?;
        fault::point("committed");
        publish(location, &record, &self.manifest)?;
        Ok(self.manifest)
    }
}

/// One frame per `date`, rows in their order. Rows in landing order come in runs of one day
/// (an object has one landing day): those are sliced, not copied.
fn split_by_date(df: &DataFrame) -> PolarsResult<Vec<DataFrame>> {
    let dates: Vec<i32> = df.column("date")?.date()?.physical().iter().map(|d| d.unwrap_or(i32::MIN)).collect();
    let runs = day_runs(&dates);
    let mut days: Vec<i32> = runs.iter().map(|r| dates[r.start]).collect();
    days.sort_unstable();
    days.dedup();
    if days.len() < runs.len() {
        return df.partition_by_stable(["date"], true);
    }
    Ok(runs.into_iter().map(|run| df.slice(run.start as i64, run.len())).collect())
}

/// A content hash to recognise a recomputed file that came out the same.
fn content_hash(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

fn txn_key(version: u64) -> String {
    format!("{TXN_DIR}/{version:020}.json")
}

fn log_key(version: u64) -> String {
    format!("{LOG_DIR}/{version:020}.json")
}

/// The versions in the log, in order, with their keys.
fn log_entries(location: &Location) -> Result<Vec<(u64, String)>> {
    let mut entries: Vec<(u64, String)> = location
        .list(LOG_DIR)?
        .into_iter()
        .filter_map(|m| {
            let key = m.location.to_string();
            let version = key.rsplit('/').next()?.strip_suffix(".json")?.parse().ok()?;
            Some((version, key))
        })
        .collect();
    entries.sort();
    Ok(entries)
}

/// Where a transaction stages its files before it commits.
fn staging_folder(version: u64) -> String {
    format!("{STAGING_DIR}/{version:020}")
}

/// Move staged files into place, delete what the transaction removes, move the record to the
/// log (now readers see the change; `manifest` is the state after it), checkpoint every
/// [`CHECKPOINT_EVERY`] versions, clean up. Every step can be repeated: a second publish of
/// the same record changes nothing.
fn publish(location: &Location, record: &TxnRecord, manifest: &Manifest) -> Result<()> {
    for (staged, target) in &record.moves {
        match location.rename(staged, target) {
            // Already moved by an earlier, interrupted publish.
            Err(Error::Store { source: object_store::Error::NotFound { .. }, .. }) => {}
            other => other?,
        }
        fault::point("publishing");
    }
    fault::point("published");
    let targets: Vec<String> = record.moves.iter().map(|(_, target)| target.clone()).collect();
    location.sync_folders(&targets)?;
    location.delete_many(&record.removes)?;
    location.rename(&txn_key(record.version), &log_key(record.version))?;
    location.sync_folders(&[log_key(record.version)])?;
    fault::point("manifest");
    // The first version too, so that a new warehouse has a manifest.json to look at early on.
    if record.version.is_multiple_of(CHECKPOINT_EVERY) || record.version == 1 {
        let json = serde_json::to_vec_pretty(manifest).map_err(|e| Error::bookkeeping(MANIFEST_KEY, e))?;
        location.put(MANIFEST_KEY, Bytes::from(json))?;
        let covered: Vec<String> = log_entries(location)?.into_iter().filter(|(v, _)| *v <= record.version).map(|(_, key)| key).collect();
        location.delete_many(&covered)?;
    }
    let staging = staging_folder(record.version);
    let leftovers: Vec<String> = location.list(&staging)?.into_iter().map(|m| m.location.to_string()).collect();
    location.delete_many(&leftovers)?;
    location.remove_empty_folder(&staging);
    Ok(())
}

/// The committed manifest as it stands, without touching anything (for readers): the last
/// checkpoint with the logged changes after it.
pub(super) fn load(location: &Location) -> Result<Manifest> {
    // A writer checkpointing meanwhile deletes log entries this reader was about to read: the
    // new checkpoint has them, so read again.
    for _ in 0..5 {
        let mut manifest: Manifest = match location.get_opt(MANIFEST_KEY)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::bookkeeping(location.display(MANIFEST_KEY), e))?,
            None => Manifest::default(),
        };
        let newer: Vec<String> = log_entries(location)?.into_iter().filter(|(v, _)| *v > manifest.version).map(|(_, key)| key).collect();
        let mut complete = true;
        for (key, bytes) in newer.iter().zip(location.get_many(&newer)) {
            let bytes = match bytes {
                Ok(bytes) => bytes,
                // Deleted by a checkpoint since the listing.
                Err(Error::Store { source: object_store::Error::NotFound { .. }, .. }) => {
                    complete = false;
                    break;
                }
                Err(e) => return Err(e),
            };
            let record: TxnRecord = serde_json::from_slice(&bytes).map_err(|e| Error::bookkeeping(location.display(key), e))?;
            if record.version != manifest.version + 1 {
                complete = false;
                break;
            }
            change_of(&record, &manifest).apply_to(&mut manifest);
        }
        if complete {
            return Ok(manifest);
        }
    }
    Err(Error::bookkeeping(location.display(LOG_DIR), "the log kept changing while read, or misses a version"))
}

/// What a record changes on top of `base` (records of older versions hold the whole manifest).
fn change_of(record: &TxnRecord, base: &Manifest) -> ManifestChange {
    match &record.manifest {
        Some(whole) => ManifestChange::between(base, whole),
        None => record.change.clone(),
    }
}

/// Load the committed state, publishing a committed transaction a killed run left behind and
/// discarding staged files of uncommitted ones.
pub(super) fn recover(location: &Location) -> Result<Manifest> {
    let mut manifest = load(location)?;
    let mut records: Vec<String> = location.list(TXN_DIR)?.into_iter().map(|m| m.location.to_string()).collect();
    records.sort();
    for key in records {
        let bytes = location.get(&key)?;
        let record: TxnRecord = serde_json::from_slice(&bytes).map_err(|e| Error::bookkeeping(location.display(&key), e))?;
        if record.version == manifest.version + 1 {
            tracing::warn!(version = record.version, "finishing a transaction an interrupted run committed");
            change_of(&record, &manifest).apply_to(&mut manifest);
            publish(location, &record, &manifest)?;
        } else if record.version <= manifest.version {
            location.delete(&key)?;
        } else {
            return Err(Error::bookkeeping(
                location.display(&key),
                format!("transaction {} follows manifest version {}", record.version, manifest.version),
            ));
        }
    }
    let orphans: Vec<String> = location.list(STAGING_DIR)?.into_iter().map(|m| m.location.to_string()).collect();
    if !orphans.is_empty() {
        tracing::info!(files = orphans.len(), "removing files staged by an interrupted run");
        location.delete_many(&orphans)?;
    }
    // The folders of transactions killed after their files were moved or deleted.
    location.remove_empty_folders(STAGING_DIR);
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::{ObjectRecord, Warehouse};

    fn location(dir: &std::path::Path) -> Location {
        let runtime = std::sync::Arc::new(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
        Location::open(dir.to_str().unwrap(), true, runtime).unwrap()
    }

    fn writer(dir: &std::path::Path) -> Warehouse {
        let second = std::time::Duration::from_secs(1);
        Warehouse::open_for_writing(location(dir), "test", second, second * 60).unwrap()
    }

    fn ingested(txn: &mut Txn, key: String) {
        let landed = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let record = ObjectRecord {
            landed,
            size: 1,
            records: 1,
            accepted: 1,
            duplicates: 0,
            rejected: 0,
            pruned: false,
            version: None,
            modified: None,
        };
        txn.manifest_mut().objects.entry("telemetry".into()).or_default().insert(key, record);
    }

    #[test]
    fn commits_log_their_change_and_checkpoints_keep_the_log_short() {
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = writer(dir.path());
        for i in 0..150 {
            let mut txn = warehouse.begin();
            ingested(&mut txn, format!("k{i}"));
            warehouse.commit(txn).unwrap();
            if i % 37 == 0 || i == 127 || i == 128 {
                let read = Warehouse::open_read_only(location(dir.path())).unwrap();
                assert_eq!(read.manifest(), warehouse.manifest(), "a reader after version {}", i + 1);
            }
        }
        let logged = log_entries(&location(dir.path())).unwrap();
        assert_eq!(logged.iter().map(|(v, _)| *v).collect::<Vec<_>>(), (129..=150).collect::<Vec<_>>());
        // Each entry holds one object, not the 150 before it.
        let last = std::fs::read(dir.path().join(&logged[logged.len() - 1].1)).unwrap();
        assert!(last.len() < 1000, "{} bytes", last.len());
        let checkpoint: Manifest = serde_json::from_slice(&std::fs::read(dir.path().join(MANIFEST_KEY)).unwrap()).unwrap();
        assert_eq!(checkpoint.version, 128);
        drop(warehouse);
        assert_eq!(writer(dir.path()).manifest().objects["telemetry"].len(), 150);
    }

    #[test]
    fn a_committed_record_of_the_whole_manifest_is_still_published() {
        // Records written before changes were logged carry the whole new manifest.
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = writer(dir.path());
        let mut txn = warehouse.begin();
        ingested(&mut txn, "old".into());
        warehouse.commit(txn).unwrap();
        let mut next = warehouse.manifest().clone();
        next.version += 1;
        let old = next.objects["telemetry"]["old"].clone();
        next.objects.get_mut("telemetry").unwrap().insert("killed".into(), old);
        let record =
            TxnRecord { version: next.version, moves: vec![], removes: vec![], change: Default::default(), manifest: Some(next.clone()) };
        drop(warehouse);
        location(dir.path()).put(&txn_key(next.version), Bytes::from(serde_json::to_vec(&record).unwrap())).unwrap();
        assert_eq!(writer(dir.path()).manifest(), &next);
        assert_eq!(Warehouse::open_read_only(location(dir.path())).unwrap().manifest(), &next);
    }

    fn frame(days: &[i32]) -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new("row".into(), (0..days.len() as i64).collect::<Vec<_>>()),
            Int32Chunked::from_vec("date".into(), days.to_vec()).into_date().into_column(),
        ])
        .unwrap()
    }

    fn rows_per_part(parts: &[DataFrame]) -> Vec<Vec<i64>> {
        parts.iter().map(|p| p.column("row").unwrap().i64().unwrap().into_no_null_iter().collect()).collect()
    }

    #[test]
    fn split_by_date_slices_runs_and_groups_interleaved_days() {
        // Runs of one day each: the same parts as partition_by, in order.
        let runs = frame(&[5, 5, 6, 6, 6, 9]);
        let parts = split_by_date(&runs).unwrap();
        assert_eq!(rows_per_part(&parts), vec![vec![0, 1], vec![2, 3, 4], vec![5]]);
        assert_eq!(rows_per_part(&parts), rows_per_part(&runs.partition_by_stable(["date"], true).unwrap()));
        // A day that comes back later: grouped, each day's rows in their order.
        let parts = split_by_date(&frame(&[5, 6, 5, 7, 6])).unwrap();
        assert_eq!(rows_per_part(&parts), vec![vec![0, 2], vec![1, 4], vec![3]]);
    }
}
