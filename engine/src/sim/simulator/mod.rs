//! `Simulator`: a whole simulated market over time. It decides when trades
//! happen (clustered arrivals, the calendar's phases and the intraday U
//! shape), which symbol trades, at what quote and size, prints opening and
//! closing auctions, applies injected scenarios, and reports what happened
//! as `market_events`. A [`PriceModel`] decides where prices go.
//!
//! Everything is driven by one seeded generator and the simulated clock:
//! the same settings and scenarios give the same output, at any speed.

mod depth;
mod phases;
mod rules;
mod scenarios;

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{
    Calendar, CalendarKind, Correlations, Model, PriceModel, Shock, SymbolSpec,
    arrivals::{Arrivals, Cause},
    book::Touch,
    calendar::Phase,
    scenario::{ScenarioError, ScenarioRequest},
};
use crate::model::{
    EventKind, EventLevel, HaltReason, MarketEvent, Scenario, ScenarioState, ScenarioStatus,
    Symbol, Tick, TradeCondition,
};

/// Arrival rate in pre-market and after-hours trading, relative to midday.
const EXTENDED_ACTIVITY: f64 = 0.05;
/// Volatility in extended hours, relative to the regular session.
const EXTENDED_VOLATILITY: f64 = 0.5;
/// Spread widening in extended hours.
const EXTENDED_SPREAD: f64 = 3.0;
/// Activity at the open and close above midday's (volume ~3× midday).
const INTRADAY_PEAK: f64 = 2.0;
/// How fast opening and closing activity fades (minutes).
const INTRADAY_DECAY: f64 = 15.0;
/// Tail index of trade sizes (Pareto): most trades are small, a few are
/// blocks hundreds of times the typical size.
const SIZE_TAIL: f64 = 1.6;
/// Mean of those sizes, in units of the smallest.
const MEAN_SIZE: f64 = SIZE_TAIL / (SIZE_TAIL - 1.0);
/// Largest trade, as a share of the symbol's daily volume.
const MAX_TRADE_SHARE: f64 = 0.002;
/// Share of a symbol's daily volume crossed by each auction.
const OPENING_AUCTION_SHARE: f64 = 0.01;
const CLOSING_AUCTION_SHARE: f64 = 0.03;
const REOPENING_AUCTION_SHARE: f64 = 0.005;
/// Longest stretch of trading time a pause counts as (seconds): prices do
/// not drift while the market is closed.
const MAX_PAUSE: f64 = 60.0;
/// Seconds of a regular session.
const SESSION_SECONDS: f64 = 23_400.0;
/// A news shock's volatility is back to normal after this many decays.
const NEWS_DECAYS: f64 = 5.0;
/// Scenarios scheduled or active at once, at most.
const MAX_PENDING_SCENARIOS: usize = 64;
/// How far news shocks may move a symbol in total: ×10 up or down.
const MAX_NEWS_MOVE: f64 = 10.0;
/// The highest mid price on a symbol's grid, in ticks: far above any real
/// price, far below where `f64` arithmetic loses whole ticks.
const MAX_MID_TICKS: f64 = 1e12;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimSettings {
    /// Random seed: the same seed gives the same market.
    pub seed: u64,
    /// Trades per second over all symbols: the long-run rate at midday of
    /// a regular session (always, in a 24/7 market).
    pub rate: f64,
    /// The price model.
    pub model: Model,
    /// Target correlations of daily returns (the realistic model).
    pub correlations: Correlations,
    /// When the market trades.
    pub calendar: Calendar,
    /// Market time at which the simulation starts.
    pub start: DateTime<Utc>,
}

/// What the simulator produces, in time order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A trade.
    Tick(Tick),
    /// A session change or a scenario's start or end.
    Event(MarketEvent),
}

struct Listed {
    symbol: Symbol,
    sector: Option<usize>,
    steps_per_unit: f64,
    /// Half the typical spread, as a fraction of the price.
    half_spread: f64,
    /// Average daily volume, shares.
    adv: f64,
    /// Smallest trade size (shares) of the size distribution: set so a
    /// session trades `adv` at the current rate.
    size_unit: f64,
    /// Permanent log-price shift from news.
    shift: f64,
    /// Why the symbol is halted, if it is.
    halted: Option<Halted>,
}

