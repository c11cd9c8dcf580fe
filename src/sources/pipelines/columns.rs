//! Column builders for one chunk of decoded payloads, turned into the four fact frames once
//! the dedup pass has decided which rows to keep.

use polars::prelude::*;

use super::payload::Pipeline;
use crate::sources::{Reject, RejectBudget};
use crate::timestamp::MICROS_PER_DAY;

/// Decoded payloads of one chunk of one object, column by column.
pub(super) struct ChunkColumns {
    pub object: usize,
    pub ids: Vec<i64>,
    project: StringChunkedBuilder,
    git_ref: StringChunkedBuilder,
    default_branch: Vec<bool>,
    created_at: Vec<i64>,
    date: Vec<i32>,
    duration: Vec<i64>,
    duration_e2e: Vec<i64>,
    build: Vec<Option<i64>>,
    has_restarts: Vec<bool>,
    failed_jobs: Vec<i64>,
    project_id: Vec<Option<i64>>,
    job_parent: Vec<u32>,
    job_name: StringChunkedBuilder,
    job_started_at: Vec<Option<i64>>,
    job_finished_at: Vec<Option<i64>>,
    job_duration: Vec<Option<i64>>,
    job_up: Vec<Option<i64>>,
    job_e2e: Vec<Option<i64>>,
    job_pull: Vec<Option<i64>>,
    job_up_without_pull: Vec<Option<i64>>,
    build_parent: Vec<u32>,
    build_name: StringChunkedBuilder,
    build_seconds: Vec<Option<i64>>,
    failed_parent: Vec<u32>,
    failed_name: StringChunkedBuilder,
    failed_started_at: Vec<Option<i64>>,
    failed_finished_at: Vec<Option<i64>>,
    failed_duration: Vec<Option<i64>>,
    pub rejects: Vec<Reject>,
    /// Rejects this chunk keeps, of [`Reject::MAX_KEPT_PER_OBJECT`]; the rest it counts.
    pub budget: RejectBudget,
}

/// The fact frames of a chunk, each with a `date` column for partitioning.
pub(super) struct ChunkFrames {
    pub pipelines: DataFrame,
    pub jobs: DataFrame,
    pub builds: DataFrame,
    pub failed_jobs: DataFrame,
}

impl ChunkColumns {
    pub fn new(object: usize, capacity: usize) -> Self {
        ChunkColumns {
            object,
            ids: Vec::with_capacity(capacity),
            project: StringChunkedBuilder::new("project".into(), capacity),
            git_ref: StringChunkedBuilder::new("ref".into(), capacity),
            default_branch: Vec::with_capacity(capacity),
            created_at: Vec::with_capacity(capacity),
            date: Vec::with_capacity(capacity),
            duration: Vec::with_capacity(capacity),
            duration_e2e: Vec::with_capacity(capacity),
            build: Vec::with_capacity(capacity),
            has_restarts: Vec::with_capacity(capacity),
            failed_jobs: Vec::with_capacity(capacity),
            project_id: Vec::with_capacity(capacity),
            job_parent: Vec::with_capacity(capacity * 3),
            job_name: StringChunkedBuilder::new("name".into(), capacity * 3),
            job_started_at: Vec::with_capacity(capacity * 3),
            job_finished_at: Vec::with_capacity(capacity * 3),
            job_duration: Vec::with_capacity(capacity * 3),
            job_up: Vec::with_capacity(capacity * 3),
            job_e2e: Vec::with_capacity(capacity * 3),
            job_pull: Vec::with_capacity(capacity * 3),
            job_up_without_pull: Vec::with_capacity(capacity * 3),
            build_parent: Vec::with_capacity(capacity),
            build_name: StringChunkedBuilder::new("build_name".into(), capacity),
            build_seconds: Vec::with_capacity(capacity),
            failed_parent: Vec::new(),
            failed_name: StringChunkedBuilder::new("name".into(), capacity / 8),
            failed_started_at: Vec::new(),
            failed_finished_at: Vec::new(),
            failed_duration: Vec::new(),
            rejects: Vec::new(),
            budget: RejectBudget::new(Reject::MAX_KEPT_PER_OBJECT),
        }
    }

