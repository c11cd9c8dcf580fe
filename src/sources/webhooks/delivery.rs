//! Webhook deliveries as they land (FORMATS.md §6): envelope lines, or bare bodies (a `.json`
//! object, NDJSON of bodies, Firehose output with bodies back to back), each told apart and
//! given its kind. What a kind means is for the folds; this only says what arrived.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Who sent the deliveries: the source folder they landed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    PagerDuty,
}

impl Provider {
    /// The source (and folder) name.
    pub fn name(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::PagerDuty => "pagerduty",
        }
    }
}

/// One delivery: its kind, the id the sender gave it (envelopes only: a redelivery keeps it),
/// when the relay received it, and the webhook body.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// GitHub's event name (`push`, `deployment_status`, `workflow_run`, `issues`, ...), GitLab's
    /// `object_kind` (`push`, `pipeline`, `build`, `deployment`, `issue`, `merge_request`, ...),
    /// PagerDuty's `event_type` (`incident.triggered`, ...).
    pub kind: String,
    pub delivery_id: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub payload: Map<String, Value>,
}

/// The JSON values of one record (a line, or a whole `.json` object), as byte ranges: one
/// usually, several where a relay wrote bodies back to back (`…}{…`). What cannot be read ends
/// the record with the reason, as the last item.
pub fn bodies(text: &[u8]) -> Vec<Result<&[u8], String>> {
    let mut out = Vec::new();
    let mut values = serde_json::Deserializer::from_slice(text).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    loop {
        match values.next() {
            None => break,
            Some(Ok(_)) => {
                let end = values.byte_offset();
                out.push(Ok(text[start..end].trim_ascii()));
                start = end;
            }
            Some(Err(e)) => {
                out.push(Err(format!("not JSON: {e}")));
                break;
            }
        }
    }
    out
}

/// Read one body: an envelope (`{"event", "delivery", "received_at", "payload"}`) or a bare
/// webhook body whose kind is told by its own fields.
pub fn parse(provider: Provider, body: &[u8]) -> Result<Delivery, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut object) = value else { return Err(format!("not a {} webhook body: not a JSON object", provider.name())) };
    if let (Some(Value::String(event)), Some(Value::Object(_))) = (object.get("event"), object.get("payload")) {
        let kind = normalise_event(provider, event);
        let delivery_id = match object.get("delivery") {
            Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let received_at = match object.get("received_at") {
            Some(Value::String(t)) => Some(parse_time(t).ok_or_else(|| format!("received_at {t:?} is not a time"))?),
            _ => None,
        };
        let Some(Value::Object(payload)) = object.remove("payload") else { unreachable!("checked above") };
        return Ok(Delivery { kind, delivery_id, received_at, payload });
    }
    let kind = infer_kind(provider, &object).ok_or_else(|| {
        let keys: Vec<&str> = object.keys().take(8).map(String::as_str).collect();
        format!("not a {} webhook body: its kind cannot be told from its fields ({})", provider.name(), keys.join(", "))
    })?;
    Ok(Delivery { kind, delivery_id: None, received_at: None, payload: object })
}

/// An envelope's event name as the kind the bare body would have: GitLab's `X-Gitlab-Event`
/// header names (`Pipeline Hook`, `Job Hook`) become the `object_kind` (`pipeline`, `build`).
fn normalise_event(provider: Provider, event: &str) -> String {
    match provider {
        Provider::GitLab => {
            let name = event.trim().trim_end_matches(" Hook").trim().to_ascii_lowercase().replace(' ', "_");
            match name.as_str() {
                "job" => "build".to_string(),
                "system" => "system_hook".to_string(),
                _ => name,
            }
        }
        Provider::GitHub | Provider::PagerDuty => event.trim().to_string(),
    }
}

/// The kind of a bare body, from its fields.
fn infer_kind(provider: Provider, body: &Map<String, Value>) -> Option<String> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    match provider {
        Provider::GitLab => text(body.get("object_kind")),
        Provider::PagerDuty => text(body.get("event").and_then(|e| e.get("event_type"))),
        Provider::GitHub => {
            let has = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
            let kind = if has("workflow_job") {
                "workflow_job"
            } else if has("deployment_status") {
                "deployment_status"
            } else if has("deployment") {
                "deployment"
            } else if has("workflow_run") && has("workflow") {
                "workflow_run"
            } else if has("check_run") {
                "check_run"
            } else if has("check_suite") {
                "check_suite"
            } else if has("pull_request") {
                // Reviews and their comments carry the pull request too (octokit's examples).
                if has("comment") {
                    "pull_request_review_comment"
                } else if has("review") {
                    "pull_request_review"
                } else if has("thread") {
                    "pull_request_review_thread"
                } else {
                    "pull_request"
                }
            } else if has("issue") {
                // A comment carries its issue: it is no issue event.
                if has("comment") {
                    "issue_comment"
                } else {
                    "issues"
                }
            } else if has("ref") && has("before") && has("after") {
                "push"
            } else {
                return None;
            };
            Some(kind.to_string())
        }
    }
}

