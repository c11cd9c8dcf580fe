//! Source `perf`: PerfCI resource and trace messages (FORMATS.md §4), one row per test figure
//! in `perf_samples`; the summaries join the two sides per commit and test.
//!
//! A commit's run spans many messages that can land over more than one day. All its rows go to
//! the partition of the day its first message landed, so that a late message re-summarises
//! that commit's day and a commit is never split across days. The commits' first days and the
//! landing order of messages are kept as state under `_pipelake/`.

mod generate;
pub mod literal;
pub mod message;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use self::message::{Message, Sample};
use super::{fingerprint, ndjson, BatchOutcome, IngestContext, LoadedObject, Reject, Source};
use crate::error::{Error, PolarsContext, Result};
use crate::generate::{DayObjects, GenerateOptions};
use crate::timestamp::date_to_days;
use crate::warehouse::{columns, KeyIndex, TableDef, TableKind, Txn, Warehouse};

/// Dedup index of message fingerprints: a redelivered message counts once.
const KEY_INDEX: &str = "perf_messages";
/// Commits' first landing days and the landing order of messages.
/// The state's name in the manifest's `state_segments` (one segment: the whole state).
const STATE_NAME: &str = "perf_commits";
/// Where the first layout kept the state, rewritten in place; read until the next save.
const LEGACY_STATE_KEY: &str = "_pipelake/state/perf_commits.json.zst";

/// One row per test figure of a message.
pub static PERF_SAMPLES: TableDef = TableDef {
    name: "perf_samples",
    dir: "perf_samples",
    kind: TableKind::Fact,
    doc: "One row per test of a resource or trace message (redelivered messages once); partitioned by the day the commit's first message landed.",
    columns: columns![
        "git_commit" "VARCHAR" "short commit hash as sent",
        "test_name" "VARCHAR" "test",
        "kind" "VARCHAR" "resource or trace",
        "execution_time_s" "DOUBLE" "resource: execution time in seconds",
        "memory_rss_bytes" "BIGINT" "resource: process RSS after the test, bytes",
        "function_calls" "BIGINT" "trace: function calls",
        "statements_executed" "BIGINT" "trace: statements executed",
        "iterations" "BIGINT" "trace: loop iterations",
        "condition_encoding" "BIGINT" "trace: condition encoding value",
        "result" "BIGINT" "trace: 0 passed, 1 raised",
        "sender_key" "BIGINT" "the message's _key (a counter per sending process, not unique)",
        "message_seq" "BIGINT" "the message's place in landing order, across all history",
        "commit_seq" "BIGINT" "message_seq of the commit's first message: orders commits as they landed",
    ],
};

/// The `perf` source.
pub struct PerfSource;

impl Source for PerfSource {
    fn name(&self) -> &'static str {
        "perf"
    }

    fn tables(&self) -> &'static [&'static TableDef] {
        static TABLES: [&TableDef; 1] = [&PERF_SAMPLES];
        &TABLES
    }

    fn generate(&self, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
        generate::day(options, day_index, date)
    }

    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome> {
        let mut outcome = BatchOutcome::new(batch.len());
        let decoded = ndjson::decode_records(batch, self.name(), &ctx.settings.limits, &mut outcome, |_, text| message::decode(text));
        let fingerprints: Vec<Option<i64>> =
            decoded.iter().map(|(_, _, message, text)| message.is_ok().then(|| fingerprint(text.trim_ascii()))).collect();
        let firsts = KeyIndex::first_deliveries(ctx.warehouse, txn, KEY_INDEX, &fingerprints)?;
        let mut state = State::load(ctx.warehouse)?;
        let mut rows = Rows::default();
        for ((object, position, message, text), first) in decoded.into_iter().zip(firsts) {
            match message {
                Err(reason) => outcome.reject(Reject::new(object, position, reason, &text)),
                Ok(_) if !first => outcome.counts[object].duplicates += 1,
                Ok(m) => {
                    outcome.counts[object].accepted += 1;
                    let placed = state.place(&m.git_commit, batch[object].object.landed);
                    rows.add(&m, placed);
                }
            }
        }
        if !rows.date.is_empty() {
            outcome.append(txn, vec![(&PERF_SAMPLES, rows.frame().context("build perf_samples rows")?)])?;
        }
        if state.changed {
            // A new object each time, the old one out with this commit.
            let key = txn.new_key(&format!("_pipelake/state/{STATE_NAME}"), ".json.zst");
            let old = match txn.manifest().state_segments.get(STATE_NAME) {
                Some(keys) => keys.clone(),
                None if ctx.warehouse.location().exists(LEGACY_STATE_KEY)? => vec![LEGACY_STATE_KEY.to_string()],
                None => Vec::new(),
            };
            for old in old {
                txn.remove_object(old, 0);
            }
            txn.put_object(key.clone(), state.encode()?);
            txn.manifest_mut().state_segments.insert(STATE_NAME.to_string(), vec![key]);
        }
        Ok(outcome)
    }
}

