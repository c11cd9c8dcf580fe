//! DuckDB over the warehouse: the `CREATE VIEW` statements analysts use, and `pipelake query`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use duckdb::types::{TimeUnit, Value};
use duckdb::Connection;

use crate::error::{Error, Result};
use crate::sources;
use crate::summaries;
use crate::timestamp::checked_days_to_date;
use crate::warehouse::{path_literal, TableDef, Warehouse, INGESTED_OBJECTS, REJECTS};

/// How `pipelake query` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// Every table a view is made for: fact tables, summaries, bookkeeping.
pub fn all_tables() -> Vec<&'static TableDef> {
    // Several sources may write one table (the webhook event tables): each table once.
    let mut seen = std::collections::HashSet::new();
    let facts = sources::all().iter().flat_map(|s| s.tables().iter().copied());
    let summary = summaries::all().iter().map(|s| s.table());
    facts.chain(summary).chain([&INGESTED_OBJECTS, &REJECTS]).filter(|t| seen.insert(t.name)).collect()
}

/// An in-memory DuckDB with views over the version the warehouse was opened at. On an object
/// store, the files of the tables `sql` names (all tables when `None`) are fetched to a local
/// cache first: file names are never reused, so a cached file is always the right one.
pub fn connect(warehouse: &Warehouse, sql: Option<&str>) -> Result<Connection> {
    let named = named_tables(sql);
    let (root, views) = match warehouse.location().local_root() {
        Some(root) => (root.to_path_buf(), warehouse.views_sql(&root.to_string_lossy())),
        None => {
            let root = fetch_tables(warehouse, &named)?;
            // Only the tables fetched: a view binds its files when created.
            let views = warehouse.views_sql_of(&root.to_string_lossy(), |t| named.as_ref().is_none_or(|n| n.contains(t.name)));
            (root, views)
        }
    };
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(&views)?;
    // DuckDB may read the warehouse and nothing else: no other file, no extension to load or
    // install, no environment variable; and no statement can change that afterwards.
    let folder = format!("{}/", root.to_string_lossy().trim_end_matches('/'));
    // DuckDB checks the path as written (globs escaped, see `path_literal`) before it expands
    // it to the file, then the file: both spellings of the folder are allowed.
    let escaped = path_literal(&folder);
    conn.execute_batch(&format!(
        "SET allowed_directories = ['{}', {escaped}];
         SET enable_external_access = false;
         SET autoload_known_extensions = false;
         SET autoinstall_known_extensions = false;
         SET lock_configuration = true;",
        folder.replace('\'', "''")
    ))?;
    Ok(conn)
}

/// The local cache of an object-store warehouse: `$XDG_CACHE_HOME/pipelake/warehouses/<hash
/// of the URL>` (or under `~/.cache`, else the temp folder).
fn cache_dir(warehouse: &Warehouse) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    warehouse.location().url().hash(&mut h);
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("pipelake/warehouses").join(format!("{:016x}", h.finish()))
}

/// The tables whose names appear as words in `sql` (all when `None`).
fn named_tables(sql: Option<&str>) -> Option<HashSet<&'static str>> {
    let words: HashSet<String> = sql?.split(|c: char| !(c.is_alphanumeric() || c == '_')).map(str::to_ascii_lowercase).collect();
    Some(all_tables().into_iter().map(|t| t.name).filter(|n| words.contains(*n)).collect())
}

