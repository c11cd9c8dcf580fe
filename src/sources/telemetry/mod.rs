//! Source `telemetry`: Pulp installation check-ins, protobuf (FORMATS.md §2).
//!
//! Framing and validation live in [`checkin`]. Here: one check-in per system per landing day
//! (the first in landing order), each system's `first_seen` kept as state under `_pipelake/`
//! so that ages stay right after raw objects are pruned.

pub mod checkin;
mod first_seen;
mod generate;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use uuid::Uuid;

use self::checkin::{Frame, Framing};
use self::first_seen::FirstSeen;
use super::{BatchOutcome, IngestContext, LoadedObject, Prepared, Reject, Source};
use crate::error::{PolarsContext, Result};
use crate::generate::{DayObjects, GenerateOptions};
use crate::proto::Analytics;
use crate::settings::{Deployment, Settings};
use crate::timestamp::{date_to_days, days_to_date};
use crate::warehouse::{columns, TableDef, TableKind, Txn, Warehouse};

/// One check-in per system and landing day.
pub static TELEMETRY_CHECKINS: TableDef = TableDef {
    name: "telemetry_checkins",
    dir: "telemetry_checkins",
    kind: TableKind::Fact,
    doc: "One check-in per system and day (the first in landing order); partitioned by the day it was received.",
    columns: columns![
        "system_id" "VARCHAR" "the installation's UUID, lower-case hyphenated whatever the sender's spelling",
        "first_seen" "DATE" "the first day this system was ever seen (kept across pruning of raw data)",
        "age_days" "BIGINT" "date - first_seen, in days",
        "workers_processes" "BIGINT" "online worker processes (NULL when unset)",
        "workers_hosts" "BIGINT" "hosts running workers (NULL when unset)",
        "content_apps_processes" "BIGINT" "online content app processes (NULL when unset)",
        "content_apps_hosts" "BIGINT" "hosts running content apps (NULL when unset)",
        "postgresql_version" "BIGINT" "PostgreSQL server_version_num (NULL when unset)",
        "rbac_users" "BIGINT" "users; NULL when the check-in has no rbac_stats, 0 when that field is unset",
        "rbac_groups" "BIGINT" "groups, as rbac_users",
        "rbac_domains" "BIGINT" "domains, as rbac_users",
        "rbac_custom_access_policies" "BIGINT" "custom access policies, as rbac_users",
        "rbac_custom_roles" "BIGINT" "custom roles, as rbac_users",
        "components" "BIGINT" "number of installed components",
    ],
};

/// One row per component of a check-in in `telemetry_checkins`.
pub static TELEMETRY_COMPONENTS: TableDef = TableDef {
    name: "telemetry_components",
    dir: "telemetry_components",
    kind: TableKind::Fact,
    doc: "One row per installed component of a check-in in telemetry_checkins; partitioned like it.",
    columns: columns![
        "system_id" "VARCHAR" "the installation's UUID",
        "name" "VARCHAR" "component (plugin) label",
        "version" "VARCHAR" "version as sent",
        "major_minor" "VARCHAR" "the X.Y of the version (NULL when it has none)",
        "age_days" "BIGINT" "the check-in's age_days, so that summaries over persistent systems need no join",
    ],
};

/// The `telemetry` source.
pub struct TelemetrySource;

