//! Source `telemetry`: Pulp installation check-ins, protobuf (FORMATS.md §2).
//!
//! Framing and validation live in [`checkin`]. Here: one check-in per system per landing day
//! (the first in landing order), each system's `first_seen` kept as state under `_pipelake/`
//! so that ages stay right after raw objects are pruned.

pub mod checkin;
mod generate;

use std::collections::{BTreeSet, HashMap, HashSet};

use bytes::Bytes;
use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use uuid::Uuid;

use self::checkin::{CheckIn, Framing};
use super::{BatchOutcome, IngestContext, LoadedObject, Reject, Source};
use crate::error::{PolarsContext, Result};
use crate::generate::{DayObjects, GenerateOptions};
use crate::settings::Deployment;
use crate::timestamp::{date_to_days, days_to_date};
use crate::warehouse::{columns, read_parquet, write_parquet, TableDef, TableKind, Txn, Warehouse};

/// Where each system's first day is kept.
const SYSTEMS_STATE: &str = "_pipelake/state/telemetry_systems.parquet";

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

    fn generate(&self, options: &GenerateOptions, day_index: u32, date: NaiveDate) -> DayObjects {
        generate::day(options, day_index, date)
    }

    fn ingest(&self, batch: &[LoadedObject], ctx: &IngestContext<'_>, txn: &mut Txn) -> Result<BatchOutcome> {
        let mut outcome = BatchOutcome::new(batch.len());
        let production = ctx.settings.deployment == Deployment::Production;
        let decoded: Vec<(Vec<Valid>, Vec<Reject>)> =
            batch.par_iter().enumerate().map(|(i, obj)| decode_object(i, obj, production)).collect();
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
        let mut first_seen = load_first_seen(ctx.warehouse)?;
        let known_systems = first_seen.len();
        let mut moved_back = false;
        let mut rows = Vec::with_capacity(valid.len());
        for v in valid {
            if !kept_keys.insert((v.checkin.system_id, v.day)) {
                outcome.counts[v.object].duplicates += 1;
                continue;
            }
            outcome.counts[v.object].accepted += 1;
            let first = first_seen.entry(v.checkin.system_id).or_insert(v.day);
            if v.day < *first {
                // A late object landed in an older day folder.
                *first = v.day;
                moved_back = true;
            }
            rows.push(v);
        }
        let rows: Vec<(Valid, NaiveDate)> = rows
            .into_iter()
            .map(|v| {
                let first = first_seen[&v.checkin.system_id];
                (v, first)
            })
            .collect();
        if !rows.is_empty() {
            let (checkins, components) = frames(&rows).context("build telemetry rows")?;
            outcome.append(txn, &TELEMETRY_CHECKINS, checkins)?;
            outcome.append(txn, &TELEMETRY_COMPONENTS, components)?;
        }
        if first_seen.len() != known_systems || moved_back {
            txn.put_object(SYSTEMS_STATE.to_string(), encode_first_seen(&first_seen)?);
        }
        Ok(outcome)
    }
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
fn checked_in(warehouse: &Warehouse, days: &BTreeSet<NaiveDate>) -> Result<HashSet<(Uuid, NaiveDate)>> {
    let mut out = HashSet::new();
    let days: Vec<NaiveDate> = days.iter().copied().collect();
    let Some(df) = warehouse.read_days(&TELEMETRY_CHECKINS, &days)? else { return Ok(out) };
    let ids = df.column("system_id").and_then(|c| c.str().cloned()).context("telemetry system_id")?;
    let dates = df.column("date").and_then(|c| c.date().cloned()).context("telemetry date")?;
    for (id, day) in ids.iter().zip(dates.physical().iter()) {
        if let (Some(id), Some(day)) = (id.and_then(|s| Uuid::parse_str(s).ok()), day) {
            out.insert((id, days_to_date(day)));
        }
    }
    Ok(out)
}

fn load_first_seen(warehouse: &Warehouse) -> Result<HashMap<Uuid, NaiveDate>> {
    let Some(bytes) = warehouse.location().get_opt(SYSTEMS_STATE)? else { return Ok(HashMap::new()) };
    let df = read_parquet(bytes).context(SYSTEMS_STATE)?;
    let ids = df.column("system_id").and_then(|c| c.str().cloned()).context(SYSTEMS_STATE)?;
    let firsts = df.column("first_seen").and_then(|c| c.date().cloned()).context(SYSTEMS_STATE)?;
    Ok(ids.iter().zip(firsts.physical().iter()).filter_map(|(id, d)| Some((Uuid::parse_str(id?).ok()?, days_to_date(d?)))).collect())
}

