//! `Realistic`: a price model whose returns show the stylized facts of real
//! equities: fat tails, volatility clustering with a leverage effect, and
//! correlation through market and sector factors.
//!
//! The model, in trading time (seconds; closed hours squeezed out by the
//! simulator):
//! - a market factor `M` and one factor `S_k` per sector are Brownian
//!   motions, advanced lazily (exactly) whenever a trade needs them;
//! - a symbol's log return between two of its trades is
//!   `v · σ · (b·ΔM + c·ΔS_k + e·√Δt·u)` with `b² + c² + e² = 1`, the
//!   loadings set so that daily returns of beta-1 symbols correlate as
//!   [`Correlations`] says across sectors and within one (a symbol's beta
//!   scales its market loading; its idiosyncratic part keeps its total
//!   volatility);
//! - `v`, the market's volatility level, follows an EGARCH on the market
//!   factor's one-minute returns: persistent (clustering), raised by large
//!   moves and more by falls (leverage);
//! - jumps arrive as a Poisson process per symbol with power-law sizes.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;

use super::{PriceModel, Shock, SymbolSpec, TRADING_SECONDS_PER_YEAR};

/// EGARCH on one-minute market returns `x`:
/// `ln v²' = PERSISTENCE·ln v² + SIZE·(|x| − E|x|) + LEVERAGE·x`.
const PERSISTENCE: f64 = 0.985;
const SIZE: f64 = 0.15;
const LEVERAGE: f64 = -0.08;
/// `E|x|` for a standard normal.
const MEAN_ABS_NORMAL: f64 = 0.797_884_560_802_865_4;
/// Stationary variance of `ln v²`: the level is divided by its mean,
/// `exp(VARIANCE / 2)` for a (near-)normal `ln v²`, so volatility clustering
/// keeps each symbol's configured volatility on average.
const LOG_VARIANCE_VARIANCE: f64 = (SIZE * SIZE * (1.0 - MEAN_ABS_NORMAL * MEAN_ABS_NORMAL)
    + LEVERAGE * LEVERAGE)
    / (1.0 - PERSISTENCE * PERSISTENCE);
/// Jumps per symbol per trading day.
const JUMPS_PER_DAY: f64 = 6.0;
/// Tail index of jump sizes (Pareto).
const JUMP_TAIL: f64 = 3.0;
/// Smallest jump, in one-minute standard deviations.
const JUMP_SCALE_MINUTES: f64 = 2.0;
/// Daily variance jumps add, relative to the diffusion's: jumps are
/// idiosyncratic, so factor loadings are raised by this much to keep the
/// correlations. `E[P²] = α / (α − 2)` for Pareto sizes.
const JUMP_VARIANCE_RATIO: f64 =
    JUMPS_PER_DAY * JUMP_SCALE_MINUTES * JUMP_SCALE_MINUTES * (JUMP_TAIL / (JUMP_TAIL - 2.0))
        / 390.0;

/// Target correlations of two symbols' daily returns: `[sim.correlation]`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Correlations {
    /// Between symbols of different sectors (through the market factor).
    pub market: f64,
    /// Between symbols of one sector (market plus sector factor).
    pub sector: f64,
}

impl Default for Correlations {
    fn default() -> Self {
        Self {
            market: 0.25,
            sector: 0.45,
        }
    }
}

impl Correlations {
    /// The highest within-sector correlation the model can reach: the
    /// rest of the variance is the symbols' own jumps.
    pub const MAX: f64 = 1.0 / (1.0 + JUMP_VARIANCE_RATIO);

    /// The highest beta a symbol can have: its market loading plus its
    /// sector's must not exceed its whole variance.
    pub fn max_beta(&self, in_sector: bool) -> f64 {
        let (b2, c2) = self.squared_loadings();
        let c2 = if in_sector { c2 } else { 0.0 };
        if b2 == 0.0 {
            f64::INFINITY
        } else {
            ((1.0 - c2) / b2).sqrt()
        }
    }

    /// Squared loadings on the market and sector factors of a beta-1 symbol.
    fn squared_loadings(&self) -> (f64, f64) {
        (
            self.market * (1.0 + JUMP_VARIANCE_RATIO),
            (self.sector - self.market) * (1.0 + JUMP_VARIANCE_RATIO),
        )
    }

    /// Why these targets cannot be met, if they cannot.
    pub fn problem(&self) -> Option<String> {
        if !(0.0..=Self::MAX).contains(&self.market) || !(0.0..=Self::MAX).contains(&self.sector) {
            return Some(format!(
                "correlations must lie between 0 and {:.3}",
                Self::MAX
            ));
        }
        (self.sector < self.market)
            .then(|| "the sector correlation must be at least the market correlation".into())
    }
}

