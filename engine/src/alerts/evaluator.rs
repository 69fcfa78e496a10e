//! `Evaluator`: runs the alert rules against the tick stream and turns
//! each firing into an `alert` market event. Constant work per tick and
//! rule (monotonic queues for the moving window's extremes, running sums
//! for averages).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::model::{AlertRule, Condition, Direction, EventKind, EventLevel, MarketEvent, Tick};

/// What a rule remembers between ticks.
enum Memory {
    Cross {
        last: Option<f64>,
    },
    Move {
        /// Prices in the window, in time order, candidates for its minimum
        /// (increasing) and maximum (decreasing).
        lows: VecDeque<(DateTime<Utc>, f64)>,
        highs: VecDeque<(DateTime<Utc>, f64)>,
    },
    Volume {
        minute: i64,
        volume: u64,
        history: VecDeque<u64>,
        sum: u64,
    },
    Spread {
        history: VecDeque<f64>,
        sum: f64,
    },
}

struct Watch {
    rule: AlertRule,
    memory: Memory,
    last_fired: Option<DateTime<Utc>>,
}

/// The rules in force and their memories.
#[derive(Default)]
pub struct Evaluator {
    watches: HashMap<u64, Watch>,
}

fn memory(condition: &Condition) -> Memory {
    match condition {
        Condition::PriceCross { .. } => Memory::Cross { last: None },
        Condition::PercentMove { .. } => Memory::Move {
            lows: VecDeque::new(),
            highs: VecDeque::new(),
        },
        Condition::VolumeSpike { .. } => Memory::Volume {
            minute: i64::MIN,
            volume: 0,
            history: VecDeque::new(),
            sum: 0,
        },
        Condition::SpreadWidening { .. } => Memory::Spread {
            history: VecDeque::new(),
            sum: 0.0,
        },
    }
}

impl Evaluator {
    /// No rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a rule (its memory starts afresh).
    pub fn set(&mut self, rule: AlertRule) {
        let memory = memory(&rule.condition);
        self.watches.insert(
            rule.id,
            Watch {
                rule,
                memory,
                last_fired: None,
            },
        );
    }

    /// Removes a rule.
    pub fn remove(&mut self, id: u64) {
        self.watches.remove(&id);
    }

    /// Evaluates every enabled rule of the tick's symbol; firings go to `out`.
    pub fn apply(&mut self, tick: &Tick, out: &mut Vec<MarketEvent>) {
        for watch in self.watches.values_mut() {
            if !watch.rule.enabled || watch.rule.symbol != tick.symbol {
                continue;
            }
            if let Some(detail) = watch.observe(tick) {
                let cooled = watch.last_fired.is_none_or(|at| {
                    (tick.timestamp - at).to_std().unwrap_or_default() >= watch.rule.cooldown
                });
                if cooled {
                    watch.last_fired = Some(tick.timestamp);
                    out.push(MarketEvent {
                        alert: Some(watch.rule.id),
                        ..MarketEvent::new(
                            EventKind::Alert,
                            EventLevel::Warning,
                            Some(tick.symbol.clone()),
                            format!("Alert: {}: {detail}", watch.rule.describe()),
                            tick.timestamp,
                        )
                    });
                }
            }
        }
    }
}

