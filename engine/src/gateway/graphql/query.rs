//! GraphQL's queries: what REST's `GET` routes answer, by the same
//! functions, and the fields of its objects that are more than data (an
//! alert rule's condition, a portfolio's valuation).

use async_graphql::{ComplexObject, Context, Json, Object, Result};
use chrono::{DateTime, Utc};

use super::{params, refusal, state};
use crate::{
    gateway::{alerts, replays, rest, scenarios, trading, workspace},
    model::{
        Account, AlertRule, Candle, Condition, Fill, IndicatorReply, Interval, MetricsSample,
        Order, OrderBook, Portfolio, Quote, ReplayStatus, Scenario, ScenarioStatus, Symbol, Tick,
        Valuation, VolumeReport, Watchlist, timestamp,
    },
};

/// The query root.
pub struct Query;

/// A time argument as REST's parameters take it.
fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(timestamp::to_string)
}

#[Object]
impl Query {
    /// Every known symbol with its latest quote, sorted.
    async fn symbols(&self, cx: &Context<'_>) -> Vec<Quote> {
        state(cx).market.quotes.read().all()
    }

    /// One symbol's latest quote; null before it trades.
    async fn quote(&self, cx: &Context<'_>, symbol: Symbol) -> Option<Quote> {
        state(cx).market.quotes.read().get(symbol.as_str()).cloned()
    }

    /// A symbol's order book now: up to `depth` (1 to 10, default 10)
    /// levels a side, best first, and the `seq` its stream continues from.
    async fn book(
        &self,
        cx: &Context<'_>,
        symbol: Symbol,
        depth: Option<u32>,
    ) -> Result<OrderBook> {
        let raw = params([
            ("symbol", Some(symbol.to_string())),
            ("depth", depth.map(|d| d.to_string())),
        ]);
        rest::find_book(state(cx), raw).map_err(refusal)
    }

    /// Tick history, oldest first: `limit` (1 to 10000, default 1000) of
    /// the most recent in [`from`, `to`).
    async fn ticks(
        &self,
        cx: &Context<'_>,
        symbol: Symbol,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: Option<u32>,
    ) -> Result<Vec<Tick>> {
        let raw = params([
            ("symbol", Some(symbol.to_string())),
            ("from", time(from)),
            ("to", time(to)),
            ("limit", limit.map(|l| l.to_string())),
        ]);
        rest::find_ticks(state(cx), raw).await.map_err(refusal)
    }

    /// Candles, oldest first; the newest may be open (`closed: false`);
    /// with `replay`, as of that replay's clock.
    #[allow(clippy::too_many_arguments)]
    async fn candles(
        &self,
        cx: &Context<'_>,
        symbol: Symbol,
        #[graphql(default_with = "Interval::M1")] interval: Interval,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: Option<u32>,
        replay: Option<u64>,
    ) -> Result<Vec<Candle>> {
        let raw = params([
            ("symbol", Some(symbol.to_string())),
            ("interval", Some(interval.to_string())),
            ("from", time(from)),
            ("to", time(to)),
            ("limit", limit.map(|l| l.to_string())),
            ("replay", replay.map(|r| r.to_string())),
        ]);
        let (candles, _) = rest::find_candles(state(cx), raw).await.map_err(refusal)?;
        Ok(candles)
    }

    /// An indicator over the symbol's candles, one point per settled
    /// candle (as `GET /api/v1/indicators` answers): `indicator` is `sma`,
    /// `ema`, `bollinger` (with `k`), `rsi` or `vwap`; with `replay`, over
    /// the candles as of that replay's clock.
    #[allow(clippy::too_many_arguments)]
    async fn indicator(
        &self,
        cx: &Context<'_>,
        symbol: Symbol,
        indicator: String,
        #[graphql(default_with = "Interval::M1")] interval: Interval,
        period: Option<u32>,
        k: Option<f64>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: Option<u32>,
        replay: Option<u64>,
    ) -> Result<Json<IndicatorReply>> {
        let raw = params([
            ("symbol", Some(symbol.to_string())),
            ("indicator", Some(indicator)),
            ("interval", Some(interval.to_string())),
            ("period", period.map(|p| p.to_string())),
            ("k", k.map(|k| k.to_string())),
            ("from", time(from)),
            ("to", time(to)),
            ("limit", limit.map(|l| l.to_string())),
            ("replay", replay.map(|r| r.to_string())),
        ]);
        rest::compute_indicator(state(cx), raw)
            .await
            .map(Json)
            .map_err(refusal)
    }

