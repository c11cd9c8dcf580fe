//! The manifest: the committed state of the warehouse, one JSON object under `_pipelake/`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Committed state: which files make up each table, which raw objects were ingested, the dedup
/// key segments, and which summary days wait to be recomputed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Increases by one with every committed transaction.
    pub version: u64,
    /// Table name -> partition day -> files in that partition.
    #[serde(default)]
    pub tables: BTreeMap<String, BTreeMap<NaiveDate, Vec<DataFile>>>,
    /// Source -> raw key -> what ingesting it gave.
    #[serde(default)]
    pub objects: BTreeMap<String, BTreeMap<String, ObjectRecord>>,
    /// Dedup index name -> its sorted key segments.
    #[serde(default)]
    pub key_segments: BTreeMap<String, Vec<KeySegment>>,
    /// Source state name -> the objects that together hold it (see each source's state).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub state_segments: BTreeMap<String, Vec<String>>,
    /// Summary table -> event days whose facts changed since it was last computed.
    #[serde(default)]
    pub pending_summaries: BTreeMap<String, BTreeSet<NaiveDate>>,
    /// Files no longer part of any table or index, by key: kept for readers of older versions
    /// until `vacuum` deletes them, once they have been out for longer than the retention.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub removed: BTreeMap<String, Removed>,
    /// Table -> how many columns of its definition its files hold (see `schema`); absent for
    /// tables of warehouses written before, whose files are checked once.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, u32>,
    /// Table -> the version that last changed its files or columns: the Delta log of a table is
    /// current when it shows that version (see `delta`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub table_versions: BTreeMap<String, u64>,
}

/// A file that left the warehouse: when, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub at: chrono::DateTime<chrono::Utc>,
    pub bytes: u64,
}

/// One Parquet file of a table partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// File name inside `<table>/date=<day>/`.
    pub file: String,
    pub rows: u64,
    pub bytes: u64,
    /// Content hash of summary files, to skip rewriting one that came out the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<u64>,
}

/// What ingesting one raw object gave; kept for every object ever ingested, also after pruning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    pub landed: NaiveDate,
    pub size: u64,
    pub records: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Valid records of a kind the source does not use (absent in records written before).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: u64,
    /// Those skipped records by kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_kinds: BTreeMap<String, u64>,
    /// Set once prune deleted the raw object.
    #[serde(default)]
    pub pruned: bool,
    /// The version of the object last ingested (see [`crate::lake::Entry::version`]); absent in
    /// records written before versions were kept, where the size stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the first version ingested was last modified: a changed object keeps the landing
    /// time of its first version, so that records timed by it stay duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ObjectRecord {
    /// An object of `size` bytes that landed on 2026-10-01 and gave one accepted record.
    #[cfg(test)]
    pub(crate) fn ingested_for_tests(size: u64) -> ObjectRecord {
        ObjectRecord {
            landed: NaiveDate::from_ymd_opt(2026, 10, 1).expect("a date"),
            size,
            records: 1,
            accepted: 1,
            duplicates: 0,
            rejected: 0,
            skipped: 0,
            skipped_kinds: BTreeMap::new(),
            pruned: false,
            version: None,
            modified: None,
        }
    }

    /// Whether the object listed now, of `version` and `size`, is the one this record ingested.
    pub fn is_version(&self, version: &str, size: u64) -> bool {
        match &self.version {
            Some(v) => v == version,
            None => self.size == size,
        }
    }
}

/// A sorted run of dedup keys, stored as one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySegment {
    /// Object key under the warehouse root.
    pub file: String,
    pub min: i64,
    pub max: i64,
    pub count: u64,
}

impl Manifest {
    /// Total rows and the partition days of a table.
    pub fn table_stats(&self, table: &str) -> (u64, usize, Option<NaiveDate>) {
        match self.tables.get(table) {
            None => (0, 0, None),
            Some(parts) => {
                let rows = parts.values().flatten().map(|f| f.rows).sum();
                (rows, parts.len(), parts.keys().next_back().copied())
            }
        }
    }

