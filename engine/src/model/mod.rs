//! The wire types: what crosses a process boundary (Kafka messages, WebSocket
//! frames, REST bodies), with their JSON encoding and generated TypeScript.
//!
//! These are the only types in the engine that derive `Serialize`.

pub mod alpaca;
mod audit;
pub mod avro;
mod backup;
mod book;
mod candle;
pub mod desktop;
mod errors;
mod event;
mod health;
mod items;
mod keys;
mod load;
pub mod polygon;
pub mod protocol;
mod quote;
pub mod range;
mod replay;
mod reports;
mod scenario;
pub mod schemas;
mod settings;
mod symbol;
mod tick;
pub mod timestamp;
mod trading;

pub use audit::AuditEntry;
pub use backup::{BackupManifest, Replayed, Restored, StoreCheck};
pub use book::{BOOK_DEPTH, BookLevel, MAX_BOOK_LEVELS, OrderBook, TopOfBook};
pub use candle::{Candle, Interval, IntervalError};
pub use errors::{ErrorBody, ErrorCode, ErrorDetail};
pub use event::{EventKind, EventLevel, HaltReason, MarketEvent, SystemMetric};
pub use health::{Checks, CircuitState, Failure, Readiness};
pub use items::{AlertRule, Condition, Direction, Portfolio, Position, Watchlist};
pub use keys::{CreatedKey, KeyInfo, NewKey, Scope};
pub use load::{DaemonUsage, Latency, LoadReport};
pub use quote::Quote;
pub use range::OutOfRange;
pub use replay::{NewReplay, ReplayAction, ReplayCommand, ReplayState, ReplayStatus};
pub use reports::{
    Indicator, IndicatorReply, MetricsSample, PositionValue, SymbolVolume, TimeOfDay, TimeSlot,
    Valuation, VolumeReport,
};
pub use scenario::{Scenario, ScenarioState, ScenarioStatus};
pub use settings::EffectiveConfig;
pub use symbol::{MAX_SYMBOL_LEN, Symbol, SymbolError};
pub use tick::{EncodedTick, Tick, TickDecodeError, TradeCondition};
pub use trading::{
    Account, Fill, Holding, Liquidity, NewAccount, NewOrder, Order, OrderChange, OrderKind,
    OrderStatus, PlacedOrder, Side, TimeInForce, TradingEvent,
};

/// Fixed-point scale used for exact price arithmetic: one unit is 10⁻⁶ of a
/// currency unit, so any price on a tick grid of 0.000001 or coarser is exact.
pub const PRICE_SCALE: i64 = 1_000_000;

/// Converts a price to exact fixed-point units (see [`PRICE_SCALE`]).
pub fn price_to_units(price: f64) -> i64 {
    (price * PRICE_SCALE as f64).round() as i64
}

/// Converts fixed-point units back to a price.
pub fn units_to_price(units: i64) -> f64 {
    units as f64 / PRICE_SCALE as f64
}
