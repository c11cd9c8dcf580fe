//! `dora_deployments`: one row per deploy, with its lead time by the toolkit's rule: for each
//! commit the deploy names, the latest push of that repo naming it at or before the deploy;
//! the deploy's lead time is the median over its matched commits.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::dora::{median, PUSH_LOOKBACK_DAYS};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::devops_events::DEVOPS_EVENTS;
use crate::timestamp::{date_of_micros, date_to_days, MICROS_PER_DAY};
use crate::warehouse::{columns, Manifest, TableDef, TableKind};

pub static DORA_DEPLOYMENTS: TableDef = TableDef {
    name: "dora_deployments",
    dir: "dora_deployments",
    kind: TableKind::Summary,
    doc: "One row per deploy event, partitioned by the UTC day of deploy_time, with its lead time for changes.",
    columns: columns![
        "repo" "VARCHAR" "repository (ALL as sent)",
        "deploy_time" "TIMESTAMP" "when the deploy happened, UTC",
        "commits" "BIGINT" "commit ids the deploy's metadata names (0 when none or not JSON)",
        "commits_matched" "BIGINT" "of those, commits with a push of the same repo at or before the deploy (within 90 days)",
        "lead_time_seconds" "DOUBLE" "median over the matched commits of deploy_time - time of the latest such push; NULL when none matched",
        "commit_lead_time_seconds" "DOUBLE" "median of deploy_time - the commit's authored time (Four Keys); NULL until the commits source knows the commits",
    ],
};

pub(super) struct DoraDeployments;

impl Summary for DoraDeployments {
    fn table(&self) -> &'static TableDef {
        &DORA_DEPLOYMENTS
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 1] = [&DEVOPS_EVENTS];
        &INPUTS
    }

    /// A push can be the latest one for deploys up to the lookback later, on days that have events.
    fn affected_days(&self, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        super::partition_days_within(manifest, &DEVOPS_EVENTS, days, PUSH_LOOKBACK_DAYS)
    }

    fn days_per_txn(&self) -> usize {
        // Each chunk reads the pushes of the lookback before it: fewer, longer chunks read less.
        PUSH_LOOKBACK_DAYS as usize
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else { return Ok(None) };
        let span: Vec<NaiveDate> = (*first - Duration::days(PUSH_LOOKBACK_DAYS)).iter_days().take_while(|d| d <= last).collect();
        let columns: &[&str] = &["time", "repo", "event", "commit_ids"];
        let Some(events) = ctx.warehouse.read_days(&DEVOPS_EVENTS, &span, Some(columns))? else { return Ok(None) };
        let time = events.column("time").and_then(|c| c.datetime().cloned()).context("devops_events time")?;
        let repo = events.column("repo").and_then(|c| c.str().cloned()).context("devops_events repo")?;
        let event = events.column("event").and_then(|c| c.str().cloned()).context("devops_events event")?;
        let commit_ids = events.column("commit_ids").and_then(|c| c.list().cloned()).context("devops_events commit_ids")?;

        let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
        let mut pushes = Pushes::default();
        let mut deploys: Vec<Deploy> = Vec::new();
        for (((t, r), e), ids) in time.physical().iter().zip(repo.iter()).zip(event.iter()).zip(commit_ids.series_iter()) {
            let (Some(t), Some(r), Some(e)) = (t, r, e) else { continue };
            let ids: Vec<String> = match ids {
                Some(s) => s.str().context("commit ids")?.iter().flatten().map(str::to_string).collect(),
                None => Vec::new(),
            };
            match e {
                "push" => ids.into_iter().for_each(|id| pushes.add(r, id, t)),
                "deploy" if wanted.contains(&date_of_micros(t)) => deploys.push(Deploy { repo: r.to_string(), time: t, commits: ids }),
                _ => {}
            }
        }
        if deploys.is_empty() {
            return Ok(None);
        }
        pushes.sort();
        deploys.sort_by(|a, b| (a.time, &a.repo).cmp(&(b.time, &b.repo)));
        let leads: Vec<(usize, Option<f64>)> = deploys.iter().map(|d| pushes.lead_time(&d.repo, d.time, &d.commits)).collect();
        let df = DataFrame::new_infer_height(vec![
            Int32Chunked::from_iter_values("date".into(), deploys.iter().map(|d| date_to_days(date_of_micros(d.time))))
                .into_date()
                .into_column(),
            Column::new("repo".into(), deploys.iter().map(|d| d.repo.as_str()).collect::<Vec<_>>()),
            Int64Chunked::from_iter_values("deploy_time".into(), deploys.iter().map(|d| d.time))
                .into_datetime(TimeUnit::Microseconds, None)
                .into_column(),
            Column::new("commits".into(), deploys.iter().map(|d| d.commits.len() as i64).collect::<Vec<_>>()),
            Column::new("commits_matched".into(), leads.iter().map(|(m, _)| *m as i64).collect::<Vec<_>>()),
            Column::new("lead_time_seconds".into(), leads.iter().map(|(_, l)| *l).collect::<Vec<_>>()),
            Column::full_null("commit_lead_time_seconds".into(), deploys.len(), &DataType::Float64),
        ])
        .context("dora_deployments rows")?;
        Ok(Some(df))
    }
}

