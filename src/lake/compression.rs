//! `.gz` and `.zst` objects, decompressed as they are read.

use std::io::Read;

use bytes::Bytes;

/// The compression of a raw object, known from its last extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression of `key` and the key without its compression extension.
    pub fn of_key(key: &str) -> (Compression, &str) {
        if let Some(base) = key.strip_suffix(".gz") {
            (Compression::Gzip, base)
        } else if let Some(base) = key.strip_suffix(".zst") {
            (Compression::Zstd, base)
        } else {
            (Compression::None, key)
        }
    }
}

/// What decompressing an object gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decompressed {
    /// The whole object.
    Whole(Bytes),
    /// The stream is corrupt or truncated: what was decoded before the damage, and the reason,
    /// so that the intact part is still ingested.
    Damaged(Bytes, String),
    /// The object expands past the limit: nothing of it is kept (a compression bomb, or an
    /// object too large to decode), and the reason names the limit.
    TooLarge(String),
}

/// Decompress a whole object, reading at most `limit` decompressed bytes.
pub fn decompress(bytes: Bytes, compression: Compression, limit: u64) -> Decompressed {
    match compression {
        Compression::None if bytes.len() as u64 > limit => Decompressed::TooLarge(too_large(bytes.len() as u64, limit)),
        Compression::None => Decompressed::Whole(bytes),
        Compression::Gzip => read_all(flate2::read::MultiGzDecoder::new(&bytes[..]), gzip_size_hint(&bytes), "gzip", limit),
        Compression::Zstd => {
            // A zstd frame usually states its size: a bomb that says so costs nothing to refuse.
            let stated = zstd::zstd_safe::get_frame_content_size(&bytes).ok().flatten();
            if let Some(size) = stated.filter(|s| *s > limit) {
                return Decompressed::TooLarge(too_large(size, limit));
            }
            match zstd::stream::read::Decoder::with_buffer(&bytes[..]) {
                Ok(decoder) => read_all(decoder, stated.unwrap_or(bytes.len() as u64 * 4), "zstd", limit),
                Err(e) => Decompressed::Damaged(Bytes::new(), format!("corrupt zstd stream: {e}")),
            }
        }
    }
}

/// The reason an object of `size` bytes (at least) is refused.
pub fn too_large(size: u64, limit: u64) -> String {
    format!("object of {size} bytes or more (decompressed) is larger than max_object_megabytes ({} MiB)", limit >> 20)
}

/// What a gzip object says it expands to (its last member's size, modulo 4 GiB): a first guess
/// of the buffer to decompress into, never trusted as a bound.
fn gzip_size_hint(bytes: &[u8]) -> u64 {
    match bytes.len().checked_sub(4).map(|at| &bytes[at..]) {
        Some(&[a, b, c, d]) => u64::from(u32::from_le_bytes([a, b, c, d])).max(bytes.len() as u64),
        _ => bytes.len() as u64 * 4,
    }
}

/// Read a decompressing stream whole, into a buffer that starts at `hint` bytes and never grows
/// past `limit` + 1: a bomb costs at most one and a half times the limit (the buffer being
/// grown), not what it expands to.
fn read_all<R: Read>(reader: R, hint: u64, what: &str, limit: u64) -> Decompressed {
    // One byte past the limit tells an object of exactly `limit` bytes from a larger one.
    let cap = limit.saturating_add(1);
    let mut reader = reader.take(cap);
    let mut out: Vec<u8> = Vec::with_capacity(hint.min(cap) as usize);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) if out.len() as u64 > limit => return Decompressed::TooLarge(too_large(out.len() as u64, limit)),
            Ok(0) => return Decompressed::Whole(Bytes::from(out)),
            Ok(n) => {
                if out.len() + n > out.capacity() {
                    let grown = (out.capacity() as u64 * 2).max((out.len() + n) as u64).min(cap);
                    out.reserve_exact(grown as usize - out.len());
                }
                out.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Decompressed::Damaged(Bytes::from(out), format!("corrupt {what} stream: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_round_trip_and_concatenated_members() {
        let mut one = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        one.write_all(b"a\nb\n").unwrap();
        let mut data = one.finish().unwrap();
        let mut two = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        two.write_all(b"c\n").unwrap();
        data.extend(two.finish().unwrap());
        assert_eq!(decompress(Bytes::from(data), Compression::Gzip, 1 << 20), Decompressed::Whole(Bytes::from_static(b"a\nb\nc\n")));
    }

    #[test]
    fn truncated_zstd_keeps_the_intact_prefix() {
        let text: Vec<u8> = (0..20000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        let packed = zstd::encode_all(&text[..], 3).unwrap();
        let Decompressed::Damaged(out, _) = decompress(Bytes::from(packed[..packed.len() / 2].to_vec()), Compression::Zstd, 1 << 30) else {
            panic!("a truncated stream is damaged")
        };
        assert!(text.starts_with(&out));
    }

    #[test]
    fn a_bomb_stops_at_the_limit_and_names_it() {
        // 64 MiB of zeros: a few KB compressed.
        let zeros = vec![0u8; 64 << 20];
        let gz = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(&zeros).unwrap();
            e.finish().unwrap()
        };
        let zst = zstd::encode_all(&zeros[..], 19).unwrap();
        assert!(gz.len() < 1 << 20 && zst.len() < 1 << 20);
        for (data, kind) in [(gz, Compression::Gzip), (zst, Compression::Zstd)] {
            match decompress(Bytes::from(data.clone()), kind, 1 << 20) {
                Decompressed::TooLarge(reason) => assert!(reason.contains("max_object_megabytes (1 MiB)"), "{reason}"),
                other => panic!("{kind:?}: {other:?}"),
            }
            assert!(matches!(decompress(Bytes::from(data), kind, 64 << 20), Decompressed::Whole(b) if b.len() == 64 << 20));
        }
        assert!(matches!(decompress(Bytes::from(vec![1u8; 10]), Compression::None, 9), Decompressed::TooLarge(_)));
    }

    #[test]
    fn extension_detection() {
        assert_eq!(Compression::of_key("a/b.ndjson.gz"), (Compression::Gzip, "a/b.ndjson"));
        assert_eq!(Compression::of_key("a/b.json.zst"), (Compression::Zstd, "a/b.json"));
        assert_eq!(Compression::of_key("a/b.json"), (Compression::None, "a/b.json"));
    }
}
