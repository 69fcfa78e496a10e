//! The market simulator. A [`Simulator`] turns a [`PriceModel`] (where
//! prices go), a [`Calendar`] (when the market trades) and injected
//! [`Scenario`]s into ticks and market events; [`produce`] paces it in real
//! time, accelerated or as fast as possible, and [`SimulatorSource`] runs it
//! as a component writing to a sink; [`write_sessions`] writes whole
//! sessions offline.

mod arrivals;
mod book;
mod calendar;
mod control;
mod random_walk;
mod realistic;
mod scenario;
mod session;
mod simulator;
mod source;
mod universe;

use std::{
    fmt,
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

pub use arrivals::{BRANCHING, DECAY};
pub use calendar::{Calendar, CalendarKind, Phase, TradingDay, Transition};
pub use control::{Control, SimHandle, control};
pub use random_walk::RandomWalk;
pub use realistic::{Correlations, Realistic};
pub use scenario::{ScenarioError, ScenarioRequest};
pub use session::{Format, SessionError, SessionPlan, write_sessions};
pub use simulator::{Output, SimSettings, Simulator};
pub use source::{SimulatorSource, SourceSettings};
pub use universe::{SymbolSpec, default_universe};

use crate::model::{EncodedTick, MarketEvent, OrderBook, TopOfBook};

/// Seconds of one trading year (252 sessions of 6.5 hours): the unit of
/// annualised drift and volatility.
const TRADING_SECONDS_PER_YEAR: f64 = 252.0 * 6.5 * 3600.0;

/// What scenarios and the session do to a symbol's next price move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shock {
    /// Volatility multiplier (1: as modelled).
    pub volatility: f64,
    /// Extra log drift per second.
    pub drift: f64,
}

impl Shock {
    /// No change.
    pub const NONE: Shock = Shock {
        volatility: 1.0,
        drift: 0.0,
    };
}

/// Where prices go: a model of each symbol's log mid price over trading time.
pub trait PriceModel: Send {
    /// Moves symbol `index`'s log mid price to trading time `t` (seconds,
    /// never decreasing per symbol) under `shock`; returns the log mid and
    /// the market's volatility level (1: normal).
    fn advance(&mut self, index: usize, t: f64, shock: Shock) -> (f64, f64);
}

/// Which market model the simulator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// [`Realistic`]: fat tails, volatility clustering, correlated sectors.
    #[default]
    Realistic,
    /// [`RandomWalk`]: independent geometric Brownian motions.
    RandomWalk,
}

impl Model {
    /// The price model for `universe`, seeded.
    pub fn build(
        self,
        universe: &[SymbolSpec],
        seed: u64,
        correlations: Correlations,
    ) -> Box<dyn PriceModel> {
        match self {
            Model::Realistic => Box::new(Realistic::new(universe, seed, correlations)),
            Model::RandomWalk => Box::new(RandomWalk::new(universe, seed)),
        }
    }
}

/// How fast the simulator produces ticks, summed over all symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// This many ticks per second, in real time.
    PerSecond(u64),
    /// As fast as the machine allows.
    Max,
}

/// The text is not a [`Rate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rate {0:?}: expected ticks per second (1 to 100000000) or \"max\"")]
pub struct RateError(pub String);

impl FromStr for Rate {
    type Err = RateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Rate::Max);
        }
        match s.replace('_', "").parse::<u64>() {
            Ok(n) if (1..=100_000_000).contains(&n) => Ok(Rate::PerSecond(n)),
            _ => Err(RateError(s.chars().take(32).collect())),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::PerSecond(n) => write!(f, "{n}"),
            Rate::Max => f.write_str("max"),
        }
    }
}

/// Written as the config file takes it: a number, or `"max"`.
impl serde::Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Rate::PerSecond(n) => serializer.serialize_u64(*n),
            Rate::Max => serializer.serialize_str("max"),
        }
    }
}

impl Rate {
    /// Ticks per second of market time this rate stands for; `Max` counts
    /// as 10 000/s so prices move at a plausible pace.
    pub fn nominal_per_second(self) -> f64 {
        match self {
            Rate::PerSecond(n) => n as f64,
            Rate::Max => 10_000.0,
        }
    }
}

/// How fast market time runs against the wall clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// This many market seconds per wall second: 1 is real time.
    Times(f64),
    /// As fast as the machine allows.
    Max,
}

/// The text is not a [`Speed`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid speed {0:?}: expected a factor from 0.01 to 100000 (e.g. 1, 10, 100x) or \"max\"")]
pub struct SpeedError(pub String);

