//! Settings, resolved in one place: command-line flag, then environment variable, then the
//! config file (`--config`, `PIPELAKE_CONFIG`, or `./pipelake.toml`), then the built-in default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::sources;

/// Default raw lake root.
pub const DEFAULT_RAW: &str = "./lake/raw";
/// Default warehouse root.
pub const DEFAULT_WAREHOUSE: &str = "./lake/warehouse";
/// Days a file that left the warehouse stays for readers of older versions.
pub const DEFAULT_VACUUM_RETENTION_DAYS: u32 = 7;
/// The config file looked for in the working directory.
pub const CONFIG_FILE: &str = "pipelake.toml";

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the telemetry comes from: production counts only GA check-ins and calls a system
/// persistent from its second day; development counts everything from the first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Deployment {
    #[default]
    Production,
    Development,
}

impl Deployment {
    /// The least age (days since first seen) of a system that counts as persistent.
    pub fn persistent_age(self) -> i64 {
        match self {
            Deployment::Production => 1,
            Deployment::Development => 0,
        }
    }
}

/// Values given on the command line (or through their environment variables).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub raw: Option<String>,
    pub warehouse: Option<String>,
    pub log_format: Option<LogFormat>,
    /// Seconds to wait for another job writing to the warehouse.
    pub wait_seconds: Option<u64>,
}

/// The resolved settings of one invocation.
#[derive(Debug, Clone)]
pub struct Settings {
    pub raw: String,
    pub warehouse: String,
    pub log_format: LogFormat,
    pub deployment: Deployment,
    /// Raw retention per source in days; `None` keeps raw objects for ever.
    pub retention_days: BTreeMap<String, Option<u32>>,
    /// Most bytes of raw objects decoded in one transaction.
    pub batch_bytes: u64,
    /// How long a writing command waits for another one on the same warehouse (0: stop at once).
    pub wait_seconds: u64,
    /// On object stores, how long the writer's lease outlives its last renewal: the longest a
    /// crashed job keeps others out.
    pub lease_seconds: u64,
    /// What one raw object or record may take: past these, it is rejected with the limit named.
    pub limits: Limits,
    /// Days a file stays on disk after it left the warehouse (and versions stay readable)
    /// before `vacuum` deletes it (`vacuum_retention_days`, default 7).
    pub vacuum_retention_days: u32,
    /// What the DORA folds need to know of the organisation.
    pub dora: DoraSettings,
    /// Whether the collector's pipelines (source `pipelines`) go into `ci_runs`, `ci_jobs` and
    /// CI health (`[sources.pipelines] ci_health = true`; default off: a month of a large
    /// collector is millions of job attempts, and the nightly job takes twice as long).
    pub collector_ci_health: bool,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
}

/// Settings of the DORA keys (METRICS.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoraSettings {
    /// Environment names taken as production besides what the sender marks
    /// (`production_environments`, any case; default `production` and `prod`).
    pub production_environments: Vec<String>,
    /// How long after a deployment an incident without a root cause is blamed on it
    /// (`attribution_window_days`, default 7).
    pub attribution_window_days: u32,
    /// PagerDuty service id to repository (`[sources.pagerduty] services`).
    pub pagerduty_services: BTreeMap<String, String>,
}

/// Longest attribution window: the folds look back this far for the deployment an incident
/// is blamed on.
pub const MAX_ATTRIBUTION_WINDOW_DAYS: u32 = 90;

impl Default for DoraSettings {
    fn default() -> Self {
        DoraSettings {
            production_environments: vec!["production".into(), "prod".into()],
            attribution_window_days: 7,
            pagerduty_services: BTreeMap::new(),
        }
    }
}

impl DoraSettings {
    /// Whether an environment name is production by the setting.
    pub fn is_production_name(&self, environment: &str) -> bool {
        self.production_environments.iter().any(|p| p.eq_ignore_ascii_case(environment.trim()))
    }
}

/// Bounds on what hostile raw input can make pipelake hold in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of one raw object, decompressed (`max_object_megabytes`, default 256).
    pub object_bytes: u64,
    /// Most bytes of one record: a line, a `.json` object, a protobuf message
    /// (`max_record_megabytes`, default 16).
    pub record_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { object_bytes: 256 << 20, record_bytes: 16 << 20 }
    }
}

