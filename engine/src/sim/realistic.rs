//! `Realistic`: a price model whose returns show the stylized facts of real
//! equities: fat tails, volatility clustering with a leverage effect, and
//! correlation through market and sector factors.
//!
//! The model, in trading time (seconds; closed hours squeezed out by the
//! simulator):
//! - a market factor `M` and one factor `S_k` per sector are Brownian
//!   motions, advanced lazily (exactly) whenever a trade needs them;
//! - a symbol's log return between two of its trades is
//!   `σ · (v·(b·ΔM + c·ΔS_k) + w·e·√Δt·u)` with `b² + c² + e² = 1`, the
//!   loadings set so that daily returns of beta-1 symbols correlate as
//!   [`Correlations`] says across sectors and within one (a symbol's beta
//!   scales its market loading; its idiosyncratic part keeps its total
//!   volatility);
//! - the market's log variance is a sum of components, each an AR(1) in
//!   trading minutes driven by the market factor's one-minute returns (raised
//!   by large moves and more by falls: leverage), with half-lives from
//!   three-quarters of an hour to half a year: a multi-factor
//!   stochastic volatility in the spirit of HARCH and component GARCH, so
//!   volatility clusters on every time scale and its autocorrelation decays
//!   slowly, as in real markets. `v`, the market's volatility level, scales
//!   the factor moves;
//! - each symbol's idiosyncratic moves have their own level `w`: 70 % of the
//!   market's log variance plus a slow component of the symbol's own,
//!   raised for days after a large jump or a news day, so stocks do not
//!   share one regime and correlations rise when the market is turbulent;
//! - jumps arrive as a Poisson process per symbol with power-law sizes, and
//!   news days (earnings and the like) a few times a year with normal moves
//!   of a few daily standard deviations;
//! - each move is scaled by the levels known at the symbol's previous
//!   trade, so no move scales itself.
//!
//! Every level is normalised to a mean variance of 1, so each symbol's
//! realised volatility is its configured one on average.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::{PriceModel, Shock, SymbolSpec, TRADING_SECONDS_PER_YEAR};

/// Components of the market's log variance `h = Σ h_k`, each updated once
/// per trading minute from the market factor's standardised one-minute
/// return `x`: `h_k' = φ_k·h_k + a_k·(|x| − E|x|) + l_k·x`, with
/// `φ_k = 2^(−1/half-life)`. Each is (half-life in trading minutes,
/// stationary variance on its own, share of its innovations that is
/// leverage); sharing one driver, they covary (see [`variance_of_sum`]).
const MARKET_COMPONENTS: [(f64, f64, f64); 5] = [
    // Within the session: minute-scale clustering.
    (46.0, 0.49, 0.44),
    // A day.
    (390.0, 0.04, 0.9),
    // Two weeks.
    (10.0 * 390.0, 0.1, 0.9),
    // Two months.
    (40.0 * 390.0, 0.1, 0.5),
    // Half a year.
    (125.0 * 390.0, 0.3, 0.5),
];
/// A symbol's own log-variance component: half-life (trading minutes) and
/// stationary variance.
const IDIOSYNCRATIC: (f64, f64) = (150.0 * 390.0, 0.3);
/// How much of the market's log variance a symbol's idiosyncratic moves
/// share.
const IDIOSYNCRATIC_MARKET_SHARE: f64 = 0.7;
/// Jumps larger than this (in units of the smallest) raise the symbol's own
/// log variance by `AFTERMATH · ln(size / LARGE_JUMP)`, which decays with a
/// half-life of `AFTERMATH_HALF_LIFE` trading minutes (a week).
const LARGE_JUMP: f64 = 5.0;
const AFTERMATH: f64 = 0.6;
const AFTERMATH_HALF_LIFE: f64 = 5.0 * 390.0;
/// `E|x|` for a standard normal.
const MEAN_ABS_NORMAL: f64 = 0.797_884_560_802_865_4;
/// Jumps per symbol per trading day.
const JUMPS_PER_DAY: f64 = 6.0;
/// Tail index of jump sizes (Pareto).
const JUMP_TAIL: f64 = 3.0;
/// Smallest jump, in one-minute standard deviations.
const JUMP_SCALE_MINUTES: f64 = 2.0;
/// Company news (earnings and the like): how often a symbol's price jumps
/// by a normal move of `NEWS_SIZE` daily standard deviations, per trading
/// day, and how much such a day raises the symbol's own log variance (its
/// aftermath decays like a large jump's).
const NEWS_PER_DAY: f64 = 4.0 / 252.0;
const NEWS_SIZE: f64 = 2.5;
const NEWS_AFTERMATH: f64 = 0.5;
/// Seconds of one trading session.
const SESSION_SECONDS: f64 = 6.5 * 3600.0;
/// Daily variance jumps and news add, relative to the diffusion's: both are
/// idiosyncratic, so factor loadings are raised by this much to keep the
/// correlations. `E[P²] = α / (α − 2)` for Pareto sizes.
const JUMP_VARIANCE_RATIO: f64 =
    JUMPS_PER_DAY * JUMP_SCALE_MINUTES * JUMP_SCALE_MINUTES * (JUMP_TAIL / (JUMP_TAIL - 2.0))
        / 390.0
        + NEWS_PER_DAY * NEWS_SIZE * NEWS_SIZE;

