#![no_main]
// Run with the dictionary of hostile values: `cargo +nightly fuzz run pipelines_payload -- -dict=hostile.dict`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Never a panic or a stack overflow; what is accepted can be stored as it is.
    if let Ok(p) = pipelake::sources::pipelines::payload::decode(data) {
        assert!(pipelake::timestamp::in_range(p.created_at));
        assert!(p.duration >= 0 && p.duration_e2e >= 0);
        assert!(p.build.is_none_or(|b| b >= 0));
    }
});
