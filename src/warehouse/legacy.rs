//! Upgrade of warehouses written by the first layout, in place, losing nothing.
//!
//! That layout staged files under `_pipelake/staging/`, committed by writing a record to
//! `_pipelake/txn/<version>.json`, moved the files into place and then the record into the log,
//! and kept its checkpoint in `_pipelake/manifest.json`. Its log entries and checkpoint are read
//! as they are (see [`super::log`]). What is left to do is what a run of that layout killed
//! mid-way left: a committed record whose files are not all moved yet is finished the way that
//! layout would have finished it, and staged files of uncommitted records are deleted.

use super::log::{self, LogEntry};
use super::Manifest;
use crate::error::{Error, Result};
use crate::lake::Location;

const TXN_DIR: &str = "_pipelake/txn";
const STAGING_DIR: &str = "_pipelake/staging";

/// Finish or discard what a killed run of the first layout left, on top of `manifest`.
pub fn finish(location: &Location, manifest: &mut Manifest, command: &str) -> Result<()> {
    let mut records: Vec<String> = location.list(TXN_DIR)?.into_iter().map(|m| m.location.to_string()).collect();
    records.sort();
    for key in records {
        let entry = LogEntry::parse(&location.get(&key)?, location, &key)?;
        if entry.version == manifest.version + 1 {
            tracing::warn!(version = entry.version, "finishing a transaction a run of the previous layout committed");
            for (staged, target) in &entry.moves {
                match location.rename(staged, target) {
                    // Moved before the run was killed.
                    Err(Error::Store { source: object_store::Error::NotFound { .. }, .. }) => {}
                    other => other?,
                }
            }
            location.sync_folders(&entry.moves.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>())?;
            // That layout replaced a summary file under the same name and deleted the others
            // it removed at once: its readers listed folders.
            location.delete_many(&entry.removes)?;
            let change = entry.change_from(manifest);
            let logged = LogEntry {
                version: entry.version,
                committed_at: Some(chrono::Utc::now()),
                command: Some(command.to_string()),
                change: change.clone(),
                ..Default::default()
            };
            log::append(location, &logged)?;
            change.apply_to(manifest);
        } else if entry.version > manifest.version {
            return Err(Error::bookkeeping(
                location.display(&key),
                format!("transaction {} follows version {}", entry.version, manifest.version),
            ));
        }
        location.delete(&key)?;
    }
    let orphans: Vec<String> = location.list(STAGING_DIR)?.into_iter().map(|m| m.location.to_string()).collect();
    if !orphans.is_empty() {
        tracing::info!(files = orphans.len(), "removing files staged by an interrupted run of the previous layout");
        location.delete_many(&orphans)?;
    }
    location.remove_empty_folders(STAGING_DIR);
    location.remove_empty_folder(STAGING_DIR);
    location.remove_empty_folder(TXN_DIR);
    Ok(())
}
