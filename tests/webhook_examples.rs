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
            let at = delivery.occurred_at(Provider::GitHub).unwrap().unwrap_or_else(|| panic!("{what}: no time"));
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

/// The folder of GitLab's examples: the test data of its Go client, fetched beside GitHub's.
fn gitlab_examples() -> Vec<(String, serde_json::Value)> {
    let github = std::env::var("PIPELAKE_WEBHOOK_EXAMPLES").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/pipelake-fixtures/octokit-webhooks-examples-7.6.1")
    });
    let dir = std::path::Path::new(&github).parent().unwrap().join("go-gitlab-0.73.1-2-webhooks");
    let mut out: Vec<(String, serde_json::Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; fetch the examples with `python3 tests/fetch_webhook_examples.py`", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_example_gitlab_publishes_is_ingested_without_a_reject_and_folded() {
    let examples = gitlab_examples();
    assert!(examples.len() >= 15, "{} examples", examples.len());
    let lake = common::Lake::new();
    // Each bare, as a `.json` object the relay wrote, and all of them as envelopes named by
    // the header GitLab sends.
    let mut envelopes = String::new();
    for (name, body) in &examples {
        lake.put(&format!("gitlab/dt=2026-10-01/{name}"), serde_json::to_vec_pretty(body).unwrap());
        let header = match body["object_kind"].as_str() {
            Some("build") => "Job Hook".to_string(),
            Some("merge_request") => "Merge Request Hook".to_string(),
            Some(kind) => format!("{}{} Hook", kind[..1].to_uppercase(), &kind[1..]).replace('_', " "),
            None => "System Hook".to_string(),
        };
        envelopes += &format!(
            "{}\n",
            serde_json::json!({"event": header, "delivery": name, "received_at": "2026-10-01T12:00:00Z", "payload": body})
        );
    }
    lake.put("gitlab/dt=2026-10-02/envelopes.ndjson", envelopes);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let db = lake.duckdb();
    assert_eq!(common::rows(&db, "SELECT raw_key, reason FROM rejects"), Vec::<Vec<String>>::new());
    let counts = common::rows(&db, "SELECT sum(records), sum(accepted), sum(duplicates), sum(skipped) FROM ingested_objects");
    let used = examples
        .iter()
        .filter(|(_, b)| {
            ["push", "pipeline", "build", "deployment", "issue", "merge_request"].contains(&b["object_kind"].as_str().unwrap_or(""))
        })
        .count();
    let n = examples.len();
    // Bare and enveloped are the same events: once accepted, once a duplicate by content.
    assert_eq!(counts, vec![vec![(2 * n).to_string(), used.to_string(), used.to_string(), (2 * (n - used)).to_string()]]);
    // The deployment (a GitLab before status_changed_at: timed by its arrival) with its full
    // sha from the commit URL; a staging deployment, so no DORA deployment.
    assert_eq!(
        common::rows(&db, "SELECT repo, sha, environment, production, final_state FROM deployments"),
        vec![vec![
            "root/test-deployment-webhooks".to_string(),
            "279484c09fbe69ededfced8c1bb6e6d24616b468".into(),
            "staging".into(),
            "false".into(),
            "success".into()
        ]]
    );
    // The push's commits with their offsets applied; the old job hook's repository from its home page.
    assert_eq!(
        common::rows(&db, "SELECT repo, sha, committed_at FROM changes WHERE repo = 'mike/diaspora' ORDER BY committed_at"),
        vec![
            vec!["mike/diaspora".to_string(), "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327".into(), "2011-12-12 12:27:31".into()],
            vec!["mike/diaspora".to_string(), "da1560886d4f094c3e6c9ef40349f7d38b5d27d7".into(), "2012-01-03 21:36:29".into()],
        ]
    );
    assert_eq!(common::scalar(&db, "SELECT count(*) FROM ci_events WHERE kind = 'build' AND repo = 'gitlab-org/gitlab-test'"), 1);
}
