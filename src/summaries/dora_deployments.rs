//! `dora_deployments`: one row per deploy, with its lead time by the toolkit's rule: for each
//! commit the deploy names, the latest push of that repo naming it at or before the deploy;
//! the deploy's lead time is the median over its matched commits.

use std::collections::{BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::dora::{median, PUSH_LOOKBACK_DAYS};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::commits::COMMITS;
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
        "commits_known" "BIGINT" "of the named commits, those the commits source knows (same project as the repo; short and full hashes matched by prefix, at least 7 characters), authored at or before the deploy within 90 days",
        "commit_lead_time_seconds" "DOUBLE" "median over the known commits of deploy_time - authored_at (the Four Keys rule); NULL when none is known",
    ],
};

pub(super) struct DoraDeployments;

impl Summary for DoraDeployments {
    fn table(&self) -> &'static TableDef {
        &DORA_DEPLOYMENTS
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 2] = [&DEVOPS_EVENTS, &COMMITS];
        &INPUTS
    }

    /// A push or a commit counts for deploys up to the lookback later, on days that have events.
    fn affected_days(&self, _input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
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
        let history = History::read(ctx, &span)?;
        let from_commits: Vec<(usize, Option<f64>)> = deploys.iter().map(|d| history.lead_time(&d.repo, d.time, &d.commits)).collect();
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
            Column::new("commits_known".into(), from_commits.iter().map(|(m, _)| *m as i64).collect::<Vec<_>>()),
            Column::new("commit_lead_time_seconds".into(), from_commits.iter().map(|(_, l)| *l).collect::<Vec<_>>()),
        ])
        .context("dora_deployments rows")?;
        Ok(Some(df))
    }
}

/// The earliest push or commit time a deploy at `time` looks at: the start of the day
/// `PUSH_LOOKBACK_DAYS` before its day. The same bound for every deploy of a day, whichever days
/// were computed with it.
fn lookback_start(time: i64) -> i64 {
    (time.div_euclid(MICROS_PER_DAY) - PUSH_LOOKBACK_DAYS) * MICROS_PER_DAY
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
        at_or_before.checked_sub(1).map(|i| times[i]).filter(|t| *t >= lookback_start(time))
    }

    /// How many of a deploy's commits matched a push, and the median lead time over them in seconds.
    fn lead_time(&self, repo: &str, deploy_time: i64, commits: &[String]) -> (usize, Option<f64>) {
        let mut seconds: Vec<f64> =
            commits.iter().filter_map(|c| self.latest(repo, c, deploy_time)).map(|push| (deploy_time - push) as f64 / 1e6).collect();
        (seconds.len(), median(&mut seconds))
    }
}

/// Authored times of the commits the `commits` source knows, by project, sorted by hash.
#[derive(Default)]
struct History(HashMap<String, Vec<(String, i64)>>);

/// Shortest hash prefix matched against a longer one.
const MIN_PREFIX: usize = 7;

impl History {
    fn read(ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<History> {
        let mut out = History::default();
        let Some(df) = ctx.warehouse.read_days(&COMMITS, days, Some(&["project", "hash", "authored_at"]))? else { return Ok(out) };
        let project = df.column("project").and_then(|c| c.str().cloned()).context("commits project")?;
        let hash = df.column("hash").and_then(|c| c.str().cloned()).context("commits hash")?;
        let authored = df.column("authored_at").and_then(|c| c.datetime().cloned()).context("commits authored_at")?;
        for ((p, h), t) in project.iter().zip(hash.iter()).zip(authored.physical().iter()) {
            if let (Some(p), Some(h), Some(t)) = (p, h, t) {
                out.0.entry(p.to_string()).or_default().push((h.to_string(), t));
            }
        }
        out.0.values_mut().for_each(|v| v.sort());
        Ok(out)
    }

    /// When `commit` of `project` was authored: the known commit whose hash it is a prefix of,
    /// or which is a prefix of it; `None` when none or two different commits match.
    fn authored(&self, project: &str, commit: &str) -> Option<i64> {
        let commits = self.0.get(project)?;
        let commit = commit.to_ascii_lowercase();
        let mut found: Vec<&(String, i64)> = Vec::new();
        // Known hashes that start with the commit (the commit is short)...
        if commit.len() >= MIN_PREFIX {
            let from = commits.partition_point(|(h, _)| h.as_str() < commit.as_str());
            found.extend(commits[from..].iter().take_while(|(h, _)| h.starts_with(&commit)));
        }
        // ...and known short hashes the commit starts with.
        for len in MIN_PREFIX..commit.len() {
            if let Ok(i) = commits.binary_search_by(|(h, _)| h.as_str().cmp(&commit[..len])) {
                found.push(&commits[i]);
            }
        }
        // The same commit may be known by a short and a full hash; two different ones are ambiguous.
        let (longest, t) = found.iter().max_by_key(|(h, _)| h.len())?;
        found.iter().all(|(h, _)| longest.starts_with(h.as_str())).then_some(*t)
    }

    /// How many of a deploy's commits are known, and the median of deploy time - authored time.
    fn lead_time(&self, repo: &str, deploy_time: i64, commits: &[String]) -> (usize, Option<f64>) {
        let earliest = lookback_start(deploy_time);
        let mut seconds: Vec<f64> = commits
            .iter()
            .filter_map(|c| self.authored(repo, c))
            .filter(|t| (earliest..=deploy_time).contains(t))
            .map(|t| (deploy_time - t) as f64 / 1e6)
            .collect();
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
    fn commits_match_short_and_full_hashes_by_prefix() {
        let mut history = History::default();
        let full = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d";
        history.0.insert(
            "api".into(),
            vec![(full.into(), t("2024-01-01 00:00:00")), ("ffff0000".into(), t("2024-01-02 00:00:00")), ("ffff0001".into(), 0)],
        );
        history.0.values_mut().for_each(|v| v.sort());
        let deploy = t("2024-01-03 00:00:00");
        // A deploy naming the 8-character short hash finds the full one, and the other way round.
        assert_eq!(history.authored("api", "1a2b3c4d"), Some(t("2024-01-01 00:00:00")));
        assert_eq!(history.authored("api", "ffff0000aaaabbbbccccddddeeeeffff00001111"), Some(t("2024-01-02 00:00:00")));
        // Known by its short and its full hash: one commit.
        history.0.get_mut("api").unwrap().push(("1a2b3c4d".into(), t("2024-01-01 00:00:00")));
        history.0.values_mut().for_each(|v| v.sort());
        assert_eq!(history.authored("api", "1a2b3c4d5e6f"), Some(t("2024-01-01 00:00:00")));
        // Too short to trust, ambiguous, another project: not known.
        assert_eq!(history.authored("api", "1a2b3c"), None);
        assert_eq!(history.authored("api", "ffff000"), None);
        assert_eq!(history.authored("web", "1a2b3c4d"), None);
        let commits = ["1a2b3c4d".to_string(), "ffff0000".into(), "unknown1".into()];
        assert_eq!(history.lead_time("api", deploy, &commits), (2, Some(1.5 * 86_400.0)));
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
