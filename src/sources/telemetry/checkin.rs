//! Pulp check-ins (FORMATS.md §2): protobuf framing, validation, and the display rules the
//! original summaries use.

use prost::Message;
use uuid::Uuid;

use crate::proto::analytics::Component;
use crate::proto::Analytics;

/// How an object's check-ins are framed, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `.pb`: the object is one message.
    Single,
    /// `.pbd`: varint length-delimited messages (`writeDelimitedTo`).
    Delimited,
}

impl Framing {
    /// The framing of an object key (without its compression extension).
    pub fn of_key(base_key: &str) -> Option<Framing> {
        match base_key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).as_deref() {
            Some("pb") => Some(Framing::Single),
            Some("pbd") => Some(Framing::Delimited),
            _ => None,
        }
    }
}

/// A framed message: its 1-based position and its bytes, or why the framing broke there (after
/// which nothing more of the object can be read).
pub type Frame<'a> = (u64, Result<&'a [u8], String>);

/// The smallest check-in a `.pbd` frame can hold: `system_id`'s tag and length and a dashless
/// UUID. A shorter frame is a reject.
pub const MIN_MESSAGE_BYTES: usize = 34;

/// How many frames too short for a check-in one object may hold before the rest of it is taken
/// for what it is, not check-ins (zeros, padding, another format): without a bound, every byte
/// or two of such a stream would be a reject of its own.
pub const MAX_SHORT_FRAMES: usize = 1000;

/// Split an object into messages of at most `max_message` bytes. An empty frame (a run of
/// zeros), the [`MAX_SHORT_FRAMES`]-th frame shorter than [`MIN_MESSAGE_BYTES`], or a frame
/// longer than `max_message` ends the framing.
pub fn frames(data: &[u8], framing: Framing, max_message: usize) -> Vec<Frame<'_>> {
    match framing {
        Framing::Single if data.len() > max_message => {
            vec![(1, Err(format!("message of {} bytes is larger than max_record_megabytes ({} MiB)", data.len(), max_message >> 20)))]
        }
        Framing::Single => vec![(1, Ok(data))],
        Framing::Delimited => {
            let mut out = Vec::new();
            let mut rest = data;
            let mut offset = 0usize;
            let mut short = 0usize;
            while !rest.is_empty() {
                let position = out.len() as u64 + 1;
                let mut cursor = rest;
                let len = match prost::encoding::decode_varint(&mut cursor) {
                    Ok(len) => len as usize,
                    Err(_) => {
                        out.push((position, Err(format!("broken length prefix at byte {offset}"))));
                        break;
                    }
                };
                let header = rest.len() - cursor.len();
                if len > cursor.len() {
                    out.push((position, Err(format!("truncated message at byte {offset}: {len} bytes announced, {} left", cursor.len()))));
                    break;
                }
                if len < MIN_MESSAGE_BYTES {
                    short += 1;
                    if len == 0 || short == MAX_SHORT_FRAMES {
                        let reason = format!(
                            "message of {len} bytes at byte {offset} cannot be a check-in, after {short} too short for one; the rest of the object is not read"
                        );
                        out.push((position, Err(reason)));
                        break;
                    }
                }
                if len > max_message {
                    let reason = format!(
                        "message of {len} bytes at byte {offset} is larger than max_record_megabytes ({} MiB); the rest of the object is not read",
                        max_message >> 20
                    );
                    out.push((position, Err(reason)));
                    break;
                }
                out.push((position, Ok(&cursor[..len])));
                rest = &cursor[len..];
                offset += header + len;
            }
            out
        }
    }
}

/// A valid check-in, `system_id` normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckIn {
    pub system_id: Uuid,
    pub message: Analytics,
}

/// Decode and validate one message.
pub fn decode(bytes: &[u8]) -> Result<CheckIn, String> {
    let message = Analytics::decode(bytes).map_err(|e| format!("invalid protobuf: {e}"))?;
    let system_id = normalize_system_id(&message.system_id).ok_or_else(|| {
        if message.system_id.is_empty() {
            "empty system_id".to_string()
        } else {
            format!("system_id {:?} is not a UUID", message.system_id)
        }
    })?;
    if let Some(name) = repeated_name(&message.components) {
        return Err(format!("component {name:?} appears twice"));
    }
    Ok(CheckIn { system_id, message })
}

