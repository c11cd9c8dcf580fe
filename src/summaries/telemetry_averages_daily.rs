//! `telemetry_averages_daily`: per day, over persistent systems, average workers and content
//! apps. Every day summarised gets its row, with NULL averages when no system counted.

use chrono::NaiveDate;
use polars::prelude::*;

use super::{telemetry, Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::telemetry::TELEMETRY_CHECKINS;
use crate::warehouse::{columns, TableDef, TableKind};

pub static TELEMETRY_AVERAGES_DAILY: TableDef = TableDef {
    name: "telemetry_averages_daily",
    dir: "telemetry_averages_daily",
    kind: TableKind::Summary,
    doc: "Per day, over persistent systems: averages of workers and content apps (unset fields left out, not counted as 0).",
    columns: columns![
        "persistent_systems" "BIGINT" "persistent systems that checked in",
        "avg_workers_processes" "DOUBLE" "average online worker processes",
        "avg_workers_hosts" "DOUBLE" "average hosts running workers",
        "avg_content_apps_processes" "DOUBLE" "average online content app processes",
        "avg_content_apps_hosts" "DOUBLE" "average hosts running content apps",
    ],
};

pub(super) struct TelemetryAveragesDaily;

impl Summary for TelemetryAveragesDaily {
    fn table(&self) -> &'static TableDef {
        &TELEMETRY_AVERAGES_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&TELEMETRY_CHECKINS];
        &INPUTS
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let averages = match telemetry::checkins(
            ctx,
            days,
            &["workers_processes", "workers_hosts", "content_apps_processes", "content_apps_hosts"],
        )? {
            Some(checkins) => telemetry::persistent(checkins, ctx).group_by([col("date")]).agg([
                len().cast(DataType::Int64).alias("persistent_systems"),
                col("workers_processes").mean().alias("avg_workers_processes"),
                col("workers_hosts").mean().alias("avg_workers_hosts"),
                col("content_apps_processes").mean().alias("avg_content_apps_processes"),
                col("content_apps_hosts").mean().alias("avg_content_apps_hosts"),
            ]),
            None => DataFrame::new_infer_height(vec![
                Column::new_empty("date".into(), &DataType::Date),
                Column::new_empty("persistent_systems".into(), &DataType::Int64),
                Column::new_empty("avg_workers_processes".into(), &DataType::Float64),
                Column::new_empty("avg_workers_hosts".into(), &DataType::Float64),
                Column::new_empty("avg_content_apps_processes".into(), &DataType::Float64),
                Column::new_empty("avg_content_apps_hosts".into(), &DataType::Float64),
            ])
            .context("empty averages")?
            .lazy(),
        };
        let df = telemetry::all_days(days)
            .join(averages, [col("date")], [col("date")], JoinArgs::new(JoinType::Left))
            .with_column(col("persistent_systems").fill_null(lit(0i64)))
            .sort(["date"], Default::default())
            .collect()
            .context("compute telemetry_averages_daily")?;
        Ok(Some(df))
    }
}
