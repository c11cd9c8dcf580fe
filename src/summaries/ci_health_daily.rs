//! `ci_health_daily` and `ci_job_daily`: CI health per day (METRICS.md, CI health): runs and
//! their outcomes, success rate without the cancelled, duration percentiles, how long the default
//! branch stayed red and how long it took to turn green; per job, run and queue time and flakes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::ci_jobs::CI_JOBS;
use super::ci_runs::{CI_RUNS, RUN_SPAN_DAYS};
use super::pipeline_daily;
use super::webhook_facts::{days_in_reach, percentile_cont, span};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::timestamp::{date_to_days, MICROS_PER_DAY};
use crate::warehouse::{columns, Manifest, TableDef, TableKind};

/// A red spell is looked for this many days back: one open longer counts from then.
pub const RED_LOOKBACK_DAYS: i64 = 30;

pub static CI_HEALTH_DAILY: TableDef = TableDef {
    name: "ci_health_daily",
    dir: "ci_health_daily",
    kind: TableKind::Summary,
    doc: "Per date, repo, workflow and default branch or not: the run attempts that finished that day (GitHub workflow runs, GitLab pipelines, the collector's pipelines when on), their outcomes, success rate without the cancelled, duration percentiles, and for the default branch the time it spent red and took to turn green; partitioned by date.",
    columns: columns![
        "repo" "VARCHAR" "owner/name",
        "workflow" "VARCHAR" "GitHub workflow name, GitLab pipeline name (else pipeline)",
        "default_branch" "BOOLEAN" "runs of the default branch or of other branches",
        "runs" "BIGINT" "attempts that finished that day, skipped, neutral, action_required and stale not counted",
        "succeeded" "BIGINT" "of those, success",
        "failed" "BIGINT" "of those, failure, timed_out or startup_failure",
        "cancelled" "BIGINT" "of those, cancelled",
        "success_rate" "DOUBLE" "succeeded / (runs - cancelled); NULL when that is 0",
        "duration_p50_s" "DOUBLE" "PERCENTILE_CONT 0.5 of the attempts' duration_s, cancelled included",
        "duration_p80_s" "DOUBLE" "the same at 0.8",
        "duration_p95_s" "DOUBLE" "the same at 0.95",
        "red_seconds" "DOUBLE" "default branch: seconds of the day inside red spells (from a failing run after a green state to the next successful run); NULL for other branches",
        "time_to_green_p50_s" "DOUBLE" "default branch: median length of the red spells that ended that day; NULL when none did",
    ],
};

pub static CI_JOB_DAILY: TableDef = TableDef {
    name: "ci_job_daily",
    dir: "ci_job_daily",
    kind: TableKind::Summary,
    doc: "Per date, repo and job name: the job's attempts that finished that day, failures, run and queue time percentiles, and flakes (an attempt failed and a later attempt of the same run and sha passed, counted the day it passed); partitioned by date.",
    columns: columns![
        "repo" "VARCHAR" "owner/name",
        "job" "VARCHAR" "job name",
        "runs" "BIGINT" "the job's attempts that finished that day (skipped not counted)",
        "failed" "BIGINT" "of those, failure, timed_out or startup_failure",
        "run_p50_s" "DOUBLE" "PERCENTILE_CONT 0.5 of run_s",
        "run_p95_s" "DOUBLE" "the same at 0.95",
        "queue_p50_s" "DOUBLE" "PERCENTILE_CONT 0.5 of queue_s",
        "queue_p95_s" "DOUBLE" "the same at 0.95",
        "flaky_runs" "BIGINT" "runs in which the job passed that day after a failed attempt of the same run and sha",
        "flake_rate" "DOUBLE" "flaky_runs / runs",
        "failed_attempt_s" "DOUBLE" "run time spent in the failed attempts of those flaky runs",
    ],
};

/// How a conclusion counts: `None` when it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    Cancelled,
}