impl Limits {
    /// The reason a record of `len` bytes is refused, if it is.
    pub fn check_record(&self, len: usize) -> Result<(), String> {
        if len > self.record_bytes {
            Err(format!("record of {len} bytes is larger than max_record_megabytes ({} MiB)", self.record_bytes >> 20))
        } else {
            Ok(())
        }
    }
}

/// The lease length: `PIPELAKE_LEASE_SECONDS`, else the config file, else the default; at least 2.
fn lease_seconds(from_file: Option<u64>) -> Result<u64> {
    let from_env = match std::env::var("PIPELAKE_LEASE_SECONDS") {
        Ok(v) => Some(
            v.trim().parse::<u64>().map_err(|_| Error::usage(format!("PIPELAKE_LEASE_SECONDS must be a number of seconds, not {v:?}")))?,
        ),
        Err(_) => None,
    };
    let seconds = from_env.or(from_file).unwrap_or(crate::warehouse::lock::DEFAULT_LEASE_SECONDS);
    if seconds < 2 {
        return Err(Error::usage("lease_seconds must be at least 2"));
    }
    Ok(seconds)
}

/// The config file, `pipelake.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    raw: Option<String>,
    warehouse: Option<String>,
    log_format: Option<LogFormat>,
    deployment: Option<Deployment>,
    batch_megabytes: Option<u64>,
    wait_seconds: Option<u64>,
    lease_seconds: Option<u64>,
    max_object_megabytes: Option<u64>,
    max_record_megabytes: Option<u64>,
    vacuum_retention_days: Option<u32>,
    production_environments: Option<Vec<String>>,
    attribution_window_days: Option<u32>,
    #[serde(default)]
    sources: BTreeMap<String, SourceConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceConfig {
    /// Days to keep raw objects after landing, or "forever".
    retention_days: Option<Retention>,
    /// PagerDuty only: service id to repository.
    services: Option<BTreeMap<String, String>>,
    /// Pipelines only: whether the collector's pipelines feed CI health.
    ci_health: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Retention {
    Days(u32),
    Word(String),
}

impl Settings {
    /// Resolve settings from the command line, the environment and the config file.
    pub fn resolve(overrides: Overrides) -> Result<Settings> {
        let (file, config_file) = load_config(overrides.config.as_deref())?;
        // Every key of the file named here, so that a new one cannot be left unresolved.
        let ConfigFile {
            raw,
            warehouse,
            log_format,
            deployment,
            batch_megabytes,
            wait_seconds,
            lease_seconds: file_lease_seconds,
            max_object_megabytes,
            max_record_megabytes,
            vacuum_retention_days,
            production_environments,
            attribution_window_days,
            sources: file_sources,
        } = file;
        let mut dora = DoraSettings::default();
        if let Some(names) = production_environments {
            dora.production_environments = names;
        }
        if let Some(days) = attribution_window_days {
            if days > MAX_ATTRIBUTION_WINDOW_DAYS {
                return Err(Error::usage(format!(
                    "config: attribution_window_days must be at most {MAX_ATTRIBUTION_WINDOW_DAYS}, not {days}"
                )));
            }
            dora.attribution_window_days = days;
        }
        let mut collector_ci_health = false;
        let mut retention_days = BTreeMap::new();
        for source in sources::all() {
            retention_days.insert(source.name().to_string(), source.default_retention_days());
        }
        for (name, cfg) in file_sources {
            if sources::by_name(&name).is_none() {
                return Err(Error::usage(format!("config: unknown source [sources.{name}]; known: {}", source_names())));
            }
            let SourceConfig { retention_days: retention, services, ci_health } = cfg;
            if let Some(on) = ci_health {
                if name != "pipelines" {
                    return Err(Error::usage(format!("config: sources.{name}.ci_health: only [sources.pipelines] has it")));
                }
                collector_ci_health = on;
            }
            if let Some(services) = services {
                if name != "pagerduty" {
                    return Err(Error::usage(format!("config: sources.{name}.services: only [sources.pagerduty] maps services")));
                }
                dora.pagerduty_services = services;
            }
            match retention {
                None => {}
                Some(Retention::Days(d)) => {
                    retention_days.insert(name, Some(d));
                }
                Some(Retention::Word(w)) if w == "forever" => {
                    retention_days.insert(name, None);
                }
                Some(Retention::Word(w)) => {
                    return Err(Error::usage(format!(
                        "config: sources.{name}.retention_days must be a number of days or \"forever\", not {w:?}"
                    )))
                }
            }
        }
        let defaults = Limits::default();
        let limits = Limits {
            object_bytes: megabytes("max_object_megabytes", max_object_megabytes)?.unwrap_or(defaults.object_bytes),
            record_bytes: megabytes("max_record_megabytes", max_record_megabytes)?.map_or(defaults.record_bytes, |b| b as usize),
        };
        let batch_megabytes = batch_megabytes.unwrap_or(128);
        if batch_megabytes == 0 {
            return Err(Error::usage("config: batch_megabytes must be at least 1"));
        }
        Ok(Settings {
            raw: overrides.raw.or(raw).unwrap_or_else(|| DEFAULT_RAW.to_string()),
            warehouse: overrides.warehouse.or(warehouse).unwrap_or_else(|| DEFAULT_WAREHOUSE.to_string()),
            log_format: overrides.log_format.or(log_format).unwrap_or(LogFormat::Text),
            deployment: deployment.unwrap_or_default(),
            retention_days,
            batch_bytes: batch_megabytes << 20,
            wait_seconds: overrides.wait_seconds.or(wait_seconds).unwrap_or(0),
            lease_seconds: lease_seconds(file_lease_seconds)?,
            limits,
            vacuum_retention_days: vacuum_retention_days.unwrap_or(DEFAULT_VACUUM_RETENTION_DAYS),
            dora,
            collector_ci_health,
            config_file,
        })
    }
}

/// A limit in megabytes from the config file, in bytes: at least 1 MiB, at most 1 TiB.
fn megabytes(key: &str, value: Option<u64>) -> Result<Option<u64>> {
    match value {
        Some(mb) if !(1..=1 << 20).contains(&mb) => Err(Error::usage(format!("config: {key} must be between 1 and 1048576, not {mb}"))),
        other => Ok(other.map(|mb| mb << 20)),
    }
}

/// Names of all sources, for messages.
pub fn source_names() -> String {
    sources::all().iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
}

fn load_config(explicit: Option<&Path>) -> Result<(ConfigFile, Option<PathBuf>)> {
    let path = match explicit {
        Some(p) => {
            if !p.is_file() {
                return Err(Error::usage(format!("config file {} not found", p.display())));
            }
            p.to_path_buf()
        }
        None if Path::new(CONFIG_FILE).is_file() => PathBuf::from(CONFIG_FILE),
        None => return Ok((ConfigFile::default(), None)),
    };
    let text = std::fs::read_to_string(&path).map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?;
    let file: ConfigFile = toml::from_str(&text).map_err(|e| Error::usage(format!("{}: {}", path.display(), e.message())))?;
    Ok((file, Some(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "raw = \"s3://b/raw\"\nwarehouse = \"/w\"\n[sources.pipelines]\nretention_days = 30\n").unwrap();
        let s = Settings::resolve(Overrides { config: Some(path.clone()), warehouse: Some("/flag".into()), ..Default::default() }).unwrap();
        assert_eq!(s.raw, "s3://b/raw");
        assert_eq!(s.warehouse, "/flag");
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.retention_days["pipelines"], Some(30));
    }

    #[test]
    fn unknown_keys_and_sources_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, "rwa = \"x\"\n").unwrap();
        assert!(Settings::resolve(Overrides { config: Some(path.clone()), ..Default::default() }).unwrap_err().is_usage());
        std::fs::write(&path, "[sources.nope]\nretention_days = 1\n").unwrap();
        assert!(Settings::resolve(Overrides { config: Some(path), ..Default::default() }).unwrap_err().is_usage());
    }
}
