//! The command line: parses, resolves settings, calls the library, prints. No logic of its own.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use pipelake::generate::{generate, GenerateOptions};
use pipelake::lake::Location;
use pipelake::progress::Progress;
use pipelake::query::{self, OutputFormat};
use pipelake::redact::{redact, Redacting};
use pipelake::run::{select_sources, select_summaries, Days, Pipelake, Writing};
use pipelake::settings::{LogFormat, Overrides, Settings};
use pipelake::warehouse::AsOf;
use pipelake::Error;

/// Batch ETL for CI and DevOps analytics: raw object storage to Hive-partitioned Parquet,
/// queried with DuckDB.
#[derive(Debug, Parser)]
#[command(name = "pipelake", version, about, max_term_width = 100)]
struct Cli {
    /// Config file [default: ./pipelake.toml when present]
    #[arg(long, global = true, env = "PIPELAKE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Raw lake root: a path, file://, s3://bucket/prefix, gs://… or az://… [default: ./lake/raw]
    #[arg(long, global = true, env = "PIPELAKE_RAW", value_name = "URL")]
    raw: Option<String>,
    /// Warehouse root, same forms as --raw [default: ./lake/warehouse]
    #[arg(long, global = true, env = "PIPELAKE_WAREHOUSE", value_name = "URL")]
    warehouse: Option<String>,
    /// Log lines as text or as JSON (one object per line) [default: text]
    #[arg(long, global = true, env = "PIPELAKE_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    /// Seconds a writing command waits for another job on the same warehouse [default: 0, stop at once]
    #[arg(long, global = true, env = "PIPELAKE_WAIT", value_name = "SECONDS")]
    wait: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The nightly job: ingest what is new, summarise the days it touched and the days asked
    /// for (default: yesterday, UTC), then prune raw objects past retention and vacuum.
    Run {
        #[command(flatten)]
        days: DayArgs,
        /// Only these sources (repeatable) [default: all]
        #[arg(long = "source", value_name = "S")]
        sources: Vec<String>,
    },
    /// Decode raw objects not ingested yet into the fact tables, deduplicated.
    Ingest {
        /// Only these sources (repeatable) [default: all]
        #[arg(long = "source", value_name = "S")]
        sources: Vec<String>,
    },
    /// Recompute summary tables for the given event days (a backfill); without days, the days
    /// new data made stale.
    Summarize {
        /// Only these summary tables (repeatable) [default: all]
        #[arg(long = "table", value_name = "T")]
        tables: Vec<String>,
        #[command(flatten)]
        days: DayArgs,
        /// With days named: also the days whose facts changed since they were computed, as `run` does
        #[arg(long)]
        pending: bool,
    },
    /// The nightly job as tasks for a scheduler (JSON): one ingest per source, the summary tables
    /// level by level (a level reads only levels before it), then prune and vacuum.
    Plan,
    /// Delete raw objects past their source's retention that were ingested; never one that was not.
    Prune {
        /// Only list what would be deleted
        #[arg(long)]
        dry_run: bool,
        /// Only these sources (repeatable) [default: all]
        #[arg(long = "source", value_name = "S")]
        sources: Vec<String>,
    },
    /// Delete files that left the warehouse longer than vacuum_retention_days ago (default 7),
    /// files of jobs that never committed, and log entries no kept version needs.
    Vacuum {
        /// Only say what would be deleted
        #[arg(long)]
        dry_run: bool,
    },
    /// Run SQL in embedded DuckDB over views named like the tables, reading one committed version.
    Query {
        /// One SQL statement
        sql: String,
        #[arg(long, value_enum, default_value = "table")]
        format: OutputFormat,
        /// Read an older version: its number (see `pipelake history`), or the newest committed
        /// at or before a time (2026-10-01T12:00:00Z) or by the end of a day (2026-10-01)
        #[arg(long, value_name = "VERSION|TIME")]
        as_of: Option<AsOf>,
    },
    /// The versions the log keeps, newest first: when, which command, what each changed.
    History {
        /// At most this many versions
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value = "text")]
        format: StatusFormat,
    },
    /// Print the DuckDB CREATE VIEW statements over the newest committed version (the same
    /// views as the catalog <warehouse>/pipelake.duckdb).
    Views,
    /// Write one self-contained HTML report (opens offline): pipelines, DORA, telemetry, perf.
    Report {
        /// First event day [default: the first with data]
        #[arg(long, value_parser = parse_date)]
        from: Option<NaiveDate>,
        /// Last event day [default: the last with data]
        #[arg(long, value_parser = parse_date)]
        to: Option<NaiveDate>,
        /// Where to write the HTML file
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Per source: objects seen, ingested, pending, rejected records; per table: rows, days, last day.
    Status {
        #[arg(long, value_enum, default_value = "text")]
        format: StatusFormat,
    },
    /// Write realistic raw data (quirks included) under the raw root.
    Generate {
        /// Landing days to write
        #[arg(long)]
        days: u32,
        /// Payloads per source and day
        #[arg(long)]
        per_day: u32,
        /// First landing day [default: DAYS days before today]
        #[arg(long, value_parser = parse_date)]
        start: Option<NaiveDate>,
        /// Random seed; the same seed writes the same bytes
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Only these sources (repeatable) [default: all]
        #[arg(long = "source", value_name = "S")]
        sources: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StatusFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
struct DayArgs {
    /// One event day, YYYY-MM-DD
    #[arg(long, value_parser = parse_date, conflicts_with_all = ["from", "to"])]
    date: Option<NaiveDate>,
    /// First day of a range (with --to)
    #[arg(long, value_parser = parse_date, requires = "to")]
    from: Option<NaiveDate>,
    /// Last day of a range (with --from)
    #[arg(long, value_parser = parse_date, requires = "from")]
    to: Option<NaiveDate>,
}

impl DayArgs {
    fn days(&self) -> Result<Option<Days>, Error> {
        match (self.date, self.from, self.to) {
            (Some(d), _, _) => Ok(Some(Days::single(d))),
            (None, Some(f), Some(t)) => Days::range(f, t).map(Some),
            _ => Ok(None),
        }
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"))
}

/// Parse the command line, run, and map the outcome to the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version print in full; a usage error is one line.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("pipelake: {} (see pipelake --help)", usage_line(&e.render().to_string()));
            return ExitCode::from(2);
        }
    };
    let overrides = Overrides {
        config: cli.config.clone(),
        raw: cli.raw.clone(),
        warehouse: cli.warehouse.clone(),
        log_format: cli.log_format,
        wait_seconds: cli.wait,
    };
    let settings = match Settings::resolve(overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pipelake: {}", redact(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_format);
    match execute(cli.command, settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let usage = e.downcast_ref::<Error>().is_some_and(Error::is_usage);
            let message = pipelake::error::one_line(e.chain());
            let message = redact(&message);
            if !usage {
                tracing::error!(error = %message, "failed");
            }
            eprintln!("pipelake: {message}");
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// Clap's usage error on one line: its first line, with the arguments it lists below it (a
/// missing `<SQL>`) joined on.
fn usage_line(rendered: &str) -> String {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut line = lines.next().unwrap_or_default().trim_start_matches("error: ").to_string();
    if line.ends_with(':') {
        let listed: Vec<&str> = lines.take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more")).collect();
        line = format!("{} {}", line, listed.join(", "));
    }
    line
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PIPELAKE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Object stores name the URLs they call in their errors: logs pass through `redact`.
    let writer = || Redacting(std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_target(false).init(),
    }
    // A panic (a decoder bug that some input reaches: the ingest rejects that object and goes
    // on) is logged like everything else, so that JSON logs stay one JSON object per line.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = pipelake::error::panic_message(info.payload());
        tracing::error!(location, message = %redact(&message), "panicked");
    }));
}

