//! What the DORA folds read from the webhook event tables and the DevOps toolkit's events, as
//! typed values: deployment statuses, pushes, merges, incident events. Field paths are
//! FORMATS.md §6's; every time is taken with its offset, in UTC microseconds.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::Value;

use crate::error::{PolarsContext, Result};
use crate::settings::DoraSettings;
use crate::sources::devops_events::DEVOPS_EVENTS;
use crate::sources::webhooks::delivery::parse_time;
use crate::warehouse::{Manifest, TableDef, Warehouse};

/// One stored delivery.
pub struct Stored {
    pub source: String,
    pub kind: String,
    pub repo: Option<String>,
    pub at: i64,
    pub payload: Value,
}

/// The deliveries of `table` on `days` (bodies that no longer parse are passed over: they were
/// checked on the way in).
pub fn read_events(warehouse: &Warehouse, table: &TableDef, days: &[NaiveDate]) -> Result<Vec<Stored>> {
    let Some(df) = warehouse.read_days(table, days, Some(&["source", "kind", "repo", "occurred_at", "payload"]))? else {
        return Ok(Vec::new());
    };
    let source = df.column("source").and_then(|c| c.str().cloned()).context("event source")?;
    let kind = df.column("kind").and_then(|c| c.str().cloned()).context("event kind")?;
    let repo = df.column("repo").and_then(|c| c.str().cloned()).context("event repo")?;
    let at = df.column("occurred_at").and_then(|c| c.datetime().cloned()).context("event occurred_at")?;
    let payload = df.column("payload").and_then(|c| c.str().cloned()).context("event payload")?;
    let mut out = Vec::with_capacity(df.height());
    for ((((s, k), r), t), p) in source.iter().zip(kind.iter()).zip(repo.iter()).zip(at.physical().iter()).zip(payload.iter()) {
        let (Some(s), Some(k), Some(t), Some(p)) = (s, k, t, p) else { continue };
        let Ok(payload) = serde_json::from_str::<Value>(p) else { continue };
        out.push(Stored { source: s.to_string(), kind: k.to_string(), repo: r.map(str::to_string), at: t, payload });
    }
    Ok(out)
}

