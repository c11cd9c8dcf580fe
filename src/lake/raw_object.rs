//! Raw objects: `raw/<source>/dt=YYYY-MM-DD/<name>.<ext>[.gz|.zst]`, in landing order.

use chrono::{DateTime, NaiveDate, Utc};

use super::location::Skipped;
use super::Location;
use crate::error::Result;

/// One object in the raw lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawObject {
    /// The source folder it was found under.
    pub source: String,
    /// Key relative to the raw root, e.g. `pipelines/dt=2026-10-01/part-0.ndjson`.
    pub key: String,
    pub size: u64,
    /// The landing day: the `dt=` folder, or else the last-modified day (UTC).
    pub landed: NaiveDate,
    pub last_modified: DateTime<Utc>,
    /// Changes when the object's content may have changed (see [`crate::lake::Entry::version`]).
    pub version: String,
}

/// The raw objects of one source, and what the listing passed over.
#[derive(Debug, Default)]
pub struct RawListing {
    /// In landing order (landing day, then key).
    pub objects: Vec<RawObject>,
    /// Entries that cannot be objects (links, odd names, special files), with the reason.
    pub skipped: Vec<Skipped>,
}

/// List the raw objects of one source in landing order (landing day, then key).
///
/// Names starting with `.` or `_` (temporary uploads, `_SUCCESS` markers) are not data and are
/// left out. Nothing outside the raw root is listed (see [`Location::list_untrusted`]).
pub fn list_raw_objects(raw: &Location, source: &str) -> Result<RawListing> {
    let prefix = format!("{source}/");
    let mut listing = raw.list_untrusted(source)?;
    let skipped = &mut listing.skipped;
    let mut objects: Vec<RawObject> = listing
        .objects
        .into_iter()
        .filter_map(|entry| {
            let name = entry.key.rsplit('/').next().unwrap_or_default();
            if !entry.key.starts_with(&prefix) || name.starts_with('.') || name.starts_with('_') {
                return None;
            }
            let landed = landing_day_from_key(&entry.key).unwrap_or_else(|| entry.last_modified.date_naive());
            if !crate::timestamp::is_partition_day(landed) {
                let reason = format!("no dt= folder and last modified {}, outside the years 1 to 9999", entry.last_modified);
                skipped.push(Skipped { name: entry.key, reason });
                return None;
            }
            Some(RawObject {
                source: source.to_string(),
                key: entry.key,
                size: entry.size,
                landed,
                last_modified: entry.last_modified,
                version: entry.version,
            })
        })
        .collect();
    objects.sort_by(|a, b| (a.landed, &a.key).cmp(&(b.landed, &b.key)));
    Ok(RawListing { objects, skipped: listing.skipped })
}

/// The day of the first `dt=YYYY-MM-DD` folder in `key`, if any. A `dt=` that is not a day of
/// the years 1 to 9999 (the days a partition can hold) is no landing day: the object's
/// last-modified day stands in, as for an object without a `dt=` folder.
pub fn landing_day_from_key(key: &str) -> Option<NaiveDate> {
    key.split('/')
        .filter_map(|part| part.strip_prefix("dt="))
        .find_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().filter(|d| crate::timestamp::is_partition_day(*d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landing_day_from_dt_folder() {
        assert_eq!(landing_day_from_key("pipelines/dt=2026-10-01/a.ndjson"), NaiveDate::from_ymd_opt(2026, 10, 1));
        assert_eq!(landing_day_from_key("pipelines/a.ndjson"), None);
        assert_eq!(landing_day_from_key("pipelines/dt=garbage/a.ndjson"), None);
        assert_eq!(landing_day_from_key("pipelines/dt=99999-01-01/a.ndjson"), None);
        assert_eq!(landing_day_from_key("pipelines/dt=+10000-01-01/a.ndjson"), None);
        assert_eq!(landing_day_from_key("pipelines/dt=0000-12-31/a.ndjson"), None);
    }
}