    pub fn push(&mut self, p: Pipeline<'_>) {
        let row = self.ids.len() as u32;
        self.ids.push(p.pipeline_id);
        self.project.append_value(&*p.project);
        self.git_ref.append_value(&*p.git_ref);
        self.default_branch.push(matches!(&*p.git_ref, "master" | "main"));
        self.created_at.push(p.created_at);
        self.date.push(p.created_at.div_euclid(MICROS_PER_DAY) as i32);
        self.duration.push(p.duration);
        self.duration_e2e.push(p.duration_e2e);
        self.build.push(p.build);
        self.has_restarts.push(p.has_restarts);
        self.failed_jobs.push(p.failed_jobs);
        self.project_id.push(p.project_id);
        for job in p.jobs {
            self.job_parent.push(row);
            self.job_name.append_value(&*job.name);
            self.job_started_at.push(job.started_at);
            self.job_finished_at.push(job.finished_at);
            self.job_duration.push(job.duration);
            self.job_up.push(job.up);
            self.job_e2e.push(job.e2e);
            self.job_pull.push(job.pull);
            self.job_up_without_pull.push(job.up_without_pull);
        }
        for (name, seconds) in p.builds {
            self.build_parent.push(row);
            self.build_name.append_value(&*name);
            self.build_seconds.push(seconds);
        }
        for job in p.failed {
            self.failed_parent.push(row);
            self.failed_name.append_option(job.name.as_deref());
            self.failed_started_at.push(job.started_at);
            self.failed_finished_at.push(job.finished_at);
            self.failed_duration.push(job.duration);
        }
    }

    /// Build the fact frames, keeping the payloads `keep` marks (first deliveries).
    pub fn into_frames(self, keep: &[bool]) -> PolarsResult<ChunkFrames> {
        let parent_id = |parents: &[u32]| -> Vec<i64> { parents.iter().map(|&p| self.ids[p as usize]).collect() };
        let parent_date = |parents: &[u32]| -> Vec<i32> { parents.iter().map(|&p| self.date[p as usize]).collect() };
        let all_kept = keep.iter().all(|k| *k);
        // Duplicates are rare: skip the copy a filter makes when nothing is dropped.
        let keep_rows = |df: DataFrame, mask: &dyn Fn() -> BooleanChunked| if all_kept { Ok(df) } else { df.filter(&mask()) };
        let parent_keep = |parents: &[u32]| -> BooleanChunked { parents.iter().map(|&p| keep[p as usize]).collect() };

        let pipelines = keep_rows(
            DataFrame::new_infer_height(vec![
                i64s("pipeline_id", self.ids.clone()),
                self.project.finish().into_column(),
                self.git_ref.finish().into_column(),
                Column::new("default_branch".into(), self.default_branch),
                timestamps("created_at", self.created_at.into_iter().map(Some).collect()),
                i64s("duration", self.duration),
                i64s("duration_e2e", self.duration_e2e),
                Column::new("build".into(), self.build),
                Column::new("has_restarts".into(), self.has_restarts),
                i64s("failed_jobs", self.failed_jobs),
                Column::new("project_id".into(), self.project_id),
                dates(self.date.clone()),
            ])?,
            &|| BooleanChunked::from_slice("keep".into(), keep),
        )?;

        let jobs = keep_rows(
            DataFrame::new_infer_height(vec![
                i64s("pipeline_id", parent_id(&self.job_parent)),
                self.job_name.finish().into_column(),
                timestamps("started_at", self.job_started_at),
                timestamps("finished_at", self.job_finished_at),
                Column::new("duration".into(), self.job_duration),
                Column::new("up".into(), self.job_up),
                Column::new("e2e".into(), self.job_e2e),
                Column::new("pull".into(), self.job_pull),
                Column::new("up_without_pull".into(), self.job_up_without_pull),
                dates(parent_date(&self.job_parent)),
            ])?,
            &|| parent_keep(&self.job_parent),
        )?;

        let builds = keep_rows(
            DataFrame::new_infer_height(vec![
                i64s("pipeline_id", parent_id(&self.build_parent)),
                self.build_name.finish().into_column(),
                Column::new("seconds".into(), self.build_seconds),
                dates(parent_date(&self.build_parent)),
            ])?,
            &|| parent_keep(&self.build_parent),
        )?;

        let failed_jobs = keep_rows(
            DataFrame::new_infer_height(vec![
                i64s("pipeline_id", parent_id(&self.failed_parent)),
                self.failed_name.finish().into_column(),
                timestamps("started_at", self.failed_started_at),
                timestamps("finished_at", self.failed_finished_at),
                Column::new("duration".into(), self.failed_duration),
                dates(parent_date(&self.failed_parent)),
            ])?,
            &|| parent_keep(&self.failed_parent),
        )?;

        Ok(ChunkFrames { pipelines, jobs, builds, failed_jobs })
    }
}

fn i64s(name: &str, values: Vec<i64>) -> Column {
    Int64Chunked::from_vec(name.into(), values).into_column()
}

/// UTC instants stored as plain TIMESTAMP (not WITH TIME ZONE): every value is UTC, and DuckDB
/// without its ICU extension (the embedded one, offline) cannot apply date functions to TIMESTAMPTZ.
fn timestamps(name: &str, micros: Vec<Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), micros.into_iter()).into_datetime(TimeUnit::Microseconds, None).into_column()
}

fn dates(days: Vec<i32>) -> Column {
    Int32Chunked::from_vec("date".into(), days).into_date().into_column()
}
