//! Scenarios against the same market without them: a scenario changes
//! exactly what it says (the random draws are the same), emits its events,
//! and refuses what makes no sense.

use chrono::{DateTime, Duration, Utc};
use tickstream::{
    model::{EventKind, EventLevel, MarketEvent, ScenarioState, Tick, TradeCondition},
    sim::{
        Calendar, Correlations, Model, Output, ScenarioError, ScenarioRequest, SimSettings,
        Simulator, default_universe,
    },
};

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap()
}

/// A 24/7 market of the default universe at `rate` ticks/s.
fn market(seed: u64, rate: f64) -> Simulator {
    Simulator::new(
        &default_universe(),
        &SimSettings {
            seed,
            rate,
            model: Model::Realistic,
            correlations: Correlations::default(),
            calendar: Calendar::always_open(),
            start: start(),
        },
    )
}

/// `minutes` of a 24/7 market at 50 ticks/s, with the scenarios given;
/// ticks and events apart.
fn run(scenarios: &[&str], minutes: i64) -> (Vec<Tick>, Vec<MarketEvent>) {
    let mut simulator = market(9, 50.0);
    for words in scenarios {
        simulator
            .inject(ScenarioRequest::parse_words(words).unwrap())
            .unwrap();
    }
    let (mut ticks, mut events) = (Vec::new(), Vec::new());
    while let Some(output) = simulator.next_until(start() + Duration::minutes(minutes)) {
        match output {
            Output::Tick(tick) => ticks.push(tick),
            Output::Event(event) => events.push(event),
        }
    }
    (ticks, events)
}

fn mid(t: &Tick) -> f64 {
    (t.bid.unwrap() + t.ask.unwrap()) / 2.0
}

fn at(minutes: f64) -> DateTime<Utc> {
    start() + Duration::milliseconds((minutes * 60_000.0) as i64)
}

/// Ratio of each `symbol` mid to the baseline's, tick by tick, with its time.
fn ratios(base: &[Tick], changed: &[Tick], symbol: &str) -> Vec<(DateTime<Utc>, f64)> {
    assert_eq!(base.len(), changed.len(), "the same trades happen");
    base.iter()
        .zip(changed)
        .filter(|(b, c)| b.symbol.as_str() == symbol && b.condition.is_none() && c.bid.is_some())
        .map(|(b, c)| (b.timestamp, mid(c) / mid(b)))
        .collect()
}

#[test]
fn a_flash_crash_moves_the_price_by_its_depth_and_recovers() {
    let (base, _) = run(&[], 12);
    let (crashed, events) = run(
        &["flash_crash symbol=AAPL depth=0.05 fall=60s recovery=120s after=5m"],
        12,
    );
    let aapl = ratios(&base, &crashed, "AAPL");
    let before: Vec<f64> = aapl
        .iter()
        .filter(|(t, _)| *t < at(5.0))
        .map(|r| r.1)
        .collect();
    assert!(
        before.iter().all(|r| *r == 1.0),
        "nothing moves before it starts"
    );
    // At the bottom (one minute in) the price is 5 % down, to the cent.
    let bottom = aapl
        .iter()
        .filter(|(t, _)| (at(5.95)..at(6.05)).contains(t))
        .map(|r| r.1)
        .fold(f64::INFINITY, f64::min);
    assert!(
        (bottom - 0.95).abs() < 0.002,
        "bottom at {bottom:.4} of the price"
    );
    assert!(aapl.iter().all(|(_, r)| *r >= 0.95 - 0.001));
    // Halfway through the recovery, halfway back.
    let halfway: Vec<f64> = aapl
        .iter()
        .filter(|(t, _)| (at(6.95)..at(7.05)).contains(t))
        .map(|r| r.1)
        .collect();
    assert!(
        halfway.iter().all(|r| (r - 0.975).abs() < 0.003),
        "{halfway:?}"
    );
    let after: Vec<f64> = aapl
        .iter()
        .filter(|(t, _)| *t > at(8.01))
        .map(|r| r.1)
        .collect();
    assert!(
        !after.is_empty() && after.iter().all(|r| *r == 1.0),
        "recovered"
    );
    // Other symbols do not move.
    assert!(
        ratios(&base, &crashed, "MSFT")
            .iter()
            .all(|(_, r)| *r == 1.0)
    );

    let crash: Vec<&MarketEvent> = events
        .iter()
        .filter(|e| e.kind == EventKind::FlashCrash)
        .collect();
    assert_eq!(crash.len(), 2, "{events:?}");
    assert_eq!(
        (crash[0].level, crash[0].timestamp),
        (EventLevel::Critical, at(5.0))
    );
    assert_eq!(crash[0].symbol.as_ref().unwrap().as_str(), "AAPL");
    assert!(crash[0].message.contains("-5.0%"), "{}", crash[0].message);
    assert_eq!(
        (crash[1].level, crash[1].timestamp),
        (EventLevel::Info, at(8.0))
    );
    assert_eq!(crash[0].scenario, Some(1));
}

