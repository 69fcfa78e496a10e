//! The values a market can have, which every record read from outside
//! (Kafka, a peer) is checked against before anything downstream (candles,
//! the store, books, clients) meets an infinite price, an overflowing size
//! or a time at the end of the calendar.

use chrono::{DateTime, Utc};

/// The highest price (or bid, or ask) a record may carry.
pub const MAX_PRICE: f64 = 1e12;
/// The most shares one record may carry.
pub const MAX_VOLUME: u64 = 1_000_000_000_000;
/// The earliest and latest times a record may carry: years 1900 to 2199.
const TIME_RANGE: std::ops::Range<i64> = -2_208_988_800..7_258_118_400;

/// A field holding a value no market has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct OutOfRange {
    /// The field.
    pub field: &'static str,
    /// Why.
    pub message: String,
}

/// `value` is a positive finite price up to [`MAX_PRICE`].
pub fn price(field: &'static str, value: f64) -> Result<(), OutOfRange> {
    if value.is_finite() && value > 0.0 && value <= MAX_PRICE {
        Ok(())
    } else {
        Err(OutOfRange {
            field,
            message: format!("{value} is not a price between 0 and {MAX_PRICE:e}"),
        })
    }
}

/// `value` is at most [`MAX_VOLUME`] shares.
pub fn shares(field: &'static str, value: u64) -> Result<(), OutOfRange> {
    if value <= MAX_VOLUME {
        Ok(())
    } else {
        Err(OutOfRange {
            field,
            message: format!("{value} is more than {MAX_VOLUME} shares"),
        })
    }
}

/// `at` lies between the years 1900 and 2199.
pub fn time(field: &'static str, at: DateTime<Utc>) -> Result<(), OutOfRange> {
    if TIME_RANGE.contains(&at.timestamp()) {
        Ok(())
    } else {
        Err(OutOfRange {
            field,
            message: format!("{at} is not between the years 1900 and 2199"),
        })
    }
}