/// What holds a halted symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Halted {
    /// A halt scenario.
    Scenario(u64),
    /// A limit-up/limit-down pause.
    Luld,
}

#[derive(Debug, Clone, Copy)]
enum Timer {
    Start(u64),
    End(u64),
    /// The end of symbol `index`'s limit-up/limit-down pause.
    Reopen(usize),
}

struct Crash {
    id: u64,
    target: Option<usize>,
    start: f64,
    fall: f64,
    recovery: f64,
    log_depth: f64,
}

impl Crash {
    /// The log-price offset at `t`: down linearly to `log_depth`, back up linearly.
    fn offset(&self, t: f64) -> f64 {
        let x = t - self.start;
        if x <= 0.0 {
            0.0
        } else if x < self.fall {
            self.log_depth * x / self.fall
        } else if x < self.fall + self.recovery {
            self.log_depth * (1.0 - (x - self.fall) / self.recovery)
        } else {
            0.0
        }
    }
}

struct News {
    id: u64,
    index: usize,
    start: f64,
    boost: f64,
    decay: f64,
}

struct Rotation {
    id: u64,
    from: usize,
    to: usize,
    /// Log drift per second of each side.
    down: f64,
    up: f64,
}

/// The simulated market; see the module docs.
pub struct Simulator {
    model: Box<dyn PriceModel>,
    rng: Xoshiro256PlusPlus,
    listed: Vec<Listed>,
    sectors: Vec<String>,
    calendar: Calendar,
    origin: DateTime<Utc>,
    /// Seconds since `origin`: the market's clock.
    now: f64,
    /// Seconds of trading time (closed hours squeezed out), the model's clock.
    trading_time: f64,
    arrivals: Arrivals,
    /// The next arrival, drawn at the current rate.
    pending: Option<(f64, Cause)>,
    rate: f64,
    phase: Phase,
    /// The next change of phase, in seconds since `origin`.
    transition: Option<(f64, Phase)>,
    /// Intraday activity and the end of the minute it holds for.
    intraday: (f64, f64),
    /// Root mean square over a session of the intraday volatility factor
    /// (activity^¼): dividing by it keeps the daily volatility as configured.
    intraday_norm: f64,
    last_symbol: usize,
    /// Sparse mode (deep backfill): each symbol trades in turn, every this
    /// many seconds of market time at midday activity, instead of at the
    /// Hawkes arrivals, so every bar of history has trades.
    sparse: Option<f64>,
    /// Cumulative trade shares of the symbols (by √ADV), for picking one.
    cumulative: Vec<f64>,
    seq: u64,
    queue: VecDeque<Output>,
    agenda: BTreeMap<(i64, u64), Timer>,
    scenarios: Vec<ScenarioStatus>,
    scenarios_changed: bool,
    /// Timers scheduled so far: orders timers due at the same instant.
    timers: u64,
    crashes: Vec<Crash>,
    news: Vec<News>,
    rotations: Vec<Rotation>,
    regime: (f64, Option<u64>),
    /// The order books, once enabled.
    depth: Option<depth::Depth>,
    /// Seeds the books' randomness.
    book_seed: u64,
    /// Limit-up/limit-down and the short-sale restriction, once enabled.
    rules: Option<rules::Rules>,
}