    /// Session volume by symbol and volume by time of day over the last
    /// `days` (1 to 366, default 5) in `minutes`-long slots (a multiple of
    /// 15 up to 240, default 30) of time zone `tz` (default
    /// America/New_York), for every symbol or `symbol`.
    async fn volume(
        &self,
        cx: &Context<'_>,
        days: Option<u32>,
        minutes: Option<u32>,
        tz: Option<String>,
        symbol: Option<Symbol>,
    ) -> Result<VolumeReport> {
        let raw = params([
            ("days", days.map(|d| d.to_string())),
            ("minutes", minutes.map(|m| m.to_string())),
            ("tz", tz),
            ("symbol", symbol.map(|s| s.to_string())),
        ]);
        rest::analyse_volume(state(cx), raw).await.map_err(refusal)
    }

    /// Every alert rule.
    async fn alert_rules(&self, cx: &Context<'_>) -> Result<Vec<AlertRule>> {
        alerts::list_rules(state(cx)).await.map_err(refusal)
    }

    /// Every watchlist.
    async fn watchlists(&self, cx: &Context<'_>) -> Result<Vec<Watchlist>> {
        workspace::list_items(state(cx)).await.map_err(refusal)
    }

    /// Every portfolio (each with its `valuation` at the latest quotes).
    async fn portfolios(&self, cx: &Context<'_>) -> Result<Vec<Portfolio>> {
        workspace::list_items(state(cx)).await.map_err(refusal)
    }

    /// Every scenario injected into the simulator, with its state; an
    /// error (status 503, as REST's) where no simulator runs.
    async fn scenarios(&self, cx: &Context<'_>) -> Result<Vec<ScenarioStatus>> {
        scenarios::list_of(state(cx).ops.simulator.as_ref()).map_err(refusal)
    }

    /// The last five minutes of once-a-second headline metrics, oldest first.
    async fn metrics(&self, cx: &Context<'_>) -> Vec<MetricsSample> {
        state(cx).ops.metrics.history.samples()
    }

    /// Paper orders, newest first: `limit` (1 to 10000, default 100), of
    /// `account` or of every account.
    async fn orders(
        &self,
        cx: &Context<'_>,
        account: Option<String>,
        limit: Option<u32>,
    ) -> Result<Vec<Order>> {
        let raw = params([
            ("account", account),
            ("limit", limit.map(|l| l.to_string())),
        ]);
        trading::find_orders(state(cx), raw).await.map_err(refusal)
    }

    /// Paper order `id`.
    async fn order(&self, cx: &Context<'_>, id: u64) -> Result<Order> {
        trading::find_order(state(cx), id).await.map_err(refusal)
    }

    /// Paper fills after fill `after` (default 0), oldest first: `limit`
    /// (1 to 10000, default 100), of `account` or of every account.
    async fn fills(
        &self,
        cx: &Context<'_>,
        account: Option<String>,
        after: Option<u64>,
        limit: Option<u32>,
    ) -> Result<Vec<Fill>> {
        let raw = params([
            ("account", account),
            ("after", after.map(|a| a.to_string())),
            ("limit", limit.map(|l| l.to_string())),
        ]);
        trading::find_fills(state(cx), raw).await.map_err(refusal)
    }

    /// Every paper account, valued at the last prices.
    async fn accounts(&self, cx: &Context<'_>) -> Vec<Account> {
        state(cx).stored.trading.accounts()
    }

    /// Paper account `name` (every engine has `paper`).
    async fn account(&self, cx: &Context<'_>, name: String) -> Result<Account> {
        trading::find_account(state(cx), &name).map_err(refusal)
    }

    /// Every open replay's status, by id.
    async fn replays(&self, cx: &Context<'_>) -> Vec<ReplayStatus> {
        state(cx).replays.list()
    }

    /// Replay `id`'s status.
    async fn replay(&self, cx: &Context<'_>, id: u64) -> Result<ReplayStatus> {
        replays::replay_of(state(cx), &id.to_string())
            .map(|r| r.status())
            .map_err(refusal)
    }
}

#[ComplexObject]
impl AlertRule {
    /// What fires it, as REST writes it: `{"kind": "price_cross", …}`.
    async fn condition(&self) -> Json<&Condition> {
        Json(&self.condition)
    }

    /// Least time between two firings, e.g. `1m`.
    async fn cooldown(&self) -> String {
        humantime::format_duration(self.cooldown).to_string()
    }
}

#[ComplexObject]
impl ScenarioStatus {
    /// The scenario, as REST writes it: `{"kind": "halt", …}`.
    async fn scenario(&self) -> Json<&Scenario> {
        Json(&self.scenario)
    }
}

#[ComplexObject]
impl Portfolio {
    /// The portfolio valued at the latest quotes.
    async fn valuation(&self, cx: &Context<'_>) -> Valuation {
        self.value(&state(cx).market.quotes.read())
    }
}
