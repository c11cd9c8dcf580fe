//! The event tables the webhook sources append to: one row per distinct delivery of a used kind,
//! with the body kept whole (compact JSON), partitioned by the UTC day of the event's own time.
//! Four tables by what the folds read, so that each fold reads only its kinds.

use polars::prelude::*;

use super::delivery::Provider;
use crate::timestamp::MICROS_PER_DAY;
use crate::warehouse::{columns, timestamp_column, ColumnDef, TableDef, TableKind};

const EVENT_COLUMNS: &[ColumnDef] = columns![
    "source" "VARCHAR" "github, gitlab or pagerduty",
    "kind" "VARCHAR" "GitHub's X-GitHub-Event, GitLab's object_kind (build for a job), PagerDuty's event_type",
    "delivery_id" "VARCHAR" "X-GitHub-Delivery, GitLab's Idempotency-Key or event UUID, PagerDuty's event id (NULL for bare bodies)",
    "content_key" "VARCHAR" "the event's identity and state per kind: what makes a redelivery without a delivery id, or a REST backfill, the same event",
    "repo" "VARCHAR" "owner/name (GitLab's path_with_namespace); NULL for PagerDuty, whose services map to repositories by configuration",
    "occurred_at" "TIMESTAMP" "the event's own time, UTC (offsets applied), which folds order by; only for a body that carries none (GitLab deployment hooks before status_changed_at) the relay's received_at, else the object's landing time",
    "received_at" "TIMESTAMP" "when the relay received it (envelopes only)",
    "payload" "VARCHAR" "the webhook body as JSON",
];

/// Deployments and their statuses (GitHub `deployment`, `deployment_status`; GitLab `deployment`).
pub static DEPLOYMENT_EVENTS: TableDef = TableDef {
    name: "deployment_events",
    dir: "deployment_events",
    kind: TableKind::Fact,
    doc: "One row per distinct deployment or deployment status delivery (GitHub, GitLab); partitioned by the UTC day of occurred_at.",
    columns: EVENT_COLUMNS,
};

/// Pushes and pull/merge requests.
pub static CHANGE_EVENTS: TableDef = TableDef {
    name: "change_events",
    dir: "change_events",
    kind: TableKind::Fact,
    doc: "One row per distinct push or pull/merge request delivery (GitHub, GitLab); partitioned by the UTC day of occurred_at.",
    columns: EVENT_COLUMNS,
};

/// Issues and PagerDuty incidents.
pub static INCIDENT_EVENTS: TableDef = TableDef {
    name: "incident_events",
    dir: "incident_events",
    kind: TableKind::Fact,
    doc: "One row per distinct issue delivery (GitHub, GitLab) or PagerDuty incident event; partitioned by the UTC day of occurred_at.",
    columns: EVENT_COLUMNS,
};

/// Workflow runs and jobs, GitLab pipelines and jobs.
pub static CI_EVENTS: TableDef = TableDef {
    name: "ci_events",
    dir: "ci_events",
    kind: TableKind::Fact,
    doc: "One row per distinct workflow run or job (GitHub), pipeline or job (GitLab) delivery; partitioned by the UTC day of occurred_at.",
    columns: EVENT_COLUMNS,
};

/// The table a used kind goes to.
pub fn table_of(provider: Provider, kind: &str) -> Option<&'static TableDef> {
    Some(match (provider, kind) {
        (Provider::GitHub, "deployment" | "deployment_status") | (Provider::GitLab, "deployment") => &DEPLOYMENT_EVENTS,
        (Provider::GitHub, "push" | "pull_request") | (Provider::GitLab, "push" | "merge_request") => &CHANGE_EVENTS,
        (Provider::GitHub, "issues") | (Provider::GitLab, "issue") | (Provider::PagerDuty, _) => &INCIDENT_EVENTS,
        (Provider::GitHub, "workflow_run" | "workflow_job") | (Provider::GitLab, "pipeline" | "build") => &CI_EVENTS,
        _ => return None,
    })
}

/// One delivery as stored.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub source: &'static str,
    pub kind: String,
    pub delivery_id: Option<String>,
    pub content_key: Option<String>,
    pub repo: Option<String>,
    pub occurred_at: i64,
    pub received_at: Option<i64>,
    pub payload: String,
}

/// The rows as a frame of [`EVENT_COLUMNS`] plus `date`.
pub fn frame(rows: &[&EventRow]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("source".into(), rows.iter().map(|r| r.source).collect::<Vec<_>>()),
        Column::new("kind".into(), rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>()),
        Column::new("delivery_id".into(), rows.iter().map(|r| r.delivery_id.as_deref()).collect::<Vec<_>>()),
        Column::new("content_key".into(), rows.iter().map(|r| r.content_key.as_deref()).collect::<Vec<_>>()),
        Column::new("repo".into(), rows.iter().map(|r| r.repo.as_deref()).collect::<Vec<_>>()),
        timestamp_column("occurred_at", rows.iter().map(|r| Some(r.occurred_at))),
        timestamp_column("received_at", rows.iter().map(|r| r.received_at)),
        Column::new("payload".into(), rows.iter().map(|r| r.payload.as_str()).collect::<Vec<_>>()),
        Int32Chunked::from_vec("date".into(), rows.iter().map(|r| r.occurred_at.div_euclid(MICROS_PER_DAY) as i32).collect())
            .into_date()
            .into_column(),
    ])
}
