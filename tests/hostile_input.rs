//! Hostile input: every decoder gets mutated and random bytes and must answer with a value or a
//! reason, never a panic; the parsers with a grammar get round trips; and a whole run over
//! mutated objects of every source accounts for every record. Longer runs: the cargo-fuzz
//! targets under `fuzz/` (see the README).

mod common;

use pipelake::lake::{decompress, Compression};
use pipelake::proto::analytics::Component;
use pipelake::proto::Analytics;
use pipelake::sources::commits::gitlog;
use pipelake::sources::devops_events::event;
use pipelake::sources::perf::{literal, message};
use pipelake::sources::pipelines::payload;
use pipelake::sources::telemetry::checkin::{self, Framing};
use proptest::prelude::*;
use prost::Message;

const PIPELINE: &str = r#"{"build":227,"builds":[{"build-e2e":173},{"build-unit":54}],"created_at":"2026-10-01T07:47:22.956+07:00","duration":1627,"duration_e2e":1212,"has_restarts":true,"jobs":[{"duration":1147,"e2e":822,"finished_at":"2026-10-01T08:13:24.956+07:00","name":"e2e-0","started_at":"2026-10-01T07:54:17.956+07:00","up":44}],"jobs_failed":[{"duration":162,"name":"e2e-0"}],"pipeline_id":1000002,"project":"group3/service-16","ref":"main"}"#;
const EVENT: &str =
    r#"{"Event":"push","Metadata":"{\"commit_id\":\"68b8159f\",\"pass\":true}","Repo":"billing","Time":"2026-10-01 00:14:20"}"#;
const PERF: &str = r#"{"_key": 3, "git_commit": "1a2b3c4d", "avg_mem": "48213.12", "avg_time": "0.01234", "unit_test_data": "[(u'test_add', 0.0123, 45678912L), ('test_sub', 0.002, 45680000)]"}"#;
const GIT_LOG: &str = "deadbeef - Smith - Jones, Anna, Mon May 27 09:00:00 2019 -0700 : fix: a : b - c";

/// Some check-ins, varint-delimited as a `.pbd` object holds them.
fn checkins() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..3 {
        let m = Analytics {
            system_id: format!("3f2c1b8e-5d4a-4c3b-9a1e-0f1e2d3c4b5{i}"),
            components: vec![Component { name: "core".into(), version: "3.49.1".into() }],
            postgresql_version: Some(150004),
            ..Default::default()
        };
        m.encode_length_delimited(&mut out).unwrap();
    }
    out
}