/// Target correlations of two symbols' daily returns: `[sim.correlation]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    /// The symbol's own log-variance components (slow, aftermath of jumps),
    /// as of trading minute `own_minute`.
    own: (f64, f64),
    own_minute: i64,
    /// The symbol's own volatility level in minute `own_minute`.
    own_level: f64,
    /// The market's and the symbol's own volatility levels at its last
    /// trade, which scale its next move (known before the move, so a move
    /// never scales itself).
    levels: (f64, f64),
}

/// One AR(1) component of a log variance; see [`MARKET_COMPONENTS`].
struct Component {
    phi: f64,
    size: f64,
    leverage: f64,
    h: f64,
}

impl Component {
    /// A component with `half_life` (trading minutes), stationary
    /// `variance`, and `leverage_share` of its innovations' variance coming
    /// from the sign of the move.
    fn new(half_life: f64, variance: f64, leverage_share: f64) -> Self {
        let phi = 0.5f64.powf(1.0 / half_life);
        let innovation = variance * (1.0 - phi * phi);
        Self {
            phi,
            size: ((1.0 - leverage_share) * innovation / (1.0 - MEAN_ABS_NORMAL * MEAN_ABS_NORMAL))
                .sqrt(),
            leverage: -(leverage_share * innovation).sqrt(),
            h: 0.0,
        }
    }

    /// One minute's step, on the market's standardised one-minute return.
    fn step(&mut self, x: f64) {
        self.h = self.phi * self.h + self.size * (x.abs() - MEAN_ABS_NORMAL) + self.leverage * x;
    }
}

/// The stationary variance of the components' sum: they share one driver,
/// so they covary, `Cov(h_j, h_k) = (a_j·a_k·Var|x| + l_j·l_k) / (1 − φ_j·φ_k)`.
fn variance_of_sum(components: &[Component]) -> f64 {
    let var_abs = 1.0 - MEAN_ABS_NORMAL * MEAN_ABS_NORMAL;
    components
        .iter()
        .flat_map(|j| components.iter().map(move |k| (j, k)))
        .map(|(j, k)| (j.size * k.size * var_abs + j.leverage * k.leverage) / (1.0 - j.phi * k.phi))
        .sum()
}

/// The symbols' own log-variance components: a slow AR(1) per trading
/// minute with Gaussian innovations, and the aftermath of large jumps.
struct Own {
    phi: f64,
    variance: f64,
    /// Per-minute decay of the aftermath, and its stationary mean and
    /// variance.
    aftermath_phi: f64,
    aftermath_mean: f64,
    aftermath_variance: f64,
}

impl Own {
    fn new() -> Self {
        let (half_life, variance) = IDIOSYNCRATIC;
        let phi = 0.5f64.powf(1.0 / half_life);
        let aftermath_phi = 0.5f64.powf(1.0 / AFTERMATH_HALF_LIFE);
        // Large jumps per minute; their aftermath `AFTERMATH·ln(P/LARGE)` is
        // exponential with mean AFTERMATH/α for Pareto sizes of index α.
        // News days per minute, each adding NEWS_AFTERMATH. The stationary
        // mean of shot noise is rate·E[bump]/(1 − φ), its variance
        // rate·E[bump²]/(1 − φ²).
        let large = JUMPS_PER_DAY / 390.0 * LARGE_JUMP.powf(-JUMP_TAIL);
        let bump = AFTERMATH / JUMP_TAIL;
        let news = NEWS_PER_DAY / 390.0;
        Self {
            phi,
            variance,
            aftermath_phi,
            aftermath_mean: (large * bump + news * NEWS_AFTERMATH) / (1.0 - aftermath_phi),
            aftermath_variance: (large * 2.0 * bump * bump
                + news * NEWS_AFTERMATH * NEWS_AFTERMATH)
                / (1.0 - aftermath_phi * aftermath_phi),
        }
    }

    /// Advances a symbol's components `steps` minutes at once (exactly).
    fn advance(&self, (own, aftermath): (f64, f64), steps: i64, z: f64) -> (f64, f64) {
        let steps = steps.clamp(0, 1 << 20) as i32;
        let decay = self.phi.powi(steps);
        (
            decay * own + (self.variance * (1.0 - decay * decay)).sqrt() * z,
            self.aftermath_phi.powi(steps) * aftermath,
        )
    }

