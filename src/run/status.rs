//! `pipelake status`: per source what was seen, ingested, pending and rejected; per table its
//! rows, days and last day.

use chrono::NaiveDate;
use serde::Serialize;

use super::Pipelake;
use crate::error::{PolarsContext, Result};
use crate::lake::{list_raw_objects, Skipped};
use crate::sources;

/// One source's objects and records.
#[derive(Debug, Serialize)]
pub struct SourceStatus {
    pub source: String,
    /// Raw objects present now.
    pub seen: u64,
    /// Of those, already ingested.
    pub ingested: u64,
    /// Of those, not ingested yet, or changed since they were.
    pub pending: u64,
    /// Objects ingested and since deleted by prune.
    pub pruned: u64,
    /// Records read from the ingested objects, all history.
    pub records: u64,
    /// Of those, kept in the fact tables.
    pub accepted_records: u64,
    /// Of those, counted as duplicates of earlier records.
    pub duplicate_records: u64,
    /// Records ever sent to the rejects.
    pub rejected_records: u64,
    /// Valid records of kinds the source does not use.
    pub skipped_records: u64,
    /// Those skipped records by kind (a webhook event such as `star`).
    pub skipped_kinds: std::collections::BTreeMap<String, u64>,
    /// Entries under the source's folder that are not objects (links, odd names, special
    /// files), with the reason; never read.
    pub skipped: Vec<Skipped>,
}

/// One table's size.
#[derive(Debug, Serialize)]
pub struct TableStatus {
    pub table: String,
    pub rows: u64,
    pub days: usize,
    pub last_day: Option<NaiveDate>,
    /// Days whose summary waits to be recomputed (summary tables only).
    pub stale_days: usize,
}

/// What `pipelake status` shows.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub raw: String,
    pub warehouse: String,
    pub version: u64,
    /// When that version was committed (unknown for versions of the first layout).
    pub committed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub sources: Vec<SourceStatus>,
    pub tables: Vec<TableStatus>,
    /// Files out of the warehouse: what the next vacuum frees, what it keeps for older readers.
    pub vacuum: crate::warehouse::VacuumReport,
    /// Incidents kept with no repository, by PagerDuty service: services the setting
    /// `[sources.pagerduty] services` does not map yet.
    pub unmapped_services: std::collections::BTreeMap<String, u64>,
}

impl Pipelake {
    /// The state of every source and table.
    pub fn status(&self) -> Result<StatusReport> {
        let manifest = self.warehouse.manifest();
        let mut out = Vec::new();
        for source in sources::all() {
            let name = source.name();
            let known = manifest.objects.get(name);
            let listing = list_raw_objects(&self.raw, name)?;
            let listed = listing.objects;
            let ingested =
                listed.iter().filter(|o| known.and_then(|k| k.get(&o.key)).is_some_and(|r| r.is_version(&o.version, o.size))).count()
                    as u64;
            out.push(SourceStatus {
                source: name.to_string(),
                seen: listed.len() as u64,
                ingested,
                pending: listed.len() as u64 - ingested,
                pruned: known.map_or(0, |k| k.values().filter(|r| r.pruned).count() as u64),
                records: known.map_or(0, |k| k.values().map(|r| r.records).sum()),
                accepted_records: known.map_or(0, |k| k.values().map(|r| r.accepted).sum()),
                duplicate_records: known.map_or(0, |k| k.values().map(|r| r.duplicates).sum()),
                rejected_records: known.map_or(0, |k| k.values().map(|r| r.rejected).sum()),
                skipped_records: known.map_or(0, |k| k.values().map(|r| r.skipped).sum()),
                skipped_kinds: known.map_or_else(Default::default, |k| {
                    let mut kinds = std::collections::BTreeMap::new();
                    for (kind, n) in k.values().flat_map(|r| &r.skipped_kinds) {
                        *kinds.entry(kind.clone()).or_default() += n;
                    }
                    kinds
                }),
                skipped: listing.skipped,
            });
        }
        let mut tables = Vec::new();
        for table in crate::query::all_tables() {
            let (rows, days, last_day) = manifest.table_stats(table.name);
            let stale_days = manifest.pending_summaries.get(table.name).map_or(0, |d| d.len());
            tables.push(TableStatus { table: table.name.to_string(), rows, days, last_day, stale_days });
        }
        let unmapped_services = self.unmapped_services()?;
        Ok(StatusReport {
            raw: self.raw.url().to_string(),
            warehouse: self.warehouse.location().url().to_string(),
            version: manifest.version,
            committed_at: self.warehouse.committed_at(),
            sources: out,
            tables,
            vacuum: self.warehouse.vacuum_preview(self.settings.vacuum_retention_days),
            unmapped_services,
        })
    }

    /// Incidents without a repository, by service.
    fn unmapped_services(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        let table = &crate::summaries::INCIDENTS;
        let days: Vec<chrono::NaiveDate> =
            self.warehouse.manifest().tables.get(table.name).map(|p| p.keys().copied().collect()).unwrap_or_default();
        let mut out = std::collections::BTreeMap::new();
        let Some(df) = self.warehouse.read_days(table, &days, Some(&["repo", "service"]))? else { return Ok(out) };
        let repo = df.column("repo").and_then(|c| c.str().cloned()).context("incidents repo")?;
        let service = df.column("service").and_then(|c| c.str().cloned()).context("incidents service")?;
        for (r, s) in repo.iter().zip(service.iter()) {
            if r.is_none() {
                *out.entry(s.unwrap_or("(no service)").to_string()).or_default() += 1;
            }
        }
        Ok(out)
    }
}