/// Fetch into the cache the files of the `named` tables (all when `None`) that it does not
/// hold yet, and drop old cached files no longer in the version read; returns the cache's root.
fn fetch_tables(warehouse: &Warehouse, named: &Option<HashSet<&'static str>>) -> Result<PathBuf> {
    let dir = cache_dir(warehouse);
    let mut wanted = Vec::new();
    let mut keep = HashSet::new();
    for table in all_tables() {
        let named = named.as_ref().is_none_or(|n| n.contains(table.name));
        for (day, files) in warehouse.manifest().tables.get(table.name).into_iter().flatten() {
            for file in files {
                let key = table.file_key(*day, &file.file);
                let path = dir.join(&key);
                // The first layout rewrote summary files under one name: its files are checked
                // by size, every other name is never reused.
                let cached = std::fs::metadata(&path).is_ok_and(|m| m.len() == file.bytes && file.file != "data.parquet");
                if named && !cached {
                    wanted.push(key.clone());
                }
                keep.insert(path);
            }
        }
    }
    let io = |context: String| move |source| Error::Io { context, source };
    for (key, bytes) in wanted.iter().zip(warehouse.location().get_many(&wanted)) {
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().expect("a parent")).map_err(io(format!("cache {}", path.display())))?;
        // Written whole, then renamed: a query running meanwhile never reads half a file.
        let temp = path.with_extension(format!("part-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&temp, bytes?).map_err(io(format!("cache {}", path.display())))?;
        std::fs::rename(&temp, &path).map_err(io(format!("cache {}", path.display())))?;
    }
    prune_cache(&dir, &keep);
    Ok(dir)
}

/// Remove cached files that the version read does not hold and that were fetched more than a
/// day ago (a query of another version may be reading the newer ones); best effort.
fn prune_cache(dir: &Path, keep: &HashSet<PathBuf>) {
    let old = |entry: &std::fs::DirEntry| {
        entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|e| e.as_secs() > 86_400))
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "parquet") && !keep.contains(&path) && old(&entry) => {
                    let _ = std::fs::remove_file(&path);
                }
                _ => {}
            }
        }
    }
}

/// Run one SQL statement over the views and render the result. Only queries run: a statement
/// that would write, attach, load, install or set anything is refused (a usage error).
pub fn query(warehouse: &Warehouse, sql: &str, format: OutputFormat) -> Result<String> {
    let conn = connect(warehouse, Some(sql))?;
    read_only(&conn, sql)?;
    // DuckDB's messages can span lines (a caret under the error): a command's error is one line.
    let (names, rows) = run(&conn, sql).map_err(|e| match e {
        Error::DuckDb(e) => Error::Query(one_line(&e.to_string())),
        other => other,
    })?;
    Ok(render(&names, &rows, format))
}

/// A message on one line, its white space runs (new lines, a caret's indent) one space each.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Refuse anything but queries. DuckDB's own parser decides: `json_serialize_sql` serialises
/// SELECT statements (with their CTEs, set operations, DESCRIBE and SUMMARIZE) and refuses
/// every other kind.
fn read_only(conn: &Connection, sql: &str) -> Result<()> {
    let parsed: String = conn.query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |r| r.get(0))?;
    let parsed: serde_json::Value = serde_json::from_str(&parsed).map_err(|e| Error::usage(format!("cannot check the statement: {e}")))?;
    if parsed["error"].as_bool() == Some(true) {
        let why = one_line(parsed["error_message"].as_str().unwrap_or("not a query"));
        return Err(Error::usage(format!("pipelake query runs read-only queries (SELECT, WITH, DESCRIBE, SUMMARIZE); refused: {why}")));
    }
    if parsed["statements"].as_array().is_some_and(|s| s.len() != 1) {
        return Err(Error::usage("pipelake query runs one statement at a time"));
    }
    Ok(())
}

/// Run one statement: column names and rows.
pub fn run(conn: &Connection, sql: &str) -> Result<(Vec<String>, Vec<Vec<Value>>)> {
    run_with(conn, sql, &[])
}

/// Run one statement with values bound to its `?` parameters: column names and rows.
pub fn run_with(conn: &Connection, sql: &str, params: &[&dyn duckdb::ToSql]) -> Result<(Vec<String>, Vec<Vec<Value>>)> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    let mut names = None;
    while let Some(row) = rows.next()? {
        let stmt = row.as_ref();
        let n = stmt.column_count();
        if names.is_none() {
            names = Some(stmt.column_names());
        }
        out.push((0..n).map(|i| row.get::<_, Value>(i)).collect::<duckdb::Result<Vec<_>>>()?);
    }
    let names = match names {
        Some(n) => n,
        None => rows.as_ref().map(|s| s.column_names()).unwrap_or_default(),
    };
    Ok((names, out))
}

