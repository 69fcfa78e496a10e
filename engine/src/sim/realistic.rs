//! `Realistic`: a market whose returns show the stylized facts of real
//! equities: fat tails, volatility clustering with a leverage effect, and
//! correlation through market and sector factors.
//!
//! The model, in market time (seconds, from the timestamps it is given):
//! - a market factor `M` and one factor `S_k` per sector are Brownian
//!   motions, advanced lazily (exactly) whenever a tick needs them;
//! - a symbol's log return between two of its ticks is
//!   `v · σ · (b·ΔM + c·ΔS_k + e·√Δt·u)` with `b² + c² + e² = 1`, the
//!   loadings set so that daily returns correlate [`MARKET_CORRELATION`]
//!   across sectors and that plus [`SECTOR_CORRELATION`] within one;
//! - `v`, the market's volatility level, follows an EGARCH on the market
//!   factor's one-minute returns: persistent (clustering), raised by large
//!   moves and more by falls (leverage);
//! - jumps arrive as a Poisson process per symbol with power-law sizes;
//! - activity follows the U shape of a New York session: trade sizes (and,
//!   more gently, volatility) are highest at the open and the close.
//!
//! Prices sit on the symbol's tick grid; trades print at the bid or ask.

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Market, SymbolSpec, print_trade};
use crate::model::{Symbol, Tick};

/// Seconds of one trading year (252 sessions of 6.5 hours).
const TRADING_SECONDS_PER_YEAR: f64 = 252.0 * 6.5 * 3600.0;
/// Correlation of two symbols' daily returns across sectors.
pub const MARKET_CORRELATION: f64 = 0.25;
/// Extra correlation within a sector (same-sector pairs: the sum).
pub const SECTOR_CORRELATION: f64 = 0.2025;
/// EGARCH on one-minute market returns `x`:
/// `ln v²' = PERSISTENCE·ln v² + SIZE·(|x| − E|x|) + LEVERAGE·x`.
const PERSISTENCE: f64 = 0.985;
const SIZE: f64 = 0.15;
const LEVERAGE: f64 = -0.08;
/// `E|x|` for a standard normal.
const MEAN_ABS_NORMAL: f64 = 0.797_884_560_802_865_4;
/// Jumps per symbol per trading day.
const JUMPS_PER_DAY: f64 = 6.0;
/// Tail index of jump sizes (Pareto).
const JUMP_TAIL: f64 = 3.0;
/// Tail index of trade sizes in round lots (Pareto): most trades are a
/// lot or two, a few are blocks of hundreds.
const LOT_TAIL: f64 = 1.6;
/// Largest trade, in round lots.
const MAX_LOTS: u64 = 5_000;
/// Activity at the open and close above midday's (volume ~3× midday).
const INTRADAY_PEAK: f64 = 2.0;
/// How fast opening and closing activity fades (minutes).
const INTRADAY_DECAY: f64 = 15.0;
/// Longest stretch of market time a pause between ticks counts as (seconds).
const MAX_PAUSE: f64 = 60.0;
/// Smallest jump, in one-minute standard deviations.
const JUMP_SCALE_MINUTES: f64 = 2.0;
/// Daily variance jumps add, relative to the diffusion's: jumps are
/// idiosyncratic, so factor loadings are raised by this much to keep the
/// correlations above. `E[P²] = α / (α − 2)` for Pareto sizes.
const JUMP_VARIANCE_RATIO: f64 =
    JUMPS_PER_DAY * JUMP_SCALE_MINUTES * JUMP_SCALE_MINUTES * (JUMP_TAIL / (JUMP_TAIL - 2.0))
        / 390.0;

struct Factor {
    value: f64,
    at: f64,
}

impl Factor {
    /// Advances the Brownian motion to time `t` (seconds).
    fn advance(&mut self, t: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
        if t > self.at {
            let z: f64 = StandardNormal.sample(rng);
            self.value += (t - self.at).sqrt() * z;
            self.at = t;
        }
        self.value
    }
}

struct SymbolState {
    symbol: Symbol,
    sector: Option<usize>,
    steps_per_unit: f64,
    log_mid: f64,
    /// Volatility per √second.
    sigma: f64,
    /// Drift per second (log).
    drift: f64,
    /// Factor values and time at this symbol's last tick.
    last_market: f64,
    last_sector: f64,
    last_t: Option<f64>,
}

