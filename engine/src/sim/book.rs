//! `LimitBook`: one symbol's simulated limit order book, the source of the
//! quote every continuous trade hits.
//!
//! Ten levels a side on the tick grid, spaced by a tick or, for wide
//! spreads, by a fraction of the spread. Before each trade the book is
//! [`refresh`](LimitBook::refresh)ed to the price model's mid: levels that
//! moved outside the ladder are cancelled, new prices inside it get fresh
//! orders, resting levels grow back towards their target depth (the
//! replenishment; thinner when volatile, in thin hours and at the open) and
//! a few levels see random adds and cancels. The trade then
//! [`take`](LimitBook::take)s liquidity from the touch of the side it hits,
//! walking deeper levels when the touch is not enough. Bids stay below asks
//! throughout: the book is never crossed.
//!
//! Each change is recorded as the level's new size (0: gone), ready to be
//! published as an `OrderBook` update.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::model::BOOK_DEPTH;

/// How fast a level grows back to its target depth (seconds of market time).
const REPLENISH_SECONDS: f64 = 1.0;
/// Levels picked at each refresh for order activity: they grow back
/// towards their target and see a random add or cancel.
const PICKED_LEVELS: usize = 3;
/// The share of refreshes a level is picked in.
const PICKED_SHARE: f64 = PICKED_LEVELS as f64 / (2 * BOOK_DEPTH) as f64;
/// Spread of those adds and cancels (log size) over a full replenishment
/// time; over a shorter one it shrinks with the pull back to the target,
/// so a level's size keeps the same spread however often it is refreshed.
const NOISE: f64 = 0.35;
/// A new price's first orders, as a share of its target depth.
const FRESH: std::ops::Range<f64> = 0.2..1.0;
/// The most shares a level holds, whatever the depth model says (a
/// degenerate spread must not overflow the book).
const MAX_LEVEL_SHARES: f64 = 1e12;
/// How much deeper each level is than the one before it, relative to the touch.
const DEPTH_SLOPE: f64 = 0.3;

/// A level on the grid: price in ticks, resting shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Price in ticks of the symbol's grid.
    pub price: i64,
    /// Shares resting.
    pub size: u64,
}

/// Where the price model puts the book before a trade.
#[derive(Debug, Clone, Copy)]
pub struct Touch {
    /// Best bid, in ticks (at least 1).
    pub bid: i64,
    /// Best ask, in ticks (above `bid`).
    pub ask: i64,
    /// Ticks between two levels of a side.
    pub spacing: i64,
    /// Target shares at the touch; deeper levels hold more.
    pub depth: f64,
}

/// What changed between two states of one side, both best first (`bids`:
/// highest first): each level whose size changed or that is new, with its
/// size, and each level gone, with size 0.
pub fn changes(before: &[Level], after: &[Level], bids: bool, out: &mut Vec<Level>) {
    // Most often the prices are where they were: compare sizes in place.
    if before.len() == after.len() && before.iter().zip(after).all(|(b, a)| b.price == a.price) {
        out.extend(
            before
                .iter()
                .zip(after)
                .filter(|(b, a)| b.size != a.size)
                .map(|(_, a)| *a),
        );
        return;
    }
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        let (old, new) = (before.get(i), after.get(j));
        match (old, new) {
            (Some(o), Some(n)) if o.price == n.price => {
                if o.size != n.size {
                    out.push(*n);
                }
                i += 1;
                j += 1;
            }
            (Some(o), Some(n)) if better(o.price, n.price, bids) => {
                out.push(Level {
                    price: o.price,
                    size: 0,
                });
                i += 1;
            }
            (Some(o), None) => {
                out.push(Level {
                    price: o.price,
                    size: 0,
                });
                i += 1;
            }
            (_, Some(n)) => {
                out.push(*n);
                j += 1;
            }
            (None, None) => unreachable!("the loop ends first"),
        }
    }
}

/// Whether price `a` ranks before `b` on a side: higher for bids, lower for asks.
fn better(a: i64, b: i64, bids: bool) -> bool {
    if bids { a > b } else { a < b }
}

/// Shares rounded as orders rest: round lots from 100 up, odd lots below,
/// at least one share, at most [`MAX_LEVEL_SHARES`].
/// (Rounds half up by adding a half: `f64::round` is a libm call, a tenth
/// of the book's time.)
fn shares(x: f64) -> u64 {
    if x >= 100.0 {
        (x.min(MAX_LEVEL_SHARES) * 0.01 + 0.5) as u64 * 100
    } else {
        ((x + 0.5) as u64).max(1)
    }
}

