//! One DevOps event (FORMATS.md §3): `{"Time", "Repo", "Event", "Metadata"}`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

/// The events the service takes as input.
pub const INPUT_EVENTS: [&str; 4] = ["push", "deploy", "test_pass", "test_run"];

/// A decoded event. `time` is `None` when the sender left it out (the object's landing time
/// then stands in).
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub time: Option<i64>,
    pub repo: Cow<'a, str>,
    pub event: Cow<'a, str>,
    pub metadata: Option<String>,
    /// Commits the metadata names: a push's `commit_id`, a deploy's `commit_ids`.
    pub commit_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "Time", default)]
    time: Option<Value>,
    #[serde(rename = "Repo", borrow)]
    repo: Cow<'a, str>,
    #[serde(rename = "Event", borrow)]
    event: Cow<'a, str>,
    #[serde(rename = "Metadata", default)]
    metadata: Option<Value>,
}

/// Decode one event, or say why it is not an input event.
pub fn decode(bytes: &[u8]) -> Result<Event<'_>, String> {
    let wire: Wire<'_> = serde_json::from_slice(bytes).map_err(|e| format!("invalid event: {e}"))?;
    if wire.event.starts_with("calc_") {
        return Err(format!("derived_event: {} is computed by the service, not an input", wire.event));
    }
    if !INPUT_EVENTS.contains(&&*wire.event) {
        return Err(format!("unknown event {:?}", wire.event));
    }
    let time = match wire.time {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(crate::timestamp::parse_field("Time", &s)?),
        Some(other) => return Err(format!("Time {other} is not a timestamp")),
    };
    let metadata = match wire.metadata {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    };
    let commit_ids = metadata.as_deref().map(|m| commit_ids(&wire.event, m)).unwrap_or_default();
    Ok(Event { time, repo: wire.repo, event: wire.event, metadata, commit_ids })
}

/// The commits a push or deploy names in its metadata, when the metadata is JSON; never an error.
pub fn commit_ids(event: &str, metadata: &str) -> Vec<String> {
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(metadata) else { return Vec::new() };
    // The toolkit's own tests send numbers as commit ids: keep them as their text.
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match event {
        "push" => m.get("commit_id").and_then(text).into_iter().collect(),
        "deploy" => m.get("commit_ids").and_then(Value::as_array).map(|a| a.iter().filter_map(text).collect()).unwrap_or_default(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::parse_micros;

    #[test]
    fn seed_event_and_time_spellings() {
        let e = decode(br#"{"Time": "2021-01-01 00:00:00", "Repo": "test_repo", "Event": "push", "Metadata": "{\"pass\": true, \"commit_id\": \"abc123\"}"}"#).unwrap();
        assert_eq!(e.time, parse_micros("2021-01-01T00:00:00Z"));
        assert_eq!(e.commit_ids, vec!["abc123".to_string()]);
        let rfc = decode(
            br#"{"Time": "2021-01-01T02:00:00+02:00", "Repo": "r", "Event": "deploy", "Metadata": "{\"commit_ids\": [\"a\", \"b\"]}"}"#,
        )
        .unwrap();
        assert_eq!(rfc.time, e.time);
        assert_eq!(rfc.commit_ids, vec!["a".to_string(), "b".into()]);
    }

    #[test]
    fn missing_time_and_odd_metadata_are_not_errors() {
        let e = decode(br#"{"Repo": "ALL", "Event": "test_run"}"#).unwrap();
        assert_eq!((e.time, e.metadata, e.repo.as_ref()), (None, None, "ALL"));
        let e = decode(br#"{"Time": null, "Repo": "r", "Event": "deploy", "Metadata": "manual deploy, see wiki"}"#).unwrap();
        assert_eq!(e.metadata.as_deref(), Some("manual deploy, see wiki"));
        assert!(e.commit_ids.is_empty());
        let e = decode(br#"{"Repo": "r", "Event": "push", "Metadata": ""}"#).unwrap();
        assert_eq!(e.metadata.as_deref(), Some(""));
        let e = decode(br#"{"Repo": "r", "Event": "push", "Metadata": {"commit_id": "x"}}"#).unwrap();
        assert_eq!(e.commit_ids, vec!["x".to_string()]);
        assert_eq!(commit_ids("deploy", r#"{"commit_ids": [100, "abc", null]}"#), vec!["100".to_string(), "abc".into()]);
    }

    #[test]
    fn derived_and_unknown_events_say_why() {
        assert!(decode(br#"{"Repo": "r", "Event": "calc_deploy_frequency"}"#).unwrap_err().starts_with("derived_event"));
        assert!(decode(br#"{"Repo": "r", "Event": "calc_deployment_freq"}"#).unwrap_err().starts_with("derived_event"));
        assert!(decode(br#"{"Repo": "r", "Event": "build"}"#).unwrap_err().starts_with("unknown event"));
        assert!(decode(br#"{"Time": "yesterday", "Repo": "r", "Event": "push"}"#).unwrap_err().contains("is not an RFC 3339 timestamp"));
        assert!(decode(br#"{"Event": "push"}"#).unwrap_err().contains("Repo"));
    }
}