/// A valid input with random edits: bytes flipped, inserted, deleted, or the tail cut.
fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0usize..4, any::<usize>(), any::<u8>()), 0..8).prop_map(move |edits| {
        let mut bytes = seed.clone();
        for (kind, at, byte) in edits {
            let at = if bytes.is_empty() { 0 } else { at % bytes.len() };
            match kind {
                0 if !bytes.is_empty() => bytes[at] ^= byte | 1,
                1 => bytes.insert(at, byte),
                2 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

/// Arbitrary bytes, or a valid input mutated.
fn hostile(seed: &str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..256), mutated(seed.as_bytes().to_vec())]
}

/// Values a hostile sender puts where a pipeline payload expects a number, a string or a
/// timestamp: huge and negative numbers, NaN and infinities (not JSON, sent anyway), dates past
/// year 9999 or before year 1, leap seconds, control characters, deep nesting.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1e400".to_string()),
        Just("-1e400".to_string()),
        Just("NaN".to_string()),
        Just("Infinity".to_string()),
        Just("18446744073709551616".to_string()),
        Just("9223372036854775807".to_string()),
        Just("-9223372036854775808".to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        (0u32..=99999, 0u32..14, 0u32..33, 0u32..25, 0u32..61, prop::sample::select(vec!["Z", "+14:00", "-05:00", ""]))
            .prop_map(|(y, mo, d, h, s, z)| format!("\"{y:04}-{mo:02}-{d:02}T{h:02}:59:{s:02}{z}\"")),
        "\\PC{0,8}".prop_map(|t| serde_json::to_string(&format!("{t}\u{0}\u{1b}\n")).unwrap()),
        (1usize..3000).prop_map(|n| format!("{}1{}", "[".repeat(n), "]".repeat(n))),
        (1usize..3000).prop_map(|n| "{\"a\":".repeat(n) + "1" + &"}".repeat(n)),
    ]
}

/// A pipeline payload with some of its fields replaced by hostile values, an unknown field
/// added, and maybe a byte-order mark in front.
fn hostile_payload() -> impl Strategy<Value = Vec<u8>> {
    let fields = ["pipeline_id", "duration", "duration_e2e", "build", "created_at", "project", "unknown"];
    (prop::collection::vec((prop::sample::select(fields.to_vec()), hostile_value()), 1..4), any::<bool>()).prop_map(|(edits, bom)| {
        let mut text = PIPELINE.to_string();
        for (field, value) in edits {
            let key = format!("\"{field}\":");
            match text.find(&key) {
                Some(at) => {
                    let start = at + key.len();
                    let end = start + text[start..].find([',', '}']).unwrap_or(0);
                    text.replace_range(start..end, &value);
                }
                None => text.insert_str(1, &format!("{key}{value},")),
            }
        }
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend(text.into_bytes());
        bytes
    })
}

/// A GitHub deployment status and a GitLab pipeline delivery with some fields replaced by
/// hostile values.
fn hostile_delivery() -> impl Strategy<Value = (bool, String)> {
    const GITHUB: &str = r#"{"event":"deployment_status","delivery":"d","payload":{"deployment_status":{"id":1,"state":"success","created_at":"2026-10-01T10:00:00Z"},"deployment":{"id":7,"sha":"abcdef1","environment":"production","production_environment":true,"created_at":"2026-10-01T09:00:00Z"},"repository":{"full_name":"o/r","pushed_at":1700000000}}}"#;
    const GITLAB: &str = r#"{"object_kind":"pipeline","object_attributes":{"id":77,"status":"success","created_at":"2026-10-01 11:00:00 UTC","finished_at":"2026-10-01 12:00:00 UTC","duration":300,"queued_duration":5},"project":{"path_with_namespace":"g/p"}}"#;
    let fields = [
        r#""id":"#,
        r#""created_at":"#,
        r#""finished_at":"#,
        r#""duration":"#,
        r#""state":"#,
        r#""full_name":"#,
        r#""pushed_at":"#,
        r#""sha":"#,
    ];
    // Besides the usual suspects: epoch seconds past year 9999 that still fit in microseconds.
    let value = prop_oneof![hostile_value(), (253_402_300_800i64..9_223_372_036_854).prop_map(|s| s.to_string())];
    (any::<bool>(), prop::collection::vec((prop::sample::select(fields.to_vec()), value, 0usize..3), 1..4)).prop_map(
        move |(github, edits)| {
            let mut text = if github { GITHUB } else { GITLAB }.to_string();
            for (key, value, nth) in edits {
                if let Some((at, _)) = text.match_indices(key).nth(nth) {
                    let start = at + key.len();
                    let end = start + text[start..].find([',', '}']).unwrap_or(0);
                    text.replace_range(start..end, &value);
                }
            }
            (github, text)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn hostile_webhook_values_are_rejected_or_read_in_range((github, text) in hostile_delivery()) {
        use pipelake::sources::webhooks::delivery::{parse, Provider};
        use pipelake::summaries::webhook_facts::{DeploymentEvent, Stored};
        let provider = if github { Provider::GitHub } else { Provider::GitLab };
        // Never a panic or a stack overflow; a time that is read is one a partition can hold.
        if let Ok(d) = parse(provider, text.as_bytes()) {
            if let Ok(Some(t)) = d.occurred_at(provider) {
                prop_assert!(pipelake::timestamp::in_range(t.timestamp_micros()), "{t}");
            }
            let _ = d.content_key(provider);
            let stored = Stored { source: provider.name().into(), kind: d.kind.clone(), repo: d.repo(provider), at: 0, payload: serde_json::Value::Object(d.payload) };
            if let Some(e) = DeploymentEvent::of(&stored, &Default::default()) {
                prop_assert!(e.created_at.is_none_or(pipelake::timestamp::in_range));
            }
        }
    }

    #[test]
    fn hostile_payload_values_are_rejected_or_stored_in_range(bytes in hostile_payload()) {
        // Never a panic or a stack overflow; what is accepted can be stored as it is.
        if let Ok(p) = payload::decode(&bytes) {
            prop_assert!(pipelake::timestamp::in_range(p.created_at), "created_at {} out of range", p.created_at);
            prop_assert!(p.duration >= 0 && p.duration_e2e >= 0, "negative durations accepted");
            prop_assert!(p.build.is_none_or(|b| b >= 0), "negative build accepted");
        }
    }

    #[test]
    fn timestamps_are_in_range_or_refused(y in 0i64..=99999, rest in "-[0-1][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?(Z|[+-][01][0-9]:[0-5][0-9])?") {
        let text = format!("{y:04}{rest}");
        match pipelake::timestamp::parse_micros(&text) {
            Some(m) => {
                prop_assert!(pipelake::timestamp::in_range(m));
                prop_assert!(pipelake::timestamp::is_partition_day(pipelake::timestamp::date_of_micros(m)));
            }
            None => prop_assert!(pipelake::timestamp::parse_field("t", &text).is_err()),
        }
    }

    #[test]
    fn json_decoders_answer_every_input(pipeline in hostile(PIPELINE), event in hostile(EVENT), perf in hostile(PERF)) {
        let _ = payload::decode(&pipeline);
        let _ = event::decode(&event);
        let _ = message::decode(&perf);
    }

    #[test]
    fn protobuf_framing_accounts_for_every_byte(data in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), mutated(checkins())]) {
        let frames = checkin::frames(&data, Framing::Delimited, 1 << 20);
        // Positions run 1, 2, 3…; a broken frame can only be the last one.
        for (i, (position, frame)) in frames.iter().enumerate() {
            prop_assert_eq!(*position, i as u64 + 1);
            match frame {
                Ok(bytes) => { let _ = checkin::decode(bytes); }
                Err(_) => prop_assert_eq!(i + 1, frames.len()),
            }
        }
        // The whole frames and their length prefixes cover the object unless the framing broke.
        if frames.iter().all(|(_, f)| f.is_ok()) {
            let covered: usize = frames.iter().map(|(_, f)| {
                let len = f.as_ref().unwrap().len();
                len + prost::encoding::encoded_len_varint(len as u64)
            }).sum();
            prop_assert!(covered <= data.len());
        }
    }

    #[test]
    fn decompression_answers_every_input(data in prop::collection::vec(any::<u8>(), 0..512), zstd in any::<bool>()) {
        let kind = if zstd { Compression::Zstd } else { Compression::Gzip };
        // Random bytes are (almost) never a valid stream: the damage is reported, not panicked on.
        let _ = decompress(bytes::Bytes::from(data), kind, 1 << 20);
    }

    #[test]
    fn python_literal_parser_answers_every_input(text in "\\PC{0,80}", seeded in mutated(b"[(u'a', 1.5, 2L), ('b\\'c', -3, 4)]".to_vec())) {
        let _ = literal::parse_tuple_list(&text);
        let _ = literal::parse_tuple_list(&String::from_utf8_lossy(&seeded));
    }

    #[test]
    fn python_literals_round_trip(
        tuples in prop::collection::vec(("\\PC{0,12}", any::<f64>().prop_filter("finite", |f| f.is_finite()), any::<i64>(), any::<bool>()), 0..6)
    ) {
        // Rendered as Python 2 would: u'…' strings, escaped quotes and backslashes, 123L.
        let rendered: Vec<String> = tuples.iter().map(|(s, f, i, py2)| {
            let quoted = s.replace('\\', "\\\\").replace('\'', "\\'");
            let (u, l) = if *py2 { ("u", "L") } else { ("", "") };
            format!("({u}'{quoted}', {f:?}, {i}{l})")
        }).collect();
        let parsed = literal::parse_tuple_list(&format!("[{}]", rendered.join(", "))).unwrap();
        let expected: Vec<Vec<literal::Value>> = tuples.iter().map(|(s, f, i, _)| {
            vec![literal::Value::Str(s.clone()), literal::Value::Float(*f), literal::Value::Int(*i)]
        }).collect();
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn git_log_lines_answer_every_input(line in "\\PC{0,120}", seeded in mutated(GIT_LOG.as_bytes().to_vec())) {
        let _ = gitlog::parse_line(&line);
        let _ = gitlog::parse_line(&String::from_utf8_lossy(&seeded));
        let _ = gitlog::parse_git_date(&line);
    }

    #[test]
    fn git_log_lines_round_trip(
        hash in "[0-9a-f]{7,40}",
        author in "[A-Za-z][A-Za-z ,.'-]{0,30}",
        seconds in 0i64..4_000_000_000,
        offset_minutes in -720i32..=840,
        message in "[^\\n\\r]{0,60}",
    ) {
        let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
        let at = chrono::DateTime::from_timestamp(seconds, 0).unwrap().with_timezone(&offset);
        let line = format!("{hash} - {author}, {} : {message}", at.format("%a %b %-d %H:%M:%S %Y %z"));
        let c = gitlog::parse_line(&line).map_err(|e| TestCaseError::fail(format!("{line:?}: {e}")))?;
        prop_assert_eq!(c.hash, hash);
        prop_assert_eq!(c.author, author);
        prop_assert_eq!(c.authored_at, seconds * 1_000_000);
        prop_assert_eq!(c.message, message);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Mutated objects of every source in one lake: the run succeeds and every object's records
    /// are accepted, duplicates or rejects.
    #[test]
    fn a_run_over_mutated_objects_accounts_for_every_record(
        pipelines in mutated(format!("{PIPELINE}\n{PIPELINE}\n").into_bytes()),
        events in mutated(format!("{EVENT}\n{EVENT}\n").into_bytes()),
        perf in mutated(format!("{PERF}\n").into_bytes()),
        telemetry in mutated(checkins()),
        log in mutated(format!("{GIT_LOG}\n").into_bytes()),
        gz in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let lake = common::Lake::new();
        lake.put("pipelines/dt=2026-10-01/a.ndjson", &pipelines);
        lake.put("pipelines/dt=2026-10-01/b.ndjson.gz", &gz);
        lake.put("devops_events/dt=2026-10-01/a.ndjson", &events);
        lake.put("perf/dt=2026-10-01/a.ndjson", &perf);
        lake.put("telemetry/dt=2026-10-01/a.pbd", &telemetry);
        lake.put("commits/dt=2026-10-01/project.log", &log);
        lake.ok(&["run", "--date", "2026-10-01"]);
        let db = lake.duckdb();
        prop_assert_eq!(common::scalar(&db, "SELECT count(*) FROM ingested_objects"), 6);
        prop_assert_eq!(common::scalar(&db, "SELECT count(*) FROM ingested_objects WHERE records <> accepted + duplicates + rejected + skipped"), 0);
        // Every reject names its object and says why.
        prop_assert_eq!(common::scalar(&db, "SELECT count(*) FROM rejects WHERE raw_key IS NULL OR reason = ''"), 0);
    }
}
