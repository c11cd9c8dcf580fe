//! `dora_keys_daily`: the five DORA keys per day, repository (`*` pools all) and window of 7, 30
//! and 90 days, each rate with its numerator and denominator (METRICS.md, the five keys).

use std::collections::{BTreeSet, HashSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::deployments::{read_production, Deployment, DEPLOYMENTS, HISTORY_DAYS};
use super::incidents::{self, Incident, INCIDENTS, INCIDENT_SPAN_DAYS};
use super::webhook_facts::{days_in_reach, percentile_cont, span};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::webhooks::INCIDENT_EVENTS;
use crate::timestamp::{date_of_micros, date_to_days};
use crate::warehouse::{columns, Manifest, TableDef, TableKind};

/// The windows, in days.
pub const WINDOWS: [i64; 3] = [7, 30, 90];
const LONGEST: i64 = 90;
/// The `repo` of rows pooling every repository.
pub const ALL: &str = "*";

pub static DORA_KEYS_DAILY: TableDef = TableDef {
    name: "dora_keys_daily",
    dir: "dora_keys_daily",
    kind: TableKind::Summary,
    doc: "The five DORA keys (METRICS.md) per date, repo and window_days (7, 30, 90; repo * pools all repositories), over the window ending that date; partitioned by that date. A rate is its numerator over its denominator, NULL when the denominator is 0.",
    columns: columns![
        "repo" "VARCHAR" "owner/name, or * for all repositories",
        "window_days" "BIGINT" "7, 30 or 90: the UTC days date - window_days + 1 to date",
        "deployments" "BIGINT" "production deployments whose first success is in the window",
        "deploy_days" "BIGINT" "distinct days with at least one",
        "lead_time_changes" "BIGINT" "newly deployed commits with a positive lead time (first success - commit time)",
        "lead_time_p50_seconds" "DOUBLE" "their median (PERCENTILE_CONT)",
        "lead_time_p90_seconds" "DOUBLE" "their 90th percentile",
        "merge_lead_time_p50_seconds" "DOUBLE" "median of first success - merged_at over the merged pull/merge requests the deployments shipped",
        "failed_deployments" "BIGINT" "of the deployments, those with at least one incident attributed, whenever it opened",
        "change_failure_rate" "DOUBLE" "failed_deployments / deployments",
        "recovered_incidents" "BIGINT" "attributed incidents resolved in the window",
        "recovery_p50_seconds" "DOUBLE" "median of resolved_at - the deployment's first success over those (failed deployment recovery time)",
        "restored_incidents" "BIGINT" "incidents of the repo resolved in the window, attributed or not (repo *: unmapped ones too)",
        "time_to_restore_p50_seconds" "DOUBLE" "median of resolved_at - opened_at over those",
        "rework_deployments" "BIGINT" "deployments that are rework: an attributed incident of the repo open at their first success, a redeploy or rollback of an earlier sha, or a revert commit",
        "rework_rate" "DOUBLE" "rework_deployments / deployments",
    ],
};

pub(super) struct DoraKeysDaily;

impl Summary for DoraKeysDaily {
    fn table(&self) -> &'static TableDef {
        &DORA_KEYS_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 2] = [&DEPLOYMENTS, &INCIDENTS];
        &INPUTS
    }

    /// A deployment counts in the windows after it; an incident in its deployment's windows
    /// (up to the history before it) and in those of its resolution (up to the span after).
    fn affected_days(&self, input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        let (back, forward) =
            if input.name == DEPLOYMENTS.name { (0, LONGEST - 1) } else { (HISTORY_DAYS, INCIDENT_SPAN_DAYS + LONGEST - 1) };
        let mut out = days.clone();
        // The day an incident was resolved has its resolution's delivery, if no other row.
        out.extend(days_in_reach(manifest, &[&DORA_KEYS_DAILY, &DEPLOYMENTS, &INCIDENTS, &INCIDENT_EVENTS], days, back, forward));
        out
    }

    fn days_per_txn(&self) -> usize {
        30
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else { return Ok(None) };
        let deployments = read_production(ctx, &span(first - Duration::days(LONGEST - 1), last))?;
        let incidents =
            incidents::read(ctx, &span(first - Duration::days(LONGEST - 1 + INCIDENT_SPAN_DAYS), last + Duration::days(HISTORY_DAYS)))?;
        let rows: Vec<KeyRow> = days.iter().flat_map(|d| keys_of_day(*d, &deployments, &incidents)).collect();
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(frame(&rows).context("dora_keys_daily rows")?))
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    pub date: NaiveDate,
    pub repo: String,
    pub window_days: i64,
    pub deployments: i64,
    pub deploy_days: i64,
    pub lead_time_changes: i64,
    pub lead_time_p50: Option<f64>,
    pub lead_time_p90: Option<f64>,
    pub merge_lead_time_p50: Option<f64>,
    pub failed_deployments: i64,
    pub recovered_incidents: i64,
    pub recovery_p50: Option<f64>,
    pub restored_incidents: i64,
    pub time_to_restore_p50: Option<f64>,
    pub rework_deployments: i64,
}

fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// The rows of one day: for each repository with a deployment or an incident in the longest
/// window, and for all of them (`*`), each window.
pub fn keys_of_day(day: NaiveDate, deployments: &[Deployment], incidents: &[Incident]) -> Vec<KeyRow> {
    let in_window = |t: i64, w: i64| {
        let d = date_of_micros(t);
        d <= day && d > day - Duration::days(w)
    };
    let mut repos: BTreeSet<&str> = BTreeSet::new();
    repos.extend(deployments.iter().filter(|d| d.first_success_at.is_some_and(|t| in_window(t, LONGEST))).map(|d| d.repo.as_str()));
    let touches = |i: &Incident| in_window(i.opened_at, LONGEST) || i.resolved_at.is_some_and(|t| in_window(t, LONGEST));
    repos.extend(incidents.iter().filter(|i| touches(i)).filter_map(|i| i.repo.as_deref()));
    let any_unmapped = incidents.iter().any(|i| i.repo.is_none() && touches(i));
    if repos.is_empty() && !any_unmapped {
        return Vec::new();
    }
    let failed: HashSet<(&str, &str)> =
        incidents.iter().filter_map(|i| i.deployment.as_ref()).map(|(s, id, _, _)| (s.as_str(), id.as_str())).collect();
    let mut out = Vec::new();
    for repo in repos.iter().copied().map(Some).chain([None]) {
        let of_repo = |r: &str| repo.is_none_or(|x| x == r);
        for w in WINDOWS {
            let deps: Vec<&Deployment> =
                deployments.iter().filter(|d| of_repo(&d.repo) && d.first_success_at.is_some_and(|t| in_window(t, w))).collect();
            let mut lead: Vec<f64> = deps.iter().flat_map(|d| d.lead_times.iter().copied()).collect();
            let mut merge: Vec<f64> = deps.iter().flat_map(|d| d.merge_lead_times.iter().copied()).collect();
            let deploy_days: BTreeSet<NaiveDate> = deps.iter().filter_map(|d| d.first_success_at).map(date_of_micros).collect();
            let mut recovery: Vec<f64> = incidents
                .iter()
                .filter(|i| i.repo.as_deref().is_some_and(of_repo) && i.resolved_at.is_some_and(|t| in_window(t, w)))
                .filter_map(|i| Some((i.resolved_at? - i.deployment.as_ref()?.2) as f64 / 1e6))
                .collect();
            let mut restore: Vec<f64> = incidents
                .iter()
                .filter(|i| match (repo, i.repo.as_deref()) {
                    (None, _) => true,
                    (Some(r), Some(x)) => r == x,
                    (Some(_), None) => false,
                })
                .filter(|i| i.resolved_at.is_some_and(|t| in_window(t, w)))
                .filter_map(|i| Some((i.resolved_at? - i.opened_at) as f64 / 1e6))
                .collect();
            let rework = deps
                .iter()
                .filter(|d| {
                    let fs = d.first_success_at.unwrap_or_default();
                    d.rework.is_some()
                        || incidents.iter().any(|i| {
                            i.deployment.is_some()
                                && i.repo.as_deref() == Some(d.repo.as_str())
                                && i.opened_at <= fs
                                && i.resolved_at.is_none_or(|r| fs < r)
                        })
                })
                .count();
            out.push(KeyRow {
                date: day,
                repo: repo.unwrap_or(ALL).to_string(),
                window_days: w,
                deployments: deps.len() as i64,
                deploy_days: deploy_days.len() as i64,
                lead_time_changes: lead.len() as i64,
                lead_time_p50: percentile_cont(&mut lead, 0.5),
                lead_time_p90: percentile_cont(&mut lead, 0.9),
                merge_lead_time_p50: percentile_cont(&mut merge, 0.5),
                failed_deployments: deps.iter().filter(|d| failed.contains(&(d.source.as_str(), d.deployment_id.as_str()))).count() as i64,
                recovered_incidents: recovery.len() as i64,
                recovery_p50: percentile_cont(&mut recovery, 0.5),
                restored_incidents: restore.len() as i64,
                time_to_restore_p50: percentile_cont(&mut restore, 0.5),
                rework_deployments: rework as i64,
            });
        }
    }
    out
}