impl Simulator {
    /// A market over `universe`; see [`SimSettings`].
    ///
    /// # Panics
    /// Panics when `universe` is empty or `rate` is not positive.
    pub fn new(universe: &[SymbolSpec], settings: &SimSettings) -> Self {
        assert!(
            !universe.is_empty(),
            "the simulator needs at least one symbol"
        );
        assert!(settings.rate > 0.0, "the tick rate must be positive");
        let mut sectors: Vec<String> = Vec::new();
        let listed = universe
            .iter()
            .map(|spec| Listed {
                symbol: spec.symbol.clone(),
                sector: spec.sector.as_ref().map(|name| {
                    sectors.iter().position(|s| s == name).unwrap_or_else(|| {
                        sectors.push(name.clone());
                        sectors.len() - 1
                    })
                }),
                steps_per_unit: (1.0 / spec.tick_size).round(),
                half_spread: spec.spread_bps / 2e4,
                adv: spec.adv,
                size_unit: 0.0,
                shift: 0.0,
                halted: None,
            })
            .collect();
        let mut simulator = Self {
            model: settings
                .model
                .build(universe, settings.seed, settings.correlations),
            // A stream apart from the model's, from the same seed.
            rng: Xoshiro256PlusPlus::seed_from_u64(settings.seed ^ 0x7469_636b_7374_7265),
            listed,
            sectors,
            calendar: settings.calendar.clone(),
            origin: settings.start,
            now: 0.0,
            trading_time: 0.0,
            arrivals: Arrivals::stationary(settings.rate),
            pending: None,
            rate: settings.rate,
            // As of just before the start, so a session opening at the
            // start opens with its auction.
            phase: settings
                .calendar
                .phase(settings.start - Duration::microseconds(1)),
            transition: None,
            intraday: (1.0, 0.0),
            intraday_norm: match settings.calendar.kind {
                CalendarKind::AlwaysOpen => 1.0,
                CalendarKind::Nyse => {
                    let minutes = SESSION_SECONDS / 60.0;
                    let mean_square = (0..minutes as u32)
                        .map(|m| {
                            intraday_activity(f64::from(m) + 0.5, minutes - f64::from(m) - 0.5)
                                .sqrt()
                        })
                        .sum::<f64>()
                        / minutes;
                    mean_square.sqrt()
                }
            },
            last_symbol: 0,
            sparse: None,
            cumulative: Vec::new(),
            seq: 0,
            queue: VecDeque::new(),
            agenda: BTreeMap::new(),
            scenarios: Vec::new(),
            scenarios_changed: false,
            timers: 0,
            crashes: Vec::new(),
            news: Vec::new(),
            rotations: Vec::new(),
            regime: (1.0, None),
            depth: None,
            book_seed: settings.seed,
            rules: None,
        };
        simulator.transition =
            simulator.transition_after(settings.start - Duration::microseconds(1));
        simulator.refresh_intraday();
        simulator.size_trades();
        simulator
    }

    /// Shares the trades among symbols by √ADV and sizes them so each
    /// trades its ADV in a day (a session; 24 hours when always open) at the
    /// current rate.
    fn size_trades(&mut self) {
        let weights: Vec<f64> = self.listed.iter().map(|l| l.adv.max(1.0).sqrt()).collect();
        let total: f64 = weights.iter().sum();
        let mut sum = 0.0;
        self.cumulative = weights
            .iter()
            .map(|w| {
                sum += w / total;
                sum
            })
            .collect();
        // A trading day's seconds, weighted by activity (the U shape raises
        // both the rate and the sizes by √activity): volume = rate × this × size.
        let day = match self.calendar.kind {
            CalendarKind::AlwaysOpen => 86_400.0,
            CalendarKind::Nyse => {
                let minutes = SESSION_SECONDS / 60.0;
                let fade = INTRADAY_DECAY * (1.0 - (-minutes / INTRADAY_DECAY).exp());
                SESSION_SECONDS * (1.0 + 2.0 * INTRADAY_PEAK * fade / minutes)
            }
        };
        for (listed, weight) in self.listed.iter_mut().zip(&weights) {
            let rate = self.rate * weight / total;
            listed.size_unit = listed.adv / (rate * day * MEAN_SIZE);
        }
    }

    /// Changes the long-run trade rate (ticks per second at midday).
    ///
    /// # Panics
    /// Panics when `rate` is not positive.
    pub fn set_rate(&mut self, rate: f64) {
        assert!(rate > 0.0, "the tick rate must be positive");
        self.rate = rate;
        self.size_trades();
        self.redraw();
    }

    /// Sparse mode for deep history: each symbol trades in turn once every
    /// `seconds` of market time at midday activity (volumes still as
    /// configured); `None` returns to the Hawkes arrivals at `rate`.
    pub fn set_sparse(&mut self, seconds: Option<f64>, rate: f64) {
        self.sparse = seconds;
        self.set_rate(seconds.map_or(rate, |s| self.listed.len() as f64 / s));
    }

    /// Forgets the drawn arrival: the rate changed.
    fn redraw(&mut self) {
        self.pending = None;
        self.arrivals.decay_to(self.now);
    }

