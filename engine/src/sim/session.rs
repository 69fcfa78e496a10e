//! Offline simulation: a market's ticks over whole trading days on a
//! simulated clock (no server, no wall clock), written as JSON lines or
//! CSV, with the market events beside them if wanted. Same inputs,
//! byte-identical output.

use std::io::Write;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::{
    Calendar, CalendarKind, Correlations, Model, Output, ScenarioError, ScenarioRequest,
    SimSettings, Simulator, SymbolSpec,
};
use crate::model::{EncodedTick, timestamp};

/// Output format of [`write_sessions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON tick per line, in the wire schema.
    JsonLines,
    /// A header, then one tick per line.
    Csv,
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SessionPlan {
    /// The symbols and their parameters.
    pub universe: Vec<SymbolSpec>,
    /// Random seed.
    pub seed: u64,
    /// First calendar day (New York; trading starts on its first trading day).
    pub start: NaiveDate,
    /// Trading days to simulate (24-hour days for a 24/7 calendar).
    pub days: u32,
    /// Ticks per second of market time at midday, over all symbols.
    pub rate: f64,
    /// The price model.
    pub model: Model,
    /// Target correlations of daily returns.
    pub correlations: Correlations,
    /// When the market trades.
    pub calendar: Calendar,
    /// Scenarios, their delays counted from the simulation's start.
    pub scenarios: Vec<ScenarioRequest>,
}

/// Why a simulation could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Writing the output failed.
    #[error("writing the simulation: {0}")]
    Io(#[from] std::io::Error),
    /// A scenario does not fit the simulated market.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The calendar has no trading day in the ten years from the start.
    #[error("no trading day in the ten years from {0}")]
    NoTradingDay(NaiveDate),
}

impl SessionPlan {
    /// The simulated span: from the first trading day's first trade (its
    /// pre-market, with extended hours) to the last one's end.
    pub fn span(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), SessionError> {
        if self.calendar.kind == CalendarKind::AlwaysOpen {
            let from = self.start.and_time(NaiveTime::MIN).and_utc();
            return Ok((from, from + chrono::Duration::days(i64::from(self.days))));
        }
        let mut days = self
            .calendar
            .trading_days(self.start)
            .take(self.days as usize);
        let first = days.next().ok_or(SessionError::NoTradingDay(self.start))?;
        let last = days.last().unwrap_or(first);
        Ok((first.pre_open, last.post_close))
    }
}