struct Factor {
    value: f64,
    at: f64,
}

impl Factor {
    fn new() -> Self {
        Self {
            value: 0.0,
            at: 0.0,
        }
    }

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
    sector: Option<usize>,
    /// Loadings on the market and sector factors, and the idiosyncratic rest.
    loadings: (f64, f64, f64),
    log_mid: f64,
    /// Volatility per √second.
    sigma: f64,
    /// Drift per second (log).
    drift: f64,
    /// Factor values and time at this symbol's last trade.
    last_market: f64,
    last_sector: f64,
    last_t: Option<f64>,
}

/// The realistic price model; see the module docs.
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
}

impl Realistic {
    /// A model of `universe`, seeded with `seed`. Symbols without a sector
    /// load on the market factor only; a beta above
    /// [`Correlations::max_beta`] counts as that.
    pub fn new(universe: &[SymbolSpec], seed: u64, correlations: Correlations) -> Self {
        let (b2, c2) = correlations.squared_loadings();
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
                // Diffusion and jumps together make the configured volatility.
                let sigma = spec.volatility
                    / (TRADING_SECONDS_PER_YEAR * (1.0 + JUMP_VARIANCE_RATIO)).sqrt();
                let c2 = if sector.is_some() { c2 } else { 0.0 };
                let b = (b2.sqrt() * spec.beta.max(0.0)).min((1.0 - c2).sqrt());
                SymbolState {
                    sector,
                    loadings: (b, c2.sqrt(), (1.0 - b * b - c2).max(0.0).sqrt()),
                    log_mid: spec.price.ln(),
                    sigma,
                    drift: (spec.drift - spec.volatility * spec.volatility / 2.0)
                        / TRADING_SECONDS_PER_YEAR,
                    last_market: 0.0,
                    last_sector: 0.0,
                    last_t: None,
                }
            })
            .collect();
        Self {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            symbols,
            market: Factor::new(),
            sectors: sector_names.iter().map(|_| Factor::new()).collect(),
            log_var: 0.0,
            minute: i64::MIN,
            minute_market: 0.0,
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

impl PriceModel for Realistic {
    fn advance(&mut self, index: usize, t: f64, shock: Shock) -> (f64, f64) {
        self.update_volatility(t);
        let market = self.market.advance(t, &mut self.rng);
        let sector = self.symbols[index]
            .sector
            .map(|k| self.sectors[k].advance(t, &mut self.rng));
        let level = ((self.log_var - LOG_VARIANCE_VARIANCE / 2.0) / 2.0).exp();
        let s = &mut self.symbols[index];
        if let Some(last) = s.last_t {
            let dt = (t - last).max(0.0);
            let u: f64 = StandardNormal.sample(&mut self.rng);
            let (b, c, e) = s.loadings;
            let diffusion = b * (market - s.last_market)
                + c * (sector.unwrap_or(0.0) - s.last_sector)
                + e * dt.sqrt() * u;
            let scale = level * shock.volatility * s.sigma;
            let mut r = (s.drift + shock.drift) * dt + scale * diffusion;
            // Poisson jumps with Pareto-distributed sizes.
            let jump_draw: f64 = self.rng.random();
            if jump_draw < JUMPS_PER_DAY * dt / (6.5 * 3600.0) {
                let tail: f64 = self.rng.random();
                let size =
                    JUMP_SCALE_MINUTES * scale * 60f64.sqrt() * (1.0 - tail).powf(-1.0 / JUMP_TAIL);
                r += if self.rng.random::<bool>() {
                    size
                } else {
                    -size
                };
            }
            s.log_mid += r;
        }
        s.last_t = Some(t);
        s.last_market = market;
        s.last_sector = sector.unwrap_or(0.0);
        (s.log_mid, level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::default_universe;

    fn path(seed: u64, correlations: Correlations) -> Vec<f64> {
        let mut model = Realistic::new(&default_universe(), seed, correlations);
        (0..5_000)
            .map(|k| {
                model
                    .advance(k % 20, f64::from(k as u32) * 0.05, Shock::NONE)
                    .0
            })
            .collect()
    }

    #[test]
    fn same_seed_same_path() {
        assert_eq!(
            path(3, Correlations::default()),
            path(3, Correlations::default())
        );
        assert_ne!(
            path(3, Correlations::default()),
            path(4, Correlations::default())
        );
    }

    #[test]
    fn refuses_correlations_it_cannot_reach() {
        assert!(Correlations::default().problem().is_none());
        let bad = |market, sector| Correlations { market, sector }.problem().is_some();
        assert!(bad(0.5, 0.3) && bad(-0.1, 0.2) && bad(0.2, 0.95));
    }
}
