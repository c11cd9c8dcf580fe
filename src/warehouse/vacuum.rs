//! `vacuum`: delete for good what no kept version needs, once the retention has passed.
//!
//! Three kinds of files go: files that left the warehouse by a commit longer ago than the
//! retention (a reader that opened an older version keeps working until then); files written by
//! transactions that never committed (a killed job, a job that lost the race for its version),
//! older than the retention so that a job still writing is never touched; and log entries and
//! checkpoints behind the checkpoint that the oldest kept version is built from.

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use super::log::{Log, LEGACY_CHECKPOINT};
use super::{Manifest, Warehouse, META_DIR};
use crate::error::Result;

/// What `vacuum` deleted, or would delete with `dry_run`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct VacuumReport {
    pub dry_run: bool,
    pub retention_days: u32,
    /// Files out of every version for longer than the retention.
    pub removed_files: usize,
    pub removed_bytes: u64,
    /// Files of transactions that never committed, older than the retention.
    pub uncommitted_files: usize,
    pub uncommitted_bytes: u64,
    /// Log entries and checkpoints no kept version needs.
    pub log_files: usize,
    /// Delta log files (commits, checkpoints) no kept version needs.
    pub delta_log_files: usize,
    /// Files out of the warehouse for less than the retention: kept for readers of older versions.
    pub kept_files: usize,
    pub kept_bytes: u64,
}

/// The files a committed version left, split at the retention: (expired keys and bytes,
/// kept count and bytes).
fn split_removed(manifest: &Manifest, retention: Duration) -> (Vec<String>, u64, usize, u64) {
    let cutoff = Utc::now() - retention;
    let (mut expired, mut expired_bytes, mut kept, mut kept_bytes) = (Vec::new(), 0, 0, 0);
    for (key, removed) in &manifest.removed {
        if removed.at < cutoff {
            expired.push(key.clone());
            expired_bytes += removed.bytes;
        } else {
            kept += 1;
            kept_bytes += removed.bytes;
        }
    }
    (expired, expired_bytes, kept, kept_bytes)
}

/// Whether a file name is one a transaction writes (`[part-]<version>-<16 hex id>-<n>.<ext>`):
/// vacuum deletes no file it did not write, whatever someone dropped into a folder.
fn written_by_a_transaction(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let name = name.strip_prefix("part-").unwrap_or(name);
    let mut parts = name.splitn(3, '-');
    let (Some(version), Some(id), Some(rest)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let n = rest.split('.').next().unwrap_or("");
    !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
        && id.len() == 16
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
        && rest.len() > n.len()
}

impl Warehouse {
    /// What the next vacuum frees of the files that left the warehouse, without listing
    /// anything (for `status`).
    pub fn vacuum_preview(&self, retention_days: u32) -> VacuumReport {
        let (expired, removed_bytes, kept_files, kept_bytes) = split_removed(&self.manifest, days(retention_days));
        VacuumReport {
            dry_run: true,
            retention_days,
            removed_files: expired.len(),
            removed_bytes,
            kept_files,
            kept_bytes,
            ..Default::default()
        }
    }

    /// Delete what no version kept for `retention_days` needs; with `dry_run`, only say what.
    pub fn vacuum(&mut self, retention_days: u32, dry_run: bool) -> Result<VacuumReport> {
        let retention = days(retention_days);
        let cutoff = Utc::now() - retention;
        let mut report = self.vacuum_preview(retention_days);
        report.dry_run = dry_run;
        let (expired, _, _, _) = split_removed(&self.manifest, retention);

        // Files no transaction committed: listed, since no commit names them.
        let known = self.manifest.known_files(&self.tables);
        let mut prefixes: Vec<String> = self.tables.iter().map(|t| format!("{}/", t.dir)).collect();
        prefixes.extend([format!("{META_DIR}/keys/"), format!("{META_DIR}/state/")]);
        let mut uncommitted = Vec::new();
        for prefix in &prefixes {
            for meta in self.location.list(prefix)? {
                let key = meta.location.to_string();
                if meta.last_modified < cutoff && !known.contains(&key) && written_by_a_transaction(&key) {
                    report.uncommitted_bytes += meta.size;
                    uncommitted.push(key);
                }
            }
        }
        report.uncommitted_files = uncommitted.len();

        let (log_files, oldest_kept) = self.unneeded_log(cutoff)?;
        report.log_files = log_files.len();
        let delta_files = super::delta::unneeded_logs(&self.location, &self.tables, oldest_kept)?;
        report.delta_log_files = delta_files.len();
        if dry_run {
            return Ok(report);
        }
        self.location.delete_many(&expired)?;
        self.location.delete_many(&uncommitted)?;
        crate::fault::point("vacuuming");
        if !expired.is_empty() {
            let mut txn = self.begin();
            for key in &expired {
                txn.manifest_mut().removed.remove(key);
            }
            self.commit(txn)?;
        }
        self.location.delete_many(&log_files)?;
        self.location.delete_many(&delta_files)?;
        for prefix in &prefixes {
            self.location.remove_empty_folders(prefix.trim_end_matches('/'));
        }
        tracing::info!(
            removed_files = report.removed_files,
            uncommitted_files = report.uncommitted_files,
            log_files = report.log_files,
            delta_log_files = report.delta_log_files,
            bytes = report.removed_bytes + report.uncommitted_bytes,
            "vacuum done"
        );
        Ok(report)
    }

    /// Log entries and checkpoints that no version kept for the retention needs: those before
    /// the newest checkpoint at or below the oldest kept version. A version is kept while the
    /// one after it is younger than `cutoff` (until then, a reader may still have it open).
    /// Returns them with the oldest kept version.
    fn unneeded_log(&self, cutoff: chrono::DateTime<Utc>) -> Result<(Vec<String>, u64)> {
        let log = Log::list(&self.location)?;
        let entries = log.entries_from(&self.location, 0)?;
        let oldest_kept = entries
            .windows(2)
            .find(|pair| pair[1].committed_at.is_some_and(|t| t >= cutoff))
            .map(|pair| pair[0].version)
            .unwrap_or(self.manifest.version);
        let Some((&base, _)) = log.checkpoints.range(..=oldest_kept).next_back() else { return Ok((Vec::new(), oldest_kept)) };
        let mut doomed: Vec<String> = log.entries.range(..base).map(|(_, k)| k.clone()).collect();
        doomed.extend(log.checkpoints.range(..base).map(|(_, k)| k.clone()));
        if self.location.exists(LEGACY_CHECKPOINT)? {
            doomed.push(LEGACY_CHECKPOINT.to_string());
        }
        Ok((doomed, oldest_kept))
    }
}

fn days(days: u32) -> Duration {
    Duration::from_secs(u64::from(days) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vacuum_knows_the_names_transactions_write_and_no_other() {
        assert!(written_by_a_transaction("pipelines/date=2026-10-01/part-00000012-0123456789abcdef-3.parquet"));
        assert!(written_by_a_transaction("_pipelake/keys/pipelines/00000000000000000012-0123456789abcdef-0.keys.zst"));
        // The first layout's names, and whatever someone dropped into a folder.
        for name in [
            "pipelines/date=2026-10-01/part-00000012-3.parquet",
            "pipeline_daily/date=2026-10-01/data.parquet",
            "_pipelake/state/perf_commits.json.zst",
            "pipelines/date=2026-10-01/copy of part.parquet",
            "pipelines/date=2026-10-01/part-00000012-0123456789abcdeg-3.parquet",
            "pipelines/date=2026-10-01/part-00000012-0123456789abcdef-.parquet",
        ] {
            assert!(!written_by_a_transaction(name), "{name}");
        }
    }
}
