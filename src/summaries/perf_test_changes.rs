//! `perf_test_changes`: for each commit and test, the change in execution time and memory
//! against the previous commit (in landing order) that ran the same test, within 30 days.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::perf_tests::PERF_TESTS;
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::perf::PERF_SAMPLES;
use crate::timestamp::date_to_days;
use crate::warehouse::{columns, Manifest, TableDef, TableKind};

/// How far back the previous run of a test is looked for.
const LOOKBACK_DAYS: i64 = 30;

pub static PERF_TEST_CHANGES: TableDef = TableDef {
    name: "perf_test_changes",
    dir: "perf_test_changes",
    kind: TableKind::Summary,
    doc: "Per commit and test that an earlier commit (landing order, within 30 days) also ran: time and memory against that run.",
    columns: columns![
        "git_commit" "VARCHAR" "short commit hash",
        "test_name" "VARCHAR" "test",
        "previous_commit" "VARCHAR" "the latest earlier commit that ran this test",
        "execution_time_s" "DOUBLE" "this commit's execution time, seconds",
        "previous_execution_time_s" "DOUBLE" "the previous commit's execution time, seconds",
        "execution_time_change_s" "DOUBLE" "execution_time_s - previous_execution_time_s (positive: slower)",
        "memory_rss_bytes" "BIGINT" "this commit's RSS after the test",
        "previous_memory_rss_bytes" "BIGINT" "the previous commit's RSS after the test",
        "memory_change_bytes" "BIGINT" "memory_rss_bytes - previous_memory_rss_bytes (positive: heavier)",
    ],
};

pub(super) struct PerfTestChanges;

impl Summary for PerfTestChanges {
    fn table(&self) -> &'static TableDef {
        &PERF_TEST_CHANGES
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&PERF_TESTS];
        &INPUTS
    }

    /// A commit is the previous run for commits up to the lookback later.
    fn affected_days(&self, _input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        super::partition_days_within(manifest, &PERF_SAMPLES, days, LOOKBACK_DAYS)
    }

    fn days_per_txn(&self) -> usize {
        LOOKBACK_DAYS as usize
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else { return Ok(None) };
        let span: Vec<NaiveDate> = (*first - Duration::days(LOOKBACK_DAYS)).iter_days().take_while(|d| d <= last).collect();
        let columns: &[&str] = &["git_commit", "test_name", "execution_time_s", "memory_rss_bytes", "commit_seq"];
        let Some(tests) = ctx.warehouse.read_days(&PERF_TESTS, &span, Some(columns))? else { return Ok(None) };
        let wanted = Series::new("wanted".into(), days.iter().map(|d| date_to_days(*d)).collect::<Vec<i32>>())
            .cast(&DataType::Date)
            .context("days")?;
        // Rows sorted by test and landing order: the previous row of the same test is its previous run.
        let previous = [
            ("git_commit", "previous_commit"),
            ("execution_time_s", "previous_execution_time_s"),
            ("memory_rss_bytes", "previous_memory_rss_bytes"),
            ("date", "previous_date"),
        ]
        .into_iter()
        .map(|(c, name)| col(c).shift(lit(1)).over([col("test_name")]).map(|e| e.alias(name)))
        .collect::<PolarsResult<Vec<Expr>>>()
        .context("perf_test_changes")?;
        let df = tests
            .lazy()
            .sort(["test_name", "commit_seq"], Default::default())
            .with_columns(previous)
            // The same bound for every row of a day, whichever days were computed with it.
            .filter(
                col("date")
                    .is_in(lit(wanted).implode(false), false)
                    .and(col("previous_commit").is_not_null())
                    .and(col("previous_date").gt_eq(col("date") - lit(Duration::days(LOOKBACK_DAYS)))),
            )
            .select([
                col("date"),
                col("git_commit"),
                col("test_name"),
                col("previous_commit"),
                col("execution_time_s"),
                col("previous_execution_time_s"),
                (col("execution_time_s") - col("previous_execution_time_s")).alias("execution_time_change_s"),
                col("memory_rss_bytes"),
                col("previous_memory_rss_bytes"),
                (col("memory_rss_bytes") - col("previous_memory_rss_bytes")).alias("memory_change_bytes"),
            ])
            .sort(["date", "git_commit", "test_name"], Default::default())
            .collect()
            .context("compute perf_test_changes")?;
        Ok(Some(df))
    }
}
