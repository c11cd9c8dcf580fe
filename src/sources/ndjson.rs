//! Newline-delimited records, split into chunks that can be decoded in parallel while keeping
//! each record's line number.

use memchr::{memchr, memchr_iter};
use rayon::prelude::*;

use super::{BatchOutcome, LoadedObject, Reject, RejectBudget};
use crate::settings::Limits;

/// The JSON objects of a batch, by framing: `(index in batch, bytes)`.
#[derive(Default)]
pub struct JsonObjects<'a> {
    /// `.ndjson` / `.jsonl`: one record per line.
    pub lines: Vec<(usize, &'a [u8])>,
    /// `.json`: the object as a whole.
    pub whole: Vec<(usize, &'a [u8])>,
}

/// Sort a batch's objects by framing. A damaged stream keeps its complete lines and gets one
/// reject for the rest; any other extension is rejected as a whole.
pub fn json_objects<'a>(batch: &'a [LoadedObject], source: &str, outcome: &mut BatchOutcome) -> JsonObjects<'a> {
    let mut out = JsonObjects::default();
    for (i, obj) in batch.iter().enumerate() {
        let mut data = strip_bom(&obj.data);
        if let Some(damage) = &obj.damage {
            // The bytes after the last complete line are part of the damage.
            data = &data[..memchr::memrchr(b'\n', data).map_or(0, |p| p + 1)];
            outcome.reject(Reject::whole_object(i, damage.clone()));
        }
        match obj.base_key().rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).as_deref() {
            Some("ndjson" | "jsonl") => out.lines.push((i, data)),
            Some("json") => out.whole.push((i, data)),
            _ => outcome.reject(Reject::whole_object(
                i,
                format!("unsupported object type for source {source} (expected .json, .ndjson or .jsonl)"),
            )),
        }
    }
    out
}

/// The UTF-8 byte-order mark some Windows tools write at the start of a text file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A text object without its byte-order mark, if it has one: the first record is no reject for it.
pub fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(BOM).unwrap_or(data)
}

/// A decoded JSON record: `(index in batch, 1-based position, what decoding gave or why not, its text)`.
pub type DecodedRecord<T> = (usize, u64, Result<T, String>, Vec<u8>);

/// Decode every JSON record of a batch, in landing order: each line of `.ndjson`/`.jsonl` (line
/// chunks decoded in parallel); a `.json` object holding one JSON value (pretty-printed or not)
/// as one record or, when it is an array (a dump), item by item; any other `.json` line by
/// line. `decode` gets the record's object index and text; a record longer than
/// `limits.record_bytes` is rejected without decoding.
pub fn decode_records<T: Send>(
    batch: &[LoadedObject],
    source: &str,
    limits: &Limits,
    outcome: &mut BatchOutcome,
    decode: impl Fn(usize, &[u8]) -> Result<T, String> + Sync,
) -> Vec<DecodedRecord<T>> {
    let objects = json_objects(batch, source, outcome);
    let mut chunks: Vec<LineChunk<'_>> = split(&objects.lines);
    let mut values: Vec<(usize, Vec<serde_json::Value>)> = Vec::new();
    for (i, data) in objects.whole {
        match serde_json::from_slice::<serde_json::Value>(data) {
            Ok(serde_json::Value::Array(items)) => values.push((i, items)),
            Ok(value @ serde_json::Value::Object(_)) => values.push((i, vec![value])),
            _ => chunks.push(LineChunk { object: i, first_line: 1, data }),
        }
    }
    let record = |object: usize, position: u64, text: &[u8]| match limits.check_record(text.len()).and_then(|()| decode(object, text)) {
        Ok(value) => (object, position, Ok(value), text.to_vec()),
        Err(reason) => (object, position, Err(reason), text[..text.len().min(Reject::MAX_RECORD_BYTES)].to_vec()),
    };
    // Each chunk keeps at most MAX_KEPT_PER_OBJECT failed records; the rest are only counted,
    // so that an object of countless bad lines does not hold them all in memory.
    let per_chunk: Vec<(usize, Vec<DecodedRecord<T>>, u64)> = chunks
        .par_iter()
        .map(|c| {
            let (mut kept, mut budget) = (Vec::new(), RejectBudget::new(Reject::MAX_KEPT_PER_OBJECT));
            for (n, text) in c.lines() {
                let decoded = record(c.object, n, text);
                if decoded.2.is_ok() || budget.keep() {
                    kept.push(decoded);
                }
            }
            (c.object, kept, budget.unkept)
        })
        .collect();
    let mut decoded = Vec::new();
    for (object, kept, unkept) in per_chunk {
        decoded.extend(kept);
        outcome.reject_unkept(object, unkept);
    }
    for (i, items) in values {
        for (n, item) in items.iter().enumerate() {
            decoded.push(record(i, n as u64 + 1, item.to_string().as_bytes()));
        }
    }
    decoded.sort_by_key(|(object, position, _, _)| (*object, *position));
    decoded
}

