//! `perf_tests`: one row per commit and test, the resource and trace figures joined (either side
//! may be missing). Where a test appears more than once on one side for a commit, the first
//! message in landing order counts.

use chrono::NaiveDate;
use polars::prelude::*;

use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::perf::PERF_SAMPLES;
use crate::warehouse::{columns, TableDef, TableKind};

pub static PERF_TESTS: TableDef = TableDef {
    name: "perf_tests",
    dir: "perf_tests",
    kind: TableKind::Summary,
    doc: "One row per commit and test: resource and trace figures joined; partitioned by the day the commit's first message landed.",
    columns: columns![
        "git_commit" "VARCHAR" "short commit hash",
        "test_name" "VARCHAR" "test",
        "execution_time_s" "DOUBLE" "execution time in seconds (NULL without a resource figure)",
        "memory_rss_bytes" "BIGINT" "process RSS after the test (NULL without a resource figure)",
        "function_calls" "BIGINT" "function calls (NULL without a trace figure)",
        "statements_executed" "BIGINT" "statements executed (NULL without a trace figure)",
        "iterations" "BIGINT" "loop iterations (NULL without a trace figure)",
        "condition_encoding" "BIGINT" "condition encoding value (NULL without a trace figure)",
        "passed" "BOOLEAN" "trace result 0; NULL without a trace figure",
        "commit_seq" "BIGINT" "the commit's place in landing order",
    ],
};

pub(super) struct PerfTests;

impl Summary for PerfTests {
    fn table(&self) -> &'static TableDef {
        &PERF_TESTS
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&PERF_SAMPLES];
        &INPUTS
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let Some(samples) = ctx.warehouse.read_days(&PERF_SAMPLES, days, None)? else { return Ok(None) };
        let samples = samples.lazy().sort(["message_seq"], SortMultipleOptions::default().with_maintain_order(true));
        let keys = [col("date"), col("git_commit"), col("test_name")];
        let side = |kind: &str, figures: &[&str]| {
            let mut agg: Vec<Expr> = figures.iter().map(|f| col(*f).first()).collect();
            agg.push(col("commit_seq").first());
            samples.clone().filter(col("kind").eq(lit(kind))).group_by_stable(keys.clone()).agg(agg)
        };
        let resource = side("resource", &["execution_time_s", "memory_rss_bytes"]);
        let trace = side("trace", &["function_calls", "statements_executed", "iterations", "condition_encoding", "result"]);
        let df = resource
            .join(trace, keys.clone(), keys.clone(), JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns))
            .select([
                col("date"),
                col("git_commit"),
                col("test_name"),
                col("execution_time_s"),
                col("memory_rss_bytes"),
                col("function_calls"),
                col("statements_executed"),
                col("iterations"),
                col("condition_encoding"),
                col("result").eq(lit(0i64)).alias("passed"),
                col("commit_seq").fill_null(col("commit_seq_right")).alias("commit_seq"),
            ])
            .sort(["date", "commit_seq", "test_name"], Default::default())
            .collect()
            .context("compute perf_tests")?;
        Ok(Some(df))
    }
}
