//! `telemetry_rbac_daily`: per day, over persistent systems that sent RBAC stats, a histogram
//! of each metric (users, groups, domains, custom access policies, custom roles).

use chrono::NaiveDate;
use polars::prelude::*;

use super::{telemetry, Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::telemetry::TELEMETRY_CHECKINS;
use crate::warehouse::{columns, TableDef, TableKind};

pub static TELEMETRY_RBAC_DAILY: TableDef = TableDef {
    name: "telemetry_rbac_daily",
    dir: "telemetry_rbac_daily",
    kind: TableKind::Summary,
    doc: "Per day and RBAC metric, over persistent systems with rbac_stats: how many systems have each value.",
    columns: columns![
        "metric" "VARCHAR" "users, groups, domains, custom_access_policies or custom_roles",
        "value" "BIGINT" "the number the systems reported (an unset field counts 0)",
        "systems" "BIGINT" "persistent systems reporting that value",
    ],
};

const METRICS: [&str; 5] = ["users", "groups", "domains", "custom_access_policies", "custom_roles"];

pub(super) struct TelemetryRbacDaily;

impl Summary for TelemetryRbacDaily {
    fn table(&self) -> &'static TableDef {
        &TELEMETRY_RBAC_DAILY
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&TELEMETRY_CHECKINS];
        &INPUTS
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let Some(checkins) = telemetry::checkins(
            ctx,
            days,
            &["rbac_users", "rbac_groups", "rbac_domains", "rbac_custom_access_policies", "rbac_custom_roles"],
        )?
        else {
            return Ok(None);
        };
        // A check-in without rbac_stats has NULL in every rbac column and is left out.
        let with_stats = telemetry::persistent(checkins, ctx).filter(col("rbac_users").is_not_null());
        let histograms: Vec<LazyFrame> = METRICS
            .iter()
            .map(|m| {
                let column = format!("rbac_{m}");
                telemetry::count_per_day(with_stats.clone(), &column).select([
                    col("date"),
                    lit(*m).alias("metric"),
                    col(&column).alias("value"),
                    col("systems"),
                ])
            })
            .collect();
        let df = concat(histograms, UnionArgs::default())
            .and_then(|lf| lf.sort(["date", "metric", "value"], Default::default()).collect())
            .context("compute telemetry_rbac_daily")?;
        Ok(Some(df))
    }
}
