//! Fuzz target: `tickstream_fuzz::client_frame` on every input that is UTF-8 text.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        tickstream_fuzz::client_frame(text);
    }
});