fn execute(command: Command, settings: Settings) -> anyhow::Result<()> {
    let json = settings.log_format == LogFormat::Json;
    match command {
        Command::Generate { days, per_day, start, seed, sources } => {
            let sources = select_sources(&sources)?.iter().map(|s| s.name().to_string()).collect();
            let runtime = std::sync::Arc::new(tokio::runtime::Runtime::new().context("start runtime")?);
            let raw = Location::open(&settings.raw, true, runtime)?;
            let start = start.unwrap_or_else(|| chrono::Utc::now().date_naive() - chrono::Duration::days(days as i64));
            let report = generate(&raw, &GenerateOptions { start, days, per_day, seed, sources })?;
            print_report(json, &report, || {
                format!("wrote {} objects, {} bytes, {} records under {}\n", report.objects, report.bytes, report.records, settings.raw)
            });
        }
        Command::Plan => println!("{}", serde_json::to_string_pretty(&pipelake::run::plan()).context("plan")?),
        command => {
            let writing = match &command {
                Command::Run { sources, .. } => Some(Writing::run(&select_sources(sources)?)),
                Command::Ingest { sources } => Some(Writing::ingest("ingest", &select_sources(sources)?)),
                Command::Summarize { tables, .. } => Some(Writing::summarize(&select_summaries(tables)?)),
                Command::Prune { dry_run: false, sources } => Some(Writing::ingest("prune", &select_sources(sources)?)),
                Command::Vacuum { dry_run: false } => Some(Writing::vacuum()),
                _ => None,
            };
            let at = match &command {
                Command::Query { as_of, .. } => *as_of,
                _ => None,
            };
            let mut lake = Pipelake::open_at(settings, Progress::auto(), writing, at)?;
            run_command(&mut lake, command, json)?;
        }
    }
    Ok(())
}