/// Render rows as an aligned table, CSV, or a JSON array of objects.
pub fn render(names: &[String], rows: &[Vec<Value>], format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => {
            let array: Vec<serde_json::Value> =
                rows.iter().map(|r| serde_json::Value::Object(names.iter().cloned().zip(r.iter().map(json_value)).collect())).collect();
            serde_json::to_string_pretty(&array).expect("JSON") + "\n"
        }
        OutputFormat::Csv => {
            let mut out = String::new();
            let line = |cells: Vec<String>| cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",") + "\n";
            out.push_str(&line(names.to_vec()));
            for r in rows {
                out.push_str(&line(r.iter().map(|v| if matches!(v, Value::Null) { String::new() } else { text(v) }).collect()));
            }
            out
        }
        OutputFormat::Table => {
            let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(text).collect()).collect();
            let widths: Vec<usize> = names
                .iter()
                .enumerate()
                .map(|(i, n)| cells.iter().map(|r| r[i].chars().count()).chain([n.chars().count()]).max().unwrap_or(0))
                .collect();
            let fmt_row = |r: &[String]| -> String {
                r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join(" | ").trim_end().to_string() + "\n"
            };
            let mut out = fmt_row(names);
            out.push_str(&(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("-+-") + "\n"));
            for r in &cells {
                out.push_str(&fmt_row(r));
            }
            let _ = writeln!(out, "({} row{})", rows.len(), if rows.len() == 1 { "" } else { "s" });
            out
        }
    }
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

fn micros(unit: TimeUnit, v: i64) -> i64 {
    match unit {
        TimeUnit::Second => v.saturating_mul(1_000_000),
        TimeUnit::Millisecond => v.saturating_mul(1_000),
        TimeUnit::Microsecond => v,
        TimeUnit::Nanosecond => v / 1_000,
    }
}

/// A value as text, as DuckDB's own CLI would show it.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Boolean(b) => b.to_string(),
        Value::TinyInt(i) => i.to_string(),
        Value::SmallInt(i) => i.to_string(),
        Value::Int(i) => i.to_string(),
        Value::BigInt(i) => i.to_string(),
        Value::HugeInt(i) => i.to_string(),
        Value::UHugeInt(i) => i.to_string(),
        Value::UTinyInt(i) => i.to_string(),
        Value::USmallInt(i) => i.to_string(),
        Value::UInt(i) => i.to_string(),
        Value::UBigInt(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(f) => f.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Timestamp(unit, t) => chrono::DateTime::from_timestamp_micros(micros(*unit, *t))
            .map(|d| d.format("%Y-%m-%d %H:%M:%S%.f").to_string())
            .unwrap_or_else(|| t.to_string()),
        // DuckDB's `infinity` dates lie past what chrono holds.
        Value::Date32(d) => match checked_days_to_date(*d) {
            Some(date) => date.to_string(),
            None if *d < 0 => "-infinity".into(),
            None => "infinity".into(),
        },
        Value::Text(s) | Value::Enum(s) => s.clone(),
        Value::List(items) | Value::Array(items) => format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(", ")),
        other => format!("{other:?}"),
    }
}

fn json_value(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::TinyInt(i) => (*i).into(),
        Value::SmallInt(i) => (*i).into(),
        Value::Int(i) => (*i).into(),
        Value::BigInt(i) => (*i).into(),
        Value::UTinyInt(i) => (*i).into(),
        Value::USmallInt(i) => (*i).into(),
        Value::UInt(i) => (*i).into(),
        Value::UBigInt(i) => (*i).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f as f64).map_or(J::Null, J::Number),
        Value::Double(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::List(items) | Value::Array(items) => J::Array(items.iter().map(json_value).collect()),
        other => J::String(text(other)),
    }
}