    /// The symbols traded, in universe order.
    pub fn symbols(&self) -> Vec<Symbol> {
        self.listed.iter().map(|l| l.symbol.clone()).collect()
    }

    /// The market's clock: the time of the last output.
    pub fn now(&self) -> DateTime<Utc> {
        self.at(self.now)
    }

    /// Every scenario accepted so far, oldest first.
    pub fn scenarios(&self) -> &[ScenarioStatus] {
        &self.scenarios
    }

    /// Whether a scenario changed state since the last call.
    pub fn take_scenarios_changed(&mut self) -> bool {
        std::mem::take(&mut self.scenarios_changed)
    }

    /// The next trade or event; their times never decrease.
    pub fn next_output(&mut self) -> Output {
        self.next_before(f64::INFINITY)
            .expect("an unbounded simulation always has a next output")
    }

    /// The next trade or event if it happens by `limit`; otherwise the
    /// clock moves to `limit` and there is none (yet).
    pub fn next_until(&mut self, limit: DateTime<Utc>) -> Option<Output> {
        let limit = (limit - self.origin).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
        self.next_before(limit)
    }

    fn next_before(&mut self, limit: f64) -> Option<Output> {
        loop {
            if let Some(out) = self.queue.pop_front() {
                return Some(out);
            }
            let due = self.next_boundary();
            let boundary = due.min(limit);
            let rate = self.rate * self.intensity();
            if self.pending.is_none() && rate > 0.0 {
                self.pending = Some(match self.sparse {
                    Some(_) => (self.now + 1.0 / rate, Cause::Baseline),
                    None => self.arrivals.draw(rate, &mut self.rng),
                });
            }
            match self.pending {
                Some((t, cause)) if t < boundary => {
                    self.pending = None;
                    self.move_to(t);
                    let index = if self.sparse.is_some() {
                        self.last_symbol = (self.last_symbol + 1) % self.listed.len();
                        self.last_symbol
                    } else {
                        self.arrivals.accept(t);
                        self.pick_symbol(cause)
                    };
                    if self.listed[index].halted.is_none() {
                        return Some(Output::Tick(self.trade(index)));
                    }
                }
                _ if due <= limit => {
                    assert!(due.is_finite(), "a closed market always reopens");
                    self.move_to(due);
                    self.cross(due);
                    if self.rate * self.intensity() != rate {
                        self.redraw();
                    }
                }
                _ => {
                    self.move_to(limit);
                    return None;
                }
            }
        }
    }

    /// Arrival rate relative to midday.
    fn intensity(&self) -> f64 {
        match self.phase {
            Phase::Closed => 0.0,
            Phase::PreMarket | Phase::AfterHours => EXTENDED_ACTIVITY,
            Phase::Regular => self.intraday.0.sqrt(),
        }
    }

    fn move_to(&mut self, t: f64) {
        if t > self.now {
            self.trading_time += (t - self.now).min(MAX_PAUSE);
            self.now = t;
        }
    }

    fn pick_symbol(&mut self, cause: Cause) -> usize {
        let draw: u64 = self.rng.random();
        // An excited trade repeats the last symbol half the time: bursts per symbol.
        if cause == Cause::Excited && draw & 1 == 1 {
            return self.last_symbol;
        }
        let u = (draw >> 11) as f64 / (1u64 << 53) as f64;
        let index = self
            .cumulative
            .partition_point(|&c| c <= u)
            .min(self.listed.len() - 1);
        self.last_symbol = index;
        index
    }

    /// The shock a symbol's trade sees now, and how wide its spread is.
    fn conditions(&self, index: usize) -> (Shock, f64) {
        let (phase_volatility, phase_spread) = match self.phase {
            Phase::Regular => (self.intraday.0.sqrt().sqrt() / self.intraday_norm, 1.0),
            _ => (EXTENDED_VOLATILITY, EXTENDED_SPREAD),
        };
        let mut volatility = phase_volatility * self.regime.0;
        for news in self.news.iter().filter(|n| n.index == index) {
            volatility *= 1.0 + news.boost * (-(self.now - news.start) / news.decay).exp();
        }
        let sector = self.listed[index].sector;
        let drift = self.rotations.iter().fold(0.0, |sum, r| {
            if sector == Some(r.from) {
                sum + r.down
            } else if sector == Some(r.to) {
                sum + r.up
            } else {
                sum
            }
        });
        (Shock { volatility, drift }, phase_spread)
    }

