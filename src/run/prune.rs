//! `pipelake prune`: delete raw objects past their source's retention, only once ingested.

use chrono::Utc;
use serde::Serialize;

use super::Pipelake;
use crate::error::Result;
use crate::fault;
use crate::lake::list_raw_objects;
use crate::sources::Source;

/// What `pipelake prune` deleted (or would delete, with `--dry-run`).
#[derive(Debug, Default, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    /// Raw keys deleted, with their source.
    pub deleted: Vec<(String, String)>,
    pub bytes: u64,
}

impl Pipelake {
    /// Delete raw objects of `sources` that landed more than their retention ago and were
    /// ingested. An object never ingested is never deleted.
    pub fn prune(&mut self, sources: &[&'static dyn Source], dry_run: bool) -> Result<PruneReport> {
        let started = std::time::Instant::now();
        let today = Utc::now().date_naive();
        let mut report = PruneReport { dry_run, ..Default::default() };
        let mut doomed = Vec::new();
        for source in sources {
            let name = source.name();
            let Some(days) = self.settings.retention_days.get(name).copied().flatten() else { continue };
            let cutoff = today - chrono::Duration::days(days as i64);
            let Some(ingested) = self.warehouse.manifest().objects.get(name) else { continue };
            for object in list_raw_objects(&self.raw, name)?.objects {
                // Only the version that was ingested: an object changed or uploaded again since
                // waits for the next ingest.
                let Some(record) = ingested.get(&object.key).filter(|r| r.is_version(&object.version, object.size)) else { continue };
                // `pruned`: marked by an earlier run that was interrupted before deleting it.
                if record.pruned || object.landed < cutoff {
                    report.bytes += object.size;
                    doomed.push((name.to_string(), object.key));
                }
            }
        }
        if !dry_run && !doomed.is_empty() {
            // Record the intent first: a run killed mid-way finishes the deletes next time.
            let mut txn = self.warehouse.begin();
            for (source, key) in &doomed {
                if let Some(record) = txn.manifest_mut().objects.get_mut(source).and_then(|o| o.get_mut(key)) {
                    record.pruned = true;
                }
            }
            self.warehouse.commit(txn)?;
            for (_, key) in &doomed {
                self.raw.delete(key)?;
                fault::point("pruning");
            }
        }
        tracing::info!(objects = doomed.len(), bytes = report.bytes, dry_run, seconds = started.elapsed().as_secs_f64(), "prune done");
        report.deleted = doomed;
        Ok(report)
    }
}
