//! Market-wide rules once [`Simulator::enable_market_rules`] is called:
//! limit-up/limit-down (price bands around a five-minute reference price;
//! a quote the model puts outside its band is held at the band's edge, a
//! `limit_state` event; fifteen seconds there pause trading for five
//! minutes, ended by a reopening auction) and the short-sale restriction
//! (SEC Rule 201: announced when a trade is 10 % or more below the previous
//! close), and the imbalances of the opening and closing auctions, published
//! two minutes before the open and ten before the close.
//!
//! The bands follow the LULD plan for Tier 1 securities: 5 % above $3.00,
//! 20 % from $0.75, the lesser of $0.15 and 75 % below; doubled in the first
//! fifteen and the last twenty-five minutes of the regular session, and in
//! force only during it (always, in a 24/7 market). The reference price is
//! the trades' mean over the last five minutes, kept as an exponentially
//! weighted mean with a five-minute time constant.

use chrono::{DateTime, NaiveDate, Utc};

use rand_distr::{Distribution, StandardNormal};

use super::{
    CLOSING_AUCTION_SHARE, EventKind, EventLevel, HaltReason, Halted, MarketEvent,
    OPENING_AUCTION_SHARE, Output, Phase, Simulator, Timer,
};
use crate::{model::Tick, sim::CalendarKind};

/// The reference price's time constant (seconds).
const REFERENCE_SECONDS: f64 = 300.0;
/// How long a quote may stay at a band's edge before trading pauses (seconds).
const LIMIT_STATE_SECONDS: f64 = 15.0;
/// How long a limit-up/limit-down pause lasts (seconds).
const PAUSE_SECONDS: f64 = 300.0;
/// The fall from the previous close that restricts short sales.
const SSR_FALL: f64 = 0.10;
/// How long before the opening and the closing auction their imbalances
/// are published (seconds): 9:28 and 15:50 on a full day.
const OPENING_IMBALANCE_LEAD: f64 = 120.0;
const CLOSING_IMBALANCE_LEAD: f64 = 600.0;
/// Spread of an imbalance around zero, as a share of the paired shares.
const IMBALANCE_SPREAD: f64 = 0.3;

/// One symbol's state under the rules.
#[derive(Debug, Clone, Default)]
struct SymbolRules {
    /// The reference price and when it was last updated (seconds).
    reference: Option<(f64, f64)>,
    /// Since when its quote is held at a band's edge.
    limit_since: Option<f64>,
    /// The day of its last trade and that trade's price.
    last: Option<(NaiveDate, f64)>,
    /// The last closing auction's price, waiting for the next day.
    closing: Option<f64>,
    /// The previous day's close.
    close: Option<f64>,
    /// The day the short-sale restriction was last announced.
    ssr: Option<NaiveDate>,
}

/// Every symbol's state under the rules.
pub(super) struct Rules {
    symbols: Vec<SymbolRules>,
    /// The phase change whose auction's imbalances were last published.
    imbalances_for: Option<f64>,
}

/// The band's fraction of the reference price, before doubling.
fn band_fraction(reference: f64) -> f64 {
    if reference > 3.0 {
        0.05
    } else if reference >= 0.75 {
        0.20
    } else {
        (0.15 / reference).min(0.75)
    }
}

impl Simulator {
    /// Applies limit-up/limit-down bands and the short-sale restriction
    /// from now on (see the module docs). Off by default: a simulator
    /// without them prints every move the model makes.
    pub fn enable_market_rules(&mut self) {
        if self.rules.is_none() {
            self.rules = Some(Rules {
                symbols: vec![SymbolRules::default(); self.listed.len()],
                imbalances_for: None,
            });
        }
    }

    /// Symbol `index`'s band at `at`, in ticks of its grid (the lower edge
    /// rounded up, the upper down), when one is in force.
    pub(super) fn band(&self, index: usize, at: DateTime<Utc>) -> Option<(i64, i64)> {
        let rules = self.rules.as_ref()?;
        let (reference, _) = rules.symbols[index].reference?;
        let doubled = match self.calendar.kind {
            CalendarKind::AlwaysOpen => false,
            CalendarKind::Nyse => {
                let (since, until) = self.calendar.regular_minutes(at)?;
                since < 15.0 || until <= 25.0
            }
        };
        let width = band_fraction(reference) * if doubled { 2.0 } else { 1.0 };
        let steps = self.listed[index].steps_per_unit;
        let lower = ((reference * (1.0 - width) * steps).ceil() as i64).max(1);
        let upper = (reference * (1.0 + width) * steps).floor() as i64;
        (lower < upper).then_some((lower, upper))
    }

