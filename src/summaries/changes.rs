//! `changes`: one row per `repo, sha` of the commits pushes listed and the merge commits of
//! merged pull/merge requests, with when it was committed, first pushed and merged.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use super::webhook_facts::{self, days_in_reach, span};
use super::{Summary, SummaryContext};
use crate::error::{PolarsContext, Result};
use crate::sources::devops_events::DEVOPS_EVENTS;
use crate::sources::webhooks::CHANGE_EVENTS;
use crate::timestamp::{date_of_micros, date_to_days};
use crate::warehouse::{columns, timestamp_column, Manifest, TableDef, TableKind};

/// How far back an earlier push of the same sha is looked for (a sha pushed again later is no
/// new change); a sha pushed again after longer gets a row on that day too.
pub const CHANGE_HISTORY_DAYS: i64 = 90;
/// How long after its first push a sha's merge is looked for.
pub const MERGE_REACH_DAYS: i64 = 30;

pub static CHANGES: TableDef = TableDef {
    name: "changes",
    dir: "changes",
    kind: TableKind::Summary,
    doc: "One row per repo, sha: the commits pushes listed (GitHub, GitLab, DevOps toolkit pushes) and the merge commits of merged pull/merge requests; partitioned by the UTC day it was first pushed, else merged.",
    columns: columns![
        "repo" "VARCHAR" "owner/name (GitLab's path_with_namespace)",
        "sha" "VARCHAR" "the commit, lower case",
        "committed_at" "TIMESTAMP" "the commit's timestamp (the committer's offset applied), UTC; NULL for toolkit pushes and merge commits no push listed",
        "pushed_at" "TIMESTAMP" "the first push listing it, UTC",
        "merged_at" "TIMESTAMP" "when the pull/merge request whose merge commit it is was merged, UTC",
        "source" "VARCHAR" "github, gitlab or devops_events: who first reported it",
        "message" "VARCHAR" "the first line of its commit message",
    ],
};

pub(super) struct Changes;

impl Summary for Changes {
    fn table(&self) -> &'static TableDef {
        &CHANGES
    }

    fn inputs(&self) -> &'static [&'static TableDef] {
        static INPUTS: [&TableDef; 2] = [&CHANGE_EVENTS, &DEVOPS_EVENTS];
        &INPUTS
    }

    fn affected_days(&self, _input: &TableDef, days: &BTreeSet<NaiveDate>, manifest: &Manifest) -> BTreeSet<NaiveDate> {
        days_in_reach(manifest, &[&CHANGES, &CHANGE_EVENTS, &DEVOPS_EVENTS], days, MERGE_REACH_DAYS, CHANGE_HISTORY_DAYS)
    }

    fn days_per_txn(&self) -> usize {
        30
    }

    fn compute(&self, ctx: &SummaryContext<'_>, days: &[NaiveDate]) -> Result<Option<DataFrame>> {
        let (Some(first), Some(last)) = (days.first().copied(), days.last().copied()) else { return Ok(None) };
        let read = span(first - Duration::days(CHANGE_HISTORY_DAYS), last + Duration::days(MERGE_REACH_DAYS));
        let (pushes, merges) = webhook_facts::changes_of(&webhook_facts::read_events(ctx.warehouse, &CHANGE_EVENTS, &read)?);
        let toolkit = webhook_facts::toolkit_events(ctx.warehouse, &read)?;
        let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
        let mut sightings: Vec<Sighting<'_>> = Vec::new();
        for p in &pushes {
            for c in &p.commits {
                sightings.push(Sighting {
                    at: p.at,
                    source: &p.source,
                    repo: &p.repo,
                    sha: &c.id,
                    committed: c.at,
                    message: Some(&c.message),
                });
            }
        }
        for t in toolkit.iter().filter(|t| !t.deploy) {
            for c in &t.commits {
                sightings.push(Sighting { at: t.at, source: "devops_events", repo: &t.repo, sha: c, committed: None, message: None });
            }
        }
        // The first push names the source; any push may carry the commit's own time.
        sightings.sort_by_key(|s| (s.at, s.source, s.repo, s.sha));
        for Sighting { at, source, repo, sha, committed, message } in sightings {
            let row = rows.entry((repo.to_string(), sha.to_string())).or_insert_with(|| Row {
                source: source.to_string(),
                pushed_at: Some(at),
                ..Row::default()
            });
            row.committed_at = row.committed_at.or(committed);
            if row.message.is_none() {
                row.message = message.and_then(|m| m.lines().next()).map(str::to_string);
            }
        }
        let mut merges = merges;
        merges.sort_by(|a, b| (a.at, &a.source, &a.repo, &a.sha).cmp(&(b.at, &b.source, &b.repo, &b.sha)));
        for m in merges {
            let row = rows.entry((m.repo.clone(), m.sha.clone())).or_insert_with(|| Row { source: m.source.clone(), ..Row::default() });
            row.merged_at = row.merged_at.or(Some(m.at));
        }
        let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
        let kept: Vec<((String, String), Row)> = rows.into_iter().filter(|(_, r)| wanted.contains(&r.date())).collect();
        if kept.is_empty() {
            return Ok(None);
        }
        let time = |name: &str, f: fn(&Row) -> Option<i64>| timestamp_column(name, kept.iter().map(|(_, r)| f(r)));
        let df = DataFrame::new_infer_height(vec![
            Column::new("repo".into(), kept.iter().map(|((r, _), _)| r.as_str()).collect::<Vec<_>>()),
            Column::new("sha".into(), kept.iter().map(|((_, s), _)| s.as_str()).collect::<Vec<_>>()),
            time("committed_at", |r| r.committed_at),
            time("pushed_at", |r| r.pushed_at),
            time("merged_at", |r| r.merged_at),
            Column::new("source".into(), kept.iter().map(|(_, r)| r.source.as_str()).collect::<Vec<_>>()),
            Column::new("message".into(), kept.iter().map(|(_, r)| r.message.as_deref()).collect::<Vec<_>>()),
            Int32Chunked::from_iter_values("date".into(), kept.iter().map(|(_, r)| date_to_days(r.date()))).into_date().into_column(),
        ])
        .context("changes rows")?;
        Ok(Some(df))
    }
}

/// A push listing a commit.
struct Sighting<'a> {
    at: i64,
    source: &'a str,
    repo: &'a str,
    sha: &'a str,
    committed: Option<i64>,
    message: Option<&'a str>,
}

#[derive(Debug, Default)]
struct Row {
    source: String,
    committed_at: Option<i64>,
    pushed_at: Option<i64>,
    merged_at: Option<i64>,
    message: Option<String>,
}

impl Row {
    fn date(&self) -> NaiveDate {
        let first = match (self.pushed_at, self.merged_at) {
            (Some(p), Some(m)) => p.min(m),
            (p, m) => p.or(m).unwrap_or_default(),
        };
        date_of_micros(first)
    }
}