    /// `ln E[e^(γ·h + own + aftermath)]`, which normalises the level.
    fn log_mean(&self, market_variance: f64) -> f64 {
        let share = IDIOSYNCRATIC_MARKET_SHARE;
        share * share * market_variance / 2.0
            + self.variance / 2.0
            + self.aftermath_mean
            + self.aftermath_variance / 2.0
    }
}

/// The realistic price model; see the module docs.
pub struct Realistic {
    rng: Xoshiro256PlusPlus,
    symbols: Vec<SymbolState>,
    market: Factor,
    sectors: Vec<Factor>,
    /// The market's log-variance components.
    components: Vec<Component>,
    /// Their sum's stationary variance.
    market_variance: f64,
    /// Their sum (ln v² before normalising) in the current minute, and the
    /// market's volatility level `v` it makes.
    log_var: f64,
    level: f64,
    own: Own,
    /// [`Own::log_mean`].
    own_log_mean: f64,
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
        let mut symbols: Vec<SymbolState> = universe
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
                    own: (0.0, 0.0),
                    own_minute: -1,
                    own_level: 1.0,
                    levels: (1.0, 1.0),
                }
            })
            .collect();
        let components: Vec<Component> = MARKET_COMPONENTS
            .iter()
            .map(|&(half_life, variance, leverage)| Component::new(half_life, variance, leverage))
            .collect();
        let market_variance = variance_of_sum(&components);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let own = Own::new();
        // Each symbol starts in a regime of its own, drawn from the stationary law.
        for s in &mut symbols {
            let z: f64 = StandardNormal.sample(&mut rng);
            s.own = (own.variance.sqrt() * z, own.aftermath_mean);
        }
        Self {
            rng,
            symbols,
            market: Factor::new(),
            sectors: sector_names.iter().map(|_| Factor::new()).collect(),
            components,
            market_variance,
            log_var: 0.0,
            level: (-market_variance / 4.0).exp(),
            own_log_mean: own.log_mean(market_variance),
            own,
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
            for component in &mut self.components {
                component.step(x);
            }
        }
        if steps > 0 {
            self.minute = minute;
            self.log_var = self.components.iter().map(|c| c.h).sum();
            self.level = ((self.log_var - self.market_variance / 2.0) / 2.0).exp();
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
        let (level, minute) = (self.level, self.minute);
        let s = &mut self.symbols[index];
        if minute > s.own_minute {
            // The market's level moves once a minute: so does the symbol's own.
            let z: f64 = StandardNormal.sample(&mut self.rng);
            s.own = self.own.advance(s.own, minute - s.own_minute, z);
            s.own_minute = minute;
            s.own_level = ((IDIOSYNCRATIC_MARKET_SHARE * self.log_var + s.own.0 + s.own.1
                - self.own_log_mean)
                / 2.0)
                .exp();
        }
        let own_level = s.own_level;
        if let Some(last) = s.last_t {
            let dt = (t - last).max(0.0);
            let u: f64 = StandardNormal.sample(&mut self.rng);
            let (b, c, e) = s.loadings;
            let systematic =
                b * (market - s.last_market) + c * (sector.unwrap_or(0.0) - s.last_sector);
            let (market_level, own_level) = s.levels;
            let own_scale = own_level * shock.volatility * s.sigma;
            let mut r = (s.drift + shock.drift) * dt
                + market_level * shock.volatility * s.sigma * systematic
                + own_scale * e * dt.sqrt() * u;
            // Poisson jumps with Pareto-distributed sizes; a large one
            // raises the symbol's volatility for days.
            let jump_draw: f64 = self.rng.random();
            if jump_draw < JUMPS_PER_DAY * dt / SESSION_SECONDS {
                let tail: f64 = self.rng.random();
                let units = (1.0 - tail).powf(-1.0 / JUMP_TAIL);
                let size = JUMP_SCALE_MINUTES * own_scale * 60f64.sqrt() * units;
                r += if self.rng.random::<bool>() {
                    size
                } else {
                    -size
                };
                if units > LARGE_JUMP {
                    s.own.1 += AFTERMATH * (units / LARGE_JUMP).ln();
                }
            }
            let news_draw: f64 = self.rng.random();
            if news_draw < NEWS_PER_DAY * dt / SESSION_SECONDS {
                let z: f64 = StandardNormal.sample(&mut self.rng);
                r += NEWS_SIZE * own_scale * SESSION_SECONDS.sqrt() * z;
                s.own.1 += NEWS_AFTERMATH;
            }
            s.log_mid += r;
        }
        s.last_t = Some(t);
        s.last_market = market;
        s.last_sector = sector.unwrap_or(0.0);
        s.levels = (level, own_level);
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
