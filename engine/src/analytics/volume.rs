//! Volume analysis: each symbol's share of the session's volume and its
//! price's distance from the session VWAP, and the volume traded by time of
//! day in an exchange's time zone, averaged over the days seen.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;

use crate::model::{Quote, SymbolVolume, TimeOfDay, TimeSlot};

/// Session volume and VWAP deviation of each quote, most traded first.
pub fn by_symbol(quotes: &[Quote]) -> Vec<SymbolVolume> {
    let total: u64 = quotes.iter().map(|q| q.volume).sum();
    let mut rows: Vec<SymbolVolume> = quotes
        .iter()
        .map(|q| SymbolVolume {
            symbol: q.symbol.clone(),
            volume: q.volume,
            share_percent: percent(q.volume as f64, total as f64),
            price: q.price,
            vwap: q.vwap,
            vwap_deviation_percent: percent(q.price - q.vwap, q.vwap),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.volume
            .cmp(&a.volume)
            .then_with(|| a.symbol.cmp(&b.symbol))
    });
    rows
}

/// Volume in `buckets` (start, shares; each inside one slot) gathered into
/// `minutes`-long slots of the local day in `tz`, averaged over the local
/// days that had volume.
pub fn by_time_of_day(buckets: &[(DateTime<Utc>, u64)], tz: Tz, minutes: u32) -> TimeOfDay {
    let minutes = minutes.clamp(1, 1_440);
    let mut slots = BTreeMap::<u32, u64>::new();
    let mut days = BTreeSet::new();
    for &(start, volume) in buckets {
        if volume == 0 {
            continue;
        }
        let local = start.with_timezone(&tz);
        days.insert(local.date_naive());
        let minute = local.hour() * 60 + local.minute();
        *slots.entry(minute / minutes * minutes).or_default() += volume;
    }
    let total: u64 = slots.values().sum();
    let per_day = days.len().max(1) as f64;
    TimeOfDay {
        timezone: tz.name().to_owned(),
        minutes,
        days: days.len(),
        slots: slots
            .into_iter()
            .map(|(minute, volume)| TimeSlot {
                start: format!("{:02}:{:02}", minute / 60, minute % 60),
                volume: volume as f64 / per_day,
                share_percent: percent(volume as f64, total as f64),
            })
            .collect(),
    }
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        0.0
    } else {
        part / whole * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timestamp;

    fn at(text: &str) -> DateTime<Utc> {
        timestamp::parse(text).unwrap()
    }

    #[test]
    fn slots_are_local_times_averaged_over_days() {
        // 14:30 UTC is 09:30 in New York in winter; 13:30 UTC is 09:30 in summer.
        let buckets = [
            (at("2026-01-05T14:30:00Z"), 300),
            (at("2026-01-05T14:45:00Z"), 100),
            (at("2026-01-05T20:45:00Z"), 200),
            (at("2026-07-06T13:30:00Z"), 100),
            (at("2026-07-06T14:00:00Z"), 0),
        ];
        let day = by_time_of_day(&buckets, chrono_tz::America::New_York, 30);
        assert_eq!(day.timezone, "America/New_York");
        assert_eq!(day.days, 2);
        let slots: Vec<(&str, f64)> = day
            .slots
            .iter()
            .map(|s| (s.start.as_str(), s.volume))
            .collect();
        assert_eq!(slots, [("09:30", 250.0), ("15:30", 100.0)]);
        assert_eq!(day.slots[0].share_percent, 500.0 / 700.0 * 100.0);
    }

    #[test]
    fn symbols_are_ranked_by_volume_with_their_vwap_distance() {
        let quote = |symbol: &str, volume: u64, price: f64, vwap: f64| Quote {
            symbol: symbol.parse().unwrap(),
            price,
            bid: None,
            ask: None,
            open: price,
            high: price,
            low: price,
            change: 0.0,
            change_percent: 0.0,
            vwap,
            volume,
            trades: 1,
            timestamp: Utc::now(),
        };
        let rows = by_symbol(&[
            quote("AAPL", 100, 101.0, 100.0),
            quote("MSFT", 300, 99.0, 100.0),
        ]);
        assert_eq!(rows[0].symbol.as_str(), "MSFT");
        assert_eq!(rows[0].share_percent, 75.0);
        assert!((rows[0].vwap_deviation_percent - -1.0).abs() < 1e-12);
        assert!((rows[1].vwap_deviation_percent - 1.0).abs() < 1e-12);
    }
}
