//! The realistic simulator against the stylized facts of equity returns,
//! with fixed seeds and thresholds from the empirical literature (Cont 2001,
//! "Empirical properties of asset returns"; Gopikrishnan et al. 1999 for
//! the inverse cubic law), not tuned to the model.

mod stats;

use std::collections::HashMap;

use chrono::NaiveDate;
use stats::{aggregate, correlation, excess_kurtosis, mean, standardized};
use tickstream::sim::{
    Calendar, Correlations, Model, Output, SimSettings, Simulator, SymbolSpec, default_universe,
};

/// One-minute log returns of each symbol (last trade per minute, sessions
/// only: no overnight returns), and daily close-to-close log returns.
struct Series {
    minute: Vec<Vec<f64>>,
    daily: Vec<Vec<f64>>,
    /// Shares traded continuously (auctions apart) in each minute of the
    /// session, over all symbols and days.
    volume_by_minute: Vec<u64>,
}

/// Runs the whole simulator over `days` NYSE sessions from 2025-01-06.
fn simulate(
    universe: &[SymbolSpec],
    seed: u64,
    days: usize,
    ticks_per_second: f64,
    correlations: Correlations,
) -> Series {
    let calendar = Calendar::nyse(false);
    let sessions: Vec<_> = calendar
        .trading_days(NaiveDate::from_ymd_opt(2025, 1, 6).unwrap())
        .take(days)
        .collect();
    let mut simulator = Simulator::new(
        universe,
        &SimSettings {
            seed,
            rate: ticks_per_second,
            model: Model::Realistic,
            correlations,
            calendar: calendar.clone(),
            start: sessions[0].open,
        },
    );
    let index: HashMap<String, usize> = universe
        .iter()
        .enumerate()
        .map(|(i, s)| (s.symbol.to_string(), i))
        .collect();
    let n = universe.len();
    let mut minute = vec![Vec::new(); n];
    let mut daily = vec![Vec::new(); n];
    let mut prev_close: Vec<Option<f64>> = vec![None; n];
    let mut volume_by_minute = vec![0u64; 390];
    for session in &sessions {
        // Last price of each symbol in each minute of the session.
        let mut last = vec![[None::<f64>; 390]; n];
        while let Some(output) = simulator.next_until(session.close) {
            let Output::Tick(tick) = output else { continue };
            let m = ((tick.timestamp - session.open).num_seconds() / 60).clamp(0, 389) as usize;
            if tick.condition.is_none() {
                volume_by_minute[m] += tick.volume;
            }
            last[index[tick.symbol.as_str()]][m] = Some(tick.price);
        }
        for i in 0..n {
            let mut previous: Option<f64> = None;
            for price in last[i].iter().flatten() {
                if let Some(p) = previous {
                    minute[i].push((price / p).ln());
                }
                previous = Some(*price);
            }
            if let (Some(a), Some(b)) = (prev_close[i], previous) {
                daily[i].push((b / a).ln());
            }
            prev_close[i] = previous.or(prev_close[i]);
        }
    }
    Series {
        minute,
        daily,
        volume_by_minute,
    }
}

/// Autocorrelation at `lag`.
fn acf(x: &[f64], lag: usize) -> f64 {
    let z = standardized(x);
    z.iter().zip(&z[lag..]).map(|(a, b)| a * b).sum::<f64>() / z.len() as f64
}

/// The standard error of the autocorrelation at `lag`, robust to
/// conditional heteroskedasticity.
fn robust_se(x: &[f64], lag: usize) -> f64 {
    let z = standardized(x);
    let cross: f64 = z.iter().zip(&z[lag..]).map(|(a, b)| a * a * b * b).sum();
    cross.sqrt() / z.iter().map(|v| v * v).sum::<f64>()
}

/// Hill estimator of the tail index from the `k` largest of `x`.
fn hill(x: &[f64], k: usize) -> f64 {
    let mut sorted: Vec<f64> = x.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let threshold = sorted[k].ln();
    k as f64 / sorted[..k].iter().map(|v| v.ln() - threshold).sum::<f64>()
}

fn ten_symbols() -> Vec<SymbolSpec> {
    default_universe().into_iter().take(10).collect()
}

