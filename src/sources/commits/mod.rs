//! Source `commits`: git history (FORMATS.md §5), as git-monitoring-server JSON (a project with
//! its commits, each a JSON-encoded string) or as plain `git log --pretty=format:"%h - %an, %ad : %s"`
//! text, whose project is the object's file name. One row per `project, hash` across all history.

mod generate;
pub mod gitlog;

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::Value;

use self::gitlog::{parse_git_date, Commit};
use super::{fingerprint, BatchOutcome, IngestContext, LoadedObject, Reject, Source};
use crate::error::{PolarsContext, Result};
use crate::generate::{DayObjects, GenerateOptions};
use crate::timestamp::{parse_micros, MICROS_PER_DAY};
use crate::warehouse::{columns, KeyIndex, TableDef, TableKind, Txn};

/// Dedup index of `project, hash` fingerprints.
const KEY_INDEX: &str = "commits";

/// One row per commit of a project.
pub static COMMITS: TableDef = TableDef {
    name: "commits",
    dir: "commits",
    kind: TableKind::Fact,
    doc: "One row per project and commit hash (the first delivery); partitioned by the UTC day of authored_at.",
    columns: columns![
        "project" "VARCHAR" "project: the JSON's name, or the git log file's name without extensions",
        "hash" "VARCHAR" "commit hash as sent, lower case (full, or git's short %h)",
        "author" "VARCHAR" "author name",
        "authored_at" "TIMESTAMP" "author date, UTC (git prints it with the author's offset)",
        "message" "VARCHAR" "subject line",
    ],
};

/// The `commits` source.
pub struct CommitsSource;

impl Source for CommitsSource {
    fn name(&self) -> &'static str {
        "commits"
    }

    fn tables(&self) -> &'static [&'static TableDef] {
        static TABLES: [&TableDef; 1] = [&COMMITS];
        &TABLES
    }

    fn generate(&self, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
        generate::day(options, day_index, date)
    }

    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome> {
        let mut outcome = BatchOutcome::new(batch.len());
        let mut commits: Vec<(usize, String, Commit)> = Vec::new();
        for (i, obj) in batch.iter().enumerate() {
            if let Some(damage) = &obj.damage {
                outcome.reject(Reject::whole_object(i, damage.clone()));
                if obj.data.is_empty() {
                    continue;
                }
            }
            let decoded = match decode_object(obj) {
                Ok(records) => records,
                Err(reason) => {
                    outcome.reject(Reject::whole_object(i, reason));
                    continue;
                }
            };
            for (position, record) in decoded {
                match record {
                    Ok((project, commit)) => commits.push((i, project, commit)),
                    Err((reason, text)) => outcome.reject(Reject::new(i, position, reason, text.as_bytes())),
                }
            }
        }

        let keys: Vec<Option<i64>> = commits.iter().map(|(_, project, c)| Some(key(project, &c.hash))).collect();
        let firsts = KeyIndex::first_deliveries(ctx.warehouse, txn, KEY_INDEX, &keys)?;
        let mut kept = Vec::new();
        for ((object, project, commit), first) in commits.into_iter().zip(firsts) {
            if first {
                outcome.counts[object].accepted += 1;
                kept.push((project, commit));
            } else {
                outcome.counts[object].duplicates += 1;
            }
        }
        if !kept.is_empty() {
            outcome.append(txn, vec![(&COMMITS, frame(&kept).context("build commits rows")?)])?;
        }
        Ok(outcome)
    }
}

fn key(project: &str, hash: &str) -> i64 {
    fingerprint(format!("{project}\0{hash}").as_bytes())
}

/// A decoded record: its position and the commit with its project, or why not (with its text).
type Record = (u64, std::result::Result<(String, Commit), (String, String)>);

/// The commits of one object, by its kind; `Err` when the object as a whole cannot be read.
fn decode_object(obj: &LoadedObject) -> std::result::Result<Vec<Record>, String> {
    let base = obj.base_key();
    let file = base.rsplit('/').next().unwrap_or(base);
    let extension = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("json") => {
            let value: Value = serde_json::from_slice(&obj.data).map_err(|e| format!("invalid JSON: {e}"))?;
            let projects = match value {
                Value::Array(items) => items,
                other => vec![other],
            };
            let mut out = Vec::new();
            for project in &projects {
                project_commits(project, &mut out)?;
            }
            Ok(out)
        }
        Some("log" | "txt") => {
            // The project is the file name without its extensions.
            let project = file.split('.').next().unwrap_or(file).to_string();
            let text = String::from_utf8_lossy(&obj.data);
            let intact = if obj.damage.is_some() { text.rfind('\n').map_or("", |p| &text[..p]) } else { &text[..] };
            Ok(intact
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(n, line)| (n as u64 + 1, gitlog::parse_line(line).map(|c| (project.clone(), c)).map_err(|e| (e, line.to_string()))))
                .collect())
        }
        _ => Err("unsupported object type for source commits (expected .json from git-monitoring-server, or git log text as .log or .txt)"
            .into()),
    }
}

/// The commits of one git-monitoring-server project object, numbered on from `out`.
fn project_commits(project: &Value, out: &mut Vec<Record>) -> std::result::Result<(), String> {
    let name = project.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).ok_or("a project without a name")?;
    let commits = project.get("commits").and_then(Value::as_array).ok_or("a project without a commits list")?;
    for entry in commits {
        let position = out.len() as u64 + 1;
        let text = match entry {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push((position, commit_entry(&text).map(|c| (name.to_string(), c)).map_err(|e| (e, text))));
    }
    Ok(())
}

/// One commit entry: `{"hash", "author", "date", "message"}` (itself sent as a JSON string).
fn commit_entry(text: &str) -> std::result::Result<Commit, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("commit entry is not JSON: {e}"))?;
    let field = |k: &str| v.get(k).and_then(Value::as_str);
    let hash = field("hash").map(str::trim).filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let hash = hash.ok_or("commit entry without a hex hash")?;
    let date = field("date").ok_or("commit entry without a date")?;
    let authored_at = parse_git_date(date).or_else(|| parse_micros(date)).ok_or_else(|| format!("bad commit date {date:?}"))?;
    Ok(Commit {
        hash: hash.to_ascii_lowercase(),
        author: field("author").unwrap_or_default().to_string(),
        authored_at,
        message: field("message").unwrap_or_default().to_string(),
    })
}

fn frame(rows: &[(String, Commit)]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("project".into(), rows.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>()),
        Column::new("hash".into(), rows.iter().map(|(_, c)| c.hash.as_str()).collect::<Vec<_>>()),
        Column::new("author".into(), rows.iter().map(|(_, c)| c.author.as_str()).collect::<Vec<_>>()),
        Int64Chunked::from_iter_values("authored_at".into(), rows.iter().map(|(_, c)| c.authored_at))
            .into_datetime(TimeUnit::Microseconds, None)
            .into_column(),
        Column::new("message".into(), rows.iter().map(|(_, c)| c.message.as_str()).collect::<Vec<_>>()),
        Int32Chunked::from_vec("date".into(), rows.iter().map(|(_, c)| c.authored_at.div_euclid(MICROS_PER_DAY) as i32).collect())
            .into_date()
            .into_column(),
    ])
}
