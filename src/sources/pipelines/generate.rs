//! Pipeline-metrics payloads as the collector receives them: NDJSON parts (plain, gzip, zstd),
//! single `.json` payloads, redeliveries into later objects and days, senders old and new,
//! assorted offsets, nulls, unknown fields, and a few corrupt lines.

use std::io::Write;

use bytes::Bytes;
use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use serde_json::{json, Value};

use crate::generate::{DayObjects, GenerateOptions, Rng};

const REFS: &[&str] = &["master", "main", "develop", "feature/login", "release/1.2"];
const OFFSETS: &[i32] = &[7 * 3600, 0, -5 * 3600, 5 * 3600 + 1800, 2 * 3600];

/// Payloads of one landing day.
pub(super) fn day(options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
    let mut rng = Rng::new(options.seed ^ (0x5049_5045 + day_index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let folder = format!("pipelines/dt={date}");
    let mut parts: Vec<Vec<u8>> = vec![Vec::new(); 3];
    let mut singles = Vec::new();
    let mut records = 0u64;
    let first_id = 1_000_000 + day_index as i64 * options.per_day as i64;

    // Redeliveries of yesterday's payloads land first in today's first part.
    if day_index > 0 {
        let mut prev = Rng::new(options.seed ^ (0x5245_4445 + day_index as u64));
        let prev_first = first_id - options.per_day as i64;
        for _ in 0..(options.per_day / 100) {
            let id = prev_first + prev.range(0, options.per_day as i64 - 1);
            let payload = payload(&mut Rng::new(options.seed ^ id as u64), id, date - Duration::days(1));
            parts[0].extend_from_slice(payload.to_string().as_bytes());
            parts[0].push(b'\n');
            records += 1;
        }
    }
    for i in 0..options.per_day as i64 {
        let id = first_id + i;
        let p = payload(&mut Rng::new(options.seed ^ id as u64), id, date);
        records += 1;
        if rng.chance(0.002) {
            singles.push(serde_json::to_vec_pretty(&p).expect("JSON"));
            continue;
        }
        let part = rng.range(0, 2) as usize;
        let line = if rng.chance(0.002) { corrupt(&mut rng, &p) } else { p.to_string() };
        parts[part].extend_from_slice(line.as_bytes());
        parts[part].push(b'\n');
        // The same payload delivered twice the same day (a retried POST).
        if rng.chance(0.03) {
            let again = rng.range(0, 2) as usize;
            parts[again].extend_from_slice(p.to_string().as_bytes());
            parts[again].push(b'\n');
            records += 1;
        }
    }
    let mut files = vec![
        (format!("{folder}/part-0.ndjson"), Bytes::from(std::mem::take(&mut parts[0]))),
        (format!("{folder}/part-1.ndjson.gz"), gzip(&parts[1])),
        (format!("{folder}/part-2.jsonl.zst"), Bytes::from(zstd::encode_all(&parts[2][..], 3).expect("zstd"))),
    ];
    for (i, s) in singles.into_iter().enumerate() {
        files.push((format!("{folder}/single-{i}.json"), Bytes::from(s)));
    }
    DayObjects { files, records }
}

fn payload(rng: &mut Rng, id: i64, date: NaiveDate) -> Value {
    let offset = FixedOffset::east_opt(*rng.pick(OFFSETS)).expect("offset");
    let local_midnight = offset.from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight")).single().expect("no gap");
    let created = local_midnight + Duration::milliseconds(rng.range(0, 86_400_000 - 3_600_000));
    let project = format!("group{}/service-{}", rng.range(0, 7), rng.range(0, 24));
    let git_ref = *rng.pick(REFS);
    let build = rng.range(30, 400);
    let e2e = rng.range(20, 1800);
    let duration = build + e2e + rng.range(5, 300);
    let newer_sender = rng.chance(0.3);
    let ts = |t: chrono::DateTime<FixedOffset>| t.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();

    let mut jobs = Vec::new();
    let mut t = created + Duration::seconds(duration - e2e);
    for j in 0..rng.range(1, 4) {
        let dur = rng.range(5, e2e);
        let mut job =
            json!({"name": format!("e2e-{j}"), "started_at": ts(t), "finished_at": ts(t + Duration::seconds(dur)), "duration": dur});
        let up = rng.range(1, 60);
        job["up"] = json!(up);
        job["e2e"] = json!(rng.range(1, dur));
        match rng.range(0, 3) {
            0 => {
                let pull = rng.range(0, up);
                job["pull"] = json!(pull);
                job["up_without_pull"] = json!(up - pull);
            }
            1 => {
                job["pull"] = Value::Null;
                job["up_without_pull"] = Value::Null;
            }
            _ => {}
        }
        jobs.push(job);
        t += Duration::seconds(dur);
    }
    // Failed attempts (`jobs_failed`), each before the job's next attempt: mostly one retry of
    // the first job that then passed (a flake), some retried twice, and a few jobs that never
    // passed (then the pipeline failed: the job is not among `jobs`).
    let mut failed: Vec<Value> = Vec::new();
    if rng.chance(0.1) {
        let retries = if rng.chance(0.2) { 2 } else { 1 };
        let passed = !rng.chance(0.1);
        let name = if passed { "e2e-0".to_string() } else { format!("e2e-{}", jobs.len()) };
        let mut start = created + Duration::seconds(build);
        for _ in 0..retries {
            let dur = rng.range(5, 200);
            let mut f = json!({"name": name, "duration": dur});
            if newer_sender {
                f["started_at"] = json!(ts(start));
                f["finished_at"] = json!(ts(start + Duration::seconds(dur)));
            }
            failed.push(f);
            start += Duration::seconds(dur);
        }
    }
    let mut p = json!({
        "jobs": jobs, "created_at": ts(created), "ref": git_ref, "duration": duration,
        "duration_e2e": e2e, "jobs_failed": failed, "has_restarts": !failed.is_empty(),
        "project": project, "pipeline_id": id,
    });
    match rng.range(0, 9) {
        // Older senders: only the build total.
        0 | 1 => p["build"] = json!(build),
        // Several builds; `build` is their sum.
        2 => {
            let unit = rng.range(10, 100);
            p["builds"] = json!([{"build-e2e": build}, {"build-unit": unit}]);
            p["build"] = json!(build + unit);
        }
        _ => {
            p["builds"] = json!([{"build-e2e": build}]);
            p["build"] = json!(build);
        }
    }
    if newer_sender {
        p["project_id"] = json!(rng.range(1, 500));
        p["runner"] = json!({"tags": ["docker"], "version": "16.4"});
    }
    p
}

/// A payload spoiled the ways real senders spoil them.
fn corrupt(rng: &mut Rng, p: &Value) -> String {
    let text = p.to_string();
    match rng.range(0, 3) {
        0 => text[..text.len() / 2].to_string(),
        1 => {
            let mut q = p.clone();
            q["created_at"] = json!("13/06/2023 14:11");
            q.to_string()
        }
        2 => {
            let mut q = p.clone();
            q.as_object_mut().expect("object").remove("pipeline_id");
            q.to_string()
        }
        _ => {
            let mut q = p.clone();
            q["duration"] = json!("97s");
            q.to_string()
        }
    }
}

fn gzip(data: &[u8]) -> Bytes {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip");
    Bytes::from(enc.finish().expect("gzip"))
}
