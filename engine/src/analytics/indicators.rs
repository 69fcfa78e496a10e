//! Technical indicators over a symbol's candles: simple and exponential
//! moving averages, Bollinger bands, Wilder's RSI and the session VWAP. Pure
//! functions from candles to one value (or none, while warming up) per
//! candle, so the engine computes what the dashboard draws.

use crate::model::{Candle, Indicator};

/// The lines an indicator draws: one, or three for Bollinger bands; each
/// holds one value per candle (`None` while warming up).
#[derive(Debug, Clone, PartialEq)]
pub struct Lines {
    /// Line names (`value`, or `middle`, `upper`, `lower`) and values.
    pub lines: Vec<(&'static str, Vec<Option<f64>>)>,
}

impl Indicator {
    /// The candles before the first returned one needed so every returned
    /// value is settled: the period for windows; four periods for the
    /// recursive EMA and RSI (their start's weight is then below 1e-3 for
    /// periods ≥ 3); a day's worth is the caller's for VWAP.
    pub fn warm_up(&self) -> usize {
        match *self {
            Indicator::Sma { period } | Indicator::Bollinger { period, .. } => period - 1,
            Indicator::Ema { period } | Indicator::Rsi { period } => 4 * period,
            Indicator::Vwap => 0,
        }
    }

    /// Why these parameters are unusable, naming the parameter.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let period = match *self {
            Indicator::Sma { period }
            | Indicator::Ema { period }
            | Indicator::Rsi { period }
            | Indicator::Bollinger { period, .. } => period,
            Indicator::Vwap => return None,
        };
        if !(2..=500).contains(&period) {
            return Some(("period", format!("must be between 2 and 500, got {period}")));
        }
        match *self {
            Indicator::Bollinger { k, .. } if !(k > 0.0 && k <= 10.0) => {
                Some(("k", format!("must be above 0 and at most 10, got {k}")))
            }
            _ => None,
        }
    }

    /// Computes the indicator over `candles` (oldest first).
    pub fn compute(&self, candles: &[Candle]) -> Lines {
        let closes: Vec<f64> = candles.iter().map(|c| c.close).collect();
        let lines = match *self {
            Indicator::Sma { period } => vec![("value", sma(&closes, period))],
            Indicator::Ema { period } => vec![("value", ema(&closes, period))],
            Indicator::Bollinger { period, k } => {
                let (middle, upper, lower) = bollinger(&closes, period, k);
                vec![("middle", middle), ("upper", upper), ("lower", lower)]
            }
            Indicator::Rsi { period } => vec![("value", rsi(&closes, period))],
            Indicator::Vwap => vec![("value", session_vwap(candles))],
        };
        Lines { lines }
    }
}

/// Simple moving average: the mean of each window of `period` values.
pub fn sma(values: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; values.len()];
    let mut sum = 0.0;
    for (i, v) in values.iter().enumerate() {
        sum += v;
        if i >= period {
            sum -= values[i - period];
        }
        if i + 1 >= period {
            out[i] = Some(sum / period as f64);
        }
    }
    out
}

/// Exponential moving average with weight `2 / (period + 1)`, seeded with
/// the simple average of the first `period` values.
pub fn ema(values: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; values.len()];
    if values.len() < period {
        return out;
    }
    let alpha = 2.0 / (period as f64 + 1.0);
    let mut value = values[..period].iter().sum::<f64>() / period as f64;
    out[period - 1] = Some(value);
    for (i, v) in values.iter().enumerate().skip(period) {
        value += alpha * (v - value);
        out[i] = Some(value);
    }
    out
}

/// Bollinger bands: (middle, upper, lower), `k` population standard
/// deviations of each window around its mean.
#[allow(clippy::type_complexity)] // three parallel lines
pub fn bollinger(
    values: &[f64],
    period: usize,
    k: f64,
) -> (Vec<Option<f64>>, Vec<Option<f64>>, Vec<Option<f64>>) {
    let middle = sma(values, period);
    let mut upper = vec![None; values.len()];
    let mut lower = vec![None; values.len()];
    for (i, mean) in middle.iter().enumerate() {
        if let Some(mean) = mean {
            let window = &values[i + 1 - period..=i];
            let variance =
                window.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / period as f64;
            let width = k * variance.sqrt();
            upper[i] = Some(mean + width);
            lower[i] = Some(mean - width);
        }
    }
    (middle, upper, lower)
}

