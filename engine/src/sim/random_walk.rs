//! `RandomWalk`: geometric Brownian motion per symbol, with a quoted spread
//! and round-lot trade sizes. Deterministic for a seed.

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Market, SymbolSpec, print_trade};
use crate::model::{Symbol, Tick};

/// Seconds in a trading year (252 days of 6.5 hours), the unit of the
/// annualised drift and volatility.
const TRADING_SECONDS_PER_YEAR: f64 = 252.0 * 6.5 * 3600.0;

struct SymbolState {
    symbol: Symbol,
    /// Price grid steps per currency unit (100 for a 0.01 tick).
    steps_per_unit: f64,
    /// Log of the mid price.
    log_mid: f64,
    /// Drift term of one step: (μ − σ²/2)·dt.
    step_drift: f64,
    /// Volatility of one step: σ·√dt.
    step_vol: f64,
}

/// Geometric random walk of every symbol in a universe.
///
/// Each tick picks a symbol uniformly, moves its log mid price by one normal
/// step scaled so each symbol sees `seconds_per_symbol_tick` of market time
/// per tick, and prints a trade at the bid or ask around it.
pub struct RandomWalk {
    rng: Xoshiro256PlusPlus,
    symbols: Vec<SymbolState>,
    seq: u64,
}

impl RandomWalk {
    /// A walk over `universe`, seeded with `seed`. `seconds_per_symbol_tick`
    /// is the market time one tick of a symbol stands for (the number of
    /// symbols divided by the aggregate tick rate in real time).
    ///
    /// # Panics
    /// Panics when `universe` is empty.
    pub fn new(universe: &[SymbolSpec], seed: u64, seconds_per_symbol_tick: f64) -> Self {
        assert!(
            !universe.is_empty(),
            "the simulator needs at least one symbol"
        );
        let dt = seconds_per_symbol_tick / TRADING_SECONDS_PER_YEAR;
        let symbols = universe
            .iter()
            .map(|spec| SymbolState {
                symbol: spec.symbol.clone(),
                steps_per_unit: (1.0 / spec.tick_size).round(),
                log_mid: spec.price.ln(),
                step_drift: (spec.drift - spec.volatility * spec.volatility / 2.0) * dt,
                step_vol: spec.volatility * dt.sqrt(),
            })
            .collect();
        Self {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            symbols,
            seq: 0,
        }
    }
}

impl Market for RandomWalk {
    fn next_tick(&mut self, timestamp: DateTime<Utc>) -> Tick {
        let index = self.rng.random_range(0..self.symbols.len());
        let z: f64 = StandardNormal.sample(&mut self.rng);
        let side_and_size: u32 = self.rng.random();
        let s = &mut self.symbols[index];
        s.log_mid += s.step_drift + s.step_vol * z;
        // Mostly round lots of 100 to 1000 shares, sometimes an odd lot.
        let lots = u64::from((side_and_size >> 1) % 10 + 1);
        self.seq += 1;
        print_trade(
            &s.symbol,
            s.log_mid,
            s.steps_per_unit,
            1.0,
            lots,
            side_and_size,
            timestamp,
            self.seq,
        )
    }

    fn symbols(&self) -> Vec<Symbol> {
        self.symbols.iter().map(|s| s.symbol.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::default_universe;

    fn run(seed: u64, n: usize) -> Vec<Tick> {
        let mut walk = RandomWalk::new(&default_universe(), seed, 0.02);
        let ts = DateTime::UNIX_EPOCH;
        (0..n).map(|_| walk.next_tick(ts)).collect()
    }

    #[test]
    fn same_seed_same_ticks() {
        assert_eq!(run(7, 5_000), run(7, 5_000));
        assert_ne!(run(7, 100), run(8, 100));
    }

    #[test]
    fn prices_sit_on_the_tick_grid_inside_the_quote() {
        for t in run(1, 20_000) {
            let (bid, ask) = (t.bid.unwrap(), t.ask.unwrap());
            assert!(bid < ask && (t.price == bid || t.price == ask), "{t:?}");
            for p in [t.price, bid, ask] {
                let cents = p * 100.0;
                assert!(
                    (cents - cents.round()).abs() < 1e-6,
                    "{p} off the 0.01 grid"
                );
                // Shortest decimal form has at most two decimals.
                let text = p.to_string();
                assert!(
                    text.split('.').nth(1).is_none_or(|d| d.len() <= 2),
                    "{text}"
                );
            }
            assert!(t.volume > 0);
        }
    }

    #[test]
    fn sequence_numbers_increase() {
        let ticks = run(3, 100);
        assert!(
            ticks
                .windows(2)
                .all(|w| w[1].seq.unwrap() == w[0].seq.unwrap() + 1)
        );
    }

    #[test]
    fn every_symbol_trades() {
        let ticks = run(5, 5_000);
        for spec in default_universe() {
            assert!(
                ticks.iter().any(|t| t.symbol == spec.symbol),
                "{}",
                spec.symbol
            );
        }
    }
}
