//! `deployments`: one row per `repo, source, deployment_id`, folded from its deliveries by their
//! own times (METRICS.md, common ground), with its working: which commits it newly deployed
//! (following the pushes back through `before` to what an earlier production deployment
//! deployed), their lead times, the merge lead times, and whether it is rework by its sha or a
//! revert. DevOps toolkit deploys are production deployments here too.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::webhook_facts::{self, days_in_reach, span, DeploymentEvent, Merge, Push, ToolkitEvent};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::devops_events::DEVOPS_EVENTS;
use crate::sources::webhooks::{CHANGE_EVENTS, DEPLOYMENT_EVENTS};
use crate::timestamp::{date_of_micros, date_to_days};
use crate::warehouse::{columns, timestamp_column, Manifest, TableDef, TableKind};

/// The statuses of one deployment are folded within this many days of its date (a status
/// posted later, such as an `inactive` weeks on, is not counted).
pub const DEPLOYMENT_SPAN_DAYS: i64 = 14;
/// How far before a deployment its pushes and the earlier deployments are looked for: one whose
/// previous production deployment is older counts as the first (its history unknown).
pub const HISTORY_DAYS: i64 = 90;

pub static DEPLOYMENTS: TableDef = TableDef {
    name: "deployments",
    dir: "deployments",
    kind: TableKind::Summary,
    doc: "One row per repo, source, deployment_id, folded from its deliveries by their own times; partitioned by the UTC day of the first success, else of creation. DevOps toolkit deploys appear with source devops_events.",
    columns: columns![
        "repo" "VARCHAR" "owner/name (GitLab's path_with_namespace)",
        "source" "VARCHAR" "github, gitlab or devops_events",
        "deployment_id" "VARCHAR" "the sender's deployment id (a toolkit deploy: its time, RFC 3339)",
        "environment" "VARCHAR" "environment name as sent",
        "production" "BOOLEAN" "GitHub production_environment, GitLab environment_tier production, or a name in production_environments",
        "sha" "VARCHAR" "the commit deployed (NULL for toolkit deploys)",
        "created_at" "TIMESTAMP" "when the deployment was created (GitLab: its first status), UTC",
        "first_success_at" "TIMESTAMP" "the first success status, UTC; NULL when it never succeeded (then it is no deployment in the DORA keys)",
        "final_state" "VARCHAR" "success once any success status exists; else the latest state by payload time (GitLab failed written failure; created when no status came)",
        "statuses" "BIGINT" "status deliveries folded (distinct)",
        "history" "VARCHAR" "how its newly deployed commits were found: previous_deployment (pushes followed back to what an earlier production deployment deployed), first_deployment, redeploy (an earlier one's sha), already_deployed (a commit an earlier one deployed), no_push (no push named its sha), push_not_seen, branch_created, toolkit; NULL unless a successful production deployment",
        "new_commits" "VARCHAR[]" "the commits it newly deployed",
        "lead_times_s" "DOUBLE[]" "per newly deployed commit with a time: first_success_at - commit time, seconds (values <= 0 dropped)",
        "merge_lead_times_s" "DOUBLE[]" "per merged pull/merge request whose merge commit is its sha or newly deployed: first_success_at - merged_at, seconds (values <= 0 dropped)",
        "rework" "VARCHAR" "redeploy (its sha is an earlier production deployment's) or revert (a newly deployed commit's message starts with Revert \"); NULL otherwise. Rework by an open incident is counted in dora_keys_daily",
    ],
};

/// One folded deployment.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub repo: String,
    pub source: String,
    pub deployment_id: String,
    pub environment: Option<String>,
    pub production: bool,
    pub sha: Option<String>,
    pub created_at: i64,
    pub first_success_at: Option<i64>,
    pub final_state: String,
    pub statuses: i64,
    pub history: Option<&'static str>,
    pub new_commits: Vec<String>,
    pub lead_times: Vec<f64>,
    pub merge_lead_times: Vec<f64>,
    pub rework: Option<&'static str>,
    /// Toolkit deploys: the commits they name.
    named: Vec<String>,
}