    /// After a continuous trade of `index`: updates its reference price,
    /// enters, leaves or escalates its limit state (`held`: its quote was
    /// held at the band's edge), and checks the short-sale restriction.
    pub(super) fn after_trade(&mut self, index: usize, tick: &Tick, held: bool) {
        if self.rules.is_none() {
            return;
        }
        let now = self.now;
        let band = self.band(index, tick.timestamp);
        let state = &mut self.rules.as_mut().expect("enabled").symbols[index];
        let since = state.limit_since;
        state.limit_since = match (held, since) {
            (true, None) => Some(now),
            (true, Some(since)) => Some(since),
            (false, _) => None,
        };
        if !held {
            // Held prices do not move the reference: the band stays put.
            update_reference(state, tick.price, now);
        }
        let steps = self.listed[index].steps_per_unit;
        let band = band.map(|(lower, upper)| (lower as f64 / steps, upper as f64 / steps));
        let symbol = self.listed[index].symbol.clone();
        match (held, since) {
            (true, None) => {
                let side = if tick.price <= band.map_or(0.0, |b| b.0) {
                    "limit down"
                } else {
                    "limit up"
                };
                self.band_event(
                    EventKind::LimitState,
                    EventLevel::Warning,
                    index,
                    format!("{symbol} {side}: quotes held at the band's edge"),
                    band,
                );
            }
            (true, Some(since)) if now - since >= LIMIT_STATE_SECONDS => {
                self.listed[index].halted = Some(Halted::Luld);
                self.rules.as_mut().expect("enabled").symbols[index].limit_since = None;
                self.schedule(now + PAUSE_SECONDS, Timer::Reopen(index));
                let mut event = self.market_event(
                    EventKind::Halt,
                    EventLevel::Critical,
                    index,
                    format!("{symbol} limit-up/limit-down trading pause for 5 minutes"),
                );
                event.reason = Some(HaltReason::LuldPause);
                (event.lower_band, event.upper_band) = band.unzip();
                self.queue.push_back(Output::Event(event));
            }
            (false, Some(_)) => self.band_event(
                EventKind::LimitState,
                EventLevel::Info,
                index,
                format!("{symbol} left its band's edge"),
                band,
            ),
            _ => {}
        }
        self.short_sales(index, tick);
    }

    /// After an auction print of `index`: a closing auction sets the next
    /// day's previous close; any auction resets the reference price.
    pub(super) fn after_auction(&mut self, index: usize, tick: &Tick) {
        let now = self.now;
        let Some(rules) = &mut self.rules else {
            return;
        };
        let state = &mut rules.symbols[index];
        state.reference = Some((tick.price, now));
        if tick.condition == Some(crate::model::TradeCondition::ClosingAuction) {
            state.closing = Some(tick.price);
        }
    }

    /// When the next auction's imbalances are due (seconds), if they are
    /// still to come: before the regular session opens or closes.
    pub(super) fn imbalances_due(&self) -> Option<f64> {
        let rules = self.rules.as_ref()?;
        let (at, next) = self.transition?;
        let lead = match (self.phase, next) {
            (Phase::Regular, _) => CLOSING_IMBALANCE_LEAD,
            (_, Phase::Regular) => OPENING_IMBALANCE_LEAD,
            _ => return None,
        };
        let due = at - lead;
        (rules.imbalances_for != Some(at) && due >= self.now).then_some(due)
    }

    /// Publishes each trading symbol's imbalance for the coming auction.
    pub(super) fn publish_imbalances(&mut self) {
        let Some((at, _)) = self.transition else {
            return;
        };
        let closing = self.phase == Phase::Regular;
        if let Some(rules) = &mut self.rules {
            rules.imbalances_for = Some(at);
        }
        let (which, share) = if closing {
            ("closing", CLOSING_AUCTION_SHARE)
        } else {
            ("opening", OPENING_AUCTION_SHARE)
        };
        for index in 0..self.listed.len() {
            if self.listed[index].halted.is_some() {
                continue;
            }
            let (price, paired) = self.auction_cross(index, share);
            let z: f64 = StandardNormal.sample(&mut self.rng);
            let listed = &self.listed[index];
            let imbalance = (paired as f64 * IMBALANCE_SPREAD * z / 100.0).round() as i64 * 100;
            let side = if imbalance >= 0 { "buy" } else { "sell" };
            let mut event = self.market_event(
                EventKind::AuctionImbalance,
                EventLevel::Info,
                index,
                format!(
                    "{} {which} auction imbalance: {} shares to {side}, {paired} paired, indicative {price}",
                    listed.symbol,
                    imbalance.unsigned_abs()
                ),
            );
            event.paired_shares = Some(paired);
            event.imbalance_shares = Some(imbalance);
            event.indicative_price = Some(price);
            self.queue.push_back(Output::Event(event));
        }
    }

