//! `pipeline_daily`: per day, project and default branch, the dashboard's PERCENTILE_CONT
//! percentiles of time to e2e and of e2e time, plus duration percentiles and restart rate.

use chrono::NaiveDate;
use polars::prelude::*;

use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::pipelines::PIPELINES;
use crate::warehouse::{columns, TableDef, TableKind};

/// The summary table.
pub static PIPELINE_DAILY: TableDef = TableDef {
    name: "pipeline_daily",
    dir: "pipeline_daily",
    kind: TableKind::Summary,
    doc: "Per UTC day, project and default_branch: pipeline count and PERCENTILE_CONT (linear) percentiles.",
    columns: columns![
        "project" "VARCHAR" "project path",
        "default_branch" "BOOLEAN" "ref IN ('master', 'main')",
        "pipelines" "BIGINT" "pipelines created that day",
        "to_e2e_p50" "DOUBLE" "median of duration - duration_e2e (pipeline start to e2e start), seconds",
        "to_e2e_p80" "DOUBLE" "80th percentile of duration - duration_e2e",
        "to_e2e_p95" "DOUBLE" "95th percentile of duration - duration_e2e",
        "e2e_p50" "DOUBLE" "median of duration_e2e over pipelines without restarts; NULL when none",
        "e2e_p80" "DOUBLE" "80th percentile of duration_e2e without restarts",
        "e2e_p95" "DOUBLE" "95th percentile of duration_e2e without restarts",
        "duration_p50" "DOUBLE" "median of duration",
        "duration_p80" "DOUBLE" "80th percentile of duration",
        "duration_p95" "DOUBLE" "95th percentile of duration",
        "restart_rate" "DOUBLE" "share of pipelines with has_restarts",
    ],
};

/// The percentiles the original dashboard shows.
pub const PERCENTILES: [(f64, &str); 3] = [(0.5, "p50"), (0.8, "p80"), (0.95, "p95")];

pub(super) struct PipelineDaily;

/// PERCENTILE_CONT: linear interpolation between the values at the two ranks around
/// `(n - 1) * p`, bit for bit as DuckDB's `quantile_cont` computes it: `lo * (1 - d) + hi * d`.
///
/// Polars picks the two values (its `Lower` and `Higher` methods); the interpolation is spelled
/// out because polars' own `Linear` rounds as `lo + d * (hi - lo)` (PostgreSQL's spelling), which
/// differs from DuckDB in the last bit for some inputs.
pub fn percentile_cont(e: Expr, p: f64) -> Expr {
    let e = e.cast(DataType::Float64);
    let rank = (e.clone().count().cast(DataType::Float64) - lit(1.0)) * lit(p);
    let d = rank.clone() - rank.floor();
    let lo = e.clone().quantile(lit(p), QuantileMethod::Lower);
    let hi = e.quantile(lit(p), QuantileMethod::Higher);
    lo * (lit(1.0) - d.clone()) + hi * d
}

fn percentiles(e: Expr, prefix: &str) -> Vec<Expr> {
    PERCENTILES.iter().map(|(p, suffix)| percentile_cont(e.clone(), *p).alias(format!("{prefix}_{suffix}"))).collect()
}

impl Summary for PipelineDaily {
    fn table(&self) -> &'static TableDef {
        &PIPELINE_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&PIPELINES];
        &INPUTS
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let Some(pipelines) =
            ctx.warehouse.read_days(&PIPELINES, days, Some(&["project", "default_branch", "duration", "duration_e2e", "has_restarts"]))?
        else {
            return Ok(None);
        };
        let mut aggs = vec![len().cast(DataType::Int64).alias("pipelines")];
        aggs.extend(percentiles(col("duration") - col("duration_e2e"), "to_e2e"));
        aggs.extend(percentiles(col("duration_e2e").filter(col("has_restarts").not()), "e2e"));
        aggs.extend(percentiles(col("duration"), "duration"));
        aggs.push(col("has_restarts").cast(DataType::Float64).mean().alias("restart_rate"));
        let df = pipelines
            .lazy()
            .group_by([col("date"), col("project"), col("default_branch")])
            .agg(aggs)
            .sort(["date", "project", "default_branch"], Default::default())
            .collect()
            .context("compute pipeline_daily")?;
        Ok(Some(df))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantile(values: &[i64], p: f64) -> Option<f64> {
        let df = df!["x" => values].unwrap();
        let out = df.lazy().select([percentile_cont(col("x"), p)]).collect().unwrap();
        out.column("x").unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().get(0)
    }

    #[test]
    fn percentile_cont_interpolates_linearly() {
        // PostgreSQL: percentile_cont(0.5) of 1,2,3,4 is 2.5; of 10,20,30,40,50 at 0.8 is 42.
        assert_eq!(quantile(&[4, 1, 3, 2], 0.5), Some(2.5));
        assert_eq!(quantile(&[10, 20, 30, 40, 50], 0.8), Some(42.0));
        // 0.95 of 1..=10: rank (10 - 1) * 0.95 between 9 and 10, in double precision.
        let d = 9.0f64 * 0.95 - 8.0;
        assert_eq!(quantile(&(1..=10).collect::<Vec<_>>(), 0.95), Some(9.0 * (1.0 - d) + 10.0 * d));
        assert_eq!(quantile(&[7], 0.95), Some(7.0));
    }

    #[test]
    fn percentile_rounds_like_duckdb_not_like_postgres() {
        // Found against DuckDB's quantile_cont: 909 and 1711 at 0.8. PostgreSQL's spelling
        // 909 + 0.8 * 802 gives 1550.6; DuckDB's 909 * 0.2 + 1711 * 0.8 gives 1550.6000000000001.
        assert_eq!(quantile(&[909, 1711], 0.8), Some(909.0 * (1.0 - 0.8) + 1711.0 * 0.8));
        assert_ne!(909.0 * (1.0 - 0.8) + 1711.0 * 0.8, 909.0 + 0.8 * (1711.0 - 909.0));
    }

    #[test]
    fn percentile_ignores_nulls() {
        let df = df!["x" => [Some(1i64), None, Some(3)]].unwrap();
        let out = df.lazy().select([percentile_cont(col("x"), 0.5)]).collect().unwrap();
        assert_eq!(out.column("x").unwrap().f64().unwrap().get(0), Some(2.0));
    }

    #[test]
    fn percentile_of_no_rows_is_null() {
        assert_eq!(quantile(&[], 0.5), None);
    }
}
