//! Source `pipelines`: CI pipeline metrics, one JSON payload per pipeline (FORMATS.md §1).
//!
//! Decoded in [`payload`], collected column-wise per chunk in [`columns`], deduplicated here by
//! `pipeline_id` across all history (first delivery in landing order wins).

mod columns;
mod generate;
pub mod payload;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use self::columns::{ChunkColumns, ChunkFrames};
use super::ndjson::{self, LineChunk};
use super::{BatchOutcome, IngestContext, LoadedObject, Reject, Source};
use crate::error::{PolarsContext, Result};
use crate::generate::{DayObjects, GenerateOptions};
use crate::settings::Limits;
use crate::warehouse::{columns, KeyIndex, TableDef, TableKind, Txn};

/// Name of the dedup key index of pipeline ids.
const KEY_INDEX: &str = "pipelines";

/// One row per pipeline, first delivery of each `pipeline_id`.
pub static PIPELINES: TableDef = TableDef {
    name: "pipelines",
    dir: "pipelines",
    kind: TableKind::Fact,
    doc: "One row per CI pipeline (first delivery of each pipeline_id); partitioned by the UTC day of created_at.",
    columns: columns![
        "pipeline_id" "BIGINT" "pipeline id, unique per CI instance: the dedup key",
        "project" "VARCHAR" "project path, e.g. group/service",
        "ref" "VARCHAR" "branch or tag the pipeline ran on",
        "default_branch" "BOOLEAN" "ref IN ('master', 'main')",
        "created_at" "TIMESTAMP" "pipeline creation time, UTC",
        "duration" "BIGINT" "seconds from creation to the end of the last e2e job",
        "duration_e2e" "BIGINT" "seconds of e2e execution",
        "build" "BIGINT" "total build seconds (sum of the builds when the sender gave only those)",
        "has_restarts" "BOOLEAN" "whether any job failed and was restarted (jobs_failed not empty)",
        "failed_jobs" "BIGINT" "number of entries in jobs_failed",
        "project_id" "BIGINT" "numeric project id, sent by newer senders only",
    ],
};

/// One row per e2e job of a kept pipeline.
pub static PIPELINE_JOBS: TableDef = TableDef {
    name: "pipeline_jobs",
    dir: "pipeline_jobs",
    kind: TableKind::Fact,
    doc: "One row per job of a pipeline in `pipelines`; partitioned like its pipeline.",
    columns: columns![
        "pipeline_id" "BIGINT" "the pipeline the job belongs to",
        "name" "VARCHAR" "job name",
        "started_at" "TIMESTAMP" "job start, UTC",
        "finished_at" "TIMESTAMP" "job end, UTC",
        "duration" "BIGINT" "job seconds",
        "up" "BIGINT" "seconds to bring the environment up (NULL when not sent)",
        "e2e" "BIGINT" "seconds of e2e tests (NULL when not sent)",
        "pull" "BIGINT" "seconds pulling images (NULL when not sent)",
        "up_without_pull" "BIGINT" "up minus pull (NULL when not sent)",
    ],
};

/// One row per build of a kept pipeline.
pub static PIPELINE_BUILDS: TableDef = TableDef {
    name: "pipeline_builds",
    dir: "pipeline_builds",
    kind: TableKind::Fact,
    doc:
        "One row per build of a pipeline in `pipelines` (a lone `build` total is one build named build-e2e); partitioned like its pipeline.",
    columns: columns![
        "pipeline_id" "BIGINT" "the pipeline the build belongs to",
        "build_name" "VARCHAR" "build name",
        "seconds" "BIGINT" "build seconds",
    ],
};

/// One row per failed job attempt (`jobs_failed`) of a kept pipeline.
pub static PIPELINE_FAILED_JOBS: TableDef = TableDef {
    name: "pipeline_failed_jobs",
    dir: "pipeline_failed_jobs",
    kind: TableKind::Fact,
    doc: "One row per entry of jobs_failed (a failed attempt of a job) of a pipeline in `pipelines`, in the order sent; partitioned like its pipeline.",
    columns: columns![
        "pipeline_id" "BIGINT" "the pipeline the attempt belongs to",
        "name" "VARCHAR" "job name (NULL when the sender gave none)",
        "started_at" "TIMESTAMP" "attempt start, UTC (newer senders only)",
        "finished_at" "TIMESTAMP" "attempt end, UTC (newer senders only)",
        "duration" "BIGINT" "attempt seconds (NULL when not sent)",
    ],
};

/// The `pipelines` source.
pub struct PipelinesSource;

