//! `telemetry_versions_daily`: per day and component, over persistent systems, how many run
//! each `X.Y` (granularity `xy`) and each full version as sent (granularity `xyz`).

use chrono::NaiveDate;
use polars::prelude::*;

use super::{telemetry, Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::telemetry::{checkin, TELEMETRY_COMPONENTS};
use crate::warehouse::{columns, TableDef, TableKind};

pub static TELEMETRY_VERSIONS_DAILY: TableDef = TableDef {
    name: "telemetry_versions_daily",
    dir: "telemetry_versions_daily",
    kind: TableKind::Summary,
    doc: "Per day and component, over persistent systems: systems per X.Y version (xy) and per full version (xyz).",
    columns: columns![
        "component" "VARCHAR" "component (plugin) label",
        "granularity" "VARCHAR" "xy (major.minor) or xyz (the version as sent)",
        "version" "VARCHAR" "the version at that granularity",
        "systems" "BIGINT" "persistent systems running it",
    ],
};

pub(super) struct TelemetryVersionsDaily;

impl Summary for TelemetryVersionsDaily {
    fn table(&self) -> &'static TableDef {
        &TELEMETRY_VERSIONS_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&TELEMETRY_COMPONENTS];
        &INPUTS
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        // A day's components are a few hundred thousand strings: one day at a time keeps a
        // backfill's memory to one day's worth.
        let mut per_day = Vec::with_capacity(days.len());
        for day in days {
            if let Some(df) = versions(ctx, *day)? {
                per_day.push(df.lazy());
            }
        }
        if per_day.is_empty() {
            return Ok(None);
        }
        let df = concat(per_day, UnionArgs::default())
            .and_then(|lf| lf.sort(["date", "component", "granularity", "version"], Default::default()).collect())
            .context("compute telemetry_versions_daily")?;
        Ok(Some(df))
    }
}

/// The rows of one day.
fn versions(ctx: &SummaryContext<'_>, day: NaiveDate) -> Result<Option<DataFrame>> {
    let Some(components) = telemetry::components(ctx, &[day])? else { return Ok(None) };
    // Components carry their check-in's age: the persistent filter needs no join.
    // Count each full version once; the X.Y counts add those up (a few thousand rows), instead
    // of grouping all components a second time. One day: the date is no key (every key column
    // makes polars' grouping slower).
    let mut xyz = telemetry::persistent(components, ctx)
        .group_by([col("name"), col("version")])
        .agg([len().cast(DataType::Int64).alias("systems"), col("date").first()])
        .collect()
        .context("compute telemetry_versions_daily")?;
    // The X.Y of each distinct version, not of every component.
    let major_minor: StringChunked = xyz
        .column("version")
        .and_then(|c| c.str().cloned())
        .context("telemetry_components version")?
        .iter()
        .map(|v| v.and_then(checkin::major_minor))
        .collect();
    xyz.with_column(major_minor.with_name("major_minor".into()).into_column()).context("major_minor")?;
    let xyz = xyz.lazy();
    let xy = xyz
        .clone()
        .filter(col("major_minor").is_not_null())
        .group_by([col("date"), col("name"), col("major_minor")])
        .agg([col("systems").sum()])
        .select([col("date"), col("name"), lit("xy").alias("granularity"), col("major_minor").alias("version"), col("systems")]);
    let xyz = xyz.select([col("date"), col("name"), lit("xyz").alias("granularity"), col("version"), col("systems")]);
    let df = concat([xy, xyz], UnionArgs::default())
        .and_then(|lf| lf.rename(["name"], ["component"], true).collect())
        .context("compute telemetry_versions_daily")?;
    Ok(Some(df))
}