    /// The log-price offset of scenarios on a symbol: news shifts and crashes.
    fn offset(&self, index: usize) -> f64 {
        self.listed[index].shift
            + self
                .crashes
                .iter()
                .filter(|c| c.target.is_none_or(|t| t == index))
                .map(|c| c.offset(self.now))
                .sum::<f64>()
    }

    fn trade(&mut self, index: usize) -> Tick {
        let (shock, phase_spread) = self.conditions(index);
        let (log_mid, level) = self.model.advance(index, self.trading_time, shock);
        let offset = self.offset(index);
        let side: bool = self.rng.random();
        let size_draw: f64 = self.rng.random();
        let size_activity = if self.phase == Phase::Regular {
            self.intraday.0.sqrt()
        } else {
            1.0
        };
        let listed = &self.listed[index];
        let pareto = (1.0 - size_draw).max(1e-9).powf(-1.0 / SIZE_TAIL);
        let shares = (pareto * listed.size_unit * size_activity).min(listed.adv * MAX_TRADE_SHARE);
        // Round lots from 100 shares up; odd lots below.
        let volume = if shares >= 100.0 {
            (shares / 100.0).round() as u64 * 100
        } else {
            shares.round().max(1.0) as u64
        };
        // Spreads widen with volatility, in thin hours and in a crash.
        let crash = (offset - listed.shift).abs();
        let widening = (level * shock.volatility).max(1.0) * phase_spread * (1.0 + 20.0 * crash);
        let (mut bid, mut ask) = quote_ticks(listed, log_mid + offset, widening);
        let timestamp = self.at(self.now);
        // Within the symbol's price band, if it has one.
        // Where the model's quote is outside it, the quote is held at its edge.
        let band = self.band(index, timestamp);
        let mut held = false;
        if let Some((lower, upper)) = band {
            let shift = (lower - bid).max(0) - (ask - upper).max(0);
            (bid, ask) = (bid + shift, ask + shift);
            held = shift != 0;
        }
        let listed = &self.listed[index];
        let price = match &mut self.depth {
            None if side => ask,
            None => bid,
            Some(depth) => {
                let touch = Touch {
                    bid,
                    ask,
                    spacing: ((ask - bid) / 4).max(1),
                    // Thinner when spreads are wide: volatile, thin hours, a crash.
                    depth: listed.size_unit * depth::TOUCH_TRADES * size_activity / widening.sqrt(),
                };
                depth.trade(index, listed, touch, side, volume, self.now, timestamp)
            }
        };
        let price = band.map_or(price, |(lower, upper)| price.clamp(lower, upper));
        self.seq += 1;
        let steps = listed.steps_per_unit;
        let tick = Tick {
            symbol: listed.symbol.clone(),
            price: price as f64 / steps,
            volume,
            timestamp,
            bid: Some(bid as f64 / steps),
            ask: Some(ask as f64 / steps),
            seq: Some(self.seq),
            condition: None,
            partition: None,
            offset: None,
        };
        self.after_trade(index, &tick, held);
        tick
    }
}

/// The U shape of a regular session: activity (volume) relative to
/// midday, `since` minutes after the open and `until` before the close.
fn intraday_activity(since: f64, until: f64) -> f64 {
    1.0 + INTRADAY_PEAK * ((-since / INTRADAY_DECAY).exp() + (-until / INTRADAY_DECAY).exp())
}

/// The quote around `log_mid`, in ticks of the symbol's grid: the spread is
/// the symbol's typical one times `spread_widening`, at least a tick each
/// side, the bid at least a tick above zero.
fn quote_ticks(listed: &Listed, log_mid: f64, spread_widening: f64) -> (i64, i64) {
    // The mid on the grid, at least two steps above zero, and finite.
    let mid = (log_mid.exp() * listed.steps_per_unit).round();
    let mid = if mid.is_nan() {
        2.0
    } else {
        mid.clamp(2.0, MAX_MID_TICKS)
    };
    let half_spread = (mid * listed.half_spread * spread_widening)
        .round()
        .clamp(1.0, mid - 1.0);
    ((mid - half_spread) as i64, (mid + half_spread) as i64)
}
