//! `telemetry_postgresql_daily`: per day, over persistent systems, how many run each
//! PostgreSQL version, with its display string (an unset version counts as 0, "Unknown").

use chrono::NaiveDate;
use polars::prelude::*;

use super::{telemetry, Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::telemetry::checkin::postgresql_display;
use crate::sources::telemetry::TELEMETRY_CHECKINS;
use crate::warehouse::{columns, TableDef, TableKind};

pub static TELEMETRY_POSTGRESQL_DAILY: TableDef = TableDef {
    name: "telemetry_postgresql_daily",
    dir: "telemetry_postgresql_daily",
    kind: TableKind::Summary,
    doc: "Per day, over persistent systems: systems per PostgreSQL server_version_num.",
    columns: columns![
        "postgresql_version" "BIGINT" "server_version_num; 0 when the check-in did not say",
        "display" "VARCHAR" "as people read it: 15.4, 9.6.24, or Unknown",
        "systems" "BIGINT" "persistent systems running it",
    ],
};

pub(super) struct TelemetryPostgresqlDaily;

impl Summary for TelemetryPostgresqlDaily {
    fn table(&self) -> &'static TableDef {
        &TELEMETRY_POSTGRESQL_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&TELEMETRY_CHECKINS];
        &INPUTS
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let Some(checkins) = telemetry::checkins(ctx, days, &["postgresql_version"])? else { return Ok(None) };
        let persistent = telemetry::persistent(checkins, ctx).with_column(col("postgresql_version").fill_null(lit(0i64)));
        let mut df = telemetry::count_per_day(persistent, "postgresql_version")
            .sort(["date", "postgresql_version"], Default::default())
            .collect()
            .context("compute telemetry_postgresql_daily")?;
        let display: Vec<String> = df
            .column("postgresql_version")
            .and_then(|c| c.i64().cloned())
            .context("postgresql_version")?
            .iter()
            .map(|v| postgresql_display(v.unwrap_or(0).clamp(0, u32::MAX as i64) as u32))
            .collect();
        df.insert_column(2, Column::new("display".into(), display)).context("display")?;
        Ok(Some(df))
    }
}
