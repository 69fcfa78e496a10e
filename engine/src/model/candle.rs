//! `Candle` (OHLCV + VWAP for one symbol and time bucket) and `Interval`, the
//! bucket widths.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::Symbol;

/// A candle width. Buckets are aligned to the Unix epoch in UTC.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS, ToSchema,
)]
#[ts(export)]
pub enum Interval {
    /// One second.
    #[serde(rename = "1s")]
    S1,
    /// One minute.
    #[serde(rename = "1m")]
    M1,
    /// Five minutes.
    #[serde(rename = "5m")]
    M5,
    /// Fifteen minutes.
    #[serde(rename = "15m")]
    M15,
    /// One hour.
    #[serde(rename = "1h")]
    H1,
    /// One day (UTC midnight to midnight).
    #[serde(rename = "1d")]
    D1,
}

/// The text is not an [`Interval`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown interval {0:?}: expected one of 1s, 1m, 5m, 15m, 1h, 1d")]
pub struct IntervalError(pub String);

async_graphql::scalar!(
    Interval,
    "Interval",
    "A candle interval: `1s`, `1m`, `5m`, `15m`, `1h` or `1d`."
);

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 6] = [
        Interval::S1,
        Interval::M1,
        Interval::M5,
        Interval::M15,
        Interval::H1,
        Interval::D1,
    ];

    /// The bucket width in seconds.
    pub const fn seconds(self) -> i64 {
        match self {
            Interval::S1 => 1,
            Interval::M1 => 60,
            Interval::M5 => 300,
            Interval::M15 => 900,
            Interval::H1 => 3_600,
            Interval::D1 => 86_400,
        }
    }

    /// The bucket width in microseconds.
    pub const fn micros(self) -> i64 {
        self.seconds() * 1_000_000
    }

    /// The start (Unix microseconds) of the bucket holding `ts_micros`.
    pub const fn bucket_start(self, ts_micros: i64) -> i64 {
        ts_micros.div_euclid(self.micros()) * self.micros()
    }

    /// The wire name, e.g. `"5m"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Interval::S1 => "1s",
            Interval::M1 => "1m",
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::H1 => "1h",
            Interval::D1 => "1d",
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interval {
    type Err = IntervalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Interval::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| IntervalError(s.chars().take(16).collect()))
    }
}

/// Open, high, low, close, volume and VWAP of one symbol over one bucket.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Candle {
    /// Ticker symbol.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// Bucket width.
    pub interval: Interval,
    /// Bucket start, UTC.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub start: DateTime<Utc>,
    /// First trade price.
    pub open: f64,
    /// Highest trade price.
    pub high: f64,
    /// Lowest trade price.
    pub low: f64,
    /// Last trade price.
    pub close: f64,
    /// Shares traded.
    pub volume: u64,
    /// Volume-weighted average price.
    pub vwap: f64,
    /// Number of trades.
    pub trades: u64,
    /// False while the bucket is still filling.
    pub closed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_intervals() {
        for i in Interval::ALL {
            assert_eq!(i.as_str().parse::<Interval>().unwrap(), i);
            assert_eq!(serde_json::to_string(&i).unwrap(), format!("\"{i}\""));
        }
        assert!(
            "2m".parse::<Interval>()
                .unwrap_err()
                .to_string()
                .contains("1s, 1m")
        );
    }

    #[test]
    fn buckets_align_to_epoch() {
        assert_eq!(Interval::M1.bucket_start(61_500_000), 60_000_000);
        assert_eq!(Interval::S1.bucket_start(-1), -1_000_000);
        assert_eq!(Interval::D1.bucket_start(86_400_000_001), 86_400_000_000);
    }
}
