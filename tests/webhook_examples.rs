//! The webhook bodies GitHub's own SDK publishes as examples (octokit's npm package
//! `@octokit/webhooks-examples`, fetched into the cache by `tests/fetch_webhook_examples.py`,
//! which `.ci/run` calls): every one is read, as an envelope and as a bare body.

use pipelake::sources::webhooks::delivery::{bodies, parse, Provider};

/// The kinds the DORA and CI folds use; a bare body of any other kind must never be taken for one.
const USED: &[&str] = &["push", "deployment", "deployment_status", "workflow_run", "workflow_job", "issues", "pull_request"];

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
            let used = USED.contains(&event.as_str());
            if used && inferred.as_deref() != Some(event) || !used && inferred.as_deref().is_some_and(|k| USED.contains(&k)) {
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
