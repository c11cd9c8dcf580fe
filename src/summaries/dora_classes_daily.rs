//! `dora_classes_daily`: each key of `dora_keys_daily` with its class, by the DORA 2023 clusters
//! (as Apache DevLake reads them) and by the answer bands of the 2025 report (METRICS.md, classes).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use polars::prelude::*;

use super::dora::lead_time_class;
use super::dora_keys_daily::{self, KeyRow, DORA_KEYS_DAILY};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::timestamp::date_to_days;
use crate::warehouse::{columns, Manifest, TableDef, TableKind};

pub static DORA_CLASSES_DAILY: TableDef = TableDef {
    name: "dora_classes_daily",
    dir: "dora_classes_daily",
    kind: TableKind::Summary,
    doc: "One row per date, repo, window_days, report_year and metric of dora_keys_daily: the metric's value and its class (2023: elite, high, medium, low; 2025: the answer band); partitioned by date.",
    columns: columns![
        "repo" "VARCHAR" "owner/name, or * for all repositories",
        "window_days" "BIGINT" "7, 30 or 90",
        "report_year" "BIGINT" "2023 (DORA 2023 clusters as Apache DevLake reads them) or 2025 (the 2025 report's answer bands)",
        "metric" "VARCHAR" "deployment_frequency, lead_time, change_failure_rate, recovery_time or rework_rate",
        "value" "DOUBLE" "deployment_frequency: deploy days per week (2023) or seconds between deployments (2025); lead_time and recovery_time: median seconds; rates: a fraction 0-1",
        "class" "VARCHAR" "2023: elite, high, medium, low; 2025: lt_1h, lt_1d, lt_1w, lt_1m, lt_6m, gte_6m (NULL for the rates); NULL where the value is NULL",
    ],
};

pub(super) struct DoraClassesDaily;

impl Summary for DoraClassesDaily {
    fn table(&self) -> &'static TableDef {
        &DORA_CLASSES_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&DORA_KEYS_DAILY];
        &INPUTS
    }

    fn affected_days(&self, _input: &TableDef, days: &BTreeSet<NaiveDate>, _manifest: &Manifest) -> BTreeSet<NaiveDate> {
        days.clone()
    }

    fn days_per_txn(&self) -> usize {
        30
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let rows: Vec<ClassRow> = dora_keys_daily::read(ctx, days)?.iter().flat_map(classes).collect();
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(frame(&rows).context("dora_classes_daily rows")?))
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassRow {
    pub date: NaiveDate,
    pub repo: String,
    pub window_days: i64,
    pub report_year: i64,
    pub metric: &'static str,
    pub value: Option<f64>,
    pub class: Option<&'static str>,
}

const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// DORA 2023 deployment frequency by deploy days per week.
pub fn frequency_2023(per_week: f64) -> &'static str {
    if per_week >= 5.0 {
        "elite"
    } else if per_week >= 1.0 {
        "high"
    } else if per_week >= 7.0 / 30.0 {
        "medium"
    } else {
        "low"
    }
}

/// DORA 2023 change failure rate (a fraction).
pub fn change_failure_2023(rate: f64) -> &'static str {
    if rate <= 0.05 {
        "elite"
    } else if rate <= 0.10 {
        "high"
    } else if rate <= 0.15 {
        "medium"
    } else {
        "low"
    }
}

/// DORA 2023 recovery time by its median in seconds.
pub fn recovery_2023(seconds: f64) -> &'static str {
    if seconds < HOUR {
        "elite"
    } else if seconds < DAY {
        "high"
    } else if seconds < 7.0 * DAY {
        "medium"
    } else {
        "low"
    }
}

/// The 2025 report's answer band of a duration in seconds.
pub fn band_2025(seconds: f64) -> &'static str {
    if seconds < HOUR {
        "lt_1h"
    } else if seconds < DAY {
        "lt_1d"
    } else if seconds < 7.0 * DAY {
        "lt_1w"
    } else if seconds < 30.0 * DAY {
        "lt_1m"
    } else if seconds < 182.0 * DAY {
        "lt_6m"
    } else {
        "gte_6m"
    }
}

/// The class rows of one keys row.
pub fn classes(k: &KeyRow) -> Vec<ClassRow> {
    let w = k.window_days as f64;
    let per_week = k.deploy_days as f64 * 7.0 / w;
    let between = (k.deployments > 0).then(|| w * 86_400.0 / k.deployments as f64);
    let row = |report_year: i64, metric: &'static str, value: Option<f64>, class: fn(f64) -> Option<&'static str>| ClassRow {
        date: k.date,
        repo: k.repo.clone(),
        window_days: k.window_days,
        report_year,
        metric,
        value,
        class: value.and_then(class),
    };
    vec![
        row(2023, "deployment_frequency", Some(per_week), |v| Some(frequency_2023(v))),
        row(2023, "lead_time", k.lead_time_p50, |v| Some(lead_time_class(v))),
        row(2023, "change_failure_rate", k.change_failure_rate(), |v| Some(change_failure_2023(v))),
        row(2023, "recovery_time", k.recovery_p50, |v| Some(recovery_2023(v))),
        row(2025, "deployment_frequency", between, |v| Some(band_2025(v))),
        row(2025, "lead_time", k.lead_time_p50, |v| Some(band_2025(v))),
        row(2025, "change_failure_rate", k.change_failure_rate(), |_| None),
        row(2025, "recovery_time", k.recovery_p50, |v| Some(band_2025(v))),
        row(2025, "rework_rate", k.rework_rate(), |_| None),
    ]
}

fn frame(rows: &[ClassRow]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_str()).collect::<Vec<_>>()),
        Column::new("window_days".into(), rows.iter().map(|r| r.window_days).collect::<Vec<_>>()),
        Column::new("report_year".into(), rows.iter().map(|r| r.report_year).collect::<Vec<_>>()),
        Column::new("metric".into(), rows.iter().map(|r| r.metric).collect::<Vec<_>>()),
        Column::new("value".into(), rows.iter().map(|r| r.value).collect::<Vec<_>>()),
        Column::new("class".into(), rows.iter().map(|r| r.class).collect::<Vec<_>>()),
        Int32Chunked::from_iter_values("date".into(), rows.iter().map(|r| date_to_days(r.date))).into_date().into_column(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_boundaries_follow_metrics_md() {
        assert_eq!(frequency_2023(5.0), "elite");
        assert_eq!(frequency_2023(4.99), "high");
        assert_eq!(frequency_2023(1.0), "high");
        assert_eq!(frequency_2023(7.0 / 30.0), "medium");
        assert_eq!(frequency_2023(0.2), "low");
        assert_eq!(lead_time_class(DAY - 1.0), "elite");
        assert_eq!(lead_time_class(DAY), "high");
        assert_eq!(change_failure_2023(0.05), "elite");
        assert_eq!(change_failure_2023(0.1), "high");
        assert_eq!(change_failure_2023(0.15), "medium");
        assert_eq!(change_failure_2023(0.16), "low");
        assert_eq!(recovery_2023(HOUR), "high");
        assert_eq!(band_2025(HOUR - 1.0), "lt_1h");
        assert_eq!(band_2025(30.0 * DAY), "lt_6m");
        assert_eq!(band_2025(182.0 * DAY), "gte_6m");
    }
}
