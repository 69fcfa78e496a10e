//! `Calendar`: when the simulated market trades. Either always open (24/7,
//! the default for a live market) or the New York Stock Exchange's
//! calendar: weekdays, NYSE holidays and early closes, the regular session
//! 09:30–16:00 America/New_York and, optionally, pre-market (04:00) and
//! after-hours (until 20:00) trading.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::America::New_York;
use serde::{Deserialize, Serialize};

/// What kind of calendar: `sim.calendar`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarKind {
    /// Trading never stops: no sessions, weekends or auctions.
    #[default]
    AlwaysOpen,
    /// The New York Stock Exchange's sessions, weekends and holidays.
    Nyse,
}

impl std::str::FromStr for CalendarKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '/'], "_")
            .as_str()
        {
            "always_open" | "24_7" => Ok(Self::AlwaysOpen),
            "nyse" => Ok(Self::Nyse),
            _ => Err(format!(
                "invalid calendar {s:?}: expected \"always_open\" (24/7) or \"nyse\""
            )),
        }
    }
}

/// Where the market is in its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No trading.
    Closed,
    /// Early trading before the regular session (thin, wide spreads).
    PreMarket,
    /// The regular session, between the opening and closing auctions.
    Regular,
    /// Late trading after the regular session.
    AfterHours,
}

/// The instants of one trading day, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradingDay {
    /// Pre-market opens (equal to `open` without extended hours).
    pub pre_open: DateTime<Utc>,
    /// Opening auction; the regular session starts.
    pub open: DateTime<Utc>,
    /// Closing auction; the regular session ends (13:00 on early-close days).
    pub close: DateTime<Utc>,
    /// After-hours trading ends (equal to `close` without extended hours).
    pub post_close: DateTime<Utc>,
}

/// A market calendar; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    /// Always open or NYSE.
    pub kind: CalendarKind,
    /// Whether pre-market and after-hours trading happen (NYSE only).
    pub extended_hours: bool,
    /// Extra days without trading, besides weekends and NYSE holidays.
    pub holidays: Vec<NaiveDate>,
}

/// A change of phase at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// When it happens.
    pub at: DateTime<Utc>,
    /// The phase from then on.
    pub phase: Phase,
}

impl Calendar {
    /// The 24/7 calendar.
    pub fn always_open() -> Self {
        Self::default()
    }

    /// The NYSE calendar, with or without extended hours.
    pub fn nyse(extended_hours: bool) -> Self {
        Self {
            kind: CalendarKind::Nyse,
            extended_hours,
            holidays: Vec::new(),
        }
    }

    /// The sessions of `date` (a New York calendar day), or `None` when the
    /// exchange does not trade that day. Always `None` for 24/7.
    pub fn trading_day(&self, date: NaiveDate) -> Option<TradingDay> {
        if self.kind == CalendarKind::AlwaysOpen
            || matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            || nyse_holiday(date)
            || self.holidays.contains(&date)
        {
            return None;
        }
        let at = |h, m| new_york(date, h, m);
        let open = at(9, 30);
        let close = if nyse_early_close(date) {
            at(13, 0)
        } else {
            at(16, 0)
        };
        let (pre_open, post_close) = if self.extended_hours {
            (
                at(4, 0),
                if close == at(16, 0) {
                    at(20, 0)
                } else {
                    at(17, 0)
                },
            )
        } else {
            (open, close)
        };
        Some(TradingDay {
            pre_open,
            open,
            close,
            post_close,
        })
    }