    /// Ends `index`'s limit-up/limit-down pause with a reopening auction.
    pub(super) fn end_pause(&mut self, index: usize) {
        if self.listed[index].halted == Some(Halted::Luld) {
            self.listed[index].halted = None;
            self.reopen(index, HaltReason::LuldPause, None);
        }
    }

    /// Announces the short-sale restriction the first time in a day a trade
    /// is 10 % or more below the previous close.
    fn short_sales(&mut self, index: usize, tick: &Tick) {
        let day = tick.timestamp.date_naive();
        let state = &mut self.rules.as_mut().expect("enabled").symbols[index];
        if let Some((last_day, last_price)) = state.last
            && last_day != day
        {
            state.close = Some(state.closing.take().unwrap_or(last_price));
        }
        state.last = Some((day, tick.price));
        let fell = state
            .close
            .is_some_and(|close| tick.price <= close * (1.0 - SSR_FALL));
        if fell && state.ssr != Some(day) {
            state.ssr = Some(day);
            let close = state.close.unwrap_or_default();
            let symbol = self.listed[index].symbol.clone();
            let event = self.market_event(
                EventKind::ShortSaleRestriction,
                EventLevel::Warning,
                index,
                format!(
                    "{symbol} short-sale restriction (Rule 201): {} is 10% or more below the previous close {close}; short sales only above the best bid today and tomorrow",
                    tick.price
                ),
            );
            self.queue.push_back(Output::Event(event));
        }
    }

    /// A market event about symbol `index`, now.
    fn market_event(
        &self,
        kind: EventKind,
        level: EventLevel,
        index: usize,
        message: String,
    ) -> MarketEvent {
        MarketEvent::new(
            kind,
            level,
            Some(self.listed[index].symbol.clone()),
            message,
            self.at(self.now),
        )
    }

    fn band_event(
        &mut self,
        kind: EventKind,
        level: EventLevel,
        index: usize,
        message: String,
        band: Option<(f64, f64)>,
    ) {
        let mut event = self.market_event(kind, level, index, message);
        (event.lower_band, event.upper_band) = band.unzip();
        self.queue.push_back(Output::Event(event));
    }

    /// A halt or resume of symbol `index` for `reason`, by `scenario` if one.
    pub(super) fn status_event(
        &mut self,
        kind: EventKind,
        level: EventLevel,
        index: usize,
        message: String,
        scenario: Option<u64>,
        reason: HaltReason,
    ) {
        let mut event = self.market_event(kind, level, index, message);
        event.scenario = scenario;
        event.reason = Some(reason);
        self.queue.push_back(Output::Event(event));
    }
}

