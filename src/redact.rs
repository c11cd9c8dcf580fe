//! Secrets kept out of what pipelake prints: errors, logs, `status`, reports.
//!
//! Object stores put the URLs they call into their errors, and an endpoint such as
//! `AWS_ENDPOINT_URL=http://key:secret@minio:9000` carries its credentials in the URL. Rather
//! than trust every message to leave them out, everything pipelake writes for people passes
//! through [`redact`].

use std::borrow::Cow;
use std::sync::OnceLock;

/// What stands where a secret was.
pub const MASK: &str = "***";

/// Query parameters of signed URLs whose values are credentials (S3 presigned URLs, Azure SAS).
const SECRET_PARAMS: &[&str] = &["x-amz-signature=", "x-amz-credential=", "x-amz-security-token=", "sig=", "signature=", "token="];

/// `text` with secrets masked: the user information of every URL (`scheme://user:pass@host`),
/// the values of signature and token query parameters, and the value of every object store
/// credential in the environment (an `AWS_`, `AZURE_` or `GOOGLE_` variable whose name holds
/// `KEY`, `SECRET`, `TOKEN`, `PASSWORD`, `SAS` or `CREDENTIAL`, such as `AWS_SECRET_ACCESS_KEY`,
/// `AWS_ACCESS_KEY_ID`, `AWS_SESSION_TOKEN`, `AZURE_STORAGE_ACCOUNT_KEY`).
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if text.contains("://") {
        out = Cow::Owned(mask_userinfo(&out));
    }
    let lower = out.to_ascii_lowercase();
    if SECRET_PARAMS.iter().any(|p| lower.contains(p)) {
        out = Cow::Owned(mask_params(&out));
    }
    for secret in env_secrets() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    out
}

/// Values of the environment's object store credentials, longest first (so that a secret
/// holding another one is masked whole). Values shorter than 6 characters are left: masking
/// `1` or `true` everywhere would garble every message and hide nothing.
fn env_secrets() -> &'static [String] {
    static SECRETS: OnceLock<Vec<String>> = OnceLock::new();
    SECRETS.get_or_init(|| {
        let mut values: Vec<String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, v)| {
                let k = k.to_ascii_uppercase();
                v.len() >= 6
                    && ["AWS_", "AZURE_", "GOOGLE_"].iter().any(|p| k.starts_with(p))
                    && ["KEY", "SECRET", "TOKEN", "PASSWORD", "SAS", "CREDENTIAL"].iter().any(|w| k.contains(w))
                    && !k.ends_with("_FILE")
                    && !k.ends_with("_PATH")
            })
            .map(|(_, v)| v)
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        values
    })
}

/// `scheme://user:pass@host` → `scheme://***@host`, for every URL in `text`.
fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the path, the query, white space or a quote.
        let end = tail.find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"' || c == '\'').unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(user_end) => {
                out.push_str(MASK);
                out.push_str(&tail[user_end..end]);
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The values of signature and token query parameters masked.
fn mask_params(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let found = SECRET_PARAMS
            .iter()
            .filter_map(|p| lower[i..].find(p).map(|at| (i + at, p.len())))
            .filter(|(at, _)| *at == 0 || matches!(text.as_bytes()[at - 1], b'?' | b'&'))
            .min();
        let Some((at, len)) = found else { break };
        out.push_str(&text[i..at + len]);
        let value_end =
            text[at + len..].find(|c: char| c == '&' || c == '#' || c.is_whitespace() || c == '"').map_or(text.len(), |e| at + len + e);
        out.push_str(MASK);
        i = value_end;
    }
    out.push_str(&text[i.min(text.len())..]);
    out
}

/// A writer that masks secrets in what passes through it (for the log output).
pub struct Redacting<W>(pub W);

impl<W: std::io::Write> std::io::Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(redact(text).as_bytes())?,
            Err(_) => self.0.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_of_every_url_is_masked() {
        let text =
            "error sending request for url (http://AKIAXX:s3cr3t%2Fx@minio:9000/ci-lake/raw?list-type=2) then https://h/p and s3://b/k";
        let out = redact(text);
        assert!(!out.contains("s3cr3t") && !out.contains("AKIAXX"), "{out}");
        assert!(out.contains("http://***@minio:9000/ci-lake/raw"), "{out}");
        assert!(out.contains("https://h/p and s3://b/k"), "{out}");
        assert_eq!(redact("no url here"), "no url here");
    }

    #[test]
    fn signatures_in_query_strings_are_masked() {
        let out = redact("GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abcdef&x=1 failed");
        assert!(!out.contains("abcdef") && !out.contains("AKIA%2F1"), "{out}");
        assert!(out.contains("&x=1 failed"), "{out}");
        assert_eq!(redact("design=ok&signature_count=3"), "design=ok&signature_count=3");
    }
}