impl Watch {
    /// Folds the tick in; says what happened when the condition is met.
    fn observe(&mut self, tick: &Tick) -> Option<String> {
        let price = tick.price;
        match (&self.rule.condition, &mut self.memory) {
            (Condition::PriceCross { level, direction }, Memory::Cross { last }) => {
                let previous = last.replace(price)?;
                let up = previous < *level && price >= *level;
                let down = previous > *level && price <= *level;
                let fired = match direction.unwrap_or_default() {
                    Direction::Above => up,
                    Direction::Below => down,
                    Direction::Any => up || down,
                };
                fired.then(|| format!("{} at {price}", if up { "up" } else { "down" }))
            }
            (Condition::PercentMove { percent, window }, Memory::Move { lows, highs }) => {
                let now = tick.timestamp;
                // A tick from any time (Kafka brings what it brings) never overflows.
                let since = chrono::Duration::from_std(*window)
                    .ok()
                    .and_then(|w| now.checked_sub_signed(w))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                while lows.back().is_some_and(|&(_, p)| p >= price) {
                    lows.pop_back();
                }
                while highs.back().is_some_and(|&(_, p)| p <= price) {
                    highs.pop_back();
                }
                lows.push_back((now, price));
                highs.push_back((now, price));
                while lows.front().is_some_and(|&(t, _)| t < since) {
                    lows.pop_front();
                }
                while highs.front().is_some_and(|&(t, _)| t < since) {
                    highs.pop_front();
                }
                let low = lows.front().map_or(price, |&(_, p)| p);
                let high = highs.front().map_or(price, |&(_, p)| p);
                let rise = (price / low - 1.0) * 100.0;
                let fall = (1.0 - price / high) * 100.0;
                if rise >= *percent {
                    Some(format!("up {rise:.2}% from {low} to {price}"))
                } else if fall >= *percent {
                    Some(format!("down {fall:.2}% from {high} to {price}"))
                } else {
                    None
                }
            }
            (
                Condition::VolumeSpike { factor, lookback },
                Memory::Volume {
                    minute,
                    volume,
                    history,
                    sum,
                },
            ) => {
                let this_minute = tick.timestamp.timestamp().div_euclid(60);
                if this_minute != *minute {
                    if *minute != i64::MIN {
                        // Minutes without trades count as zero volume.
                        let gap = (this_minute - *minute - 1).clamp(0, *lookback as i64);
                        for v in std::iter::once(*volume).chain((0..gap).map(|_| 0)) {
                            history.push_back(v);
                            *sum += v;
                            if history.len() > *lookback {
                                *sum -= history.pop_front().unwrap_or(0);
                            }
                        }
                    }
                    (*minute, *volume) = (this_minute, 0);
                }
                *volume += tick.volume;
                let average = *sum as f64 / history.len().max(1) as f64;
                (history.len() == *lookback && average > 0.0 && *volume as f64 >= factor * average)
                    .then(|| format!("{volume} shares this minute, average {average:.0}"))
            }
            (Condition::SpreadWidening { factor, lookback }, Memory::Spread { history, sum }) => {
                let (Some(bid), Some(ask)) = (tick.bid, tick.ask) else {
                    return None;
                };
                let spread = ask - bid;
                let average = *sum / history.len().max(1) as f64;
                let fired =
                    (history.len() == *lookback && average > 0.0 && spread >= factor * average)
                        .then(|| format!("spread {spread:.4}, average {average:.4}"));
                history.push_back(spread);
                *sum += spread;
                if history.len() > *lookback {
                    *sum -= history.pop_front().unwrap_or(0.0);
                }
                fired
            }
            _ => unreachable!("a rule's memory matches its condition"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Symbol;

    fn rule(condition: Condition) -> AlertRule {
        AlertRule {
            id: 1,
            name: None,
            symbol: Symbol::new("AAPL").unwrap(),
            condition,
            cooldown: std::time::Duration::from_secs(60),
            enabled: true,
        }
    }

    fn tick(second: i64, price: f64, volume: u64, spread: f64) -> Tick {
        let mut t = Tick::trade(
            Symbol::new("AAPL").unwrap(),
            price,
            volume,
            DateTime::from_timestamp(1_767_225_600 + second, 0).unwrap(),
        );
        t.bid = Some(price - spread / 2.0);
        t.ask = Some(price + spread / 2.0);
        t
    }

    /// Seconds at which the rule fired over `ticks`.
    fn firings(rule: AlertRule, ticks: &[Tick]) -> Vec<i64> {
        let mut evaluator = Evaluator::new();
        evaluator.set(rule);
        let mut out = Vec::new();
        ticks.iter().for_each(|t| evaluator.apply(t, &mut out));
        out.iter()
            .map(|e| e.timestamp.timestamp() - 1_767_225_600)
            .collect()
    }

    #[test]
    fn price_crosses_fire_once_per_crossing_and_cooldown() {
        let prices = [99.0, 99.5, 100.0, 101.0, 99.0, 100.5];
        let ticks: Vec<Tick> = prices
            .iter()
            .enumerate()
            .map(|(i, p)| tick(i as i64 * 100, *p, 100, 0.02))
            .collect();
        let cross = |direction| {
            rule(Condition::PriceCross {
                level: 100.0,
                direction: Some(direction),
            })
        };
        assert_eq!(firings(cross(Direction::Above), &ticks), [200, 500]);
        assert_eq!(firings(cross(Direction::Below), &ticks), [400]);
        assert_eq!(firings(cross(Direction::Any), &ticks), [200, 400, 500]);
        // Within the cooldown, a second crossing is quiet.
        let mut quick = cross(Direction::Any);
        quick.cooldown = std::time::Duration::from_secs(250);
        assert_eq!(firings(quick, &ticks), [200, 500]);
    }

    #[test]
    fn percent_moves_count_within_the_window_only() {
        let ticks = [
            tick(0, 100.0, 1, 0.0),
            tick(30, 101.0, 1, 0.0),
            tick(59, 102.1, 1, 0.0), // +2.1 % within a minute of 100
            tick(200, 103.0, 1, 0.0),
            tick(300, 104.0, 1, 0.0), // +0.97 % from 103 within the window
            tick(310, 101.5, 1, 0.0), // −2.4 % from 104
        ];
        let moved = rule(Condition::PercentMove {
            percent: 2.0,
            window: std::time::Duration::from_secs(60),
        });
        assert_eq!(firings(moved, &ticks), [59, 310]);
    }

    #[test]
    fn a_tick_at_the_start_of_time_is_evaluated_without_overflow() {
        let mut evaluator = Evaluator::new();
        evaluator.set(rule(Condition::PercentMove {
            percent: 2.0,
            window: std::time::Duration::from_secs(3_600),
        }));
        let mut first = tick(0, 100.0, 1, 0.0);
        first.timestamp = DateTime::<Utc>::MIN_UTC;
        let mut out = Vec::new();
        evaluator.apply(&first, &mut out);
        evaluator.apply(&tick(0, 103.0, 1, 0.0), &mut out);
        assert!(out.len() <= 1, "{out:?}");
    }

    #[test]
    fn volume_spikes_compare_with_the_minutes_before() {
        // Three quiet minutes of 100 shares, then 350 in the fourth.
        let mut ticks: Vec<Tick> = (0..3).map(|m| tick(m * 60, 10.0, 100, 0.0)).collect();
        ticks.extend((0..7).map(|k| tick(180 + k, 10.0, 50, 0.0)));
        let spike = rule(Condition::VolumeSpike {
            factor: 3.0,
            lookback: 3,
        });
        // 300 shares (6 ticks) reach 3 × 100.
        assert_eq!(firings(spike, &ticks), [185]);
    }

    #[test]
    fn spreads_widening_against_their_average() {
        let mut ticks: Vec<Tick> = (0..10).map(|s| tick(s, 50.0, 1, 0.02)).collect();
        ticks.push(tick(10, 50.0, 1, 0.05));
        ticks.push(tick(11, 50.0, 1, 0.07));
        let wide = rule(Condition::SpreadWidening {
            factor: 3.0,
            lookback: 10,
        });
        assert_eq!(firings(wide, &ticks), [11]);
    }

    #[test]
    fn disabled_rules_and_other_symbols_are_ignored() {
        let mut off = rule(Condition::PriceCross {
            level: 100.0,
            direction: None,
        });
        off.enabled = false;
        assert!(firings(off, &[tick(0, 99.0, 1, 0.0), tick(1, 101.0, 1, 0.0)]).is_empty());
        let mut other = tick(1, 101.0, 1, 0.0);
        other.symbol = Symbol::new("MSFT").unwrap();
        let on = rule(Condition::PriceCross {
            level: 100.0,
            direction: None,
        });
        assert!(firings(on, &[tick(0, 99.0, 1, 0.0), other]).is_empty());
    }
}
