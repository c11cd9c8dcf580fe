//! `ci_runs`: one row per run attempt of the webhook CI sources (METRICS.md, CI health):
//! GitHub `workflow_run` (id, `run_attempt`), GitLab pipelines (each retry after a failure a new
//! attempt under the same id), folded from their status deliveries by the payloads' own times.
//! The collector's pipelines (one attempt each, nothing to fold) join them from [`ci_collector`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::ci_collector;
use super::webhook_facts::{self, days_in_reach, span, text, time, Stored};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::pipelines::{PIPELINES, PIPELINE_FAILED_JOBS, PIPELINE_JOBS};
use crate::sources::webhooks::CI_EVENTS;
use crate::timestamp::{date_of_micros, date_to_days};
use crate::warehouse::{columns, timestamp_column, Manifest, TableDef, TableKind};

/// The deliveries of one run attempt (or of one GitLab pipeline id, retries included) are
/// folded up to this many days after its first.
pub const RUN_SPAN_DAYS: i64 = 7;

pub static CI_RUNS: TableDef = TableDef {
    name: "ci_runs",
    dir: "ci_runs",
    kind: TableKind::Summary,
    doc: "One row per source, repo, run_id, attempt: GitHub workflow runs, GitLab pipelines (a retry after a failure is a new attempt), folded from their deliveries by their own times; the collector's pipelines with [sources.pipelines] ci_health = true (one attempt each); partitioned by the UTC day the attempt finished, else was created.",
    columns: columns![
        "source" "VARCHAR" "github, gitlab or pipelines (the collector)",
        "repo" "VARCHAR" "owner/name (GitLab's path_with_namespace)",
        "run_id" "VARCHAR" "workflow run id, pipeline id",
        "attempt" "BIGINT" "GitHub run_attempt; GitLab: 1, then one more for each run after a finished one",
        "workflow" "VARCHAR" "GitHub workflow name; GitLab pipeline name (else pipeline); the collector: pipeline",
        "branch" "VARCHAR" "head branch or ref",
        "default_branch" "BOOLEAN" "the branch is the repository's default branch",
        "sha" "VARCHAR" "head commit",
        "conclusion" "VARCHAR" "success, failure, cancelled, skipped, timed_out, startup_failure, action_required, neutral or stale (GitLab failed written failure, canceled cancelled); NULL while running",
        "created_at" "TIMESTAMP" "when the run was created (a re-run keeps it), UTC",
        "started_at" "TIMESTAMP" "when this attempt started, UTC (GitLab: finished - duration; the collector: created_at)",
        "finished_at" "TIMESTAMP" "when this attempt finished, UTC (GitHub: updated_at of the completed run; the collector: created_at + duration, NULL past a day)",
        "duration_s" "DOUBLE" "finished_at - started_at (GitLab and the collector: duration as sent)",
        "queue_s" "DOUBLE" "first attempts: started_at - created_at (GitLab: queued_duration as sent); NULL for re-runs (created_at is the first attempt's)",
    ],
};

/// One run attempt.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub source: String,
    pub repo: String,
    pub run_id: String,
    pub attempt: i64,
    pub workflow: Option<String>,
    pub branch: Option<String>,
    pub default_branch: Option<bool>,
    pub sha: Option<String>,
    pub conclusion: Option<String>,
    pub created_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub duration_s: Option<f64>,
    pub queue_s: Option<f64>,
    /// Time of the delivery folded last, for ordering and the date of unfinished runs.
    at: i64,
}

impl Run {
    pub fn date(&self) -> NaiveDate {
        date_of_micros(self.finished_at.or(self.created_at).unwrap_or(self.at))
    }
}

pub(super) struct CiRuns;

impl Summary for CiRuns {
    fn table(&self) -> &'static TableDef {
        &CI_RUNS
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 4] = [&CI_EVENTS, &PIPELINES, &PIPELINE_JOBS, &PIPELINE_FAILED_JOBS];
        &INPUTS
    }

    /// A delivery reaches its run's day within the span either way.
    fn affected_days(&self, input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        if ci_collector::is_input(input) {
            return ci_collector::affected_days(days);
        }
        let mut out = days.clone();
        out.extend(days_in_reach(manifest, &[&CI_RUNS], days, RUN_SPAN_DAYS, RUN_SPAN_DAYS));
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
            &span(first - Duration::days(2 * RUN_SPAN_DAYS), last + Duration::days(2 * RUN_SPAN_DAYS)),
        )?;
        let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
        let runs: Vec<Run> = fold(&events).into_iter().filter(|r| wanted.contains(&r.date())).collect();
        let webhooks = if runs.is_empty() { None } else { Some(frame(&runs).context("ci_runs rows")?) };
        let collector = if ctx.settings.collector_ci_health { ci_collector::runs(ctx, days)? } else { None };
        stack(webhooks, collector)
    }
}

