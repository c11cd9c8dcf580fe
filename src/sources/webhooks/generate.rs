//! Realistic webhook deliveries for `pipelake generate`: per repository and day, pushes chained
//! through `before`/`after` across days, merged pull/merge requests, production and staging
//! deployments with statuses (a failure then a success of one deployment, deployments that never
//! succeed, `inactive` on the one replaced, a rollback to an earlier sha), incidents (labelled
//! issues, GitLab `Incident`s, PagerDuty incidents of a mapped and an unmapped service, some
//! reopened, some naming their root cause), workflow runs and jobs. As relays deliver them:
//! envelopes with delivery ids, bare bodies back to back (Firehose), redeliveries, REST-style
//! copies without a delivery id, statuses landing the next day, GitLab's offsets, unknown kinds,
//! and the odd cut body.

use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use super::Provider;
use crate::generate::{DayObjects, GenerateOptions, Rng};

/// GitHub repositories generated.
pub const GITHUB_REPOS: &[&str] = &["acme/api", "acme/web"];
/// GitLab projects generated.
pub const GITLAB_REPOS: &[&str] = &["acme/platform/billing", "acme/platform/infra"];
/// The PagerDuty service the test configuration maps to `acme/api`, and one left unmapped.
pub const PAGERDUTY_SERVICES: &[(&str, &str)] = &[("PAPI001", "API production"), ("PUNMAP9", "Legacy batch")];

/// One event of a day's story.
struct Event {
    time: DateTime<Utc>,
    kind: String,
    payload: Value,
    /// Delivered with the next day's objects.
    late: bool,
}

/// A 40-hex sha, the same for the same inputs in every run.
fn sha(seed: u64, repo: usize, day: i64, n: i64) -> String {
    let mut rng = Rng::new(seed ^ 0x5348_4121 ^ (repo as u64) << 48 ^ (day as u64) << 16 ^ n as u64);
    format!("{:016x}{:016x}{:08x}", rng.next_u64(), rng.next_u64(), rng.next_u64() as u32)
}

/// Pushes of a repository on a day (at least one, so that the chain goes on).
fn pushes_on(seed: u64, repo: usize, day: i64) -> i64 {
    2 + Rng::new(seed ^ 0x5055_5348 ^ (repo as u64) << 40 ^ day as u64).range(0, 2)
}

