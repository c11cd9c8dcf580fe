//! The DORA rules `dora_deployments` and `dora_daily` share, as the DevOps toolkit defines them
//! (FORMATS.md §3), plus the DORA 2023 performance classes users compare with.
//!
//! Medians follow pandas (and DuckDB's `median`): the mean of the two middle values for an even
//! count, so a median can end in .5.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The toolkit's `DEPLOYMENT_FREQ_TIMEFRAME_DAY`: deploy frequency looks back this many days.
pub const FREQUENCY_WINDOW_DAYS: i64 = 30;
/// Lead-time medians in `dora_daily` cover the deploys of this many days ending that day.
pub const LEAD_TIME_WINDOW_DAYS: i64 = 30;
/// How far before a deploy its commits' pushes are looked for.
pub const PUSH_LOOKBACK_DAYS: i64 = 90;

const DAY_SECONDS: f64 = 86_400.0;

/// The median of `values` (pandas' convention), `None` when there are none.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

/// The Monday starting the week of `day`.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(day.weekday().num_days_from_monday() as i64)
}

/// For each Monday–Sunday week from the week of `start` to the week of `end`, how many
/// weekdays (Monday to Friday) had a deploy. Weeks without deploys count 0; a deploy day
/// outside those weeks is not looked at.
pub fn weekly_deploy_days(deploy_days: &BTreeSet<NaiveDate>, start: NaiveDate, end: NaiveDate) -> Vec<u32> {
    let first = monday_of(start);
    let weeks = (monday_of(end) - first).num_days() / 7 + 1;
    let mut counts = vec![0u32; weeks.max(0) as usize];
    for day in deploy_days.range(first..first + Duration::days(7 * weeks)) {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            counts[((*day - first).num_days() / 7) as usize] += 1;
        }
    }
    counts
}

/// The toolkit's deployment frequency: the median weekly count of weekdays with a deploy, over
/// the weeks from `start` to `end`.
pub fn deploy_frequency(deploy_days: &BTreeSet<NaiveDate>, start: NaiveDate, end: NaiveDate) -> f64 {
    let mut weekly: Vec<f64> = weekly_deploy_days(deploy_days, start, end).into_iter().map(f64::from).collect();
    median(&mut weekly).unwrap_or(0.0)
}

/// DORA 2023 class for deployment frequency (as Apache DevLake buckets it): elite on 5 or more
/// deploy days a week, high on at least one a week, medium on at least one a month.
pub fn deploy_frequency_class(weekly_deploy_days: f64, deploy_days_in_30_days: u32) -> &'static str {
    if weekly_deploy_days >= 5.0 {
        "elite"
    } else if weekly_deploy_days >= 1.0 {
        "high"
    } else if deploy_days_in_30_days >= 1 {
        "medium"
    } else {
        "low"
    }
}

/// DORA 2023 class for lead time for changes: elite under a day, high under a week, medium
/// under 30 days, else low.
pub fn lead_time_class(seconds: f64) -> &'static str {
    if seconds < DAY_SECONDS {
        "elite"
    } else if seconds < 7.0 * DAY_SECONDS {
        "high"
    } else if seconds < 30.0 * DAY_SECONDS {
        "medium"
    } else {
        "low"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The toolkit's own test data (DORADeployFrequencyCalculator's tests): deploy counts per day.
    fn toolkit_days() -> BTreeSet<NaiveDate> {
        ["2023-12-12", "2023-12-18", "2023-12-19", "2023-12-25", "2023-12-27", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
            .into_iter()
            .map(d)
            .collect()
    }

    #[test]
    fn toolkit_weekly_counts_and_median_zero() {
        let (start, end) = (d("2023-12-01"), d("2024-02-03"));
        assert_eq!(weekly_deploy_days(&toolkit_days(), start, end), vec![0, 0, 1, 2, 2, 4, 0, 0, 0, 0]);
        assert_eq!(deploy_frequency(&toolkit_days(), start, end), 0.0);
    }

    #[test]
    fn toolkit_median_two() {
        assert_eq!(weekly_deploy_days(&toolkit_days(), d("2023-12-12"), d("2024-01-04")), vec![1, 2, 2, 4]);
        assert_eq!(deploy_frequency(&toolkit_days(), d("2023-12-12"), d("2024-01-04")), 2.0);
    }

    #[test]
    fn median_of_an_even_count_can_end_in_a_half() {
        // Weeks of 2024-01-01 and 2024-01-08: 3 and 2 weekdays with a deploy; Saturday does not count.
        let days: BTreeSet<NaiveDate> = ["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06", "2024-01-09", "2024-01-10"].map(d).into();
        assert_eq!(weekly_deploy_days(&days, d("2024-01-03"), d("2024-01-14")), vec![3, 2]);
        assert_eq!(deploy_frequency(&days, d("2024-01-03"), d("2024-01-14")), 2.5);
        assert_eq!(median(&mut [1.0, 2.0]), Some(1.5));
        assert_eq!(median(&mut [7.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn weeks_run_monday_to_sunday() {
        assert_eq!(monday_of(d("2024-01-07")), d("2024-01-01")); // a Sunday
        assert_eq!(monday_of(d("2024-01-08")), d("2024-01-08"));
        // Sunday's deploy is outside the weekdays; Monday's starts a new week.
        let days: BTreeSet<NaiveDate> = ["2024-01-07", "2024-01-08"].map(d).into();
        assert_eq!(weekly_deploy_days(&days, d("2024-01-07"), d("2024-01-08")), vec![0, 1]);
    }

    #[test]
    fn dora_2023_classes() {
        assert_eq!(deploy_frequency_class(5.0, 22), "elite");
        assert_eq!(deploy_frequency_class(1.0, 5), "high");
        assert_eq!(deploy_frequency_class(0.5, 3), "medium");
        assert_eq!(deploy_frequency_class(0.0, 0), "low");
        assert_eq!(lead_time_class(3600.0), "elite");
        assert_eq!(lead_time_class(DAY_SECONDS), "high");
        assert_eq!(lead_time_class(7.0 * DAY_SECONDS), "medium");
        assert_eq!(lead_time_class(30.0 * DAY_SECONDS), "low");
    }
}
