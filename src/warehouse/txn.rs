//! Transactions: files written once under new names, then one log entry that makes them count.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;
use rayon::prelude::*;

use super::log::{self, LogEntry, CHECKPOINT_EVERY};
use super::{write_parquet, DataFile, Manifest, ManifestChange, Removed, TableDef};
use crate::error::{Error, PolarsContext, Result};
use crate::fault;
use crate::lake::Location;
use crate::timestamp::{day_runs, days_to_date};

/// A set of changes published together or not at all. Its files are written under names no
/// other transaction uses (the version and a random id), straight to where they stay: until the
/// log entry that lists them is created they belong to no version, and no reader sees them.
pub struct Txn {
    manifest: Manifest,
    /// Random, so that two writers building the same version never write the same name.
    id: String,
    written: Vec<(String, Bytes)>,
    files_written: usize,
    /// Tables whose contents this transaction's writes were computed from.
    read: BTreeSet<String>,
}

impl Txn {
    pub(super) fn new(mut manifest: Manifest) -> Self {
        manifest.version += 1;
        let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
        Txn { manifest, id, written: Vec::new(), files_written: 0, read: BTreeSet::new() }
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

    /// Whether the transaction writes no file.
    pub fn is_empty(&self) -> bool {
        self.written.is_empty()
    }

    /// A name for a new file in `folder` ending in `suffix`, used by no other transaction.
    pub fn new_key(&mut self, folder: &str, suffix: &str) -> String {
        let n = self.files_written;
        self.files_written += 1;
        format!("{folder}/{:020}-{}-{n}{suffix}", self.manifest.version, self.id)
    }

    /// A new data file name for a table partition.
    fn new_file_name(&mut self) -> String {
        let n = self.files_written;
        self.files_written += 1;
        format!("part-{:08}-{}-{n}.parquet", self.manifest.version, self.id)
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
        for (t, (table, df)) in tables.iter().enumerate() {
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
            let table = tables[t].0;
            self.manifest.columns.insert(table.name.to_string(), table.columns.len() as u32);
            let name = self.new_file_name();
            let file = DataFile { file: name.clone(), rows: rows as u64, bytes: bytes.len() as u64, hash: None };
            self.manifest.tables.entry(table.name.to_string()).or_default().entry(day).or_default().push(file);
            self.written.push((table.file_key(day, &name), bytes));
            days[t].insert(day);
        }
        Ok(days)
    }

    /// Replace a whole partition of `table` by the rows of `df` (without a `date` column), or
    /// remove it when `df` is `None` or empty. The new rows go to a new file; the old files
    /// leave the table with this commit and stay for readers of older versions until vacuumed.
    /// Returns whether the partition changed.
    pub fn replace_partition(&mut self, table: &TableDef, day: NaiveDate, df: Option<DataFrame>) -> Result<bool> {
        let changed = self.replace_partitions(table, vec![(day, df)])?;
        Ok(!changed.is_empty())
    }

    /// [`Txn::replace_partition`] for several days, encoded in parallel; returns the days that
    /// changed.
    pub fn replace_partitions(&mut self, table: &TableDef, days: Vec<(NaiveDate, Option<DataFrame>)>) -> Result<BTreeSet<NaiveDate>> {
        let encoded: Vec<(NaiveDate, Option<(u64, Bytes)>)> = days
            .into_par_iter()
            .map(|(day, df)| match df {
                Some(mut df) if df.height() > 0 => {
                    let bytes = write_parquet(&mut df).context(format!("encode {}", table.name))?;
                    Ok((day, Some((df.height() as u64, bytes))))
                }
                _ => Ok((day, None)),
            })
            .collect::<Result<_>>()?;
        let mut changed = BTreeSet::new();
        for (day, encoded) in encoded {
            if self.replace_encoded(table, day, encoded) {
                changed.insert(day);
            }
        }
        Ok(changed)
    }

    fn replace_encoded(&mut self, table: &TableDef, day: NaiveDate, encoded: Option<(u64, Bytes)>) -> bool {
        let old = self.manifest.tables.get(table.name).and_then(|p| p.get(&day)).cloned().unwrap_or_default();
        if let (Some((_, bytes)), [only]) = (&encoded, old.as_slice()) {
            if only.hash == Some(content_hash(bytes)) {
                // Recomputed to the same bytes: leave the file alone.
                return false;
            }
        }
        if encoded.is_none() && old.is_empty() {
            return false;
        }
        for file in &old {
            self.remove_object(table.file_key(day, &file.file), file.bytes);
        }
        let name = encoded.as_ref().map(|_| self.new_file_name());
        let parts = self.manifest.tables.entry(table.name.to_string()).or_default();
        parts.remove(&day);
        if let (Some((rows, bytes)), Some(name)) = (encoded, name) {
            self.manifest.columns.insert(table.name.to_string(), table.columns.len() as u32);
            let file = DataFile { file: name.clone(), rows, bytes: bytes.len() as u64, hash: Some(content_hash(&bytes)) };
            parts.insert(day, vec![file]);
            self.written.push((table.file_key(day, &name), bytes));
        }
        if parts.is_empty() {
            self.manifest.tables.remove(table.name);
        }
        true
    }

    /// Replace one file of a partition by the rows of `df` (without a `date` column), in a new
    /// file; the other files of the partition stay.
    pub fn rewrite_file(&mut self, table: &TableDef, day: NaiveDate, old: &DataFile, mut df: DataFrame) -> Result<()> {
        let bytes = write_parquet(&mut df).context(format!("encode {}", table.name))?;
        let name = self.new_file_name();
        self.remove_object(table.file_key(day, &old.file), old.bytes);
        let file = DataFile { file: name.clone(), rows: df.height() as u64, bytes: bytes.len() as u64, hash: None };
        let files = self.manifest.tables.entry(table.name.to_string()).or_default().entry(day).or_default();
        files.retain(|f| f.file != old.file);
        files.push(file);
        self.written.push((table.file_key(day, &name), bytes));
        Ok(())
    }

    /// Write a bookkeeping file (key segments, source state) with this transaction; `key` must
    /// come from [`Txn::new_key`].
    pub fn put_object(&mut self, key: String, bytes: Bytes) {
        self.written.push((key, bytes));
    }

    /// Take the file at `key` (of `bytes` bytes, 0 when unknown) out of the warehouse with this
    /// commit; `vacuum` deletes it once the retention has passed.
    pub fn remove_object(&mut self, key: String, bytes: u64) {
        self.manifest.removed.insert(key, Removed { at: Utc::now(), bytes });
    }

    /// Write the files of this transaction where they stay; they belong to no version until a
    /// log entry lists them. Returns the state it would commit, the tables it read, and the
    /// table files it wrote by key (for their statistics).
    pub(super) fn write(self, location: &Location) -> Result<(Manifest, BTreeSet<String>, HashMap<String, Bytes>)> {
        let keys: Vec<String> = self.written.iter().map(|(k, _)| k.clone()).collect();
        let tables: HashMap<String, Bytes> = self.written.iter().filter(|(k, _)| k.ends_with(".parquet")).cloned().collect();
        location.put_many(self.written)?;
        // On local disk the data reaches the disk before the entry that makes it count: a
        // power loss leaves this version or the one before.
        location.sync(&keys)?;
        fault::point("written");
        Ok((self.manifest, self.read, tables))
    }

    /// Record that this transaction computed what it writes from `tables`: another job's commit
    /// changing one of them in between makes this one fail rather than rebase on it.
    pub fn read_tables<'a>(&mut self, tables: impl IntoIterator<Item = &'a str>) {
        self.read.extend(tables.into_iter().map(str::to_string));
    }
}

