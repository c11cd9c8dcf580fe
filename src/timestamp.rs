//! Timestamp parsing for the raw formats: RFC 3339 with offsets and fractions, and the
//! `YYYY-MM-DD HH:MM:SS` spelling some dumps use. Hand-written because it runs several times per
//! record on the hot path, where chrono's general parser costs several times more.

use chrono::NaiveDate;

/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// 0001-01-01T00:00:00Z in microseconds since the epoch: the first instant a partition can hold.
pub const MIN_MICROS: i64 = -62_135_596_800_000_000;
/// 9999-12-31T23:59:59.999999Z: the last instant a partition can hold (`date=YYYY-MM-DD` has
/// four digits; DuckDB and every Hive reader fail on `date=+10000-01-01`).
pub const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// Whether a timestamp falls on a day a partition can hold (years 1 to 9999, UTC).
pub fn in_range(micros: i64) -> bool {
    (MIN_MICROS..=MAX_MICROS).contains(&micros)
}

/// Whether a day can be a partition (years 1 to 9999).
pub fn is_partition_day(day: NaiveDate) -> bool {
    (1..=9999).contains(&chrono::Datelike::year(&day))
}

/// Parse a timestamp into microseconds since the Unix epoch, UTC.
///
/// Accepts `YYYY-MM-DD`, then `T`, `t` or a space, `HH:MM:SS`, an optional fraction (digits past
/// microseconds are truncated), and an optional offset `Z`, `+HH:MM`, `+HHMM` or `+HH`.
/// Without an offset the time is taken as UTC. A leap second (`23:59:60`) is the last
/// microsecond of its minute, so that it stays on its day. Returns `None` for anything else,
/// and for an instant outside the years 1 to 9999 in UTC ([`in_range`]).
pub fn parse_micros(s: &str) -> Option<i64> {
    parse_any_year(s).filter(|m| in_range(*m))
}

/// [`parse_micros`] for a field of a record: the reason when it is not a timestamp pipelake
/// can store.
pub fn parse_field(field: &str, text: &str) -> Result<i64, String> {
    match parse_any_year(text) {
        Some(m) if in_range(m) => Ok(m),
        Some(_) => Err(format!("{field} {text:?} is outside the years 1 to 9999 (UTC)")),
        None => Err(format!("{field} {text:?} is not an RFC 3339 timestamp")),
    }
}

fn parse_any_year(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let year = digits(b, 0, 4)? as i64;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hour = digits(b, 11, 2)? as i64;
    let minute = digits(b, 14, 2)? as i64;
    let second = digits(b, 17, 2)? as i64;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    let leap = second == 60;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        let mut scale = 100_000i64;
        while i < b.len() && b[i].is_ascii_digit() {
            micros += (b[i] - b'0') as i64 * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_seconds = parse_offset(&b[i..])?;
    let (second, micros) = if leap { (59, 999_999) } else { (second, micros) };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * 1_000_000 + micros)
}

/// The UTC calendar day of a timestamp in microseconds since the epoch.
pub fn date_of_micros(micros: i64) -> NaiveDate {
    days_to_date(micros.div_euclid(MICROS_PER_DAY) as i32)
}

/// Days since 1970-01-01 (the Parquet and Arrow `DATE` representation).
pub fn date_to_days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// The date `days` after 1970-01-01. Days come from partitions and checked timestamps; a day
/// past chrono's range (DuckDB's `infinity`) saturates rather than panics.
pub fn days_to_date(days: i32) -> NaiveDate {
    checked_days_to_date(days).unwrap_or(if days < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
}

/// The date `days` after 1970-01-01, if chrono can hold it.
pub fn checked_days_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch").checked_add_signed(chrono::Duration::try_days(days as i64)?)
}

/// The runs of equal days (days since the epoch) in `days`, in order: rows in landing order come
/// in runs of one day, since an object has one landing day.
pub fn day_runs(days: &[i32]) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, day) in days.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if days[run.start] == *day => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