impl Source for PipelinesSource {
    fn name(&self) -> &'static str {
        "pipelines"
    }

    fn tables(&self) -> &'static [&'static TableDef] {
        static TABLES: [&TableDef; 4] = [&PIPELINES, &PIPELINE_JOBS, &PIPELINE_BUILDS, &PIPELINE_FAILED_JOBS];
        &TABLES
    }

    fn generate(&self, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
        generate::day(options, day_index, date)
    }

    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome> {
        let warehouse = ctx.warehouse;
        let mut outcome = BatchOutcome::new(batch.len());
        let objects = ndjson::json_objects(batch, self.name(), &mut outcome);
        let whole_objects: Vec<LineChunk<'_>> =
            objects.whole.iter().map(|&(object, data)| LineChunk { object, first_line: 1, data }).collect();
        let line_chunks = ndjson::split(&objects.lines);
        let limits = &ctx.settings.limits;
        let mut chunks: Vec<ChunkColumns> =
            line_chunks.par_iter().map(|c| decode_records(c.object, c.lines(), c.data.len(), limits)).collect();
        chunks.extend(whole_objects.iter().map(|c| {
            let blank = c.data.iter().all(u8::is_ascii_whitespace);
            decode_records(c.object, (!blank).then_some((1, c.data)).into_iter(), 1, limits)
        }));
        // Back in landing order (the `.json` objects were decoded after the line objects), so
        // that the first delivery wins whatever the framing. The sort is stable: an object's
        // chunks keep their order.
        chunks.sort_by_key(|c| c.object);

        // First delivery wins: against all history, then in landing order within the batch.
        let batch_ids: Vec<i64> = chunks.iter().flat_map(|c| c.ids.iter().copied()).collect();
        let seen_before = KeyIndex::seen(warehouse, KEY_INDEX, &batch_ids)?;
        let mut accepted_ids = PlHashSet::with_capacity(batch_ids.len());
        let keeps: Vec<Vec<bool>> =
            chunks.iter().map(|c| c.ids.iter().map(|id| !seen_before.contains(id) && accepted_ids.insert(*id)).collect()).collect();
        for (chunk, keep) in chunks.iter_mut().zip(&keeps) {
            let counts = &mut outcome.counts[chunk.object];
            let accepted = keep.iter().filter(|k| **k).count() as u64;
            counts.accepted += accepted;
            counts.duplicates += keep.len() as u64 - accepted;
            for reject in chunk.rejects.drain(..) {
                outcome.reject(reject);
            }
            outcome.reject_unkept(chunk.object, chunk.budget.unkept);
        }
        KeyIndex::add(warehouse, txn, KEY_INDEX, accepted_ids.into_iter().collect())?;

        let frames: Vec<ChunkFrames> = chunks
            .into_par_iter()
            .zip(keeps)
            .map(|(c, keep)| c.into_frames(&keep))
            .collect::<PolarsResult<_>>()
            .context("build pipeline rows")?;
        let (mut pipelines, mut jobs, mut builds, mut failed) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for f in frames {
            pipelines.push(f.pipelines);
            jobs.push(f.jobs);
            builds.push(f.builds);
            failed.push(f.failed_jobs);
        }
        let mut tables = Vec::new();
        for (table, parts) in [(&PIPELINES, pipelines), (&PIPELINE_JOBS, jobs), (&PIPELINE_BUILDS, builds), (&PIPELINE_FAILED_JOBS, failed)]
        {
            if let Some(df) = stack(parts).context(format!("stack {}", table.name))? {
                tables.push((table, df));
            }
        }
        outcome.append(txn, tables)?;
        Ok(outcome)
    }
}

/// Decode the records of one chunk; undecodable ones become rejects.
fn decode_records<'a>(object: usize, records: impl Iterator<Item = (u64, &'a [u8])>, bytes: usize, limits: &Limits) -> ChunkColumns {
    // About 600 bytes per payload in practice.
    let mut columns = ChunkColumns::new(object, bytes / 512 + 1);
    for (position, record) in records {
        match limits.check_record(record.len()).and_then(|()| payload::decode(record)) {
            Ok(p) => columns.push(p),
            Err(reason) => {
                if columns.budget.keep() {
                    columns.rejects.push(Reject::new(object, position, reason, record));
                }
            }
        }
    }
    columns
}

/// Stack frames of the same schema into one, or `None` when there are no rows.
fn stack(parts: Vec<DataFrame>) -> PolarsResult<Option<DataFrame>> {
    let mut parts = parts.into_iter().filter(|df| df.height() > 0);
    let Some(mut df) = parts.next() else { return Ok(None) };
    for part in parts {
        df.vstack_mut_owned(part)?;
    }
    Ok(Some(df))
}