/// Whether JSON text nests arrays and objects at most `max` deep. Decoders that recurse (or
/// skip unknown values recursively) would overflow the stack on a deeper one. Cheap on
/// ordinary records: the precise scan runs only when there are more brackets than `max`.
pub fn nesting_within(text: &[u8], max: usize) -> bool {
    if memchr::memchr2_iter(b'[', b'{', text).take(max + 1).count() <= max {
        return true;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Target chunk size: big enough to amortise scheduling, small enough to spread a large object
/// over all cores.
const CHUNK_BYTES: usize = 1 << 20;

/// A run of whole lines of one object.
#[derive(Debug, Clone, Copy)]
pub struct LineChunk<'a> {
    /// Index of the object in the batch.
    pub object: usize,
    /// 1-based line number of the chunk's first line within its object.
    pub first_line: u64,
    pub data: &'a [u8],
}

impl<'a> LineChunk<'a> {
    /// The non-blank lines of the chunk with their 1-based line numbers (a trailing `\r` is kept;
    /// JSON parsers treat it as white space).
    pub fn lines(&self) -> impl Iterator<Item = (u64, &'a [u8])> + 'a {
        let data = self.data;
        let first = self.first_line;
        let mut start = 0usize;
        let mut line = first;
        std::iter::from_fn(move || {
            while start < data.len() {
                let end = memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
                let text = &data[start..end];
                let number = line;
                start = end + 1;
                line += 1;
                if !text.iter().all(u8::is_ascii_whitespace) {
                    return Some((number, text));
                }
            }
            None
        })
    }
}

/// Split objects (each given by its batch index and bytes) into line chunks, in order.
pub fn split<'a>(objects: &[(usize, &'a [u8])]) -> Vec<LineChunk<'a>> {
    let mut chunks = Vec::new();
    for &(object, data) in objects {
        let mut start = 0;
        while start < data.len() {
            let target = (start + CHUNK_BYTES).min(data.len());
            let end = match memchr(b'\n', &data[target..]) {
                Some(i) if target < data.len() => target + i + 1,
                _ => data.len(),
            };
            chunks.push(LineChunk { object, first_line: 0, data: &data[start..end] });
            start = end;
        }
    }
    let newlines: Vec<u64> = chunks.par_iter().map(|c| memchr_iter(b'\n', c.data).count() as u64).collect();
    let mut next = 1u64;
    let mut current = usize::MAX;
    for (chunk, n) in chunks.iter_mut().zip(newlines) {
        if chunk.object != current {
            current = chunk.object;
            next = 1;
        }
        chunk.first_line = next;
        next += n;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(nesting_within(br#"{"a":[{"b":1}]}"#, 3));
        assert!(!nesting_within(br#"{"a":[{"b":1}]}"#, 2));
        let deep = format!("{{\"x\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(!nesting_within(deep.as_bytes(), 128));
        // Brackets inside strings do not nest, escaped quotes do not end a string.
        let quoted = format!("{{\"x\":\"\\\"{}\"}}", "[".repeat(1000));
        assert!(nesting_within(quoted.as_bytes(), 2));
        assert_eq!(strip_bom(b"\xEF\xBB\xBF{}"), b"{}");
    }

    #[test]
    fn line_numbers_survive_chunking_and_blank_lines() {
        let mut text = Vec::new();
        for i in 1..=300_000u64 {
            if i % 7 == 0 {
                text.extend_from_slice(b"   \n");
            } else {
                text.extend_from_slice(format!("{{\"line\":{i}}}\n").as_bytes());
            }
        }
        let chunks = split(&[(0, &text[..]), (1, b"a\n\nb")]);
        assert!(chunks.len() > 2);
        let lines: Vec<(usize, u64, &[u8])> = chunks.iter().flat_map(|c| c.lines().map(move |(n, l)| (c.object, n, l))).collect();
        let first_object: Vec<_> = lines.iter().filter(|l| l.0 == 0).collect();
        assert_eq!(first_object.len(), 300_000 - 300_000 / 7);
        for (_, n, l) in first_object {
            assert_eq!(*l, format!("{{\"line\":{n}}}").as_bytes());
        }
        let second: Vec<_> = lines.iter().filter(|l| l.0 == 1).map(|l| (l.1, l.2)).collect();
        assert_eq!(second, vec![(1, &b"a"[..]), (3, &b"b"[..])]);
    }
}
