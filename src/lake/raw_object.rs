//! Raw objects: `raw/<source>/dt=YYYY-MM-DD/<name>.<ext>[.gz|.zst]`, in landing order.

use chrono::{DateTime, NaiveDate, Utc};

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
}

/// List the raw objects of one source in landing order (landing day, then key).
///
/// Names starting with `.` or `_` (temporary uploads, `_SUCCESS` markers) are not data and are left out.
pub fn list_raw_objects(raw: &Location, source: &str) -> Result<Vec<RawObject>> {
    let prefix = format!("{source}/");
    let mut objects: Vec<RawObject> = raw
        .list(source)?
        .into_iter()
        .filter_map(|meta| {
            let key = meta.location.to_string();
            let name = key.rsplit('/').next().unwrap_or_default();
            if !key.starts_with(&prefix) || name.starts_with('.') || name.starts_with('_') {
                return None;
            }
            let landed = landing_day_from_key(&key).unwrap_or_else(|| meta.last_modified.date_naive());
            Some(RawObject { source: source.to_string(), key, size: meta.size, landed, last_modified: meta.last_modified })
        })
        .collect();
    objects.sort_by(|a, b| (a.landed, &a.key).cmp(&(b.landed, &b.key)));
    Ok(objects)
}

/// The day of the first `dt=YYYY-MM-DD` folder in `key`, if any.
pub fn landing_day_from_key(key: &str) -> Option<NaiveDate> {
    key.split('/').filter_map(|part| part.strip_prefix("dt=")).find_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landing_day_from_dt_folder() {
        assert_eq!(landing_day_from_key("pipelines/dt=2026-10-01/a.ndjson"), NaiveDate::from_ymd_opt(2026, 10, 1));
        assert_eq!(landing_day_from_key("pipelines/a.ndjson"), None);
        assert_eq!(landing_day_from_key("pipelines/dt=garbage/a.ndjson"), None);
    }
}
