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

/// The kinds the DORA and CI folds read, per sender; deliveries of any other kind are valid
/// but skipped.
pub fn used_kinds(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::GitHub => &["push", "deployment", "deployment_status", "workflow_run", "workflow_job", "issues", "pull_request"],
        Provider::GitLab => &["push", "pipeline", "build", "deployment", "issue", "merge_request"],
        Provider::PagerDuty => &[
            "incident.triggered",
            "incident.acknowledged",
            "incident.resolved",
            "incident.reopened",
            "incident.priority_updated",
            "incident.escalated",
        ],
    }
}

impl Delivery {
    /// Whether the folds read deliveries of this kind.
    pub fn is_used(&self, provider: Provider) -> bool {
        used_kinds(provider).contains(&self.kind.as_str())
    }

    /// The text at a path of keys in the body (numbers as written).
    fn text(&self, path: &[&str]) -> Option<String> {
        let (first, rest) = path.split_first()?;
        let mut value = self.payload.get(*first)?;
        for key in rest {
            value = value.get(*key)?;
        }
        match value {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The time at the first of `paths` present, in UTC; an error when it holds no time pipelake
    /// can store (a body is never timed by a later field when its first says nonsense).
    fn time(&self, paths: &[&[&str]]) -> Result<Option<DateTime<Utc>>, String> {
        let Some((path, text)) = paths.iter().find_map(|p| Some((p, self.text(p)?))) else { return Ok(None) };
        // GitHub writes a push's `repository.pushed_at` as epoch seconds.
        let time = match text.parse::<i64>() {
            Ok(seconds) => DateTime::from_timestamp(seconds, 0),
            Err(_) => parse_time(&text),
        };
        match time {
            Some(t) if crate::timestamp::in_range(t.timestamp_micros()) => Ok(Some(t)),
            _ => Err(format!("{} {text:?} is not a time of the years 1 to 9999", path.join("."))),
        }
    }

    /// The repository: GitHub's `repository.full_name`, GitLab's `project.path_with_namespace`;
    /// none for PagerDuty (its services map to repositories by configuration).
    pub fn repo(&self, provider: Provider) -> Option<String> {
        match provider {
            Provider::GitHub => self.text(&["repository", "full_name"]),
            // A job hook of older GitLab versions has no `project`: its repository's home page
            // is `<host>/<path_with_namespace>`.
            Provider::GitLab => self.text(&["project", "path_with_namespace"]).or_else(|| {
                let page = self.text(&["repository", "homepage"])?;
                let path = page.split_once("://").map_or(page.as_str(), |(_, rest)| rest).split_once('/')?.1.trim_end_matches('/');
                (!path.is_empty()).then(|| path.to_string())
            }),
            Provider::PagerDuty => None,
        }
    }

    /// When the event happened, by the body's own times (never by arrival): what folds order
    /// deliveries by, and the day they belong to. `None` when the body carries no time; an error
    /// when the field that should hold it holds something else.
    pub fn occurred_at(&self, provider: Provider) -> Result<Option<DateTime<Utc>>, String> {
        let action = self.text(&["action"]).unwrap_or_default();
        match (provider, self.kind.as_str()) {
            (Provider::GitHub, "push") => self.time(&[&["repository", "pushed_at"], &["head_commit", "timestamp"]]),
            (Provider::GitHub, "deployment") => self.time(&[&["deployment", "created_at"]]),
            (Provider::GitHub, "deployment_status") => {
                self.time(&[&["deployment_status", "created_at"], &["deployment_status", "updated_at"]])
            }
            (Provider::GitHub, "workflow_run") => self.time(&[&["workflow_run", "updated_at"], &["workflow_run", "created_at"]]),
            (Provider::GitHub, "workflow_job") => {
                self.time(&[&["workflow_job", "completed_at"], &["workflow_job", "started_at"], &["workflow_job", "created_at"]])
            }
            (Provider::GitHub, "issues") if action == "opened" => self.time(&[&["issue", "created_at"]]),
            (Provider::GitHub, "issues") if action == "closed" => self.time(&[&["issue", "closed_at"], &["issue", "updated_at"]]),
            (Provider::GitHub, "issues") => self.time(&[&["issue", "updated_at"], &["issue", "created_at"]]),
            (Provider::GitHub, "pull_request") => self.time(&[
                &["pull_request", "merged_at"],
                &["pull_request", "closed_at"],
                &["pull_request", "updated_at"],
                &["pull_request", "created_at"],
            ]),
            (Provider::GitLab, "push") => Ok(self.last_commit_time()),
            (Provider::GitLab, "pipeline") => self.time(&[&["object_attributes", "finished_at"], &["object_attributes", "created_at"]]),
            (Provider::GitLab, "build") => self.time(&[&["build_finished_at"], &["build_started_at"], &["build_created_at"]]),
            (Provider::GitLab, "deployment") => self.time(&[&["status_changed_at"]]),
            (Provider::GitLab, "issue" | "merge_request") => {
                self.time(&[&["object_attributes", "updated_at"], &["object_attributes", "created_at"]])
            }
            (Provider::PagerDuty, _) => self.time(&[&["event", "occurred_at"]]),
            _ => Ok(None),
        }
    }

    /// A GitLab push carries no push time: its newest commit's.
    fn last_commit_time(&self) -> Option<DateTime<Utc>> {
        let commits = self.payload.get("commits")?.as_array()?;
        commits.iter().filter_map(|c| c.get("timestamp")?.as_str().and_then(parse_time)).max()
    }

    /// What makes two deliveries the same event, whatever their delivery ids (a relay that
    /// delivers at least once, a REST backfill of what a webhook already brought): the event's
    /// own identity and state, per kind. `None` for kinds the folds do not read.
    pub fn content_key(&self, provider: Provider) -> Option<String> {
        let parts: &[&[&str]] = match (provider, self.kind.as_str()) {
            (Provider::GitHub, "push") => &[&["repository", "full_name"], &["ref"], &["after"]],
            (Provider::GitHub, "deployment") => &[&["deployment", "id"]],
            (Provider::GitHub, "deployment_status") => &[&["deployment_status", "id"], &["deployment_status", "state"]],
            (Provider::GitHub, "workflow_run") => &[
                &["workflow_run", "id"],
                &["workflow_run", "run_attempt"],
                &["workflow_run", "status"],
                &["workflow_run", "conclusion"],
                &["workflow_run", "updated_at"],
            ],
            (Provider::GitHub, "workflow_job") => {
                &[&["workflow_job", "id"], &["workflow_job", "status"], &["workflow_job", "conclusion"], &["workflow_job", "completed_at"]]
            }
            (Provider::GitHub, "issues") => &[&["issue", "id"], &["action"], &["issue", "updated_at"], &["label", "name"]],
            (Provider::GitHub, "pull_request") => &[&["pull_request", "id"], &["action"], &["pull_request", "updated_at"]],
            (Provider::GitLab, "push") => &[&["project", "path_with_namespace"], &["ref"], &["after"]],
            (Provider::GitLab, "pipeline") => {
                &[&["object_attributes", "id"], &["object_attributes", "status"], &["object_attributes", "finished_at"]]
            }
            (Provider::GitLab, "build") => &[&["build_id"], &["build_status"], &["build_finished_at"]],
            (Provider::GitLab, "deployment") => &[&["deployment_id"], &["status"], &["status_changed_at"]],
            (Provider::GitLab, "issue" | "merge_request") => {
                &[&["object_attributes", "id"], &["object_attributes", "action"], &["object_attributes", "updated_at"]]
            }
            (Provider::PagerDuty, _) => &[&["event", "id"]],
            _ => return None,
        };
        if !self.is_used(provider) {
            return None;
        }
        let mut values: Vec<String> = parts.iter().map(|p| self.text(p).unwrap_or_default()).collect();
        if let (true, Provider::GitLab, "deployment", Some(job)) =
            (values[0].is_empty(), provider, self.kind.as_str(), self.text(&["deployable_id"]))
        {
            // Older GitLab versions send no deployment_id: the deployment job's id stands in.
            values[0] = format!("job:{job}");
        }
        // The first part is the event's identity: without it there is nothing to key on.
        if values[0].is_empty() {
            return None;
        }
        Some(format!("{}\u{1f}{}", self.kind, values.join("\u{1f}")))
    }
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
        // System hooks name their event in `event_name` (`project_create`, `subgroup_create`).
        Provider::GitLab => text(body.get("object_kind")).or_else(|| text(body.get("event_name"))),
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
    fn gitlab_and_pagerduty_deliveries_have_their_repo_time_and_key() {
        let gl = |body: &str| parse(Provider::GitLab, body.as_bytes()).unwrap();
        let push = gl(r#"{"object_kind":"push","ref":"refs/heads/main","before":"a","after":"b","project":{"path_with_namespace":"g/p"},
            "commits":[{"id":"1","timestamp":"2021-04-28T21:50:00+02:00"},{"id":"2","timestamp":"2021-04-28T22:10:00+02:00"}]}"#);
        assert_eq!(push.repo(Provider::GitLab).as_deref(), Some("g/p"));
        assert_eq!(push.occurred_at(Provider::GitLab), Ok(parse_time("2021-04-28T20:10:00Z")), "the newest commit, offset applied");
        assert_eq!(push.content_key(Provider::GitLab).as_deref(), Some("push\u{1f}g/p\u{1f}refs/heads/main\u{1f}b"));
        let deploy =
            gl(r#"{"object_kind":"deployment","deployment_id":15,"status":"success","status_changed_at":"2021-04-28 21:50:00 +0200",
            "project":{"path_with_namespace":"g/p"}}"#);
        assert_eq!(deploy.occurred_at(Provider::GitLab), Ok(parse_time("2021-04-28T19:50:00Z")));
        let failed =
            gl(r#"{"object_kind":"deployment","deployment_id":15,"status":"failed","status_changed_at":"2021-04-28 21:40:00 +0200"}"#);
        assert_ne!(failed.content_key(Provider::GitLab), deploy.content_key(Provider::GitLab), "another status of one deployment");
        let job = gl(
            r#"{"object_kind":"build","build_id":7,"build_status":"failed","build_started_at":"2016-08-12 15:23:28 UTC","build_finished_at":null}"#,
        );
        assert_eq!(job.occurred_at(Provider::GitLab), Ok(parse_time("2016-08-12T15:23:28Z")));
        // Kinds the folds do not read have no key: they are skipped, not deduplicated.
        assert_eq!(gl(r#"{"object_kind":"note","project":{"path_with_namespace":"g/p"}}"#).content_key(Provider::GitLab), None);

        let pd = parse(
            Provider::PagerDuty,
            br#"{"event":{"id":"01E","event_type":"incident.resolved","occurred_at":"2025-03-03T10:15:02.123Z","data":{"id":"PX"}}}"#,
        )
        .unwrap();
        assert!(pd.is_used(Provider::PagerDuty));
        assert_eq!(pd.repo(Provider::PagerDuty), None, "services map to repositories by configuration");
        assert_eq!(pd.occurred_at(Provider::PagerDuty), Ok(parse_time("2025-03-03T10:15:02.123Z")));
        assert_eq!(pd.content_key(Provider::PagerDuty).as_deref(), Some("incident.resolved\u{1f}01E"));
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
