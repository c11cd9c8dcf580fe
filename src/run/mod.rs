//! Orchestration: the commands a scheduler or a person runs, over an opened raw lake and warehouse.

mod ingest;
mod prune;
mod status;
mod summarize;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use serde::Serialize;

pub use ingest::{IngestReport, SourceIngest};
pub use prune::PruneReport;
pub use status::{SourceStatus, StatusReport, TableStatus};
pub use summarize::{SummarizeReport, TableSummarized};

use crate::error::{Error, Result};
use crate::lake::Location;
use crate::progress::Progress;
use crate::settings::Settings;
use crate::sources::{self, Source};
use crate::summaries::{self, Summary};
use crate::warehouse::{AsOf, VacuumReport, Warehouse};

/// An open raw lake and warehouse with their settings.
pub struct Pipelake {
    settings: Settings,
    raw: Location,
    warehouse: Warehouse,
    progress: Progress,
}

/// Which days a command covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Days(pub BTreeSet<NaiveDate>);

impl Days {
    /// Every day from `from` to `to`, inclusive.
    pub fn range(from: NaiveDate, to: NaiveDate) -> Result<Days> {
        if from > to {
            return Err(Error::usage(format!("--from {from} is after --to {to}")));
        }
        Ok(Days(from.iter_days().take_while(|d| *d <= to).collect()))
    }

    /// One day.
    pub fn single(day: NaiveDate) -> Days {
        Days([day].into())
    }

    /// Yesterday, UTC: the nightly job's default.
    pub fn yesterday() -> Days {
        Days::single(Utc::now().date_naive().pred_opt().expect("a yesterday"))
    }
}

/// What `pipelake run` did.
/// What a writing command takes of the warehouse: the sources it ingests or prunes, the summary
/// tables it computes, vacuum. Commands on disjoint scopes run at the same time.
#[derive(Debug, Clone)]
pub struct Writing {
    pub command: &'static str,
    pub scopes: Vec<String>,
}

impl Writing {
    /// `run` of `sources`: them, their summaries, and vacuum.
    pub fn run(sources: &[&'static dyn Source]) -> Writing {
        let mut w = Writing::ingest("run", sources);
        w.scopes.extend(Writing::summarize(&summaries_of(sources)).scopes);
        w.scopes.push("vacuum".into());
        w
    }

    /// `ingest` or `prune` (`command`) of `sources`.
    pub fn ingest(command: &'static str, sources: &[&'static dyn Source]) -> Writing {
        Writing { command, scopes: sources.iter().map(|s| format!("source-{}", s.name())).collect() }
    }

    /// `summarize` of `summaries`.
    pub fn summarize(summaries: &[&'static dyn Summary]) -> Writing {
        Writing { command: "summarize", scopes: summaries.iter().map(|s| format!("table-{}", s.table().name)).collect() }
    }

    /// `vacuum`.
    pub fn vacuum() -> Writing {
        Writing { command: "vacuum", scopes: vec!["vacuum".into()] }
    }
}

/// How the nightly job splits into tasks a scheduler can spread over machines: one ingest per
/// source, then the summary tables level by level (a table's level is one more than the highest
/// level of the summaries it reads; those of one level read none of each other), then prune and
/// vacuum.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub sources: Vec<&'static str>,
    pub summary_levels: Vec<Vec<&'static str>>,
}

/// The plan of the whole nightly job (see [`Plan`]).
pub fn plan() -> Plan {
    let mut level: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut levels: Vec<Vec<&'static str>> = Vec::new();
    // In registration order, so a summary reading another one comes after it.
    for summary in summaries::all() {
        let n = summary.inputs().iter().filter_map(|t| level.get(t.name)).map(|l| l + 1).max().unwrap_or(0);
        level.insert(summary.table().name, n);
        if levels.len() <= n {
            levels.resize(n + 1, Vec::new());
        }
        levels[n].push(summary.table().name);
    }
    Plan { sources: crate::sources::all().iter().map(|s| s.name()).collect(), summary_levels: levels }
}

#[derive(Debug, Serialize)]
pub struct RunReport {
    pub ingest: IngestReport,
    pub summarize: SummarizeReport,
    pub prune: PruneReport,
    pub vacuum: VacuumReport,
}