/// Writes every tick of the plan to `ticks` and, when given, every market
/// event as a JSON line to `events`; returns how many ticks.
///
/// # Errors
/// Returns [`SessionError::Io`] when an output fails and
/// [`SessionError::Scenario`] when a scenario names an unknown symbol.
pub fn write_sessions(
    plan: &SessionPlan,
    format: Format,
    mut ticks: impl Write,
    mut events: Option<&mut dyn Write>,
) -> Result<u64, SessionError> {
    let (from, until) = plan.span()?;
    let mut simulator = Simulator::new(
        &plan.universe,
        &SimSettings {
            seed: plan.seed,
            rate: plan.rate,
            model: plan.model,
            correlations: plan.correlations,
            calendar: plan.calendar.clone(),
            start: from,
        },
    );
    for scenario in &plan.scenarios {
        simulator.inject(scenario.clone())?;
    }
    if format == Format::Csv {
        writeln!(ticks, "symbol,price,volume,timestamp,bid,ask,seq,condition")?;
    }
    let mut count = 0;
    while let Some(output) = simulator.next_until(until) {
        let tick = match output {
            Output::Tick(tick) => tick,
            Output::Event(event) => {
                if let Some(out) = events.as_mut() {
                    serde_json::to_writer(&mut *out, &event).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
                continue;
            }
        };
        match format {
            Format::JsonLines => writeln!(ticks, "{}", EncodedTick::new(tick).json())?,
            Format::Csv => {
                let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                let condition = tick
                    .condition
                    .map(|c| {
                        serde_json::to_value(c)
                            .expect("serializes")
                            .as_str()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .unwrap_or_default();
                writeln!(
                    ticks,
                    "{},{},{},{},{},{},{},{}",
                    tick.symbol,
                    tick.price,
                    tick.volume,
                    timestamp::to_string(&tick.timestamp),
                    opt(tick.bid),
                    opt(tick.ask),
                    tick.seq.map(|s| s.to_string()).unwrap_or_default(),
                    condition,
                )?;
            }
        }
        count += 1;
    }
    ticks.flush()?;
    if let Some(out) = events {
        out.flush()?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{MarketEvent, Tick, TradeCondition},
        sim::default_universe,
    };

    fn plan(seed: u64) -> SessionPlan {
        SessionPlan {
            universe: default_universe().into_iter().take(3).collect(),
            seed,
            // A Friday: the second day is the next Monday.
            start: NaiveDate::from_ymd_opt(2026, 3, 6).unwrap(),
            days: 2,
            rate: 2.0,
            model: Model::Realistic,
            correlations: Correlations::default(),
            calendar: Calendar::nyse(false),
            scenarios: Vec::new(),
        }
    }

    fn run(plan: &SessionPlan) -> (Vec<Tick>, Vec<MarketEvent>) {
        let (mut ticks, mut events) = (Vec::new(), Vec::new());
        write_sessions(plan, Format::JsonLines, &mut ticks, Some(&mut events)).unwrap();
        let parse_lines = |bytes: &[u8]| -> Vec<serde_json::Value> {
            std::str::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        (
            parse_lines(&ticks)
                .into_iter()
                .map(|v| serde_json::from_value(v).unwrap())
                .collect(),
            parse_lines(&events)
                .into_iter()
                .map(|v| serde_json::from_value(v).unwrap())
                .collect(),
        )
    }

    #[test]
    fn same_plan_same_bytes() {
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        write_sessions(&plan(1), Format::JsonLines, &mut a, None).unwrap();
        write_sessions(&plan(1), Format::JsonLines, &mut b, None).unwrap();
        write_sessions(&plan(2), Format::JsonLines, &mut c, None).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn trades_only_in_sessions_with_auctions_at_both_ends() {
        let (ticks, events) = run(&plan(1));
        let calendar = Calendar::nyse(false);
        // 2026-03-06 is a Friday in EST (UTC−5); 2026-03-09 a Monday in EDT (UTC−4).
        let opens = ["2026-03-06T14:30:00.000000Z", "2026-03-09T13:30:00.000000Z"];
        let closes = ["2026-03-06T21:00:00.000000Z", "2026-03-09T20:00:00.000000Z"];
        for t in &ticks {
            let at = timestamp::to_string(&t.timestamp);
            let edge = opens.contains(&at.as_str()) || closes.contains(&at.as_str());
            assert!(
                calendar.phase(t.timestamp) == super::super::Phase::Regular || edge,
                "{at}"
            );
            // Prices on the cent grid, trades at the bid or ask (auctions: no quote).
            assert!(((t.price * 100.0).round() - t.price * 100.0).abs() < 1e-6);
            match t.condition {
                None => assert!(t.price == t.bid.unwrap() || t.price == t.ask.unwrap()),
                Some(_) => assert!(t.bid.is_none() && t.volume >= 100),
            }
        }
        for (condition, times) in [
            (TradeCondition::OpeningAuction, opens),
            (TradeCondition::ClosingAuction, closes),
        ] {
            let auctions: Vec<_> = ticks
                .iter()
                .filter(|t| t.condition == Some(condition))
                .collect();
            assert_eq!(
                auctions.len(),
                2 * 3,
                "{condition:?}: one per symbol per day"
            );
            for a in auctions {
                assert!(
                    times.contains(&timestamp::to_string(&a.timestamp).as_str()),
                    "{a:?}"
                );
            }
        }
        let kinds: Vec<_> = events
            .iter()
            .map(|e| (e.kind, timestamp::to_string(&e.timestamp)))
            .collect();
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        assert_eq!(
            kinds[0],
            (crate::model::EventKind::SessionOpen, opens[0].to_owned())
        );
        assert_eq!(
            kinds[3],
            (crate::model::EventKind::SessionClose, closes[1].to_owned())
        );
        // About 2 ticks/s at midday, more at the open and close.
        let continuous = ticks.iter().filter(|t| t.condition.is_none()).count() as f64;
        assert!(
            (60_000.0..180_000.0).contains(&continuous),
            "{continuous} ticks"
        );
    }

    #[test]
    fn extended_hours_trade_thinly_with_wider_spreads() {
        let mut plan = plan(3);
        plan.calendar = Calendar::nyse(true);
        plan.rate = 20.0;
        let (ticks, events) = run(&plan);
        let calendar = Calendar::nyse(true);
        let spread = |phase| {
            let s: Vec<f64> = ticks
                .iter()
                .filter(|t| t.condition.is_none() && calendar.phase(t.timestamp) == phase)
                .map(|t| (t.ask.unwrap() - t.bid.unwrap()) / t.price)
                .collect();
            (s.len() as f64, s.iter().sum::<f64>() / s.len() as f64)
        };
        let (regular_n, regular) = spread(super::super::Phase::Regular);
        let (pre_n, pre) = spread(super::super::Phase::PreMarket);
        let (post_n, post) = spread(super::super::Phase::AfterHours);
        // 5.5 h pre-market + 4 h after hours at 5 % of the rate vs 6.5 h regular.
        assert!(pre_n > 0.0 && post_n > 0.0);
        assert!(
            (pre_n + post_n) / regular_n < 0.15,
            "{pre_n} {post_n} {regular_n}"
        );
        assert!(
            pre > 1.5 * regular && post > 1.5 * regular,
            "{pre} {post} {regular}"
        );
        assert_eq!(
            events.len(),
            8,
            "pre-market, open, close, after-hours close, twice"
        );
    }

    #[test]
    fn csv_has_a_header_and_a_line_per_tick() {
        let mut out = Vec::new();
        let n = write_sessions(&plan(1), Format::Csv, &mut out, None).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("symbol,price,volume,timestamp,bid,ask,seq,condition")
        );
        assert_eq!(lines.count() as u64, n);
        assert!(text.contains(",opening_auction"));
    }
}
