//! `ci_jobs`: one row per job attempt of the webhook CI sources: GitHub `workflow_job` (each
//! attempt its own id, with the run attempt it belongs to), GitLab jobs (a retried job is a new
//! id; its attempt is its place among the jobs of that name in the pipeline), folded from their
//! status deliveries by the payloads' own times.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::ci_collector;
use super::ci_runs::{conclusion_of, seconds, stack, within_span, RUN_SPAN_DAYS};
use super::webhook_facts::{self, days_in_reach, span, text, time, Stored};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::pipelines::{PIPELINES, PIPELINE_FAILED_JOBS, PIPELINE_JOBS};
use crate::sources::webhooks::CI_EVENTS;
use crate::timestamp::{date_of_micros, date_to_days};
use crate::warehouse::{columns, timestamp_column, Manifest, TableDef, TableKind};

pub static CI_JOBS: TableDef = TableDef {
    name: "ci_jobs",
    dir: "ci_jobs",
    kind: TableKind::Summary,
    doc: "One row per source, repo, job_id (one per attempt): GitHub workflow jobs, GitLab jobs, folded from their deliveries by their own times; the collector's jobs (passed) and jobs_failed (failed) with [sources.pipelines] ci_health = true; partitioned by the UTC day the attempt finished, else was created.",
    columns: columns![
        "source" "VARCHAR" "github, gitlab or pipelines (the collector)",
        "repo" "VARCHAR" "owner/name (GitLab's path_with_namespace)",
        "job_id" "VARCHAR" "the job attempt's id (the collector: <pipeline_id>:jobs[i] or <pipeline_id>:jobs_failed[i])",
        "run_id" "VARCHAR" "its workflow run or pipeline",
        "attempt" "BIGINT" "GitHub: the run attempt it belongs to; GitLab: its place among the jobs of that name in the pipeline (a retry is the next); the collector: failed attempts of the name first, in the order sent",
        "name" "VARCHAR" "job name",
        "sha" "VARCHAR" "head commit",
        "conclusion" "VARCHAR" "success, failure, cancelled, skipped, ... (GitLab failed written failure, canceled cancelled); NULL while running",
        "created_at" "TIMESTAMP" "when the job was queued, UTC",
        "started_at" "TIMESTAMP" "when a runner started it, UTC",
        "finished_at" "TIMESTAMP" "when it finished, UTC (the collector's failed attempts without times: when the job's next attempt started, else the pipeline finished)",
        "run_s" "DOUBLE" "finished_at - started_at (GitLab: build_duration as sent)",
        "queue_s" "DOUBLE" "started_at - created_at (GitLab: build_queued_duration as sent)",
        "runner" "VARCHAR" "the runner's name",
    ],
};

/// One job attempt.
#[derive(Debug, Clone, Default)]
pub struct Job {
    pub source: String,
    pub repo: String,
    pub job_id: String,
    pub run_id: String,
    pub attempt: i64,
    pub name: String,
    pub sha: Option<String>,
    pub conclusion: Option<String>,
    pub created_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub run_s: Option<f64>,
    pub queue_s: Option<f64>,
    pub runner: Option<String>,
    at: i64,
}

impl Job {
    pub fn date(&self) -> NaiveDate {
        date_of_micros(self.finished_at.or(self.created_at).unwrap_or(self.at))
    }
}

pub(super) struct CiJobs;

impl Summary for CiJobs {
    fn table(&self) -> &'static TableDef {
        &CI_JOBS
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 4] = [&CI_EVENTS, &PIPELINES, &PIPELINE_JOBS, &PIPELINE_FAILED_JOBS];
        &INPUTS
    }

    /// A delivery reaches its job's day within the span, and (through the attempt numbers of a
    /// pipeline's jobs) the pipeline's other jobs.
    fn affected_days(&self, input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        if ci_collector::is_input(input) {
            return ci_collector::affected_days(days);
        }
        let mut out = days.clone();
        out.extend(days_in_reach(manifest, &[&CI_JOBS], days, 2 * RUN_SPAN_DAYS, 2 * RUN_SPAN_DAYS));
        out
    }

    /// Two spans a transaction: each chunk reads a span of days before its own.
    fn days_per_txn(&self) -> usize {
        RUN_SPAN_DAYS as usize
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else { return Ok(None) };
        let events = webhook_facts::read_events(
            ctx.warehouse,
            &CI_EVENTS,
            &span(first - Duration::days(3 * RUN_SPAN_DAYS), last + Duration::days(3 * RUN_SPAN_DAYS)),
        )?;
        let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
        let jobs: Vec<Job> = fold(&events).into_iter().filter(|j| wanted.contains(&j.date())).collect();
        let webhooks = if jobs.is_empty() { None } else { Some(frame(&jobs).context("ci_jobs rows")?) };
        let collector = if ctx.settings.collector_ci_health { ci_collector::jobs(ctx, days)? } else { None };
        stack(webhooks, collector)
    }
}

fn rank(status: &str) -> u8 {
    match status {
        "queued" | "waiting" | "created" | "pending" | "preparing" | "scheduled" | "manual" | "waiting_for_resource" => 0,
        "in_progress" | "running" => 1,
        _ => 2,
    }
}