/// The sha the branch pointed to at the end of a day.
fn head_at_end_of(seed: u64, repo: usize, day: i64) -> String {
    sha(seed, repo, day, pushes_on(seed, repo, day) - 1)
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Deliveries of one landing day: the day's story plus the late part of the day before's.
pub(super) fn day(provider: Provider, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
    let seed = options.seed ^ (provider as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407);
    let today = story(provider, seed, day_index as i64, date);
    let yesterday = if day_index > 0 { story(provider, seed, day_index as i64 - 1, date - Duration::days(1)) } else { Vec::new() };
    let events: Vec<&Event> = today.iter().filter(|e| !e.late).chain(yesterday.iter().filter(|e| e.late)).collect();
    let mut rng = Rng::new(seed ^ 0x4445_4c49 ^ (day_index as u64) << 20);
    let mut envelopes: Vec<String> = Vec::new();
    let mut bare: Vec<String> = Vec::new();
    let mut records = 0u64;
    for e in &events {
        let delivery = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            rng.next_u64() as u32,
            rng.next_u64() as u16,
            rng.range(0, 4095),
            rng.range(0, 4095),
            rng.next_u64() >> 16
        );
        let received = e.time + Duration::seconds(rng.range(1, 20));
        let event_name = match (provider, e.kind.as_str()) {
            (Provider::GitLab, kind) => gitlab_header(kind).to_string(),
            (_, kind) => kind.to_string(),
        };
        let line = json!({"event": event_name, "delivery": delivery, "received_at": iso(received), "headers": {"User-Agent": "relay/1.4"}, "payload": e.payload}).to_string();
        if rng.chance(0.2) {
            // Through Firehose: the body alone, sometimes also sent by the relay (the same event
            // twice, told by its content).
            bare.push(e.payload.to_string());
            records += 1;
            if rng.chance(0.15) {
                envelopes.push(line);
                records += 1;
            }
        } else {
            if rng.chance(0.05) {
                // Redelivered: the same delivery id.
                envelopes.push(line.clone());
                records += 1;
            }
            envelopes.push(line);
            records += 1;
        }
    }
    // Kinds nobody folds.
    for kind in ["star", "ping"] {
        let payload = match provider {
            Provider::PagerDuty => {
                json!({"event": {"id": format!("01{:X}", rng.next_u64()), "event_type": "service.updated", "occurred_at": iso(date.and_hms_opt(12, 0, 0).unwrap().and_utc()), "data": {"id": "PAPI001"}}})
            }
            Provider::GitLab => json!({"object_kind": "wiki_page", "project": {"path_with_namespace": GITLAB_REPOS[0]}}),
            Provider::GitHub => {
                json!({"action": "created", "starred_at": iso(date.and_hms_opt(12, 0, 0).unwrap().and_utc()), "repository": {"full_name": GITHUB_REPOS[0]}})
            }
        };
        let name = match provider {
            Provider::PagerDuty => "service.updated",
            Provider::GitLab => "Wiki Page Hook",
            Provider::GitHub => kind,
        };
        envelopes.push(json!({"event": name, "delivery": format!("{:x}", rng.next_u64()), "payload": payload}).to_string());
        records += 1;
    }
    // Relays deliver out of order.
    for i in (1..envelopes.len()).rev() {
        envelopes.swap(i, rng.range(0, i as i64) as usize);
    }
    if day_index % 7 == 3 {
        // A relay cut off mid-body.
        let mut cut = envelopes[0].clone();
        cut.truncate(cut.len() / 2);
        envelopes.push(cut);
        records += 1;
    }
    let folder = format!("{}/dt={date}", provider.name());
    let mut files = vec![(format!("{folder}/deliveries-{day_index:04}.ndjson"), Bytes::from(envelopes.join("\n") + "\n"))];
    if !bare.is_empty() {
        files.push((format!("{folder}/firehose-{day_index:04}.json"), Bytes::from(bare.concat())));
    }
    DayObjects { files, records }
}

fn gitlab_header(kind: &str) -> &'static str {
    match kind {
        "push" => "Push Hook",
        "pipeline" => "Pipeline Hook",
        "build" => "Job Hook",
        "deployment" => "Deployment Hook",
        "issue" => "Issue Hook",
        _ => "Merge Request Hook",
    }
}

/// Everything that happened on one day, per provider.
fn story(provider: Provider, seed: u64, day: i64, date: NaiveDate) -> Vec<Event> {
    match provider {
        Provider::PagerDuty => pagerduty_story(seed, day, date),
        Provider::GitHub | Provider::GitLab => {
            let repos = if provider == Provider::GitHub { GITHUB_REPOS } else { GITLAB_REPOS };
            (0..repos.len()).flat_map(|r| repo_story(provider, seed, r, repos[r], day, date)).collect()
        }
    }
}