pub fn outcome(conclusion: Option<&str>) -> Option<Outcome> {
    match conclusion? {
        "success" => Some(Outcome::Succeeded),
        "failure" | "timed_out" | "startup_failure" => Some(Outcome::Failed),
        "cancelled" => Some(Outcome::Cancelled),
        _ => None,
    }
}

/// The conclusions [`outcome`] counts, and the failures among them.
const COUNTED: [&str; 5] = ["success", "failure", "timed_out", "startup_failure", "cancelled"];
const FAILED: [&str; 3] = ["failure", "timed_out", "startup_failure"];

fn one_of(e: Expr, values: &[&str]) -> Expr {
    let list = Series::new("".into(), values);
    e.is_in(lit(list).implode(false), false)
}

/// Attempts that finished with a counted conclusion.
fn counted(df: DataFrame) -> LazyFrame {
    df.lazy().filter(col("finished_at").is_not_null().and(one_of(col("conclusion"), &COUNTED)))
}

pub(super) struct CiHealthDaily;

impl Summary for CiHealthDaily {
    fn table(&self) -> &'static TableDef {
        &CI_HEALTH_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&CI_RUNS];
        &INPUTS
    }

    /// A run counts on its day, and its red spell on the days with runs after it.
    fn affected_days(&self, _input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        let mut out = days.clone();
        out.extend(days_in_reach(manifest, &[&CI_RUNS, &CI_HEALTH_DAILY], days, 0, RED_LOOKBACK_DAYS));
        out
    }

    fn days_per_txn(&self) -> usize {
        RED_LOOKBACK_DAYS as usize
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else { return Ok(None) };
        let Some(runs) = ctx.warehouse.read_days(
            &CI_RUNS,
            &span(first - Duration::days(RED_LOOKBACK_DAYS), last),
            Some(&["repo", "workflow", "default_branch", "run_id", "attempt", "conclusion", "finished_at", "duration_s"]),
        )?
        else {
            return Ok(None);
        };
        let runs = counted(runs)
            .with_columns([col("workflow").fill_null(lit("")), col("default_branch").fill_null(lit(false))])
            .collect()
            .context("ci_health_daily runs")?;
        let of_days = runs.clone().lazy().filter(super::is_one_of_days(col("date"), days));
        let conclusion = |values: &[&str]| one_of(col("conclusion"), values).cast(DataType::Int64).sum();
        let mut health = of_days
            .group_by([col("date"), col("repo"), col("workflow"), col("default_branch")])
            .agg([
                len().cast(DataType::Int64).alias("runs"),
                conclusion(&["success"]).alias("succeeded"),
                conclusion(&FAILED).alias("failed"),
                conclusion(&["cancelled"]).alias("cancelled"),
                pipeline_daily::percentile_cont(col("duration_s"), 0.5).alias("duration_p50_s"),
                pipeline_daily::percentile_cont(col("duration_s"), 0.8).alias("duration_p80_s"),
                pipeline_daily::percentile_cont(col("duration_s"), 0.95).alias("duration_p95_s"),
            ])
            .with_column(
                when((col("runs") - col("cancelled")).gt(lit(0)))
                    .then(col("succeeded").cast(DataType::Float64) / (col("runs") - col("cancelled")).cast(DataType::Float64))
                    .otherwise(lit(NULL).cast(DataType::Float64))
                    .alias("success_rate"),
            )
            .sort(["date", "repo", "workflow", "default_branch"], Default::default())
            .collect()
            .context("ci_health_daily")?;
        if health.height() == 0 {
            return Ok(None);
        }
        let (red, green) = red_columns(&runs, &health)?;
        health.with_column(Column::new("red_seconds".into(), red)).context("ci_health_daily")?;
        health.with_column(Column::new("time_to_green_p50_s".into(), green)).context("ci_health_daily")?;
        let order: Vec<&str> = CI_HEALTH_DAILY.columns.iter().map(|c| c.name).chain(["date"]).collect();
        Ok(Some(health.select(order).context("ci_health_daily columns")?))
    }
}

