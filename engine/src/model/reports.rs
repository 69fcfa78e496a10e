//! What the engine computes and serves over REST: indicators, a portfolio's
//! valuation, volume analysis, the once-a-second metrics history. The computations
//! live with their owners (`workspace`, `analytics`, `metrics`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::{Interval, Portfolio, Symbol};

/// A portfolio valued at the latest quotes.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Valuation {
    /// The portfolio.
    pub portfolio: Portfolio,
    /// Each position's value, in the portfolio's order.
    pub positions: Vec<PositionValue>,
    /// What the positions cost: Σ quantity × cost.
    pub cost_basis: f64,
    /// Σ quantity × last price, over positions with a price.
    pub market_value: f64,
    /// Unrealised profit and loss: market value − cost basis (priced positions).
    pub pnl: f64,
    /// `pnl` as a percentage of the priced positions' cost basis.
    pub pnl_percent: f64,
    /// When it was valued, UTC.
    #[serde(with = "crate::model::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
}

/// One position's value.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct PositionValue {
    /// The symbol.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// Shares held.
    pub quantity: f64,
    /// Average price paid per share.
    pub cost: f64,
    /// Last trade price; absent before the symbol's first trade.
    #[ts(type = "number | null")]
    pub price: Option<f64>,
    /// quantity × price.
    #[ts(type = "number | null")]
    pub market_value: Option<f64>,
    /// quantity × (price − cost).
    #[ts(type = "number | null")]
    pub pnl: Option<f64>,
    /// (price − cost) / cost in percent (negated for a short position).
    #[ts(type = "number | null")]
    pub pnl_percent: Option<f64>,
}

/// `GET /api/v1/volume`: both views.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct VolumeReport {
    /// Every symbol, most traded first.
    pub symbols: Vec<SymbolVolume>,
    /// Volume by time of day.
    pub time_of_day: TimeOfDay,
}

/// One symbol's session volume and VWAP deviation.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct SymbolVolume {
    /// The symbol.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// Shares traded in the session.
    pub volume: u64,
    /// Its share of all symbols' session volume, in percent.
    pub share_percent: f64,
    /// Last trade price.
    pub price: f64,
    /// Session volume-weighted average price.
    pub vwap: f64,
    /// (price − VWAP) / VWAP, in percent.
    pub vwap_deviation_percent: f64,
}

/// Volume by time of day.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct TimeOfDay {
    /// The time zone the slots are in, e.g. `America/New_York`.
    pub timezone: String,
    /// Slot length in minutes.
    pub minutes: u32,
    /// Days with any volume.
    pub days: usize,
    /// Slots with volume, in time-of-day order.
    pub slots: Vec<TimeSlot>,
}

/// One slot of the day.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct TimeSlot {
    /// Local start, `HH:MM`.
    pub start: String,
    /// Mean shares traded in the slot per day seen.
    pub volume: f64,
    /// Its share of the day's volume, in percent.
    pub share_percent: f64,
}

/// One second of the process's activity.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct MetricsSample {
    /// End of the second sampled, UTC.
    #[serde(with = "crate::model::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
    /// Ticks entering the process (simulated or read from Kafka) per second.
    pub ticks_in_per_second: f64,
    /// Ticks written to clients (WebSocket and desktop streams) per second.
    pub ticks_out_per_second: f64,
    /// Median age of a tick when written to a client, in milliseconds;
    /// absent in a second with no deliveries.
    #[ts(type = "number | null")]
    pub latency_p50_ms: Option<f64>,
    /// 99th percentile of that age, in milliseconds.
    #[ts(type = "number | null")]
    pub latency_p99_ms: Option<f64>,
    /// Connected WebSocket clients.
    pub clients: i64,
    /// Tick messages in Kafka not yet read; absent when not reading Kafka.
    #[ts(type = "number | null")]
    pub consumer_lag: Option<i64>,
    /// Ticks committed to the store per second.
    pub store_writes_per_second: f64,
}

/// An indicator and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "indicator", rename_all = "snake_case")]
#[ts(export)]
pub enum Indicator {
    /// Simple moving average of closes over `period` candles.
    Sma {
        /// Candles averaged.
        period: usize,
    },
    /// Exponential moving average of closes, weight `2 / (period + 1)`,
    /// seeded with the simple average of the first `period` closes.
    Ema {
        /// Candles of the equivalent simple average.
        period: usize,
    },
    /// Bollinger bands: the simple average of closes and `k` population
    /// standard deviations either side.
    Bollinger {
        /// Candles averaged.
        period: usize,
        /// Width in standard deviations.
        k: f64,
    },
    /// Wilder's relative strength index of closes, 0–100.
    Rsi {
        /// Smoothing period.
        period: usize,
    },
    /// Volume-weighted average price since the start of the candle's UTC
    /// day (the session), from each candle's VWAP and volume.
    Vwap,
}

/// The answer of `GET /api/v1/indicators`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IndicatorReply {
    /// The symbol.
    #[ts(type = "string")]
    pub symbol: Symbol,
    /// The candles' interval.
    pub interval: Interval,
    /// The indicator and its parameters.
    pub indicator: Indicator,
    /// One point per settled candle: its `start` and each line's value
    /// (`value`, or `lower`, `middle`, `upper`).
    #[ts(type = "Array<{ start: string } & Record<string, number | string>>")]
    pub points: Vec<serde_json::Map<String, serde_json::Value>>,
}
