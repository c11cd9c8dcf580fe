//! The webhook sources `github`, `gitlab` and `pagerduty` (FORMATS.md §6): what teams that
//! have no DevOps toolkit compute DORA and CI health from. Deliveries are told apart and given
//! their kind in [`delivery`], deduplicated by delivery id and by content key, and appended to
//! the event tables of [`events`]; the DORA folds read them from there.

pub mod delivery;
pub mod events;
mod generate;

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDate;

use super::{ndjson, BatchOutcome, IngestContext, LoadedObject, Reject, Source};
use crate::error::{PolarsContext, Result};
use crate::generate::{DayObjects, GenerateOptions};
use crate::timestamp::{date_of_micros, in_range};
use crate::warehouse::{TableDef, Txn, Warehouse};
pub use delivery::Provider;
pub use events::{EventRow, CHANGE_EVENTS, CI_EVENTS, DEPLOYMENT_EVENTS, INCIDENT_EVENTS};

/// A webhook source: one per sender.
pub struct WebhookSource(pub Provider);

/// Source `github`.
pub static GITHUB: WebhookSource = WebhookSource(Provider::GitHub);
/// Source `gitlab`.
pub static GITLAB: WebhookSource = WebhookSource(Provider::GitLab);
/// Source `pagerduty`.
pub static PAGERDUTY: WebhookSource = WebhookSource(Provider::PagerDuty);

/// What one body of a record gave.
enum Body {
    Event(EventRow),
    /// A valid delivery of a kind the folds do not read.
    Skipped(String),
    Reject(String, Vec<u8>),
}

impl Source for WebhookSource {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn tables(&self) -> &'static [&'static TableDef] {
        static REPOSITORY_HOSTS: [&TableDef; 4] = [&DEPLOYMENT_EVENTS, &CHANGE_EVENTS, &INCIDENT_EVENTS, &CI_EVENTS];
        static INCIDENT_TOOLS: [&TableDef; 1] = [&INCIDENT_EVENTS];
        match self.0 {
            Provider::GitHub | Provider::GitLab => &REPOSITORY_HOSTS,
            Provider::PagerDuty => &INCIDENT_TOOLS,
        }
    }

    fn generate(&self, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
        generate::day(self.0, options, day_index, date)
    }

    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome> {
        let provider = self.0;
        let mut outcome = BatchOutcome::new(batch.len());
        let decoded = ndjson::decode_records(batch, self.name(), &ctx.settings.limits, &mut outcome, |i, text| {
            Ok(decode_record(provider, text, batch[i].landing_time()))
        });

        let days: BTreeSet<NaiveDate> = decoded
            .iter()
            .filter_map(|(_, _, r, _)| r.as_ref().ok())
            .flatten()
            .filter_map(|b| match b {
                Body::Event(e) => Some(date_of_micros(e.occurred_at)),
                _ => None,
            })
            .collect();
        let mut seen = Seen::read(ctx.warehouse, self, &days)?;
        let mut rows: Vec<EventRow> = Vec::new();
        for (object, position, record, text) in decoded {
            let bodies = match record {
                Ok(bodies) => bodies,
                Err(reason) => {
                    outcome.reject(Reject::new(object, position, reason, &text));
                    continue;
                }
            };
            for body in bodies {
                match body {
                    Body::Reject(reason, body) => {
                        let shown = if body.is_empty() { &text } else { &body };
                        outcome.reject(Reject::new(object, position, reason, shown))
                    }
                    Body::Skipped(kind) => outcome.skip(object, kind),
                    Body::Event(row) => {
                        if seen.insert(&row) {
                            outcome.counts[object].accepted += 1;
                            rows.push(row);
                        } else {
                            outcome.counts[object].duplicates += 1;
                        }
                    }
                }
            }
        }
        let mut frames = Vec::new();
        for table in self.tables() {
            let mine: Vec<&EventRow> =
                rows.iter().filter(|r| events::table_of(provider, &r.kind).is_some_and(|t| t.name == table.name)).collect();
            if !mine.is_empty() {
                frames.push((*table, events::frame(&mine).context("build webhook event rows")?));
            }
        }
        if !frames.is_empty() {
            outcome.append(txn, frames)?;
        }
        Ok(outcome)
    }
}