impl FromStr for Speed {
    type Err = SpeedError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        let number = text
            .strip_suffix(['x', 'X'])
            .or_else(|| text.strip_prefix(['x', 'X', '×']))
            .unwrap_or(text);
        match number.parse::<f64>() {
            Ok(x) if (0.01..=100_000.0).contains(&x) => Ok(Speed::Times(x)),
            _ => Err(SpeedError(s.chars().take(32).collect())),
        }
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Speed::Times(x) => write!(f, "{x}x"),
            Speed::Max => f.write_str("max"),
        }
    }
}

/// Written as the config file takes it: a factor, or `"max"`.
impl serde::Serialize for Speed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Speed::Times(x) => serializer.serialize_f64(*x),
            Speed::Max => serializer.serialize_str("max"),
        }
    }
}

/// How fast the live simulator runs: its rate and speed, which a reload
/// changes while it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Ticks per second over all symbols.
    pub rate: Rate,
    /// Market time per wall-clock time.
    pub speed: Speed,
}

impl Pacing {
    /// Market time per wall-clock time: `rate = "max"` is the same as
    /// `speed = "max"` at 10 000 ticks/s of market time.
    pub fn speed(self) -> Speed {
        match self.rate {
            Rate::Max => Speed::Max,
            Rate::PerSecond(_) => self.speed,
        }
    }

    /// The sleep between batches once caught up: about one tick per pause
    /// at low rates, never busier than `MIN_PERIOD`; none at `max`.
    fn pause(self) -> Duration {
        match self.speed() {
            Speed::Times(x) => Duration::from_secs_f64(1.0 / (self.rate.nominal_per_second() * x))
                .clamp(MIN_PERIOD, MAX_SLEEP),
            Speed::Max => Duration::ZERO,
        }
    }
}

/// Largest batch published at once; bounds latency when catching up.
const MAX_BATCH: usize = 4_096;
/// Shortest pause between batches when paced: ticks due within it are
/// published together, so readers wake at most ~1000 times a second.
const MIN_PERIOD: Duration = Duration::from_millis(1);
/// Longest sleep, so scenarios and cancellation are seen quickly.
const MAX_SLEEP: Duration = Duration::from_millis(50);
/// A paced simulator whose clock is behind the wall clock by at most this
/// much (the time the engine took to start after the history it made up to
/// now) first catches up, so ticks carry the time they are published at;
/// one further behind started in the past on purpose and keeps its clock.
const CATCH_UP: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// One batch of a simulator's output, as [`produce`] hands it over.
#[derive(Default)]
pub struct Produced {
    /// Trades.
    pub ticks: Vec<Arc<EncodedTick>>,
    /// Session changes and scenarios.
    pub events: Vec<MarketEvent>,
    /// Order-book records (with [`Simulator::enable_book`]).
    pub book: Vec<Arc<OrderBook>>,
    /// Top-of-book quotes (with [`Simulator::enable_book`]).
    pub quotes: Vec<Arc<TopOfBook>>,
}

