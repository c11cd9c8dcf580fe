//! `perf_commits`: per commit, its tests, passes and failures, total and average time and
//! average memory — what the original front end showed for its last commits.

use chrono::NaiveDate;
use polars::prelude::*;

use super::perf_tests::PERF_TESTS;
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::warehouse::{columns, TableDef, TableKind};

pub static PERF_COMMITS: TableDef = TableDef {
    name: "perf_commits",
    dir: "perf_commits",
    kind: TableKind::Summary,
    doc: "One row per commit: tests run, passed, failed, total and average execution time, average memory.",
    columns: columns![
        "git_commit" "VARCHAR" "short commit hash",
        "tests" "BIGINT" "tests with a figure for this commit",
        "passed" "BIGINT" "tests whose trace result was 0",
        "failed" "BIGINT" "tests whose trace result was not 0 (tests without a trace are neither)",
        "total_time_s" "DOUBLE" "sum of execution times, seconds (NULL when no test has one)",
        "avg_time_s" "DOUBLE" "average execution time per test, seconds",
        "avg_memory_bytes" "DOUBLE" "average RSS after a test, bytes",
        "commit_seq" "BIGINT" "the commit's place in landing order",
    ],
};

pub(super) struct PerfCommits;

impl Summary for PerfCommits {
    fn table(&self) -> &'static TableDef {
        &PERF_COMMITS
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&PERF_TESTS];
        &INPUTS
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let Some(tests) = ctx.warehouse.read_days(&PERF_TESTS, days, None)? else { return Ok(None) };
        let df = tests
            .lazy()
            .group_by([col("date"), col("git_commit")])
            .agg([
                len().cast(DataType::Int64).alias("tests"),
                col("passed").eq(lit(true)).sum().cast(DataType::Int64).alias("passed"),
                col("passed").eq(lit(false)).sum().cast(DataType::Int64).alias("failed"),
                // NULL, not 0, for a commit without a single time (as SQL's SUM).
                when(col("execution_time_s").count().gt(lit(0)))
                    .then(col("execution_time_s").sum())
                    .otherwise(lit(NULL).cast(DataType::Float64))
                    .alias("total_time_s"),
                col("execution_time_s").mean().alias("avg_time_s"),
                col("memory_rss_bytes").mean().alias("avg_memory_bytes"),
                col("commit_seq").first(),
            ])
            .sort(["date", "commit_seq"], Default::default())
            .collect()
            .context("compute perf_commits")?;
        Ok(Some(df))
    }
}