    /// The key of every file a table, dedup index or source state of this version holds.
    pub fn live_files<'a>(&'a self, tables: &'a [&'static super::TableDef]) -> impl Iterator<Item = String> + 'a {
        let data = tables.iter().flat_map(move |t| {
            self.tables.get(t.name).into_iter().flatten().flat_map(move |(day, files)| files.iter().map(move |f| t.file_key(*day, &f.file)))
        });
        let keys = self.key_segments.values().flatten().map(|s| s.file.clone());
        let state = self.state_segments.values().flatten().cloned();
        data.chain(keys).chain(state)
    }

    /// Every file this version still answers for: those it holds and those that left it and wait
    /// for vacuum. Any other file under the warehouse is not this version's (or was vacuumed).
    pub fn known_files(&self, tables: &[&'static super::TableDef]) -> std::collections::HashSet<String> {
        self.live_files(tables).chain(self.removed.keys().cloned()).collect()
    }

    /// Mark event days of a summary table as needing recomputation.
    pub fn mark_pending(&mut self, summary: &str, days: impl IntoIterator<Item = NaiveDate>) {
        self.pending_summaries.entry(summary.to_string()).or_default().extend(days);
    }
}

/// What one transaction changed in the manifest: each entry it touched with its new value, or
/// `None` where it removed one. A commit stores this, not the whole manifest, so that its cost
/// follows the change and not the warehouse's history (every raw object ever ingested).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManifestChange {
    /// The version this change makes.
    pub version: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, BTreeMap<NaiveDate, Option<Vec<DataFile>>>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub objects: BTreeMap<String, BTreeMap<String, Option<ObjectRecord>>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub key_segments: BTreeMap<String, Option<Vec<KeySegment>>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub state_segments: BTreeMap<String, Option<Vec<String>>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending_summaries: BTreeMap<String, Option<BTreeSet<NaiveDate>>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub removed: BTreeMap<String, Option<Removed>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, Option<u32>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub table_versions: BTreeMap<String, Option<u64>>,
}

impl Manifest {
    /// Record this version as the last change of each table whose files or columns differ from
    /// `base`, the state it was built on.
    pub fn note_changed_tables(&mut self, base: &Manifest) {
        let names: BTreeSet<&String> = self.tables.keys().chain(base.tables.keys()).chain(self.columns.keys()).collect();
        let changed: Vec<String> = names
            .into_iter()
            .filter(|t| self.tables.get(*t) != base.tables.get(*t) || self.columns.get(*t) != base.columns.get(*t))
            .cloned()
            .collect();
        for table in changed {
            self.table_versions.insert(table, self.version);
        }
    }

    /// `ours`, built on `base`, moved on top of `current`, which other jobs committed since:
    /// what `ours` changed applied to `current`, as the version after it. Fails, naming it,
    /// when both changed the same thing (an object, a dedup index, a file of a partition other
    /// than by adding one) or when others changed a table in `read`, which `ours` was computed
    /// from. Files both only added to a partition are kept together; summary days both marked or
    /// cleared are merged as sets.
    pub fn rebase(base: &Manifest, ours: &Manifest, current: &Manifest, read: &BTreeSet<String>) -> Result<Manifest, String> {
        let mine = ManifestChange::between(base, ours);
        let theirs = ManifestChange::between(base, current);
        if let Some(t) = read.iter().find(|t| theirs.tables.contains_key(*t) || theirs.columns.contains_key(*t)) {
            return Err(format!("table {t}, which this job computed from, changed"));
        }
        let mut out = current.clone();
        out.version = current.version + 1;
        let no_files = Vec::new();
        for (table, days) in &mine.tables {
            for (day, files) in days {
                let mine_now = files.as_ref().unwrap_or(&no_files);
                let theirs_changed = theirs.tables.get(table).is_some_and(|d| d.contains_key(day));
                let merged = if theirs_changed {
                    let was = base.tables.get(table).and_then(|p| p.get(day)).unwrap_or(&no_files);
                    let now = current.tables.get(table).and_then(|p| p.get(day)).unwrap_or(&no_files);
                    let only_added = |new: &Vec<DataFile>| was.iter().all(|f| new.contains(f));
                    if !only_added(mine_now) || !only_added(now) {
                        return Err(format!("both replaced files of {table} on {day}"));
                    }
                    let mut merged = now.clone();
                    merged.extend(mine_now.iter().filter(|f| !was.contains(f)).cloned());
                    merged
                } else {
                    mine_now.clone()
                };
                let parts = out.tables.entry(table.clone()).or_default();
                if merged.is_empty() {
                    parts.remove(day);
                } else {
                    parts.insert(*day, merged);
                }
                if parts.is_empty() {
                    out.tables.remove(table);
                }
            }
        }
        for (source, keys) in &mine.objects {
            if let Some(key) = keys.keys().find(|k| theirs.objects.get(source).is_some_and(|t| t.contains_key(*k))) {
                return Err(format!("both ingested {source} object {key}"));
            }
        }
        apply_nested(&mut out.objects, &mine.objects);
        same_keys(&mine.key_segments, &theirs.key_segments, "dedup index")?;
        apply(&mut out.key_segments, &mine.key_segments);
        same_keys(&mine.state_segments, &theirs.state_segments, "source state")?;
        apply(&mut out.state_segments, &mine.state_segments);
        same_keys(&mine.columns, &theirs.columns, "columns of table")?;
        apply(&mut out.columns, &mine.columns);
        apply(&mut out.removed, &mine.removed);
        for (summary, days) in &mine.pending_summaries {
            let was = base.pending_summaries.get(summary).cloned().unwrap_or_default();
            let now = days.clone().unwrap_or_default();
            let entry = out.pending_summaries.entry(summary.clone()).or_default();
            entry.extend(now.difference(&was).copied());
            entry.retain(|d| now.contains(d) || !was.contains(d));
            if entry.is_empty() {
                out.pending_summaries.remove(summary);
            }
        }
        out.note_changed_tables(current);
        Ok(out)
    }
}