impl Source for TelemetrySource {
    fn name(&self) -> &'static str {
        "telemetry"
    }

    fn tables(&self) -> &'static [&'static TableDef] {
        static TABLES: [&TableDef; 2] = [&TELEMETRY_CHECKINS, &TELEMETRY_COMPONENTS];
        &TABLES
    }

    fn default_retention_days(&self) -> Option<u32> {
        Some(14)
    }

    fn batch_weight(&self) -> u64 {
        // A ~110-byte check-in decodes to ~1 KB of messages and rows.
        8
    }

    fn generate(&self, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
        generate::day(options, day_index, date)
    }

    fn prepare(&self, batch: &[LoadedObject], settings: &Settings) -> Option<Prepared> {
        Some(Box::new(Decoded::batch(batch, settings)))
    }

    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome> {
        let mut outcome = BatchOutcome::new(batch.len());
        let decoded = match ctx.take_prepared::<PolarsResult<Decoded>>() {
            Some(decoded) => decoded,
            None => Decoded::batch(batch, ctx.settings),
        }
        .context("decode telemetry check-ins")?;
        let mut session = match ctx.take_session::<Session>() {
            Some(session) => session,
            None => Session { first_seen: FirstSeen::load(ctx.warehouse)?, kept: PlHashMap::default() },
        };
        session.load_days(ctx.warehouse, &decoded.day)?;

        // One check-in per system and day, the first in landing order; each kept one with its
        // system's first day.
        let mut keep = Vec::with_capacity(decoded.system.len());
        let mut first_seen = Vec::with_capacity(decoded.system.len());
        for ((&system, &day), &object) in decoded.system.iter().zip(&decoded.day).zip(&decoded.object) {
            let kept = session.kept.get_mut(&day).is_some_and(|systems| systems.insert(system));
            keep.push(kept);
            if kept {
                outcome.counts[object].accepted += 1;
                first_seen.push(session.first_seen.observe(system, day));
            } else {
                outcome.counts[object].duplicates += 1;
            }
        }
        for reject in decoded.rejects.iter().cloned() {
            outcome.reject(reject);
        }
        if !first_seen.is_empty() {
            let (checkins, components) = decoded.kept_rows(&keep, &first_seen).context("build telemetry rows")?;
            outcome.append(txn, vec![(&TELEMETRY_CHECKINS, checkins), (&TELEMETRY_COMPONENTS, components)])?;
        }
        session.first_seen.save(txn)?;
        ctx.keep_session(session);
        Ok(outcome)
    }
}

/// What one ingest keeps across its batches: every system's first day, and which systems
/// already have their check-in on the days the current batch touches.
struct Session {
    first_seen: FirstSeen,
    kept: PlHashMap<i32, PlHashSet<u128>>,
}

impl Session {
    /// Have `kept` hold exactly the batch's days: days already known stay, the others are read
    /// from the warehouse (a late object for an older day), and days not in the batch are let go
    /// (objects arrive in landing order: their check-ins are done).
    fn load_days(&mut self, warehouse: &Warehouse, batch_days: &[i32]) -> Result<()> {
        let days: BTreeSet<i32> = batch_days.iter().copied().collect();
        self.kept.retain(|day, _| days.contains(day));
        let missing: Vec<NaiveDate> = days.iter().filter(|d| !self.kept.contains_key(*d)).map(|d| days_to_date(*d)).collect();
        for day in &missing {
            self.kept.insert(date_to_days(*day), PlHashSet::default());
        }
        let Some(df) = warehouse.read_days(&TELEMETRY_CHECKINS, &missing, Some(&["system_id"]))? else { return Ok(()) };
        let ids = df.column("system_id").and_then(|c| c.str().cloned()).context("telemetry system_id")?;
        let dates = df.column("date").and_then(|c| c.date().cloned()).context("telemetry date")?;
        for (id, day) in ids.iter().zip(dates.physical().iter()) {
            if let (Some(id), Some(day)) = (id.and_then(checkin::normalize_system_id), day) {
                self.kept.entry(day).or_default().insert(id.as_u128());
            }
        }
        Ok(())
    }
}

