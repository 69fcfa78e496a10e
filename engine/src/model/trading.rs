//! Paper trading on the wire: the orders clients place and change, the
//! orders and fills the engine reports (REST, and the `orders` stream), and
//! accounts with their positions and profit and loss.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use super::Symbol;

/// Buy or sell.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    TS,
    ToSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell (no more than the account holds: no short sales).
    Sell,
}

/// How an order executes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OrderKind {
    /// At once, walking the book's levels.
    Market,
    /// At `limit_price` or better; what does not fill at once rests.
    Limit,
    /// A market order once a trade reaches `stop_price`.
    Stop,
    /// A limit order (at `limit_price`) once a trade reaches `stop_price`.
    StopLimit,
}

/// How long an order works.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    TS,
    ToSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TimeInForce {
    /// Until the session closes.
    #[default]
    Day,
    /// Until cancelled.
    Gtc,
    /// What fills at once; the rest is cancelled.
    Ioc,
    /// All at once, or nothing.
    Fok,
}

/// Where an order is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OrderStatus {
    /// A stop order waiting for its trigger.
    Pending,
    /// Working in the book, nothing filled yet.
    Open,
    /// Working, part filled.
    PartiallyFilled,
    /// Done: all filled.
    Filled,
    /// Done: cancelled (by the client, IOC/FOK, or an empty book), `reason` says.
    Canceled,
    /// Done: a day order at the session's close.
    Expired,
}

impl OrderStatus {
    /// Whether the order is done.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Filled | Self::Canceled | Self::Expired)
    }
}

/// Whether a fill took liquidity from the book or was taken from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Liquidity {
    /// Executed against resting depth (`POST`, a stop's trigger).
    Taker,
    /// A resting limit order reached by the market's trades.
    Maker,
}

/// An order to place (`POST /api/v1/orders`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewOrder {
    /// The account (default `paper`).
    #[serde(default)]
    #[ts(optional)]
    pub account: Option<String>,
    /// Ticker symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Market, limit, stop or stop-limit.
    pub kind: OrderKind,
    /// Shares, 1 to 1,000,000,000.
    pub quantity: u64,
    /// For `limit` and `stop_limit`: the worst price accepted, on the
    /// symbol's tick grid.
    #[serde(default)]
    #[ts(optional)]
    pub limit_price: Option<f64>,
    /// For `stop` and `stop_limit`: the trade price that triggers it.
    #[serde(default)]
    #[ts(optional)]
    pub stop_price: Option<f64>,
    /// How long it works (default `day`).
    #[serde(default)]
    #[ts(optional)]
    pub time_in_force: Option<TimeInForce>,
    /// The client's own ID for it, up to 64 characters, unique per account
    /// among working orders.
    #[serde(default)]
    #[ts(optional)]
    pub client_order_id: Option<String>,
}

/// A change to a working order (`PUT /api/v1/orders/{id}`): a new
/// quantity (at least what has filled), limit or stop price. Keeps its
/// place in the queue only when the quantity alone goes down.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct OrderChange {
    /// The new total quantity.
    #[serde(default)]
    #[ts(optional)]
    pub quantity: Option<u64>,
    /// The new limit price.
    #[serde(default)]
    #[ts(optional)]
    pub limit_price: Option<f64>,
    /// The new stop price.
    #[serde(default)]
    #[ts(optional)]
    pub stop_price: Option<f64>,
}

/// An order and where it stands.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Order {
    /// The engine's ID.
    pub id: u64,
    /// The client's ID, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_order_id: Option<String>,
    /// The account.
    pub account: String,
    /// Ticker symbol.
    #[ts(type = "string")]
    #[schema(value_type = String)]
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Market, limit, stop or stop-limit.
    pub kind: OrderKind,
    /// Shares ordered.
    pub quantity: u64,
    /// Shares filled.
    pub filled: u64,
    /// The limit price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub limit_price: Option<f64>,
    /// The stop price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub stop_price: Option<f64>,
    /// How long it works.
    pub time_in_force: TimeInForce,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// The average price of its fills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub average_price: Option<f64>,
    /// While it rests in the book: shares ahead of it at its price, which
    /// the market's trades at that price must take first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub queue_ahead: Option<u64>,
    /// Why it was cancelled or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
    /// When it was placed.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub updated_at: DateTime<Utc>,
}

/// One execution of an order.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Fill {
    /// The engine's ID, increasing.
    pub id: u64,
    /// The order it executed.
    pub order_id: u64,
    /// The account.
    pub account: String,
    /// Ticker symbol.
    #[ts(type = "string")]
    #[schema(value_type = String)]
    pub symbol: Symbol,
    /// Bought or sold.
    pub side: Side,
    /// Price.
    pub price: f64,
    /// Shares.
    pub quantity: u64,
    /// The fee charged (`trading.fee_per_share`, `trading.fee_rate`).
    pub fee: f64,
    /// Taken from the book, or reached while resting.
    pub liquidity: Liquidity,
    /// Market time of the execution.
    #[serde(with = "super::timestamp")]
    #[ts(type = "string")]
    pub timestamp: DateTime<Utc>,
}

/// An account to open (`POST /api/v1/accounts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewAccount {
    /// Its name: 1 to 64 letters, digits, `-` or `_`.
    pub name: String,
    /// Its starting cash (default `trading.starting_cash`).
    #[serde(default)]
    #[ts(optional)]
    pub cash: Option<f64>,
}

/// An account: cash, what it holds, and its profit and loss.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Account {
    /// Its name.
    pub name: String,
    /// The cash it started with.
    pub starting_cash: f64,
    /// Cash now.
    pub cash: f64,
    /// Cash not set aside for working buy orders: what a new buy may spend.
    pub buying_power: f64,
    /// Cash plus the holdings at their last price.
    pub equity: f64,
    /// Profit and loss realised by sales, after fees.
    pub realized_pnl: f64,
    /// Profit and loss of the holdings at their last price.
    pub unrealized_pnl: f64,
    /// Fees paid.
    pub fees: f64,
    /// What it holds, by symbol.
    pub positions: Vec<Holding>,
}

/// One symbol held.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct Holding {
    /// Ticker symbol.
    #[ts(type = "string")]
    #[schema(value_type = String)]
    pub symbol: Symbol,
    /// Shares held.
    pub quantity: u64,
    /// Their average cost.
    pub average_price: f64,
    /// The symbol's last trade price.
    pub last_price: f64,
    /// `quantity × last_price`.
    pub market_value: f64,
    /// `(last_price − average_price) × quantity`.
    pub unrealized_pnl: f64,
    /// Realised on this symbol's sales, after fees.
    pub realized_pnl: f64,
}

/// An order placed or changed, as it stands after what it filled at once.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema, async_graphql::SimpleObject,
)]
#[ts(export)]
pub struct PlacedOrder {
    /// The order now.
    pub order: Order,
    /// What it filled at once, in order.
    pub fills: Vec<Fill>,
}

/// What the `orders` stream carries: an order's change, or a fill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[ts(export)]
pub enum TradingEvent {
    /// An order was placed, changed, or finished.
    Order(Order),
    /// An order executed.
    Fill(Fill),
}
