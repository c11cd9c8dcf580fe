//! The library's one error type. Each variant carries the context a user needs to act on it.

use std::fmt;

/// Everything that can make a pipelake command fail.
///
/// Bad records are never errors: they become rejects. An `Error` means the job itself could not
/// go on (storage unreachable, configuration wrong, bookkeeping damaged).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad usage or configuration: the CLI exits with status 2.
    #[error("{0}")]
    Usage(String),
    /// An object store operation failed.
    #[error("{op} {location}: {source}")]
    Store {
        op: &'static str,
        location: String,
        #[source]
        source: object_store::Error,
    },
    /// Building, reading or writing a table failed.
    #[error("{context}: {source}")]
    Polars {
        context: String,
        #[source]
        source: polars::error::PolarsError,
    },
    /// Embedded DuckDB failed (query, views).
    #[error("duckdb: {0}")]
    DuckDb(#[from] duckdb::Error),
    /// A user's query failed in DuckDB (refused access, unknown table, bad SQL): DuckDB's
    /// message, on one line.
    #[error("query failed: {0}")]
    Query(String),
    /// The warehouse bookkeeping under `_pipelake/` is unreadable or inconsistent.
    #[error("bookkeeping {location}: {message}")]
    Bookkeeping { location: String, message: String },
    /// Another pipelake job holds the warehouse (and waiting was not asked for, or timed out).
    #[error("{0}")]
    Busy(String),
    /// Another job committed the version this one was about to commit: nothing of this job's
    /// last transaction is visible.
    #[error("{0}")]
    Conflict(String),
    /// Local I/O outside the object store (terminal, temp files).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A usage or configuration error (exit status 2).
    pub fn usage(message: impl fmt::Display) -> Self {
        Error::Usage(message.to_string())
    }

    /// Whether this error is the user's to fix in the command line or configuration.
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Usage(_))
    }

    pub(crate) fn store(op: &'static str, location: impl fmt::Display, source: object_store::Error) -> Self {
        Error::Store { op, location: location.to_string(), source }
    }

    pub(crate) fn polars(context: impl fmt::Display, source: polars::error::PolarsError) -> Self {
        Error::Polars { context: context.to_string(), source }
    }

    pub(crate) fn bookkeeping(location: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Bookkeeping { location: location.to_string(), message: message.to_string() }
    }
}

/// Attach a context string to a polars result.
pub(crate) trait PolarsContext<T> {
    fn context(self, context: impl fmt::Display) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| Error::polars(context, e))
    }
}

/// What a panic said (its payload, when it is text).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_string(),
    }
}