/// Fold workflow job and GitLab job deliveries into job attempts.
pub fn fold(events: &[Stored]) -> Vec<Job> {
    let mut groups: BTreeMap<(String, String, String), Vec<&Stored>> = BTreeMap::new();
    for e in events {
        let Some(repo) = e.repo.clone() else { continue };
        let id = match (e.source.as_str(), e.kind.as_str()) {
            ("github", "workflow_job") => text(&e.payload, &["workflow_job", "id"]),
            ("gitlab", "build") => text(&e.payload, &["build_id"]),
            _ => None,
        };
        if let Some(id) = id {
            groups.entry((e.source.clone(), repo, id)).or_default().push(e);
        }
    }
    let mut out = Vec::new();
    for ((source, repo, id), mut deliveries) in groups {
        let github = source == "github";
        let status = |e: &Stored| {
            if github { text(&e.payload, &["workflow_job", "status"]) } else { text(&e.payload, &["build_status"]) }.unwrap_or_default()
        };
        deliveries.sort_by_key(|e| (e.at, rank(&status(e))));
        within_span(&mut deliveries);
        let last = deliveries[deliveries.len() - 1];
        let s = status(last);
        let job = if github {
            let j = &last.payload["workflow_job"];
            let completed = s == "completed";
            let (created, started) = (time(j, &["created_at"]), time(j, &["started_at"]));
            let finished = if completed { time(j, &["completed_at"]) } else { None };
            Job {
                source,
                repo,
                job_id: id,
                run_id: text(j, &["run_id"]).unwrap_or_default(),
                attempt: text(j, &["run_attempt"]).and_then(|a| a.parse().ok()).unwrap_or(1),
                name: text(j, &["name"]).unwrap_or_default(),
                sha: text(j, &["head_sha"]),
                conclusion: if completed { text(j, &["conclusion"]) } else { None },
                created_at: created,
                started_at: started,
                finished_at: finished,
                run_s: seconds(started, finished),
                queue_s: seconds(created, started),
                runner: text(j, &["runner_name"]),
                at: last.at,
            }
        } else {
            let p = &last.payload;
            let done = matches!(s.as_str(), "success" | "failed" | "canceled" | "skipped");
            let number = |key: &str| webhook_facts::seconds(p, &[key]);
            Job {
                source,
                repo,
                job_id: id,
                run_id: text(p, &["pipeline_id"]).unwrap_or_default(),
                attempt: 1,
                name: text(p, &["build_name"]).unwrap_or_default(),
                sha: text(p, &["sha"]),
                conclusion: done.then(|| conclusion_of(&s)),
                created_at: time(p, &["build_created_at"]),
                started_at: time(p, &["build_started_at"]),
                finished_at: if done { time(p, &["build_finished_at"]) } else { None },
                run_s: number("build_duration"),
                queue_s: number("build_queued_duration"),
                runner: text(p, &["runner", "description"]),
                at: last.at,
            }
        };
        out.push(job);
    }
    // GitLab: a retried job is a new id; its attempt is its place among the jobs of its name
    // in the pipeline, by creation.
    let mut gitlab: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
    for (i, j) in out.iter().enumerate().filter(|(_, j)| j.source == "gitlab") {
        gitlab.entry((j.repo.clone(), j.run_id.clone(), j.name.clone())).or_default().push(i);
    }
    for mut indices in gitlab.into_values() {
        indices.sort_by_key(|i| (out[*i].created_at, out[*i].job_id.parse::<i64>().ok(), out[*i].job_id.clone()));
        for (n, i) in indices.into_iter().enumerate() {
            out[i].attempt = n as i64 + 1;
        }
    }
    out
}

fn frame(rows: &[Job]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("source".into(), rows.iter().map(|r| r.source.as_str()).collect::<Vec<_>>()),
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
        Column::new("job_id".into(), rows.iter().map(|r| r.job_id.as_str()).collect::<Vec<_>>()),
        Column::new("run_id".into(), rows.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>()),
        Column::new("attempt".into(), rows.iter().map(|r| r.attempt).collect::<Vec<_>>()),
        Column::new("name".into(), rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>()),
        Column::new("sha".into(), rows.iter().map(|r| r.sha.as_deref()).collect::<Vec<_>>()),
        Column::new("conclusion".into(), rows.iter().map(|r| r.conclusion.as_deref()).collect::<Vec<_>>()),
        timestamp_column("created_at", rows.iter().map(|r| r.created_at)),
        timestamp_column("started_at", rows.iter().map(|r| r.started_at)),
        timestamp_column("finished_at", rows.iter().map(|r| r.finished_at)),
        Column::new("run_s".into(), rows.iter().map(|r| r.run_s).collect::<Vec<_>>()),
        Column::new("queue_s".into(), rows.iter().map(|r| r.queue_s).collect::<Vec<_>>()),
        Column::new("runner".into(), rows.iter().map(|r| r.runner.as_deref()).collect::<Vec<_>>()),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| date_to_days(r.date()))).into_date().into_column(),
    ])
}
