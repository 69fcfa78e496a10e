//! Fuzz target: `tickstream_fuzz::kafka_payload` on raw bytes, as a Kafka
//! record's payload arrives.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| tickstream_fuzz::kafka_payload(bytes));