/// One side's levels, best first, in place (no allocation per trade).
#[derive(Debug, Clone, Copy)]
struct Side {
    levels: [Level; BOOK_DEPTH],
    len: usize,
}

impl Default for Side {
    fn default() -> Self {
        Self {
            levels: [Level { price: 0, size: 0 }; BOOK_DEPTH],
            len: 0,
        }
    }
}

impl Side {
    fn levels(&self) -> &[Level] {
        &self.levels[..self.len]
    }
}

/// One symbol's book; see the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitBook {
    bids: Side,
    asks: Side,
    /// Market time of the last refresh (seconds).
    at: Option<f64>,
}

impl LimitBook {
    /// Bid levels, highest first.
    pub fn bids(&self) -> &[Level] {
        self.bids.levels()
    }

    /// Ask levels, lowest first.
    pub fn asks(&self) -> &[Level] {
        self.asks.levels()
    }

    /// The best bid and ask levels, when both sides have one.
    pub fn top(&self) -> Option<(Level, Level)> {
        Some((*self.bids().first()?, *self.asks().first()?))
    }

    /// Moves the book to `touch` at market time `now`.
    pub fn refresh(&mut self, touch: Touch, now: f64, rng: &mut Xoshiro256PlusPlus) {
        let elapsed = self.at.map_or(f64::INFINITY, |at| (now - at).max(0.0));
        self.at = Some(now);
        // The touch grows back at every refresh, a picked level as often on
        // average (it is picked in a share of the refreshes, for longer).
        let grown_touch = 1.0 - (-elapsed / REPLENISH_SECONDS).exp();
        let grown_picked = 1.0 - (-elapsed / (REPLENISH_SECONDS * PICKED_SHARE)).exp();
        let picks: [usize; PICKED_LEVELS] =
            std::array::from_fn(|_| rng.random_range(0..2 * BOOK_DEPTH));
        for (side, best, bids, base) in [
            (&mut self.bids, touch.bid, true, 0),
            (&mut self.asks, touch.ask, false, BOOK_DEPTH),
        ] {
            let step = if bids { -touch.spacing } else { touch.spacing };
            let ladder = |k: usize| best + k as i64 * step;
            let target = |k: usize| touch.depth * (1.0 + DEPTH_SLOPE * k as f64);
            // Most refreshes find the ladder where it was; otherwise prices
            // that left it are cancelled and new ones get fresh orders.
            let moved = side.len != BOOK_DEPTH
                || side.levels[0].price != ladder(0)
                || side.levels[BOOK_DEPTH - 1].price != ladder(BOOK_DEPTH - 1);
            if moved {
                let old = *side;
                let old = old.levels();
                let mut j = 0;
                side.len = 0;
                for k in 0..BOOK_DEPTH {
                    let price = ladder(k);
                    if price < 1 {
                        break;
                    }
                    while j < old.len() && better(old[j].price, price, bids) {
                        j += 1;
                    }
                    let size = match old.get(j).filter(|l| l.price == price) {
                        Some(level) => level.size,
                        None => shares(target(k) * rng.random_range(FRESH)),
                    };
                    side.levels[k] = Level { price, size };
                    side.len = k + 1;
                }
            }
            let mut grow = |k: usize, grown: f64, noise: bool| {
                let Some(level) = side.levels[..side.len].get_mut(k) else {
                    return;
                };
                // Adds fill a thin level, cancels thin a thick one: without
                // the pull down, the noise's random walk grows without bound.
                let (target, mut size) = (target(k), level.size as f64);
                size += (target - size) * grown;
                if noise {
                    let z: f64 = StandardNormal.sample(rng);
                    size *= (NOISE * grown.sqrt() * z).exp();
                }
                level.size = shares(size);
            };
            grow(0, grown_touch, false);
            for &pick in &picks {
                if (base..base + BOOK_DEPTH).contains(&pick) {
                    grow(pick - base, grown_picked, true);
                }
            }
        }
    }

