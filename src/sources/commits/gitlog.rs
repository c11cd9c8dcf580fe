//! Git history as `git log --pretty=format:"%h - %an, %ad : %s"` prints it, and the commit dates
//! git-monitoring-server sends.
//!
//! The separators are not escaped: an author name can hold " - " or ", ", a message " : ".
//! What pins a line down is the date, whose shape git fixes (`Sat May 25 11:04:54 2019 +0100`):
//! the first " : " that follows a whole date ends the date, the ", " before the date ends the
//! author, and the hash (no spaces) ends at the first " - ".

use chrono::DateTime;

/// A commit from one line or one JSON entry; `authored_at` in UTC microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub hash: String,
    pub author: String,
    pub authored_at: i64,
    pub message: String,
}

/// Parse one `%h - %an, %ad : %s` line.
pub fn parse_line(line: &str) -> Result<Commit, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let (hash, rest) = line.split_once(" - ").ok_or("no \" - \" after the hash")?;
    if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{hash:?} is not a commit hash"));
    }
    let mut out_of_range = None;
    for (at, _) in rest.match_indices(" : ") {
        let head = &rest[..at];
        // The date is the last six words before the separator.
        let Some(date_start) = nth_word_from_end(head, 6) else { continue };
        let Some(author) = head[..date_start].strip_suffix(", ") else { continue };
        match parse_any_git_date(&head[date_start..]) {
            Some(authored_at) if crate::timestamp::in_range(authored_at) => {
                let message = &rest[at + 3..];
                return Ok(Commit {
                    hash: hash.to_ascii_lowercase(),
                    author: author.to_string(),
                    authored_at,
                    message: message.to_string(),
                });
            }
            Some(_) => out_of_range = Some(&head[date_start..]),
            None => {}
        }
    }
    match out_of_range {
        Some(date) => Err(format!("commit date {date:?} is outside the years 1 to 9999 (UTC)")),
        None => Err("no \"<author>, <date> : \" with a git date (e.g. Sat May 25 11:04:54 2019 +0100)".into()),
    }
}

/// Byte offset where the `n`th space-separated word from the end of `s` starts.
fn nth_word_from_end(s: &str, n: usize) -> Option<usize> {
    let mut seen = 0;
    let bytes = s.as_bytes();
    let mut i = bytes.len();
    while i > 0 {
        // Skip the word, then the spaces before it.
        while i > 0 && bytes[i - 1] != b' ' {
            i -= 1;
        }
        seen += 1;
        if seen == n {
            return Some(i);
        }
        while i > 0 && bytes[i - 1] == b' ' {
            i -= 1;
        }
    }
    None
}

/// A commit date as git prints it by default (`Sat May 25 11:04:54 2019 +0100`), in RFC 3339 /
/// ISO 8601 (`2019-05-25T11:04:54+01:00`, `%aI`), or as `2019-05-25 11:04:54 +0100` (`%ai`):
/// UTC microseconds.
pub fn parse_git_date(text: &str) -> Option<i64> {
    parse_any_git_date(text).filter(|m| crate::timestamp::in_range(*m))
}

/// [`parse_git_date`] without the check that a partition can hold the date.
fn parse_any_git_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let parsed = DateTime::parse_from_str(text, "%a %b %e %H:%M:%S %Y %z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z"))
        .ok()?;
    // A leap second (`23:59:60`) is the last microsecond of its minute, not the next minute.
    Some(parsed.timestamp().checked_mul(1_000_000)? + i64::from(parsed.timestamp_subsec_micros().min(999_999)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_past_year_9999_in_utc_is_named_as_such() {
        let err = parse_line("abc1234 - Ann, Fri Dec 31 23:00:00 9999 -0500 : late").unwrap_err();
        assert!(err.contains("outside the years 1 to 9999"), "{err}");
        // A leap second stays on its day.
        let c = parse_line("abc1234 - Ann, Sat Dec 31 23:59:60 2016 +0000 : leap").unwrap();
        assert_eq!(crate::timestamp::date_of_micros(c.authored_at).to_string(), "2016-12-31");
    }
    use crate::timestamp::parse_micros;

    #[test]
    fn plain_line() {
        let c = parse_line("1a2b3c4d - Jane Doe, Sat May 25 11:04:54 2019 +0100 : Fix the build").unwrap();
        assert_eq!(c.hash, "1a2b3c4d");
        assert_eq!(c.author, "Jane Doe");
        assert_eq!(c.authored_at, parse_micros("2019-05-25 10:04:54").unwrap());
        assert_eq!(c.message, "Fix the build");
    }

    #[test]
    fn separators_inside_names_and_messages() {
        let c = parse_line("deadbeef - Smith - Jones, Anna, Mon Jan 6 09:00:00 2020 -0700 : fix: a : b - c").unwrap();
        assert_eq!(c.author, "Smith - Jones, Anna");
        assert_eq!(c.authored_at, parse_micros("2020-01-06 16:00:00").unwrap());
        assert_eq!(c.message, "fix: a : b - c");
        // A message that itself looks like the tail of a line.
        let c = parse_line("abc1234 - Bob, Tue Feb 4 23:30:00 2020 +0000 : Revert \"x, Tue Feb 4 23:30:00 2020 +0000 : y\"").unwrap();
        assert_eq!(c.author, "Bob");
        assert_eq!(c.message, "Revert \"x, Tue Feb 4 23:30:00 2020 +0000 : y\"");
        // An empty message.
        assert_eq!(parse_line("abc1234 - Bob, Tue Feb 4 23:30:00 2020 +0000 : ").unwrap().message, "");
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(parse_line("just text").unwrap_err().contains("\" - \""));
        assert!(parse_line("zzzz - Bob, Tue Feb 4 23:30:00 2020 +0000 : m").unwrap_err().contains("not a commit hash"));
        assert!(parse_line("abc1234 - Bob, yesterday : m").unwrap_err().contains("git date"));
        assert!(parse_line("abc1234 - Bob, Tue Feb 31 23:30:00 2020 +0000 : m").is_err());
    }

    #[test]
    fn date_spellings() {
        let utc = parse_micros("2019-05-25 10:04:54").unwrap();
        assert_eq!(parse_git_date("Sat May 25 11:04:54 2019 +0100"), Some(utc));
        assert_eq!(parse_git_date("2019-05-25T11:04:54+01:00"), Some(utc));
        assert_eq!(parse_git_date("2019-05-25 11:04:54 +0100"), Some(utc));
        assert_eq!(parse_git_date("Sun Jun 2 00:00:00 2019 +0000"), Some(parse_micros("2019-06-02 00:00:00").unwrap()));
        assert_eq!(parse_git_date("May 25 2019"), None);
    }
}
