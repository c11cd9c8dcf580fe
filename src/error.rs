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

/// One line a person can act on from an error and its causes: each cause once (object stores
/// repeat every cause inside the message of the error that wraps it), and, when the store fell
/// through to the instance metadata service because no credentials were configured, which
/// variables would provide them.
pub fn one_line<'a>(chain: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let messages: Vec<String> = chain.into_iter().map(|e| e.to_string().replace('\n', " ")).collect();
    let mut parts: Vec<String> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        // Each level's own words: what it says before the cause it quotes.
        let mut own = message.as_str();
        if let Some(next) = messages.get(i + 1) {
            if let Some(head) = own.strip_suffix(next.as_str()) {
                own = head.trim_end_matches([' ', ':', ',']);
            }
        }
        if !own.is_empty() && !parts.iter().any(|p| p.contains(own)) {
            parts.push(own.to_string());
        }
    }
    const METADATA: [&str; 5] =
        ["/latest/api/token", "/latest/meta-data/", "169.254.169.254", "metadata.google.internal", "/metadata/identity/"];
    if let Some(at) = parts.iter().position(|p| METADATA.iter().any(|m| p.contains(m))) {
        let store = messages.iter().find_map(|m| credential_hint(m));
        if let Some(hint) = store {
            parts.truncate(at.max(1));
            let first = &mut parts[0];
            // The wrapping store error's own words ("Generic S3 error") say nothing more.
            for noise in ["Generic S3 error", "Generic GCS error", "Generic MicrosoftAzure error"] {
                *first = first.replace(&format!(": {noise}"), "");
            }
            parts.truncate(1);
            parts.push(hint.to_string());
        }
    }
    parts.join(": ")
}

/// What to set when a store found no credentials, by the store its error names.
fn credential_hint(message: &str) -> Option<&'static str> {
    if message.contains("S3") || message.contains("s3://") {
        Some("no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI; on a machine without them the instance metadata service was asked and did not answer")
    } else if message.contains("GCS") || message.contains("gs://") {
        Some("no Google Cloud credentials found: set GOOGLE_SERVICE_ACCOUNT (or GOOGLE_APPLICATION_CREDENTIALS) to a service account key file; without it the metadata server was asked and did not answer")
    } else if message.contains("Azure") || message.contains("az://") || message.contains("abfs") {
        Some("no Azure credentials found: set AZURE_STORAGE_ACCOUNT_KEY (or AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID); without them the instance metadata service was asked and did not answer")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Level(String, Option<Box<Level>>);
    impl fmt::Display for Level {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Level {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    fn chain(levels: &[&str]) -> Level {
        let mut inner: Option<Box<Level>> = None;
        for text in levels.iter().rev() {
            inner = Some(Box::new(Level(text.to_string(), inner)));
        }
        *inner.unwrap()
    }

    fn render(top: &Level) -> String {
        let mut all: Vec<&(dyn std::error::Error + 'static)> = vec![top];
        while let Some(next) = all.last().unwrap().source() {
            all.push(next);
        }
        one_line(all)
    }

    #[test]
    fn a_cause_quoted_by_every_level_is_said_once() {
        let deny = "Server returned non-2xx status code: 403 Forbidden";
        let http = format!("Error performing PUT http://169.254.169.254/latest/api/token in 6ms - {deny}");
        let generic = format!("Generic S3 error: {http}");
        let top = format!("conditional write s3://bucket/wh/_pipelake/lease.json: {generic}");
        let line = render(&chain(&[&top, &generic, &http, deny]));
        assert_eq!(line.matches("403").count(), 0, "{line}");
        assert!(
            line.starts_with("conditional write s3://bucket/wh/_pipelake/lease.json: no S3 credentials found: set AWS_ACCESS_KEY_ID"),
            "{line}"
        );
        // Without the metadata service in it: each level's own words once, in order.
        let line = render(&chain(&["get s3://b/k: Generic S3 error: timed out", "Generic S3 error: timed out", "timed out"]));
        assert_eq!(line, "get s3://b/k: Generic S3 error: timed out");
        assert_eq!(render(&chain(&["read config", "file not found"])), "read config: file not found");
    }
}
