//! The commit log, the only truth about what the warehouse holds (Delta Lake's rule).
//!
//! Version N is the object `_pipelake/log/<N>.json`, created only if it does not exist yet: of
//! two writers that both build on version N-1, exactly one commits. Every 64 versions the whole
//! state is also written to a new checkpoint `_pipelake/checkpoint/<N>.json`, so that opening
//! reads one checkpoint and at most 63 small entries. Neither is ever rewritten; `vacuum`
//! deletes entries behind a checkpoint once no retained version needs them.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Manifest, ManifestChange};
use crate::error::{Error, Result};
use crate::lake::Location;

/// Where the log entries live.
pub const LOG_DIR: &str = "_pipelake/log";
/// Where the checkpoints live.
pub const CHECKPOINT_DIR: &str = "_pipelake/checkpoint";
/// The single checkpoint of warehouses written before the log was the only truth, rewritten
/// in place every 64 versions; read, never written.
pub const LEGACY_CHECKPOINT: &str = "_pipelake/manifest.json";
/// Every this many versions a checkpoint is written.
pub const CHECKPOINT_EVERY: u64 = 64;

/// One committed version: what it changed in the state before it, when, and by which command.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogEntry {
    pub version: u64,
    /// When it was committed (absent in entries written before the log was the only truth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_at: Option<DateTime<Utc>>,
    /// The pipelake command that committed it (`run`, `ingest`, `vacuum`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default)]
    pub change: ManifestChange,
    /// Entries of the first layout carried the whole new state instead of the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
    /// Files of the first layout to move from staging into place, (staged, final) pairs; only
    /// read when finishing a transaction that layout left half-published.
    #[serde(default, skip_serializing)]
    pub moves: Vec<(String, String)>,
    /// Files the first layout deleted when publishing (same).
    #[serde(default, skip_serializing)]
    pub removes: Vec<String>,
}

impl LogEntry {
    /// What this entry changes on top of `base`, the state of the version before it.
    pub fn change_from(&self, base: &Manifest) -> ManifestChange {
        match &self.manifest {
            Some(whole) => ManifestChange::between(base, whole),
            None => self.change.clone(),
        }
    }

    /// Parse an entry read from `key`.
    pub fn parse(bytes: &[u8], location: &Location, key: &str) -> Result<LogEntry> {
        serde_json::from_slice(bytes).map_err(|e| Error::bookkeeping(location.display(key), e))
    }
}

/// The object key of version `version`'s entry.
pub fn log_key(version: u64) -> String {
    format!("{LOG_DIR}/{version:020}.json")
}

/// The object key of the checkpoint at `version`.
pub fn checkpoint_key(version: u64) -> String {
    format!("{CHECKPOINT_DIR}/{version:020}.json")
}

/// The versions found under `dir`, by version.
fn versions_under(location: &Location, dir: &str) -> Result<BTreeMap<u64, String>> {
    Ok(location
        .list(dir)?
        .into_iter()
        .filter_map(|m| {
            let key = m.location.to_string();
            let version = key.rsplit('/').next()?.strip_suffix(".json")?.parse().ok()?;
            Some((version, key))
        })
        .collect())
}

/// What the log holds right now: its entries and checkpoints, by version.
#[derive(Debug)]
pub struct Log {
    pub entries: BTreeMap<u64, String>,
    pub checkpoints: BTreeMap<u64, String>,
}

impl Log {
    /// List the log.
    pub fn list(location: &Location) -> Result<Log> {
        Ok(Log { entries: versions_under(location, LOG_DIR)?, checkpoints: versions_under(location, CHECKPOINT_DIR)? })
    }

    /// The newest version committed, 0 for a new warehouse. A legacy checkpoint newer than every
    /// entry (its entries deleted by the first layout) is found by [`Log::state_at`].
    pub fn newest(&self) -> u64 {
        let entry = self.entries.keys().next_back().copied().unwrap_or(0);
        let checkpoint = self.checkpoints.keys().next_back().copied().unwrap_or(0);
        entry.max(checkpoint)
    }