impl Pipelake {
    /// Open the raw lake and the warehouse named by `settings`. With `writing` (the command's
    /// name) the warehouse is taken for that command, waiting up to `wait_seconds` for another
    /// writer, and any transaction a killed run left is finished or discarded; without, it is
    /// only read.
    pub fn open(settings: Settings, progress: Progress, writing: Option<Writing>) -> Result<Self> {
        Self::open_at(settings, progress, writing, None)
    }

    /// [`Pipelake::open`] reading the version `at` names instead of the newest (read-only).
    pub fn open_at(settings: Settings, progress: Progress, writing: Option<Writing>, at: Option<AsOf>) -> Result<Self> {
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|source| Error::Io { context: "start I/O runtime".into(), source })?,
        );
        let raw = Location::open(&settings.raw, false, runtime.clone())?;
        let warehouse = match writing {
            Some(writing) => {
                let wait = std::time::Duration::from_secs(settings.wait_seconds);
                let lease = std::time::Duration::from_secs(settings.lease_seconds);
                Warehouse::open_for_writing(
                    Location::open(&settings.warehouse, true, runtime)?,
                    crate::query::all_tables(),
                    writing.command,
                    &writing.scopes,
                    wait,
                    lease,
                )?
            }
            None => Warehouse::open_read_only(Location::open(&settings.warehouse, false, runtime)?, crate::query::all_tables(), at)?,
        };
        Ok(Pipelake { settings, raw, warehouse, progress })
    }

    /// The warehouse, for reading.
    pub fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    /// The raw lake.
    pub fn raw(&self) -> &Location {
        &self.raw
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The nightly job: ingest what is new, summarise every day it touched and the days asked
    /// for, then prune raw objects past retention and vacuum the warehouse.
    pub fn run(&mut self, sources: &[&'static dyn Source], days: &Days) -> Result<RunReport> {
        let ingest = self.ingest(sources)?;
        let summaries = summaries_of(sources);
        let summarize = self.summarize(&summaries, days, true)?;
        let prune = self.prune(sources, false)?;
        let vacuum = self.vacuum(false)?;
        Ok(RunReport { ingest, summarize, prune, vacuum })
    }

    /// Delete what no version kept for the retention needs (see [`Warehouse::vacuum`]).
    pub fn vacuum(&mut self, dry_run: bool) -> Result<VacuumReport> {
        self.warehouse.vacuum(self.settings.vacuum_retention_days, dry_run)
    }
}

/// Run CPU work on polars' thread pool. polars runs its kernels there; rayon calls made inside
/// `op` (our `par_iter`s, `join`s) then use the same threads. Left on rayon's global pool, they
/// would be a second pool of as many threads, each blocking (and spinning) while polars' pool
/// finishes the kernels they call: on 2 cores a telemetry ingest kept ~1.5 of them busy, ~1.75
/// on one pool, 9% faster. Blocking I/O stays outside, so that it does not hold a pool thread.
pub(crate) fn on_pool<R: Send>(op: impl FnOnce() -> R + Send) -> R {
    polars_core::runtime::THREAD_POOL.install(op)
}

/// The summaries fed by `sources`.
pub fn summaries_of(sources: &[&'static dyn Source]) -> Vec<&'static dyn Summary> {
    let mut tables: BTreeSet<&str> = sources.iter().flat_map(|s| s.tables().iter().map(|t| t.name)).collect();
    let mut out = Vec::new();
    // In registration order, so a summary reading another one comes after it.
    for summary in summaries::all() {
        if summary.inputs().iter().any(|t| tables.contains(t.name)) {
            tables.insert(summary.table().name);
            out.push(*summary);
        }
    }
    out
}

pub fn select_sources(names: &[String]) -> Result<Vec<&'static dyn Source>> {
    if names.is_empty() {
        return Ok(sources::all().to_vec());
    }
    names
        .iter()
        .map(|n| {
            sources::by_name(n).ok_or_else(|| Error::usage(format!("unknown source {n:?}; known: {}", crate::settings::source_names())))
        })
        .collect()
}

/// Summaries by table name, all of them when `names` is empty; an unknown name is a usage error.
pub fn select_summaries(names: &[String]) -> Result<Vec<&'static dyn Summary>> {
    if names.is_empty() {
        return Ok(summaries::all().to_vec());
    }
    names
        .iter()
        .map(|n| {
            summaries::by_table(n).ok_or_else(|| {
                let known: Vec<&str> = summaries::all().iter().map(|s| s.table().name).collect();
                Error::usage(format!("unknown summary table {n:?}; known: {}", known.join(", ")))
            })
        })
        .collect()
}
