//! Every table is also a Delta Lake table: its folder gets a `_delta_log/` whose versions are
//! exactly the pipelake versions that changed the table, so that Spark, Trino, Athena or
//! delta-rs read the same committed states as `pipelake query`.
//!
//! The pipelake log stays the only truth; the Delta log is derived from it, one Delta version per
//! pipelake version that changed the table's files or columns, in pipelake's order, each tagged
//! with that pipelake version (a `txn` action of application `pipelake`). A job killed between
//! its pipelake commit and its Delta entries leaves them to the next writer, which replays the
//! pipelake entries the Delta log is behind on. Two writers that both bring a table up to date
//! create each Delta version only if it does not exist yet: the loser reads what won and goes on
//! from there. Every [`CHECKPOINT_INTERVAL`] versions a Parquet checkpoint is written.
//!
//! Written by hand rather than with the `deltalake` crate: the protocol's actions are a page of
//! JSON, and that crate brings a second arrow (59, where DuckDB pins 58) and delta-kernel into
//! every build.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use polars_parquet::parquet::statistics::Statistics;
use rayon::prelude::*;
use serde_json::{json, Map, Value};

use super::log::{Log, LogEntry};
use super::{DataFile, Manifest, TableDef, META_DIR};
use crate::error::{Error, Result};
use crate::lake::Location;

/// The Delta log folder inside a table's folder.
pub const DELTA_LOG: &str = "_delta_log";
/// The application id of the `txn` action that says which pipelake version a Delta version shows.
const APP_ID: &str = "pipelake";
/// Every this many Delta versions, a Parquet checkpoint (the protocol's default interval).
pub const CHECKPOINT_INTERVAL: u64 = 10;
/// Longest string kept as a min/max statistic: a longer one would have to be cut, and a cut
/// maximum is no maximum.
const MAX_STAT_CHARS: usize = 32;
/// Removed files stay in checkpoints as tombstones this long (Delta's default retention).
const TOMBSTONE_RETENTION_DAYS: i64 = 7;

/// A table's partitions: day -> files.
type Parts = BTreeMap<NaiveDate, Vec<DataFile>>;

/// The newest Delta version of a table and the pipelake version it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub delta: u64,
    pub pipelake: u64,
}

fn log_dir(table: &TableDef) -> String {
    format!("{}/{DELTA_LOG}", table.dir)
}

fn commit_key(table: &TableDef, version: u64) -> String {
    format!("{}/{version:020}.json", log_dir(table))
}

/// Where the actions of a checkpoint are also kept as JSON, so that the next checkpoint starts
/// from them without a Parquet reader.
fn sidecar_key(table: &TableDef, version: u64) -> String {
    format!("{META_DIR}/delta/{}/{version:020}.ndjson", table.name)
}

/// The newest Delta version of `table` and the pipelake version it shows; `None` when the table
/// has no Delta log yet.
pub fn read_head(location: &Location, table: &TableDef) -> Result<Option<Head>> {
    let newest =
        location.list(&log_dir(table))?.into_iter().filter_map(|m| m.location.filename()?.strip_suffix(".json")?.parse::<u64>().ok()).max();
    let Some(delta) = newest else { return Ok(None) };
    let key = commit_key(table, delta);
    let bytes = location.get(&key)?;
    let pipelake = shown_version(&bytes)
        .ok_or_else(|| Error::bookkeeping(location.display(&key), "a Delta version without the pipelake version it shows"))?;
    Ok(Some(Head { delta, pipelake }))
}

/// The pipelake version Delta version `version` of `table` shows.
fn shows(location: &Location, table: &TableDef, version: u64) -> Result<Option<u64>> {
    let Some(bytes) = location.get_opt(&commit_key(table, version))? else { return Ok(None) };
    Ok(shown_version(&bytes))
}

/// The pipelake version a Delta commit's `txn` action names.
fn shown_version(commit: &[u8]) -> Option<u64> {
    actions(commit).find_map(|a| {
        let txn = a.get("txn")?;
        (txn.get("appId")? == APP_ID).then(|| txn.get("version")?.as_u64())?
    })
}