fn parse_offset(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest.len() {
                2 => (digits(rest, 0, 2)?, 0),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let seconds = (h * 3600 + m * 60) as i64;
            Some(if *sign == b'-' { -seconds } else { seconds })
        }
        _ => None,
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(at..at + n)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn chrono_micros(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn offsets_and_milliseconds_match_chrono() {
        for s in [
            "2023-06-13T14:12:33.677+07:00",
            "2023-06-13T14:12:33.677-07:00",
            "2023-06-13T00:00:00Z",
            "1999-12-31T23:59:59.999999+00:00",
            "2024-02-29T12:00:00.5+05:30",
            "1969-07-20T20:17:40Z",
            "2100-03-01T00:00:00.000001Z",
        ] {
            assert_eq!(parse_micros(s), Some(chrono_micros(s)), "{s}");
        }
    }

    #[test]
    fn offset_moves_the_utc_day() {
        // 06:30 at +07:00 is the previous day in UTC.
        let m = parse_micros("2026-10-02T06:30:00.000+07:00").unwrap();
        assert_eq!(date_of_micros(m), NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
    }

    #[test]
    fn space_separator_and_no_offset_is_utc() {
        assert_eq!(parse_micros("2021-01-01 00:00:00"), Some(chrono_micros("2021-01-01T00:00:00Z")));
    }

    #[test]
    fn compact_offsets() {
        assert_eq!(parse_micros("2021-01-01T07:00:00+0700"), parse_micros("2021-01-01T00:00:00Z"));
        assert_eq!(parse_micros("2021-01-01T07:00:00+07"), parse_micros("2021-01-01T00:00:00Z"));
    }

    #[test]
    fn nanoseconds_truncate_to_micros() {
        assert_eq!(parse_micros("2021-01-01T00:00:00.123456789Z").unwrap() % 1_000_000, 123_456);
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "2021-01-01",
            "2021-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2021-01-01T24:00:00Z",
            "2021-01-01T00:00:00.Z",
            "2021-01-01T00:00:00+7:00",
            "2021-01-01T00:00:00 junk",
            "2021/01/01T00:00:00Z",
            "２０２１-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_micros(s), None, "{s:?}");
        }
    }

    #[test]
    fn a_leap_second_stays_on_its_day() {
        let m = parse_micros("2016-12-31T23:59:60Z").unwrap();
        assert_eq!(date_of_micros(m), NaiveDate::from_ymd_opt(2016, 12, 31).unwrap());
        assert_eq!(m, parse_micros("2017-01-01T00:00:00Z").unwrap() - 1);
        assert_eq!(date_of_micros(parse_micros("2016-12-31 23:59:60.5").unwrap()), NaiveDate::from_ymd_opt(2016, 12, 31).unwrap());
    }

    #[test]
    fn instants_outside_years_1_to_9999_are_refused_with_a_reason() {
        assert_eq!(parse_micros("9999-12-31T23:59:59.999999Z"), Some(MAX_MICROS));
        assert_eq!(parse_micros("0001-01-01T00:00:00Z"), Some(MIN_MICROS));
        // The offset moves it past the last partition day.
        assert_eq!(parse_micros("9999-12-31T23:00:00-05:00"), None);
        assert_eq!(parse_micros("0000-06-01T00:00:00Z"), None);
        assert!(parse_field("created_at", "9999-12-31T23:00:00-05:00").unwrap_err().contains("outside the years 1 to 9999"));
        assert!(parse_field("created_at", "soon").unwrap_err().contains("not an RFC 3339"));
        assert!(!is_partition_day(NaiveDate::from_ymd_opt(10000, 1, 1).unwrap()));
        assert_eq!(days_to_date(i32::MAX), NaiveDate::MAX);
        assert_eq!(checked_days_to_date(i32::MAX), None);
    }

    #[test]
    fn negative_micros_floor_to_the_previous_day() {
        assert_eq!(date_of_micros(-1), NaiveDate::from_ymd_opt(1969, 12, 31).unwrap());
        assert_eq!(
            days_to_date(date_to_days(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap())),
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
        );
    }
}
