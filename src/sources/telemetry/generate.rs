//! Pulp check-ins as analytics.pulpproject.org receives them: `.pbd` batches (plain and zstd),
//! single `.pb` bodies, a fleet of systems that come and go, system ids in every spelling,
//! same-day repeats, non-GA versions, unset fields, and a few damaged messages.

use bytes::Bytes;
use chrono::NaiveDate;
use prost::Message;

use crate::generate::{DayObjects, GenerateOptions, Rng};
use crate::proto::analytics::{Component, OnlineContentApps, OnlineWorkers, RbacStats};
use crate::proto::Analytics;

const PLUGINS: &[&str] = &["core", "file", "rpm", "container", "ansible", "python", "deb", "certguard"];
const PG_VERSIONS: &[u32] = &[0, 90624, 100023, 130012, 150004, 160002];

/// Check-ins of one landing day: about `per_day` systems from a fleet twice that size.
pub(super) fn day(options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
    let mut rng = Rng::new(options.seed ^ (0x5445_4c45 + day_index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let folder = format!("telemetry/dt={date}");
    let fleet = (options.per_day as u64 * 2).max(1);
    let mut batches: Vec<Vec<u8>> = vec![Vec::new(), Vec::new()];
    let mut singles = Vec::new();
    let mut records = 0u64;
    for i in 0..options.per_day as u64 {
        // Distinct systems each day, about half of the fleet, overlapping from day to day.
        let system = (i * 2 + rng.range(0, 1) as u64) % fleet;
        let mut message = checkin(&mut Rng::new(options.seed ^ system.wrapping_mul(31) ^ day_index as u64), options.seed, system);
        records += 1;
        if rng.chance(0.003) {
            message.system_id = if rng.chance(0.5) { String::new() } else { "not-a-uuid".into() };
        }
        // A few systems post single check-ins (one body per object); the rest arrive in batches.
        if singles.len() < 20 && rng.chance(0.01) {
            singles.push(message.encode_to_vec());
            continue;
        }
        let b = rng.range(0, 1) as usize;
        message.encode_length_delimited(&mut batches[b]).expect("encode");
        // A system that checks in twice the same day: only the first counts.
        if rng.chance(0.02) {
            records += 1;
            message.encode_length_delimited(&mut batches[b]).expect("encode");
        }
    }
    let mut files = vec![
        (format!("{folder}/checkins-0.pbd"), Bytes::from(std::mem::take(&mut batches[0]))),
        (format!("{folder}/checkins-1.pbd.zst"), Bytes::from(zstd::encode_all(&batches[1][..], 3).expect("zstd"))),
    ];
    for (i, s) in singles.into_iter().enumerate() {
        files.push((format!("{folder}/checkin-{i}.pb"), Bytes::from(s)));
    }
    // Now and then an upload cut short.
    if rng.chance(0.3) {
        let mut cut = Vec::new();
        for i in 0..3u64 {
            checkin(&mut Rng::new(options.seed ^ i), options.seed, fleet + i).encode_length_delimited(&mut cut).expect("encode");
        }
        cut.truncate(cut.len() - 7);
        records += 3;
        files.push((format!("{folder}/checkins-cut.pbd"), Bytes::from(cut)));
    }
    DayObjects { files, records }
}

fn checkin(rng: &mut Rng, seed: u64, system: u64) -> Analytics {
    let mut id_rng = Rng::new(seed ^ 0x5359_5354 ^ system);
    let id = uuid::Uuid::from_u64_pair(id_rng.next_u64(), id_rng.next_u64());
    let system_id = match system % 5 {
        0 => id.simple().to_string(),
        1 => id.hyphenated().to_string().to_uppercase(),
        2 => id.braced().to_string(),
        _ => id.hyphenated().to_string(),
    };
    // What a system runs is its own, upgraded now and then; the rest varies by check-in.
    let n = id_rng.range(1, 4) as usize;
    let mut components: Vec<Component> = (0..n)
        .map(|i| {
            let (major, minor) = if i == 0 { (3, id_rng.range(40, 49)) } else { (1, id_rng.range(0, 20)) };
            let minor = minor + rng.chance(0.05) as i64;
            Component { name: PLUGINS[i].to_string(), version: format!("{major}.{minor}.{}", id_rng.range(0, 5)) }
        })
        .collect();
    if rng.chance(0.05) {
        components[0].version = format!("3.{}.0.dev", rng.range(40, 60));
    }
    Analytics {
        system_id,
        online_workers: (!rng.chance(0.1))
            .then(|| OnlineWorkers { processes: Some(rng.range(1, 16) as u32), hosts: rng.chance(0.9).then(|| rng.range(1, 4) as u32) }),
        online_content_apps: (!rng.chance(0.1))
            .then(|| OnlineContentApps { processes: Some(rng.range(1, 8) as u32), hosts: Some(rng.range(1, 3) as u32) }),
        components,
        postgresql_version: rng.chance(0.9).then(|| *rng.pick(PG_VERSIONS)),
        rbac_stats: rng.chance(0.7).then(|| RbacStats {
            users: Some(rng.range(0, 50) as u32),
            groups: Some(rng.range(0, 5) as u32),
            domains: rng.chance(0.5).then(|| rng.range(0, 3) as u32),
            custom_access_policies: None,
            custom_roles: Some(rng.range(0, 4) as u32),
        }),
    }
}