/// The realistic market; see the module docs.
pub struct Realistic {
    rng: Xoshiro256PlusPlus,
    symbols: Vec<SymbolState>,
    market: Factor,
    sectors: Vec<Factor>,
    /// ln v² of the current minute.
    log_var: f64,
    /// The minute `log_var` belongs to, and the market factor at its start.
    minute: i64,
    minute_market: f64,
    /// Market time in seconds: wall time with closed hours squeezed out.
    clock: f64,
    /// Intraday activity of the current wall-clock minute (1 at midday).
    intraday: f64,
    /// The wall-clock minute `intraday` belongs to.
    wall_minute: i64,
    last_wall: Option<f64>,
    seq: u64,
}

impl Realistic {
    /// A market over `universe`, seeded with `seed`.
    ///
    /// # Panics
    /// Panics when `universe` is empty.
    pub fn new(universe: &[SymbolSpec], seed: u64) -> Self {
        assert!(
            !universe.is_empty(),
            "the simulator needs at least one symbol"
        );
        let mut sector_names: Vec<&str> = Vec::new();
        let symbols = universe
            .iter()
            .map(|spec| {
                let sector = spec.sector.as_deref().map(|name| {
                    sector_names
                        .iter()
                        .position(|n| *n == name)
                        .unwrap_or_else(|| {
                            sector_names.push(name);
                            sector_names.len() - 1
                        })
                });
                let sigma = spec.volatility / TRADING_SECONDS_PER_YEAR.sqrt();
                SymbolState {
                    symbol: spec.symbol.clone(),
                    sector,
                    steps_per_unit: (1.0 / spec.tick_size).round(),
                    log_mid: spec.price.ln(),
                    sigma,
                    drift: (spec.drift / TRADING_SECONDS_PER_YEAR) - sigma * sigma / 2.0,
                    last_market: 0.0,
                    last_sector: 0.0,
                    last_t: None,
                }
            })
            .collect();
        let sectors = sector_names
            .iter()
            .map(|_| Factor {
                value: 0.0,
                at: 0.0,
            })
            .collect();
        Self {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            symbols,
            market: Factor {
                value: 0.0,
                at: 0.0,
            },
            sectors,
            log_var: 0.0,
            minute: i64::MIN,
            minute_market: 0.0,
            clock: 0.0,
            intraday: 1.0,
            wall_minute: i64::MIN,
            last_wall: None,
            seq: 0,
        }
    }

    /// Rolls the volatility level forward to the minute holding `t`.
    fn update_volatility(&mut self, t: f64) {
        let minute = (t / 60.0).floor() as i64;
        if self.minute == i64::MIN {
            self.minute = minute;
            self.minute_market = self.market.advance(minute as f64 * 60.0, &mut self.rng);
            return;
        }
        // One EGARCH step per minute passed (sessions apart: a few steps, capped).
        let steps = (minute - self.minute).clamp(0, 240);
        for step in 1..=steps {
            let end = (self.minute + step) as f64 * 60.0;
            let value = self.market.advance(end, &mut self.rng);
            let x = (value - self.minute_market) / 60f64.sqrt();
            self.minute_market = value;
            self.log_var =
                PERSISTENCE * self.log_var + SIZE * (x.abs() - MEAN_ABS_NORMAL) + LEVERAGE * x;
        }
        if steps > 0 {
            self.minute = minute;
        }
    }
}

/// The U shape of a regular New York session: activity (volume) relative
/// to midday, high at the open and the close, 1 outside the session.
fn intraday_activity(at: DateTime<Utc>) -> f64 {
    use chrono::Timelike;
    let local = at.with_timezone(&chrono_tz::America::New_York);
    let minutes = f64::from(local.hour() * 60 + local.minute()) - 570.0;
    if !(0.0..390.0).contains(&minutes) {
        return 1.0;
    }
    1.0 + INTRADAY_PEAK
        * ((-minutes / INTRADAY_DECAY).exp() + (-(390.0 - minutes) / INTRADAY_DECAY).exp())
}