    /// The trading days from `start` on, in order (at most ten years).
    pub fn trading_days(&self, start: NaiveDate) -> impl Iterator<Item = TradingDay> + '_ {
        start
            .iter_days()
            .take(3_660)
            .filter_map(|date| self.trading_day(date))
    }

    /// The phase at `at`.
    pub fn phase(&self, at: DateTime<Utc>) -> Phase {
        if self.kind == CalendarKind::AlwaysOpen {
            return Phase::Regular;
        }
        let Some(day) = self.trading_day(at.with_timezone(&New_York).date_naive()) else {
            return Phase::Closed;
        };
        if at < day.pre_open || at >= day.post_close {
            Phase::Closed
        } else if at < day.open {
            Phase::PreMarket
        } else if at < day.close {
            Phase::Regular
        } else {
            Phase::AfterHours
        }
    }

    /// The first change of phase strictly after `after`; `None` for 24/7.
    pub fn next_transition(&self, after: DateTime<Utc>) -> Option<Transition> {
        if self.kind == CalendarKind::AlwaysOpen {
            return None;
        }
        let from = after.with_timezone(&New_York).date_naive();
        self.trading_days(from).find_map(|day| {
            [
                (day.pre_open, Phase::PreMarket),
                (day.open, Phase::Regular),
                (day.close, Phase::AfterHours),
                (day.post_close, Phase::Closed),
            ]
            .into_iter()
            // Without extended hours pre_open == open and close == post_close:
            // the later phase wins.
            .filter(|&(at, _)| at > after)
            .fold(None::<Transition>, |first, (at, phase)| match first {
                Some(t) if t.at < at => Some(t),
                _ => Some(Transition { at, phase }),
            })
        })
    }

    /// Where `at` falls in the regular session: minutes since the open and
    /// until the close, when it is inside one.
    pub fn regular_minutes(&self, at: DateTime<Utc>) -> Option<(f64, f64)> {
        if self.kind == CalendarKind::AlwaysOpen {
            return None;
        }
        let day = self.trading_day(at.with_timezone(&New_York).date_naive())?;
        (day.open <= at && at < day.close).then(|| {
            let minutes = |d: Duration| d.num_milliseconds() as f64 / 60_000.0;
            (minutes(at - day.open), minutes(day.close - at))
        })
    }
}

/// `h:m` on `date` in New York, as UTC. Exchange hours never fall in a DST gap.
fn new_york(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let local = date.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("valid time"));
    New_York
        .from_local_datetime(&local)
        .earliest()
        .expect("exchange hours exist on every New York day")
        .with_timezone(&Utc)
}

/// The `n`-th (1-based) `weekday` of a month, or the last when `n` is 0.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    if n == 0 {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }
        .expect("valid month");
        let mut day = next.pred_opt().expect("not the first day");
        while day.weekday() != weekday {
            day = day.pred_opt().expect("not the first day");
        }
        return day;
    }
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).expect("the month has it")
}

/// Easter Sunday (Gregorian; the anonymous algorithm of 1876).
fn easter(year: i32) -> NaiveDate {
    let (a, b, c) = (year % 19, year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let g = (8 * b + 13) / 25;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 19 * l) / 433;
    let month = (h + l - 7 * m + 90) / 25;
    let day = (h + l - 7 * m + 33 * month + 19) % 32;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a date")
}

/// A fixed-date holiday as observed: Saturday → Friday, Sunday → Monday.
fn observed(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date.pred_opt().expect("a day before"),
        Weekday::Sun => date.succ_opt().expect("a day after"),
        _ => date,
    }
}

/// Whether the NYSE is closed for a holiday on `date`.
fn nyse_holiday(date: NaiveDate) -> bool {
    let year = date.year();
    let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day).expect("valid date");
    // New Year's Day falling on a Saturday is not observed on the Friday before.
    let new_year = fixed(1, 1);
    let new_year_observed = (new_year.weekday() != Weekday::Sat).then(|| observed(new_year));
    let mut holidays = vec![
        nth_weekday(year, 1, Weekday::Mon, 3), // Martin Luther King Jr. Day
        nth_weekday(year, 2, Weekday::Mon, 3), // Washington's Birthday
        easter(year) - Duration::days(2),      // Good Friday
        nth_weekday(year, 5, Weekday::Mon, 0), // Memorial Day
        observed(fixed(7, 4)),                 // Independence Day
        nth_weekday(year, 9, Weekday::Mon, 1), // Labor Day
        nth_weekday(year, 11, Weekday::Thu, 4), // Thanksgiving
        observed(fixed(12, 25)),               // Christmas
    ];
    holidays.extend(new_year_observed);
    if year >= 2022 {
        holidays.push(observed(fixed(6, 19))); // Juneteenth
    }
    holidays.contains(&date)
}

