//! The versions the log keeps, what each changed, and time travel to one of them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::log::{Log, LogEntry};
use super::{Manifest, ManifestChange, Warehouse};
use crate::error::{Error, Result};
use crate::lake::Location;

/// A version to read instead of the newest: by number, or the newest committed at or before a
/// time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Version(u64),
    Time(DateTime<Utc>),
}

impl std::str::FromStr for AsOf {
    type Err = String;

    /// A version number, an RFC 3339 time, or a day (its end, UTC).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if let Ok(v) = s.parse::<u64>() {
            return Ok(AsOf::Version(v));
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(AsOf::Time(t.with_timezone(&Utc)));
        }
        if let Ok(day) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            let end = day.and_hms_micro_opt(23, 59, 59, 999_999).expect("a time of day");
            return Ok(AsOf::Time(end.and_utc()));
        }
        Err(format!("{s:?} is neither a version number, nor a time like 2026-10-01T12:00:00Z, nor a day like 2026-10-01"))
    }
}

/// One committed version: when, by which command, and what it changed.
#[derive(Debug, Clone, Serialize)]
pub struct Commit {
    pub version: u64,
    pub committed_at: Option<DateTime<Utc>>,
    pub command: Option<String>,
    /// Per table changed: files and rows in and out.
    pub tables: Vec<TableChange>,
    /// Raw objects whose records this version took in or marked pruned.
    pub objects: usize,
    /// Files that left the warehouse with this version (kept for older readers until vacuumed).
    pub files_removed: usize,
    /// Files this version's vacuum deleted for good.
    pub files_vacuumed: usize,
}

/// What one version changed in one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableChange {
    pub table: String,
    pub files_added: usize,
    pub files_removed: usize,
    pub rows_added: u64,
    pub rows_removed: u64,
}

/// When `version` was committed, if its entry says (versions of the first layout do not).
pub(super) fn committed_at(location: &Location, log: &Log, version: u64) -> Result<Option<DateTime<Utc>>> {
    let Some(key) = log.entries.get(&version) else { return Ok(None) };
    Ok(LogEntry::parse(&location.get(key)?, location, key)?.committed_at)
}

/// The version `at` names, checked to be one the log keeps.
pub(super) fn resolve(location: &Location, log: &Log, at: AsOf) -> Result<u64> {
    match at {
        AsOf::Version(v) if log.entries.contains_key(&v) || log.checkpoints.contains_key(&v) => Ok(v),
        AsOf::Version(v) => Err(Error::usage(match log.entries.keys().next_back() {
            Some(newest) if v > *newest => format!("version {v} does not exist yet: the newest is {newest}"),
            _ => format!("version {v} is not kept in the log: see `pipelake history`"),
        })),
        AsOf::Time(t) => {
            let entries = log.entries_from(location, 0)?;
            entries.iter().rev().find(|e| e.committed_at.is_some_and(|c| c <= t)).map(|e| e.version).ok_or_else(|| {
                Error::usage(format!("no version the log keeps was committed at or before {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
            })
        }
    }
}

impl Warehouse {
    /// Every version the log keeps, newest first, with what it changed.
    pub fn history(&self) -> Result<Vec<Commit>> {
        let log = Log::list(&self.location)?;
        let Some(&oldest) = log.entries.keys().next() else { return Ok(Vec::new()) };
        // The state before the oldest entry, when the log can build it, gives the rows its
        // removed files held.
        let mut state = if oldest > 1 { log.state_at(&self.location, Some(oldest - 1)).ok() } else { Some(Manifest::default()) };
        let mut out = Vec::new();
        for entry in log.entries_from(&self.location, oldest)? {
            let mut commit = Commit {
                version: entry.version,
                committed_at: entry.committed_at,
                command: entry.command.clone(),
                tables: Vec::new(),
                objects: 0,
                files_removed: 0,
                files_vacuumed: 0,
            };
            match state.as_mut().filter(|s| s.version + 1 == entry.version) {
                Some(base) => {
                    let change = entry.change_from(base);
                    describe(&change, base, &mut commit);
                    change.apply_to(base);
                }
                None => {
                    describe(&entry.change, &Manifest::default(), &mut commit);
                    state = None;
                }
            }
            out.push(commit);
        }
        out.reverse();
        Ok(out)
    }
}

/// Fill in what `change` does to `base`.
fn describe(change: &ManifestChange, base: &Manifest, commit: &mut Commit) {
    for (table, days) in &change.tables {
        let mut t = TableChange { table: table.clone(), files_added: 0, files_removed: 0, rows_added: 0, rows_removed: 0 };
        for (day, files) in days {
            let before: BTreeMap<&str, u64> =
                base.tables.get(table).and_then(|p| p.get(day)).into_iter().flatten().map(|f| (f.file.as_str(), f.rows)).collect();
            let after: BTreeMap<&str, u64> = files.iter().flatten().map(|f| (f.file.as_str(), f.rows)).collect();
            for (name, rows) in &after {
                if !before.contains_key(name) {
                    t.files_added += 1;
                    t.rows_added += rows;
                }
            }
            for (name, rows) in &before {
                if !after.contains_key(name) {
                    t.files_removed += 1;
                    t.rows_removed += rows;
                }
            }
        }
        commit.tables.push(t);
    }
    commit.objects = change.objects.values().map(|o| o.len()).sum();
    commit.files_removed = change.removed.values().filter(|r| r.is_some()).count();
    commit.files_vacuumed = change.removed.values().filter(|r| r.is_none()).count();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_takes_a_version_a_time_with_its_offset_or_the_end_of_a_day() {
        assert_eq!("42".parse::<AsOf>(), Ok(AsOf::Version(42)));
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!("2026-10-01T12:00:00+02:00".parse::<AsOf>(), Ok(AsOf::Time(t("2026-10-01T10:00:00Z"))));
        assert_eq!("2026-10-01".parse::<AsOf>(), Ok(AsOf::Time(t("2026-10-01T23:59:59.999999Z"))));
        assert!("yesterday".parse::<AsOf>().unwrap_err().contains("neither a version"));
        assert!("-1".parse::<AsOf>().is_err());
    }
}
