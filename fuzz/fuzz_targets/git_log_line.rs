#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = pipelake::sources::commits::gitlog::parse_line(&text);
    let _ = pipelake::sources::commits::gitlog::parse_git_date(&text);
});
