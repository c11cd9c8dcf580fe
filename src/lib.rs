//! pipelake: batch ETL for CI and DevOps analytics.
//!
//! Data flows `lake` (object storage, listing, decompression) → `sources` (decode one source
//! into columns and rejects) → `warehouse` (partitioned Parquet, atomic publish, bookkeeping,
//! dedup keys) → `summaries` (one module per summary table) → `query` (DuckDB views).
//! `run` orchestrates the commands; the binary's `cli` only parses and calls.

pub mod error;
pub mod fault;
pub mod generate;
pub mod lake;
pub mod progress;
pub mod query;
pub mod redact;
pub mod report;
pub mod run;
pub mod settings;
pub mod sources;
pub mod summaries;
pub mod timestamp;
pub mod warehouse;

pub use error::{Error, Result};

/// Messages compiled from `proto/` by prost: Pulp installation telemetry (`Analytics`, called
/// `Telemetry` by older senders; same field numbers).
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/pulp.analytics.rs"));
}
