#![no_main]
use pipelake::sources::telemetry::checkin::{decode, frames, Framing};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let all = frames(data, Framing::Delimited, 1 << 20);
    for (i, (position, frame)) in all.iter().enumerate() {
        assert_eq!(*position, i as u64 + 1);
        match frame {
            Ok(bytes) => {
                let _ = decode(bytes);
            }
            Err(_) => assert_eq!(i + 1, all.len(), "a broken frame is the last one"),
        }
    }
});
