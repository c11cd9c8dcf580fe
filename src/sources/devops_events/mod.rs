//! Source `devops_events`: push/deploy/test events of a "DevOps Toolkit: Metrics" service
//! (FORMATS.md §3), JSON or NDJSON. Decoded in [`event`]; exact duplicates (same time, repo,
//! event and metadata) count once across all history.

pub mod event;
mod generate;

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDate;
use polars::prelude::*;

use super::ndjson;
use super::{BatchOutcome, IngestContext, LoadedObject, Reject, Source};
use crate::error::{PolarsContext, Result};
use crate::generate::{DayObjects, GenerateOptions};
use crate::timestamp::{date_of_micros, MICROS_PER_DAY};
use crate::warehouse::{columns, TableDef, TableKind, Txn, Warehouse};

/// One row per distinct event.
pub static DEVOPS_EVENTS: TableDef = TableDef {
    name: "devops_events",
    dir: "devops_events",
    kind: TableKind::Fact,
    doc: "One row per DevOps event (exact duplicates once); partitioned by the UTC day of time.",
    columns: columns![
        "time" "TIMESTAMP" "when the event happened, UTC; when the sender left Time out, the object's landing time (its last-modified time, or the start of its dt= day if modified on another day)",
        "repo" "VARCHAR" "repository, or ALL for events not tied to one",
        "event" "VARCHAR" "push, deploy, test_pass or test_run",
        "metadata" "VARCHAR" "the Metadata string as sent (NULL when absent)",
        "commit_ids" "VARCHAR[]" "commits the metadata names: a push's commit_id, a deploy's commit_ids",
        "time_from_landing" "BOOLEAN" "whether time is the object's landing time because the sender left Time out",
    ],
};

/// The `devops_events` source.
pub struct DevopsEventsSource;

/// A decoded event with where it came from.
struct Row {
    time: i64,
    time_from_landing: bool,
    repo: String,
    event: String,
    metadata: Option<String>,
    commit_ids: Vec<String>,
}

/// What makes two events the same.
type Key = (i64, String, String, Option<String>);

impl Source for DevopsEventsSource {
    fn name(&self) -> &'static str {
        "devops_events"
    }

    fn tables(&self) -> &'static [&'static TableDef] {
        static TABLES: [&TableDef; 1] = [&DEVOPS_EVENTS];
        &TABLES
    }

    fn generate(&self, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
        generate::day(options, day_index, date)
    }

    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome> {
        let mut outcome = BatchOutcome::new(batch.len());
        let decoded = ndjson::decode_records(batch, self.name(), &ctx.settings.limits, &mut outcome, |i, text| decode_row(text, &batch[i]));

        let days: BTreeSet<NaiveDate> = decoded.iter().filter_map(|(_, _, r, _)| r.as_ref().ok()).map(|r| date_of_micros(r.time)).collect();
        let mut seen = existing_keys(ctx.warehouse, &days)?;
        let mut rows = Vec::new();
        for (object, position, row, text) in decoded {
            match row {
                Err(reason) => outcome.reject(Reject::new(object, position, reason, &text)),
                Ok(row) => {
                    if seen.insert((row.time, row.repo.clone(), row.event.clone(), row.metadata.clone())) {
                        outcome.counts[object].accepted += 1;
                        rows.push(row);
                    } else {
                        outcome.counts[object].duplicates += 1;
                    }
                }
            }
        }
        if !rows.is_empty() {
            outcome.append(txn, vec![(&DEVOPS_EVENTS, frame(&rows).context("build devops_events rows")?)])?;
        }
        Ok(outcome)
    }
}

fn decode_row(text: &[u8], obj: &LoadedObject) -> std::result::Result<Row, String> {
    let e = event::decode(text)?;
    let (time, from_landing) = match e.time {
        Some(t) => (t, false),
        None => (obj.landing_time(), true),
    };
    Ok(Row {
        time,
        time_from_landing: from_landing,
        repo: e.repo.into_owned(),
        event: e.event.into_owned(),
        metadata: e.metadata,
        commit_ids: e.commit_ids,
    })
}

/// The identities of events already kept on `days`.
fn existing_keys(warehouse: &Warehouse, days: &BTreeSet<NaiveDate>) -> Result<HashSet<Key>> {
    let days: Vec<NaiveDate> = days.iter().copied().collect();
    let mut out = HashSet::new();
    let Some(df) = warehouse.read_days(&DEVOPS_EVENTS, &days, Some(&["time", "repo", "event", "metadata"]))? else { return Ok(out) };
    let time = df.column("time").and_then(|c| c.datetime().cloned()).context("devops_events time")?;
    let repo = df.column("repo").and_then(|c| c.str().cloned()).context("devops_events repo")?;
    let event = df.column("event").and_then(|c| c.str().cloned()).context("devops_events event")?;
    let metadata = df.column("metadata").and_then(|c| c.str().cloned()).context("devops_events metadata")?;
    for (((t, r), e), m) in time.physical().iter().zip(repo.iter()).zip(event.iter()).zip(metadata.iter()) {
        if let (Some(t), Some(r), Some(e)) = (t, r, e) {
            out.insert((t, r.to_string(), e.to_string(), m.map(str::to_string)));
        }
    }
    Ok(out)
}

fn frame(rows: &[Row]) -> PolarsResult<DataFrame> {
    let commit_ids: ListChunked = rows.iter().map(|r| Some(Series::new("".into(), &r.commit_ids))).collect();
    DataFrame::new_infer_height(vec![
        Int64Chunked::from_iter_values("time".into(), rows.iter().map(|r| r.time))
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column(),
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
        Column::new("event".into(), rows.iter().map(|r| r.event.as_str()).collect::<Vec<_>>()),
        Column::new("metadata".into(), rows.iter().map(|r| r.metadata.as_deref()).collect::<Vec<_>>()),
        commit_ids.with_name("commit_ids".into()).into_column(),
        Column::new("time_from_landing".into(), rows.iter().map(|r| r.time_from_landing).collect::<Vec<_>>()),
        Int32Chunked::from_vec("date".into(), rows.iter().map(|r| r.time.div_euclid(MICROS_PER_DAY) as i32).collect())
            .into_date()
            .into_column(),
    ])
}
