//! `ci_health_daily` and `ci_job_daily`: CI health per day (METRICS.md, CI health): runs and
//! their outcomes, success rate without the cancelled, duration percentiles, how long the default
//! branch stayed red and how long it took to turn green; per job, run and queue time and flakes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::ci_jobs::{self, Job, CI_JOBS};
use super::ci_runs::{self, Run, CI_RUNS, RUN_SPAN_DAYS};
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
    doc: "Per date, repo, workflow and default branch or not: the run attempts that finished that day (GitHub workflow runs, GitLab pipelines), their outcomes, success rate without the cancelled, duration percentiles, and for the default branch the time it spent red and took to turn green; partitioned by date.",
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
        let runs = ci_runs::read(ctx, &span(first - Duration::days(RED_LOOKBACK_DAYS), last))?;
        let rows: Vec<HealthRow> = days.iter().flat_map(|d| health_of_day(*d, &runs)).collect();
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(health_frame(&rows).context("ci_health_daily rows")?))
    }
}

/// One row of `ci_health_daily`.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRow {
    pub date: NaiveDate,
    pub repo: String,
    pub workflow: String,
    pub default_branch: bool,
    pub runs: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub durations: [Option<f64>; 3],
    pub red_seconds: Option<f64>,
    pub time_to_green_p50: Option<f64>,
}