/// A repository's day: pushes, merges, runs, deployments and incidents.
fn repo_story(provider: Provider, seed: u64, r: usize, repo: &str, day: i64, date: NaiveDate) -> Vec<Event> {
    let mut rng = Rng::new(seed ^ 0x5354_4f52 ^ (r as u64) << 44 ^ day as u64);
    let gh = provider == Provider::GitHub;
    let mut out = Vec::new();
    let start = date.and_hms_opt(8, 0, 0).unwrap().and_utc();
    let n = pushes_on(seed, r, day);
    let mut before = if day == 0 { sha(seed, r, -1, 0) } else { head_at_end_of(seed, r, day - 1) };
    let mut deployed: Vec<(i64, String)> = Vec::new();
    let mut last_production: Option<i64> = None;
    for j in 0..n {
        let after = sha(seed, r, day, j);
        let pushed = start + Duration::minutes(j * 150 + rng.range(0, 60));
        let count = rng.range(1, 3);
        let commits: Vec<Value> = (0..count)
            .map(|k| {
                let id = if k == count - 1 {
                    after.clone()
                } else {
                    format!("{:016x}{:016x}{:08x}", rng.next_u64(), rng.next_u64(), rng.next_u64() as u32)
                };
                let at = pushed - Duration::minutes((count - k) * 25 + rng.range(0, 20));
                let message = if rng.chance(0.05) {
                    format!("Revert \"change {}\"", rng.range(1, 999))
                } else {
                    format!("change {}", rng.range(1, 999))
                };
                // Committers write their own offsets.
                let local = at.with_timezone(&chrono::FixedOffset::west_opt(5 * 3600).unwrap());
                let timestamp =
                    if gh { local.to_rfc3339() } else { at.with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap()).to_rfc3339() };
                json!({"id": id, "timestamp": timestamp, "message": message, "author": {"name": "dev", "email": "dev@example.com"}})
            })
            .collect();
        out.push(Event {
            time: pushed,
            kind: "push".into(),
            payload: if gh {
                json!({"ref": "refs/heads/main", "before": before, "after": after, "forced": false, "deleted": false, "commits": commits, "head_commit": commits.last(), "repository": {"full_name": repo, "default_branch": "main", "pushed_at": pushed.timestamp()}})
            } else {
                json!({"object_kind": "push", "ref": "refs/heads/main", "before": before, "after": after, "checkout_sha": after, "commits": commits, "total_commits_count": count, "project": {"path_with_namespace": repo, "default_branch": "main"}})
            },
            late: false,
        });
        if rng.chance(0.6) {
            let merged = pushed - Duration::seconds(5);
            let number = day * 10 + j;
            out.push(Event {
                time: merged,
                kind: if gh { "pull_request" } else { "merge_request" }.into(),
                payload: if gh {
                    json!({"action": "closed", "number": number, "pull_request": {"id": 900_000 + r as i64 * 100_000 + number, "number": number, "state": "closed", "merged": true, "merged_at": iso(merged), "updated_at": iso(merged), "created_at": iso(merged - Duration::hours(3)), "merge_commit_sha": after, "base": {"ref": "main"}}, "repository": {"full_name": repo}})
                } else {
                    json!({"object_kind": "merge_request", "project": {"path_with_namespace": repo}, "object_attributes": {"id": 700_000 + r as i64 * 100_000 + number, "iid": number, "state": "merged", "action": "merge", "merge_commit_sha": after, "target_branch": "main", "updated_at": merged.format("%Y-%m-%d %H:%M:%S UTC").to_string(), "created_at": (merged - Duration::hours(3)).format("%Y-%m-%d %H:%M:%S UTC").to_string()}})
                },
                late: false,
            });
        }
        // One workflow run (or pipeline) per push; a failure is re-run.
        ci_events(provider, &mut rng, &mut out, repo, r as i64 * 1_000_000 + day * 100 + j, &after, pushed);
        if j == n - 1 || rng.chance(0.3) {
            let id = day * 1000 + r as i64 * 100 + j;
            let created = pushed + Duration::minutes(10);
            // A rollback now and then: the sha of the day's first push again.
            let target = if j == n - 1 && day % 10 == 9 { sha(seed, r, day, 0) } else { after.clone() };
            if rng.chance(0.3) {
                out.extend(deployment(
                    provider,
                    repo,
                    id + 50,
                    &target,
                    "staging",
                    false,
                    created - Duration::minutes(5),
                    &[("success", 3)],
                    &mut rng,
                ));
            }
            let outcome = rng.range(0, 19);
            let states: &[(&str, i64)] = match outcome {
                0 | 1 => &[("queued", 0), ("in_progress", 1), ("failure", 5), ("in_progress", 20), ("success", 30)],
                2 => &[("queued", 0), ("in_progress", 1), ("error", 4)],
                _ => &[("queued", 0), ("in_progress", 1), ("success", 6)],
            };
            out.extend(deployment(provider, repo, id, &target, "production", true, created, states, &mut rng));
            if outcome != 2 {
                if let (Some(previous), true) = (last_production, gh) {
                    // GitHub marks the deployment replaced inactive when a new one succeeds.
                    let at = created + Duration::minutes(states.last().unwrap().1);
                    out.extend(deployment(
                        provider,
                        repo,
                        previous,
                        &deployed.last().unwrap().1,
                        "production",
                        true,
                        at,
                        &[("inactive", 0)],
                        &mut rng,
                    ));
                }
                last_production = Some(id);
                deployed.push((id, target));
            }
        }
        before = after;
    }
    if rng.chance(0.3) {
        // The nightly scheduled run fails just before midnight; its re-run passes after it.
        let id = 5_000_000 + r as i64 * 1_000_000 + day * 100 + 90;
        let head = head_at_end_of(seed, r, day);
        run_events(
            provider,
            &mut rng,
            &mut out,
            repo,
            id,
            "main",
            &head,
            date.and_hms_opt(23, 50, 0).unwrap().and_utc(),
            &["failure", "success"],
        );
    }
    if rng.chance(0.3) {
        incident(provider, &mut rng, &mut out, repo, r as i64 * 100_000 + day * 10 + 1, start + Duration::hours(11), &deployed);
    }
    if rng.chance(0.3) {
        // An issue that is no incident.
        let at = start + Duration::hours(2);
        out.push(issue_event(provider, repo, r as i64 * 100_000 + day * 10 + 9, "opened", at, at, None, &["bug"], ""));
    }
    out
}