/// The text at a path (numbers as written).
pub fn text(value: &Value, path: &[&str]) -> Option<String> {
    let mut v = value;
    for key in path {
        v = v.get(*key)?;
    }
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The time at a path, in UTC microseconds (epoch seconds as GitHub writes `pushed_at`); `None`
/// for anything that is no time of the years 1 to 9999, so that no hostile field becomes a
/// partition or a timestamp readers cannot show.
pub fn time(value: &Value, path: &[&str]) -> Option<i64> {
    let t = text(value, path)?;
    let micros = match t.parse::<i64>() {
        Ok(seconds) => seconds.checked_mul(1_000_000),
        Err(_) => parse_time(&t).map(|t| t.timestamp_micros()),
    };
    micros.filter(|m| crate::timestamp::in_range(*m))
}

/// Seconds at a path (GitLab's durations as sent): `None` unless a finite number from 0 to a
/// year.
pub fn seconds(value: &Value, path: &[&str]) -> Option<f64> {
    text(value, path)?.parse::<f64>().ok().filter(|s| s.is_finite() && (0.0..=366.0 * 86_400.0).contains(s))
}

/// Days `from..=to`.
pub fn span(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days().take_while(|d| *d <= to).collect()
}

/// The partition days of any of `tables` within `back` days before to `forward` days after each
/// of `days`: what a fold reaching that far may have to recompute.
pub fn days_in_reach(
    manifest: &Manifest,
    tables: &[&TableDef],
    days: &BTreeSet<NaiveDate>,
    back: i64,
    forward: i64,
) -> BTreeSet<NaiveDate> {
    let mut out = BTreeSet::new();
    for table in tables {
        let Some(partitions) = manifest.tables.get(table.name) else { continue };
        for d in days {
            out.extend(partitions.range(*d - chrono::Duration::days(back)..=*d + chrono::Duration::days(forward)).map(|(day, _)| *day));
        }
    }
    out
}

/// One deployment delivery: a GitHub `deployment` (no state) or `deployment_status`, or a
/// GitLab `deployment` hook.
#[derive(Debug, Clone)]
pub struct DeploymentEvent {
    pub source: String,
    pub repo: String,
    pub deployment_id: String,
    pub sha: Option<String>,
    pub environment: Option<String>,
    pub production: bool,
    pub created_at: Option<i64>,
    /// The status (GitLab's `failed` written `failure`); `None` for a deployment created.
    pub state: Option<String>,
    pub at: i64,
}

impl DeploymentEvent {
    /// The event a stored delivery is, if it is one.
    pub fn of(e: &Stored, dora: &DoraSettings) -> Option<DeploymentEvent> {
        let p = &e.payload;
        let repo = e.repo.clone()?;
        match (e.source.as_str(), e.kind.as_str()) {
            ("github", "deployment" | "deployment_status") => {
                let d = p.get("deployment")?;
                let environment = text(d, &["environment"]).or_else(|| text(p, &["deployment_status", "environment"]));
                let marked = d.get("production_environment").and_then(Value::as_bool) == Some(true);
                let state =
                    if e.kind == "deployment_status" { Some(text(p, &["deployment_status", "state"])?.to_ascii_lowercase()) } else { None };
                Some(DeploymentEvent {
                    source: e.source.clone(),
                    repo,
                    deployment_id: text(d, &["id"])?,
                    sha: text(d, &["sha"]).map(|s| s.to_ascii_lowercase()),
                    production: marked || environment.as_deref().is_some_and(|n| dora.is_production_name(n)),
                    environment,
                    created_at: time(d, &["created_at"]),
                    state,
                    at: e.at,
                })
            }
            ("gitlab", "deployment") => {
                let environment = text(p, &["environment"]);
                let tier = text(p, &["environment_tier"]);
                // The full sha is only in the commit URL.
                let from_url = text(p, &["commit_url"]).and_then(|u| u.rsplit('/').next().map(str::to_string)).filter(|s| is_hex(s, 40));
                let state = match text(p, &["status"])?.to_ascii_lowercase().as_str() {
                    "failed" => "failure".to_string(),
                    s => s.to_string(),
                };
                Some(DeploymentEvent {
                    source: e.source.clone(),
                    repo,
                    // Older GitLab versions send no deployment_id: the deployment job's id.
                    deployment_id: text(p, &["deployment_id"]).or_else(|| text(p, &["deployable_id"]).map(|id| format!("job:{id}")))?,
                    sha: from_url.or_else(|| text(p, &["short_sha"])).map(|s| s.to_ascii_lowercase()),
                    production: tier.as_deref() == Some("production") || environment.as_deref().is_some_and(|n| dora.is_production_name(n)),
                    environment,
                    created_at: None,
                    state: Some(state),
                    at: e.at,
                })
            }
            _ => None,
        }
    }
}

/// Whether `s` is `len` hex digits.
pub fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A push: the branch moved from `before` to `after`, listing (at most 20 of) the commits.
#[derive(Debug, Clone)]
pub struct Push {
    pub source: String,
    pub repo: String,
    pub before: Option<String>,
    pub after: String,
    pub at: i64,
    pub commits: Vec<PushedCommit>,
}

/// A commit a push lists.
#[derive(Debug, Clone)]
pub struct PushedCommit {
    pub id: String,
    /// Its timestamp (the committer's, offset applied); for a DevOps toolkit push, the push.
    pub at: Option<i64>,
    pub message: String,
}

/// A merged pull or merge request: its merge commit and when.
#[derive(Debug, Clone)]
pub struct Merge {
    pub source: String,
    pub repo: String,
    pub sha: String,
    pub at: i64,
}

/// The all-zeros sha of a created or deleted branch.
fn is_null_sha(s: &str) -> bool {
    s.bytes().all(|b| b == b'0')
}

/// Pushes and merges among stored deliveries.
pub fn changes_of(events: &[Stored]) -> (Vec<Push>, Vec<Merge>) {
    let (mut pushes, mut merges) = (Vec::new(), Vec::new());
    for e in events {
        let Some(repo) = e.repo.clone() else { continue };
        let p = &e.payload;
        match e.kind.as_str() {
            "push" => {
                let Some(after) = text(p, &["after"]).map(|s| s.to_ascii_lowercase()).filter(|s| !is_null_sha(s)) else { continue };
                let commits = p
                    .get("commits")
                    .and_then(Value::as_array)
                    .map(|cs| {
                        cs.iter()
                            .filter_map(|c| {
                                Some(PushedCommit {
                                    id: text(c, &["id"])?.to_ascii_lowercase(),
                                    at: time(c, &["timestamp"]),
                                    message: text(c, &["message"]).unwrap_or_default(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let before = text(p, &["before"]).map(|s| s.to_ascii_lowercase()).filter(|s| !is_null_sha(s));
                pushes.push(Push { source: e.source.clone(), repo, before, after, at: e.at, commits });
            }
            "pull_request" => {
                let pr = p.get("pull_request");
                let merged = pr.and_then(|pr| pr.get("merged")).and_then(Value::as_bool) == Some(true);
                if let (true, Some(sha), Some(at)) =
                    (merged, pr.and_then(|pr| text(pr, &["merge_commit_sha"])), pr.and_then(|pr| time(pr, &["merged_at"])))
                {
                    merges.push(Merge { source: e.source.clone(), repo, sha: sha.to_ascii_lowercase(), at });
                }
            }
            "merge_request" => {
                let a = p.get("object_attributes");
                let merged = a.and_then(|a| text(a, &["state"])).as_deref() == Some("merged");
                if let (true, Some(sha)) = (merged, a.and_then(|a| text(a, &["merge_commit_sha"]))) {
                    // GitLab sends no merged_at: the merge delivery's own time.
                    merges.push(Merge { source: e.source.clone(), repo, sha: sha.to_ascii_lowercase(), at: e.at });
                }
            }
            _ => {}
        }
    }
    (pushes, merges)
}

/// A DevOps toolkit event: a push naming a commit, or a deploy naming commits.
#[derive(Debug, Clone)]
pub struct ToolkitEvent {
    pub repo: String,
    pub deploy: bool,
    pub at: i64,
    pub commits: Vec<String>,
}

/// The toolkit's pushes and deploys on `days`.
pub fn toolkit_events(warehouse: &Warehouse, days: &[NaiveDate]) -> Result<Vec<ToolkitEvent>> {
    let Some(df) = warehouse.read_days(&DEVOPS_EVENTS, days, Some(&["time", "repo", "event", "commit_ids"]))? else {
        return Ok(Vec::new());
    };
    let time = df.column("time").and_then(|c| c.datetime().cloned()).context("devops_events time")?;
    let repo = df.column("repo").and_then(|c| c.str().cloned()).context("devops_events repo")?;
    let event = df.column("event").and_then(|c| c.str().cloned()).context("devops_events event")?;
    let ids = df.column("commit_ids").and_then(|c| c.list().cloned()).context("devops_events commit_ids")?;
    let mut out = Vec::new();
    for (((t, r), e), ids) in time.physical().iter().zip(repo.iter()).zip(event.iter()).zip(ids.series_iter()) {
        let (Some(t), Some(r), Some(e)) = (t, r, e) else { continue };
        if e != "push" && e != "deploy" {
            continue;
        }
        let commits = match ids {
            Some(s) => s.str().context("commit ids")?.iter().flatten().map(|c| c.to_ascii_lowercase()).collect(),
            None => Vec::new(),
        };
        out.push(ToolkitEvent { repo: r.to_string(), deploy: e == "deploy", at: t, commits });
    }
    Ok(out)
}

/// What an incident delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentAction {
    Opened,
    Resolved,
    Reopened,
    /// Anything else (labelled, acknowledged, edited): it may still say the issue is an incident.
    Other,
}

/// One delivery about an issue or a PagerDuty incident.
#[derive(Debug, Clone)]
pub struct IncidentEvent {
    pub source: String,
    pub incident_id: String,
    pub repo: Option<String>,
    /// The PagerDuty service id.
    pub service: Option<String>,
    pub title: Option<String>,
    /// Whether this delivery marks it an incident (a label, GitLab's type, any PagerDuty incident).
    pub is_incident: bool,
    pub opened_at: Option<i64>,
    pub action: IncidentAction,
    pub root_cause: Option<String>,
    pub at: i64,
}

impl IncidentEvent {
    /// The event a stored delivery is, if it is one.
    pub fn of(e: &Stored, dora: &DoraSettings) -> Option<IncidentEvent> {
        let p = &e.payload;
        let labelled = |labels: Option<&Value>, key: &str| {
            labels
                .and_then(Value::as_array)
                .is_some_and(|ls| ls.iter().any(|l| text(l, &[key]).is_some_and(|n| n.eq_ignore_ascii_case("incident"))))
        };
        match (e.source.as_str(), e.kind.as_str()) {
            ("github", "issues") => {
                let issue = p.get("issue")?;
                let action = match text(p, &["action"]).as_deref() {
                    Some("opened") => IncidentAction::Opened,
                    Some("closed") => IncidentAction::Resolved,
                    Some("reopened") => IncidentAction::Reopened,
                    _ => IncidentAction::Other,
                };
                Some(IncidentEvent {
                    source: e.source.clone(),
                    incident_id: text(issue, &["id"])?,
                    repo: e.repo.clone(),
                    service: None,
                    title: text(issue, &["title"]),
                    // A `labeled` delivery's issue already carries the new label.
                    is_incident: labelled(issue.get("labels"), "name"),
                    opened_at: time(issue, &["created_at"]),
                    action,
                    root_cause: text(issue, &["body"]).and_then(|b| root_cause(&b)),
                    at: e.at,
                })
            }
            ("gitlab", "issue") => {
                let a = p.get("object_attributes")?;
                let action = match text(a, &["action"]).as_deref() {
                    Some("open") => IncidentAction::Opened,
                    Some("close") => IncidentAction::Resolved,
                    Some("reopen") => IncidentAction::Reopened,
                    _ => IncidentAction::Other,
                };
                let typed = text(a, &["type"]).is_some_and(|t| t.eq_ignore_ascii_case("incident"))
                    || text(a, &["issue_type"]).is_some_and(|t| t.eq_ignore_ascii_case("incident"));
                Some(IncidentEvent {
                    source: e.source.clone(),
                    incident_id: text(a, &["id"])?,
                    repo: e.repo.clone(),
                    service: None,
                    title: text(a, &["title"]),
                    is_incident: typed || labelled(p.get("labels"), "title") || labelled(a.get("labels"), "title"),
                    opened_at: time(a, &["created_at"]),
                    action,
                    root_cause: text(a, &["description"]).and_then(|b| root_cause(&b)),
                    at: e.at,
                })
            }
            ("pagerduty", kind) => {
                let data = p.get("event")?.get("data")?;
                let service = text(data, &["service", "id"]);
                let action = match kind {
                    "incident.triggered" => IncidentAction::Opened,
                    "incident.resolved" => IncidentAction::Resolved,
                    "incident.reopened" => IncidentAction::Reopened,
                    _ => IncidentAction::Other,
                };
                Some(IncidentEvent {
                    source: e.source.clone(),
                    incident_id: text(data, &["id"])?,
                    repo: service.as_ref().and_then(|s| dora.pagerduty_services.get(s).cloned()),
                    service,
                    title: text(data, &["title"]),
                    is_incident: true,
                    opened_at: time(data, &["created_at"]),
                    action,
                    root_cause: None,
                    at: e.at,
                })
            }
            _ => None,
        }
    }
}

/// The sha a `root cause: <sha>` line names (at least 7 hex characters), lower case.
pub fn root_cause(body: &str) -> Option<String> {
    body.lines().find_map(|line| {
        let line = line.trim();
        let rest = line.get(..11).filter(|p| p.eq_ignore_ascii_case("root cause:")).map(|_| line[11..].trim())?;
        let sha: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
        (sha.len() >= 7 && sha.len() <= 40).then(|| sha.to_ascii_lowercase())
    })
}

/// PERCENTILE_CONT as DuckDB's `quantile_cont` computes it; `None` over no values.
pub fn percentile_cont(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (values.len() - 1) as f64 * p;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let d = rank - lo as f64;
    Some(if lo == hi { values[lo] } else { values[lo] * (1.0 - d) + values[hi] * d })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_cause_lines_name_at_least_seven_hex_characters() {
        assert_eq!(root_cause("Checkout fails.\nRoot cause: ABCDEF1234 (the cache)\n"), Some("abcdef1234".into()));
        assert_eq!(root_cause("root cause: abc123"), None);
        assert_eq!(root_cause("the root cause: abcdef12"), None);
        assert_eq!(root_cause("no line"), None);
    }

    #[test]
    fn percentile_cont_is_duckdbs() {
        assert_eq!(percentile_cont(&mut [4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert_eq!(percentile_cont(&mut [909.0, 1711.0], 0.8), Some(909.0 * (1.0 - 0.8) + 1711.0 * 0.8));
        assert_eq!(percentile_cont(&mut [7.0], 0.9), Some(7.0));
        assert_eq!(percentile_cont(&mut [], 0.5), None);
    }
}