/// The rows of one day.
pub fn health_of_day(day: NaiveDate, runs: &[Run]) -> Vec<HealthRow> {
    let day_start = date_to_days(day) as i64 * MICROS_PER_DAY;
    let day_end = day_start + MICROS_PER_DAY;
    let mut groups: BTreeMap<(&str, &str, bool), Vec<&Run>> = BTreeMap::new();
    for r in runs {
        let (Some(finished), Some(_)) = (r.finished_at, outcome(r.conclusion.as_deref())) else { continue };
        if finished >= day_start && finished < day_end {
            groups.entry((r.repo.as_str(), r.workflow.as_deref().unwrap_or(""), r.default_branch == Some(true))).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    for ((repo, workflow, default_branch), of_day) in groups {
        let count = |o: Outcome| of_day.iter().filter(|r| outcome(r.conclusion.as_deref()) == Some(o)).count() as i64;
        let mut durations: Vec<f64> = of_day.iter().filter_map(|r| r.duration_s).collect();
        let (red_seconds, time_to_green_p50) = if default_branch {
            let spells = red_spells(day, repo, workflow, runs);
            // A fold from 0, not `sum`: the sum of no f64 is -0.0, which readers print as "-0".
            let red = spells
                .iter()
                .map(|(s, e)| (e.unwrap_or(day_end).min(day_end) - (*s).max(day_start)).max(0) as f64 / 1e6)
                .fold(0.0, |a, b| a + b);
            let mut ended: Vec<f64> =
                spells.iter().filter_map(|(s, e)| e.filter(|e| *e >= day_start && *e < day_end).map(|e| (e - s) as f64 / 1e6)).collect();
            (Some(red), percentile_cont(&mut ended, 0.5))
        } else {
            (None, None)
        };
        out.push(HealthRow {
            date: day,
            repo: repo.to_string(),
            workflow: workflow.to_string(),
            default_branch,
            runs: of_day.len() as i64,
            succeeded: count(Outcome::Succeeded),
            failed: count(Outcome::Failed),
            cancelled: count(Outcome::Cancelled),
            durations: [percentile_cont(&mut durations, 0.5), percentile_cont(&mut durations, 0.8), percentile_cont(&mut durations, 0.95)],
            red_seconds,
            time_to_green_p50,
        });
    }
    out
}

/// The red spells of a repo's workflow on its default branch, as (start, end) with `None` for
/// one still open, walking the runs that finished in the lookback up to the end of `day` in
/// order of finish: a failure after a green (or first) state opens one at its finish, the next
/// success ends it.
pub fn red_spells(day: NaiveDate, repo: &str, workflow: &str, runs: &[Run]) -> Vec<(i64, Option<i64>)> {
    let from = date_to_days(day - Duration::days(RED_LOOKBACK_DAYS)) as i64 * MICROS_PER_DAY;
    let until = (date_to_days(day) as i64 + 1) * MICROS_PER_DAY;
    let mut mine: Vec<(i64, &str, i64, Outcome)> = runs
        .iter()
        .filter(|r| r.repo == repo && r.workflow.as_deref().unwrap_or("") == workflow && r.default_branch == Some(true))
        .filter_map(|r| Some((r.finished_at?, r.run_id.as_str(), r.attempt, outcome(r.conclusion.as_deref())?)))
        .filter(|(f, ..)| *f >= from && *f < until)
        .collect();
    mine.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let mut spells = Vec::new();
    let mut open: Option<i64> = None;
    for (finished, _, _, o) in mine {
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

fn health_frame(rows: &[HealthRow]) -> PolarsResult<DataFrame> {
    let rate = |r: &HealthRow| (r.runs - r.cancelled > 0).then(|| r.succeeded as f64 / (r.runs - r.cancelled) as f64);
    DataFrame::new_infer_height(vec![
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
        Column::new("workflow".into(), rows.iter().map(|r| r.workflow.as_str()).collect::<Vec<_>>()),
        Column::new("default_branch".into(), rows.iter().map(|r| r.default_branch).collect::<Vec<_>>()),
        Column::new("runs".into(), rows.iter().map(|r| r.runs).collect::<Vec<_>>()),
        Column::new("succeeded".into(), rows.iter().map(|r| r.succeeded).collect::<Vec<_>>()),
        Column::new("failed".into(), rows.iter().map(|r| r.failed).collect::<Vec<_>>()),
        Column::new("cancelled".into(), rows.iter().map(|r| r.cancelled).collect::<Vec<_>>()),
        Column::new("success_rate".into(), rows.iter().map(rate).collect::<Vec<_>>()),
        Column::new("duration_p50_s".into(), rows.iter().map(|r| r.durations[0]).collect::<Vec<_>>()),
        Column::new("duration_p80_s".into(), rows.iter().map(|r| r.durations[1]).collect::<Vec<_>>()),
        Column::new("duration_p95_s".into(), rows.iter().map(|r| r.durations[2]).collect::<Vec<_>>()),
        Column::new("red_seconds".into(), rows.iter().map(|r| r.red_seconds).collect::<Vec<_>>()),
        Column::new("time_to_green_p50_s".into(), rows.iter().map(|r| r.time_to_green_p50).collect::<Vec<_>>()),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| date_to_days(r.date))).into_date().into_column(),
    ])
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

    fn days_per_txn(&self) -> usize {
        7
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else { return Ok(None) };
        let jobs = ci_jobs::read(ctx, &span(first - Duration::days(RUN_SPAN_DAYS), last))?;
        let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
        let rows: Vec<JobRow> = job_rows(&jobs).into_iter().filter(|r| wanted.contains(&r.date)).collect();
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(job_frame(&rows).context("ci_job_daily rows")?))
    }
}

/// One row of `ci_job_daily`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    pub date: NaiveDate,
    pub repo: String,
    pub job: String,
    pub runs: i64,
    pub failed: i64,
    pub run: [Option<f64>; 2],
    pub queue: [Option<f64>; 2],
    pub flaky_runs: i64,
    pub failed_attempt_s: f64,
}

/// The attempts of one job in one run: source, repo, run, sha, job name.
type SameRun<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str);