impl Market for Realistic {
    fn next_tick(&mut self, timestamp: DateTime<Utc>) -> Tick {
        // Market time advances with the wall clock, but a pause (a night, a
        // weekend) counts as at most MAX_PAUSE: markets do not drift while closed.
        let wall = timestamp.timestamp_micros() as f64 / 1e6;
        let gap = self
            .last_wall
            .map_or(0.0, |last| (wall - last).clamp(0.0, MAX_PAUSE));
        self.last_wall = Some(wall);
        self.clock += gap;
        let t = self.clock;
        self.update_volatility(t);
        let wall_minute = timestamp.timestamp().div_euclid(60);
        if wall_minute != self.wall_minute {
            self.wall_minute = wall_minute;
            self.intraday = intraday_activity(timestamp);
        }
        let index = self.rng.random_range(0..self.symbols.len());
        let market = self.market.advance(t, &mut self.rng);
        let sector = self.symbols[index]
            .sector
            .map(|k| self.sectors[k].advance(t, &mut self.rng));
        let u: f64 = StandardNormal.sample(&mut self.rng);
        let jump_draw: f64 = self.rng.random();
        let jump_size: f64 = self.rng.random();
        let side_and_size: u32 = self.rng.random();
        let size_draw: f64 = self.rng.random();
        // Volatility follows the intraday activity more gently than volume.
        let level = (self.log_var / 2.0).exp() * self.intraday.sqrt().sqrt();

        let s = &mut self.symbols[index];
        if let Some(last) = s.last_t {
            let dt = (t - last).max(0.0);
            let b2 = MARKET_CORRELATION * (1.0 + JUMP_VARIANCE_RATIO);
            let c2 = match sector {
                Some(_) => SECTOR_CORRELATION * (1.0 + JUMP_VARIANCE_RATIO),
                None => 0.0,
            };
            let (b, c, e) = (b2.sqrt(), c2.sqrt(), (1.0 - b2 - c2).sqrt());
            let shock = b * (market - s.last_market)
                + c * (sector.unwrap_or(0.0) - s.last_sector)
                + e * dt.sqrt() * u;
            let mut r = s.drift * dt + level * s.sigma * shock;
            // Poisson jumps with Pareto-distributed sizes.
            if jump_draw < JUMPS_PER_DAY * dt / (6.5 * 3600.0) {
                let size = JUMP_SCALE_MINUTES
                    * level
                    * s.sigma
                    * 60f64.sqrt()
                    * (1.0 - jump_size).powf(-1.0 / JUMP_TAIL);
                r += if side_and_size & 2 == 0 { size } else { -size };
            }
            s.log_mid += r;
        }
        s.last_t = Some(t);
        s.last_market = market;
        s.last_sector = sector.unwrap_or(0.0);

        // Round lots with a power-law tail (block trades), scaled by activity.
        let pareto = (1.0 - size_draw).max(1e-9).powf(-1.0 / LOT_TAIL);
        let lots = ((pareto * self.intraday).round() as u64).clamp(1, MAX_LOTS);
        self.seq += 1;
        // Spreads widen with volatility.
        print_trade(
            &s.symbol,
            s.log_mid,
            s.steps_per_unit,
            level.max(1.0),
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

    fn run(seed: u64, n: i64) -> Vec<Tick> {
        let mut market = Realistic::new(&default_universe(), seed);
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        (0..n)
            .map(|k| market.next_tick(start + chrono::Duration::milliseconds(50 * k)))
            .collect()
    }

    #[test]
    fn same_seed_same_ticks() {
        assert_eq!(run(3, 5_000), run(3, 5_000));
        assert_ne!(run(3, 200), run(4, 200));
    }

    #[test]
    fn trade_sizes_are_round_lots_with_a_heavy_tail() {
        let ticks = run(2, 50_000);
        let lots: Vec<u64> = ticks
            .iter()
            .filter(|t| t.volume % 100 == 0)
            .map(|t| t.volume / 100)
            .collect();
        assert!(lots.len() > 40_000, "most trades are round lots");
        let median = {
            let mut sorted = lots.clone();
            sorted.sort_unstable();
            sorted[sorted.len() / 2]
        };
        let blocks = lots.iter().filter(|&&l| l >= 20 * median).count();
        assert!(median <= 2, "median {median} lots");
        assert!(
            blocks > 100,
            "only {blocks} trades of 20× the median: no heavy tail"
        );
    }

    #[test]
    fn prices_stay_on_the_grid_inside_the_quote() {
        for t in run(1, 20_000) {
            let (bid, ask) = (t.bid.unwrap(), t.ask.unwrap());
            assert!(bid < ask && (t.price == bid || t.price == ask), "{t:?}");
            let cents = t.price * 100.0;
            assert!(
                (cents - cents.round()).abs() < 1e-6,
                "{} off the grid",
                t.price
            );
        }
    }
}
