//! Summary tables: one file per table, one registration in [`all`]. A summary recomputes whole
//! days from the fact tables, so a late record re-summarises exactly the days it touches.

mod changes;
mod ci_collector;
mod ci_health_daily;
mod ci_jobs;
mod ci_runs;
mod deployments;
mod dora;
mod dora_classes_daily;
mod dora_daily;
mod dora_deployments;
mod dora_keys_daily;
mod incidents;
mod perf_commits;
mod perf_test_changes;
mod perf_tests;
mod pipeline_daily;
mod telemetry;
mod telemetry_age_daily;
mod telemetry_averages_daily;
mod telemetry_postgresql_daily;
mod telemetry_rbac_daily;
mod telemetry_versions_daily;
pub mod webhook_facts;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use polars::prelude::*;

pub use changes::CHANGES;
pub use ci_health_daily::{CI_HEALTH_DAILY, CI_JOB_DAILY};
pub use ci_jobs::CI_JOBS;
pub use ci_runs::CI_RUNS;
pub use deployments::DEPLOYMENTS;
pub use dora_classes_daily::DORA_CLASSES_DAILY;
pub use dora_daily::{ALL_REPOS, DORA_DAILY};
pub use dora_deployments::DORA_DEPLOYMENTS;
pub use dora_keys_daily::DORA_KEYS_DAILY;
pub use incidents::INCIDENTS;
pub use perf_commits::PERF_COMMITS;
pub use perf_test_changes::PERF_TEST_CHANGES;
pub use perf_tests::PERF_TESTS;
pub use pipeline_daily::PIPELINE_DAILY;
pub use telemetry_age_daily::TELEMETRY_AGE_DAILY;
pub use telemetry_averages_daily::TELEMETRY_AVERAGES_DAILY;
pub use telemetry_postgresql_daily::TELEMETRY_POSTGRESQL_DAILY;
pub use telemetry_rbac_daily::TELEMETRY_RBAC_DAILY;
pub use telemetry_versions_daily::TELEMETRY_VERSIONS_DAILY;

use crate::error::{PolarsContext, Result};
use crate::settings::Settings;
use crate::timestamp::days_to_date;
use crate::warehouse::{Manifest, TableDef, Warehouse};

/// What a summary may consult: the committed warehouse and the settings.
pub struct SummaryContext<'a> {
    pub warehouse: &'a Warehouse,
    pub settings: &'a Settings,
}

/// A summary table computed from fact tables.
pub trait Summary: Send + Sync {
    /// The table it writes.
    fn table(&self) -> &'static TableDef;
    /// The tables it reads (fact tables, or summaries registered before it): new rows on a day
    /// there make summary days stale.
    fn inputs(&self) -> &'static [&'static TableDef];
    /// Summary days affected by changes of `input` (one of [`Summary::inputs`]) on `days`: the
    /// same days, unless a summary looks over a window (then the days in reach, as far as the
    /// warehouse has data; how far may depend on which input changed).
    fn affected_days(&self, _input: &TableDef, days: &BTreeSet<NaiveDate>, _manifest: &Manifest) -> BTreeSet<NaiveDate> {
        days.clone()
    }
    /// Days recomputed per transaction, which bounds memory in long backfills; summaries that
    /// read a window before their days take longer chunks, so that each window is read once.
    fn days_per_txn(&self) -> usize {
        7
    }
    /// Compute the summary for `days`: rows with a `date` column. Days without rows end with no
    /// partition.
    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>>;
}

/// Every registered summary, each after the summaries it reads.
pub fn all() -> &'static [&'static dyn Summary] {
    &[
        &pipeline_daily::PipelineDaily,
        &telemetry_age_daily::TelemetryAgeDaily,
        &telemetry_averages_daily::TelemetryAveragesDaily,
        &telemetry_versions_daily::TelemetryVersionsDaily,
        &telemetry_postgresql_daily::TelemetryPostgresqlDaily,
        &telemetry_rbac_daily::TelemetryRbacDaily,
        &dora_deployments::DoraDeployments,
        &dora_daily::DoraDaily,
        &perf_tests::PerfTests,
        &perf_commits::PerfCommits,
        &perf_test_changes::PerfTestChanges,
        &deployments::Deployments,
        &changes::Changes,
        &incidents::Incidents,
        &dora_keys_daily::DoraKeysDaily,
        &dora_classes_daily::DoraClassesDaily,
        &ci_runs::CiRuns,
        &ci_jobs::CiJobs,
        &ci_health_daily::CiHealthDaily,
        &ci_health_daily::CiJobDaily,
    ]
}

/// The summary writing table `name`.
pub fn by_table(name: &str) -> Option<&'static dyn Summary> {
    all().iter().copied().find(|s| s.table().name == name)
}

/// The partition days of `table` from each of `days` up to `reach` days later: the days whose
/// rows a window summary may have to recompute when its input changed on `days`.
pub(crate) fn partition_days_within(manifest: &Manifest, table: &TableDef, days: &BTreeSet<NaiveDate>, reach: i64) -> BTreeSet<NaiveDate> {
    let Some(partitions) = manifest.tables.get(table.name) else { return BTreeSet::new() };
    days.iter().flat_map(|d| partitions.range(*d..=*d + chrono::Duration::days(reach)).map(|(day, _)| *day)).collect()
}

/// Whether the dates of `e` are among `days`.
pub(crate) fn is_one_of_days(e: Expr, days: &[NaiveDate]) -> Expr {
    let days = Int32Chunked::from_iter_values("".into(), days.iter().map(|d| crate::timestamp::date_to_days(*d))).into_date().into_series();
    e.is_in(lit(days).implode(false), false)
}

/// Split a computed summary into one frame per day (without the `date` column).
pub fn split_by_day(df: DataFrame) -> Result<Vec<(NaiveDate, DataFrame)>> {
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    df.partition_by_stable(["date"], true)
        .context("split summary by day")?
        .into_iter()
        .map(|part| {
            let day = part.column("date").and_then(|c| c.date()).map(|d| d.physical().get(0)).context("summary date")?;
            let day = day.map(days_to_date).ok_or_else(|| crate::error::Error::bookkeeping("summary", "row without a date"))?;
            Ok((day, part.drop("date").context("drop date")?))
        })
        .collect()
}
