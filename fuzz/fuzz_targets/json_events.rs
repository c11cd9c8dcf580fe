#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pipelake::sources::devops_events::event::decode(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pipelake::timestamp::parse_micros(text);
    }
});
