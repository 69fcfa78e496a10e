//! `Pace`: where a replay's market clock stands for a wall-clock instant,
//! and when a market time falls due, at the replay's speed.

use std::time::{Duration, Instant};

use crate::sim::Speed;

/// A replay's clock while it plays: `market` at `wall`, advancing `speed`
/// market seconds per wall second.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pace {
    speed: Speed,
    wall: Instant,
    market: i64,
}

impl Pace {
    /// The clock at `market` (Unix microseconds) now.
    pub(super) fn starting(speed: Speed, market: i64) -> Self {
        Self {
            speed,
            wall: Instant::now(),
            market,
        }
    }

    /// The speed.
    pub(super) fn speed(&self) -> Speed {
        self.speed
    }

    /// The market time at `wall` (everything stamped up to it is due);
    /// at `max` every time is.
    pub(super) fn market_at(&self, wall: Instant) -> i64 {
        match self.speed {
            Speed::Max => i64::MAX,
            Speed::Times(factor) => {
                let elapsed = wall.saturating_duration_since(self.wall).as_secs_f64();
                self.market
                    .saturating_add((elapsed * factor * 1e6).floor() as i64)
            }
        }
    }

    /// How long after `now` the market time `market` falls due.
    pub(super) fn until(&self, market: i64, now: Instant) -> Duration {
        match self.speed {
            Speed::Max => Duration::ZERO,
            Speed::Times(factor) => {
                let ahead = (market - self.market).max(0) as f64 / 1e6 / factor;
                (self.wall + Duration::from_secs_f64(ahead)).saturating_duration_since(now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_times_runs_ten_market_seconds_a_second() {
        let pace = Pace::starting(Speed::Times(10.0), 1_000_000);
        let later = pace.wall + Duration::from_millis(250);
        assert_eq!(pace.market_at(later), 3_500_000);
        assert_eq!(pace.until(3_500_000, pace.wall), Duration::from_millis(250));
        assert_eq!(
            pace.until(500_000, pace.wall),
            Duration::ZERO,
            "already due"
        );
    }

    #[test]
    fn at_max_everything_is_due() {
        let pace = Pace::starting(Speed::Max, 0);
        assert_eq!(pace.market_at(Instant::now()), i64::MAX);
        assert_eq!(pace.until(i64::MAX, Instant::now()), Duration::ZERO);
    }
}
