#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = pipelake::sources::perf::literal::parse_tuple_list(&String::from_utf8_lossy(data));
    let _ = pipelake::sources::perf::message::decode(data);
});