/// The check-in columns read straight from the message, in table order; NULL when unset.
type Number = (&'static str, fn(&Analytics) -> Option<u32>);
const NUMBERS: [Number; 10] = [
    ("workers_processes", |m| m.online_workers.and_then(|w| w.processes)),
    ("workers_hosts", |m| m.online_workers.and_then(|w| w.hosts)),
    ("content_apps_processes", |m| m.online_content_apps.and_then(|w| w.processes)),
    ("content_apps_hosts", |m| m.online_content_apps.and_then(|w| w.hosts)),
    ("postgresql_version", |m| m.postgresql_version),
    // RBAC counts are 0 when the stats came without the field, NULL when no stats came.
    ("rbac_users", |m| m.rbac_stats.map(|r| r.users.unwrap_or(0))),
    ("rbac_groups", |m| m.rbac_stats.map(|r| r.groups.unwrap_or(0))),
    ("rbac_domains", |m| m.rbac_stats.map(|r| r.domains.unwrap_or(0))),
    ("rbac_custom_access_policies", |m| m.rbac_stats.map(|r| r.custom_access_policies.unwrap_or(0))),
    ("rbac_custom_roles", |m| m.rbac_stats.map(|r| r.custom_roles.unwrap_or(0))),
];

/// Messages decoded per parallel task: large enough to amortise a task, small enough to share
/// one big `.pbd` object between the cores.
const CHUNK: usize = 4096;

/// A batch's valid check-ins decoded into columns, in landing order, before dedup: what
/// `prepare` builds while the previous batch is being written.
struct Decoded {
    rejects: Vec<Reject>,
    /// Per check-in: its object in the batch, landing day (days since the epoch) and system.
    object: Vec<usize>,
    day: Vec<i32>,
    system: Vec<u128>,
    /// Per check-in: the [`NUMBERS`] columns and `components`.
    numbers: DataFrame,
    /// Per component: the row of its check-in.
    parent: Vec<IdxSize>,
    /// Per component: `name`, `version`, `major_minor`.
    components: DataFrame,
}

impl Decoded {
    /// Frame every object, then decode its messages in chunks spread over the cores.
    fn batch(batch: &[LoadedObject], settings: &Settings) -> PolarsResult<Decoded> {
        let production = settings.deployment == Deployment::Production;
        let framed: Vec<(Vec<Reject>, Vec<Frame<'_>>)> = batch.par_iter().enumerate().map(|(i, obj)| frame_object(i, obj)).collect();
        let mut object_rejects = Vec::new();
        let mut chunks = Vec::new();
        for (i, (rejects, frames)) in framed.iter().enumerate() {
            object_rejects.extend(rejects.iter().cloned());
            let day = date_to_days(batch[i].object.landed);
            chunks.extend(frames.chunks(CHUNK).map(|c| (i, day, c)));
        }
        let parts: Vec<Decoded> =
            chunks.into_par_iter().map(|(i, day, frames)| decode_chunk(i, day, frames, production)).collect::<PolarsResult<_>>()?;
        let mut all = Builder::default().finish()?;
        all.rejects = object_rejects;
        for part in parts {
            all.append(part)?;
        }
        all.numbers.rechunk_mut_par();
        all.components.rechunk_mut_par();
        Ok(all)
    }

    fn append(&mut self, other: Decoded) -> PolarsResult<()> {
        let offset = self.system.len() as IdxSize;
        self.rejects.extend(other.rejects);
        self.object.extend(other.object);
        self.day.extend(other.day);
        self.system.extend(other.system);
        self.numbers.vstack_mut_owned(other.numbers)?;
        self.parent.extend(other.parent.iter().map(|p| p + offset));
        self.components.vstack_mut_owned(other.components)?;
        Ok(())
    }

    /// The two fact frames of the check-ins `keep` says, each with its `date` column;
    /// `first_seen` has the first day of each kept check-in's system.
    fn kept_rows(&self, keep: &[bool], first_seen: &[i32]) -> PolarsResult<(DataFrame, DataFrame)> {
        // Each check-in's row among the kept ones.
        let mut row = Vec::with_capacity(keep.len());
        let mut kept_days = Vec::with_capacity(first_seen.len());
        let mut ids = StringChunkedBuilder::new("system_id".into(), first_seen.len());
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        for (i, &k) in keep.iter().enumerate() {
            row.push(kept_days.len() as IdxSize);
            if k {
                kept_days.push(self.day[i]);
                ids.append_value(Uuid::from_u128(self.system[i]).hyphenated().encode_lower(&mut buf));
            }
        }
        let ids = ids.finish();
        let ages: Vec<i64> = kept_days.iter().zip(first_seen).map(|(d, f)| i64::from(d - f)).collect();
        let (checkins, components) = rayon::join(
            || -> PolarsResult<DataFrame> {
                let numbers = self.numbers.filter(&BooleanChunked::from_slice("keep".into(), keep))?;
                let mut columns = vec![
                    ids.clone().into_column(),
                    dates("first_seen", first_seen.to_vec()),
                    Int64Chunked::from_slice("age_days".into(), &ages).into_column(),
                ];
                columns.extend(numbers.into_columns());
                columns.push(dates("date", kept_days.clone()));
                DataFrame::new_infer_height(columns)
            },
            || -> PolarsResult<DataFrame> {
                let mask: Vec<bool> = self.parent.iter().map(|p| keep[*p as usize]).collect();
                let parent: Vec<IdxSize> = self.parent.iter().filter(|p| keep[**p as usize]).map(|p| row[*p as usize]).collect();
                let rows = self.components.filter(&BooleanChunked::from_slice("keep".into(), &mask))?;
                let component_ages = parent.iter().map(|p| ages[*p as usize]).collect();
                let component_days = parent.iter().map(|p| kept_days[*p as usize]).collect();
                let mut columns = vec![ids.take(&IdxCa::from_vec("parent".into(), parent))?.into_column()];
                columns.extend(rows.into_columns());
                columns.push(Int64Chunked::from_vec("age_days".into(), component_ages).into_column());
                columns.push(dates("date", component_days));
                DataFrame::new_infer_height(columns)
            },
        );
        Ok((checkins?, components?))
    }
}

/// Frame one object; whatever cannot be read of it as a whole goes to the rejects.
fn frame_object(object: usize, obj: &LoadedObject) -> (Vec<Reject>, Vec<Frame<'_>>) {
    let mut rejects = Vec::new();
    if let Some(damage) = &obj.damage {
        rejects.push(Reject::whole_object(object, damage.clone()));
    }
    let Some(framing) = Framing::of_key(obj.base_key()) else {
        rejects.push(Reject::whole_object(object, "unsupported object type for source telemetry (expected .pb or .pbd)"));
        return (rejects, Vec::new());
    };
    if obj.data.is_empty() {
        return (rejects, Vec::new());
    }
    (rejects, checkin::frames(&obj.data, framing))
}

/// Decode and validate a run of one object's messages into columns.
fn decode_chunk(object: usize, day: i32, frames: &[Frame<'_>], production: bool) -> PolarsResult<Decoded> {
    let mut out = Builder::default();
    for (position, frame) in frames {
        let reject = |reason: String| Reject { object, position: *position, reason, record: None };
        let checkin = match frame.clone().and_then(checkin::decode) {
            Ok(c) => c,
            Err(reason) => {
                out.rejects.push(reject(reason));
                continue;
            }
        };
        let message = &checkin.message;
        if production {
            if let Some(c) = message.components.iter().find(|c| !checkin::is_ga_version(&c.version)) {
                out.rejects.push(reject(format!("non_ga_version: {} {}", c.name, c.version)));
                continue;
            }
        }
        let row = out.system.len() as IdxSize;
        out.object.push(object);
        out.day.push(day);
        out.system.push(checkin.system_id.as_u128());
        for (column, (_, read)) in out.numbers.iter_mut().zip(NUMBERS) {
            column.push(read(message).map(i64::from));
        }
        out.component_counts.push(message.components.len() as i64);
        for c in &message.components {
            out.parent.push(row);
            out.names.append_value(&c.name);
            out.versions.append_value(&c.version);
            out.major_minor.append_option(checkin::major_minor(&c.version));
        }
    }
    out.finish()
}

/// Columns being filled by [`decode_chunk`].
struct Builder {
    rejects: Vec<Reject>,
    object: Vec<usize>,
    day: Vec<i32>,
    system: Vec<u128>,
    numbers: [Vec<Option<i64>>; NUMBERS.len()],
    component_counts: Vec<i64>,
    parent: Vec<IdxSize>,
    names: StringChunkedBuilder,
    versions: StringChunkedBuilder,
    major_minor: StringChunkedBuilder,
}

impl Default for Builder {
    fn default() -> Self {
        let strings = |name: &str| StringChunkedBuilder::new(name.into(), CHUNK * 3);
        Builder {
            rejects: Vec::new(),
            object: Vec::with_capacity(CHUNK),
            day: Vec::with_capacity(CHUNK),
            system: Vec::with_capacity(CHUNK),
            numbers: std::array::from_fn(|_| Vec::with_capacity(CHUNK)),
            component_counts: Vec::with_capacity(CHUNK),
            parent: Vec::with_capacity(CHUNK * 3),
            names: strings("name"),
            versions: strings("version"),
            major_minor: strings("major_minor"),
        }
    }
}

impl Builder {
    fn finish(self) -> PolarsResult<Decoded> {
        let mut numbers: Vec<Column> = self
            .numbers
            .into_iter()
            .zip(NUMBERS)
            .map(|(values, (name, _))| Int64Chunked::from_iter_options(name.into(), values.into_iter()).into_column())
            .collect();
        numbers.push(Int64Chunked::from_vec("components".into(), self.component_counts).into_column());
        let components =
            vec![self.names.finish().into_column(), self.versions.finish().into_column(), self.major_minor.finish().into_column()];
        Ok(Decoded {
            rejects: self.rejects,
            object: self.object,
            day: self.day,
            system: self.system,
            numbers: DataFrame::new_infer_height(numbers)?,
            parent: self.parent,
            components: DataFrame::new_infer_height(components)?,
        })
    }
}

fn dates(name: &str, days: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), days).into_date().into_column()
}