fn frame(rows: &[KeyRow]) -> PolarsResult<DataFrame> {
    let int = |name: &str, f: fn(&KeyRow) -> i64| Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>());
    let float = |name: &str, f: fn(&KeyRow) -> Option<f64>| Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>());
    DataFrame::new_infer_height(vec![
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
        int("window_days", |r| r.window_days),
        int("deployments", |r| r.deployments),
        int("deploy_days", |r| r.deploy_days),
        int("lead_time_changes", |r| r.lead_time_changes),
        float("lead_time_p50_seconds", |r| r.lead_time_p50),
        float("lead_time_p90_seconds", |r| r.lead_time_p90),
        float("merge_lead_time_p50_seconds", |r| r.merge_lead_time_p50),
        int("failed_deployments", |r| r.failed_deployments),
        float("change_failure_rate", |r| rate(r.failed_deployments, r.deployments)),
        int("recovered_incidents", |r| r.recovered_incidents),
        float("recovery_p50_seconds", |r| r.recovery_p50),
        int("restored_incidents", |r| r.restored_incidents),
        float("time_to_restore_p50_seconds", |r| r.time_to_restore_p50),
        int("rework_deployments", |r| r.rework_deployments),
        float("rework_rate", |r| rate(r.rework_deployments, r.deployments)),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| date_to_days(r.date))).into_date().into_column(),
    ])
}

/// Rows of `dora_keys_daily` stored on `days`, for the classes.
pub fn read(ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Vec<KeyRow>> {
    let Some(df) = ctx.warehouse.read_days(&DORA_KEYS_DAILY, days, None)? else { return Ok(Vec::new()) };
    let i = |name: &str| df.column(name).and_then(|c| c.i64().cloned()).context(format!("dora_keys_daily {name}"));
    let f = |name: &str| df.column(name).and_then(|c| c.f64().cloned()).context(format!("dora_keys_daily {name}"));
    let repo = df.column("repo").and_then(|c| c.str().cloned()).context("dora_keys_daily repo")?;
    let date = df.column("date").and_then(|c| c.date().cloned()).context("dora_keys_daily date")?;
    let (w, deps, days_, ltc, failed, rec, res, rw) = (
        i("window_days")?,
        i("deployments")?,
        i("deploy_days")?,
        i("lead_time_changes")?,
        i("failed_deployments")?,
        i("recovered_incidents")?,
        i("restored_incidents")?,
        i("rework_deployments")?,
    );
    let (l50, l90, m50, r50, t50) = (
        f("lead_time_p50_seconds")?,
        f("lead_time_p90_seconds")?,
        f("merge_lead_time_p50_seconds")?,
        f("recovery_p50_seconds")?,
        f("time_to_restore_p50_seconds")?,
    );
    Ok((0..df.height())
        .map(|n| KeyRow {
            date: crate::timestamp::days_to_date(date.physical().get(n).unwrap_or_default()),
            repo: repo.get(n).unwrap_or_default().to_string(),
            window_days: w.get(n).unwrap_or_default(),
            deployments: deps.get(n).unwrap_or_default(),
            deploy_days: days_.get(n).unwrap_or_default(),
            lead_time_changes: ltc.get(n).unwrap_or_default(),
            lead_time_p50: l50.get(n),
            lead_time_p90: l90.get(n),
            merge_lead_time_p50: m50.get(n),
            failed_deployments: failed.get(n).unwrap_or_default(),
            recovered_incidents: rec.get(n).unwrap_or_default(),
            recovery_p50: r50.get(n),
            restored_incidents: res.get(n).unwrap_or_default(),
            time_to_restore_p50: t50.get(n),
            rework_deployments: rw.get(n).unwrap_or_default(),
        })
        .collect())
}

/// The change failure and rework rates of a row.
impl KeyRow {
    pub fn change_failure_rate(&self) -> Option<f64> {
        rate(self.failed_deployments, self.deployments)
    }

    pub fn rework_rate(&self) -> Option<f64> {
        rate(self.rework_deployments, self.deployments)
    }
}