/// Whether the NYSE closes at 13:00 on `date`: the day before Independence
/// Day, the day after Thanksgiving, Christmas Eve (when they are trading days).
fn nyse_early_close(date: NaiveDate) -> bool {
    let year = date.year();
    let weekday = !matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let fixed = |month, day| NaiveDate::from_ymd_opt(year, month, day).expect("valid date");
    let day_after_thanksgiving = nth_weekday(year, 11, Weekday::Thu, 4) + Duration::days(1);
    weekday
        && !nyse_holiday(date)
        && (date == day_after_thanksgiving
            || (date == fixed(7, 3) && date.weekday() != Weekday::Fri)
            || (date == fixed(12, 24) && date.weekday() != Weekday::Fri))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::timestamp;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        timestamp::parse(s).unwrap()
    }

    #[test]
    fn knows_the_nyse_holidays_of_2026() {
        // NYSE's published 2026 holidays.
        let published = [
            date(2026, 1, 1),
            date(2026, 1, 19),
            date(2026, 2, 16),
            date(2026, 4, 3),
            date(2026, 5, 25),
            date(2026, 6, 19),
            date(2026, 7, 3),
            date(2026, 9, 7),
            date(2026, 11, 26),
            date(2026, 12, 25),
        ];
        let found: Vec<_> = date(2026, 1, 1)
            .iter_days()
            .take_while(|d| d.year() == 2026)
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && nyse_holiday(*d))
            .collect();
        assert_eq!(found, published);
        assert_eq!(easter(2024), date(2024, 3, 31));
        assert_eq!(easter(2027), date(2027, 3, 28));
        // 2022-01-01 was a Saturday: no closure on Friday 2021-12-31.
        assert!(!nyse_holiday(date(2021, 12, 31)));
    }

    #[test]
    fn closes_early_after_thanksgiving_and_on_christmas_eve() {
        let cal = Calendar::nyse(false);
        let friday = cal.trading_day(date(2026, 11, 27)).unwrap();
        assert_eq!(
            timestamp::to_string(&friday.close),
            "2026-11-27T18:00:00.000000Z"
        );
        let eve = cal.trading_day(date(2026, 12, 24)).unwrap();
        assert_eq!(
            timestamp::to_string(&eve.close),
            "2026-12-24T18:00:00.000000Z"
        );
        assert!(
            cal.trading_day(date(2026, 11, 26)).is_none(),
            "Thanksgiving"
        );
    }

    #[test]
    fn phases_follow_new_york_hours_across_dst() {
        let cal = Calendar::nyse(true);
        // Friday 2026-03-06 is EST (UTC−5).
        assert_eq!(cal.phase(utc("2026-03-06T08:59:00Z")), Phase::Closed);
        assert_eq!(cal.phase(utc("2026-03-06T09:00:00Z")), Phase::PreMarket);
        assert_eq!(cal.phase(utc("2026-03-06T14:30:00Z")), Phase::Regular);
        assert_eq!(cal.phase(utc("2026-03-06T21:00:00Z")), Phase::AfterHours);
        assert_eq!(cal.phase(utc("2026-03-07T15:00:00Z")), Phase::Closed);
        // Monday 2026-03-09 is EDT (UTC−4).
        assert_eq!(cal.phase(utc("2026-03-09T13:30:00Z")), Phase::Regular);
        assert_eq!(cal.phase(utc("2026-03-09T13:29:59Z")), Phase::PreMarket);
        assert_eq!(
            Calendar::nyse(false).phase(utc("2026-03-09T13:29:59Z")),
            Phase::Closed
        );
        assert_eq!(
            Calendar::always_open().phase(utc("2026-03-07T03:00:00Z")),
            Phase::Regular
        );
    }

    #[test]
    fn transitions_walk_through_a_weekend() {
        let cal = Calendar::nyse(false);
        // After Friday's close, the next change is Monday's open.
        let t = cal.next_transition(utc("2026-03-06T21:00:00Z")).unwrap();
        assert_eq!(timestamp::to_string(&t.at), "2026-03-09T13:30:00.000000Z");
        assert_eq!(t.phase, Phase::Regular);
        let t = cal.next_transition(t.at).unwrap();
        assert_eq!(timestamp::to_string(&t.at), "2026-03-09T20:00:00.000000Z");
        assert_eq!(t.phase, Phase::Closed);
        let extended = Calendar::nyse(true);
        let phases: Vec<Phase> =
            std::iter::successors(extended.next_transition(utc("2026-03-09T00:00:00Z")), |t| {
                extended.next_transition(t.at)
            })
            .take(4)
            .map(|t| t.phase)
            .collect();
        assert_eq!(
            phases,
            [
                Phase::PreMarket,
                Phase::Regular,
                Phase::AfterHours,
                Phase::Closed
            ]
        );
        assert!(
            Calendar::always_open()
                .next_transition(Utc::now())
                .is_none()
        );
    }

    #[test]
    fn extra_holidays_close_the_market() {
        let mut cal = Calendar::nyse(false);
        cal.holidays.push(date(2026, 3, 9));
        assert_eq!(cal.phase(utc("2026-03-09T15:00:00Z")), Phase::Closed);
        let (since, until) = Calendar::nyse(false)
            .regular_minutes(utc("2026-03-09T14:00:00Z"))
            .unwrap();
        assert_eq!((since, until), (30.0, 360.0));
    }
}