/// The Delta log files (commits, checkpoints, their JSON copies) that no Delta version showing
/// a pipelake version from `oldest_kept` on needs: those before the newest checkpoint that
/// shows `oldest_kept` or an earlier version. Delta readers then travel back as far as pipelake
/// readers do.
pub fn unneeded_logs(location: &Location, tables: &[&'static TableDef], oldest_kept: u64) -> Result<Vec<String>> {
    let per_table: Vec<Vec<String>> = tables
        .par_iter()
        .map(|table| {
            let listed: Vec<String> = location.list(&log_dir(table))?.into_iter().map(|m| m.location.to_string()).collect();
            let version_of = |key: &str, suffix: &str| key.rsplit('/').next()?.strip_suffix(suffix)?.parse::<u64>().ok();
            let mut checkpoints: Vec<u64> = listed.iter().filter_map(|k| version_of(k, ".checkpoint.parquet")).collect();
            checkpoints.sort_unstable();
            let mut base = None;
            for c in checkpoints.iter().rev() {
                if shows(location, table, *c)?.is_some_and(|p| p <= oldest_kept) {
                    base = Some(*c);
                    break;
                }
            }
            let Some(base) = base else { return Ok(Vec::new()) };
            let mut doomed: Vec<String> = listed
                .into_iter()
                .filter(|k| version_of(k, ".json").or_else(|| version_of(k, ".checkpoint.parquet")).is_some_and(|v| v < base))
                .collect();
            let sidecars = location.list(&format!("{META_DIR}/delta/{}", table.name))?;
            doomed.extend(
                sidecars.into_iter().map(|m| m.location.to_string()).filter(|k| version_of(k, ".ndjson").is_some_and(|v| v < base)),
            );
            Ok(doomed)
        })
        .collect::<Result<_>>()?;
    Ok(per_table.into_iter().flatten().collect())
}

/// The actions of a commit file, one JSON object a line.
fn actions(bytes: &[u8]) -> impl Iterator<Item = Value> + '_ {
    bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).filter_map(|l| serde_json::from_slice(l).ok())
}

/// Keeps the Delta logs of a warehouse's tables in step with its pipelake log.
pub struct DeltaWriter {
    /// What this process knows of each table's Delta log.
    heads: HashMap<&'static str, Head>,
}

/// The pipelake state of one table at one version: its partitions, column count, and when the
/// version was committed.
struct TableState<'a> {
    parts: Option<&'a Parts>,
    columns: Option<u32>,
}

impl<'a> TableState<'a> {
    fn of(manifest: &'a Manifest, table: &TableDef) -> Self {
        TableState { parts: manifest.tables.get(table.name), columns: manifest.columns.get(table.name).copied() }
    }
}

