//! `incidents`: one row per `source, incident_id`, folded from its deliveries by their own times
//! (GitHub issues labelled `incident`, GitLab incidents, PagerDuty incidents), with the
//! production deployment it is attributed to and how (METRICS.md, change failure rate).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::deployments::{read_production, Deployment, DEPLOYMENTS, HISTORY_DAYS};
use super::webhook_facts::{self, days_in_reach, span, IncidentAction, IncidentEvent};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::webhooks::INCIDENT_EVENTS;
use crate::timestamp::{date_of_micros, date_to_days, MICROS_PER_DAY};
use crate::warehouse::{columns, timestamp_column, Manifest, TableDef, TableKind};

/// Deliveries of an incident are folded up to this many days after the day it opened.
pub const INCIDENT_SPAN_DAYS: i64 = 90;

pub static INCIDENTS: TableDef = TableDef {
    name: "incidents",
    dir: "incidents",
    kind: TableKind::Summary,
    doc: "One row per source, incident_id (GitHub issues labelled incident, GitLab incidents, PagerDuty incidents), folded from its deliveries by their own times; partitioned by the UTC day it opened.",
    columns: columns![
        "source" "VARCHAR" "github, gitlab or pagerduty",
        "incident_id" "VARCHAR" "the issue's or incident's id",
        "repo" "VARCHAR" "owner/name; for PagerDuty by the services setting, NULL when its service is not mapped",
        "service" "VARCHAR" "the PagerDuty service id (NULL otherwise)",
        "title" "VARCHAR" "the issue's or incident's title",
        "opened_at" "TIMESTAMP" "its own creation time, UTC (an issue labelled later is still opened when it was created)",
        "resolved_at" "TIMESTAMP" "its last resolution (closed, incident.resolved), UTC; NULL while open",
        "reopened" "BOOLEAN" "whether it was reopened",
        "root_cause_sha" "VARCHAR" "the sha a 'root cause: <sha>' line of its body names (at least 7 hex characters)",
        "deployment_source" "VARCHAR" "source of the deployment it is attributed to",
        "deployment_id" "VARCHAR" "the production deployment it is attributed to (NULL when none)",
        "deployed_at" "TIMESTAMP" "that deployment's first success, UTC",
        "attribution" "VARCHAR" "root_cause (the deployment shipped the root cause), last_deployment (the repo's last production deployment before it opened, within attribution_window_days), or NULL",
    ],
};

/// One folded incident.
#[derive(Debug, Clone)]
pub struct Incident {
    pub source: String,
    pub incident_id: String,
    pub repo: Option<String>,
    pub service: Option<String>,
    pub title: Option<String>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub reopened: bool,
    pub root_cause: Option<String>,
    /// The deployment it is attributed to: source, id, first success, how.
    pub deployment: Option<(String, String, i64, &'static str)>,
}

pub(super) struct Incidents;

impl Summary for Incidents {
    fn table(&self) -> &'static TableDef {
        &INCIDENTS
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 2] = [&INCIDENT_EVENTS, &DEPLOYMENTS];
        &INPUTS
    }

    /// A delivery reaches back to the day its incident opened; a deployment reaches the
    /// incidents of the history after it.
    fn affected_days(&self, input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        let (back, forward) = if input.name == DEPLOYMENTS.name { (0, HISTORY_DAYS) } else { (INCIDENT_SPAN_DAYS, 0) };
        days_in_reach(manifest, &[&INCIDENTS, &INCIDENT_EVENTS], days, back, forward)
    }

    fn days_per_txn(&self) -> usize {
        30
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else { return Ok(None) };
        let dora = &ctx.settings.dora;
        let events: Vec<IncidentEvent> =
            webhook_facts::read_events(ctx.warehouse, &INCIDENT_EVENTS, &span(first, last + Duration::days(INCIDENT_SPAN_DAYS)))?
                .iter()
                .filter_map(|e| IncidentEvent::of(e, dora))
                .collect();
        let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
        let mut incidents: Vec<Incident> = fold(events).into_iter().filter(|i| wanted.contains(&date_of_micros(i.opened_at))).collect();
        if incidents.is_empty() {
            return Ok(None);
        }
        let deployments = read_production(ctx, &span(first - Duration::days(HISTORY_DAYS), last))?;
        attribute(&mut incidents, &deployments, dora.attribution_window_days as i64 * MICROS_PER_DAY);
        Ok(Some(frame(&incidents).context("incidents rows")?))
    }
}

