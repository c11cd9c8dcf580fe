//! Columns added to a table after files of it were written. DuckDB reads a table's files as one
//! only when they hold the same columns, so the first writing job of a version that adds one
//! rewrites the older files with it (the value its definition gives, e.g. 0 for a count), in one
//! commit: readers see the table before or after, never a mix. The log records per table how
//! many columns its files hold; only tables with an added column are ever checked.

use polars::prelude::*;

use super::{read_parquet, ColumnDef, Warehouse};
use crate::error::{PolarsContext, Result};

impl Warehouse {
    /// Bring every table's files to the columns of its definition (see the module).
    pub(super) fn upgrade_columns(&mut self) -> Result<()> {
        let mut txn = self.begin();
        let mut rewritten = 0;
        for table in self.tables.clone() {
            let want = table.columns.len() as u32;
            let has_files = self.manifest.tables.get(table.name).is_some_and(|p| !p.is_empty());
            if !has_files || self.manifest.columns.get(table.name) == Some(&want) {
                continue;
            }
            // No added column: the files cannot lack one.
            if table.columns.iter().all(|c| c.added.is_none()) {
                txn.manifest_mut().columns.insert(table.name.to_string(), want);
                continue;
            }
            let parts: Vec<_> = self.manifest.tables[table.name].iter().flat_map(|(d, f)| f.iter().map(move |f| (*d, f.clone()))).collect();
            let keys: Vec<String> = parts.iter().map(|(day, f)| table.file_key(*day, &f.file)).collect();
            for ((day, file), (bytes, key)) in parts.iter().zip(self.location.get_many(&keys).into_iter().zip(&keys)) {
                let df = read_parquet(bytes?, None).context(format!("read {key}"))?;
                let missing: Vec<&ColumnDef> = table.columns.iter().filter(|c| df.column(c.name).is_err()).collect();
                if missing.is_empty() {
                    continue;
                }
                let df = with_columns(df, table.columns, &missing).context(format!("add columns to {key}"))?;
                txn.rewrite_file(table, *day, file, df)?;
                rewritten += 1;
            }
            txn.manifest_mut().columns.insert(table.name.to_string(), want);
        }
        if rewritten > 0 {
            tracing::info!(files = rewritten, "rewrote files of an earlier version with the columns added since");
        }
        self.commit(txn)
    }
}

/// `df` with the `missing` columns added (the value their definition gives, or NULL), in the
/// order of `columns`.
fn with_columns(mut df: DataFrame, columns: &[ColumnDef], missing: &[&ColumnDef]) -> PolarsResult<DataFrame> {
    let n = df.height();
    for c in missing {
        let column = match (c.added, c.sql_type) {
            (Some(v), "BIGINT") => Column::new(c.name.into(), vec![v; n]),
            (_, sql_type) => Column::full_null(c.name.into(), n, &dtype(sql_type)?),
        };
        df.with_column(column)?;
    }
    df.select(columns.iter().map(|c| c.name))
}

/// The polars type of a column's DuckDB type.
fn dtype(sql_type: &str) -> PolarsResult<DataType> {
    Ok(match sql_type {
        "BIGINT" => DataType::Int64,
        "INTEGER" => DataType::Int32,
        "DOUBLE" => DataType::Float64,
        "BOOLEAN" => DataType::Boolean,
        "VARCHAR" => DataType::String,
        "DATE" => DataType::Date,
        "TIMESTAMP" => DataType::Datetime(TimeUnit::Microseconds, None),
        other => polars_bail!(ComputeError: "no default for a column of type {other}"),
    })
}
