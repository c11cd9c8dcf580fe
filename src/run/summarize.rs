//! `pipelake summarize`: recompute summary tables for whole days.

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;

use super::{on_pool, Days, Pipelake};
use crate::error::Result;
use crate::summaries::{self, split_by_day, Summary, SummaryContext};

/// What summarising one table did.
#[derive(Debug, Serialize)]
pub struct TableSummarized {
    pub table: String,
    pub days: usize,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub rows: u64,
    pub seconds: f64,
}

/// What `pipelake summarize` did, per table.
#[derive(Debug, Default, Serialize)]
pub struct SummarizeReport {
    pub tables: Vec<TableSummarized>,
}

impl Pipelake {
    /// Recompute `summaries` for `days`, and also for the days new facts made stale when
    /// `with_pending` is set (the nightly run).
    pub fn summarize(&mut self, summaries: &[&'static dyn Summary], days: &Days, with_pending: bool) -> Result<SummarizeReport> {
        let mut report = SummarizeReport::default();
        for summary in summaries {
            let started = Instant::now();
            let name = summary.table().name;
            let mut todo: BTreeSet<NaiveDate> = days.0.clone();
            if with_pending {
                todo.extend(self.warehouse.manifest().pending_summaries.get(name).into_iter().flatten().copied());
            }
            let todo: Vec<NaiveDate> = todo.into_iter().collect();
            let mut rows = 0u64;
            let bar = self.progress.count(todo.len() as u64, &format!("summarize {name}"));
            for chunk in todo.chunks(summary.days_per_txn()) {
                let ctx = SummaryContext { warehouse: &self.warehouse, settings: &self.settings };
                let computed = match on_pool(|| summary.compute(&ctx, chunk))? {
                    Some(df) => split_by_day(df)?,
                    None => Vec::new(),
                };
                let mut txn = self.warehouse.begin();
                txn.read_tables(summary.inputs().iter().map(|t| t.name));
                let mut by_day: std::collections::BTreeMap<NaiveDate, _> = computed.into_iter().collect();
                let frames: Vec<_> = chunk.iter().map(|day| (*day, by_day.remove(day))).collect();
                rows += frames.iter().map(|(_, f)| f.as_ref().map_or(0, |f| f.height() as u64)).sum::<u64>();
                let changed = on_pool(|| txn.replace_partitions(summary.table(), frames))?;
                // Summaries reading this one go stale where it changed.
                for downstream in summaries::all().iter().filter(|s| s.inputs().iter().any(|t| t.name == name)) {
                    let affected = downstream.affected_days(summary.table(), &changed, txn.manifest());
                    if !affected.is_empty() {
                        txn.manifest_mut().mark_pending(downstream.table().name, affected);
                    }
                }
                if let Some(pending) = txn.manifest_mut().pending_summaries.get_mut(name) {
                    for day in chunk {
                        pending.remove(day);
                    }
                    if pending.is_empty() {
                        txn.manifest_mut().pending_summaries.remove(name);
                    }
                }
                self.warehouse.commit(txn)?;
                bar.inc(chunk.len() as u64);
            }
            bar.finish_and_clear();
            let done = TableSummarized {
                table: name.to_string(),
                days: todo.len(),
                first_day: todo.first().copied(),
                last_day: todo.last().copied(),
                rows,
                seconds: started.elapsed().as_secs_f64(),
            };
            tracing::info!(table = name, days = done.days, rows, seconds = done.seconds, "summarized");
            report.tables.push(done);
        }
        Ok(report)
    }
}