/// A time as the senders write them, in UTC: RFC 3339 (`…Z`, `…-05:00`), GitLab's
/// `2016-08-12 15:23:28 UTC` and `2021-04-28 21:50:00 +0200`. The offset is applied, never
/// dropped.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Some(utc) = text.strip_suffix(" UTC") {
        return chrono::NaiveDateTime::parse_from_str(utc.trim(), "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc());
    }
    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %z").ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<Result<String, String>> {
        bodies(text.as_bytes()).into_iter().map(|b| b.map(|b| String::from_utf8(b.to_vec()).unwrap())).collect()
    }

    #[test]
    fn bodies_back_to_back_pretty_or_one_per_line_are_told_apart() {
        assert_eq!(
            texts(r#"{"a":1}{"b":{"c":2}} {"d":3}"#),
            vec![Ok(r#"{"a":1}"#.into()), Ok(r#"{"b":{"c":2}}"#.into()), Ok(r#"{"d":3}"#.into())]
        );
        assert_eq!(texts("{\n  \"a\": 1\n}\n"), vec![Ok("{\n  \"a\": 1\n}".into())]);
        let cut = texts(r#"{"a":1}{"b":"#);
        assert_eq!(cut[0], Ok(r#"{"a":1}"#.into()));
        assert!(cut[1].as_ref().is_err_and(|e| e.starts_with("not JSON")), "{cut:?}");
        assert!(texts("   ").is_empty());
    }

    #[test]
    fn an_envelope_and_the_bare_body_give_the_same_delivery_but_for_its_id() {
        let body = r#"{"ref":"refs/heads/main","before":"a","after":"b","commits":[]}"#;
        let bare = parse(Provider::GitHub, body.as_bytes()).unwrap();
        assert_eq!(bare.kind, "push");
        assert_eq!(bare.delivery_id, None);
        let envelope =
            format!(r#"{{"event":"push","delivery":"d-1","received_at":"2025-03-03T10:15:02Z","headers":{{}},"payload":{body}}}"#);
        let wrapped = parse(Provider::GitHub, envelope.as_bytes()).unwrap();
        assert_eq!(wrapped.payload, bare.payload);
        assert_eq!(wrapped.delivery_id.as_deref(), Some("d-1"));
        assert_eq!(wrapped.received_at, parse_time("2025-03-03T10:15:02Z"));
    }

    #[test]
    fn kinds_are_told_by_each_senders_rules() {
        let kind = |p, body: &str| parse(p, body.as_bytes()).map(|d| d.kind);
        assert_eq!(
            kind(Provider::GitHub, r#"{"deployment":{"id":1},"deployment_status":{"state":"success"}}"#).unwrap(),
            "deployment_status"
        );
        assert_eq!(kind(Provider::GitHub, r#"{"deployment":{"id":1}}"#).unwrap(), "deployment");
        assert_eq!(kind(Provider::GitHub, r#"{"workflow_run":{"id":1},"workflow":{}}"#).unwrap(), "workflow_run");
        assert_eq!(kind(Provider::GitHub, r#"{"action":"opened","issue":{"id":1}}"#).unwrap(), "issues");
        assert_eq!(kind(Provider::GitHub, r#"{"action":"created","issue":{"id":1},"comment":{}}"#).unwrap(), "issue_comment");
        assert_eq!(kind(Provider::GitHub, r#"{"action":"submitted","pull_request":{},"review":{}}"#).unwrap(), "pull_request_review");
        assert_eq!(kind(Provider::GitLab, r#"{"object_kind":"build","build_id":1}"#).unwrap(), "build");
        assert_eq!(kind(Provider::GitLab, r#"{"event":"Job Hook","payload":{"object_kind":"build"}}"#).unwrap(), "build");
        assert_eq!(kind(Provider::GitLab, r#"{"event":"Merge Request Hook","payload":{}}"#).unwrap(), "merge_request");
        assert_eq!(
            kind(Provider::PagerDuty, r#"{"event":{"id":"e","event_type":"incident.resolved","data":{}}}"#).unwrap(),
            "incident.resolved"
        );
        // A body whose kind cannot be told, or no object at all, is a reject with the reason.
        let unknown = kind(Provider::GitHub, r#"{"zen":"Keep it logically awesome."}"#).unwrap_err();
        assert!(unknown.contains("kind cannot be told") && unknown.contains("zen"), "{unknown}");
        assert!(kind(Provider::GitLab, "[1,2]").unwrap_err().contains("not a JSON object"));
        assert!(kind(Provider::GitHub, r#"{"event":"push","received_at":"yesterday","payload":{}}"#).unwrap_err().contains("yesterday"));
    }

    #[test]
    fn times_keep_their_offsets() {
        let utc = |s| parse_time(s).map(|t| t.to_rfc3339());
        assert_eq!(utc("2016-08-12 15:23:28 UTC").as_deref(), Some("2016-08-12T15:23:28+00:00"));
        assert_eq!(utc("2021-04-28 21:50:00 +0200").as_deref(), Some("2021-04-28T19:50:00+00:00"));
        assert_eq!(utc("2025-03-03T10:15:02-05:00").as_deref(), Some("2025-03-03T15:15:02+00:00"));
        assert_eq!(utc("2025-03-03T10:15:02.123Z").as_deref(), Some("2025-03-03T10:15:02.123+00:00"));
        assert_eq!(utc("last tuesday"), None);
    }
}