fn update_reference(state: &mut SymbolRules, price: f64, now: f64) {
    state.reference = Some(match state.reference {
        None => (price, now),
        Some((reference, at)) => {
            let weight = 1.0 - (-(now - at).max(0.0) / REFERENCE_SECONDS).exp();
            (reference + (price - reference) * weight, now)
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::TradeCondition,
        sim::{Calendar, Correlations, Model, ScenarioRequest, SimSettings, default_universe},
    };

    #[test]
    fn a_flash_crash_is_held_at_the_band_then_paused_reopened_and_short_sales_restricted() {
        let mut market = Simulator::new(
            &default_universe(),
            &SimSettings {
                seed: 5,
                rate: 400.0,
                model: Model::Realistic,
                correlations: Correlations::default(),
                calendar: Calendar::always_open(),
                // Ten minutes before midnight: the previous close is set at midnight.
                start: "2026-03-10T23:50:00Z".parse().unwrap(),
            },
        );
        market.enable_market_rules();
        market
            .inject(
                ScenarioRequest::parse_words(
                    "flash_crash symbol=AAPL depth=0.3 fall=60s recovery=30m after=15m",
                )
                .unwrap(),
            )
            .unwrap();
        let aapl =
            |s: &Option<crate::model::Symbol>| s.as_ref().is_some_and(|s| s.as_str() == "AAPL");
        let mut seen: Vec<EventKind> = Vec::new();
        let mut band: Option<(f64, f64)> = None;
        let (mut paused_at, mut reopened) = (None, false);
        while !seen.contains(&EventKind::ShortSaleRestriction) {
            assert!(
                market.now() < "2026-03-11T01:00:00Z".parse::<DateTime<Utc>>().unwrap(),
                "events: {seen:?}"
            );
            match market.next_output() {
                Output::Event(event) if aapl(&event.symbol) => {
                    match event.kind {
                        EventKind::LimitState if event.level == EventLevel::Warning => {
                            band = event.lower_band.zip(event.upper_band);
                            assert!(band.is_some(), "{event:?}");
                        }
                        EventKind::Halt => {
                            assert_eq!(event.reason, Some(HaltReason::LuldPause));
                            assert!(event.lower_band.is_some(), "{event:?}");
                            paused_at = Some(event.timestamp);
                        }
                        EventKind::Resume => {
                            assert_eq!(event.reason, Some(HaltReason::LuldPause));
                            let paused =
                                (event.timestamp - paused_at.expect("paused first")).num_seconds();
                            assert_eq!(paused, 300, "a five-minute pause");
                        }
                        _ => {}
                    }
                    seen.push(event.kind);
                }
                Output::Tick(tick) if tick.symbol.as_str() == "AAPL" => {
                    if tick.condition == Some(TradeCondition::ReopeningAuction) {
                        reopened = true;
                    } else if let (Some((lower, upper)), None) = (band, paused_at) {
                        // Held at the band until the pause.
                        assert!(
                            tick.price >= lower - 1e-9 && tick.price <= upper + 1e-9,
                            "{tick:?} outside {band:?}"
                        );
                    }
                    assert!(
                        paused_at.is_none() || reopened || tick.condition.is_some(),
                        "a trade during the pause: {tick:?}"
                    );
                }
                _ => {}
            }
        }
        let order: Vec<EventKind> = seen
            .iter()
            .copied()
            .filter(|k| {
                matches!(
                    k,
                    EventKind::LimitState | EventKind::Halt | EventKind::Resume
                )
            })
            .take(3)
            .collect();
        assert_eq!(
            order,
            [EventKind::LimitState, EventKind::Halt, EventKind::Resume],
            "{seen:?}"
        );
        assert!(reopened, "a reopening auction");
    }

    #[test]
    fn imbalances_come_two_minutes_before_the_open_and_ten_before_the_close() {
        let mut market = Simulator::new(
            &default_universe(),
            &SimSettings {
                seed: 9,
                rate: 50.0,
                model: Model::Realistic,
                correlations: Correlations::default(),
                calendar: Calendar::nyse(false),
                // 9:00 in New York.
                start: "2026-03-10T13:00:00Z".parse().unwrap(),
            },
        );
        market.enable_market_rules();
        let end: DateTime<Utc> = "2026-03-10T20:05:00Z".parse().unwrap();
        let mut imbalances: Vec<(DateTime<Utc>, MarketEvent)> = Vec::new();
        let mut auctions: Vec<(DateTime<Utc>, TradeCondition)> = Vec::new();
        while market.now() < end {
            match market.next_output() {
                // The market closed: the last output may be the next day's.
                Output::Event(event) if event.timestamp >= end => {}
                Output::Event(event) if event.kind == EventKind::AuctionImbalance => {
                    imbalances.push((event.timestamp, event));
                }
                Output::Tick(tick) if tick.symbol.as_str() == "AAPL" && tick.timestamp < end => {
                    if let Some(condition) = tick.condition {
                        auctions.push((tick.timestamp, condition));
                    }
                }
                _ => {}
            }
        }
        let symbols = default_universe().len();
        assert_eq!(imbalances.len(), 2 * symbols, "one per symbol per auction");
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        assert!(
            imbalances[..symbols]
                .iter()
                .all(|(t, _)| *t == at("2026-03-10T13:28:00Z"))
        );
        assert!(
            imbalances[symbols..]
                .iter()
                .all(|(t, _)| *t == at("2026-03-10T19:50:00Z"))
        );
        for (_, event) in &imbalances {
            let (paired, imbalance, price) = (
                event.paired_shares.unwrap(),
                event.imbalance_shares.unwrap(),
                event.indicative_price.unwrap(),
            );
            assert!(
                paired >= 100 && paired % 100 == 0 && imbalance % 100 == 0,
                "{event:?}"
            );
            assert!(
                imbalance.unsigned_abs() < paired && price > 0.0,
                "{event:?}"
            );
        }
        assert_eq!(
            auctions,
            [
                (at("2026-03-10T13:30:00Z"), TradeCondition::OpeningAuction),
                (at("2026-03-10T20:00:00Z"), TradeCondition::ClosingAuction)
            ]
        );
    }
}
