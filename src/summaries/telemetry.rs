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
    let columns: &[&str] = &["name", "version", "age_days"];
    Ok(ctx.warehouse.read_days(&TELEMETRY_COMPONENTS, days, Some(columns))?.map(DataFrame::lazy))
}

/// Keep the rows (check-ins or components) of persistent systems.
pub(super) fn persistent(rows: LazyFrame, ctx: &SummaryContext<'_>) -> LazyFrame {
    rows.filter(col("age_days").gt_eq(lit(ctx.settings.deployment.persistent_age())))
}

/// Count rows per `date` and value of the integer column `by`: columns `date`, `by`, `systems`.
///
/// Grouped by two columns, polars encodes every row's keys as bytes and compares those; the day
/// and the value folded into one integer group about twice as fast. `by` holds no NULLs and
/// values in [0, 2^32): ages, and counts and versions sent as protobuf `uint32`.
pub(super) fn count_per_day(rows: LazyFrame, by: &str) -> LazyFrame {
    let key = col("date").cast(DataType::Int64) * lit(1i64 << 32) + col(by).cast(DataType::Int64);
    rows.group_by([key.alias("day_and_value")])
        .agg([col("date").first(), col(by).first(), len().cast(DataType::Int64).alias("systems")])
        .select([col("date"), col(by), col("systems")])
}

/// A frame with one row per day: the `date` column alone.
pub(super) fn all_days(days: &[NaiveDate]) -> LazyFrame {
    let dates = Int32Chunked::from_vec("date".into(), days.iter().map(|d| date_to_days(*d)).collect()).into_date().into_column();
    DataFrame::new_infer_height(vec![dates]).expect("one column").lazy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_per_day_keeps_days_and_extreme_values_apart() {
        // Day 1 with value u32::MAX sits next to day 2 with value 0 once folded: they must not meet.
        let max = i64::from(u32::MAX);
        let days = [1, 1, 1, 2, 2, 2, 2];
        let values = [max, max, 0, 0, 0, max, 7];
        let rows = DataFrame::new_infer_height(vec![
            Int32Chunked::from_vec("date".into(), days.to_vec()).into_date().into_column(),
            Column::new("v".into(), values.to_vec()),
        ])
        .unwrap();
        let counted = count_per_day(rows.lazy(), "v").sort(["date", "v"], Default::default()).collect().unwrap();
        let got: Vec<(i32, i64, i64)> = counted
            .column("date")
            .unwrap()
            .date()
            .unwrap()
            .physical()
            .into_no_null_iter()
            .zip(counted.column("v").unwrap().i64().unwrap().into_no_null_iter())
            .zip(counted.column("systems").unwrap().i64().unwrap().into_no_null_iter())
            .map(|((d, v), n)| (d, v, n))
            .collect();
        assert_eq!(got, vec![(1, 0, 1), (1, max, 2), (2, 0, 2), (2, 7, 1), (2, max, 1)]);
    }
}
