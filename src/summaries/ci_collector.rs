//! The collector's pipelines (source `pipelines`, FORMATS.md §1) as CI run and job attempts.
//!
//! A pipeline is one run attempt (METRICS.md): created at `created_at`, finished `duration`
//! seconds later (the collector measures up to the end of the last e2e job). Its `jobs` are the
//! attempts that passed, its `jobs_failed` the attempts that failed, numbered per job name in
//! the order sent, the failed ones first: a job is retried until it passes. A pipeline whose
//! failed job never passed failed.
//!
//! Built column-wise in input order (deterministic, so that a recomputed day is the same
//! file): a month of the collector is millions of job attempts.

use std::collections::BTreeSet;
use std::fmt::Write;

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::webhook_facts::span;
use super::SummaryContext;
use crate::error::{PolarsContext, Result};
use crate::sources::pipelines::{PIPELINES, PIPELINE_FAILED_JOBS, PIPELINE_JOBS};
use crate::timestamp::{in_range, MICROS_PER_DAY};
use crate::warehouse::TableDef;

/// The `source` of the collector's rows in `ci_runs` and `ci_jobs`.
pub const SOURCE: &str = "pipelines";
/// Their `workflow`: the collector names none.
pub const WORKFLOW: &str = "pipeline";

/// The collector's tables these summaries read.
pub static INPUTS: [&TableDef; 3] = [&PIPELINES, &PIPELINE_JOBS, &PIPELINE_FAILED_JOBS];

/// Whether `table` is one of the collector's tables.
pub fn is_input(table: &TableDef) -> bool {
    INPUTS.iter().any(|t| t.name == table.name)
}

/// The longest a collector pipeline lasts: one lasting longer has no finish (a clock or sender
/// error: the collector measures up to the end of the e2e jobs; and no partition could hold the
/// year 10000). It bounds how far a pipeline reaches, so that every day is computed alike.
pub const MAX_PIPELINE_SECONDS: i64 = 86_400;

/// Days of ci_runs or ci_jobs that pipelines created on `days` reach: those days and the next.
pub fn affected_days(days: &BTreeSet<NaiveDate>) -> BTreeSet<NaiveDate> {
    days.iter().flat_map(|d| [*d, *d + Duration::days(1)]).filter(|d| crate::timestamp::is_partition_day(*d)).collect()
}

/// The pipeline days whose attempts may finish on `days`.
fn read_span(days: &[NaiveDate]) -> Vec<NaiveDate> {
    match (days.first(), days.last()) {
        (Some(first), Some(last)) => span(*first - Duration::days(1), *last),
        _ => Vec::new(),
    }
}

/// When a pipeline created at `created` and lasting `duration` seconds finished; none past
/// [`MAX_PIPELINE_SECONDS`].
fn finish(created: Option<i64>, duration: Option<i64>) -> Option<i64> {
    let seconds = duration.filter(|d| (0..=MAX_PIPELINE_SECONDS).contains(d))?;
    created?.checked_add(seconds * 1_000_000).filter(|t| in_range(*t))
}

fn day_of(micros: i64) -> i32 {
    micros.div_euclid(MICROS_PER_DAY) as i32
}

/// One entry of a pipeline's `jobs_failed`.
struct FailedAttempt {
    /// Its place in `jobs_failed`.
    index: u32,
    name: Option<String>,
    started: Option<i64>,
    finished: Option<i64>,
    duration: Option<i64>,
}

/// The failed attempts of the pipelines created on `read`, by pipeline, in the order sent.
fn read_failed(ctx: &SummaryContext<'_>, read: &[NaiveDate]) -> Result<PlHashMap<i64, Vec<FailedAttempt>>> {
    let mut out: PlHashMap<i64, Vec<FailedAttempt>> = PlHashMap::new();
    let Some(df) = ctx.warehouse.read_days(&PIPELINE_FAILED_JOBS, read, None)? else { return Ok(out) };
    let id = i64s(&df, "pipeline_id")?;
    let name = df.column("name").and_then(|c| c.str().cloned()).context("pipeline_failed_jobs name")?;
    let (started, finished) = (times(&df, "started_at")?, times(&df, "finished_at")?);
    let duration = i64s(&df, "duration")?;
    for i in 0..df.height() {
        let Some(pipeline) = id.get(i) else { continue };
        let list = out.entry(pipeline).or_default();
        list.push(FailedAttempt {
            index: list.len() as u32,
            name: name.get(i).map(str::to_string),
            started: started.get(i),
            finished: finished.get(i),
            duration: duration.get(i),
        });
    }
    Ok(out)
}

