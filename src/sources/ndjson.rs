//! Newline-delimited records, split into chunks that can be decoded in parallel while keeping
//! each record's line number.

use memchr::{memchr, memchr_iter};
use rayon::prelude::*;

use super::{BatchOutcome, LoadedObject, Reject};

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
        let mut data = &obj.data[..];
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

/// A decoded JSON record: `(index in batch, 1-based position, what decoding gave, its text)`.
pub type DecodedRecord<T> = (usize, u64, T, Vec<u8>);

/// Decode every JSON record of a batch, in landing order: each line of `.ndjson`/`.jsonl` (line
/// chunks decoded in parallel), a `.json` object whole or, when it is an array (a dump), item by
/// item. `decode` gets the record's object index and text.
pub fn decode_records<T: Send>(
    batch: &[LoadedObject],
    source: &str,
    outcome: &mut BatchOutcome,
    decode: impl Fn(usize, &[u8]) -> T + Sync,
) -> Vec<DecodedRecord<T>> {
    let objects = json_objects(batch, source, outcome);
    let mut chunks: Vec<LineChunk<'_>> = split(&objects.lines);
    let mut arrays: Vec<(usize, Vec<serde_json::Value>)> = Vec::new();
    for (i, data) in objects.whole {
        match serde_json::from_slice::<serde_json::Value>(data) {
            Ok(serde_json::Value::Array(items)) => arrays.push((i, items)),
            _ => chunks.push(LineChunk { object: i, first_line: 1, data }),
        }
    }
    let mut decoded: Vec<DecodedRecord<T>> =
        chunks.par_iter().flat_map_iter(|c| c.lines().map(|(n, text)| (c.object, n, decode(c.object, text), text.to_vec()))).collect();
    for (i, items) in arrays {
        for (n, item) in items.iter().enumerate() {
            let text = item.to_string().into_bytes();
            decoded.push((i, n as u64 + 1, decode(i, &text), text));
        }
    }
    decoded.sort_by_key(|(object, position, _, _)| (*object, *position));
    decoded
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
