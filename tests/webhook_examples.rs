//! The webhook bodies GitHub's own SDK publishes as examples (octokit's npm package
//! `@octokit/webhooks-examples`, fetched into the cache by `tests/fetch_webhook_examples.py`,
//! which `.ci/run` calls): every one is read, as an envelope and as a bare body.

mod common;

use pipelake::sources::webhooks::delivery::{bodies, parse, used_kinds, Provider};

fn examples() -> Vec<(String, Vec<serde_json::Value>)> {
    let dir = std::env::var("PIPELAKE_WEBHOOK_EXAMPLES").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/pipelake-fixtures/octokit-webhooks-examples-7.6.1")
    });
    let path = std::path::Path::new(&dir).join("api.github.com/index.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; fetch the examples with `python3 tests/fetch_webhook_examples.py`", path.display()));
    let index: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    index.into_iter().map(|event| (event["name"].as_str().unwrap().to_string(), event["examples"].as_array().unwrap().clone())).collect()
}

#[test]
fn every_example_github_publishes_is_read_and_no_other_kind_is_taken_for_a_used_one() {
    let events = examples();
    assert!(events.len() >= 50, "{} events", events.len());
    let used_kinds = used_kinds(Provider::GitHub);
    let mut read = 0;
    let mut wrong = Vec::new();
    for (event, examples) in &events {
        for (n, example) in examples.iter().enumerate() {
            let body = serde_json::to_vec(example).unwrap();
            // As the relay's envelope: the header names the kind.
            let envelope = serde_json::json!({"event": event, "delivery": format!("{event}-{n}"), "received_at": "2025-03-03T10:15:02Z", "payload": example});
            let wrapped = parse(Provider::GitHub, &serde_json::to_vec(&envelope).unwrap()).unwrap();
            assert_eq!(&wrapped.kind, event);
            assert_eq!(wrapped.payload, *example.as_object().unwrap());
            // Bare, pretty-printed or back to back: the kind told by the body's fields.
            let pretty = serde_json::to_vec_pretty(example).unwrap();
            assert_eq!(bodies(&pretty).len(), 1);
            let inferred = parse(Provider::GitHub, &body).map(|d| d.kind).ok();
            let used = used_kinds.contains(&event.as_str());
            if used && inferred.as_deref() != Some(event) || !used && inferred.as_deref().is_some_and(|k| used_kinds.contains(&k)) {
                wrong.push(format!("{event} #{n} ({}): read as {inferred:?}", example["action"]));
            }
            read += 1;
        }
    }
    assert!(wrong.is_empty(), "bare bodies taken for another kind:\n{}", wrong.join("\n"));
    assert!(read > 300, "{read} examples");
    // Firehose writes bodies back to back: every push example in one line.
    let pushes = &events.iter().find(|(e, _)| e == "push").unwrap().1;
    let line: Vec<u8> = pushes.iter().flat_map(|p| serde_json::to_vec(p).unwrap()).collect();
    let split = bodies(&line);
    assert_eq!(split.len(), pushes.len());
    assert!(split.into_iter().all(|b| parse(Provider::GitHub, b.unwrap()).unwrap().kind == "push"));
}

#[test]
fn every_example_of_a_kind_the_folds_read_has_its_repo_its_time_and_a_key() {
    let mut keys = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for (event, examples) in examples() {
        for (n, example) in examples.iter().enumerate() {
            let envelope = serde_json::json!({"event": event, "delivery": "x", "payload": example});
            let delivery = parse(Provider::GitHub, &serde_json::to_vec(&envelope).unwrap()).unwrap();
            if !delivery.is_used(Provider::GitHub) {
                assert_eq!(delivery.content_key(Provider::GitHub), None, "{event} #{n}");
                continue;
            }
            let what = format!("{event} #{n} ({})", example["action"]);
            assert!(delivery.repo(Provider::GitHub).is_some_and(|r| r.contains('/')), "{what}: no repo");
            let at = delivery.occurred_at(Provider::GitHub).unwrap_or_else(|| panic!("{what}: no time"));
            assert!(at.timestamp() > 1_200_000_000, "{what}: {at}");
            let key = delivery.content_key(Provider::GitHub).unwrap_or_else(|| panic!("{what}: no key"));
            // The same body bare (as a REST backfill or another relay writes it) is the same event.
            let bare = parse(Provider::GitHub, &serde_json::to_vec(example).unwrap()).unwrap();
            assert_eq!(bare.content_key(Provider::GitHub), Some(key.clone()), "{what}");
            keys.entry(event.clone()).or_default().insert(key);
        }
    }
    // Every kind the folds read has examples; distinct events are told apart (GitHub's
    // deployment examples are all one deployment, with and without an installation).
    for kind in used_kinds(Provider::GitHub) {
        assert!(keys.get(*kind).is_some_and(|k| !k.is_empty()), "{kind}: no example");
    }
    for kind in ["push", "workflow_job", "issues", "pull_request"] {
        assert!(keys[kind].len() >= 3, "{kind}: {:?}", keys[kind]);
    }
}

#[test]
fn every_example_github_publishes_is_ingested_without_a_reject() {
    let lake = common::Lake::new();
    let (mut envelopes, mut bare, mut used, mut skipped) = (String::new(), String::new(), 0i64, 0i64);
    for (event, examples) in examples() {
        for (n, example) in examples.iter().enumerate() {
            envelopes += &format!("{}\n", serde_json::json!({"event": event, "delivery": format!("{event}-{n}"), "payload": example}));
            // Those of used kinds once more bare, back to back: the same events by their content.
            // (A bare body of another kind may not be told: FORMATS.md makes it a reject.)
            if used_kinds(Provider::GitHub).contains(&event.as_str()) {
                bare += &example.to_string();
                used += 1;
            } else {
                skipped += 1;
            }
        }
    }
    lake.put("github/dt=2026-10-01/examples.ndjson", envelopes);
    lake.put("github/dt=2026-10-01/firehose.json", bare);
    lake.ok(&["ingest", "--source", "github"]);
    let db = lake.duckdb();
    assert_eq!(common::rows(&db, "SELECT reason FROM rejects"), Vec::<Vec<String>>::new());
    let counted = common::rows(&db, "SELECT sum(records), sum(accepted) + sum(duplicates), sum(skipped) FROM ingested_objects");
    assert_eq!(counted, vec![vec![(2 * used + skipped).to_string(), (2 * used).to_string(), skipped.to_string()]]);
    // Each example of a used kind once (GitHub's deployment examples are one deployment).
    let kept = common::scalar(&db, "SELECT (SELECT count(*) FROM deployment_events) + (SELECT count(*) FROM change_events) + (SELECT count(*) FROM incident_events) + (SELECT count(*) FROM ci_events)");
    assert!(kept > used / 2 && kept <= used, "{kept} of {used}");
    let status = lake.ok(&["status"]);
    assert!(status.contains("star "), "skipped kinds by name: {status}");
}
