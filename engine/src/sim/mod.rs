//! The market simulator: a source of ticks behind the small [`Market`]
//! interface, and [`produce`], which paces a market into the log.

mod random_walk;
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
pub use universe::{SymbolSpec, default_universe};

use crate::{
    log::Topic,
    model::{EncodedTick, Symbol, Tick},
};

/// A simulated market: the next trade, given the time it happens.
pub trait Market: Send {
    /// Produces the next tick, stamped `timestamp`.
    fn next_tick(&mut self, timestamp: DateTime<Utc>) -> Tick;
    /// The symbols this market trades.
    fn symbols(&self) -> Vec<Symbol>;
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

/// Runs `market` into `topic` at `rate` until `token` is cancelled, calling
/// `on_batch(n)` after each batch. Blocking: run it on its own thread.
pub fn produce(
    mut market: impl Market,
    topic: &Topic<Arc<EncodedTick>>,
    rate: Rate,
    token: &CancellationToken,
    mut on_batch: impl FnMut(u64),
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
        topic.append_batch(batch.drain(..));
        sent += n;
        on_batch(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Retention;

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
            &topic,
            Rate::PerSecond(2_000),
            &token,
            |n| total += n,
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
