//! Git history of the commits the generated DevOps events push: `api` as git-monitoring-server
//! JSON (full hashes, each commit a JSON string), the other repos as `git log` text (8-character
//! hashes) whose author names hold " - " and ", " and whose messages hold " : ". Authors sit in
//! several time zones; each day's log repeats the day before's last commits (duplicates), and
//! the odd line is cut short.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde_json::{json, Value};

use crate::generate::{DayObjects, GenerateOptions, Rng};
use crate::sources::devops_events::DevopsEventsSource;
use crate::sources::Source;
use crate::timestamp::parse_micros;

const AUTHORS: &[&str] = &["Jane Doe", "Smith - Jones, Anna", "Bob", "Li Wei", "O'Brien, Pat"];
const MESSAGES: &[&str] = &["Fix flaky test", "fix: retry : on timeout", "Bump deps - security", "Refactor the loader", "docs: usage"];
const OFFSETS: &[i32] = &[0, 3600, -7 * 3600, 19800];

type Entry = (String, String, DateTime<FixedOffset>, String);

/// Commits of one day: the pushes of that day's generated DevOps events.
pub(super) fn day(options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
    let mut rng = Rng::new(options.seed ^ (0x4749_5448 + day_index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // Yesterday's log overlaps today's: its newest commits come again (duplicates).
    let yesterday = if day_index > 0 { entries(options, day_index - 1, date - Duration::days(1)) } else { BTreeMap::new() };
    let mut files = Vec::new();
    let mut records = 0u64;
    for (repo, entries) in entries(options, day_index, date) {
        let folder = format!("commits/dt={date}");
        if repo == "api" {
            let list: Vec<Value> = entries
                .iter()
                .map(|(sha, author, at, message)| {
                    Value::String(json!({"hash": sha, "author": author, "date": git_date(at), "message": message}).to_string())
                })
                .collect();
            records += list.len() as u64;
            let doc = json!({"name": repo, "url": format!("https://git.example/{repo}"), "commits": list});
            files.push((format!("{folder}/{repo}.json"), Bytes::from(doc.to_string())));
        } else {
            let mut lines: Vec<String> = entries.iter().map(log_line).collect();
            if rng.chance(0.3) && !lines.is_empty() {
                let cut = lines.len() / 2;
                lines[cut].truncate(20);
            }
            lines.extend(yesterday.get(&repo).into_iter().flatten().take(2).map(log_line));
            records += lines.len() as u64;
            files.push((format!("{folder}/{repo}.log"), Bytes::from(lines.join("\n") + "\n")));
        }
    }
    DayObjects { files, records }
}

fn log_line((sha, author, at, message): &Entry) -> String {
    format!("{} - {author}, {} : {message}", &sha[..8], git_date(at))
}

/// Each repo's commits of a day, newest first: authored up to two days before their push.
fn entries(options: &GenerateOptions, day_index: u32, date: NaiveDate) -> BTreeMap<String, Vec<Entry>> {
    let mut rng = Rng::new(options.seed ^ (0x4155_5448 + day_index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut by_repo: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for (repo, sha, pushed) in pushes(options, day_index, date) {
        let authored = pushed - rng.range(600, 2 * 86_400) * 1_000_000;
        let offset = FixedOffset::east_opt(*rng.pick(OFFSETS)).expect("offset");
        let at = DateTime::from_timestamp_micros(authored).expect("time").with_timezone(&offset);
        by_repo.entry(repo).or_default().push((sha, rng.pick(AUTHORS).to_string(), at, rng.pick(MESSAGES).to_string()));
    }
    for entries in by_repo.values_mut() {
        entries.sort_by_key(|e| std::cmp::Reverse(e.2));
    }
    by_repo
}

fn git_date(at: &DateTime<FixedOffset>) -> String {
    at.format("%a %b %-d %H:%M:%S %Y %z").to_string()
}

/// (repo, commit, push time) of the pushes the DevOps events generator writes for this day.
fn pushes(options: &GenerateOptions, day_index: u32, date: NaiveDate) -> Vec<(String, String, i64)> {
    let noon = parse_micros(&format!("{date} 12:00:00")).expect("a date");
    let events = DevopsEventsSource.generate(options, day_index, date);
    let mut out = Vec::new();
    for (_, bytes) in &events.files {
        let text = String::from_utf8_lossy(bytes);
        let items: Vec<Value> = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(items)) => items,
            _ => text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect(),
        };
        for e in items {
            let field = |k: &str| e.get(k).and_then(Value::as_str);
            if field("Event") != Some("push") {
                continue;
            }
            let sha = field("Metadata")
                .and_then(|m| serde_json::from_str::<Value>(m).ok())
                .and_then(|m| m["commit_id"].as_str().map(str::to_string));
            if let (Some(repo), Some(sha)) = (field("Repo"), sha) {
                let time = field("Time").and_then(parse_micros).unwrap_or(noon);
                out.push((repo.to_string(), sha, time));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