    /// The state at `version` (the newest when `None`): the newest checkpoint at or before it,
    /// with the entries after it applied in order.
    pub fn state_at(&self, location: &Location, version: Option<u64>) -> Result<Manifest> {
        let (mut manifest, newest) = self.base(location, version)?;
        let target = version.unwrap_or(newest);
        let wanted: Vec<u64> = (manifest.version + 1..=target).collect();
        let keys: Vec<String> = wanted
            .iter()
            .map(|v| {
                self.entries.get(v).cloned().ok_or_else(|| {
                    Error::bookkeeping(location.display(&log_key(*v)), "the commit log misses this version: the warehouse cannot be read")
                })
            })
            .collect::<Result<_>>()?;
        for (key, bytes) in keys.iter().zip(location.get_many(&keys)) {
            let entry = LogEntry::parse(&bytes?, location, key)?;
            if entry.version != manifest.version + 1 {
                return Err(Error::bookkeeping(location.display(key), format!("holds version {}", entry.version)));
            }
            entry.change_from(&manifest).apply_to(&mut manifest);
        }
        Ok(manifest)
    }

    /// The checkpoint to start from for `version` (the newest when `None`), and the newest
    /// version there is.
    fn base(&self, location: &Location, version: Option<u64>) -> Result<(Manifest, u64)> {
        let mut newest = self.newest();
        let target = version.unwrap_or(u64::MAX);
        if let Some((_, key)) = self.checkpoints.range(..=target).next_back() {
            let bytes = location.get(key)?;
            let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| Error::bookkeeping(location.display(key), e))?;
            return Ok((manifest, newest));
        }
        let oldest_entry = self.entries.keys().next().copied();
        if oldest_entry.is_none_or(|v| v > 1) {
            // Entries before the oldest were deleted by the first layout's checkpoint, which
            // holds them.
            if let Some(bytes) = location.get_opt(LEGACY_CHECKPOINT)? {
                let manifest: Manifest =
                    serde_json::from_slice(&bytes).map_err(|e| Error::bookkeeping(location.display(LEGACY_CHECKPOINT), e))?;
                newest = newest.max(manifest.version);
                if manifest.version <= target {
                    return Ok((manifest, newest));
                }
            }
        }
        match (version, oldest_entry) {
            (Some(v), Some(oldest)) if v < oldest && v > 0 => Err(Error::usage(format!(
                "version {v} is no longer kept: the oldest version the log holds is {}",
                self.checkpoints.keys().next().copied().unwrap_or(oldest)
            ))),
            _ => Ok((Manifest::default(), newest)),
        }
    }

    /// Read the entries from version `from` on, in order (those the log still holds).
    pub fn entries_from(&self, location: &Location, from: u64) -> Result<Vec<LogEntry>> {
        let keys: Vec<String> = self.entries.range(from..).map(|(_, k)| k.clone()).collect();
        keys.iter().zip(location.get_many(&keys)).map(|(key, bytes)| LogEntry::parse(&bytes?, location, key)).collect()
    }
}

/// Commit `entry` as the next version: create its log entry only if no other writer created it
/// first. Returns false when one did.
pub fn append(location: &Location, entry: &LogEntry) -> Result<bool> {
    let key = log_key(entry.version);
    let json = serde_json::to_vec(entry).map_err(|e| Error::bookkeeping(LOG_DIR, e))?;
    if !location.put_if_absent(&key, Bytes::from(json))? {
        return Ok(false);
    }
    location.sync(&[key])?;
    Ok(true)
}

/// Write the checkpoint of `manifest` (a new object; one left by a killed writer at the same
/// version holds the same state and stays).
pub fn checkpoint(location: &Location, manifest: &Manifest) -> Result<()> {
    let key = checkpoint_key(manifest.version);
    let json = serde_json::to_vec(manifest).map_err(|e| Error::bookkeeping(CHECKPOINT_DIR, e))?;
    location.put_if_absent(&key, Bytes::from(json))?;
    location.sync(&[key])
}
