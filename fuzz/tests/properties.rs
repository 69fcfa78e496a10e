//! The fuzz targets' checks as bounded properties: arbitrary text, and
//! mutations of the seed corpus in `corpus/<target>/`. `cargo xtask test`
//! runs 256 cases each; `PROPTEST_CASES=100000 cargo test -p tickstream-fuzz`
//! runs longer, and `cargo xtask fuzz TARGET` runs the coverage-guided
//! fuzzer (see the README).

use proptest::prelude::*;

/// The seeds of `target`, one per file of its corpus directory.
fn seeds(target: &str) -> Vec<String> {
    let dir = format!("{}/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {dir}: {e}"))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect();
    assert!(!seeds.is_empty(), "the corpus {dir} is empty");
    seeds.sort();
    seeds
}

/// Arbitrary text, or a seed with a few characters inserted, replaced or
/// removed.
fn hostile(target: &str) -> impl Strategy<Value = String> {
    let seeds = seeds(target);
    let count = seeds.len();
    let mutated = (
        0..count,
        prop::collection::vec((any::<usize>(), any::<char>(), 0..3u8), 0..8),
    )
        .prop_map(move |(which, edits)| {
            let mut chars: Vec<char> = seeds[which].chars().collect();
            for (at, c, how) in edits {
                let at = at % (chars.len() + 1);
                match how {
                    0 => chars.insert(at, c),
                    1 if at < chars.len() => chars[at] = c,
                    _ if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ => chars.push(c),
                }
            }
            chars.into_iter().collect::<String>()
        });
    prop_oneof![any::<String>(), mutated]
}

#[test]
fn every_target_has_a_seed_corpus() {
    for target in tickstream_fuzz::TARGETS {
        assert!(!seeds(target).is_empty());
    }
}

proptest! {
    #[test]
    fn a_client_frame_is_answered_never_panicked_on(text in hostile("client_frame")) {
        tickstream_fuzz::client_frame(&text);
    }

    #[test]
    fn a_kafka_payload_is_decoded_or_refused(text in hostile("kafka_payload")) {
        tickstream_fuzz::kafka_payload(text.as_bytes());
    }

    #[test]
    fn a_timestamp_is_parsed_or_refused(text in hostile("timestamp")) {
        tickstream_fuzz::timestamp(&text);
    }

    #[test]
    fn a_config_file_is_loaded_or_refused(text in hostile("config_file")) {
        tickstream_fuzz::config_file(&text);
    }

    #[test]
    fn a_rest_body_is_read_or_refused(text in hostile("rest_body")) {
        tickstream_fuzz::rest_body(&text);
    }
}