/// A component name that appears twice, if any. Check-ins list a handful of components: comparing
/// pairs beats sorting (which this ran for every message).
fn repeated_name(components: &[Component]) -> Option<&str> {
    if components.len() <= 16 {
        return components
            .iter()
            .enumerate()
            .find(|(i, c)| components[..*i].iter().any(|d| d.name == c.name))
            .map(|(_, c)| c.name.as_str());
    }
    let mut names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

/// A UUID in any spelling the senders use (hyphenated or not, braced, `urn:uuid:`, any case).
pub fn normalize_system_id(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text.trim()).ok()
}

/// Whether a component version is a GA release: `digits.digits.digits`.
pub fn is_ga_version(version: &str) -> bool {
    let (mut dots, mut digits) = (0, 0);
    for b in version.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' if digits > 0 && dots < 2 => {
                dots += 1;
                digits = 0;
            }
            _ => return false,
        }
    }
    dots == 2 && digits > 0
}

/// The `X.Y` of a version string, when it has one.
pub fn major_minor(version: &str) -> Option<&str> {
    let bytes = version.as_bytes();
    let first = memchr::memchr(b'.', bytes)?;
    Some(match memchr::memchr(b'.', &bytes[first + 1..]) {
        Some(second) => &version[..first + 1 + second],
        None if first + 1 < version.len() => version,
        None => return None,
    })
}

