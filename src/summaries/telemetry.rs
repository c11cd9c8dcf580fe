//! What the telemetry summaries share: the check-ins of some days, and which systems count as
//! persistent (age at least 1 day in production, 0 in development).

use chrono::NaiveDate;
use polars::prelude::*;

use super::SummaryContext;
use crate::error::Result;
use crate::sources::telemetry::{TELEMETRY_CHECKINS, TELEMETRY_COMPONENTS};
use crate::timestamp::date_to_days;

/// The check-ins of `days` (`age_days` and the given columns), or `None` when there are none.
pub(super) fn checkins(ctx: &SummaryContext<'_>, days: &[NaiveDate], columns: &[&str]) -> Result<Option<LazyFrame>> {
    let columns: Vec<&str> = ["age_days"].into_iter().chain(columns.iter().copied()).collect();
    Ok(ctx.warehouse.read_days(&TELEMETRY_CHECKINS, days, Some(&columns))?.map(DataFrame::lazy))
}

/// The components of `days` (what the version counts need), or `None` when there are none.
pub(super) fn components(ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<LazyFrame>> {
    let columns: &[&str] = &["name", "version", "major_minor", "age_days"];
    Ok(ctx.warehouse.read_days(&TELEMETRY_COMPONENTS, days, Some(columns))?.map(DataFrame::lazy))
}

/// Keep the rows (check-ins or components) of persistent systems.
pub(super) fn persistent(rows: LazyFrame, ctx: &SummaryContext<'_>) -> LazyFrame {
    rows.filter(col("age_days").gt_eq(lit(ctx.settings.deployment.persistent_age())))
}

/// A frame with one row per day: the `date` column alone.
pub(super) fn all_days(days: &[NaiveDate]) -> LazyFrame {
    let dates = Int32Chunked::from_vec("date".into(), days.iter().map(|d| date_to_days(*d)).collect()).into_date().into_column();
    DataFrame::new_infer_height(vec![dates]).expect("one column").lazy()
}