    /// A trade of `volume` shares buying from the asks (`buy`) or selling to
    /// the bids: takes the touch, then deeper levels while shares remain.
    /// Returns the price of the last level reached (in ticks): the touch
    /// itself unless the trade walked the book. What remains past the
    /// deepest level fills there (hidden depth). `None` when the side is empty.
    pub fn take(&mut self, buy: bool, volume: u64) -> Option<i64> {
        let side = if buy { &mut self.asks } else { &mut self.bids };
        let mut left = volume;
        let mut taken = 0;
        let mut price = None;
        while left > 0 && taken < side.len {
            let level = &mut side.levels[taken];
            price = Some(level.price);
            if level.size > left || taken + 1 == side.len {
                level.size = level.size.saturating_sub(left).max(1);
                left = 0;
            } else {
                left -= level.size;
                taken += 1;
            }
        }
        side.levels.copy_within(taken..side.len, 0);
        side.len -= taken;
        price
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn touch(bid: i64) -> Touch {
        Touch {
            bid,
            ask: bid + 2,
            spacing: 1,
            depth: 500.0,
        }
    }

    /// Applies `changes` to a copy of the levels, as a client would.
    fn apply(levels: &mut Vec<Level>, changed: &[Level], bids: bool) {
        for change in changed {
            assert!(
                change.size > 0 || levels.iter().any(|l| l.price == change.price),
                "removes an absent level"
            );
            levels.retain(|l| l.price != change.price);
            if change.size > 0 {
                levels.push(*change);
            }
        }
        levels.sort_by_key(|l| if bids { -l.price } else { l.price });
    }

    #[test]
    fn never_crossed_and_changes_rebuild_the_book() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut book = LimitBook::default();
        let (mut bids, mut asks) = (Vec::new(), Vec::new());
        let mut bid = 10_000;
        for i in 0..20_000 {
            bid += rng.random_range(-3..=3);
            let before = book;
            book.refresh(touch(bid), f64::from(i) * 0.05, &mut rng);
            let (b, a) = book.top().unwrap();
            assert!(b.price < a.price);
            let buy = rng.random();
            let touch_price = if buy { a.price } else { b.price };
            let price = book.take(buy, rng.random_range(1..3_000)).unwrap();
            // At or through the touch.
            if buy {
                assert!(price >= touch_price);
            } else {
                assert!(price <= touch_price);
            }
            let (mut changed_bids, mut changed_asks) = (Vec::new(), Vec::new());
            changes(before.bids(), book.bids(), true, &mut changed_bids);
            changes(before.asks(), book.asks(), false, &mut changed_asks);
            apply(&mut bids, &changed_bids, true);
            apply(&mut asks, &changed_asks, false);
            assert_eq!(bids, book.bids());
            assert_eq!(asks, book.asks());
            if let Some((b, a)) = book.top() {
                assert!(b.price < a.price, "crossed at {i}");
            }
            assert!(book.bids().windows(2).all(|w| w[0].price > w[1].price));
            assert!(book.asks().windows(2).all(|w| w[0].price < w[1].price));
        }
    }

    #[test]
    fn a_large_trade_walks_the_book_and_depth_grows_back() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut book = LimitBook::default();
        book.refresh(touch(1_000), 0.0, &mut rng);
        let depth: u64 = book.asks().iter().take(3).map(|l| l.size).sum();
        let price = book.take(true, depth).unwrap();
        assert_eq!(price, 1_004, "three levels taken: {:?}", book.asks());
        assert_eq!(book.asks()[0].price, 1_005);
        // Ten seconds later every level is back near its target.
        book.refresh(touch(1_000), 10.0, &mut rng);
        assert_eq!(book.asks()[0].price, 1_002);
        let total: u64 = book.asks().iter().map(|l| l.size).sum();
        assert!(total > 5_000, "{:?}", book.asks());
    }

    #[test]
    fn the_ladder_stops_at_one_tick() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut book = LimitBook::default();
        book.refresh(touch(3), 0.0, &mut rng);
        assert_eq!(
            book.bids().iter().map(|l| l.price).collect::<Vec<_>>(),
            [3, 2, 1]
        );
        assert_eq!(book.asks().len(), BOOK_DEPTH);
    }

    #[test]
    fn untraded_levels_stay_near_their_target_however_long_the_run() {
        // Found in CI: a level no trade reached took the noise's random walk
        // up until its size overflowed.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut book = LimitBook::default();
        for step in 0..2_000_000 {
            book.refresh(touch(1_000), step as f64 * 0.01, &mut rng);
        }
        let deepest = 500.0 * (1.0 + DEPTH_SLOPE * (BOOK_DEPTH - 1) as f64);
        for level in book.bids().iter().chain(book.asks()) {
            assert!(level.size as f64 <= 20.0 * deepest, "{level:?}");
        }
    }

    #[test]
    fn a_degenerate_depth_is_bounded_not_overflowed() {
        assert_eq!(shares(f64::INFINITY), MAX_LEVEL_SHARES as u64);
        assert_eq!(shares(f64::NAN), 1);
    }
}
