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

use self::checkin::{CheckIn, Framing};
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

/// A check-in that passed validation, with where it came from.
struct Valid {
    object: usize,
    day: NaiveDate,
    checkin: CheckIn,
}

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
        Some(Box::new(decode_batch(batch, settings)))
    }

    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome> {
        let mut outcome = BatchOutcome::new(batch.len());
        let decoded = ctx.take_prepared::<Decoded>().unwrap_or_else(|| decode_batch(batch, ctx.settings));
        let mut valid = Vec::new();
        for (v, rejects) in decoded {
            valid.extend(v);
            for r in rejects {
                outcome.reject(r);
            }
        }

        // One check-in per system and day: against what earlier batches kept for those days, then in order.
        let days: BTreeSet<NaiveDate> = valid.iter().map(|v| v.day).collect();
        let mut kept_keys = checked_in(ctx.warehouse, &days)?;
        let mut first_seen = FirstSeen::load(ctx.warehouse)?;
        // Each kept check-in with its system's first day; None for a same-day repeat.
        let firsts: Vec<Option<NaiveDate>> = valid
            .iter()
            .map(|v| {
                if !kept_keys.insert((v.checkin.system_id, v.day)) {
                    outcome.counts[v.object].duplicates += 1;
                    return None;
                }
                outcome.counts[v.object].accepted += 1;
                Some(first_seen.observe(v.checkin.system_id, v.day))
            })
            .collect();
        let rows: Vec<(&Valid, NaiveDate)> = valid.iter().zip(firsts).filter_map(|(v, first)| Some((v, first?))).collect();
        if !rows.is_empty() {
            let (checkins, components) = frames(&rows).context("build telemetry rows")?;
            outcome.append(txn, vec![(&TELEMETRY_CHECKINS, checkins), (&TELEMETRY_COMPONENTS, components)])?;
        }
        if first_seen.changed() {
            txn.put_object(first_seen::STATE_KEY.to_string(), first_seen.encode()?);
        }
        Ok(outcome)
    }
}

/// Each object's valid check-ins and rejects.
type Decoded = Vec<(Vec<Valid>, Vec<Reject>)>;

fn decode_batch(batch: &[LoadedObject], settings: &Settings) -> Decoded {
    let production = settings.deployment == Deployment::Production;
    batch.par_iter().enumerate().map(|(i, obj)| decode_object(i, obj, production)).collect()
}

fn decode_object(object: usize, obj: &LoadedObject, production: bool) -> (Vec<Valid>, Vec<Reject>) {
    let mut rejects = Vec::new();
    if let Some(damage) = &obj.damage {
        rejects.push(Reject::whole_object(object, damage.clone()));
    }
    let Some(framing) = Framing::of_key(obj.base_key()) else {
        rejects.push(Reject::whole_object(object, "unsupported object type for source telemetry (expected .pb or .pbd)"));
        return (Vec::new(), rejects);
    };
    if obj.data.is_empty() {
        return (Vec::new(), rejects);
    }
    // Framing is a fast sequential scan; decoding the messages is spread over the cores.
    let decoded: Vec<Result<Valid, Reject>> = checkin::frames(&obj.data, framing)
        .into_par_iter()
        .with_min_len(256)
        .map(|(position, frame)| {
            let reject = |reason: String| Reject { object, position, reason, record: None };
            let c = frame.and_then(checkin::decode).map_err(reject)?;
            match c.message.components.iter().find(|comp| !checkin::is_ga_version(&comp.version)) {
                Some(comp) if production => Err(reject(format!("non_ga_version: {} {}", comp.name, comp.version))),
                _ => Ok(Valid { object, day: obj.object.landed, checkin: c }),
            }
        })
        .collect();
    let mut valid = Vec::with_capacity(decoded.len());
    for d in decoded {
        match d {
            Ok(v) => valid.push(v),
            Err(r) => rejects.push(r),
        }
    }
    (valid, rejects)
}

/// (system, day) pairs already kept for the given days.
fn checked_in(warehouse: &Warehouse, days: &BTreeSet<NaiveDate>) -> Result<PlHashSet<(Uuid, NaiveDate)>> {
    let mut out = PlHashSet::default();
    let days: Vec<NaiveDate> = days.iter().copied().collect();
    let Some(df) = warehouse.read_days(&TELEMETRY_CHECKINS, &days, Some(&["system_id"]))? else { return Ok(out) };
    let ids = df.column("system_id").and_then(|c| c.str().cloned()).context("telemetry system_id")?;
    let dates = df.column("date").and_then(|c| c.date().cloned()).context("telemetry date")?;
    for (id, day) in ids.iter().zip(dates.physical().iter()) {
        if let (Some(id), Some(day)) = (id.and_then(|s| Uuid::parse_str(s).ok()), day) {
            out.insert((id, days_to_date(day)));
        }
    }
    Ok(out)
}

