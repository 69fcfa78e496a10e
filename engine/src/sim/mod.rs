//! The market simulator: a source of ticks behind the small [`Market`]
//! interface, [`produce`], which paces a market into the log, and
//! [`write_sessions`], which writes whole trading sessions offline.

mod random_walk;
mod realistic;
mod session;
mod universe;

use std::{
    fmt,
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

pub use random_walk::RandomWalk;
pub use realistic::{MARKET_CORRELATION, Realistic, SECTOR_CORRELATION};
pub use session::{Format, SessionError, SessionPlan, trading_days, write_sessions};
pub use universe::{SymbolSpec, default_universe};

use crate::model::{EncodedTick, Symbol, Tick};

/// A simulated market: the next trade, given the time it happens.
pub trait Market: Send {
    /// Produces the next tick, stamped `timestamp`.
    fn next_tick(&mut self, timestamp: DateTime<Utc>) -> Tick;
    /// The symbols this market trades.
    fn symbols(&self) -> Vec<Symbol>;
}

impl<M: Market + ?Sized> Market for Box<M> {
    fn next_tick(&mut self, timestamp: DateTime<Utc>) -> Tick {
        (**self).next_tick(timestamp)
    }
    fn symbols(&self) -> Vec<Symbol> {
        (**self).symbols()
    }
}

/// Prints a trade at the bid or ask around `log_mid`, all on the tick grid
/// (`steps_per_unit` steps per currency unit). The spread is about 1 bp,
/// at least one step each side, times `spread_widening`; `bits` pick the
/// side (bit 0) and, one time in sixteen, an odd lot instead of `lots`
/// round lots.
#[allow(clippy::too_many_arguments)] // the parts of one trade, named
fn print_trade(
    symbol: &Symbol,
    log_mid: f64,
    steps_per_unit: f64,
    spread_widening: f64,
    lots: u64,
    bits: u32,
    timestamp: DateTime<Utc>,
    seq: u64,
) -> Tick {
    let steps = steps_per_unit;
    // The mid on the grid, at least one step above zero.
    let mid = (log_mid.exp() * steps).round().max(2.0);
    let half_spread = (mid * 0.000_05 * spread_widening).round().max(1.0);
    let (bid, ask) = (mid - half_spread, mid + half_spread);
    let price = if bits & 1 == 0 { bid } else { ask };
    let volume = if (bits >> 8).is_multiple_of(16) {
        u64::from((bits >> 12) % 99 + 1)
    } else {
        lots * 100
    };
    Tick {
        symbol: symbol.clone(),
        price: price / steps,
        volume,
        timestamp,
        bid: Some(bid / steps),
        ask: Some(ask / steps),
        seq: Some(seq),
        partition: None,
        offset: None,
    }
}

/// Which market model the simulator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// [`Realistic`]: fat tails, volatility clustering, correlated sectors.
    #[default]
    Realistic,
    /// [`RandomWalk`]: independent geometric Brownian motions.
    RandomWalk,
}

impl Model {
    /// The market for `universe`, seeded; `seconds_per_symbol_tick` is the
    /// random walk's fixed time step (the realistic model reads time from
    /// the ticks' timestamps).
    pub fn build(
        self,
        universe: &[SymbolSpec],
        seed: u64,
        seconds_per_symbol_tick: f64,
    ) -> Box<dyn Market> {
        match self {
            Model::Realistic => Box::new(Realistic::new(universe, seed)),
            Model::RandomWalk => Box::new(RandomWalk::new(universe, seed, seconds_per_symbol_tick)),
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

impl Rate {
    /// Ticks per second this rate stands for in market time; `Max` counts
    /// as 10 000/s so prices move at a plausible pace.
    pub fn nominal_per_second(self) -> f64 {
        match self {
            Rate::PerSecond(n) => n as f64,
            Rate::Max => 10_000.0,
        }
    }
}

/// Largest batch appended at once; bounds latency when catching up.
const MAX_BATCH: u64 = 4_096;
/// Shortest pause between batches in real-time mode: ticks due within it are
/// published together, so readers wake at most ~1000 times a second.
const MIN_PERIOD: Duration = Duration::from_millis(1);
/// Longest sleep, so cancellation is seen quickly at low rates.
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// Runs `market` at `rate` until `token` is cancelled, handing each batch
/// of ticks to `publish`, which drains it (and may block: backpressure).
/// Stops early when `publish` returns false. Blocking: run it on its own thread.
pub fn produce(
    mut market: impl Market,
    rate: Rate,
    token: &CancellationToken,
    mut publish: impl FnMut(&mut Vec<Arc<EncodedTick>>) -> bool,
) {
    let start = Instant::now();
    let mut sent: u64 = 0;
    let mut batch = Vec::with_capacity(MAX_BATCH as usize);
    while !token.is_cancelled() {
        let due = match rate {
            Rate::Max => sent + MAX_BATCH,
            Rate::PerSecond(r) => (start.elapsed().as_secs_f64() * r as f64) as u64,
        };
        if due <= sent {
            if let Rate::PerSecond(r) = rate {
                let next_due = start + Duration::from_secs_f64((sent + 1) as f64 / r as f64);
                let wake = next_due.max(Instant::now() + MIN_PERIOD);
                std::thread::sleep(
                    wake.saturating_duration_since(Instant::now())
                        .min(MAX_SLEEP),
                );
            }
            continue;
        }
        let n = (due - sent).min(MAX_BATCH);
        let now = Utc::now();
        batch.extend((0..n).map(|_| Arc::new(EncodedTick::new(market.next_tick(now)))));
        if !publish(&mut batch) {
            return;
        }
        sent += n;
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
    use crate::log::{Retention, Topic};

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
    fn paces_to_the_configured_rate() {
        let topic = Topic::new(
            "t",
            4,
            Retention {
                max_records: 1 << 20,
                max_bytes: usize::MAX,
            },
            &[],
        );
        let token = CancellationToken::new();
        let stopper = {
            let token = token.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(500));
                token.cancel();
            })
        };
        let mut total = 0;
        produce(
            RandomWalk::new(&default_universe(), 1, 0.02),
            Rate::PerSecond(2_000),
            &token,
            |batch| {
                total += batch.len() as u64;
                topic.append_batch(batch.drain(..));
                true
            },
        );
        stopper.join().unwrap();
        let logged: u64 = (0..4).map(|p| topic.latest(p)).sum();
        assert_eq!(logged, total);
        // 0.5 s at 2000/s: about 1000, never far more (pacing), and not starved.
        assert!(
            (500..=1_100).contains(&total),
            "{total} ticks in 0.5 s at 2000/s"
        );
    }
}