/// A deployment's events: created (GitHub), then its statuses minutes after `created`.
#[allow(clippy::too_many_arguments)]
fn deployment(
    provider: Provider,
    repo: &str,
    id: i64,
    sha: &str,
    environment: &str,
    production: bool,
    created: DateTime<Utc>,
    states: &[(&str, i64)],
    rng: &mut Rng,
) -> Vec<Event> {
    let mut out = Vec::new();
    if provider == Provider::GitHub {
        let deployment = json!({"id": id, "sha": sha, "ref": "main", "environment": environment, "production_environment": production, "created_at": iso(created), "updated_at": iso(created)});
        if states.first().is_some_and(|(s, _)| *s != "inactive") {
            out.push(Event {
                time: created,
                kind: "deployment".into(),
                payload: json!({"action": "created", "deployment": deployment, "repository": {"full_name": repo}}),
                late: false,
            });
        }
        for (n, (state, minutes)) in states.iter().enumerate() {
            let at = created + Duration::minutes(*minutes) + Duration::seconds(n as i64);
            let status = json!({"id": id * 10 + n as i64 + if *state == "inactive" { 7 } else { 0 }, "state": state, "created_at": iso(at), "updated_at": iso(at), "environment": environment});
            // Some statuses reach the relay only the next day.
            out.push(Event { time: at, kind: "deployment_status".into(), payload: json!({"action": "created", "deployment_status": status, "deployment": deployment, "repository": {"full_name": repo}}), late: rng.chance(0.1) });
        }
    } else {
        let tier = if production { "production" } else { "staging" };
        for (n, (state, minutes)) in states.iter().enumerate() {
            let status = match *state {
                "queued" => continue,
                "in_progress" => "running",
                "failure" | "error" => "failed",
                s => s,
            };
            let at = created + Duration::minutes(*minutes) + Duration::seconds(n as i64);
            // GitLab writes local times with their offset, or UTC spelt out.
            let changed = if n % 2 == 0 {
                at.with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap()).format("%Y-%m-%d %H:%M:%S %z").to_string()
            } else {
                at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            };
            out.push(Event {
                time: at,
                kind: "deployment".into(),
                payload: json!({"object_kind": "deployment", "status": status, "status_changed_at": changed, "deployment_id": id, "deployable_id": id * 3, "environment": environment, "environment_tier": tier, "short_sha": &sha[..8], "commit_url": format!("https://gitlab.example.com/{repo}/-/commit/{sha}"), "ref": "main", "project": {"path_with_namespace": repo}}),
                late: rng.chance(0.1),
            });
        }
    }
    out
}

/// A run of the repository's workflow (a pipeline on GitLab) for a push, with its test job; a
/// failure is re-run (its test job with it; on GitLab the lint job is sometimes retried twice
/// before it passes). Some runs are of a feature branch, some are skipped; GitLab sends a
/// `running` delivery before each finish.
fn ci_events(provider: Provider, rng: &mut Rng, out: &mut Vec<Event>, repo: &str, number: i64, sha: &str, pushed: DateTime<Utc>) {
    // Run ids are unique across repositories, as the senders' are.
    let id = 5_000_000 + number;
    let branch = if rng.chance(0.15) { "feature/login" } else { "main" };
    let first = *rng.pick(&["success", "success", "success", "success", "failure", "cancelled", "success", "skipped"]);
    let attempts: Vec<&str> = if first == "failure" { vec!["failure", "success"] } else { vec![first] };
    run_events(provider, rng, out, repo, id, branch, sha, pushed, &attempts);
}