fn run_command(lake: &mut Pipelake, command: Command, json: bool) -> anyhow::Result<()> {
    match command {
        Command::Run { days, sources } => {
            let sources = select_sources(&sources)?;
            let days = days.days()?.unwrap_or_else(Days::yesterday);
            let report = lake.run(&sources, &days)?;
            let status = lake.status()?;
            print_report(json, &report, || {
                let mut out = String::new();
                for s in &report.ingest.sources {
                    out += &format!(
                        "ingest {}: {} objects, {} records: {} accepted, {} duplicates, {} rejected\n",
                        s.source, s.objects, s.records, s.accepted, s.duplicates, s.rejected
                    );
                }
                for t in &report.summarize.tables {
                    out += &format!("summarize {}: {} days, {} rows\n", t.table, t.days, t.rows);
                }
                out += &format!("prune: {} objects deleted\n", report.prune.deleted.len());
                out += &vacuum_text(&report.vacuum);
                out += "\n";
                out += &status_text(&status);
                out
            });
        }
        Command::Ingest { sources } => {
            let report = lake.ingest(&select_sources(&sources)?)?;
            print_report(json, &report, || {
                report
                    .sources
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {} objects, {} records: {} accepted, {} duplicates, {} rejected\n",
                            s.source, s.objects, s.records, s.accepted, s.duplicates, s.rejected
                        )
                    })
                    .collect()
            });
        }
        Command::Summarize { tables, days, pending } => {
            let summaries = select_summaries(&tables)?;
            let report = match days.days()? {
                Some(days) => lake.summarize(&summaries, &days, pending)?,
                None => lake.summarize(&summaries, &Days::default(), true)?,
            };
            print_report(json, &report, || {
                report.tables.iter().map(|t| format!("{}: {} days, {} rows\n", t.table, t.days, t.rows)).collect()
            });
        }
        Command::Prune { dry_run, sources } => {
            let report = lake.prune(&select_sources(&sources)?, dry_run)?;
            print_report(json, &report, || {
                let verb = if report.dry_run { "would delete" } else { "deleted" };
                let mut out: String = report.deleted.iter().map(|(_, k)| format!("{verb} {k}\n")).collect();
                out += &format!("{verb} {} objects, {} bytes\n", report.deleted.len(), report.bytes);
                out
            });
        }
        Command::Vacuum { dry_run } => {
            let report = lake.vacuum(dry_run)?;
            print_report(json, &report, || vacuum_text(&report));
        }
        Command::History { limit, format } => {
            let mut commits = lake.warehouse().history()?;
            commits.truncate(limit);
            match format {
                StatusFormat::Json => println!("{}", redact(&serde_json::to_string_pretty(&commits)?)),
                StatusFormat::Text => print!("{}", history_text(&commits)),
            }
        }
        Command::Query { sql, format, .. } => print!("{}", query::query(lake.warehouse(), &sql, format)?),
        Command::Report { from, to, out } => {
            if let (Some(f), Some(t)) = (from, to) {
                if f > t {
                    return Err(Error::usage(format!("--from {f} is after --to {t}")).into());
                }
            }
            let html = pipelake::report::render(lake.warehouse(), from, to)?;
            // Written whole next to its place, then moved there: never a half-written report.
            let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("write {}", out.display()))?;
            std::io::Write::write_all(&mut tmp, html.as_bytes()).with_context(|| format!("write {}", out.display()))?;
            tmp.persist(&out).with_context(|| format!("write {}", out.display()))?;
            if !json {
                println!("wrote {} ({} bytes)", out.display(), html.len());
            } else {
                println!("{}", serde_json::json!({"report": out, "bytes": html.len()}));
            }
        }
        Command::Views => {
            let root = lake
                .warehouse()
                .location()
                .local_root()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| lake.settings().warehouse.clone());
            print!("{}", lake.warehouse().views_sql(&root));
        }
        Command::Status { format } => {
            let status = lake.status()?;
            match format {
                StatusFormat::Json => println!("{}", redact(&serde_json::to_string_pretty(&status)?)),
                StatusFormat::Text => print!("{}", redact(&status_text(&status))),
            }
        }
        Command::Generate { .. } | Command::Plan => unreachable!("handled before opening the warehouse"),
    }
    Ok(())
}

