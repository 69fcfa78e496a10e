//! Offline simulation: a market's ticks over regular US trading sessions
//! (09:30–16:00 America/New_York, weekdays), on a simulated clock, written
//! as JSON lines or CSV. Same inputs, byte-identical output.

use std::io::Write;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::America::New_York;

use super::{Model, SymbolSpec};
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
    /// First calendar day (sessions start on the first weekday from it).
    pub start: NaiveDate,
    /// Trading days to simulate.
    pub days: u32,
    /// Ticks per second of market time, over all symbols.
    pub rate: u32,
    /// The market model.
    pub model: Model,
}

/// Why a simulation could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Writing the output failed.
    #[error("writing the simulation: {0}")]
    Io(#[from] std::io::Error),
}

/// Opening and closing time of the regular session, New York time.
const OPEN: (u32, u32) = (9, 30);
const CLOSE: (u32, u32) = (16, 0);

/// The UTC opening and closing instants of each of `days` trading days from `start`.
pub fn trading_days(
    start: NaiveDate,
    days: u32,
) -> impl Iterator<Item = (chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
    start
        .iter_days()
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .take(days as usize)
        .map(|day| {
            let at = |(h, m): (u32, u32)| {
                let local = day.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("valid time"));
                New_York
                    .from_local_datetime(&local)
                    .single()
                    .expect("09:30 and 16:00 exist on every day in New York")
                    .with_timezone(&Utc)
            };
            (at(OPEN), at(CLOSE))
        })
}

/// Writes every tick of the plan to `out`; returns how many.
///
/// # Errors
/// Returns [`SessionError::Io`] when `out` fails.
pub fn write_sessions(
    plan: &SessionPlan,
    format: Format,
    mut out: impl Write,
) -> Result<u64, SessionError> {
    let per_tick = 1.0 / f64::from(plan.rate);
    let mut market = plan.model.build(
        &plan.universe,
        plan.seed,
        plan.universe.len() as f64 * per_tick,
    );
    if format == Format::Csv {
        writeln!(out, "symbol,price,volume,timestamp,bid,ask,seq")?;
    }
    let mut count = 0;
    for (open, close) in trading_days(plan.start, plan.days) {
        let ticks = (close - open).num_seconds() as u64 * u64::from(plan.rate);
        for k in 0..ticks {
            // Exact integer arithmetic: the k-th tick of the session.
            let at = open + Duration::microseconds((k * 1_000_000 / u64::from(plan.rate)) as i64);
            let tick = market.next_tick(at);
            match format {
                Format::JsonLines => writeln!(out, "{}", EncodedTick::new(tick).json())?,
                Format::Csv => {
                    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                    writeln!(
                        out,
                        "{},{},{},{},{},{},{}",
                        tick.symbol,
                        tick.price,
                        tick.volume,
                        timestamp::to_string(&tick.timestamp),
                        opt(tick.bid),
                        opt(tick.ask),
                        tick.seq.map(|s| s.to_string()).unwrap_or_default(),
                    )?;
                }
            }
            count += 1;
        }
    }
    out.flush()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::default_universe;

    fn plan(seed: u64) -> SessionPlan {
        SessionPlan {
            universe: default_universe().into_iter().take(3).collect(),
            seed,
            // A Friday: the second day is the next Monday.
            start: NaiveDate::from_ymd_opt(2026, 3, 6).unwrap(),
            days: 2,
            rate: 2,
            model: Model::Realistic,
        }
    }

    #[test]
    fn same_plan_same_bytes() {
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        write_sessions(&plan(1), Format::JsonLines, &mut a).unwrap();
        write_sessions(&plan(1), Format::JsonLines, &mut b).unwrap();
        write_sessions(&plan(2), Format::JsonLines, &mut c).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn sessions_follow_new_york_hours_across_dst_and_skip_weekends() {
        // 2026-03-06 is a Friday in EST (UTC-5); 2026-03-09 a Monday in EDT (UTC-4).
        let days: Vec<_> = trading_days(NaiveDate::from_ymd_opt(2026, 3, 6).unwrap(), 2).collect();
        assert_eq!(
            timestamp::to_string(&days[0].0),
            "2026-03-06T14:30:00.000000Z"
        );
        assert_eq!(
            timestamp::to_string(&days[1].0),
            "2026-03-09T13:30:00.000000Z"
        );
        assert_eq!(
            timestamp::to_string(&days[1].1),
            "2026-03-09T20:00:00.000000Z"
        );
    }

    #[test]
    fn writes_every_tick_in_both_formats() {
        let mut out = Vec::new();
        let n = write_sessions(&plan(1), Format::Csv, &mut out).unwrap();
        // Two sessions of 6.5 hours at 2 ticks/s.
        assert_eq!(n, 2 * 23_400 * 2);
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("symbol,price,volume,timestamp,bid,ask,seq")
        );
        assert_eq!(lines.count() as u64, n);
        let mut json = Vec::new();
        write_sessions(&plan(1), Format::JsonLines, &mut json).unwrap();
        let first: crate::model::Tick =
            serde_json::from_str(std::str::from_utf8(&json).unwrap().lines().next().unwrap())
                .unwrap();
        assert_eq!(
            timestamp::to_string(&first.timestamp),
            "2026-03-06T14:30:00.000000Z"
        );
    }
}