impl Deployment {
    /// The day it is partitioned by.
    pub fn date(&self) -> NaiveDate {
        date_of_micros(self.first_success_at.unwrap_or(self.created_at))
    }
}

pub(super) struct Deployments;

impl Summary for Deployments {
    fn table(&self) -> &'static TableDef {
        &DEPLOYMENTS
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 3] = [&DEPLOYMENT_EVENTS, &CHANGE_EVENTS, &DEVOPS_EVENTS];
        &INPUTS
    }

    /// A status reaches its deployment's day within the span either way, and (through that
    /// deployment) the deployments of the history after it; a push, the deployments after it.
    fn affected_days(&self, input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        let back = if input.name == DEPLOYMENT_EVENTS.name { DEPLOYMENT_SPAN_DAYS } else { 0 };
        days_in_reach(manifest, &[&DEPLOYMENTS, &DEPLOYMENT_EVENTS, &DEVOPS_EVENTS], days, back, HISTORY_DAYS + DEPLOYMENT_SPAN_DAYS)
    }

    fn days_per_txn(&self) -> usize {
        HISTORY_DAYS as usize
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else { return Ok(None) };
        let history_start = first - Duration::days(HISTORY_DAYS);
        let dora = &ctx.settings.dora;
        let events: Vec<DeploymentEvent> = webhook_facts::read_events(
            ctx.warehouse,
            &DEPLOYMENT_EVENTS,
            &span(history_start - Duration::days(DEPLOYMENT_SPAN_DAYS), last + Duration::days(DEPLOYMENT_SPAN_DAYS)),
        )?
        .iter()
        .filter_map(|e| DeploymentEvent::of(e, dora))
        .collect();
        let (pushes, merges) =
            webhook_facts::changes_of(&webhook_facts::read_events(ctx.warehouse, &CHANGE_EVENTS, &span(history_start, last))?);
        let toolkit = webhook_facts::toolkit_events(ctx.warehouse, &span(history_start, last))?;
        let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
        let folded: Vec<Deployment> = fold(events, &toolkit, &pushes, &merges).into_iter().filter(|d| wanted.contains(&d.date())).collect();
        if folded.is_empty() {
            return Ok(None);
        }
        Ok(Some(frame(&folded).context("deployments rows")?))
    }
}

/// Rank of a state among statuses at the same instant: later in a deployment's life wins.
fn rank(state: &str) -> u8 {
    match state {
        "created" => 0,
        "queued" | "waiting" | "pending" | "blocked" => 1,
        "in_progress" | "running" => 2,
        "failure" | "error" | "canceled" | "cancelled" => 3,
        "success" => 4,
        "inactive" => 5,
        _ => 1,
    }
}

/// Fold deployment deliveries and toolkit deploys into deployments, and work out for each
/// successful production one what it newly deployed.
pub fn fold(events: Vec<DeploymentEvent>, toolkit: &[ToolkitEvent], pushes: &[Push], merges: &[Merge]) -> Vec<Deployment> {
    let mut groups: BTreeMap<(String, String, String), Vec<DeploymentEvent>> = BTreeMap::new();
    for e in events {
        groups.entry((e.repo.clone(), e.source.clone(), e.deployment_id.clone())).or_default().push(e);
    }
    let mut out: Vec<Deployment> = groups.into_values().filter_map(fold_one).collect();
    // Toolkit deploys: one per repo and time.
    let mut deploys: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
    for t in toolkit.iter().filter(|t| t.deploy) {
        deploys.entry((t.repo.clone(), t.at)).or_default().extend(t.commits.iter().cloned());
    }
    for ((repo, at), named) in deploys {
        out.push(Deployment {
            repo,
            source: "devops_events".into(),
            deployment_id: chrono::DateTime::from_timestamp_micros(at)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
                .unwrap_or_default(),
            environment: Some("production".into()),
            production: true,
            sha: None,
            created_at: at,
            first_success_at: Some(at),
            final_state: "success".into(),
            statuses: 1,
            history: None,
            new_commits: Vec::new(),
            lead_times: Vec::new(),
            merge_lead_times: Vec::new(),
            rework: None,
            named,
        });
    }
    work_out_history(&mut out, toolkit, pushes, merges);
    out
}