/// The pipelines created on `read`, with when each finished (`p_finish`) and its UTC day of
/// finish, else of creation (`date`).
fn read_pipelines(ctx: &SummaryContext<'_>, read: &[NaiveDate], columns: &[&str]) -> Result<Option<DataFrame>> {
    let Some(mut p) = ctx.warehouse.read_days(&PIPELINES, read, Some(columns))? else { return Ok(None) };
    let (created, duration) = (times(&p, "created_at")?, i64s(&p, "duration")?);
    let finished: Vec<Option<i64>> = created.iter().zip(duration.iter()).map(|(c, d)| finish(c, d)).collect();
    let date: Vec<Option<i32>> = finished.iter().zip(created.iter()).map(|(f, c)| f.or(c).map(day_of)).collect();
    p.with_column(crate::warehouse::timestamp_column("p_finish", finished)).context("collector pipelines")?;
    p.with_column(Int32Chunked::from_iter_options("date".into(), date.into_iter()).into_date().into_column())
        .context("collector pipelines")?;
    Ok(Some(p))
}

/// The collector's run attempts that finished (else were created) on `days`, as `ci_runs` rows.
pub fn runs(ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
    let read = read_span(days);
    let Some(p) = read_pipelines(ctx, &read, &["pipeline_id", "project", "ref", "default_branch", "created_at", "duration"])? else {
        return Ok(None);
    };
    let p = p.lazy().filter(super::is_one_of_days(col("date"), days));
    // Pipelines with a failed job that never passed in them: they failed.
    let failed = read_failed(ctx, &read)?;
    let named: Vec<(i64, &str)> =
        failed.iter().flat_map(|(id, list)| list.iter().filter_map(move |f| Some((*id, f.name.as_deref()?)))).collect();
    let failing = match ctx.warehouse.read_days(&PIPELINE_JOBS, &read, Some(&["pipeline_id", "name"]))? {
        _ if named.is_empty() => Series::new_empty("pipeline_id".into(), &DataType::Int64),
        jobs => {
            let failed = df!(
                "pipeline_id" => named.iter().map(|n| n.0).collect::<Vec<_>>(),
                "name" => named.iter().map(|n| n.1).collect::<Vec<_>>()
            )
            .context("collector failed jobs")?;
            let never_passed = match jobs {
                Some(jobs) => failed.lazy().join(
                    jobs.lazy(),
                    [col("pipeline_id"), col("name")],
                    [col("pipeline_id"), col("name")],
                    JoinArgs::new(JoinType::Anti),
                ),
                None => failed.lazy(),
            };
            never_passed
                .select([col("pipeline_id")])
                .collect()
                .context("collector failing pipelines")?
                .column("pipeline_id")
                .context("ids")?
                .as_materialized_series()
                .clone()
        }
    };
    let df = p
        .select([
            lit(SOURCE).alias("source"),
            col("project").alias("repo"),
            col("pipeline_id").cast(DataType::String).alias("run_id"),
            lit(1i64).cast(DataType::Int64).alias("attempt"),
            lit(WORKFLOW).alias("workflow"),
            col("ref").alias("branch"),
            col("default_branch"),
            lit(NULL).cast(DataType::String).alias("sha"),
            when(col("pipeline_id").is_in(lit(failing).implode(false), false))
                .then(lit("failure"))
                .otherwise(lit("success"))
                .alias("conclusion"),
            col("created_at"),
            col("created_at").alias("started_at"),
            col("p_finish").alias("finished_at"),
            col("duration").cast(DataType::Float64).alias("duration_s"),
            lit(NULL).cast(DataType::Float64).alias("queue_s"),
            col("date"),
        ])
        .collect()
        .context("collector runs")?;
    Ok((df.height() > 0).then_some(df))
}