/// The two fact frames, each with its `date` column.
fn frames(rows: &[(&Valid, NaiveDate)]) -> PolarsResult<(DataFrame, DataFrame)> {
    let mut ids = StringChunkedBuilder::new("system_id".into(), rows.len());
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    for (v, _) in rows {
        ids.append_value(v.checkin.system_id.hyphenated().encode_lower(&mut buf));
    }
    let ids = ids.finish();
    let ages: Vec<i64> = rows.iter().map(|(v, f)| (v.day - *f).num_days()).collect();
    // The two tables are built side by side.
    let (checkins, components) = rayon::join(|| checkin_frame(rows, &ids, &ages), || component_frame(rows, &ids, &ages));
    Ok((checkins?, components?))
}

fn dates(name: &str, days: Vec<i32>) -> Column {
    Int32Chunked::from_vec(name.into(), days).into_date().into_column()
}

fn checkin_frame(rows: &[(&Valid, NaiveDate)], ids: &StringChunked, ages: &[i64]) -> PolarsResult<DataFrame> {
    let opt = |name: &str, f: &dyn Fn(&Analytics) -> Option<u32>| -> Column {
        Int64Chunked::from_iter_options(name.into(), rows.iter().map(|(v, _)| f(&v.checkin.message).map(i64::from))).into_column()
    };
    DataFrame::new_infer_height(vec![
        ids.clone().into_column(),
        dates("first_seen", rows.iter().map(|(_, f)| date_to_days(*f)).collect()),
        Int64Chunked::from_slice("age_days".into(), ages).into_column(),
        opt("workers_processes", &|m| m.online_workers.and_then(|w| w.processes)),
        opt("workers_hosts", &|m| m.online_workers.and_then(|w| w.hosts)),
        opt("content_apps_processes", &|m| m.online_content_apps.and_then(|w| w.processes)),
        opt("content_apps_hosts", &|m| m.online_content_apps.and_then(|w| w.hosts)),
        opt("postgresql_version", &|m| m.postgresql_version),
        opt("rbac_users", &|m| m.rbac_stats.map(|r| r.users.unwrap_or(0))),
        opt("rbac_groups", &|m| m.rbac_stats.map(|r| r.groups.unwrap_or(0))),
        opt("rbac_domains", &|m| m.rbac_stats.map(|r| r.domains.unwrap_or(0))),
        opt("rbac_custom_access_policies", &|m| m.rbac_stats.map(|r| r.custom_access_policies.unwrap_or(0))),
        opt("rbac_custom_roles", &|m| m.rbac_stats.map(|r| r.custom_roles.unwrap_or(0))),
        Int64Chunked::from_iter_values("components".into(), rows.iter().map(|(v, _)| v.checkin.message.components.len() as i64))
            .into_column(),
        dates("date", rows.iter().map(|(v, _)| date_to_days(v.day)).collect()),
    ])
}

fn component_frame(rows: &[(&Valid, NaiveDate)], ids: &StringChunked, ages: &[i64]) -> PolarsResult<DataFrame> {
    let n: usize = rows.iter().map(|(v, _)| v.checkin.message.components.len()).sum();
    let mut parent: Vec<IdxSize> = Vec::with_capacity(n);
    let mut names = StringChunkedBuilder::new("name".into(), n);
    let mut versions = StringChunkedBuilder::new("version".into(), n);
    let mut major_minor = StringChunkedBuilder::new("major_minor".into(), n);
    let mut component_ages = Vec::with_capacity(n);
    let mut component_days = Vec::with_capacity(n);
    for (i, (v, _)) in rows.iter().enumerate() {
        for c in &v.checkin.message.components {
            parent.push(i as IdxSize);
            names.append_value(&c.name);
            versions.append_value(&c.version);
            major_minor.append_option(checkin::major_minor(&c.version));
            component_ages.push(ages[i]);
            component_days.push(date_to_days(v.day));
        }
    }
    let parent = IdxCa::from_vec("parent".into(), parent);
    DataFrame::new_infer_height(vec![
        ids.take(&parent)?.into_column(),
        names.finish().into_column(),
        versions.finish().into_column(),
        major_minor.finish().into_column(),
        Int64Chunked::from_vec("age_days".into(), component_ages).into_column(),
        dates("date", component_days),
    ])
}