/// PostgreSQL's `server_version_num` as people read it: 0 is "Unknown"; from 10 on
/// `major.minor` (150004 → 15.4); before, `major.minor.patch` (90624 → 9.6.24).
pub fn postgresql_display(version: u32) -> String {
    match version {
        0 => "Unknown".to_string(),
        v if v >= 100_000 => format!("{}.{}", v / 10_000, v % 10_000),
        v => {
            let digits = format!("{v:05}");
            let num = |s: &str| s.parse::<u32>().unwrap_or(0);
            format!("{}.{}.{}", num(&digits[..1]), num(&digits[1..3]), num(&digits[3..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(system_id: &str, components: &[(&str, &str)]) -> Analytics {
        Analytics {
            system_id: system_id.to_string(),
            components: components.iter().map(|(n, v)| Component { name: n.to_string(), version: v.to_string() }).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn delimited_stream_round_trip() {
        let mut data = Vec::new();
        for i in 0..3 {
            message(&format!("00000000-0000-0000-0000-00000000000{i}"), &[]).encode_length_delimited(&mut data).unwrap();
        }
        let got: Vec<_> = frames(&data, Framing::Delimited, 1 << 20)
            .into_iter()
            .map(|(p, f)| (p, decode(f.unwrap()).unwrap().system_id.to_string()))
            .collect();
        assert_eq!(got[2], (3, "00000000-0000-0000-0000-000000000002".to_string()));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn truncated_stream_keeps_the_whole_messages_before_it() {
        let mut data = Vec::new();
        for i in 0..2 {
            message(&format!("00000000-0000-0000-0000-00000000000{i}"), &[("core", "3.49.1")]).encode_length_delimited(&mut data).unwrap();
        }
        let cut = &data[..data.len() - 5];
        let f = frames(cut, Framing::Delimited, 1 << 20);
        assert_eq!(f.len(), 2);
        assert!(f[0].1.is_ok());
        assert!(f[1].1.as_ref().unwrap_err().contains("truncated"), "{:?}", f[1]);
        let garbage = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(frames(&garbage, Framing::Delimited, 1 << 20)[0].1.as_ref().unwrap_err().contains("length prefix"));
    }

    #[test]
    fn a_stream_of_zeros_is_one_reject_not_one_per_byte() {
        let mut data = Vec::new();
        message("00000000-0000-0000-0000-000000000001", &[]).encode_length_delimited(&mut data).unwrap();
        data.extend(std::iter::repeat_n(0u8, 1 << 20));
        let f = frames(&data, Framing::Delimited, 1 << 20);
        assert_eq!(f.len(), 2);
        assert!(f[0].1.is_ok());
        assert!(f[1].1.as_ref().unwrap_err().contains("cannot be a check-in"), "{:?}", f[1]);
        // One-byte frames: rejects, up to a bound.
        let ones: Vec<u8> = [1u8, 7].repeat(1 << 20);
        let f = frames(&ones, Framing::Delimited, 1 << 20);
        assert_eq!(f.len(), MAX_SHORT_FRAMES);
        assert!(f[..MAX_SHORT_FRAMES - 1].iter().all(|(_, m)| m.is_ok()));
        // A message past the record limit ends the framing too, naming the limit.
        let mut big = Vec::new();
        message("00000000-0000-0000-0000-000000000001", &[("core", &"9".repeat(2 << 20))]).encode_length_delimited(&mut big).unwrap();
        assert!(frames(&big, Framing::Delimited, 1 << 20)[0].1.as_ref().unwrap_err().contains("max_record_megabytes (1 MiB)"));
    }

    #[test]
    fn garbled_message_is_a_reason_not_a_panic() {
        assert!(decode(&[0x0a, 0x05, b'a']).unwrap_err().starts_with("invalid protobuf"));
    }

    #[test]
    fn uuid_spellings_are_one_system() {
        let canonical = normalize_system_id("3f2c1b8e-5d4a-4c3b-9a1e-0f1e2d3c4b5a").unwrap();
        for s in [
            "3F2C1B8E-5D4A-4C3B-9A1E-0F1E2D3C4B5A",
            "3f2c1b8e5d4a4c3b9a1e0f1e2d3c4b5a",
            "{3f2c1b8e-5d4a-4c3b-9a1e-0f1e2d3c4b5a}",
            "urn:uuid:3f2c1b8e-5d4a-4c3b-9a1e-0f1e2d3c4b5a",
        ] {
            assert_eq!(normalize_system_id(s), Some(canonical), "{s}");
        }
        assert_eq!(normalize_system_id(""), None);
        assert_eq!(normalize_system_id("not-a-uuid"), None);
    }

    #[test]
    fn invalid_check_ins_say_why() {
        assert_eq!(decode(&message("", &[]).encode_to_vec()).unwrap_err(), "empty system_id");
        assert!(decode(&message("abc", &[]).encode_to_vec()).unwrap_err().contains("not a UUID"));
        let twice = message("3f2c1b8e-5d4a-4c3b-9a1e-0f1e2d3c4b5a", &[("core", "3.1.0"), ("file", "1.0.0"), ("core", "3.2.0")]);
        assert!(decode(&twice.encode_to_vec()).unwrap_err().contains("\"core\" appears twice"));
        // Past 16 components the names are sorted instead: same answer.
        let many: Vec<(String, &str)> = (0..20).map(|i| (format!("plugin{}", i % 19), "1.0.0")).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let repeated = message("3f2c1b8e-5d4a-4c3b-9a1e-0f1e2d3c4b5a", &many);
        assert!(decode(&repeated.encode_to_vec()).unwrap_err().contains("\"plugin0\" appears twice"));
        assert!(decode(&message("3f2c1b8e-5d4a-4c3b-9a1e-0f1e2d3c4b5a", &many[..19]).encode_to_vec()).is_ok());
    }

    #[test]
    fn ga_versions_and_major_minor() {
        assert!(is_ga_version("3.49.1"));
        for v in ["3.49", "3.49.1.dev", "3.49.0rc1", "", "a.b.c", "1..2", "1.2.3.", ".1.2", "1.2.3.4"] {
            assert!(!is_ga_version(v), "{v}");
        }
        assert_eq!(major_minor("3.49.1"), Some("3.49"));
        assert_eq!(major_minor("3.49"), Some("3.49"));
        assert_eq!(major_minor("3"), None);
        assert_eq!(major_minor("3."), None);
        assert_eq!(major_minor("3.49.1.dev0"), Some("3.49"));
        assert_eq!(major_minor(".5.1"), Some(".5"));
    }

    #[test]
    fn postgresql_display_rule() {
        assert_eq!(postgresql_display(0), "Unknown");
        assert_eq!(postgresql_display(150004), "15.4");
        assert_eq!(postgresql_display(100000), "10.0");
        assert_eq!(postgresql_display(90624), "9.6.24");
        assert_eq!(postgresql_display(80400), "8.4.0");
    }
}