/// The collector's job attempts that finished (else whose pipeline was created) on `days`, as
/// `ci_jobs` rows: `<pipeline_id>:jobs[i]` passed, `<pipeline_id>:jobs_failed[i]` failed. A
/// failed attempt sent without times (older senders) finished when its job's next attempt
/// started (else when its pipeline finished) and started `duration` before.
pub fn jobs(ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
    let read = read_span(days);
    let Some(p) = read_pipelines(ctx, &read, &["pipeline_id", "project", "created_at", "duration"])? else {
        return Ok(None);
    };
    let failed = read_failed(ctx, &read)?;
    let pipelines = p.select(["pipeline_id", "project", "created_at", "p_finish"]).context("collector pipelines")?;
    let mut frames = Vec::new();
    // When the passing attempt of each retried job started: its failed attempts ended by then.
    let mut next_start: PlHashMap<(i64, String), i64> = PlHashMap::new();
    let jobs = ctx.warehouse.read_days(&PIPELINE_JOBS, &read, Some(&["pipeline_id", "name", "started_at", "finished_at", "duration"]))?;
    if let Some(mut jobs) = jobs {
        jobs.rechunk_mut();
        let (id, name, started) = (i64s(&jobs, "pipeline_id")?, texts(&jobs, "name")?, times(&jobs, "started_at")?);
        let mut job_id = StringChunkedBuilder::new("job_id".into(), jobs.height());
        let mut attempt = Vec::with_capacity(jobs.height());
        let mut buffer = String::new();
        // The rows of one pipeline are contiguous (written from one payload): its position
        // restarts where the id changes, and its failed attempts are looked up once.
        let (mut last, mut position, mut retried) = (None, 0u32, None);
        for (((id, name), started), row) in id.iter().zip(name.iter()).zip(started.iter()).zip(0..) {
            if id != last || row == 0 {
                last = id;
                position = 0;
                retried = id.and_then(|id| failed.get(&id));
            } else {
                position += 1;
            }
            let before = retried.map_or(0, |list: &Vec<FailedAttempt>| list.iter().filter(|f| f.name.as_deref() == name).count());
            if let (true, Some(id), Some(name), Some(started)) = (before > 0, id, name, started) {
                next_start.entry((id, name.to_string())).and_modify(|t| *t = (*t).min(started)).or_insert(started);
            }
            attempt.push(before as i64 + 1);
            buffer.clear();
            let _ = write!(buffer, "{}:jobs[{position}]", id.unwrap_or_default());
            job_id.append_value(&buffer);
        }
        jobs.with_column(job_id.finish().into_column()).context("collector jobs")?;
        jobs.with_column(Column::new("attempt".into(), attempt)).context("collector jobs")?;
        let passed = jobs
            .lazy()
            .join(
                pipelines.clone().lazy(),
                [col("pipeline_id")],
                [col("pipeline_id")],
                JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Inner) },
            )
            .with_column(coalesce(&[col("finished_at"), col("p_finish")]).alias("ended"))
            .select([
                lit(SOURCE).alias("source"),
                col("project").alias("repo"),
                col("job_id"),
                col("pipeline_id").cast(DataType::String).alias("run_id"),
                col("attempt"),
                col("name"),
                lit(NULL).cast(DataType::String).alias("sha"),
                lit("success").alias("conclusion"),
                lit(NULL).cast(TIMESTAMP).alias("created_at"),
                col("started_at"),
                col("ended").alias("finished_at"),
                when(col("finished_at").gt_eq(col("started_at")))
                    .then(
                        (col("finished_at").cast(DataType::Int64) - col("started_at").cast(DataType::Int64)).cast(DataType::Float64)
                            / lit(1e6),
                    )
                    .otherwise(col("duration").cast(DataType::Float64))
                    .alias("run_s"),
                lit(NULL).cast(DataType::Float64).alias("queue_s"),
                lit(NULL).cast(DataType::String).alias("runner"),
                day_expr(coalesce(&[col("ended"), col("created_at")])).alias("date"),
            ])
            .filter(super::is_one_of_days(col("date"), days));
        frames.push(passed);
    }
    if let Some(df) = failed_attempts(&failed, &pipelines, &next_start)? {
        frames.push(df.lazy().filter(super::is_one_of_days(col("date"), days)));
    }
    if frames.is_empty() {
        return Ok(None);
    }
    let df = concat(frames, UnionArgs::default()).and_then(|lf| lf.collect()).context("collector jobs")?;
    Ok((df.height() > 0).then_some(df))
}

/// The `TIMESTAMP` type of the tables.
const TIMESTAMP: DataType = DataType::Datetime(TimeUnit::Microseconds, None);

/// The UTC day of a timestamp, as a date.
fn day_expr(e: Expr) -> Expr {
    e.cast(DataType::Int64).floor_div(lit(MICROS_PER_DAY)).cast(DataType::Int32).cast(DataType::Date)
}

/// A failed attempt on its way to a `ci_jobs` row.
struct FailedRow<'a> {
    pipeline: i64,
    index: u32,
    repo: Option<&'a str>,
    name: &'a str,
    attempt: i64,
    started: Option<i64>,
    finished: Option<i64>,
    run_s: Option<f64>,
    day: i32,
}