/// One deployment from its deliveries.
fn fold_one(mut events: Vec<DeploymentEvent>) -> Option<Deployment> {
    let earliest = events.iter().map(|e| e.at).min()?;
    // The creation time a payload states, unless it is further from the deliveries than the
    // span (a sender's clock or a hostile field): then the first delivery's.
    let span = DEPLOYMENT_SPAN_DAYS * crate::timestamp::MICROS_PER_DAY;
    let created_at = events.iter().filter_map(|e| e.created_at).min().filter(|c| (earliest - c).abs() <= span).unwrap_or(earliest);
    let success = |events: &[DeploymentEvent]| events.iter().filter(|e| e.state.as_deref() == Some("success")).map(|e| e.at).min();
    let day = date_of_micros(success(&events).unwrap_or(created_at));
    // Statuses far from its day are not folded, so that every chunk folds the same events.
    events.retain(|e| (date_of_micros(e.at) - day).num_days().abs() <= DEPLOYMENT_SPAN_DAYS);
    events.sort_by_key(|e| (e.at, e.state.as_deref().map_or(0, rank)));
    let first_success_at = success(&events);
    let final_state = match first_success_at {
        Some(_) => "success".to_string(),
        None => events.iter().rev().find_map(|e| e.state.clone()).unwrap_or_else(|| "created".into()),
    };
    let first = events.first()?;
    Some(Deployment {
        repo: first.repo.clone(),
        source: first.source.clone(),
        deployment_id: first.deployment_id.clone(),
        environment: events.iter().rev().find_map(|e| e.environment.clone()),
        production: events.iter().any(|e| e.production),
        sha: events.iter().rev().find_map(|e| e.sha.clone()),
        created_at,
        first_success_at,
        final_state,
        statuses: events.iter().filter(|e| e.state.is_some()).count() as i64,
        history: None,
        new_commits: Vec::new(),
        lead_times: Vec::new(),
        merge_lead_times: Vec::new(),
        rework: None,
        named: Vec::new(),
    })
}

