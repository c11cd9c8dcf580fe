//! DuckDB over the warehouse: the `CREATE VIEW` statements analysts use, and `pipelake query`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use duckdb::types::{TimeUnit, Value};
use duckdb::Connection;

use crate::error::{Error, Result};
use crate::sources;
use crate::summaries;
use crate::timestamp::checked_days_to_date;
use crate::warehouse::{TableDef, Warehouse, INGESTED_OBJECTS, REJECTS};

/// How `pipelake query` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// Every table a view is made for: fact tables, summaries, bookkeeping.
pub fn all_tables() -> Vec<&'static TableDef> {
    let facts = sources::all().iter().flat_map(|s| s.tables().iter().copied());
    let summary = summaries::all().iter().map(|s| s.table());
    facts.chain(summary).chain([&INGESTED_OBJECTS, &REJECTS]).collect()
}

/// A path as a DuckDB string literal that names exactly that file: DuckDB reads `*`, `?` and
/// `[` in a path as a glob, so each is written as a one-character class (`[*]`), and quotes
/// are doubled.
pub fn path_literal(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 2);
    out.push('\'');
    for c in path.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            '\'' => out.push_str("''"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// What the views read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewFiles {
    /// The files of the committed version the warehouse was opened at, named one by one: a
    /// reader sees that version and nothing else found in the folders (`query`, `report`).
    Committed,
    /// Every Parquet file in the table folders, globbed when queried: a `views.sql` kept by an
    /// analyst keeps seeing new days (`pipelake views`).
    Folders,
}

/// `CREATE OR REPLACE VIEW` statements over the warehouse rooted at `root` (a local path or a
/// URL DuckDB can read), reading `files`. Paths are literals naming exactly their folder or
/// file, whatever characters the root holds. A table with no files yet gets an empty view of
/// the right columns.
pub fn views_sql(warehouse: &Warehouse, root: &str, files: ViewFiles) -> String {
    let root = root.trim_end_matches('/');
    let mut sql = String::new();
    for table in all_tables() {
        let committed = warehouse.manifest().tables.get(table.name).into_iter().flatten();
        let paths: Vec<String> = match files {
            ViewFiles::Committed => committed
                .flat_map(|(day, files)| files.iter().map(move |f| path_literal(&format!("{root}/{}", table.file_key(*day, &f.file)))))
                .collect(),
            // The root escaped, the pattern after it a glob.
            ViewFiles::Folders if committed.count() > 0 => {
                let literal = path_literal(&format!("{root}/{}/", table.dir));
                vec![format!("{}*/*.parquet'", &literal[..literal.len() - 1])]
            }
            ViewFiles::Folders => Vec::new(),
        };
        let _ = writeln!(sql, "-- {}", table.doc);
        if !paths.is_empty() {
            let list = if paths.len() == 1 { paths[0].clone() } else { format!("[{}]", paths.join(", ")) };
            let _ = writeln!(
                sql,
                "CREATE OR REPLACE VIEW {} AS SELECT * FROM read_parquet({list}, hive_partitioning = true, hive_types = {{'date': DATE}});",
                table.name,
            );
        } else {
            let cols: Vec<String> = table.columns.iter().map(|c| format!("CAST(NULL AS {}) AS \"{}\"", c.sql_type, c.name)).collect();
            let _ = writeln!(
                sql,
                "CREATE OR REPLACE VIEW {} AS SELECT {}, CAST(NULL AS DATE) AS \"date\" WHERE false;",
                table.name,
                cols.join(", ")
            );
        }
    }
    sql
}

/// An in-memory DuckDB with the warehouse's views. A remote warehouse is first mirrored to a
/// temporary directory (its files as committed), which the returned guard removes.
pub fn connect(warehouse: &Warehouse) -> Result<(Connection, Option<tempfile::TempDir>)> {
    let (root, mirror) = match warehouse.location().local_root() {
        Some(root) => (root.to_path_buf(), None),
        None => {
            let dir = tempfile::tempdir().map_err(|source| Error::Io { context: "create a query mirror".into(), source })?;
            mirror_tables(warehouse, dir.path())?;
            (dir.path().to_path_buf(), Some(dir))
        }
    };
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(&views_sql(warehouse, &root.to_string_lossy(), ViewFiles::Committed))?;
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
    Ok((conn, mirror))
}

fn mirror_tables(warehouse: &Warehouse, dir: &Path) -> Result<()> {
    let mut keys = Vec::new();
    for table in all_tables() {
        for (day, files) in warehouse.manifest().tables.get(table.name).into_iter().flatten() {
            keys.extend(files.iter().map(|f| table.file_key(*day, &f.file)));
        }
    }
    for (key, bytes) in keys.iter().zip(warehouse.location().get_many(&keys)) {
        let path: PathBuf = dir.join(key);
        let io = |source| Error::Io { context: format!("mirror {}", path.display()), source };
        std::fs::create_dir_all(path.parent().expect("a parent")).map_err(io)?;
        std::fs::write(&path, bytes?).map_err(io)?;
    }
    Ok(())
}

/// Run one SQL statement over the views and render the result. Only queries run: a statement
/// that would write, attach, load, install or set anything is refused (a usage error).
pub fn query(warehouse: &Warehouse, sql: &str, format: OutputFormat) -> Result<String> {
    let (conn, _mirror) = connect(warehouse)?;
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