struct Deploy {
    repo: String,
    time: i64,
    commits: Vec<String>,
}

/// Push times (microseconds) by repo and commit.
#[derive(Default)]
struct Pushes(HashMap<String, HashMap<String, Vec<i64>>>);

impl Pushes {
    fn add(&mut self, repo: &str, commit: String, time: i64) {
        self.0.entry(repo.to_string()).or_default().entry(commit).or_default().push(time);
    }

    fn sort(&mut self) {
        self.0.values_mut().flat_map(|m| m.values_mut()).for_each(|t| t.sort_unstable());
    }

    /// The latest push of `commit` to `repo` at or before `time`, from the lookback days on.
    fn latest(&self, repo: &str, commit: &str, time: i64) -> Option<i64> {
        let times = self.0.get(repo)?.get(commit)?;
        let at_or_before = times.partition_point(|t| *t <= time);
        // The same bound for every deploy of a day, whichever days were computed with it.
        let earliest = (time.div_euclid(MICROS_PER_DAY) - PUSH_LOOKBACK_DAYS) * MICROS_PER_DAY;
        at_or_before.checked_sub(1).map(|i| times[i]).filter(|t| *t >= earliest)
    }

    /// How many of a deploy's commits matched a push, and the median lead time over them in seconds.
    fn lead_time(&self, repo: &str, deploy_time: i64, commits: &[String]) -> (usize, Option<f64>) {
        let mut seconds: Vec<f64> =
            commits.iter().filter_map(|c| self.latest(repo, c, deploy_time)).map(|push| (deploy_time - push) as f64 / 1e6).collect();
        (seconds.len(), median(&mut seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::parse_micros;

    fn t(s: &str) -> i64 {
        parse_micros(s).unwrap()
    }

    #[test]
    fn toolkit_lead_time_vector_median_two_days() {
        // The toolkit's own test: pushes of commits 100, 200, 300; a deploy naming all three.
        let mut pushes = Pushes::default();
        pushes.add("test_repo", "100".into(), t("2024-01-07 17:31:41"));
        pushes.add("test_repo", "200".into(), t("2024-01-03 17:31:41"));
        pushes.add("test_repo", "300".into(), t("2024-01-08 17:31:41"));
        pushes.sort();
        let commits = ["100", "200", "300"].map(String::from);
        assert_eq!(pushes.lead_time("test_repo", t("2024-01-09 17:31:41"), &commits), (3, Some(2.0 * 86_400.0)));
    }

    #[test]
    fn latest_push_at_or_before_the_deploy_of_the_same_repo() {
        let mut pushes = Pushes::default();
        pushes.add("api", "c1".into(), t("2024-01-01 00:00:00"));
        pushes.add("api", "c1".into(), t("2024-01-02 00:00:00"));
        pushes.add("api", "c1".into(), t("2024-01-05 00:00:00")); // after the deploy
        pushes.add("web", "c2".into(), t("2024-01-01 00:00:00")); // another repo
        pushes.sort();
        let deploy = t("2024-01-03 00:00:00");
        assert_eq!(pushes.lead_time("api", deploy, &["c1".into()]), (1, Some(86_400.0)));
        assert_eq!(pushes.lead_time("api", deploy, &["c2".into(), "nope".into()]), (0, None));
        // Pushes before the lookback are not looked at, whatever else was read.
        pushes.add("api", "old".into(), t("2023-10-04 23:59:59"));
        pushes.add("api", "edge".into(), t("2023-10-05 00:00:00"));
        pushes.sort();
        assert_eq!(pushes.lead_time("api", deploy, &["old".into()]), (0, None));
        assert_eq!(pushes.lead_time("api", deploy, &["edge".into()]).0, 1);
        // Two matched commits: the median ends in .5 of their lead times.
        pushes.add("api", "c3".into(), t("2024-01-02 23:59:59"));
        pushes.sort();
        assert_eq!(pushes.lead_time("api", deploy, &["c1".into(), "c3".into()]), (2, Some((86_400.0 + 1.0) / 2.0)));
    }
}