/// Fails when both changes set one key of the same map to different values.
fn same_keys<V: PartialEq>(mine: &BTreeMap<String, V>, theirs: &BTreeMap<String, V>, what: &str) -> Result<(), String> {
    match mine.iter().find(|(k, v)| theirs.get(*k).is_some_and(|t| t != *v)).map(|(k, _)| k) {
        Some(k) => Err(format!("both changed {what} {k}")),
        None => Ok(()),
    }
}

impl ManifestChange {
    /// The change that turns `base` into `new` (whose version it takes).
    pub fn between(base: &Manifest, new: &Manifest) -> Self {
        ManifestChange {
            version: new.version,
            tables: diff_nested(&base.tables, &new.tables),
            objects: diff_nested(&base.objects, &new.objects),
            key_segments: diff(&base.key_segments, &new.key_segments),
            state_segments: diff(&base.state_segments, &new.state_segments),
            pending_summaries: diff(&base.pending_summaries, &new.pending_summaries),
            removed: diff(&base.removed, &new.removed),
            columns: diff(&base.columns, &new.columns),
            table_versions: diff(&base.table_versions, &new.table_versions),
        }
    }

    /// Whether nothing but the version would change.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.objects.is_empty()
            && self.key_segments.is_empty()
            && self.state_segments.is_empty()
            && self.pending_summaries.is_empty()
            && self.removed.is_empty()
            && self.columns.is_empty()
            && self.table_versions.is_empty()
    }

    /// Apply to `manifest`, which must be at the version before this one.
    pub fn apply_to(&self, manifest: &mut Manifest) {
        manifest.version = self.version;
        apply_nested(&mut manifest.tables, &self.tables);
        apply_nested(&mut manifest.objects, &self.objects);
        apply(&mut manifest.key_segments, &self.key_segments);
        apply(&mut manifest.state_segments, &self.state_segments);
        apply(&mut manifest.pending_summaries, &self.pending_summaries);
        apply(&mut manifest.removed, &self.removed);
        apply(&mut manifest.columns, &self.columns);
        apply(&mut manifest.table_versions, &self.table_versions);
    }
}

fn diff<K: Ord + Clone, V: PartialEq + Clone>(base: &BTreeMap<K, V>, new: &BTreeMap<K, V>) -> BTreeMap<K, Option<V>> {
    let removed = base.keys().filter(|k| !new.contains_key(*k)).map(|k| (k.clone(), None));
    let changed = new.iter().filter(|(k, v)| base.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), Some(v.clone())));
    removed.chain(changed).collect()
}