/// The `ci_jobs` rows of the failed attempts, in pipeline order (a recomputed day must be the
/// same file).
fn failed_attempts(
    failed: &PlHashMap<i64, Vec<FailedAttempt>>,
    pipelines: &DataFrame,
    next_start: &PlHashMap<(i64, String), i64>,
) -> Result<Option<DataFrame>> {
    if failed.is_empty() {
        return Ok(None);
    }
    let (id, project, created, finish) =
        (i64s(pipelines, "pipeline_id")?, texts(pipelines, "project")?, times(pipelines, "created_at")?, times(pipelines, "p_finish")?);
    let mut rows: Vec<FailedRow<'_>> = Vec::new();
    for (((id, project), created), pipeline_finish) in id.iter().zip(project.iter()).zip(created.iter()).zip(finish.iter()) {
        let Some(list) = id.and_then(|id| failed.get(&id)) else { continue };
        let id = id.unwrap_or_default();
        for f in list {
            let Some(name) = f.name.as_deref() else { continue };
            let seconds = f.duration.and_then(|d| d.checked_mul(1_000_000));
            let finished = f
                .finished
                .or_else(|| f.started.zip(seconds).and_then(|(s, d)| s.checked_add(d)).filter(|t| in_range(*t)))
                .or_else(|| next_start.get(&(id, name.to_string())).copied())
                .or(pipeline_finish);
            let started = f.started.or_else(|| finished.zip(seconds).and_then(|(e, d)| e.checked_sub(d)).filter(|t| in_range(*t)));
            let Some(day) = finished.or(created).map(day_of) else { continue };
            let attempt = list.iter().filter(|g| g.index < f.index && g.name.as_deref() == Some(name)).count() as i64 + 1;
            let run_s = f.duration.map(|d| d as f64).or_else(|| super::ci_runs::seconds(f.started, f.finished));
            rows.push(FailedRow { pipeline: id, index: f.index, repo: project, name, attempt, started, finished, run_s, day });
        }
    }
    rows.sort_by_key(|r| (r.pipeline, r.index));
    let n = rows.len();
    let df = DataFrame::new_infer_height(vec![
        Column::new_scalar("source".into(), Scalar::new(DataType::String, AnyValue::StringOwned(SOURCE.into())), n),
        Column::new("repo".into(), rows.iter().map(|r| r.repo).collect::<Vec<_>>()),
        Column::new("job_id".into(), rows.iter().map(|r| format!("{}:jobs_failed[{}]", r.pipeline, r.index)).collect::<Vec<_>>()),
        Column::new("run_id".into(), rows.iter().map(|r| r.pipeline.to_string()).collect::<Vec<_>>()),
        Column::new("attempt".into(), rows.iter().map(|r| r.attempt).collect::<Vec<_>>()),
        Column::new("name".into(), rows.iter().map(|r| r.name).collect::<Vec<_>>()),
        Column::full_null("sha".into(), n, &DataType::String),
        Column::new_scalar("conclusion".into(), Scalar::new(DataType::String, AnyValue::StringOwned("failure".into())), n),
        crate::warehouse::timestamp_column("created_at", std::iter::repeat_n(None, n)),
        crate::warehouse::timestamp_column("started_at", rows.iter().map(|r| r.started)),
        crate::warehouse::timestamp_column("finished_at", rows.iter().map(|r| r.finished)),
        Column::new("run_s".into(), rows.iter().map(|r| r.run_s).collect::<Vec<_>>()),
        Column::full_null("queue_s".into(), n, &DataType::Float64),
        Column::full_null("runner".into(), n, &DataType::String),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| r.day)).into_date().into_column(),
    ])
    .context("collector failed jobs")?;
    Ok(Some(df))
}

fn texts(df: &DataFrame, name: &str) -> Result<StringChunked> {
    df.column(name).and_then(|c| c.str().cloned()).context(format!("read {name}"))
}

fn i64s(df: &DataFrame, name: &str) -> Result<Int64Chunked> {
    df.column(name).and_then(|c| c.i64().cloned()).context(format!("read {name}"))
}

/// A TIMESTAMP column as UTC microseconds.
fn times(df: &DataFrame, name: &str) -> Result<Int64Chunked> {
    df.column(name).and_then(|c| c.datetime().map(|t| t.physical().clone())).context(format!("read {name}"))
}
