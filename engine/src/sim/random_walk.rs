//! `RandomWalk`: independent geometric Brownian motions, one per symbol, in
//! trading time. The baseline the realistic model is measured against.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{PriceModel, Shock, SymbolSpec, TRADING_SECONDS_PER_YEAR};

struct SymbolState {
    log_mid: f64,
    /// Drift per second (log): μ − σ²/2.
    drift: f64,
    /// Volatility per √second.
    sigma: f64,
    last_t: Option<f64>,
}

/// Geometric random walk of every symbol in a universe.
pub struct RandomWalk {
    rng: Xoshiro256PlusPlus,
    symbols: Vec<SymbolState>,
}

impl RandomWalk {
    /// A walk over `universe`, seeded with `seed`.
    pub fn new(universe: &[SymbolSpec], seed: u64) -> Self {
        let symbols = universe
            .iter()
            .map(|spec| {
                let sigma = spec.volatility / TRADING_SECONDS_PER_YEAR.sqrt();
                SymbolState {
                    log_mid: spec.price.ln(),
                    drift: spec.drift / TRADING_SECONDS_PER_YEAR - sigma * sigma / 2.0,
                    sigma,
                    last_t: None,
                }
            })
            .collect();
        Self {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            symbols,
        }
    }
}

impl PriceModel for RandomWalk {
    fn advance(&mut self, index: usize, t: f64, shock: Shock) -> (f64, f64) {
        let s = &mut self.symbols[index];
        if let Some(last) = s.last_t {
            let dt = (t - last).max(0.0);
            let z: f64 = StandardNormal.sample(&mut self.rng);
            s.log_mid += (s.drift + shock.drift) * dt + shock.volatility * s.sigma * dt.sqrt() * z;
        }
        s.last_t = Some(t);
        (s.log_mid, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::default_universe;

    #[test]
    fn returns_have_the_configured_volatility() {
        let universe = default_universe();
        let mut walk = RandomWalk::new(&universe, 7);
        // One-hour log returns of AAPL (index 0) over ten trading years.
        let hours = 10 * 252 * 6;
        let mut previous = walk.advance(0, 0.0, Shock::NONE).0;
        let returns: Vec<f64> = (1..=hours)
            .map(|h| {
                let now = walk.advance(0, f64::from(h) * 3_600.0, Shock::NONE).0;
                std::mem::replace(&mut previous, now).mul_add(-1.0, now)
            })
            .collect();
        let var = returns.iter().map(|r| r * r).sum::<f64>() / returns.len() as f64;
        let annual = (var * 252.0 * 6.5).sqrt();
        assert!((annual - universe[0].volatility).abs() < 0.02, "{annual}");
    }
}
