//! The realistic simulator against the stylized facts of equity returns,
//! with fixed seeds and thresholds from the empirical literature (Cont 2001,
//! "Empirical properties of asset returns"; Gopikrishnan et al. 1999 for
//! the inverse cubic law), not tuned to the model.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use tickstream::sim::{
    MARKET_CORRELATION, Market, Realistic, SECTOR_CORRELATION, SymbolSpec, default_universe,
    trading_days,
};

/// One-minute log returns of each symbol (last trade per minute, sessions
/// only: no overnight returns), and daily close-to-close log returns.
struct Series {
    minute: Vec<Vec<f64>>,
    daily: Vec<Vec<f64>>,
    /// Shares traded in each minute of the session, over all symbols and days.
    volume_by_minute: Vec<u64>,
}

fn simulate(universe: &[SymbolSpec], seed: u64, days: u32, ticks_per_second: u32) -> Series {
    let mut market = Realistic::new(universe, seed);
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
    for (open, close) in trading_days(NaiveDate::from_ymd_opt(2025, 1, 6).unwrap(), days) {
        let seconds = (close - open).num_seconds();
        let mut last: Vec<Option<f64>> = vec![None; n];
        let mut minute_start: Vec<Option<f64>> = vec![None; n];
        let mut current_minute = 0;
        for k in 0..seconds * i64::from(ticks_per_second) {
            let at = open + Duration::microseconds(k * 1_000_000 / i64::from(ticks_per_second));
            let m = k / i64::from(ticks_per_second) / 60;
            if m != current_minute {
                for i in 0..n {
                    if let (Some(a), Some(b)) = (minute_start[i], last[i]) {
                        minute[i].push((b / a).ln());
                    }
                    minute_start[i] = last[i];
                }
                current_minute = m;
            }
            let tick = market.next_tick(at);
            volume_by_minute[(m as usize).min(389)] += tick.volume;
            let i = index[tick.symbol.as_str()];
            if minute_start[i].is_none() {
                minute_start[i] = Some(tick.price);
            }
            last[i] = Some(tick.price);
        }
        for i in 0..n {
            if let (Some(a), Some(b)) = (prev_close[i], last[i]) {
                daily[i].push((b / a).ln());
            }
            prev_close[i] = last[i];
        }
    }
    Series {
        minute,
        daily,
        volume_by_minute,
    }
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn standardized(x: &[f64]) -> Vec<f64> {
    let m = mean(x);
    let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    x.iter().map(|v| (v - m) / sd).collect()
}

fn excess_kurtosis(x: &[f64]) -> f64 {
    let z = standardized(x);
    z.iter().map(|v| v.powi(4)).sum::<f64>() / z.len() as f64 - 3.0
}

/// Autocorrelation at `lag`.
fn acf(x: &[f64], lag: usize) -> f64 {
    let z = standardized(x);
    z.iter().zip(&z[lag..]).map(|(a, b)| a * b).sum::<f64>() / z.len() as f64
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (za, zb) = (standardized(a), standardized(b));
    za.iter().zip(&zb).map(|(x, y)| x * y).sum::<f64>() / za.len() as f64
}

/// Hill estimator of the tail index from the `k` largest of `x`.
fn hill(x: &[f64], k: usize) -> f64 {
    let mut sorted: Vec<f64> = x.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let threshold = sorted[k].ln();
    k as f64 / sorted[..k].iter().map(|v| v.ln() - threshold).sum::<f64>()
}

/// Sums of `width` consecutive returns.
fn aggregate(x: &[f64], width: usize) -> Vec<f64> {
    x.chunks_exact(width).map(|c| c.iter().sum()).collect()
}

fn ten_symbols() -> Vec<SymbolSpec> {
    default_universe().into_iter().take(10).collect()
}

#[test]
fn returns_show_the_stylized_facts() {
    let series = simulate(&ten_symbols(), 2_024, 60, 10);
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
    // independent: raw returns use the single-series bound.
    let single = 2.0 / n.sqrt();
    for lag in 3..=20 {
        let a = mean_acf(&raw, lag);
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
    let universe: Vec<SymbolSpec> = default_universe()
        .into_iter()
        .filter(|s| ["AAPL", "MSFT", "XOM"].contains(&s.symbol.as_str()))
        .collect();
    let series = simulate(&universe, 7, 500, 1);
    let same = correlation(&series.daily[0], &series.daily[1]);
    let across = correlation(&series.daily[0], &series.daily[2]);
    let configured = MARKET_CORRELATION + SECTOR_CORRELATION;
    assert!(
        (same - configured).abs() <= 0.1,
        "same-sector correlation {same:.3}, configured {configured}"
    );
    assert!(
        (across - MARKET_CORRELATION).abs() <= 0.1,
        "cross-sector correlation {across:.3}, configured {MARKET_CORRELATION}"
    );
}

#[test]
fn volume_follows_the_intraday_u_shape() {
    let series = simulate(&ten_symbols(), 5, 10, 10);
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