/// Create the log entry of `manifest`'s version, `change` being what it changes in the version
/// before: the commit. Returns when it was committed, or `None` when another job committed that
/// version first (then nothing of this one is visible).
pub(super) fn append(location: &Location, manifest: &Manifest, change: ManifestChange, command: &str) -> Result<Option<DateTime<Utc>>> {
    let version = manifest.version;
    let committed_at = Utc::now();
    let entry = LogEntry { version, committed_at: Some(committed_at), command: Some(command.to_string()), change, ..Default::default() };
    if !log::append(location, &entry)? {
        return Ok(None);
    }
    fault::point("committed");
    if version.is_multiple_of(CHECKPOINT_EVERY) {
        log::checkpoint(location, manifest)?;
    }
    Ok(Some(committed_at))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::{AsOf, ObjectRecord, Warehouse};

    fn location(dir: &std::path::Path) -> Location {
        let runtime = std::sync::Arc::new(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
        Location::open(dir.to_str().unwrap(), true, runtime).unwrap()
    }

    fn writer(dir: &std::path::Path) -> Warehouse {
        let second = std::time::Duration::from_secs(1);
        Warehouse::open_for_writing(location(dir), vec![], "test", &["test".into()], second, second * 60).unwrap()
    }

    fn reader(dir: &std::path::Path, at: Option<AsOf>) -> Result<Warehouse> {
        Warehouse::open_read_only(location(dir), vec![], at)
    }

    fn ingested(txn: &mut Txn, key: String) {
        txn.manifest_mut().objects.entry("telemetry".into()).or_default().insert(key, ObjectRecord::ingested_for_tests(1));
    }

    /// Commit a version that ingested one object.
    fn commit_one(warehouse: &mut Warehouse, key: String) {
        let mut txn = warehouse.begin();
        ingested(&mut txn, key);
        warehouse.commit(txn).unwrap();
    }

    #[test]
    fn commits_log_their_change_and_readers_build_any_version_from_a_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = writer(dir.path());
        for i in 0..150 {
            commit_one(&mut warehouse, format!("k{i}"));
            if i % 37 == 0 || i == 127 || i == 128 {
                assert_eq!(reader(dir.path(), None).unwrap().manifest(), warehouse.manifest(), "a reader after version {}", i + 1);
            }
        }
        let log = log::Log::list(&location(dir.path())).unwrap();
        assert_eq!(log.entries.keys().copied().collect::<Vec<_>>(), (1..=150).collect::<Vec<_>>(), "nothing is deleted but by vacuum");
        assert_eq!(log.checkpoints.keys().copied().collect::<Vec<_>>(), vec![64, 128]);
        // Each entry holds one object, not the 150 before it.
        let last = std::fs::read(dir.path().join(&log.entries[&150])).unwrap();
        assert!(last.len() < 1000, "{} bytes", last.len());
        // Time travel: every version, from the checkpoint below it or from the start.
        for v in [1, 63, 64, 100, 150] {
            let old = reader(dir.path(), Some(AsOf::Version(v))).unwrap();
            assert_eq!(old.manifest().version, v);
            assert_eq!(old.manifest().objects["telemetry"].len() as u64, v);
        }
        assert!(reader(dir.path(), Some(AsOf::Version(151))).is_err());
        drop(warehouse);
        assert_eq!(writer(dir.path()).manifest().objects["telemetry"].len(), 150);
    }

    #[test]
    fn vacuum_drops_the_log_behind_the_checkpoint_of_the_oldest_kept_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = writer(dir.path());
        for i in 0..150 {
            commit_one(&mut warehouse, format!("k{i}"));
        }
        // Kept for a week: every version stays readable, nothing goes.
        assert_eq!(warehouse.vacuum(7, false).unwrap().log_files, 0);
        assert_eq!(reader(dir.path(), Some(AsOf::Version(3))).unwrap().manifest().version, 3);
        // Kept for no time: only the newest version must stay readable, built from checkpoint 128.
        let report = warehouse.vacuum(0, false).unwrap();
        assert_eq!(report.log_files, 127 + 1, "entries 1-127 and checkpoint 64");
        let log = log::Log::list(&location(dir.path())).unwrap();
        assert_eq!(log.checkpoints.keys().copied().collect::<Vec<_>>(), vec![128]);
        assert_eq!(log.entries.keys().next(), Some(&128));
        assert_eq!(reader(dir.path(), None).unwrap().manifest(), warehouse.manifest());
        assert_eq!(reader(dir.path(), Some(AsOf::Version(140))).unwrap().manifest().objects["telemetry"].len(), 140);
        let gone = reader(dir.path(), Some(AsOf::Version(100))).err().unwrap().to_string();
        assert!(gone.contains("not kept"), "{gone}");
        assert_eq!(warehouse.history().unwrap().last().unwrap().version, 128);
        drop(warehouse);
        assert_eq!(writer(dir.path()).manifest().objects["telemetry"].len(), 150);
    }

    /// Another job commits version 2 with `theirs` while this one builds version 2.
    fn another_job_commits(warehouse: &Warehouse, dir: &std::path::Path, theirs: &str) {
        let mut other = Txn::new(warehouse.manifest().clone());
        ingested(&mut other, theirs.into());
        let change = ManifestChange::between(warehouse.manifest(), other.manifest());
        let entry = LogEntry { version: 2, change, ..Default::default() };
        assert!(log::append(&location(dir), &entry).unwrap());
    }

    #[test]
    fn a_commit_that_lost_its_version_to_a_job_that_touched_the_same_object_fails_and_shows_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = writer(dir.path());
        commit_one(&mut warehouse, "first".into());
        // This job builds version 2 ...
        let mut txn = warehouse.begin();
        ingested(&mut txn, "mine".into());
        ingested(&mut txn, "both".into());
        let key = txn.new_key("_pipelake/state/test", ".bin");
        txn.put_object(key, Bytes::from_static(b"mine"));
        // ... while another job (that took over the lease) commits version 2 first.
        another_job_commits(&warehouse, dir.path(), "both");

        let err = warehouse.commit(txn).unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err}");
        assert!(err.to_string().contains("both ingested telemetry object both"), "{err}");
        let seen = reader(dir.path(), None).unwrap();
        assert_eq!(seen.manifest().version, 2);
        assert!(seen.manifest().objects["telemetry"].contains_key("both"));
        assert!(!seen.manifest().objects["telemetry"].contains_key("mine"), "nothing of the loser is visible");
    }

    #[test]
    fn a_commit_that_lost_its_version_to_a_job_on_other_work_goes_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = writer(dir.path());
        commit_one(&mut warehouse, "first".into());
        let mut txn = warehouse.begin();
        ingested(&mut txn, "mine".into());
        let day = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        txn.manifest_mut().mark_pending("s", [day]);
        another_job_commits(&warehouse, dir.path(), "theirs");

        warehouse.commit(txn).unwrap();
        assert_eq!(warehouse.commit_retries(), 1);
        let seen = reader(dir.path(), None).unwrap();
        assert_eq!(seen.manifest(), warehouse.manifest());
        assert_eq!(seen.manifest().version, 3);
        let objects = &seen.manifest().objects["telemetry"];
        assert!(objects.contains_key("first") && objects.contains_key("theirs") && objects.contains_key("mine"));
        assert_eq!(seen.manifest().pending_summaries["s"], [day].into());
    }

    #[test]
    fn a_transaction_the_first_layout_committed_but_did_not_publish_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let mut warehouse = writer(dir.path());
        commit_one(&mut warehouse, "old".into());
        drop(warehouse);
        // The first layout's record of version 2: one file staged, to be moved into place.
        let mut next = reader(dir.path(), None).unwrap().manifest().clone();
        next.version = 2;
        let old = next.objects["telemetry"]["old"].clone();
        next.objects.get_mut("telemetry").unwrap().insert("killed".into(), old);
        let staged = dir.path().join("_pipelake/staging/00000000000000000002/0-x.bin");
        std::fs::create_dir_all(staged.parent().unwrap()).unwrap();
        std::fs::write(&staged, b"x").unwrap();
        let record = serde_json::json!({"version": 2, "moves": [["_pipelake/staging/00000000000000000002/0-x.bin", "_pipelake/state/x.bin"]],
            "removes": [], "manifest": next});
        std::fs::create_dir_all(dir.path().join("_pipelake/txn")).unwrap();
        std::fs::write(dir.path().join("_pipelake/txn/00000000000000000002.json"), record.to_string()).unwrap();
        // A reader does not see it until a writer finishes it.
        assert_eq!(reader(dir.path(), None).unwrap().manifest().version, 1);
        assert_eq!(writer(dir.path()).manifest(), &next);
        assert_eq!(reader(dir.path(), None).unwrap().manifest(), &next);
        assert_eq!(std::fs::read(dir.path().join("_pipelake/state/x.bin")).unwrap(), b"x");
        assert!(!dir.path().join("_pipelake/txn").exists() && !dir.path().join("_pipelake/staging").exists());
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
