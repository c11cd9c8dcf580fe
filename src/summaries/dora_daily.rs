//! `dora_daily`: per day, per repo and for all repos together (`repo = '*'`), deploys, the
//! toolkit's deployment frequency over the last 30 days, the median lead time of the last 30
//! days' deploys, and their DORA 2023 classes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::dora::{
    deploy_frequency, deploy_frequency_class, lead_time_class, median, monday_of, FREQUENCY_WINDOW_DAYS, LEAD_TIME_WINDOW_DAYS,
};
use super::dora_deployments::DORA_DEPLOYMENTS;
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::devops_events::DEVOPS_EVENTS;
use crate::timestamp::{date_to_days, days_to_date};
use crate::warehouse::{columns, Manifest, TableDef, TableKind};

/// The repo name of the all-repos rows.
pub const ALL_REPOS: &str = "*";

pub static DORA_DAILY: TableDef = TableDef {
    name: "dora_daily",
    dir: "dora_daily",
    kind: TableKind::Summary,
    doc: "Per day and repo (and repo '*' for all repos together), for every repo with a deploy in the weeks the frequency looks at: deploys, deployment frequency and lead time with their DORA 2023 classes.",
    columns: columns![
        "repo" "VARCHAR" "repository, or * for all repos together",
        "deploys" "BIGINT" "deploys that day",
        "deploys_30d" "BIGINT" "deploys in the 30 days ending that day",
        "deploy_days_30d" "BIGINT" "days with a deploy in the 30 days ending that day",
        "deploy_frequency_30d" "DOUBLE" "the toolkit's deployment frequency: over the Monday-Sunday weeks from the week of (date - 30 days) to the week of date, the median count per week of weekdays with a deploy (days after date not counted, empty weeks 0, median as pandas)",
        "deploy_frequency_class" "VARCHAR" "DORA 2023: elite (>= 5 deploy days a week), high (>= 1 a week), medium (>= 1 in 30 days), low",
        "lead_time_median_seconds_30d" "DOUBLE" "median lead_time_seconds of the deploys in the 30 days ending that day (those with a lead time); NULL when none",
        "lead_time_class" "VARCHAR" "DORA 2023: elite (< 1 day), high (< 7 days), medium (< 30 days), low; NULL without a lead time",
    ],
};

pub(super) struct DoraDaily;

impl Summary for DoraDaily {
    fn table(&self) -> &'static TableDef {
        &DORA_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&DORA_DEPLOYMENTS];
        &INPUTS
    }

    /// A deploy counts in the windows of the days up to five weeks after it, as far as events go.
    fn affected_days(&self, _input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        let Some(last) = manifest.tables.get(DEVOPS_EVENTS.name).and_then(|t| t.keys().next_back().copied()) else {
            return BTreeSet::new();
        };
        let reach = FREQUENCY_WINDOW_DAYS + 6;
        days.iter().flat_map(|d| d.iter_days().take_while(move |x| *x <= (*d + Duration::days(reach)).min(last))).collect()
    }

    fn days_per_txn(&self) -> usize {
        31
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else { return Ok(None) };
        let span: Vec<NaiveDate> =
            monday_of(*first - Duration::days(FREQUENCY_WINDOW_DAYS)).iter_days().take_while(|d| d <= last).collect();
        let columns: &[&str] = &["repo", "lead_time_seconds"];
        let Some(deploys) = ctx.warehouse.read_days(&DORA_DEPLOYMENTS, &span, Some(columns))? else { return Ok(None) };
        let repo = deploys.column("repo").and_then(|c| c.str().cloned()).context("dora_deployments repo")?;
        let lead = deploys.column("lead_time_seconds").and_then(|c| c.f64().cloned()).context("dora_deployments lead time")?;
        let date = deploys.column("date").and_then(|c| c.date().cloned()).context("dora_deployments date")?;

        // Each repo's deploys (day, lead time), and all of them under '*'.
        let mut by_repo: BTreeMap<&str, Vec<(NaiveDate, Option<f64>)>> = BTreeMap::new();
        for ((r, l), d) in repo.iter().zip(lead.iter()).zip(date.physical().iter()) {
            let (Some(r), Some(d)) = (r, d) else { continue };
            let deploy = (days_to_date(d), l);
            by_repo.entry(r).or_default().push(deploy);
            by_repo.entry(ALL_REPOS).or_default().push(deploy);
        }

        let mut rows = Rows::default();
        for day in days {
            let frequency_from = *day - Duration::days(FREQUENCY_WINDOW_DAYS);
            let lead_from = *day - Duration::days(LEAD_TIME_WINDOW_DAYS - 1);
            for (repo, deploys) in &by_repo {
                let deploy_days: BTreeSet<NaiveDate> =
                    deploys.iter().map(|(d, _)| *d).filter(|d| *d >= monday_of(frequency_from) && d <= day).collect();
                if deploy_days.is_empty() {
                    continue;
                }
                let recent: Vec<&(NaiveDate, Option<f64>)> = deploys.iter().filter(|(d, _)| *d >= lead_from && d <= day).collect();
                let days_30d = recent.iter().map(|(d, _)| *d).collect::<BTreeSet<_>>().len() as u32;
                let frequency = deploy_frequency(&deploy_days, frequency_from, *day);
                let mut leads: Vec<f64> = recent.iter().filter_map(|(_, l)| *l).collect();
                let lead = median(&mut leads);
                rows.date.push(date_to_days(*day));
                rows.repo.push(*repo);
                rows.deploys.push(deploys.iter().filter(|(d, _)| d == day).count() as i64);
                rows.deploys_30d.push(recent.len() as i64);
                rows.deploy_days_30d.push(days_30d as i64);
                rows.frequency.push(frequency);
                rows.frequency_class.push(deploy_frequency_class(frequency, days_30d));
                rows.lead.push(lead);
                rows.lead_class.push(lead.map(lead_time_class));
            }
        }
        let df = DataFrame::new_infer_height(vec![
            Int32Chunked::from_vec("date".into(), rows.date).into_date().into_column(),
            Column::new("repo".into(), rows.repo),
            Column::new("deploys".into(), rows.deploys),
            Column::new("deploys_30d".into(), rows.deploys_30d),
            Column::new("deploy_days_30d".into(), rows.deploy_days_30d),
            Column::new("deploy_frequency_30d".into(), rows.frequency),
            Column::new("deploy_frequency_class".into(), rows.frequency_class),
            Column::new("lead_time_median_seconds_30d".into(), rows.lead),
            Column::new("lead_time_class".into(), rows.lead_class),
        ])
        .context("dora_daily rows")?;
        Ok(Some(df))
    }
}

#[derive(Default)]
struct Rows<'a> {
    date: Vec<i32>,
    repo: Vec<&'a str>,
    deploys: Vec<i64>,
    deploys_30d: Vec<i64>,
    deploy_days_30d: Vec<i64>,
    frequency: Vec<f64>,
    frequency_class: Vec<&'static str>,
    lead: Vec<Option<f64>>,
    lead_class: Vec<Option<&'static str>>,
}
