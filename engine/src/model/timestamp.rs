//! Wire timestamps: UTC, RFC 3339 with microseconds (`2026-11-24T14:30:00.123456Z`).
//!
//! Formatting is hand-rolled because it runs once per tick on the hot path;
//! parsing accepts any RFC 3339 offset and, for older producers, a naive
//! ISO 8601 time taken as UTC.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Length of a formatted timestamp.
pub const LEN: usize = 27;

/// Writes `ts` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` into a fixed buffer.
pub fn format(ts: &DateTime<Utc>) -> [u8; LEN] {
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    let year = ts.year().clamp(0, 9999) as u32;
    put(&mut out[0..4], year);
    put(&mut out[5..7], ts.month());
    put(&mut out[8..10], ts.day());
    put(&mut out[11..13], ts.hour());
    put(&mut out[14..16], ts.minute());
    put(&mut out[17..19], ts.second());
    // A leap second shows as nanosecond >= 1e9; clamp it into the last microsecond.
    put(&mut out[20..26], (ts.nanosecond() / 1_000).min(999_999));
    out
}

/// Formats `ts` as an owned string.
pub fn to_string(ts: &DateTime<Utc>) -> String {
    String::from_utf8_lossy(&format(ts)).into_owned()
}

fn put(digits: &mut [u8], mut value: u32) {
    for d in digits.iter_mut().rev() {
        *d = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Parses a wire timestamp.
///
/// # Errors
/// Returns a message naming the expected format when `text` is neither
/// RFC 3339 nor a naive ISO 8601 date-time.
pub fn parse(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Ok(ts.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|naive| naive.and_utc())
        .map_err(|_| {
            format!(
                "invalid timestamp {text:?}: expected RFC 3339, e.g. 2026-11-24T14:30:00.123456Z"
            )
        })
}

/// Unix microseconds of a timestamp in the wire format
/// (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), without building a date: what a load
/// generator reads hundreds of thousands of times a second.
pub fn wire_micros(b: &[u8]) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b.get(r)?.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
    // Days since the epoch of a proleptic Gregorian date.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3_600 + mm * 60 + ss) * 1_000_000 + us)
}

/// Unix microseconds of every `"timestamp":"…"` in a frame or message,
/// found without a JSON parse.
pub fn scan_micros(bytes: &[u8]) -> impl Iterator<Item = i64> + '_ {
    const KEY: &[u8] = b"\"timestamp\":\"";
    memchr::memmem::find_iter(bytes, KEY)
        .filter_map(move |at| wire_micros(&bytes[at + KEY.len()..]))
}

/// Serde `with` adapter for `DateTime<Utc>` fields.
pub fn serialize<S: Serializer>(ts: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let buf = format(ts);
    // The buffer holds only ASCII digits and separators.
    serializer.serialize_str(std::str::from_utf8(&buf).expect("ASCII"))
}

/// Serde `with` adapter for `DateTime<Utc>` fields.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// Serde `with` adapter for `Option<DateTime<Utc>>` fields.
pub mod option {
    use super::*;

    /// Writes a present timestamp in the wire format.
    pub fn serialize<S: Serializer>(
        ts: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => super::serialize(ts, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads a wire timestamp or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?
            .map(|text| parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wire_timestamps_without_a_parse() {
        assert_eq!(wire_micros(b"1970-01-01T00:00:01.000002Z"), Some(1_000_002));
        let at = parse("2026-11-24T14:30:00.123456Z").unwrap();
        assert_eq!(wire_micros(&format(&at)), Some(at.timestamp_micros()));
        assert_eq!(wire_micros(b"2026-11-24T14:30"), None);
        let frame = br#"{"type":"ticks","data":[{"timestamp":"1970-01-01T00:00:00.000005Z"},{"timestamp":"1970-01-01T00:00:00.000007Z"}]}"#;
        assert_eq!(scan_micros(frame).collect::<Vec<_>>(), [5, 7]);
    }
    use chrono::TimeZone;

    #[test]
    fn formats_with_microseconds() {
        let ts = Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap()
            + chrono::Duration::microseconds(123_456);
        assert_eq!(to_string(&ts), "2026-11-24T14:30:00.123456Z");
        assert_eq!(
            to_string(&ts),
            ts.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        );
    }

    #[test]
    fn parses_offsets_and_naive_times() {
        let want = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(parse("2026-01-02T03:04:05Z").unwrap(), want);
        assert_eq!(parse("2026-01-02T04:04:05+01:00").unwrap(), want);
        assert_eq!(parse("2026-01-02T03:04:05").unwrap(), want);
        assert!(parse("yesterday").unwrap_err().contains("RFC 3339"));
    }
}