impl DeltaWriter {
    /// Bring every table's Delta log up to `manifest`, the newest committed state: create the
    /// logs of tables that have none (a warehouse written before Delta logs), and write the
    /// versions a killed job left out. Returns how many Delta versions were written.
    pub fn recover(location: &Location, tables: &[&'static TableDef], manifest: &Manifest) -> Result<(DeltaWriter, usize)> {
        let found: Vec<(&'static TableDef, Option<Head>)> =
            tables.par_iter().map(|t| Ok((*t, read_head(location, t)?))).collect::<Result<_>>()?;
        let mut writer = DeltaWriter { heads: HashMap::new() };
        let mut behind = Vec::new();
        let mut written = 0;
        for (table, head) in found {
            let changed_at = manifest.table_versions.get(table.name).copied().unwrap_or(0);
            match head {
                Some(head) if head.pipelake >= changed_at => {
                    writer.heads.insert(table.name, head);
                }
                Some(head) => {
                    writer.heads.insert(table.name, head);
                    behind.push(table);
                }
                None if manifest.tables.contains_key(table.name) => {
                    // A table of a warehouse written before Delta logs: created from its state now.
                    let empty = Manifest::default();
                    writer.write_version(location, table, &empty, manifest, &HashMap::new(), None)?;
                    written += 1;
                }
                None => {}
            }
        }
        if let Some(from) = behind.iter().filter_map(|t| writer.heads.get(t.name)).map(|h| h.pipelake).min() {
            written += writer.replay(location, &behind, from, manifest.version)?;
        }
        Ok((writer, written))
    }

    /// After pipelake committed `new` on top of `base`: write the Delta version of each table
    /// that commit changed. `written` holds the bytes of files the commit wrote, for their
    /// statistics. A table whose Delta log is behind (another writer's commit in between) is
    /// brought up to date first, from the pipelake log.
    pub fn publish(
        &mut self,
        location: &Location,
        tables: &[&'static TableDef],
        base: &Manifest,
        new: &Manifest,
        written: &HashMap<String, Bytes>,
    ) -> Result<()> {
        let mut behind = Vec::new();
        for table in tables {
            if new.table_versions.get(table.name) != Some(&new.version) {
                continue;
            }
            let before = base.table_versions.get(table.name).copied().unwrap_or(0);
            let head = self.heads.get(table.name).copied();
            let fresh = match head {
                None => before == 0 && !base.tables.contains_key(table.name),
                Some(head) => head.pipelake == before,
            };
            if fresh && self.write_version(location, table, base, new, written, head)? {
                continue;
            }
            // Another writer's commit came in between, or wrote this Delta version first.
            match read_head(location, table)? {
                Some(h) if h.pipelake >= new.version => {
                    self.heads.insert(table.name, h);
                }
                Some(h) => {
                    self.heads.insert(table.name, h);
                    behind.push(*table);
                }
                None => {
                    self.heads.remove(table.name);
                    let empty = Manifest::default();
                    if !self.write_version(location, table, &empty, new, written, None)? {
                        return Err(Error::Conflict(format!("another job created the Delta log of {} at the same time", table.name)));
                    }
                }
            }
        }
        if let Some(from) = behind.iter().filter_map(|t| self.heads.get(t.name)).map(|h| h.pipelake).min() {
            self.replay(location, &behind, from, new.version)?;
        }
        Ok(())
    }

    /// Write the Delta versions of the pipelake versions after each table's head up to `to`,
    /// from the pipelake log, starting at the state of version `from`.
    fn replay(&mut self, location: &Location, behind: &[&'static TableDef], from: u64, to: u64) -> Result<usize> {
        let log = Log::list(location)?;
        let mut state = log.state_at(location, Some(from))?;
        let entries: Vec<LogEntry> = log.entries_from(location, from + 1)?;
        let mut written = 0;
        for entry in entries.into_iter().take_while(|e| e.version <= to) {
            let change = entry.change_from(&state);
            let mut next = state.clone();
            change.apply_to(&mut next);
            for table in behind {
                let changed = change.tables.contains_key(table.name) || change.columns.contains_key(table.name);
                let current = self.heads.get(table.name).copied();
                if !changed || current.is_some_and(|h| h.pipelake >= next.version) {
                    continue;
                }
                if self.write_version(location, table, &state, &next, &HashMap::new(), current)? {
                    written += 1;
                    continue;
                }
                // Another writer wrote this Delta version first: it shows this pipelake
                // version or a later one, as every writer goes in pipelake's order.
                let h = read_head(location, table)?
                    .ok_or_else(|| Error::bookkeeping(location.display(&log_dir(table)), "a Delta log vanished while written"))?;
                if h.pipelake < next.version {
                    return Err(Error::Conflict(format!(
                        "the Delta log of {} went to pipelake version {} while version {} was written",
                        table.name, h.pipelake, next.version
                    )));
                }
                self.heads.insert(table.name, h);
            }
            state = next;
        }
        Ok(written)
    }

    /// Write the Delta version after `head` (version 0 when `None`) that turns the table of
    /// `before` into that of `after`. Returns false when another writer created that version
    /// first.
    fn write_version(
        &mut self,
        location: &Location,
        table: &'static TableDef,
        before: &Manifest,
        after: &Manifest,
        written: &HashMap<String, Bytes>,
        head: Option<Head>,
    ) -> Result<bool> {
        let delta = head.map_or(0, |h| h.delta + 1);
        let now = Utc::now();
        let (old, new) = (TableState::of(before, table), TableState::of(after, table));
        let mut lines: Vec<Value> = Vec::new();
        lines.push(json!({"commitInfo": {
            "timestamp": now.timestamp_millis(),
            "operation": "WRITE",
            "operationParameters": {"mode": "Append"},
            "engineInfo": concat!("pipelake/", env!("CARGO_PKG_VERSION")),
            "pipelakeVersion": after.version,
        }}));
        if head.is_none() {
            lines.push(json!({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}));
        }
        if head.is_none() || old.columns != new.columns {
            lines.push(metadata_action(table, now));
        }
        lines.push(json!({"txn": {"appId": APP_ID, "version": after.version, "lastUpdated": now.timestamp_millis()}}));
        let empty = Parts::new();
        let (old_parts, new_parts) = (old.parts.unwrap_or(&empty), new.parts.unwrap_or(&empty));
        let files = |parts: &Parts| -> BTreeMap<String, (NaiveDate, DataFile)> {
            parts.iter().flat_map(|(d, fs)| fs.iter().map(move |f| (f.file.clone(), (*d, f.clone())))).collect()
        };
        let (was, is) = (files(old_parts), files(new_parts));
        for (name, (day, file)) in &was {
            if !is.contains_key(name) {
                lines.push(json!({"remove": {
                    "path": relative_path(*day, name),
                    "deletionTimestamp": now.timestamp_millis(),
                    "dataChange": true,
                    "extendedFileMetadata": true,
                    "partitionValues": {"date": day.format("%Y-%m-%d").to_string()},
                    "size": file.bytes,
                }}));
            }
        }
        let added: Vec<(NaiveDate, DataFile)> = is.iter().filter(|(n, _)| !was.contains_key(*n)).map(|(_, v)| v.clone()).collect();
        let adds: Vec<Value> = added
            .par_iter()
            .map(|(day, file)| {
                let key = table.file_key(*day, &file.file);
                let bytes = match written.get(&key) {
                    Some(b) => b.clone(),
                    None => location.get(&key)?,
                };
                let stats = file_stats(table, &bytes).map_err(|e| Error::bookkeeping(location.display(&key), e))?;
                Ok(add_action(*day, file, now, Some(stats)))
            })
            .collect::<Result<_>>()?;
        lines.extend(adds);
        let mut body = Vec::new();
        for line in &lines {
            serde_json::to_writer(&mut body, line).expect("JSON");
            body.push(b'\n');
        }
        let key = commit_key(table, delta);
        if !location.put_if_absent(&key, Bytes::from(body))? {
            return Ok(false);
        }
        crate::fault::point("delta");
        let head = Head { delta, pipelake: after.version };
        self.heads.insert(table.name, head);
        if delta > 0 && delta.is_multiple_of(CHECKPOINT_INTERVAL) {
            checkpoint(location, table, delta, &lines)?;
        }
        Ok(true)
    }
}

/// A file's path relative to its table's folder, as the `add` and `remove` actions name it.
fn relative_path(day: NaiveDate, file: &str) -> String {
    format!("date={}/{file}", day.format("%Y-%m-%d"))
}

fn add_action(day: NaiveDate, file: &DataFile, at: DateTime<Utc>, stats: Option<String>) -> Value {
    let mut add = json!({
        "path": relative_path(day, &file.file),
        "partitionValues": {"date": day.format("%Y-%m-%d").to_string()},
        "size": file.bytes,
        "modificationTime": at.timestamp_millis(),
        "dataChange": true,
    });
    if let Some(stats) = stats {
        add["stats"] = Value::String(stats);
    }
    json!({ "add": add })
}

/// The table's schema and layout. Its id is derived from the table name, so that a schema
/// change (a column added) keeps the table's identity without reading its first version.
fn metadata_action(table: &TableDef, at: DateTime<Utc>) -> Value {
    let mut fields: Vec<Value> = table
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": delta_type(c.sql_type), "nullable": true, "metadata": {"comment": c.doc}}))
        .collect();
    fields.push(json!({"name": "date", "type": "date", "nullable": true, "metadata": {}}));
    let schema = json!({"type": "struct", "fields": fields});
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("pipelake:{}", table.name).as_bytes());
    json!({"metaData": {
        "id": id.to_string(),
        "name": table.name,
        "description": table.doc,
        "format": {"provider": "parquet", "options": {}},
        "schemaString": schema.to_string(),
        "partitionColumns": ["date"],
        "configuration": {},
        "createdTime": at.timestamp_millis(),
    }})
}

/// The Delta type of a column's DuckDB type.
fn delta_type(sql_type: &str) -> Value {
    if let Some(element) = sql_type.strip_suffix("[]") {
        return json!({"type": "array", "elementType": delta_type(element), "containsNull": true});
    }
    Value::String(
        match sql_type {
            "BIGINT" => "long",
            "INTEGER" => "integer",
            "DOUBLE" => "double",
            "BOOLEAN" => "boolean",
            "DATE" => "date",
            // Our timestamps are UTC instants.
            "TIMESTAMP" => "timestamp",
            _ => "string",
        }
        .to_string(),
    )
}

/// The `stats` of an `add`: rows, and per top-level column its minimum, maximum and nulls, from
/// the file's Parquet footer. A column whose bounds cannot be said exactly (lists, long strings,
/// NaN) has none: a reader then reads the file rather than skipping it wrongly.
pub fn file_stats(table: &TableDef, bytes: &[u8]) -> std::result::Result<String, String> {
    let meta = polars_parquet::parquet::read::read_metadata(&mut Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let types: HashMap<&str, &str> = table.columns.iter().map(|c| (c.name, c.sql_type)).collect();
    let (mut min, mut max, mut nulls) = (Map::new(), Map::new(), Map::new());
    let mut bounds: BTreeMap<String, ColumnBounds> = BTreeMap::new();
    for group in &meta.row_groups {
        for chunk in group.parquet_columns() {
            let path = &chunk.descriptor().path_in_schema;
            let [name] = path.as_slice() else { continue };
            let Some(sql_type) = types.get(name.as_str()) else { continue };
            let entry = bounds.entry(name.to_string()).or_insert((None, None, Some(0), true));
            let Some(Ok(stats)) = chunk.statistics(&meta.footer_buf) else {
                *entry = (None, None, None, false);
                continue;
            };
            let (lo, hi, n) = stat_values(&stats, sql_type);
            entry.2 = entry.2.zip(n).map(|(a, b)| a + b);
            if !entry.3 {
                continue;
            }
            // A group with values but no bounds leaves the file without bounds.
            let rows_with_values = n.is_none_or(|n| (n as usize) < group.num_rows());
            if rows_with_values && (lo.is_none() || hi.is_none()) {
                entry.3 = false;
                continue;
            }
            if let Some(lo) = lo {
                entry.0 = Some(match entry.0.take() {
                    Some(cur) if compare(&cur, &lo).is_le() => cur,
                    _ => lo,
                });
            }
            if let Some(hi) = hi {
                entry.1 = Some(match entry.1.take() {
                    Some(cur) if compare(&cur, &hi).is_ge() => cur,
                    _ => hi,
                });
            }
        }
    }
    for (name, (lo, hi, n, exact)) in bounds {
        if let Some(n) = n {
            nulls.insert(name.clone(), n.into());
        }
        if exact {
            if let (Some(lo), Some(hi)) = (lo, hi) {
                min.insert(name.clone(), lo.0);
                max.insert(name, hi.0);
            }
        }
    }
    let stats = json!({"numRecords": meta.num_rows, "minValues": min, "maxValues": max, "nullCount": nulls});
    Ok(stats.to_string())
}

/// What the row groups of a file say of one column: (minimum, maximum, nulls, whether every
/// group with values gave its bounds).
type ColumnBounds = (Option<Bound>, Option<Bound>, Option<i64>, bool);

/// A statistic's value as JSON with what orders it (the JSON of a timestamp is text in another
/// order than its instant).
#[derive(Debug, Clone)]
struct Bound(Value, f64, String);

fn compare(a: &Bound, b: &Bound) -> std::cmp::Ordering {
    a.1.total_cmp(&b.1).then_with(|| a.2.cmp(&b.2))
}

/// The minimum, maximum and null count of one column chunk, as the Delta statistics write them.
fn stat_values(stats: &Statistics, sql_type: &str) -> (Option<Bound>, Option<Bound>, Option<i64>) {
    let number = |v: f64| Bound(json!(v), v, String::new());
    match (stats, sql_type) {
        (Statistics::Int64(s), "BIGINT") => (
            s.min_value.map(|v| Bound(v.into(), v as f64, String::new())),
            s.max_value.map(|v| Bound(v.into(), v as f64, String::new())),
            s.null_count,
        ),
        (Statistics::Int32(s), "INTEGER") => (s.min_value.map(|v| number(v as f64)), s.max_value.map(|v| number(v as f64)), s.null_count),
        (Statistics::Double(s), "DOUBLE") => {
            let finite = |v: Option<f64>| v.filter(|v| v.is_finite()).map(number);
            (finite(s.min_value), finite(s.max_value), s.null_count)
        }
        (Statistics::Int32(s), "DATE") => {
            let day = |d: i32| {
                let date = crate::timestamp::checked_days_to_date(d)?;
                Some(Bound(date.format("%Y-%m-%d").to_string().into(), d as f64, String::new()))
            };
            (s.min_value.and_then(day), s.max_value.and_then(day), s.null_count)
        }
        (Statistics::Int64(s), "TIMESTAMP") => {
            // Delta's statistics are in milliseconds: the minimum rounded down, the maximum up,
            // so that both still bound every value.
            let at = |micros: i64, up: bool| {
                let millis = if up { micros.div_euclid(1000) + i64::from(micros.rem_euclid(1000) != 0) } else { micros.div_euclid(1000) };
                let t = DateTime::<Utc>::from_timestamp_millis(millis)?;
                Some(Bound(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into(), millis as f64, String::new()))
            };
            (s.min_value.and_then(|v| at(v, false)), s.max_value.and_then(|v| at(v, true)), s.null_count)
        }
        (Statistics::Binary(s), "VARCHAR") => {
            let text = |v: &Option<Vec<u8>>| {
                let t = std::str::from_utf8(v.as_deref()?).ok()?;
                (t.chars().count() <= MAX_STAT_CHARS).then(|| Bound(t.into(), 0.0, t.to_string()))
            };
            (text(&s.min_value), text(&s.max_value), s.null_count)
        }
        (Statistics::Boolean(s), _) => (None, None, s.null_count),
        (Statistics::Int64(s), _) => (None, None, s.null_count),
        (Statistics::Int32(s), _) => (None, None, s.null_count),
        (Statistics::Double(s), _) => (None, None, s.null_count),
        (Statistics::Binary(s), _) => (None, None, s.null_count),
        _ => (None, None, None),
    }
}

/// Write the checkpoint of Delta version `version` of `table`, whose commit holds `commit`: the
/// actions of the previous checkpoint (kept as JSON beside it) and the commits since, reconciled.
fn checkpoint(location: &Location, table: &TableDef, version: u64, commit: &[Value]) -> Result<()> {
    let previous = version - CHECKPOINT_INTERVAL;
    let mut lines: Vec<Value> = Vec::new();
    let start = match location.get_opt(&sidecar_key(table, previous))? {
        Some(bytes) => {
            lines.extend(actions(&bytes));
            previous + 1
        }
        None => 0,
    };
    let keys: Vec<String> = (start..version).map(|v| commit_key(table, v)).collect();
    for bytes in location.get_many(&keys) {
        lines.extend(actions(&bytes?));
    }
    lines.extend(commit.iter().cloned());
    let state = reconcile(lines);
    let mut ndjson = Vec::new();
    for line in &state {
        serde_json::to_writer(&mut ndjson, line).expect("JSON");
        ndjson.push(b'\n');
    }
    let parquet = checkpoint_parquet(&ndjson).map_err(|e| Error::bookkeeping(location.display(&log_dir(table)), e))?;
    location.put(&sidecar_key(table, version), Bytes::from(ndjson))?;
    location.put(&format!("{}/{version:020}.checkpoint.parquet", log_dir(table)), parquet)?;
    let last = json!({"version": version, "size": state.len()});
    location.put(&format!("{}/_last_checkpoint", log_dir(table)), Bytes::from(last.to_string()))
}

/// The state a sequence of actions leaves: the newest protocol, metadata and `txn`, the files
/// added and not removed, and the removes of the retention as tombstones.
fn reconcile(lines: Vec<Value>) -> Vec<Value> {
    let (mut protocol, mut metadata, mut txn) = (None, None, None);
    let mut files: BTreeMap<String, Value> = BTreeMap::new();
    let mut tombstones: BTreeMap<String, Value> = BTreeMap::new();
    let cutoff = (Utc::now() - chrono::Duration::days(TOMBSTONE_RETENTION_DAYS)).timestamp_millis();
    for mut line in lines {
        let Some(obj) = line.as_object_mut() else { continue };
        if let Some(p) = obj.remove("protocol") {
            protocol = Some(p);
        } else if let Some(m) = obj.remove("metaData") {
            metadata = Some(m);
        } else if let Some(t) = obj.remove("txn") {
            txn = Some(t);
        } else if let Some(add) = obj.remove("add") {
            let path = add["path"].as_str().unwrap_or_default().to_string();
            tombstones.remove(&path);
            files.insert(path, add);
        } else if let Some(mut remove) = obj.remove("remove") {
            let path = remove["path"].as_str().unwrap_or_default().to_string();
            files.remove(&path);
            if remove["deletionTimestamp"].as_i64().unwrap_or(0) >= cutoff {
                // Checkpoints keep tombstones without their data change.
                remove["dataChange"] = false.into();
                tombstones.insert(path, remove);
            }
        }
    }
    let mut out = Vec::new();
    out.extend(protocol.map(|p| json!({ "protocol": p })));
    out.extend(metadata.map(|m| json!({ "metaData": m })));
    out.extend(txn.map(|t| json!({ "txn": t })));
    out.extend(files.into_values().map(|mut a| {
        a["dataChange"] = false.into();
        json!({ "add": a })
    }));
    out.extend(tombstones.into_values().map(|r| json!({ "remove": r })));
    out
}

/// The checkpoint schema of the protocol, as far as these tables use it.
fn checkpoint_schema() -> Schema {
    let string = |name: &str| Field::new(name, DataType::Utf8, true);
    let long = |name: &str| Field::new(name, DataType::Int64, true);
    let map = |name: &str| {
        let entries = Field::new(
            "key_value",
            DataType::Struct(Fields::from(vec![Field::new("key", DataType::Utf8, false), Field::new("value", DataType::Utf8, true)])),
            false,
        );
        Field::new(name, DataType::Map(Arc::new(entries), false), true)
    };
    let record = |name: &str, fields: Vec<Field>| Field::new(name, DataType::Struct(Fields::from(fields)), true);
    Schema::new(vec![
        record("txn", vec![string("appId"), long("version"), long("lastUpdated")]),
        record(
            "add",
            vec![
                string("path"),
                map("partitionValues"),
                long("size"),
                long("modificationTime"),
                Field::new("dataChange", DataType::Boolean, true),
                string("stats"),
            ],
        ),
        record(
            "remove",
            vec![
                string("path"),
                long("deletionTimestamp"),
                Field::new("dataChange", DataType::Boolean, true),
                Field::new("extendedFileMetadata", DataType::Boolean, true),
                map("partitionValues"),
                long("size"),
            ],
        ),
        record(
            "metaData",
            vec![
                string("id"),
                string("name"),
                string("description"),
                record("format", vec![string("provider"), map("options")]),
                string("schemaString"),
                Field::new("partitionColumns", DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))), true),
                map("configuration"),
                long("createdTime"),
            ],
        ),
        record(
            "protocol",
            vec![Field::new("minReaderVersion", DataType::Int32, true), Field::new("minWriterVersion", DataType::Int32, true)],
        ),
    ])
}

/// Encode checkpoint actions (one JSON object a line) as the checkpoint's Parquet file.
fn checkpoint_parquet(ndjson: &[u8]) -> std::result::Result<Bytes, String> {
    let schema = Arc::new(checkpoint_schema());
    let reader = arrow_json::ReaderBuilder::new(schema.clone()).build(Cursor::new(ndjson)).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).map_err(|e| e.to_string())?;
    for batch in reader {
        writer.write(&batch.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    writer.close().map_err(|e| e.to_string())?;
    Ok(Bytes::from(out))
}
