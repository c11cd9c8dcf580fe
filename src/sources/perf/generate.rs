//! PerfCI messages as the plugins send them: per commit, batches of 65 tests (a last, smaller
//! batch never sent), a resource and a trace message per batch, numbers as strings, Python 2
//! senders writing `u'…'` and `123L`, the odd redelivery, a test missing from one side, and a
//! broken literal now and then.

use bytes::Bytes;
use chrono::NaiveDate;
use serde_json::json;

use crate::generate::{DayObjects, GenerateOptions, Rng};

const BATCH: usize = 65;

/// Messages of one landing day: about `per_day / 2` of them.
pub(super) fn day(options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
    let mut rng = Rng::new(options.seed ^ (0x5045_5246 + day_index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let commits = (options.per_day as usize / 150).max(1);
    let mut lines = Vec::new();
    let mut records = 0u64;
    for c in 0..commits {
        let commit = format!("{:08x}", rng.next_u64() as u32);
        let python2 = rng.chance(0.5);
        let tests = BATCH * rng.range(1, 3) as usize + rng.range(0, BATCH as i64 - 1) as usize;
        let full = tests / BATCH * BATCH;
        let (s, long) = if python2 { ("u", "L") } else { ("", "") };
        for (b, batch) in (0..full).collect::<Vec<_>>().chunks(BATCH).enumerate() {
            let key = (c * 10 + b) as i64;
            let mut resource = Vec::new();
            let mut trace = Vec::new();
            for t in batch {
                // Each test has its own typical time and memory, so commits can be compared.
                let base = 0.001 * (1 + t % 37) as f64;
                let time = base * (0.8 + 0.4 * (rng.range(0, 1000) as f64 / 1000.0)) + day_index as f64 * 1e-5;
                let memory = 45_000_000 + (*t as i64) * 4096 + rng.range(0, 65536);
                if !(rng.chance(0.01)) {
                    resource.push(format!("({s}'test_{t:03}', {time:.6}, {memory}{long})"));
                }
                let raised = i64::from(rng.chance(0.03));
                let calls = 10 + t % 50;
                trace.push(format!("({s}'test_{t:03}', {calls}{long}, {}, {}, {}, {raised})", calls * 7, t % 5, t % 3));
            }
            let mut resource_literal = format!("[{}]", resource.join(", "));
            if rng.chance(0.05) {
                resource_literal.truncate(resource_literal.len() / 2);
            }
            let msg = json!({"_key": key, "git_commit": commit, "avg_mem": "48213.12", "avg_time": format!("{:.5}", 0.01),
                "unit_test_data": resource_literal});
            let trace_msg = json!({"_key": key, "git_commit": commit, "total_function_calls": "120",
                "total_no_statements_executed": "900", "conditional_encode_value": "4", "total_no_iterations": "33",
                "unit_test_data": format!("[{}]", trace.join(", "))});
            for m in [msg, trace_msg] {
                let text = m.to_string();
                if rng.chance(0.03) {
                    lines.push(text.clone());
                    records += 1;
                }
                lines.push(text);
                records += 1;
            }
        }
    }
    let files = vec![(format!("perf/dt={date}/messages.ndjson"), Bytes::from(lines.join("\n") + "\n"))];
    DayObjects { files, records }
}