/// Wilder's RSI: average gain and loss over the first `period` changes,
/// then smoothed by `(previous · (period − 1) + current) / period`;
/// `100 − 100 / (1 + gain / loss)`, 100 when there was no loss.
pub fn rsi(values: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; values.len()];
    if values.len() <= period {
        return out;
    }
    let change = |i: usize| values[i] - values[i - 1];
    let (mut gain, mut loss) = (1..=period).fold((0.0, 0.0), |(g, l), i| {
        let c = change(i);
        (g + c.max(0.0), l + (-c).max(0.0))
    });
    gain /= period as f64;
    loss /= period as f64;
    let index = |gain: f64, loss: f64| {
        if loss == 0.0 {
            100.0
        } else {
            100.0 - 100.0 / (1.0 + gain / loss)
        }
    };
    out[period] = Some(index(gain, loss));
    let n = period as f64;
    for (i, slot) in out.iter_mut().enumerate().skip(period + 1) {
        let c = change(i);
        gain = (gain * (n - 1.0) + c.max(0.0)) / n;
        loss = (loss * (n - 1.0) + (-c).max(0.0)) / n;
        *slot = Some(index(gain, loss));
    }
    out
}

/// Session VWAP: Σ(vwap·volume) / Σ volume since the candle's UTC day began.
pub fn session_vwap(candles: &[Candle]) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(candles.len());
    let (mut day, mut weighted, mut volume) = (None, 0.0, 0.0);
    for c in candles {
        let today = c.start.date_naive();
        if day != Some(today) {
            (day, weighted, volume) = (Some(today), 0.0, 0.0);
        }
        weighted += c.vwap * c.volume as f64;
        volume += c.volume as f64;
        out.push((volume > 0.0).then(|| weighted / volume));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(values: &[Option<f64>], expected: &[Option<f64>]) {
        assert_eq!(values.len(), expected.len());
        for (i, (v, e)) in values.iter().zip(expected).enumerate() {
            match (v, e) {
                (Some(v), Some(e)) => assert!((v - e).abs() < 1e-9, "at {i}: {v} vs {e}"),
                (None, None) => {}
                _ => panic!("at {i}: {v:?} vs {e:?}"),
            }
        }
    }

    #[test]
    fn sma_by_hand() {
        close(
            &sma(&[1.0, 2.0, 3.0, 4.0, 5.0], 3),
            &[None, None, Some(2.0), Some(3.0), Some(4.0)],
        );
    }

    #[test]
    fn ema_by_hand() {
        // α = 0.5 for period 3; seeded with mean(1, 2, 3) = 2.
        close(
            &ema(&[1.0, 2.0, 3.0, 4.0, 8.0], 3),
            &[None, None, Some(2.0), Some(3.0), Some(5.5)],
        );
    }

    #[test]
    fn bollinger_by_hand() {
        // Window (2, 4, 4, 4, 5, 5, 7, 9): mean 5, population sd 2.
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let (m, u, l) = bollinger(&values, 8, 2.0);
        assert_eq!((m[7], u[7], l[7]), (Some(5.0), Some(9.0), Some(1.0)));
        assert!(m[6].is_none());
    }

    #[test]
    fn rsi_against_wilders_example() {
        // The closes of the 14-period example popularised by StockCharts
        // (which rounds its averages and prints 70.53, 66.32, 66.55); the
        // expected values are Wilder's formula in exact arithmetic, computed
        // separately.
        let closes = [
            44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03,
            45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64,
        ];
        let r = rsi(&closes, 14);
        assert!(r[13].is_none());
        for (i, expected) in [
            (14, 70.4641),
            (15, 66.2496),
            (16, 66.4809),
            (17, 69.3469),
            (18, 66.2947),
            (19, 57.915),
        ] {
            let got = r[i].unwrap();
            assert!(
                (got - expected).abs() < 1e-4,
                "RSI at {i}: {got:.4} vs {expected}"
            );
        }
        // No losses at all: 100.
        assert_eq!(rsi(&[1.0, 2.0, 3.0, 4.0], 2)[3], Some(100.0));
    }

    #[test]
    fn session_vwap_restarts_each_day() {
        use chrono::TimeZone;
        let candle = |day: u32, vwap: f64, volume: u64| Candle {
            symbol: crate::model::Symbol::new("AAPL").unwrap(),
            interval: crate::model::Interval::H1,
            start: chrono::Utc
                .with_ymd_and_hms(2026, 3, day, 15, 0, 0)
                .unwrap(),
            open: vwap,
            high: vwap,
            low: vwap,
            close: vwap,
            volume,
            vwap,
            trades: 1,
            closed: true,
        };
        let v = session_vwap(&[
            candle(2, 10.0, 100),
            candle(2, 20.0, 300),
            candle(3, 30.0, 50),
        ]);
        close(&v, &[Some(10.0), Some(17.5), Some(30.0)]);
    }

    #[test]
    fn refuses_bad_parameters_by_name() {
        assert_eq!(Indicator::Sma { period: 1 }.problem().unwrap().0, "period");
        assert_eq!(
            Indicator::Bollinger { period: 20, k: 0.0 }
                .problem()
                .unwrap()
                .0,
            "k"
        );
        assert!(Indicator::Rsi { period: 14 }.problem().is_none());
    }
}
