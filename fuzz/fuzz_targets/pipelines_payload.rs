#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pipelake::sources::pipelines::payload::decode(data);
});