/// Order of deliveries at the same instant.
fn rank(a: IncidentAction) -> u8 {
    match a {
        IncidentAction::Opened => 0,
        IncidentAction::Other => 1,
        IncidentAction::Reopened => 2,
        IncidentAction::Resolved => 3,
    }
}

/// Fold deliveries into incidents (issues never marked an incident are left out).
pub fn fold(events: Vec<IncidentEvent>) -> Vec<Incident> {
    let mut groups: BTreeMap<(String, String), Vec<IncidentEvent>> = BTreeMap::new();
    for e in events {
        groups.entry((e.source.clone(), e.incident_id.clone())).or_default().push(e);
    }
    let mut out = Vec::new();
    for ((source, incident_id), mut events) in groups {
        if !events.iter().any(|e| e.is_incident) {
            continue;
        }
        let opened_at = events
            .iter()
            .filter_map(|e| e.opened_at)
            .min()
            .or_else(|| events.iter().filter(|e| e.action == IncidentAction::Opened).map(|e| e.at).min())
            .unwrap_or_else(|| events.iter().map(|e| e.at).min().unwrap_or(0));
        let last_day = date_of_micros(opened_at) + Duration::days(INCIDENT_SPAN_DAYS);
        // Deliveries past the span are not folded, so that every chunk folds the same ones.
        events.retain(|e| date_of_micros(e.at) <= last_day);
        events.sort_by_key(|e| (e.at, rank(e.action)));
        let (mut resolved_at, mut reopened) = (None, false);
        for e in &events {
            match e.action {
                IncidentAction::Resolved => resolved_at = Some(e.at),
                IncidentAction::Reopened => {
                    reopened = true;
                    resolved_at = None;
                }
                IncidentAction::Opened | IncidentAction::Other => {}
            }
        }
        let latest = |f: fn(&IncidentEvent) -> Option<String>| events.iter().rev().find_map(f);
        out.push(Incident {
            source,
            incident_id,
            repo: latest(|e| e.repo.clone()),
            service: latest(|e| e.service.clone()),
            title: latest(|e| e.title.clone()),
            opened_at,
            resolved_at,
            reopened,
            root_cause: latest(|e| e.root_cause.clone()),
            deployment: None,
        });
    }
    out
}

/// Attribute each incident to a production deployment of its repo: the one that shipped its
/// root cause, else the last one before it opened within `window` microseconds.
pub fn attribute(incidents: &mut [Incident], deployments: &[Deployment], window: i64) {
    let mut by_repo: BTreeMap<&str, Vec<&Deployment>> = BTreeMap::new();
    for d in deployments {
        by_repo.entry(d.repo.as_str()).or_default().push(d);
    }
    for list in by_repo.values_mut() {
        list.sort_by(|a, b| (a.first_success_at, &a.source, &a.deployment_id).cmp(&(b.first_success_at, &b.source, &b.deployment_id)));
    }
    for incident in incidents.iter_mut() {
        let Some(list) = incident.repo.as_deref().and_then(|r| by_repo.get(r)) else { continue };
        let o = incident.opened_at;
        let horizon =
            (date_of_micros(o) - Duration::days(HISTORY_DAYS)).and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_micros();
        let before: Vec<&&Deployment> = list.iter().filter(|d| d.first_success_at.is_some_and(|t| t <= o && t >= horizon)).collect();
        let shipped = |d: &Deployment, rc: &str| {
            d.sha.as_deref().is_some_and(|s| s.starts_with(rc)) || d.new_commits.iter().any(|c| c.starts_with(rc))
        };
        let by_root_cause = incident.root_cause.as_deref().and_then(|rc| before.iter().rev().find(|d| shipped(d, rc)));
        let found = match by_root_cause {
            Some(d) => Some((d, "root_cause")),
            None => before.last().filter(|d| o - d.first_success_at.unwrap_or(o) <= window).map(|d| (d, "last_deployment")),
        };
        incident.deployment = found.map(|(d, how)| (d.source.clone(), d.deployment_id.clone(), d.first_success_at.unwrap_or(o), how));
    }
}

