//! Table definitions: name, folder, columns with types and meaning. The reference for
//! `schemas/`, the DuckDB views and the schema test.

use chrono::NaiveDate;

/// What kind of table, which decides how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// Facts decoded from raw objects: partitions grow by appended files.
    Fact,
    /// Computed from facts: a partition is replaced whole when recomputed.
    Summary,
    /// Bookkeeping that analysts may query (`ingested_objects`, `rejects`).
    Bookkeeping,
}

/// One column: name, DuckDB type as read back from the Parquet, and meaning.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    pub name: &'static str,
    pub sql_type: &'static str,
    pub doc: &'static str,
    /// For a column added after files of its table were written: the value rows of those files
    /// get when the first writing job of the new version rewrites them (see `schema`).
    pub added: Option<i64>,
}

/// A warehouse table.
#[derive(Debug)]
pub struct TableDef {
    pub name: &'static str,
    /// Folder under the warehouse root.
    pub dir: &'static str,
    pub kind: TableKind,
    pub doc: &'static str,
    /// Columns stored in the files; `date` is not among them: it is the Hive partition.
    pub columns: &'static [ColumnDef],
}

impl TableDef {
    /// Object key of a file in a partition.
    pub fn file_key(&self, day: NaiveDate, file: &str) -> String {
        format!("{}/date={}/{}", self.dir, day.format("%Y-%m-%d"), file)
    }
}

macro_rules! columns {
    (@added) => { None };
    (@added $value:literal) => { Some($value) };
    ($($name:literal $ty:literal $doc:literal $(added $value:literal)?),* $(,)?) => {
        &[$($crate::warehouse::ColumnDef { name: $name, sql_type: $ty, doc: $doc, added: $crate::warehouse::columns!(@added $($value)?) }),*]
    };
}
pub(crate) use columns;

/// One row per raw object ever ingested: `records = accepted + duplicates + rejected + skipped`.
pub static INGESTED_OBJECTS: TableDef = TableDef {
    name: "ingested_objects",
    dir: "ingested_objects",
    kind: TableKind::Bookkeeping,
    doc: "One row per raw object version read (an object changed after ingest is read again); partitioned by landing day. records = accepted + duplicates + rejected + skipped.",
    columns: columns![
        "source" "VARCHAR" "source folder the object was found under",
        "raw_key" "VARCHAR" "object key relative to the raw root",
        "size" "BIGINT" "object size in bytes as stored (compressed)",
        "landed" "DATE" "landing day: the dt= folder, else the object's last-modified day (UTC)",
        "ingested_at" "TIMESTAMP" "when pipelake ingested it, UTC",
        "records" "BIGINT" "records found in the object",
        "accepted" "BIGINT" "records written to fact tables",
        "duplicates" "BIGINT" "records dropped as duplicates of an earlier delivery",
        "rejected" "BIGINT" "records sent to the rejects",
        "skipped" "BIGINT" "valid records of a kind the source does not use (a webhook event such as star); 0 in rows written before the column" added 0,
    ],
};

/// Records that could not be decoded, with where they came from and why.
pub static REJECTS: TableDef = TableDef {
    name: "rejects",
    dir: "_rejects",
    kind: TableKind::Bookkeeping,
    doc: "Records that could not be decoded; partitioned by landing day. At most 10,000 per object are kept; past that, one row (position 0) counts the rest.",
    columns: columns![
        "source" "VARCHAR" "source folder",
        "raw_key" "VARCHAR" "object key relative to the raw root",
        "position" "BIGINT" "1-based line (NDJSON) or message (protobuf stream) in the object; 0 for the object as a whole",
        "reason" "VARCHAR" "why the record was rejected",
        "record" "VARCHAR" "the record's text, cut at 4 KiB (NULL for binary records)",
    ],
};
