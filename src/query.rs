//! DuckDB over the warehouse: the `CREATE VIEW` statements analysts use, and `pipelake query`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use duckdb::types::{TimeUnit, Value};
use duckdb::Connection;

use crate::error::{Error, Result};
use crate::sources;
use crate::summaries;
use crate::timestamp::days_to_date;
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

/// `CREATE OR REPLACE VIEW` statements over the warehouse rooted at `root` (a local path or a
/// URL DuckDB can read). A table with no files yet gets an empty view of the right columns.
pub fn views_sql(warehouse: &Warehouse, root: &str) -> String {
    let root = root.trim_end_matches('/');
    let mut sql = String::new();
    for table in all_tables() {
        let has_files = warehouse.manifest().tables.get(table.name).is_some_and(|p| !p.is_empty());
        let _ = writeln!(sql, "-- {}", table.doc);
        if has_files {
            let glob = format!("{root}/{}/*/*.parquet", table.dir).replace('\'', "''");
            let _ = writeln!(
                sql,
                "CREATE OR REPLACE VIEW {} AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{'date': DATE}});",
                table.name
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
    conn.execute_batch(&views_sql(warehouse, &root.to_string_lossy()))?;
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

/// Run one SQL statement over the views and render the result.
pub fn query(warehouse: &Warehouse, sql: &str, format: OutputFormat) -> Result<String> {
    let (conn, _mirror) = connect(warehouse)?;
    let (names, rows) = run(&conn, sql)?;
    Ok(render(&names, &rows, format))
}

/// Run one statement: column names and rows.
pub fn run(conn: &Connection, sql: &str) -> Result<(Vec<String>, Vec<Vec<Value>>)> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
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
        TimeUnit::Second => v * 1_000_000,
        TimeUnit::Millisecond => v * 1_000,
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
        Value::Date32(d) => days_to_date(*d).to_string(),
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