fn frame(rows: &[Incident]) -> PolarsResult<DataFrame> {
    let deployment =
        |f: fn(&(String, String, i64, &'static str)) -> String| rows.iter().map(|r| r.deployment.as_ref().map(f)).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        Column::new("source".into(), rows.iter().map(|r| r.source.as_str()).collect::<Vec<_>>()),
        Column::new("incident_id".into(), rows.iter().map(|r| r.incident_id.as_str()).collect::<Vec<_>>()),
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_deref()).collect::<Vec<_>>()),
        Column::new("service".into(), rows.iter().map(|r| r.service.as_deref()).collect::<Vec<_>>()),
        Column::new("title".into(), rows.iter().map(|r| r.title.as_deref()).collect::<Vec<_>>()),
        timestamp_column("opened_at", rows.iter().map(|r| Some(r.opened_at))),
        timestamp_column("resolved_at", rows.iter().map(|r| r.resolved_at)),
        Column::new("reopened".into(), rows.iter().map(|r| r.reopened).collect::<Vec<_>>()),
        Column::new("root_cause_sha".into(), rows.iter().map(|r| r.root_cause.as_deref()).collect::<Vec<_>>()),
        Column::new("deployment_source".into(), deployment(|d| d.0.clone())),
        Column::new("deployment_id".into(), deployment(|d| d.1.clone())),
        timestamp_column("deployed_at", rows.iter().map(|r| r.deployment.as_ref().map(|d| d.2))),
        Column::new("attribution".into(), deployment(|d| d.3.to_string())),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| date_to_days(date_of_micros(r.opened_at))))
            .into_date()
            .into_column(),
    ])
}

/// Incidents stored on `days`.
pub fn read(ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Vec<Incident>> {
    let Some(df) = ctx.warehouse.read_days(&INCIDENTS, days, None)? else { return Ok(Vec::new()) };
    let s = |name: &str| df.column(name).and_then(|c| c.str().cloned()).context(format!("incidents {name}"));
    let t = |name: &str| df.column(name).and_then(|c| c.datetime().cloned()).context(format!("incidents {name}"));
    let (source, id, repo, dsource, did, how) =
        (s("source")?, s("incident_id")?, s("repo")?, s("deployment_source")?, s("deployment_id")?, s("attribution")?);
    let (opened, resolved, deployed) = (t("opened_at")?, t("resolved_at")?, t("deployed_at")?);
    let mut out = Vec::new();
    for i in 0..df.height() {
        let Some(o) = opened.physical().get(i) else { continue };
        let deployment = match (dsource.get(i), did.get(i), deployed.physical().get(i), how.get(i)) {
            (Some(s), Some(d), Some(at), Some(h)) => {
                Some((s.to_string(), d.to_string(), at, if h == "root_cause" { "root_cause" } else { "last_deployment" }))
            }
            _ => None,
        };
        out.push(Incident {
            source: source.get(i).unwrap_or_default().to_string(),
            incident_id: id.get(i).unwrap_or_default().to_string(),
            repo: repo.get(i).map(str::to_string),
            service: None,
            title: None,
            opened_at: o,
            resolved_at: resolved.physical().get(i),
            reopened: false,
            root_cause: None,
            deployment,
        });
    }
    Ok(out)
}