/// For each successful production deployment, in order of first success per repo: the commits
/// it newly deployed, their lead times, the merges it shipped, and rework by sha or revert.
fn work_out_history(deployments: &mut [Deployment], toolkit: &[ToolkitEvent], pushes: &[Push], merges: &[Merge]) {
    let mut by_after: HashMap<(&str, &str), Vec<&Push>> = HashMap::new();
    for p in pushes {
        by_after.entry((p.repo.as_str(), p.after.as_str())).or_default().push(p);
    }
    let mut merged: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    for m in merges {
        merged.entry((m.repo.as_str(), m.sha.as_str())).or_default().push(m.at);
    }
    let mut toolkit_pushes: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    for t in toolkit.iter().filter(|t| !t.deploy) {
        for c in &t.commits {
            toolkit_pushes.entry((t.repo.as_str(), c.as_str())).or_default().push(t.at);
        }
    }
    let mut order: Vec<usize> =
        (0..deployments.len()).filter(|i| deployments[*i].production && deployments[*i].first_success_at.is_some()).collect();
    order.sort_by(|a, b| {
        let (a, b) = (&deployments[*a], &deployments[*b]);
        (&a.repo, a.first_success_at, &a.source, &a.deployment_id).cmp(&(&b.repo, b.first_success_at, &b.source, &b.deployment_id))
    });
    for (n, &i) in order.iter().enumerate() {
        let fs = deployments[i].first_success_at.expect("successful");
        let horizon =
            (date_of_micros(fs) - Duration::days(HISTORY_DAYS)).and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_micros();
        // Earlier production deployments of the repo within the history.
        let earlier: Vec<usize> = order[..n]
            .iter()
            .copied()
            .filter(|&j| {
                deployments[j].repo == deployments[i].repo && deployments[j].first_success_at.is_some_and(|t| t >= horizon && t < fs)
            })
            .collect();
        let heads: HashSet<String> = earlier.iter().filter_map(|&j| deployments[j].sha.clone()).collect();
        let mut deployed: HashSet<String> = heads.clone();
        for &j in &earlier {
            deployed.extend(deployments[j].new_commits.iter().cloned());
            deployed.extend(deployments[j].named.iter().cloned());
        }
        let d = &deployments[i];
        let repo = d.repo.as_str();
        let mut new: Vec<(String, Option<i64>, String)> = Vec::new();
        let history: &'static str = if d.source == "devops_events" {
            for c in d.named.iter().filter(|c| !deployed.contains(*c)) {
                // Timed by the latest toolkit push naming it, at or before the deploy.
                let at =
                    toolkit_pushes.get(&(repo, c.as_str())).and_then(|ts| ts.iter().copied().filter(|t| *t <= fs && *t >= horizon).max());
                new.push((c.clone(), at, String::new()));
            }
            "toolkit"
        } else if earlier.is_empty() {
            "first_deployment"
        } else if let Some(sha) = d.sha.as_deref() {
            if heads.contains(sha) {
                "redeploy"
            } else if deployed.contains(sha) {
                "already_deployed"
            } else {
                walk(&by_after, repo, sha, fs, horizon, &deployed, &mut new)
            }
        } else {
            "no_push"
        };
        let lead_times: Vec<f64> = new.iter().filter_map(|(_, at, _)| *at).map(|t| (fs - t) as f64 / 1e6).filter(|s| *s > 0.0).collect();
        let mut shipped: Vec<&str> = new.iter().map(|(id, _, _)| id.as_str()).collect();
        shipped.extend(d.sha.as_deref());
        shipped.sort_unstable();
        shipped.dedup();
        let merge_lead_times: Vec<f64> = shipped
            .iter()
            .flat_map(|sha| merged.get(&(repo, *sha)).into_iter().flatten())
            .map(|t| (fs - t) as f64 / 1e6)
            .filter(|s| *s > 0.0)
            .collect();
        let rework = if d.sha.as_ref().is_some_and(|s| heads.contains(s)) {
            Some("redeploy")
        } else if new.iter().any(|(_, _, message)| message.starts_with("Revert \"")) {
            Some("revert")
        } else {
            None
        };
        let d = &mut deployments[i];
        d.history = Some(history);
        d.new_commits = new.into_iter().map(|(id, _, _)| id).collect();
        d.lead_times = lead_times;
        d.merge_lead_times = merge_lead_times;
        d.rework = rework;
    }
}

/// Follow the pushes back from `sha` through `before` until a sha an earlier deployment
/// deployed, collecting the commits they list; returns how it ended.
fn walk(
    by_after: &HashMap<(&str, &str), Vec<&Push>>,
    repo: &str,
    sha: &str,
    fs: i64,
    horizon: i64,
    deployed: &HashSet<String>,
    new: &mut Vec<(String, Option<i64>, String)>,
) -> &'static str {
    let mut seen: HashSet<String> = HashSet::new();
    let mut current = sha.to_string();
    for step in 0..100_000 {
        // The latest push that left the branch at this sha, before the deployment succeeded.
        let push =
            by_after.get(&(repo, current.as_str())).and_then(|ps| ps.iter().filter(|p| p.at <= fs && p.at >= horizon).max_by_key(|p| p.at));
        let Some(push) = push else { return if step == 0 { "no_push" } else { "push_not_seen" } };
        for c in &push.commits {
            if !deployed.contains(&c.id) && seen.insert(c.id.clone()) {
                new.push((c.id.clone(), c.at, c.message.clone()));
            }
        }
        match &push.before {
            None => return "branch_created",
            Some(before) if deployed.contains(before) => return "previous_deployment",
            Some(before) if !seen.insert(format!("push:{before}")) => return "push_not_seen",
            Some(before) => current = before.clone(),
        }
    }
    "push_not_seen"
}