/// The rows of every day the attempts finished on.
pub fn job_rows(jobs: &[Job]) -> Vec<JobRow> {
    let counted: Vec<&Job> = jobs.iter().filter(|j| j.finished_at.is_some() && outcome(j.conclusion.as_deref()).is_some()).collect();
    // Flakes: per run, sha and job name, the first pass after a failed attempt; counted on the
    // day it passed with the run time of the failed attempts before it.
    let mut attempts: BTreeMap<SameRun<'_>, Vec<&Job>> = BTreeMap::new();
    for j in &counted {
        attempts.entry((j.source.as_str(), j.repo.as_str(), j.run_id.as_str(), j.sha.as_deref(), j.name.as_str())).or_default().push(j);
    }
    let mut flakes: BTreeMap<(NaiveDate, &str, &str), (i64, f64)> = BTreeMap::new();
    for list in attempts.values_mut() {
        list.sort_by_key(|j| (j.attempt, j.finished_at, j.job_id.clone()));
        let mut failed_s = 0.0;
        let mut failed_any = false;
        for j in list.iter() {
            match outcome(j.conclusion.as_deref()) {
                Some(Outcome::Failed) => {
                    failed_any = true;
                    failed_s += j.run_s.unwrap_or(0.0);
                }
                Some(Outcome::Succeeded) if failed_any => {
                    let entry = flakes.entry((j.date(), j.repo.as_str(), j.name.as_str())).or_default();
                    entry.0 += 1;
                    entry.1 += failed_s;
                    break;
                }
                Some(Outcome::Succeeded) => break,
                _ => {}
            }
        }
    }
    let mut groups: BTreeMap<(NaiveDate, &str, &str), Vec<&Job>> = BTreeMap::new();
    for j in &counted {
        groups.entry((j.date(), j.repo.as_str(), j.name.as_str())).or_default().push(j);
    }
    groups
        .into_iter()
        .map(|((date, repo, job), of_day)| {
            let mut run: Vec<f64> = of_day.iter().filter_map(|j| j.run_s).collect();
            let mut queue: Vec<f64> = of_day.iter().filter_map(|j| j.queue_s).collect();
            let (flaky_runs, failed_attempt_s) = flakes.get(&(date, repo, job)).copied().unwrap_or_default();
            JobRow {
                date,
                repo: repo.to_string(),
                job: job.to_string(),
                runs: of_day.len() as i64,
                failed: of_day.iter().filter(|j| outcome(j.conclusion.as_deref()) == Some(Outcome::Failed)).count() as i64,
                run: [percentile_cont(&mut run, 0.5), percentile_cont(&mut run, 0.95)],
                queue: [percentile_cont(&mut queue, 0.5), percentile_cont(&mut queue, 0.95)],
                flaky_runs,
                failed_attempt_s,
            }
        })
        .collect()
}

fn job_frame(rows: &[JobRow]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
        Column::new("job".into(), rows.iter().map(|r| r.job.as_str()).collect::<Vec<_>>()),
        Column::new("runs".into(), rows.iter().map(|r| r.runs).collect::<Vec<_>>()),
        Column::new("failed".into(), rows.iter().map(|r| r.failed).collect::<Vec<_>>()),
        Column::new("run_p50_s".into(), rows.iter().map(|r| r.run[0]).collect::<Vec<_>>()),
        Column::new("run_p95_s".into(), rows.iter().map(|r| r.run[1]).collect::<Vec<_>>()),
        Column::new("queue_p50_s".into(), rows.iter().map(|r| r.queue[0]).collect::<Vec<_>>()),
        Column::new("queue_p95_s".into(), rows.iter().map(|r| r.queue[1]).collect::<Vec<_>>()),
        Column::new("flaky_runs".into(), rows.iter().map(|r| r.flaky_runs).collect::<Vec<_>>()),
        Column::new(
            "flake_rate".into(),
            rows.iter().map(|r| (r.runs > 0).then(|| r.flaky_runs as f64 / r.runs as f64)).collect::<Vec<_>>(),
        ),
        Column::new("failed_attempt_s".into(), rows.iter().map(|r| r.failed_attempt_s).collect::<Vec<_>>()),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| date_to_days(r.date))).into_date().into_column(),
    ])
}