fn print_report<T: serde::Serialize>(json: bool, report: &T, text: impl FnOnce() -> String) {
    if json {
        println!("{}", redact(&serde_json::to_string(report).expect("report serialises")));
    } else {
        print!("{}", redact(&text()));
    }
}

fn vacuum_text(v: &pipelake::warehouse::VacuumReport) -> String {
    let verb = if v.dry_run { "would delete" } else { "deleted" };
    format!(
        "vacuum: {verb} {} files out of the warehouse for over {} days ({}), {} files of jobs that never committed ({}), {} log files, {} Delta log files; {} files ({}) kept for readers of older versions\n",
        v.removed_files,
        v.retention_days,
        megabytes(v.removed_bytes),
        v.uncommitted_files,
        megabytes(v.uncommitted_bytes),
        v.log_files,
        v.delta_log_files,
        v.kept_files,
        megabytes(v.kept_bytes),
    )
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn history_text(commits: &[pipelake::warehouse::Commit]) -> String {
    let mut out = format!("{:>8}  {:<23} {:<10} {}\n", "version", "committed (UTC)", "command", "changed");
    for c in commits {
        let at = c.committed_at.map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()).unwrap_or_else(|| "-".into());
        let mut changed: Vec<String> = c
            .tables
            .iter()
            .map(|t| {
                let mut s = format!("{} +{} rows/{} files", t.table, t.rows_added, t.files_added);
                if t.files_removed > 0 {
                    s += &format!(" -{} rows/{} files", t.rows_removed, t.files_removed);
                }
                s
            })
            .collect();
        if c.objects > 0 {
            changed.push(format!("{} raw objects", c.objects));
        }
        if c.files_vacuumed > 0 {
            changed.push(format!("{} files vacuumed", c.files_vacuumed));
        }
        if changed.is_empty() {
            changed.push("bookkeeping".into());
        }
        out += &format!("{:>8}  {:<23} {:<10} {}\n", c.version, at, c.command.as_deref().unwrap_or("-"), changed.join("; "));
    }
    out
}

fn status_text(s: &pipelake::run::StatusReport) -> String {
    let committed = s.committed_at.map(|t| format!(", committed {}", t.format("%Y-%m-%d %H:%M:%S UTC"))).unwrap_or_default();
    let mut out = format!("raw {}\nwarehouse {} (version {}{committed})\n\n", s.raw, s.warehouse, s.version);
    out += &format!(
        "{:<16} {:>8} {:>9} {:>8} {:>7} {:>10} {:>10} {:>10} {:>9}\n",
        "source", "seen", "ingested", "pending", "pruned", "records", "accepted", "duplicates", "rejected"
    );
    for x in &s.sources {
        out += &format!(
            "{:<16} {:>8} {:>9} {:>8} {:>7} {:>10} {:>10} {:>10} {:>9}\n",
            x.source, x.seen, x.ingested, x.pending, x.pruned, x.records, x.accepted_records, x.duplicate_records, x.rejected_records
        );
    }
    let kinds: Vec<String> = s
        .sources
        .iter()
        .filter(|x| !x.skipped_kinds.is_empty())
        .map(|x| {
            let each: Vec<String> = x.skipped_kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
            format!("  {}: {}\n", x.source, each.join(", "))
        })
        .collect();
    if !kinds.is_empty() {
        out += &format!("\nvalid records of kinds not used, skipped:\n{}", kinds.concat());
    }
    if !s.unmapped_services.is_empty() {
        let each: Vec<String> = s.unmapped_services.iter().map(|(service, n)| format!("{service} {n}")).collect();
        out +=
            &format!("\nincidents kept without a repository (map their services in [sources.pagerduty] services): {}\n", each.join(", "));
    }
    let skipped: Vec<String> =
        s.sources.iter().flat_map(|x| x.skipped.iter().map(move |k| format!("  {} ({}): {}\n", k.name, x.source, k.reason))).collect();
    if !skipped.is_empty() {
        out += &format!("\nskipped, never read ({}):\n{}", skipped.len(), skipped.concat());
    }
    out += &format!("\n{:<26} {:>10} {:>6} {:>11} {:>6}\n", "table", "rows", "days", "last day", "stale");
    for t in &s.tables {
        let last = t.last_day.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
        out += &format!("{:<26} {:>10} {:>6} {:>11} {:>6}\n", t.table, t.rows, t.days, last, t.stale_days);
    }
    let v = &s.vacuum;
    out += &format!(
        "\nout of the warehouse: {} files ({}) kept for readers of older versions; the next vacuum frees {} files ({}) out for over {} days\n",
        v.kept_files,
        megabytes(v.kept_bytes),
        v.removed_files,
        megabytes(v.removed_bytes),
        v.retention_days
    );
    out
}