/// The bodies of one record (a line, or a `.json` object): usually one; several where a relay
/// wrote them back to back. `landed` times a body that carries no time and came without an
/// envelope saying when it was received.
fn decode_record(provider: Provider, text: &[u8], landed: i64) -> Vec<Body> {
    delivery::bodies(text)
        .into_iter()
        .map(|body| match body {
            Err(reason) => Body::Reject(reason, Vec::new()),
            Ok(body) => match delivery::parse(provider, body) {
                Err(reason) => Body::Reject(reason, body.to_vec()),
                Ok(d) if !d.is_used(provider) => Body::Skipped(d.kind),
                Ok(d) => match event_row(provider, d, landed) {
                    Ok(row) => Body::Event(row),
                    Err(reason) => Body::Reject(reason, body.to_vec()),
                },
            },
        })
        .collect()
}

/// The stored row of a delivery of a kind the folds read.
fn event_row(provider: Provider, d: delivery::Delivery, landed: i64) -> std::result::Result<EventRow, String> {
    let content_key = d.content_key(provider);
    if content_key.is_none() {
        return Err(format!("{} {} body without the fields that identify its event", provider.name(), d.kind));
    }
    // A body without a time of its own (GitLab's deployment hook before `status_changed_at`)
    // is timed by its arrival: the relay's, else the object's landing.
    let occurred = d.occurred_at(provider).map_err(|e| format!("{} {} body: {e}", provider.name(), d.kind))?;
    let occurred_at = occurred.or(d.received_at).map_or(landed, |t| t.timestamp_micros());
    if !in_range(occurred_at) {
        return Err(format!("{} {} body: event time {occurred_at} µs is out of range", provider.name(), d.kind));
    }
    let repo = d.repo(provider);
    if repo.is_none() && provider != Provider::PagerDuty {
        return Err(format!("{} {} body names no repository", provider.name(), d.kind));
    }
    let payload = serde_json::to_string(&d.payload).map_err(|e| format!("payload: {e}"))?;
    Ok(EventRow {
        source: provider.name(),
        kind: d.kind,
        delivery_id: d.delivery_id,
        content_key,
        repo,
        occurred_at,
        received_at: d.received_at.map(|t| t.timestamp_micros()),
        payload,
    })
}

/// The delivery ids and content keys already kept on some days (a redelivery has the same body,
/// hence the same event time and day), plus those accepted in this batch.
struct Seen {
    deliveries: HashSet<String>,
    contents: HashSet<String>,
}

impl Seen {
    fn read(warehouse: &Warehouse, source: &WebhookSource, days: &BTreeSet<NaiveDate>) -> Result<Seen> {
        let days: Vec<NaiveDate> = days.iter().copied().collect();
        let mut seen = Seen { deliveries: HashSet::new(), contents: HashSet::new() };
        for table in source.tables() {
            let Some(df) = warehouse.read_days(table, &days, Some(&["source", "delivery_id", "content_key"]))? else { continue };
            let from = df.column("source").and_then(|c| c.str().cloned()).context("event source")?;
            let delivery = df.column("delivery_id").and_then(|c| c.str().cloned()).context("event delivery_id")?;
            let content = df.column("content_key").and_then(|c| c.str().cloned()).context("event content_key")?;
            for ((s, d), c) in from.iter().zip(delivery.iter()).zip(content.iter()) {
                if s != Some(source.name()) {
                    continue;
                }
                seen.deliveries.extend(d.map(str::to_string));
                seen.contents.extend(c.map(str::to_string));
            }
        }
        Ok(seen)
    }

    /// Whether `row` is new; remembers it.
    fn insert(&mut self, row: &EventRow) -> bool {
        let known = row.delivery_id.as_ref().is_some_and(|d| self.deliveries.contains(d))
            || row.content_key.as_ref().is_some_and(|c| self.contents.contains(c));
        if known {
            return false;
        }
        self.deliveries.extend(row.delivery_id.clone());
        self.contents.extend(row.content_key.clone());
        true
    }
}