/// The deliveries of one run's attempts, `pushed` its creation.
#[allow(clippy::too_many_arguments)]
fn run_events(
    provider: Provider,
    rng: &mut Rng,
    out: &mut Vec<Event>,
    repo: &str,
    id: i64,
    branch: &str,
    sha: &str,
    pushed: DateTime<Utc>,
    attempts: &[&str],
) {
    let utc = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    for (a, conclusion) in attempts.iter().enumerate() {
        let started = pushed + Duration::seconds(30 + a as i64 * 900);
        let finished = started + Duration::seconds(rng.range(120, 600));
        if provider == Provider::GitHub {
            out.push(Event {
                time: finished,
                kind: "workflow_run".into(),
                payload: json!({"action": "completed", "workflow_run": {"id": id, "run_attempt": a + 1, "name": "CI", "workflow_id": 77, "event": "push", "head_branch": branch, "head_sha": sha, "status": "completed", "conclusion": conclusion, "created_at": iso(pushed), "run_started_at": iso(started), "updated_at": iso(finished)}, "workflow": {"id": 77, "name": "CI"}, "repository": {"full_name": repo, "default_branch": "main"}}),
                late: false,
            });
            if *conclusion != "skipped" {
                out.push(Event {
                    time: finished,
                    kind: "workflow_job".into(),
                    payload: json!({"action": "completed", "workflow_job": {"id": id * 10 + a as i64, "run_id": id, "run_attempt": a + 1, "name": "test", "workflow_name": "CI", "head_branch": branch, "head_sha": sha, "status": "completed", "conclusion": conclusion, "created_at": iso(started), "started_at": iso(started + Duration::seconds(rng.range(2, 90))), "completed_at": iso(finished), "labels": ["ubuntu-latest"], "runner_name": format!("runner-{}", rng.range(1, 3))}, "repository": {"full_name": repo}}),
                    late: false,
                });
            }
        } else {
            let status = match *conclusion {
                "failure" => "failed",
                "cancelled" => "canceled",
                s => s,
            };
            let pipeline = |status: &str, finished: Option<DateTime<Utc>>| json!({"object_kind": "pipeline", "object_attributes": {"id": id, "iid": id % 1_000_000, "ref": branch, "sha": sha, "status": status, "source": "push", "created_at": utc(pushed), "finished_at": finished.map(utc), "duration": finished.map(|f| (f - started).num_seconds()), "queued_duration": 30}, "builds": [], "project": {"path_with_namespace": repo, "default_branch": "main"}});
            out.push(Event { time: started, kind: "pipeline".into(), payload: pipeline("running", None), late: false });
            out.push(Event { time: finished, kind: "pipeline".into(), payload: pipeline(status, Some(finished)), late: false });
            let build = |id: i64, name: &str, status: &str, from: DateTime<Utc>, to: DateTime<Utc>| json!({"object_kind": "build", "build_id": id, "pipeline_id": id / 100, "build_name": name, "build_stage": "test", "build_status": status, "build_created_at": utc(from), "build_started_at": utc(from + Duration::seconds(20)), "build_finished_at": utc(to), "build_duration": (to - from).num_seconds() - 20, "build_queued_duration": 20, "build_allow_failure": false, "sha": sha, "ref": branch, "commit": {"id": id / 100}, "project": {"path_with_namespace": repo}});
            if status != "skipped" {
                out.push(Event {
                    time: finished,
                    kind: "build".into(),
                    payload: build(id * 100 + a as i64, "test", status, started, finished),
                    late: false,
                });
            }
            if a == 0 && status != "skipped" && rng.chance(0.15) {
                // Lint fails twice, passes the third time, all in this attempt.
                for (n, s) in ["failed", "failed", "success"].iter().enumerate() {
                    let from = started + Duration::seconds(n as i64 * 100);
                    out.push(Event {
                        time: from + Duration::seconds(80),
                        kind: "build".into(),
                        payload: build(id * 100 + 10 + n as i64, "lint", s, from, from + Duration::seconds(80)),
                        late: false,
                    });
                }
            }
        }
    }
}

