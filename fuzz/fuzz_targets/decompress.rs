#![no_main]
use pipelake::lake::{decompress, Compression};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for kind in [Compression::Gzip, Compression::Zstd] {
        let _ = decompress(bytes::Bytes::copy_from_slice(data), kind, 64 << 20);
    }
});
