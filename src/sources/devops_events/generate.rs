//! DevOps events as the metrics service stores them and as senders dump them: pushes naming a
//! commit, deploys naming the pushed commits, test events, `Repo` ALL, metadata that is not
//! JSON or empty, a sender dump without `Time`, redelivered duplicates, derived `calc_*` rows
//! and the odd unknown event.

use bytes::Bytes;
use chrono::NaiveDate;
use serde_json::json;

use crate::generate::{DayObjects, GenerateOptions, Rng};

const REPOS: &[&str] = &["api", "web", "worker", "billing"];

/// Events of one landing day: about `per_day` of them.
pub(super) fn day(options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
    let mut rng = Rng::new(options.seed ^ (0x4445_564f + day_index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let folder = format!("devops_events/dt={date}");
    let mut server = Vec::new();
    let mut sender = Vec::new();
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut records = 0u64;
    let per_day = options.per_day.max(4) as i64;
    for i in 0..per_day {
        let second = i * 86_000 / per_day;
        let time = format!("{date} {:02}:{:02}:{:02}", second / 3600, second / 60 % 60, second % 60);
        let repo_index = rng.range(0, REPOS.len() as i64 - 1) as usize;
        let repo = REPOS[repo_index];
        let line = match rng.range(0, 9) {
            0..=4 => {
                let sha = format!("{:016x}{:016x}{:08x}", rng.next_u64(), rng.next_u64(), rng.next_u64() as u32);
                pending.push((repo_index, sha.clone()));
                json!({"Time": time, "Repo": repo, "Event": "push", "Metadata": json!({"pass": true, "commit_id": sha, "report_url": "https://ci.example/r"}).to_string()})
            }
            5 | 6 => {
                let (mine, rest): (Vec<_>, Vec<_>) = pending.drain(..).partition(|(r, _)| *r == repo_index);
                pending = rest;
                let mut ids: Vec<String> = mine.into_iter().map(|(_, s)| s).collect();
                if rng.chance(0.1) {
                    ids.push(format!("{:040x}", rng.next_u64()));
                }
                json!({"Time": time, "Repo": repo, "Event": "deploy", "Metadata": json!({"commit_ids": ids}).to_string()})
            }
            7 => json!({"Time": time, "Repo": if rng.chance(0.3) { "ALL" } else { repo }, "Event": "test_run", "Metadata": ""}),
            _ => json!({"Time": time, "Repo": repo, "Event": "test_pass", "Metadata": "nightly suite green"}),
        };
        records += 1;
        let text = line.to_string();
        if rng.chance(0.1) {
            // A sender-side dump: no Time, the landing time stands in.
            let mut untimed = line.clone();
            untimed.as_object_mut().expect("object").remove("Time");
            sender.push(untimed.to_string());
        } else {
            server.push(text.clone());
            if rng.chance(0.03) {
                server.push(text);
                records += 1;
            }
        }
    }
    server
        .push(json!({"Time": format!("{date} 23:59:00"), "Repo": "ALL", "Event": "calc_deploy_frequency", "Metadata": "2.0"}).to_string());
    records += 1;
    if rng.chance(0.5) {
        server.push(json!({"Time": format!("{date} 23:59:30"), "Repo": "api", "Event": "build", "Metadata": ""}).to_string());
        records += 1;
    }
    let mut files = vec![(format!("{folder}/events.ndjson"), Bytes::from(server.join("\n") + "\n"))];
    if !sender.is_empty() {
        let dump = format!("[{}]", sender.join(","));
        files.push((format!("{folder}/sender-dump.json"), Bytes::from(dump)));
    }
    DayObjects { files, records }
}