#[test]
fn returns_show_the_stylized_facts() {
    let series = simulate(&ten_symbols(), 2_024, 60, 10.0, Correlations::default());
    let pooled: Vec<f64> = series.minute.iter().flat_map(|s| standardized(s)).collect();
    let n = series.minute[0].len() as f64;

    // Heavy tails: the inverse cubic law, tail index in [2.5, 4].
    let abs: Vec<f64> = pooled.iter().map(|v| v.abs()).collect();
    for share in [0.025, 0.05] {
        let alpha = hill(&abs, (abs.len() as f64 * share) as usize);
        assert!(
            (2.5..=4.0).contains(&alpha),
            "Hill tail index {alpha:.2} at the top {share}"
        );
    }

    // Volatility clustering: |r| autocorrelated for 50+ lags, decaying;
    // raw returns uncorrelated beyond lag 2.
    let bound = 2.0 / (n * series.minute.len() as f64).sqrt();
    let mean_acf = |f: &dyn Fn(&[f64]) -> Vec<f64>, lag: usize| {
        mean(
            &series
                .minute
                .iter()
                .map(|s| acf(&f(s), lag))
                .collect::<Vec<_>>(),
        )
    };
    let abs_of = |s: &[f64]| s.iter().map(|v| v.abs()).collect::<Vec<f64>>();
    let raw = |s: &[f64]| s.to_vec();
    for lag in 1..=50 {
        let a = mean_acf(&abs_of, lag);
        assert!(
            a > bound,
            "ACF of |r| at lag {lag} is {a:.4}, not above {bound:.4}"
        );
    }
    assert!(
        mean_acf(&abs_of, 1) > mean_acf(&abs_of, 50),
        "clustering decays"
    );
    // Symbols share the market factor, so their ACF estimates are not
    // independent: raw returns use a single series' bound, robust to the
    // volatility clustering just shown (Bartlett's 2/√n assumes i.i.d.
    // returns; under clustering the standard error is
    // √Σ r²(t)·r²(t+k) / Σ r²(t), Lo & MacKinlay 1989).
    for lag in 3..=20 {
        let a = mean_acf(&raw, lag);
        let single = mean(
            &series
                .minute
                .iter()
                .map(|s| 2.0 * robust_se(s, lag))
                .collect::<Vec<_>>(),
        );
        assert!(
            a.abs() < single,
            "ACF of r at lag {lag} is {a:.4}, bound {single:.4}"
        );
    }

    // Aggregational Gaussianity: kurtosis falls from 1 to 30 minutes to a day.
    let k1 = mean(
        &series
            .minute
            .iter()
            .map(|s| excess_kurtosis(s))
            .collect::<Vec<_>>(),
    );
    let k30 = mean(
        &series
            .minute
            .iter()
            .map(|s| excess_kurtosis(&aggregate(s, 30)))
            .collect::<Vec<_>>(),
    );
    let daily: Vec<f64> = series.daily.iter().flat_map(|s| standardized(s)).collect();
    let kd = excess_kurtosis(&daily);
    assert!(
        k1 > k30 && k30 > kd,
        "excess kurtosis 1 min {k1:.2}, 30 min {k30:.2}, daily {kd:.2}"
    );

    // Leverage: falls precede higher volatility.
    for k in 1..=5 {
        let lev = mean(
            &series
                .minute
                .iter()
                .map(|s| correlation(&s[..s.len() - k], &abs_of(&s[k..])))
                .collect::<Vec<_>>(),
        );
        assert!(lev < -bound, "corr(r(t), |r(t+{k})|) = {lev:.4}");
    }
}

#[test]
fn daily_returns_correlate_as_configured() {
    // Two technology stocks (same sector) and an energy stock.
    // The targets are for symbols of beta 1.
    let universe: Vec<SymbolSpec> = default_universe()
        .into_iter()
        .filter(|s| ["AAPL", "MSFT", "XOM"].contains(&s.symbol.as_str()))
        .map(|s| SymbolSpec { beta: 1.0, ..s })
        .collect();
    for configured in [
        Correlations::default(),
        Correlations {
            market: 0.1,
            sector: 0.7,
        },
    ] {
        let series = simulate(&universe, 7, 1_000, 1.0, configured);
        let same = correlation(&series.daily[0], &series.daily[1]);
        let across = correlation(&series.daily[0], &series.daily[2]);
        assert!(
            (same - configured.sector).abs() <= 0.1,
            "same-sector correlation {same:.3}, configured {}",
            configured.sector
        );
        assert!(
            (across - configured.market).abs() <= 0.1,
            "cross-sector correlation {across:.3}, configured {}",
            configured.market
        );
    }
}

#[test]
fn volume_follows_the_intraday_u_shape() {
    let series = simulate(&ten_symbols(), 5, 10, 10.0, Correlations::default());
    let v = &series.volume_by_minute;
    let mean_of =
        |r: std::ops::Range<usize>| v[r.clone()].iter().sum::<u64>() as f64 / r.len() as f64;
    let (open, midday, close) = (mean_of(0..30), mean_of(165..225), mean_of(360..390));
    assert!(
        open >= 1.5 * midday,
        "first 30 minutes {open:.0} vs midday {midday:.0}"
    );
    assert!(
        close >= 1.5 * midday,
        "last 30 minutes {close:.0} vs midday {midday:.0}"
    );
}