fn encode_first_seen(first_seen: &HashMap<Uuid, NaiveDate>) -> Result<Bytes> {
    let mut pairs: Vec<(String, i32)> = first_seen.iter().map(|(id, d)| (id.to_string(), date_to_days(*d))).collect();
    pairs.sort();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("system_id".into(), pairs.iter().map(|p| p.0.as_str()).collect::<Vec<_>>()),
        Int32Chunked::from_vec("first_seen".into(), pairs.iter().map(|p| p.1).collect()).into_date().into_column(),
    ])
    .context(SYSTEMS_STATE)?;
    write_parquet(&mut df).context(SYSTEMS_STATE)
}

/// The two fact frames, each with its `date` column.
fn frames(rows: &[(Valid, NaiveDate)]) -> PolarsResult<(DataFrame, DataFrame)> {
    let n = rows.len();
    let opt = |f: &dyn Fn(&CheckIn) -> Option<u32>| -> Column {
        Column::new("x".into(), rows.iter().map(|(v, _)| f(&v.checkin).map(i64::from)).collect::<Vec<_>>())
    };
    let named = |c: Column, name: &str| c.with_name(name.into());
    let checkins = DataFrame::new_infer_height(vec![
        Column::new("system_id".into(), rows.iter().map(|(v, _)| v.checkin.system_id.to_string()).collect::<Vec<_>>()),
        Int32Chunked::from_vec("first_seen".into(), rows.iter().map(|(_, f)| date_to_days(*f)).collect()).into_date().into_column(),
        Column::new("age_days".into(), rows.iter().map(|(v, f)| (v.day - *f).num_days()).collect::<Vec<_>>()),
        named(opt(&|c| c.message.online_workers.and_then(|w| w.processes)), "workers_processes"),
        named(opt(&|c| c.message.online_workers.and_then(|w| w.hosts)), "workers_hosts"),
        named(opt(&|c| c.message.online_content_apps.and_then(|w| w.processes)), "content_apps_processes"),
        named(opt(&|c| c.message.online_content_apps.and_then(|w| w.hosts)), "content_apps_hosts"),
        named(opt(&|c| c.message.postgresql_version), "postgresql_version"),
        named(opt(&|c| c.message.rbac_stats.map(|r| r.users.unwrap_or(0))), "rbac_users"),
        named(opt(&|c| c.message.rbac_stats.map(|r| r.groups.unwrap_or(0))), "rbac_groups"),
        named(opt(&|c| c.message.rbac_stats.map(|r| r.domains.unwrap_or(0))), "rbac_domains"),
        named(opt(&|c| c.message.rbac_stats.map(|r| r.custom_access_policies.unwrap_or(0))), "rbac_custom_access_policies"),
        named(opt(&|c| c.message.rbac_stats.map(|r| r.custom_roles.unwrap_or(0))), "rbac_custom_roles"),
        Column::new("components".into(), rows.iter().map(|(v, _)| v.checkin.message.components.len() as i64).collect::<Vec<_>>()),
        Int32Chunked::from_vec("date".into(), rows.iter().map(|(v, _)| date_to_days(v.day)).collect()).into_date().into_column(),
    ])?;
    debug_assert_eq!(checkins.height(), n);
    let comps: Vec<(&Valid, &crate::proto::analytics::Component)> =
        rows.iter().flat_map(|(v, _)| v.checkin.message.components.iter().map(move |c| (v, c))).collect();
    let components = DataFrame::new_infer_height(vec![
        Column::new("system_id".into(), comps.iter().map(|(v, _)| v.checkin.system_id.to_string()).collect::<Vec<_>>()),
        Column::new("name".into(), comps.iter().map(|(_, c)| c.name.as_str()).collect::<Vec<_>>()),
        Column::new("version".into(), comps.iter().map(|(_, c)| c.version.as_str()).collect::<Vec<_>>()),
        Column::new("major_minor".into(), comps.iter().map(|(_, c)| checkin::major_minor(&c.version)).collect::<Vec<_>>()),
        Int32Chunked::from_vec("date".into(), comps.iter().map(|(v, _)| date_to_days(v.day)).collect()).into_date().into_column(),
    ])?;
    Ok((checkins, components))
}
