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
    /// Set once prune deleted the raw object.
    #[serde(default)]
    pub pruned: bool,
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

    /// Mark event days of a summary table as needing recomputation.
    pub fn mark_pending(&mut self, summary: &str, days: impl IntoIterator<Item = NaiveDate>) {
        self.pending_summaries.entry(summary.to_string()).or_default().extend(days);
    }
}