fn diff_nested<K: Ord + Clone, J: Ord + Clone, V: PartialEq + Clone>(
    base: &BTreeMap<K, BTreeMap<J, V>>,
    new: &BTreeMap<K, BTreeMap<J, V>>,
) -> BTreeMap<K, BTreeMap<J, Option<V>>> {
    let empty = BTreeMap::new();
    let keys: BTreeSet<&K> = base.keys().chain(new.keys()).collect();
    keys.into_iter()
        .map(|k| (k.clone(), diff(base.get(k).unwrap_or(&empty), new.get(k).unwrap_or(&empty))))
        .filter(|(_, d)| !d.is_empty())
        .collect()
}

fn apply<K: Ord + Clone, V: Clone>(map: &mut BTreeMap<K, V>, change: &BTreeMap<K, Option<V>>) {
    for (k, v) in change {
        match v {
            Some(v) => map.insert(k.clone(), v.clone()),
            None => map.remove(k),
        };
    }
}

fn apply_nested<K: Ord + Clone, J: Ord + Clone, V: Clone>(
    map: &mut BTreeMap<K, BTreeMap<J, V>>,
    change: &BTreeMap<K, BTreeMap<J, Option<V>>>,
) {
    for (k, inner) in change {
        let entry = map.entry(k.clone()).or_default();
        apply(entry, inner);
        if entry.is_empty() {
            map.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(size: u64) -> ObjectRecord {
        ObjectRecord::ingested_for_tests(size)
    }

    #[test]
    fn an_object_is_the_same_while_its_version_is_and_old_records_compare_by_size() {
        let mut record = object(10);
        // Written before versions were kept: the size stands in, so an upgrade re-reads nothing.
        assert!(record.is_version("10-abc-1", 10));
        assert!(!record.is_version("11-abc-1", 11));
        record.version = Some("10-abc-1".into());
        assert!(record.is_version("10-abc-1", 10));
        assert!(!record.is_version("10-abd-1", 10), "same size, other content");
        // A record written before versions parses, and one written now keeps its version.
        let old: ObjectRecord =
            serde_json::from_str(r#"{"landed":"2026-10-01","size":10,"records":1,"accepted":1,"duplicates":0,"rejected":0}"#).unwrap();
        assert_eq!(old.version, None);
        let again: ObjectRecord = serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(again, record);
    }

    #[test]
    fn a_change_holds_only_what_moved_and_rebuilds_the_new_manifest() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let file = |name: &str| DataFile { file: name.into(), rows: 1, bytes: 1, hash: None };
        let mut base = Manifest { version: 7, ..Default::default() };
        for i in 0..1000 {
            base.objects.entry("telemetry".into()).or_default().insert(format!("k{i}"), object(i));
        }
        base.tables.entry("t".into()).or_default().insert(day(1), vec![file("a")]);
        base.tables.entry("gone".into()).or_default().insert(day(1), vec![file("b")]);
        base.mark_pending("s", [day(1)]);

        let mut new = base.clone();
        new.version = 8;
        new.objects.get_mut("telemetry").unwrap().insert("k1000".into(), object(5));
        new.objects.get_mut("telemetry").unwrap().get_mut("k3").unwrap().pruned = true;
        new.tables.get_mut("t").unwrap().get_mut(&day(1)).unwrap().push(file("c"));
        new.tables.remove("gone");
        new.pending_summaries.clear();
        new.state_segments.insert("first_seen".into(), vec!["x".into()]);

        let change = ManifestChange::between(&base, &new);
        assert_eq!(change.objects["telemetry"].len(), 2, "the new object and the pruned one, not all 1001");
        assert_eq!(change.tables["gone"][&day(1)], None);
        assert_eq!(change.pending_summaries["s"], None);
        let mut rebuilt = base.clone();
        change.apply_to(&mut rebuilt);
        assert_eq!(rebuilt, new);
        let json = serde_json::to_string(&change).unwrap();
        let mut again = base.clone();
        serde_json::from_str::<ManifestChange>(&json).unwrap().apply_to(&mut again);
        assert_eq!(again, new);
        assert!(ManifestChange::between(&new, &new).is_empty());
    }
}