/// A counted default-branch run, for the red spells: when it finished, its id and attempt (the
/// order of runs finished at the same instant), and how it ended.
type Finish<'a> = (i64, &'a str, i64, Outcome);

/// Seconds per row of a frame, NULL where there is no figure.
type Figures = Vec<Option<f64>>;

/// `red_seconds` and `time_to_green_p50_s` of each row of `health`: NULL off the default branch.
fn red_columns(runs: &DataFrame, health: &DataFrame) -> Result<(Figures, Figures)> {
    let mut default_runs = runs
        .clone()
        .lazy()
        .filter(col("default_branch"))
        .sort(["repo", "workflow", "finished_at", "run_id", "attempt"], Default::default())
        .collect()
        .context("ci_health_daily default branch")?;
    default_runs.rechunk_mut();
    let text = |df: &DataFrame, name: &str| df.column(name).and_then(|c| c.str().cloned()).context(format!("ci_health_daily {name}"));
    let (repo, workflow, run_id, conclusion) = (
        text(&default_runs, "repo")?,
        text(&default_runs, "workflow")?,
        text(&default_runs, "run_id")?,
        text(&default_runs, "conclusion")?,
    );
    let finished = default_runs.column("finished_at").and_then(|c| c.datetime().map(|t| t.physical().clone())).context("finished_at")?;
    let attempt = default_runs.column("attempt").and_then(|c| c.i64().cloned()).context("attempt")?;
    // Sorted: each workflow's runs follow each other in order of finish.
    let mut finishes: Vec<Finish<'_>> = Vec::with_capacity(default_runs.height());
    let mut by_workflow: PlHashMap<(&str, &str), std::ops::Range<usize>> = PlHashMap::new();
    for i in 0..default_runs.height() {
        let (Some(f), Some(o)) = (finished.get(i), outcome(conclusion.get(i))) else { continue };
        let key = (repo.get(i).unwrap_or_default(), workflow.get(i).unwrap_or_default());
        let at = finishes.len();
        by_workflow.entry(key).or_insert(at..at).end = at + 1;
        finishes.push((f, run_id.get(i).unwrap_or_default(), attempt.get(i).unwrap_or(1), o));
    }
    let by_workflow: PlHashMap<(&str, &str), &[Finish<'_>]> = by_workflow.into_iter().map(|(k, r)| (k, &finishes[r])).collect();
    let (h_repo, h_workflow) = (text(health, "repo")?, text(health, "workflow")?);
    let h_default = health.column("default_branch").and_then(|c| c.bool().cloned()).context("default_branch")?;
    let h_date = health.column("date").and_then(|c| c.date().map(|d| d.physical().clone())).context("date")?;
    let (mut red, mut green) = (Vec::with_capacity(health.height()), Vec::with_capacity(health.height()));
    for i in 0..health.height() {
        let list = (h_default.get(i) == Some(true))
            .then(|| by_workflow.get(&(h_repo.get(i).unwrap_or_default(), h_workflow.get(i).unwrap_or_default())).copied())
            .flatten();
        let (Some(list), Some(day)) = (list, h_date.get(i)) else {
            red.push(None);
            green.push(None);
            continue;
        };
        let (r, g) = red_of_day(crate::timestamp::days_to_date(day), list);
        red.push(Some(r));
        green.push(g);
    }
    Ok((red, green))
}

/// The seconds of `day` inside red spells, and the median length of the spells that ended
/// that day, from a workflow's default-branch runs sorted by finish.
fn red_of_day(day: NaiveDate, finishes: &[Finish<'_>]) -> (f64, Option<f64>) {
    let day_start = date_to_days(day) as i64 * MICROS_PER_DAY;
    let day_end = day_start + MICROS_PER_DAY;
    let spells = red_spells(day, finishes);
    // A fold from 0, not `sum`: the sum of no f64 is -0.0, which readers print as "-0".
    let red =
        spells.iter().map(|(s, e)| (e.unwrap_or(day_end).min(day_end) - (*s).max(day_start)).max(0) as f64 / 1e6).fold(0.0, |a, b| a + b);
    let mut ended: Vec<f64> =
        spells.iter().filter_map(|(s, e)| e.filter(|e| *e >= day_start && *e < day_end).map(|e| (e - s) as f64 / 1e6)).collect();
    (red, percentile_cont(&mut ended, 0.5))
}

/// The red spells of a workflow's default branch, as (start, end) with `None` for one still
/// open, walking the runs that finished in the lookback up to the end of `day` in order of
/// finish: a failure after a green (or first) state opens one at its finish, the next success
/// ends it.
pub fn red_spells(day: NaiveDate, finishes: &[Finish<'_>]) -> Vec<(i64, Option<i64>)> {
    let from = date_to_days(day - Duration::days(RED_LOOKBACK_DAYS)) as i64 * MICROS_PER_DAY;
    let until = (date_to_days(day) as i64 + 1) * MICROS_PER_DAY;
    let start = finishes.partition_point(|f| f.0 < from);
    let end = finishes.partition_point(|f| f.0 < until);
    let mut spells = Vec::new();
    let mut open: Option<i64> = None;
    for &(finished, _, _, o) in &finishes[start..end] {
        match (o, open) {
            (Outcome::Failed, None) => open = Some(finished),
            (Outcome::Succeeded, Some(start)) => {
                spells.push((start, Some(finished)));
                open = None;
            }
            _ => {}
        }
    }
    spells.extend(open.map(|s| (s, None)));
    spells
}

pub(super) struct CiJobDaily;

impl Summary for CiJobDaily {
    fn table(&self) -> &'static TableDef {
        &CI_JOB_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&CI_JOBS];
        &INPUTS
    }

    /// An attempt counts on its day; a failed one, as a flake on the day a later attempt of
    /// its run passed (within the span).
    fn affected_days(&self, _input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        let mut out = days.clone();
        out.extend(days_in_reach(manifest, &[&CI_JOBS, &CI_JOB_DAILY], days, 0, RUN_SPAN_DAYS));
        out
    }

    /// Two spans a transaction: each chunk reads a span of days before its own.
    fn days_per_txn(&self) -> usize {
        RUN_SPAN_DAYS as usize
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else { return Ok(None) };
        let Some(jobs) = ctx.warehouse.read_days(
            &CI_JOBS,
            &span(first - Duration::days(RUN_SPAN_DAYS), last),
            Some(&["source", "repo", "run_id", "sha", "name", "attempt", "job_id", "conclusion", "finished_at", "run_s", "queue_s"]),
        )?
        else {
            return Ok(None);
        };
        let jobs = counted(jobs).collect().context("ci_job_daily jobs")?;
        let flakes = flakes(&jobs, days)?;
        let daily = jobs
            .lazy()
            .filter(super::is_one_of_days(col("date"), days))
            .group_by([col("date"), col("repo"), col("name").alias("job")])
            .agg([
                len().cast(DataType::Int64).alias("runs"),
                one_of(col("conclusion"), &FAILED).cast(DataType::Int64).sum().alias("failed"),
                pipeline_daily::percentile_cont(col("run_s"), 0.5).alias("run_p50_s"),
                pipeline_daily::percentile_cont(col("run_s"), 0.95).alias("run_p95_s"),
                pipeline_daily::percentile_cont(col("queue_s"), 0.5).alias("queue_p50_s"),
                pipeline_daily::percentile_cont(col("queue_s"), 0.95).alias("queue_p95_s"),
            ])
            .join(
                flakes.lazy(),
                [col("date"), col("repo"), col("job")],
                [col("date"), col("repo"), col("job")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([col("flaky_runs").fill_null(lit(0i64)), col("failed_attempt_s").fill_null(lit(0.0))])
            .with_column((col("flaky_runs").cast(DataType::Float64) / col("runs").cast(DataType::Float64)).alias("flake_rate"))
            .sort(["date", "repo", "job"], Default::default())
            .collect()
            .context("ci_job_daily")?;
        if daily.height() == 0 {
            return Ok(None);
        }
        let order: Vec<&str> = CI_JOB_DAILY.columns.iter().map(|c| c.name).chain(["date"]).collect();
        Ok(Some(daily.select(order).context("ci_job_daily columns")?))
    }
}

/// Flakes per day, repo and job among counted attempts: per run, sha and job name, the first
/// pass after a failed attempt, counted on the day it passed (when wanted) with the run time of
/// the failed attempts before it. Only runs with a failed attempt are looked at.
fn flakes(jobs: &DataFrame, days: &[NaiveDate]) -> Result<DataFrame> {
    let run = [col("source"), col("repo"), col("run_id")];
    let failed_runs =
        jobs.clone().lazy().filter(one_of(col("conclusion"), &FAILED)).select(run.clone()).unique(None, UniqueKeepStrategy::Any);
    let mut attempts = jobs
        .clone()
        .lazy()
        .join(failed_runs, run.clone(), run, JoinArgs::new(JoinType::Semi))
        .sort(["source", "repo", "run_id", "sha", "name", "attempt", "finished_at", "job_id"], Default::default())
        .collect()
        .context("ci_job_daily flakes")?;
    attempts.rechunk_mut();
    let text = |name: &str| attempts.column(name).and_then(|c| c.str().cloned()).context(format!("ci_job_daily {name}"));
    let (source, repo, run_id, sha, name, conclusion) =
        (text("source")?, text("repo")?, text("run_id")?, text("sha")?, text("name")?, text("conclusion")?);
    let run_s = attempts.column("run_s").and_then(|c| c.f64().cloned()).context("run_s")?;
    let date = attempts.column("date").and_then(|c| c.date().map(|d| d.physical().clone())).context("date")?;
    let wanted: BTreeSet<i32> = days.iter().map(|d| date_to_days(*d)).collect();
    let mut found: BTreeMap<(i32, &str, &str), (i64, f64)> = BTreeMap::new();
    // Sorted: the attempts of one job in one run and sha follow each other, in attempt order.
    let mut previous: Option<SameRun<'_>> = None;
    let (mut failed_s, mut failed_any, mut done) = (0.0, false, false);
    for i in 0..attempts.height() {
        let key = (
            source.get(i).unwrap_or_default(),
            repo.get(i).unwrap_or_default(),
            run_id.get(i).unwrap_or_default(),
            sha.get(i),
            name.get(i).unwrap_or_default(),
        );
        if previous != Some(key) {
            previous = Some(key);
            (failed_s, failed_any, done) = (0.0, false, false);
        }
        if done {
            continue;
        }
        match outcome(conclusion.get(i)) {
            Some(Outcome::Failed) => {
                failed_any = true;
                failed_s += run_s.get(i).unwrap_or(0.0);
            }
            Some(Outcome::Succeeded) => {
                done = true;
                let day = date.get(i).unwrap_or_default();
                if failed_any && wanted.contains(&day) {
                    let entry = found.entry((day, key.1, key.4)).or_default();
                    entry.0 += 1;
                    entry.1 += failed_s;
                }
            }
            _ => {}
        }
    }
    DataFrame::new_infer_height(vec![
        Int32Chunked::from_iter_values("date".into(), found.keys().map(|k| k.0)).into_date().into_column(),
        Column::new("repo".into(), found.keys().map(|k| k.1).collect::<Vec<_>>()),
        Column::new("job".into(), found.keys().map(|k| k.2).collect::<Vec<_>>()),
        Column::new("flaky_runs".into(), found.values().map(|v| v.0).collect::<Vec<_>>()),
        Column::new("failed_attempt_s".into(), found.values().map(|v| v.1).collect::<Vec<_>>()),
    ])
    .context("ci_job_daily flakes")
}

/// The attempts of one job in one run: source, repo, run, sha, job name.
type SameRun<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str);
