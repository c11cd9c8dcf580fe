//! `telemetry_age_daily`: per day, how many systems (all of them) are how many days old.

use chrono::NaiveDate;
use polars::prelude::*;

use super::{telemetry, Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::telemetry::TELEMETRY_CHECKINS;
use crate::warehouse::{columns, TableDef, TableKind};

pub static TELEMETRY_AGE_DAILY: TableDef = TableDef {
    name: "telemetry_age_daily",
    dir: "telemetry_age_daily",
    kind: TableKind::Summary,
    doc: "Per day: the age histogram of all systems that checked in.",
    columns: columns![
        "age_days" "BIGINT" "days since the system was first seen",
        "systems" "BIGINT" "systems of that age that checked in that day",
    ],
};

pub(super) struct TelemetryAgeDaily;

impl Summary for TelemetryAgeDaily {
    fn table(&self) -> &'static TableDef {
        &TELEMETRY_AGE_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&TELEMETRY_CHECKINS];
        &INPUTS
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let Some(checkins) = telemetry::checkins(ctx, days, &[])? else { return Ok(None) };
        let df = telemetry::count_per_day(checkins, "age_days")
            .sort(["date", "age_days"], Default::default())
            .collect()
            .context("compute telemetry_age_daily")?;
        Ok(Some(df))
    }
}
