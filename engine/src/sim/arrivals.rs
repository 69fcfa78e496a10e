//! `Arrivals`: when trades happen. A self-exciting (Hawkes) point process
//! with an exponential kernel: every trade raises the intensity by
//! `BRANCHING · DECAY`, which then decays at rate `DECAY`, so trades come in
//! bursts as on real exchanges rather than on a fixed clock. The baseline is
//! set so that the long-run rate equals the requested one.
//!
//! Sampling is exact (no thinning): the next baseline arrival and the next
//! excited arrival are drawn independently and the earlier one wins. An
//! arrival once drawn stands until the rate changes, so events scheduled in
//! between (or how far ahead a caller looks) do not change the draws.

use rand::Rng;
use rand_distr::{Distribution, Exp1};

/// Share of trades triggered by earlier trades (the branching ratio `n`):
/// the long-run rate is the baseline over `1 − n`.
pub const BRANCHING: f64 = 0.6;
/// Decay rate of the excitation, per second (a burst lasts ~0.5 s).
pub const DECAY: f64 = 2.0;

/// The arrival process; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Arrivals {
    /// Excited intensity (per second) at `at`.
    excitation: f64,
    /// Seconds; the time of the last arrival or boundary.
    at: f64,
}

/// Where the next arrival came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The baseline: an independent trade.
    Baseline,
    /// Triggered by earlier trades.
    Excited,
}

impl Arrivals {
    /// A process already running at its long-run `rate` (not starting cold,
    /// with only the baseline).
    pub fn stationary(rate: f64) -> Self {
        Self {
            excitation: rate * BRANCHING,
            at: 0.0,
        }
    }

    /// Draws the next arrival at a long-run `rate` per second: its time and
    /// cause. Nothing changes until it is [`accept`](Self::accept)ed; a
    /// drawn arrival stays valid for as long as the rate does.
    pub fn draw(&self, rate: f64, rng: &mut impl Rng) -> (f64, Cause) {
        let baseline = rate * (1.0 - BRANCHING);
        let to_baseline = if baseline > 0.0 {
            Distribution::<f64>::sample(&Exp1, rng) / baseline
        } else {
            f64::INFINITY
        };
        // The excited intensity e·exp(−DECAY·s) integrates to at most e/DECAY.
        let budget: f64 = Exp1.sample(rng);
        let reach = self.excitation / DECAY;
        let to_excited = if budget < reach {
            -(1.0 - budget / reach).ln() / DECAY
        } else {
            f64::INFINITY
        };
        if to_baseline <= to_excited {
            (self.at + to_baseline, Cause::Baseline)
        } else {
            (self.at + to_excited, Cause::Excited)
        }
    }

    /// Records an arrival at `t`: the excitation jumps.
    pub fn accept(&mut self, t: f64) {
        self.decay_to(t);
        self.excitation += BRANCHING * DECAY;
    }

    /// Moves to `t` without an arrival (where the rate changes).
    pub fn decay_to(&mut self, t: f64) {
        if t > self.at {
            self.excitation *= (-DECAY * (t - self.at)).exp();
            self.at = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn arrivals(rate: f64, seconds: f64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut process = Arrivals::default();
        std::iter::from_fn(|| {
            let (t, _) = process.draw(rate, &mut rng);
            process.accept(t);
            (t < seconds).then_some(t)
        })
        .collect()
    }

    #[test]
    fn long_run_rate_is_the_requested_one() {
        let times = arrivals(100.0, 2_000.0);
        let rate = times.len() as f64 / 2_000.0;
        assert!((rate - 100.0).abs() < 5.0, "rate {rate}");
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn arrivals_cluster_unlike_a_poisson_process() {
        // Counts in 10 s windows: variance/mean is 1 for Poisson arrivals,
        // 1/(1−n)² = 6.25 for this process over long windows.
        let times = arrivals(50.0, 20_000.0);
        let mut counts = vec![0.0f64; 2_000];
        for t in &times {
            counts[(*t / 10.0) as usize] += 1.0;
        }
        let mean = counts.iter().sum::<f64>() / counts.len() as f64;
        let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
        assert!(var / mean > 3.0, "dispersion {}", var / mean);
    }
}
