//! Source `telemetry`: Pulp installation check-ins, protobuf (FORMATS.md §2).
//!
//! Framing and validation live in [`checkin`]. Here: one check-in per system per landing day
//! (the first in landing order), each system's `first_seen` kept as state under `_pipelake/`
//! so that ages stay right after raw objects are pruned.

pub mod checkin;
mod first_seen;
mod generate;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use self::checkin::{Frame, Framing};
use self::first_seen::FirstSeen;
use super::{BatchOutcome, IngestContext, LoadedObject, Prepared, Reject, RejectBudget, Source};
use crate::error::{PolarsContext, Result};
use crate::generate::{DayObjects, GenerateOptions};
use crate::proto::Analytics;
use crate::settings::{Deployment, Settings};
use crate::timestamp::{date_to_days, day_runs, days_to_date};
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
        let mut decoded = match ctx.take_prepared::<PolarsResult<Decoded>>() {
            Some(decoded) => decoded,
            None => Decoded::batch(batch, ctx.settings),
        }
        .context("decode telemetry check-ins")?;
        let mut session = match ctx.take_session::<Session>() {
            Some(session) => session,
            None => Session { first_seen: FirstSeen::load(ctx.warehouse)?, kept: PlHashMap::default() },
        };
        let runs = day_runs(&decoded.day);
        session.load_days(ctx.warehouse, &decoded.day, &runs)?;

        // One check-in per system and day, the first in landing order.
        let mut keep = Vec::with_capacity(decoded.system.len());
        for run in runs {
            let day = decoded.day[run.start];
            let systems = session.kept.entry(day).or_default();
            keep.extend(decoded.system[run].iter().map(|s| systems.insert(*s)));
        }
        for (object, kept) in decoded.object.iter().zip(&keep) {
            let counts = &mut outcome.counts[*object];
            if *kept {
                counts.accepted += 1;
            } else {
                counts.duplicates += 1;
            }
        }
        for reject in std::mem::take(&mut decoded.rejects) {
            outcome.reject(reject);
        }
        for (object, n) in std::mem::take(&mut decoded.unkept) {
            outcome.reject_unkept(object, n);
        }
        // Each kept check-in's first day, while its rows are gathered.
        let Session { first_seen, .. } = &mut session;
        let (firsts, rows) = rayon::join(
            || {
                first_seen.reserve(decoded.system.len());
                let kept = decoded.system.iter().zip(&decoded.day).zip(&keep).filter(|(_, k)| **k);
                kept.map(|((system, day), _)| first_seen.observe(*system, *day)).collect::<Vec<i32>>()
            },
            || decoded.kept_rows(&keep),
        );
        let (checkins, components) = rows.context("build telemetry rows")?;
        if checkins.height() > 0 {
            let (checkins, components) = with_first_seen(checkins, components, &firsts).context("telemetry first_seen")?;
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
    /// `runs`: the [`day_runs`] of `batch_days`.
    fn load_days(&mut self, warehouse: &Warehouse, batch_days: &[i32], runs: &[std::ops::Range<usize>]) -> Result<()> {
        let mut days: PlHashMap<i32, usize> = PlHashMap::default();
        for run in runs {
            *days.entry(batch_days[run.start]).or_default() += run.len();
        }
        self.kept.retain(|day, _| days.contains_key(day));
        let mut missing: Vec<NaiveDate> = Vec::new();
        for (day, check_ins) in days {
            if !self.kept.contains_key(&day) {
                self.kept.insert(day, PlHashSet::with_capacity_and_hasher(check_ins, Default::default()));
                missing.push(days_to_date(day));
            }
        }
        missing.sort_unstable();
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
    /// Per object: rejected messages past its share of [`Reject::MAX_KEPT_PER_OBJECT`], only
    /// counted (a crafted stream of small bad frames would otherwise hold a reject per frame).
    unkept: Vec<(usize, u64)>,
    /// Per check-in: its object in the batch, landing day (days since the epoch) and system.
    object: Vec<usize>,
    day: Vec<i32>,
    system: Vec<u128>,
    /// Per check-in: the system as the tables spell it (lower-case, hyphenated).
    system_ids: StringChunked,
    /// Per check-in: the [`NUMBERS`] columns and `components`.
    numbers: DataFrame,
    /// Per component: the row of its check-in.
    parent: Vec<IdxSize>,
    /// Per component: `name`, `version`.
    components: DataFrame,
}

impl Decoded {
    /// Frame every object, then decode its messages in chunks spread over the cores.
    fn batch(batch: &[LoadedObject], settings: &Settings) -> PolarsResult<Decoded> {
        let production = settings.deployment == Deployment::Production;
        let (object_rejects, framed): (Vec<Vec<Reject>>, Vec<Vec<Frame<'_>>>) =
            batch.par_iter().enumerate().map(|(i, obj)| frame_object(i, obj, settings.limits.record_bytes)).unzip();
        let mut chunks = Vec::new();
        for (i, frames) in framed.iter().enumerate() {
            let day = date_to_days(batch[i].object.landed);
            // Each chunk keeps its share of the object's rejects: deterministic, and bounded.
            let share = (Reject::MAX_KEPT_PER_OBJECT / frames.len().div_ceil(CHUNK).max(1)).max(1);
            chunks.extend(frames.chunks(CHUNK).map(|c| (i, day, c, share)));
        }
        let parts: Vec<Decoded> = chunks
            .into_par_iter()
            .map(|(i, day, frames, share)| decode_chunk(i, day, frames, production, share))
            .collect::<PolarsResult<_>>()?;
        let mut all = Builder::default().finish()?;
        all.rejects = object_rejects.into_iter().flatten().collect();
        for part in parts {
            all.append(part)?;
        }
        all.system_ids.rechunk_mut();
        all.numbers.rechunk_mut_par();
        all.components.rechunk_mut_par();
        Ok(all)
    }

    fn append(&mut self, other: Decoded) -> PolarsResult<()> {
        let offset = self.system.len() as IdxSize;
        self.rejects.extend(other.rejects);
        self.unkept.extend(other.unkept);
        self.object.extend(other.object);
        self.day.extend(other.day);
        self.system.extend(other.system);
        self.system_ids.append_owned(other.system_ids)?;
        self.numbers.vstack_mut_owned(other.numbers)?;
        self.parent.extend(other.parent.iter().map(|p| p + offset));
        self.components.vstack_mut_owned(other.components)?;
        Ok(())
    }

    /// The two fact frames of the check-ins `keep` says, each with its `date` column, and the
    /// components with `row`, their check-in's row among the kept ones (for the ages, known
    /// later).
    fn kept_rows(&self, keep: &[bool]) -> PolarsResult<(DataFrame, DataFrame)> {
        let keep_mask = BooleanChunked::from_slice("keep".into(), keep);
        let (checkins, components) = rayon::join(
            || -> PolarsResult<DataFrame> {
                let mut columns = vec![self.system_ids.filter(&keep_mask)?.into_column()];
                columns.extend(self.numbers.filter(&keep_mask)?.into_columns());
                let days = self.day.iter().zip(keep).filter(|(_, k)| **k).map(|(d, _)| *d).collect();
                columns.push(dates("date", days));
                DataFrame::new_infer_height(columns)
            },
            || -> PolarsResult<DataFrame> {
                let mut kept_row = Vec::with_capacity(keep.len());
                let mut kept: IdxSize = 0;
                for k in keep {
                    kept_row.push(kept);
                    kept += IdxSize::from(*k);
                }
                let is_kept = |p: &IdxSize| keep[*p as usize];
                let mask: Vec<bool> = self.parent.iter().map(is_kept).collect();
                let parent: Vec<IdxSize> = self.parent.iter().copied().filter(is_kept).collect();
                let rows = parent.iter().map(|p| kept_row[*p as usize]).collect();
                let days = parent.iter().map(|p| self.day[*p as usize]).collect();
                let mut columns = vec![self.system_ids.take(&IdxCa::from_vec("parent".into(), parent))?.into_column()];
                columns.extend(self.components.filter(&BooleanChunked::from_slice("keep".into(), &mask))?.into_columns());
                columns.push(IdxCa::from_vec("row".into(), rows).into_column());
                columns.push(dates("date", days));
                DataFrame::new_infer_height(columns)
            },
        );
        Ok((checkins?, components?))
    }
}

/// Add `first_seen` and `age_days` to the kept check-ins (`firsts`: each one's first day) and
/// `age_days` to their components, in the tables' column order.
fn with_first_seen(mut checkins: DataFrame, mut components: DataFrame, firsts: &[i32]) -> PolarsResult<(DataFrame, DataFrame)> {
    let days = checkins.column("date")?.date()?.physical().clone();
    let ages: Vec<i64> = days.into_no_null_iter().zip(firsts).map(|(d, f)| i64::from(d - f)).collect();
    checkins.insert_column(1, dates("first_seen", firsts.to_vec()))?;
    checkins.insert_column(2, Int64Chunked::from_slice("age_days".into(), &ages).into_column())?;
    let rows = components.drop_in_place("row")?;
    let component_ages = rows.idx()?.into_no_null_iter().map(|r| ages[r as usize]).collect();
    let date = components.drop_in_place("date")?;
    components.with_column(Int64Chunked::from_vec("age_days".into(), component_ages).into_column())?;
    components.with_column(date)?;
    Ok((checkins, components))
}

/// Frame one object; whatever cannot be read of it as a whole goes to the rejects.
fn frame_object(object: usize, obj: &LoadedObject, max_message: usize) -> (Vec<Reject>, Vec<Frame<'_>>) {
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
    (rejects, checkin::frames(&obj.data, framing, max_message))
}

/// Decode and validate a run of one object's messages into columns.
fn decode_chunk(object: usize, day: i32, frames: &[Frame<'_>], production: bool, keep_rejects: usize) -> PolarsResult<Decoded> {
    let mut out = Builder::default();
    let mut budget = RejectBudget::new(keep_rejects);
    let mut uuid_text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    for (position, frame) in frames {
        let mut reject = |reason: String| {
            if budget.keep() {
                out.rejects.push(Reject { object, position: *position, reason, record: None });
            }
        };
        let checkin = match frame.clone().and_then(checkin::decode) {
            Ok(c) => c,
            Err(reason) => {
                reject(reason);
                continue;
            }
        };
        let message = &checkin.message;
        if production {
            if let Some(c) = message.components.iter().find(|c| !checkin::is_ga_version(&c.version)) {
                reject(format!("non_ga_version: {} {}", c.name, c.version));
                continue;
            }
        }
        let row = out.system.len() as IdxSize;
        out.object.push(object);
        out.day.push(day);
        out.system.push(checkin.system_id.as_u128());
        out.system_ids.append_value(checkin.system_id.hyphenated().encode_lower(&mut uuid_text));
        for (column, (_, read)) in out.numbers.iter_mut().zip(NUMBERS) {
            column.push(read(message).map(i64::from));
        }
        out.component_counts.push(message.components.len() as i64);
        for c in &message.components {
            out.parent.push(row);
            out.names.append_value(&c.name);
            out.versions.append_value(&c.version);
        }
    }
    let mut decoded = out.finish()?;
    if budget.unkept > 0 {
        decoded.unkept.push((object, budget.unkept));
    }
    Ok(decoded)
}

/// Columns being filled by [`decode_chunk`].
struct Builder {
    rejects: Vec<Reject>,
    object: Vec<usize>,
    day: Vec<i32>,
    system: Vec<u128>,
    system_ids: StringChunkedBuilder,
    numbers: [Vec<Option<i64>>; NUMBERS.len()],
    component_counts: Vec<i64>,
    parent: Vec<IdxSize>,
    names: StringChunkedBuilder,
    versions: StringChunkedBuilder,
}

impl Default for Builder {
    fn default() -> Self {
        let strings = |name: &str| StringChunkedBuilder::new(name.into(), CHUNK * 3);
        Builder {
            rejects: Vec::new(),
            object: Vec::with_capacity(CHUNK),
            day: Vec::with_capacity(CHUNK),
            system: Vec::with_capacity(CHUNK),
            system_ids: strings("system_id"),
            numbers: std::array::from_fn(|_| Vec::with_capacity(CHUNK)),
            component_counts: Vec::with_capacity(CHUNK),
            parent: Vec::with_capacity(CHUNK * 3),
            names: strings("name"),
            versions: strings("version"),
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
        let components = vec![self.names.finish().into_column(), self.versions.finish().into_column()];
        Ok(Decoded {
            rejects: self.rejects,
            unkept: Vec::new(),
            object: self.object,
            day: self.day,
            system: self.system,
            system_ids: self.system_ids.finish(),
            numbers: DataFrame::new_infer_height(numbers)?,
            parent: self.parent,
            components: DataFrame::new_infer_height(components)?,
        })
    }
}

fn dates(name: &str, days: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), days).into_date().into_column()
}