/// Order of statuses at one instant.
fn rank(status: &str) -> u8 {
    match status {
        "requested" | "queued" | "waiting" | "created" | "waiting_for_resource" | "preparing" | "pending" | "scheduled" | "manual" => 0,
        "in_progress" | "running" => 1,
        _ => 2,
    }
}

/// GitLab's words as GitHub's.
pub fn conclusion_of(status: &str) -> String {
    match status {
        "failed" => "failure".into(),
        "canceled" => "cancelled".into(),
        s => s.to_string(),
    }
}

/// Whether a GitLab status ends a run.
fn finished(status: &str) -> bool {
    matches!(status, "success" | "failed" | "canceled" | "skipped")
}

/// Fold workflow run and pipeline deliveries into run attempts.
pub fn fold(events: &[Stored]) -> Vec<Run> {
    let mut github: BTreeMap<(String, String, i64), Vec<&Stored>> = BTreeMap::new();
    let mut gitlab: BTreeMap<(String, String), Vec<&Stored>> = BTreeMap::new();
    for e in events {
        let Some(repo) = e.repo.clone() else { continue };
        match (e.source.as_str(), e.kind.as_str()) {
            ("github", "workflow_run") => {
                let Some(id) = text(&e.payload, &["workflow_run", "id"]) else { continue };
                let attempt = text(&e.payload, &["workflow_run", "run_attempt"]).and_then(|a| a.parse().ok()).unwrap_or(1);
                github.entry((repo, id, attempt)).or_default().push(e);
            }
            ("gitlab", "pipeline") => {
                let Some(id) = text(&e.payload, &["object_attributes", "id"]) else { continue };
                gitlab.entry((repo, id)).or_default().push(e);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for ((repo, id, attempt), mut deliveries) in github {
        let status = |e: &Stored| text(&e.payload, &["workflow_run", "status"]).unwrap_or_default();
        deliveries.sort_by_key(|e| (e.at, rank(&status(e))));
        within_span(&mut deliveries);
        let last = deliveries[deliveries.len() - 1];
        let w = &last.payload["workflow_run"];
        let completed = status(last) == "completed";
        let created_at = time(w, &["created_at"]);
        let started_at = time(w, &["run_started_at"]).or(created_at);
        let finished_at = if completed { time(w, &["updated_at"]) } else { None };
        let default = text(&last.payload, &["repository", "default_branch"]);
        let branch = text(w, &["head_branch"]);
        out.push(Run {
            source: "github".into(),
            repo,
            run_id: id,
            attempt,
            workflow: text(w, &["name"]).or_else(|| text(&last.payload, &["workflow", "name"])),
            default_branch: default.as_ref().map(|d| Some(d) == branch.as_ref()),
            branch,
            sha: text(w, &["head_sha"]),
            conclusion: if completed { text(w, &["conclusion"]) } else { None },
            created_at,
            started_at,
            finished_at,
            duration_s: seconds(started_at, finished_at),
            queue_s: if attempt == 1 { seconds(created_at, started_at) } else { None },
            at: last.at,
        });
    }
    for ((repo, id), mut deliveries) in gitlab {
        let status = |e: &Stored| text(&e.payload, &["object_attributes", "status"]).unwrap_or_default();
        deliveries.sort_by_key(|e| (e.at, rank(&status(e))));
        within_span(&mut deliveries);
        // A status after a finished one starts the next attempt.
        let mut attempt = 1;
        let mut done_last: Option<Option<i64>> = None;
        for e in deliveries {
            let s = status(e);
            let a = &e.payload["object_attributes"];
            // Any status after a finished attempt but that attempt's own (a lost `running`
            // included) is the next attempt.
            if let Some(finished_at) = done_last {
                if !finished(&s) || time(a, &["finished_at"]) != finished_at {
                    attempt += 1;
                    done_last = None;
                }
            }
            let default = text(&e.payload, &["project", "default_branch"]);
            let branch = text(a, &["ref"]);
            let created_at = time(a, &["created_at"]);
            let mut r = Run {
                source: "gitlab".into(),
                repo: repo.clone(),
                run_id: id.clone(),
                attempt,
                workflow: Some(text(a, &["name"]).unwrap_or_else(|| "pipeline".into())),
                default_branch: default.as_ref().map(|d| Some(d) == branch.as_ref()),
                branch,
                sha: text(a, &["sha"]),
                conclusion: None,
                created_at,
                started_at: None,
                finished_at: None,
                duration_s: None,
                queue_s: None,
                at: e.at,
            };
            if finished(&s) {
                let finished_at = time(a, &["finished_at"]).unwrap_or(e.at);
                let duration = webhook_facts::seconds(a, &["duration"]);
                r.conclusion = Some(conclusion_of(&s));
                r.finished_at = Some(finished_at);
                r.duration_s = duration;
                r.started_at = duration.map(|d| finished_at - (d * 1e6) as i64).filter(|t| crate::timestamp::in_range(*t));
                r.queue_s = if attempt == 1 { webhook_facts::seconds(a, &["queued_duration"]) } else { None };
                done_last = Some(time(a, &["finished_at"]));
            }
            // The newest delivery of an attempt is what the attempt is.
            if let Some(previous) =
                out.last_mut().filter(|p| p.source == "gitlab" && p.repo == r.repo && p.run_id == r.run_id && p.attempt == r.attempt)
            {
                *previous = r;
            } else {
                out.push(r);
            }
        }
    }
    out
}

/// The rows of two sources of one table, either of which may be missing.
pub(super) fn stack(a: Option<DataFrame>, b: Option<DataFrame>) -> Result<Option<DataFrame>> {
    Ok(match (a, b) {
        (Some(mut a), Some(b)) => {
            a.vstack_mut_owned(b).context("stack ci rows")?;
            Some(a)
        }
        (a, b) => a.or(b),
    })
}

/// Deliveries (sorted by time) up to the span after the first: what every chunk of days that
/// reads the run (or job) folds alike.
pub(super) fn within_span(deliveries: &mut Vec<&Stored>) {
    let end = deliveries[0].at + RUN_SPAN_DAYS * crate::timestamp::MICROS_PER_DAY;
    deliveries.retain(|e| e.at <= end);
}

/// Seconds from one time to another; `None` when either is missing or they are the wrong way
/// round (a duration is never negative).
pub(super) fn seconds(from: Option<i64>, to: Option<i64>) -> Option<f64> {
    Some((to? - from?) as f64 / 1e6).filter(|s| *s >= 0.0)
}

fn frame(rows: &[Run]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("source".into(), rows.iter().map(|r| r.source.as_str()).collect::<Vec<_>>()),
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
        Column::new("run_id".into(), rows.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>()),
        Column::new("attempt".into(), rows.iter().map(|r| r.attempt).collect::<Vec<_>>()),
        Column::new("workflow".into(), rows.iter().map(|r| r.workflow.as_deref()).collect::<Vec<_>>()),
        Column::new("branch".into(), rows.iter().map(|r| r.branch.as_deref()).collect::<Vec<_>>()),
        Column::new("default_branch".into(), rows.iter().map(|r| r.default_branch).collect::<Vec<_>>()),
        Column::new("sha".into(), rows.iter().map(|r| r.sha.as_deref()).collect::<Vec<_>>()),
        Column::new("conclusion".into(), rows.iter().map(|r| r.conclusion.as_deref()).collect::<Vec<_>>()),
        timestamp_column("created_at", rows.iter().map(|r| r.created_at)),
        timestamp_column("started_at", rows.iter().map(|r| r.started_at)),
        timestamp_column("finished_at", rows.iter().map(|r| r.finished_at)),
        Column::new("duration_s".into(), rows.iter().map(|r| r.duration_s).collect::<Vec<_>>()),
        Column::new("queue_s".into(), rows.iter().map(|r| r.queue_s).collect::<Vec<_>>()),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| date_to_days(r.date()))).into_date().into_column(),
    ])
}