#[test]
fn a_market_wide_crash_moves_every_symbol() {
    let (base, _) = run(&[], 3);
    let (crashed, _) = run(&["flash_crash depth=0.1 fall=60s recovery=60s"], 3);
    for symbol in ["AAPL", "XOM", "JPM"] {
        let bottom = ratios(&base, &crashed, symbol)
            .iter()
            .map(|r| r.1)
            .fold(f64::INFINITY, f64::min);
        assert!((bottom - 0.9).abs() < 0.003, "{symbol} bottom {bottom:.4}");
    }
}

#[test]
fn a_halt_stops_a_symbol_until_it_resumes_with_an_auction() {
    let (ticks, events) = run(&["halt symbol=NVDA duration=2m after=1m"], 5);
    let nvda: Vec<&Tick> = ticks
        .iter()
        .filter(|t| t.symbol.as_str() == "NVDA")
        .collect();
    assert!(nvda.iter().any(|t| t.timestamp < at(1.0)));
    assert!(
        nvda.iter()
            .all(|t| t.timestamp < at(1.0) || t.timestamp >= at(3.0)),
        "no NVDA trade while halted"
    );
    let reopening: Vec<&&Tick> = nvda
        .iter()
        .filter(|t| t.condition == Some(TradeCondition::ReopeningAuction))
        .collect();
    assert_eq!(reopening.len(), 1);
    assert_eq!(reopening[0].timestamp, at(3.0));
    let kinds: Vec<(EventKind, DateTime<Utc>)> =
        events.iter().map(|e| (e.kind, e.timestamp)).collect();
    assert_eq!(
        kinds,
        [(EventKind::Halt, at(1.0)), (EventKind::Resume, at(3.0))]
    );
    // Others trade on.
    assert!(
        ticks
            .iter()
            .any(|t| t.symbol.as_str() == "AAPL" && (at(1.0)..at(3.0)).contains(&t.timestamp))
    );
}

#[test]
fn halts_and_resumes_are_checked() {
    let mut simulator = market(1, 10.0);
    let mut inject = |words: &str| simulator.inject(ScenarioRequest::parse_words(words).unwrap());
    assert!(matches!(
        inject("resume symbol=AAPL"),
        Err(ScenarioError::NotHalted(_))
    ));
    let halt = inject("halt symbol=AAPL").unwrap();
    assert_eq!(
        (halt.id, halt.state, halt.ends_at),
        (1, ScenarioState::Active, None)
    );
    assert!(matches!(
        inject("halt symbol=AAPL"),
        Err(ScenarioError::AlreadyHalted(_))
    ));
    assert_eq!(
        inject("resume symbol=AAPL").unwrap().state,
        ScenarioState::Finished
    );
    assert!(matches!(
        inject("news_shock symbol=ZZZZ jump=0.1"),
        Err(ScenarioError::UnknownSymbol(_))
    ));
    let err = inject("sector_rotation from=Technology to=Mining").unwrap_err();
    assert!(
        err.to_string().contains("\"to\"") && err.to_string().contains("Mining"),
        "{err}"
    );
    assert_eq!(simulator.scenarios()[0].state, ScenarioState::Finished);
}

/// Standard deviation of a symbol's tick-to-tick log mid changes in a window.
fn volatility(ticks: &[Tick], symbol: Option<&str>, from: f64, to: f64) -> f64 {
    let mut last = std::collections::HashMap::new();
    let mut changes = Vec::new();
    for t in ticks.iter().filter(|t| {
        t.condition.is_none()
            && symbol.is_none_or(|s| t.symbol.as_str() == s)
            && (at(from)..at(to)).contains(&t.timestamp)
    }) {
        if let Some(previous) = last.insert(t.symbol.clone(), mid(t)) {
            changes.push((mid(t) / previous).ln());
        }
    }
    (changes.iter().map(|c| c * c).sum::<f64>() / changes.len() as f64).sqrt()
}