fn frame(rows: &[Deployment]) -> PolarsResult<DataFrame> {
    let strings: ListChunked = rows.iter().map(|r| Some(Series::new("".into(), &r.new_commits))).collect();
    let lead: ListChunked = rows.iter().map(|r| Some(Series::new("".into(), &r.lead_times))).collect();
    let merge: ListChunked = rows.iter().map(|r| Some(Series::new("".into(), &r.merge_lead_times))).collect();
    DataFrame::new_infer_height(vec![
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
        Column::new("source".into(), rows.iter().map(|r| r.source.as_str()).collect::<Vec<_>>()),
        Column::new("deployment_id".into(), rows.iter().map(|r| r.deployment_id.as_str()).collect::<Vec<_>>()),
        Column::new("environment".into(), rows.iter().map(|r| r.environment.as_deref()).collect::<Vec<_>>()),
        Column::new("production".into(), rows.iter().map(|r| r.production).collect::<Vec<_>>()),
        Column::new("sha".into(), rows.iter().map(|r| r.sha.as_deref()).collect::<Vec<_>>()),
        timestamp_column("created_at", rows.iter().map(|r| Some(r.created_at))),
        timestamp_column("first_success_at", rows.iter().map(|r| r.first_success_at)),
        Column::new("final_state".into(), rows.iter().map(|r| r.final_state.as_str()).collect::<Vec<_>>()),
        Column::new("statuses".into(), rows.iter().map(|r| r.statuses).collect::<Vec<_>>()),
        Column::new("history".into(), rows.iter().map(|r| r.history).collect::<Vec<_>>()),
        strings.with_name("new_commits".into()).into_column(),
        lead.with_name("lead_times_s".into()).into_column(),
        merge.with_name("merge_lead_times_s".into()).into_column(),
        Column::new("rework".into(), rows.iter().map(|r| r.rework).collect::<Vec<_>>()),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| date_to_days(r.date()))).into_date().into_column(),
    ])
}

/// Successful production deployments stored on `days`, for the folds that read them.
pub fn read_production(ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Vec<Deployment>> {
    let Some(df) = ctx.warehouse.read_days(&DEPLOYMENTS, days, None)? else { return Ok(Vec::new()) };
    let s = |name: &str| df.column(name).and_then(|c| c.str().cloned()).context(format!("deployments {name}"));
    let t = |name: &str| df.column(name).and_then(|c| c.datetime().cloned()).context(format!("deployments {name}"));
    let (repo, source, id, sha, state, rework) =
        (s("repo")?, s("source")?, s("deployment_id")?, s("sha")?, s("final_state")?, s("rework")?);
    let (created, success) = (t("created_at")?, t("first_success_at")?);
    let production = df.column("production").and_then(|c| c.bool().cloned()).context("deployments production")?;
    let new_commits = df.column("new_commits").and_then(|c| c.list().cloned()).context("deployments new_commits")?;
    let lead = df.column("lead_times_s").and_then(|c| c.list().cloned()).context("deployments lead_times_s")?;
    let merge = df.column("merge_lead_times_s").and_then(|c| c.list().cloned()).context("deployments merge_lead_times_s")?;
    let floats = |list: &ListChunked, i: usize| -> Result<Vec<f64>> {
        Ok(match list.get_as_series(i) {
            Some(s) => s.f64().context("lead times")?.iter().flatten().collect(),
            None => Vec::new(),
        })
    };
    let mut out = Vec::new();
    for i in 0..df.height() {
        let (Some(fs), Some(true)) = (success.physical().get(i), production.get(i)) else { continue };
        let commits = match new_commits.get_as_series(i) {
            Some(s) => s.str().context("new_commits")?.iter().flatten().map(str::to_string).collect(),
            None => Vec::new(),
        };
        out.push(Deployment {
            repo: repo.get(i).unwrap_or_default().to_string(),
            source: source.get(i).unwrap_or_default().to_string(),
            deployment_id: id.get(i).unwrap_or_default().to_string(),
            environment: None,
            production: true,
            sha: sha.get(i).map(str::to_string),
            created_at: created.physical().get(i).unwrap_or(fs),
            first_success_at: Some(fs),
            final_state: state.get(i).unwrap_or_default().to_string(),
            statuses: 0,
            history: None,
            new_commits: commits,
            lead_times: floats(&lead, i)?,
            merge_lead_times: floats(&merge, i)?,
            rework: match rework.get(i) {
                Some("redeploy") => Some("redeploy"),
                Some("revert") => Some("revert"),
                _ => None,
            },
            named: Vec::new(),
        });
    }
    Ok(out)
}