/// Runs `simulator` as `pacing` says until `token` is cancelled, applying
/// the scenarios and pacing changes `control` receives and handing each
/// batch to `publish`, which drains it (and may block: backpressure).
/// Stops early when `publish` returns false. Blocking: run it on its own
/// thread.
pub fn produce(
    simulator: &mut Simulator,
    mut pacing: Pacing,
    control: &Control,
    token: &CancellationToken,
    mut publish: impl FnMut(&mut Produced) -> bool,
) {
    let behind = chrono::Utc::now() - simulator.now();
    let catch_up = if behind > chrono::TimeDelta::zero() && behind <= CATCH_UP {
        behind
    } else {
        chrono::TimeDelta::zero()
    };
    // Market time `origin` was due at wall-clock time `started`.
    let (mut started, mut origin) = (Instant::now(), simulator.now() + catch_up);
    let mut batch = Produced {
        ticks: Vec::with_capacity(MAX_BATCH),
        ..Produced::default()
    };
    let (mut book, mut quotes) = (Vec::new(), Vec::new());
    while !token.is_cancelled() {
        control.apply(simulator);
        if let Some(next) = control.take_pacing() {
            simulator.set_rate(next.rate.nominal_per_second());
            // The new speed counts from here, where the market is now.
            (started, origin) = (Instant::now(), simulator.now().max(origin));
            pacing = next;
        }
        let horizon = match pacing.speed() {
            Speed::Max => None,
            Speed::Times(x) => Some(
                origin
                    + chrono::Duration::microseconds(
                        (started.elapsed().as_secs_f64() * x * 1e6) as i64,
                    ),
            ),
        };
        while batch.ticks.len() < MAX_BATCH {
            let output = match horizon {
                None => simulator.next_output(),
                Some(limit) => match simulator.next_until(limit) {
                    Some(output) => output,
                    None => break,
                },
            };
            match output {
                Output::Tick(tick) => batch.ticks.push(Arc::new(EncodedTick::new(tick))),
                Output::Event(event) => batch.events.push(event),
            }
        }
        simulator.take_book(&mut book, &mut quotes);
        batch.book.extend(book.drain(..).map(Arc::new));
        batch.quotes.extend(quotes.drain(..).map(Arc::new));
        // Scenario states are shared before their events are published.
        control.apply(simulator);
        let caught_up = batch.ticks.len() < MAX_BATCH;
        let idle = batch.ticks.is_empty() && batch.events.is_empty();
        if !idle && !publish(&mut batch) {
            return;
        }
        let pause = pacing.pause();
        if caught_up && !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// A slice of the universe: replica `index` of `count` producers simulates
/// every `count`-th symbol starting at `index`, so replicas never overlap
/// and together cover every symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This replica, from 0.
    pub index: u32,
    /// Number of replicas.
    pub count: u32,
}

impl Shard {
    /// The whole universe.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// The symbols of this shard, in universe order.
    pub fn select(&self, universe: &[SymbolSpec]) -> Vec<SymbolSpec> {
        universe
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as u32 % self.count == self.index)
            .map(|(_, spec)| spec.clone())
            .collect()
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = s.split_once('/').and_then(|(i, n)| {
            Some((i.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?))
        });
        match parsed {
            Some((index, count)) if count > 0 && index < count => Ok(Shard { index, count }),
            _ => Err(format!(
                "invalid shard {s:?}: expected INDEX/COUNT with INDEX < COUNT, e.g. 0/2"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        assert_eq!("1000".parse::<Rate>(), Ok(Rate::PerSecond(1000)));
        assert_eq!("1_000_000".parse::<Rate>(), Ok(Rate::PerSecond(1_000_000)));
        assert_eq!("MAX".parse::<Rate>(), Ok(Rate::Max));
        assert!("0".parse::<Rate>().is_err());
        assert!(
            "fast"
                .parse::<Rate>()
                .unwrap_err()
                .to_string()
                .contains("max")
        );
    }

    #[test]
    fn shards_split_the_universe_without_overlap_or_hole() {
        let universe = default_universe();
        let a = "0/3".parse::<Shard>().unwrap().select(&universe);
        let b = "1/3".parse::<Shard>().unwrap().select(&universe);
        let c = "2/3".parse::<Shard>().unwrap().select(&universe);
        assert_eq!(a.len() + b.len() + c.len(), universe.len());
        let mut all: Vec<_> = a
            .iter()
            .chain(&b)
            .chain(&c)
            .map(|s| s.symbol.clone())
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), universe.len());
        assert!(
            "2/2".parse::<Shard>().is_err()
                && "1/0".parse::<Shard>().is_err()
                && "x".parse::<Shard>().is_err()
        );
    }

    #[test]
    fn parses_speeds() {
        assert_eq!("10".parse::<Speed>(), Ok(Speed::Times(10.0)));
        assert_eq!("100x".parse::<Speed>(), Ok(Speed::Times(100.0)));
        assert_eq!("Max".parse::<Speed>(), Ok(Speed::Max));
        assert!(
            "0".parse::<Speed>()
                .unwrap_err()
                .to_string()
                .contains("max")
        );
        assert!("fast".parse::<Speed>().is_err());
    }

    fn paced(speed: Speed, rate: f64) -> (usize, chrono::TimeDelta) {
        let settings = SimSettings {
            seed: 1,
            rate,
            model: Model::Realistic,
            correlations: Correlations::default(),
            calendar: Calendar::always_open(),
            start: chrono::Utc::now(),
        };
        let mut simulator = Simulator::new(&default_universe(), &settings);
        let token = CancellationToken::new();
        let stopper = {
            let token = token.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                token.cancel();
            })
        };
        let (_handle, control) = control();
        let (mut total, mut last) = (0, settings.start);
        let pacing = Pacing {
            rate: Rate::PerSecond(rate as u64),
            speed,
        };
        produce(&mut simulator, pacing, &control, &token, |batch| {
            total += batch.ticks.len();
            last = batch.ticks.last().map_or(last, |t| t.tick().timestamp);
            batch.ticks.clear();
            true
        });
        stopper.join().unwrap();
        (total, last - settings.start)
    }

    #[test]
    fn paces_to_the_configured_rate_and_speed() {
        // 0.5 s at 2000/s: about 1000 ticks (clustered arrivals: not exactly).
        let (total, span) = paced(Speed::Times(1.0), 2_000.0);
        assert!(
            (400..=1_800).contains(&total),
            "{total} ticks in 0.5 s at 2000/s"
        );
        assert!(span <= chrono::TimeDelta::milliseconds(520), "{span}");
        // Ten times faster: ten times the market time in the same 0.5 s.
        let (total, span) = paced(Speed::Times(10.0), 200.0);
        assert!((400..=1_800).contains(&total), "{total} ticks");
        assert!(span >= chrono::TimeDelta::milliseconds(4_000), "{span}");
    }
}