#[test]
fn trades_arrive_in_clusters() {
    // Tick counts in 10-second windows of a 24/7 market: a Poisson clock
    // gives variance/mean 1; trading is burstier (Hawkes branching 0.6: ~6).
    let start = chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap();
    let mut simulator = Simulator::new(
        &ten_symbols(),
        &SimSettings {
            seed: 11,
            rate: 20.0,
            model: Model::Realistic,
            correlations: Correlations::default(),
            calendar: Calendar::always_open(),
            start,
        },
    );
    let mut counts = vec![0.0f64; 2_000];
    while let Some(output) = simulator.next_until(start + chrono::Duration::seconds(20_000)) {
        if let Output::Tick(tick) = output {
            counts[((tick.timestamp - start).num_seconds() / 10).min(1_999) as usize] += 1.0;
        }
    }
    let m = mean(&counts);
    let var = counts.iter().map(|c| (c - m).powi(2)).sum::<f64>() / counts.len() as f64;
    assert!((m - 200.0).abs() < 20.0, "mean {m} ticks per 10 s at 20/s");
    assert!(var / m > 2.0, "index of dispersion {:.2}", var / m);
}

/// Correlation with a reference, relative spread and daily volume of each
/// symbol of a custom universe (its volatility, which varies for years at a
/// time, is checked over decades in `sim_daily.rs`).
#[test]
fn per_symbol_parameters_are_honoured() {
    let spec = |name: &str, beta: f64, spread_bps: f64, adv: f64| SymbolSpec {
        symbol: name.parse().unwrap(),
        price: 100.0,
        tick_size: 0.01,
        volatility: 0.3,
        drift: 0.0,
        sector: None,
        beta,
        spread_bps,
        adv,
    };
    let universe = [
        spec("REF", 1.0, 10.0, 1e6),
        spec("HIGH", 1.5, 10.0, 4e6),
        spec("LOW", 0.5, 30.0, 25e4),
    ];
    let calendar = Calendar::nyse(false);
    let sessions: Vec<_> = calendar
        .trading_days(NaiveDate::from_ymd_opt(2025, 1, 6).unwrap())
        .take(400)
        .collect();
    let mut simulator = Simulator::new(
        &universe,
        &SimSettings {
            seed: 3,
            rate: 2.0,
            model: Model::Realistic,
            correlations: Correlations::default(),
            calendar,
            start: sessions[0].open,
        },
    );
    let (mut daily, mut volume, mut spreads) =
        (vec![Vec::new(); 3], [0.0f64; 3], [(0.0f64, 0.0f64); 3]);
    let mut previous: [Option<f64>; 3] = [None; 3];
    for session in &sessions {
        let mut last: [Option<f64>; 3] = [None; 3];
        while let Some(output) = simulator.next_until(session.close) {
            let Output::Tick(tick) = output else { continue };
            let i = universe
                .iter()
                .position(|s| s.symbol == tick.symbol)
                .unwrap();
            last[i] = Some(tick.price);
            if tick.condition.is_none() {
                volume[i] += tick.volume as f64;
                let (bid, ask) = (tick.bid.unwrap(), tick.ask.unwrap());
                spreads[i].0 += (ask - bid) / ((ask + bid) / 2.0);
                spreads[i].1 += 1.0;
            }
        }
        for i in 0..3 {
            if let (Some(a), Some(b)) = (previous[i], last[i]) {
                daily[i].push((b / a).ln());
            }
            previous[i] = last[i].or(previous[i]);
        }
    }
    let days = sessions.len() as f64;
    for (i, s) in universe.iter().enumerate() {
        let per_day = volume[i] / days;
        assert!(
            (per_day / s.adv - 1.0).abs() < 0.25,
            "{}: {per_day:.0} shares a day, ADV {}",
            s.symbol,
            s.adv
        );
        let spread_bps = spreads[i].0 / spreads[i].1 * 1e4;
        assert!(
            (s.spread_bps..2.0 * s.spread_bps).contains(&spread_bps),
            "{}: mean spread {spread_bps:.1} bp, typical {}",
            s.symbol,
            s.spread_bps
        );
    }
    // The market part of a pair's correlation scales with both betas.
    let market = Correlations::default().market;
    for (i, beta) in [(1, 1.5), (2, 0.5)] {
        let c = correlation(&daily[0], &daily[i]);
        assert!(
            (c - beta * market).abs() <= 0.1,
            "{}: correlation {c:.3} with a beta-1 symbol, expected {}",
            universe[i].symbol,
            beta * market
        );
    }
}