/// Where a message goes: its commit's first day, its own and its commit's place in landing order.
#[derive(Debug, Clone, Copy)]
struct Placed {
    day: NaiveDate,
    message_seq: i64,
    commit_seq: i64,
}

/// The commits seen so far and the next message's place in landing order.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    next_seq: i64,
    /// Commit -> (first landing day, commit_seq).
    commits: BTreeMap<String, (NaiveDate, i64)>,
    #[serde(skip)]
    changed: bool,
}

impl State {
    fn load(warehouse: &Warehouse) -> Result<State> {
        let key = match warehouse.manifest().state_segments.get(STATE_NAME) {
            Some(keys) => keys.first().cloned().unwrap_or_default(),
            None => LEGACY_STATE_KEY.to_string(),
        };
        let Some(bytes) = warehouse.location().get_opt(&key)? else { return Ok(State::default()) };
        let json = zstd::decode_all(&bytes[..]).map_err(|e| Error::bookkeeping(&key, e))?;
        serde_json::from_slice(&json).map_err(|e| Error::bookkeeping(&key, e))
    }

    fn encode(&self) -> Result<bytes::Bytes> {
        let json = serde_json::to_vec(self).map_err(|e| Error::bookkeeping(STATE_NAME, e))?;
        zstd::bulk::compress(&json, 3).map(bytes::Bytes::from).map_err(|e| Error::bookkeeping(STATE_NAME, e))
    }

    fn place(&mut self, commit: &str, landed: NaiveDate) -> Placed {
        let message_seq = self.next_seq;
        self.next_seq += 1;
        self.changed = true;
        let (day, commit_seq) = *self.commits.entry(commit.to_string()).or_insert((landed, message_seq));
        Placed { day, message_seq, commit_seq }
    }
}

/// Column builders of `perf_samples`.
#[derive(Default)]
struct Rows {
    date: Vec<i32>,
    git_commit: Vec<String>,
    test_name: Vec<String>,
    kind: Vec<&'static str>,
    execution_time_s: Vec<Option<f64>>,
    memory_rss_bytes: Vec<Option<i64>>,
    function_calls: Vec<Option<i64>>,
    statements_executed: Vec<Option<i64>>,
    iterations: Vec<Option<i64>>,
    condition_encoding: Vec<Option<i64>>,
    result: Vec<Option<i64>>,
    sender_key: Vec<Option<i64>>,
    message_seq: Vec<i64>,
    commit_seq: Vec<i64>,
}

impl Rows {
    fn add(&mut self, m: &Message, at: Placed) {
        for s in &m.samples {
            self.date.push(date_to_days(at.day));
            self.git_commit.push(m.git_commit.clone());
            self.test_name.push(s.test().to_string());
            self.sender_key.push(m.sender_key);
            self.message_seq.push(at.message_seq);
            self.commit_seq.push(at.commit_seq);
            let (resource, trace) = match s {
                Sample::Resource { execution_time_s, memory_rss_bytes, .. } => (Some((*execution_time_s, *memory_rss_bytes)), None),
                Sample::Trace { function_calls, statements_executed, iterations, condition_encoding, result, .. } => {
                    (None, Some([*function_calls, *statements_executed, *iterations, *condition_encoding, *result]))
                }
            };
            self.kind.push(if resource.is_some() { "resource" } else { "trace" });
            self.execution_time_s.push(resource.map(|r| r.0));
            self.memory_rss_bytes.push(resource.map(|r| r.1));
            self.function_calls.push(trace.map(|t| t[0]));
            self.statements_executed.push(trace.map(|t| t[1]));
            self.iterations.push(trace.map(|t| t[2]));
            self.condition_encoding.push(trace.map(|t| t[3]));
            self.result.push(trace.map(|t| t[4]));
        }
    }

    fn frame(self) -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(vec![
            Column::new("git_commit".into(), self.git_commit),
            Column::new("test_name".into(), self.test_name),
            Column::new("kind".into(), self.kind),
            Column::new("execution_time_s".into(), self.execution_time_s),
            Column::new("memory_rss_bytes".into(), self.memory_rss_bytes),
            Column::new("function_calls".into(), self.function_calls),
            Column::new("statements_executed".into(), self.statements_executed),
            Column::new("iterations".into(), self.iterations),
            Column::new("condition_encoding".into(), self.condition_encoding),
            Column::new("result".into(), self.result),
            Column::new("sender_key".into(), self.sender_key),
            Column::new("message_seq".into(), self.message_seq),
            Column::new("commit_seq".into(), self.commit_seq),
            Int32Chunked::from_vec("date".into(), self.date).into_date().into_column(),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_stays_on_its_first_day() {
        let mut state = State::default();
        let d1 = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let d2 = d1.succ_opt().unwrap();
        let a = state.place("aaaa", d1);
        let b = state.place("bbbb", d2);
        let a2 = state.place("aaaa", d2);
        assert_eq!((a2.day, a2.commit_seq, a2.message_seq), (d1, a.message_seq, 2));
        assert_eq!((b.day, b.commit_seq), (d2, 1));
    }
}