#[test]
fn news_jumps_the_price_and_raises_its_volatility_for_a_while() {
    let (base, _) = run(&[], 30);
    let (shocked, events) = run(
        &["news_shock symbol=TSLA jump=-0.08 volatility=4 decay=2m after=5m"],
        30,
    );
    let tsla = ratios(&base, &shocked, "TSLA");
    let first = tsla.iter().find(|(t, _)| *t >= at(5.0)).unwrap().1;
    assert!(
        (first - 0.92).abs() < 0.01,
        "first trade after the news at {first:.4}"
    );
    let (calm, stormy) = (
        volatility(&base, Some("TSLA"), 5.0, 8.0),
        volatility(&shocked, Some("TSLA"), 5.0, 8.0),
    );
    assert!(stormy > 2.0 * calm, "volatility {stormy:.2e} vs {calm:.2e}");
    // Faded after five decays.
    let (calm, later) = (
        volatility(&base, Some("TSLA"), 20.0, 30.0),
        volatility(&shocked, Some("TSLA"), 20.0, 30.0),
    );
    assert!(
        later < 1.2 * calm,
        "volatility {later:.2e} vs {calm:.2e} after fading"
    );
    let news: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::News)
        .collect();
    assert_eq!(news.len(), 2);
    assert_eq!(
        (news[0].level, news[0].timestamp),
        (EventLevel::Critical, at(5.0))
    );
    assert_eq!(news[1].timestamp, at(15.0));
}

#[test]
fn a_regime_change_scales_market_volatility() {
    let (base, _) = run(&[], 20);
    let (stormy, events) = run(&["regime_change volatility=3 after=10m"], 20);
    let ratio = volatility(&stormy, None, 10.0, 20.0) / volatility(&base, None, 10.0, 20.0);
    assert!((2.0..4.0).contains(&ratio), "volatility ×{ratio:.2}");
    let before = volatility(&stormy, None, 0.0, 10.0) / volatility(&base, None, 0.0, 10.0);
    assert!((before - 1.0).abs() < 1e-9, "unchanged before: ×{before}");
    assert_eq!(events[0].kind, EventKind::RegimeChange);
}

#[test]
fn a_sector_rotation_moves_money_between_sectors() {
    let (base, _) = run(&[], 40);
    let (rotated, events) = run(
        &["sector_rotation from=Technology to=Energy size=0.05 duration=30m after=5m"],
        40,
    );
    let settled = |symbol| {
        ratios(&base, &rotated, symbol)
            .iter()
            .find(|(t, _)| *t > at(36.0))
            .unwrap()
            .1
    };
    assert!(
        (settled("MSFT") - 0.95).abs() < 0.005,
        "MSFT ×{}",
        settled("MSFT")
    );
    assert!(
        (settled("NVDA") - 0.95).abs() < 0.005,
        "NVDA ×{}",
        settled("NVDA")
    );
    assert!(
        (settled("XOM") - 1.05).abs() < 0.005,
        "XOM ×{}",
        settled("XOM")
    );
    assert!((settled("JPM") - 1.0).abs() < 1e-9, "JPM unmoved");
    let rotation: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::SectorRotation)
        .map(|e| e.timestamp)
        .collect();
    assert_eq!(rotation, [at(5.0), at(35.0)]);
}

#[test]
fn a_thousand_news_shocks_stop_at_the_bound_and_prices_stay_finite() {
    let mut simulator = market(5, 50.0);
    let (mut accepted, mut refused) = (0, 0);
    let mut last = start();
    for i in 0..1_000 {
        let shock = "news_shock symbol=AAPL jump=2 volatility=1 decay=1s";
        match simulator.inject(ScenarioRequest::parse_words(shock).unwrap()) {
            Ok(_) => accepted += 1,
            Err(ScenarioError::Limit { field, message }) => {
                assert_eq!(field, "jump", "{message}");
                refused += 1;
            }
            Err(other) => panic!("shock {i}: {other}"),
        }
        // Let each shock fade so the pending bound is not what stops them.
        last += Duration::seconds(10);
        while let Some(output) = simulator.next_until(last) {
            if let Output::Tick(tick) = output {
                for price in [tick.price, tick.bid.unwrap(), tick.ask.unwrap()] {
                    assert!(price.is_finite() && price > 0.0, "{tick:?}");
                }
            }
        }
    }
    // ×3 a shock: two fit under ×10, the third would not.
    assert_eq!((accepted, refused), (2, 998));
    // The other way is still open: news may bring it back down.
    let down = "news_shock symbol=AAPL jump=-0.5 volatility=1 decay=1s";
    simulator
        .inject(ScenarioRequest::parse_words(down).unwrap())
        .unwrap();
}

#[test]
fn scenarios_scheduled_or_active_at_once_are_bounded() {
    let mut simulator = market(5, 50.0);
    let later = "regime_change volatility=1.2 after=1h";
    for _ in 0..64 {
        simulator
            .inject(ScenarioRequest::parse_words(later).unwrap())
            .unwrap();
    }
    let error = simulator
        .inject(ScenarioRequest::parse_words(later).unwrap())
        .unwrap_err();
    assert!(
        matches!(error, ScenarioError::Limit { field: "kind", .. }),
        "{error}"
    );
}