/// An incident: an issue labelled `incident` (GitLab: of type Incident), sometimes naming its
/// root cause, closed a few hours later, sometimes reopened and closed again.
fn incident(
    provider: Provider,
    rng: &mut Rng,
    out: &mut Vec<Event>,
    repo: &str,
    number: i64,
    opened: DateTime<Utc>,
    deployed: &[(i64, String)],
) {
    let body = match deployed.first() {
        Some((_, sha)) if rng.chance(0.5) => format!("Checkout fails.\nroot cause: {}\n", &sha[..9]),
        _ => "Checkout fails.".to_string(),
    };
    // Some last past midnight, and their close reaches the relay the next day.
    let closed = opened + Duration::minutes(rng.range(20, 600));
    let late = rng.chance(0.5);
    out.push(issue_event(provider, repo, number, "opened", opened, opened, None, &["incident"], &body));
    let mut close = issue_event(provider, repo, number, "closed", closed, opened, Some(closed), &["incident"], &body);
    close.late = late;
    out.push(close);
    if rng.chance(0.25) {
        let reopened = closed + Duration::minutes(40);
        let closed_again = reopened + Duration::minutes(rng.range(10, 120));
        for (action, at, done) in [("reopened", reopened, None), ("closed", closed_again, Some(closed_again))] {
            let mut e = issue_event(provider, repo, number, action, at, opened, done, &["incident"], &body);
            e.late = late;
            out.push(e);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn issue_event(
    provider: Provider,
    repo: &str,
    number: i64,
    action: &str,
    at: DateTime<Utc>,
    created: DateTime<Utc>,
    closed: Option<DateTime<Utc>>,
    labels: &[&str],
    body: &str,
) -> Event {
    let state = if closed.is_some() { "closed" } else { "open" };
    let payload = if provider == Provider::GitHub {
        let labels: Vec<Value> = labels.iter().map(|l| json!({"name": l})).collect();
        json!({"action": action, "issue": {"id": 3_000_000 + number, "number": number, "title": "Checkout fails", "state": state, "created_at": iso(created), "updated_at": iso(at), "closed_at": closed.map(iso), "labels": labels, "body": body}, "repository": {"full_name": repo}})
    } else {
        let utc = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let kind = if labels.contains(&"incident") { "Incident" } else { "Issue" };
        let action = match action {
            "opened" => "open",
            "closed" => "close",
            "reopened" => "reopen",
            a => a,
        };
        json!({"object_kind": "issue", "object_attributes": {"id": 4_000_000 + number, "iid": number, "type": kind, "state": if closed.is_some() { "closed" } else { "opened" }, "action": action, "created_at": utc(created), "updated_at": utc(at), "closed_at": closed.map(utc), "description": body}, "labels": [], "project": {"path_with_namespace": repo}})
    };
    Event { time: at, kind: if provider == Provider::GitHub { "issues" } else { "issue" }.into(), payload, late: false }
}

/// PagerDuty: an incident on some days, of a mapped or the unmapped service; some reopened.
fn pagerduty_story(seed: u64, day: i64, date: NaiveDate) -> Vec<Event> {
    let mut rng = Rng::new(seed ^ 0x5044_5354 ^ day as u64);
    let mut out = Vec::new();
    if !rng.chance(0.6) {
        return out;
    }
    let (service, summary) = *rng.pick(PAGERDUTY_SERVICES);
    let id = format!("Q{:012X}", rng.next_u64() >> 16);
    let triggered = date.and_hms_opt(10, 0, 0).unwrap().and_utc() + Duration::minutes(rng.range(0, 600));
    let mut steps = vec![
        ("incident.triggered", "triggered", 0),
        ("incident.acknowledged", "acknowledged", 5),
        ("incident.resolved", "resolved", rng.range(15, 180)),
    ];
    if rng.chance(0.2) {
        steps.push(("incident.reopened", "triggered", 200));
        steps.push(("incident.resolved", "resolved", 240));
    }
    for (event_type, status, minutes) in steps {
        let at = triggered + Duration::minutes(minutes);
        out.push(Event {
            time: at,
            kind: event_type.into(),
            payload: json!({"event": {"id": format!("01{:X}", rng.next_u64()), "event_type": event_type, "resource_type": "incident", "occurred_at": iso(at), "data": {"id": id, "type": "incident", "status": status, "created_at": iso(triggered), "title": "Error rate high", "service": {"id": service, "summary": summary}, "urgency": "high", "priority": null}}}),
            late: false,
        });
    }
    out
}
