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

/// Decompress a whole object. On a corrupt or truncated stream, returns what was decoded before
/// the damage together with the reason, so that the intact part is still ingested.
pub fn decompress(bytes: Bytes, compression: Compression) -> (Bytes, Option<String>) {
    match compression {
        Compression::None => (bytes, None),
        Compression::Gzip => read_all(flate2::read::MultiGzDecoder::new(&bytes[..]), bytes.len(), "gzip"),
        Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(&bytes[..]) {
            Ok(decoder) => read_all(decoder, bytes.len(), "zstd"),
            Err(e) => (Bytes::new(), Some(format!("corrupt zstd stream: {e}"))),
        },
    }
}

fn read_all<R: Read>(mut reader: R, compressed_len: usize, what: &str) -> (Bytes, Option<String>) {
    let mut out = Vec::with_capacity(compressed_len.saturating_mul(4));
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return (Bytes::from(out), None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return (Bytes::from(out), Some(format!("corrupt {what} stream: {e}"))),
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
        let (out, err) = decompress(Bytes::from(data), Compression::Gzip);
        assert_eq!(&out[..], b"a\nb\nc\n");
        assert!(err.is_none());
    }

    #[test]
    fn truncated_zstd_keeps_the_intact_prefix() {
        let text: Vec<u8> = (0..20000).flat_map(|i| format!("line {i}\n").into_bytes()).collect();
        let packed = zstd::encode_all(&text[..], 3).unwrap();
        let (out, err) = decompress(Bytes::from(packed[..packed.len() / 2].to_vec()), Compression::Zstd);
        assert!(err.is_some());
        assert!(text.starts_with(&out));
    }

    #[test]
    fn extension_detection() {
        assert_eq!(Compression::of_key("a/b.ndjson.gz"), (Compression::Gzip, "a/b.ndjson"));
        assert_eq!(Compression::of_key("a/b.json.zst"), (Compression::Zstd, "a/b.json"));
        assert_eq!(Compression::of_key("a/b.json"), (Compression::None, "a/b.json"));
    }
}
