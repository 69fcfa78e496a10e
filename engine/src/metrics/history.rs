//! `MetricsHistory`: the instruments sampled once a second into rates and
//! latency quantiles, the last few minutes kept for the dashboard's metrics
//! panel (`GET /api/v1/metrics`). Quantiles are estimated from the latency
//! histogram's buckets the way Prometheus' `histogram_quantile` does.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use prometheus::{Histogram, core::Metric as _};

use super::Metrics;
use crate::model::{MetricsSample, schemas::Record};

/// Samples kept: five minutes at one a second.
pub const KEPT: usize = 300;

/// The counters a sample is the difference of.
#[derive(Clone)]
struct Reading {
    at: DateTime<Utc>,
    ticks_in: u64,
    ticks_out: u64,
    stored: u64,
    /// Cumulative latency bucket counts, then the total count.
    latency: Vec<u64>,
}

/// The last [`KEPT`] samples.
#[derive(Default)]
pub struct MetricsHistory {
    state: Mutex<(Option<Reading>, VecDeque<MetricsSample>)>,
}

impl MetricsHistory {
    /// Reads the instruments; from the second reading on, appends a sample
    /// of what happened since the one before.
    pub fn sample(&self, metrics: &Metrics, at: DateTime<Utc>) {
        let now = Reading {
            at,
            ticks_in: metrics.ticks_produced.get() + metrics.kafka_consumed.of(Record::Tick).get(),
            ticks_out: metrics.ticks_delivered.get(),
            stored: metrics.store_ticks.get(),
            latency: cumulative(&metrics.delivery_latency),
        };
        let mut state = self.state.lock();
        let (previous, samples) = &mut *state;
        if let Some(before) = previous.replace(now.clone()) {
            let seconds = (now.at - before.at).as_seconds_f64();
            if seconds <= 0.0 {
                return;
            }
            let rate = |a: u64, b: u64| a.saturating_sub(b) as f64 / seconds;
            let delta: Vec<u64> = now
                .latency
                .iter()
                .zip(&before.latency)
                .map(|(a, b)| a.saturating_sub(*b))
                .collect();
            let reading_kafka = metrics.kafka_consumed.of(Record::Tick).get() > 0;
            samples.push_back(MetricsSample {
                timestamp: at,
                ticks_in_per_second: rate(now.ticks_in, before.ticks_in),
                ticks_out_per_second: rate(now.ticks_out, before.ticks_out),
                latency_p50_ms: quantile(0.5, super::LATENCY_BUCKETS, &delta).map(|s| s * 1e3),
                latency_p99_ms: quantile(0.99, super::LATENCY_BUCKETS, &delta).map(|s| s * 1e3),
                clients: metrics.ws_clients.get(),
                consumer_lag: reading_kafka.then(|| metrics.kafka_consumer_lag.get()),
                store_writes_per_second: rate(now.stored, before.stored),
            });
            while samples.len() > KEPT {
                samples.pop_front();
            }
        }
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> Vec<MetricsSample> {
        self.state.lock().1.iter().cloned().collect()
    }
}

/// A histogram's cumulative bucket counts, then its total count.
fn cumulative(histogram: &Histogram) -> Vec<u64> {
    let metric = histogram.metric();
    let h = metric.get_histogram();
    let mut counts: Vec<u64> = h
        .get_bucket()
        .iter()
        .map(|b| b.cumulative_count())
        .collect();
    counts.push(h.get_sample_count());
    counts
}

/// The `q` quantile of observations counted in cumulative buckets with
/// upper `bounds` (the last count is the total, bucket +Inf), interpolated
/// linearly inside its bucket; the highest finite bound when it falls in
/// +Inf; `None` without observations.
pub fn quantile(q: f64, bounds: &[f64], cumulative: &[u64]) -> Option<f64> {
    let total = *cumulative.last()?;
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let index = cumulative.iter().position(|&c| c as f64 >= rank)?;
    let Some(&upper) = bounds.get(index) else {
        return bounds.last().copied();
    };
    let (lower, below) = match index {
        0 => (0.0, 0),
        i => (bounds[i - 1], cumulative[i - 1]),
    };
    let in_bucket = (cumulative[index] - below) as f64;
    if in_bucket == 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - below as f64) / in_bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        let bounds = [0.001, 0.01, 0.1];
        // 100 observations: 50 in (0, 1 ms], 40 in (1, 10 ms], 9 in (10, 100 ms], 1 above.
        let cumulative = [50, 90, 99, 100];
        assert_eq!(quantile(0.5, &bounds, &cumulative), Some(0.001));
        let p75 = quantile(0.75, &bounds, &cumulative).unwrap();
        assert!((p75 - (0.001 + 0.009 * 25.0 / 40.0)).abs() < 1e-12, "{p75}");
        assert_eq!(quantile(0.99, &bounds, &cumulative), Some(0.1));
        assert_eq!(quantile(0.999, &bounds, &cumulative), Some(0.1));
        assert_eq!(quantile(0.5, &bounds, &[0, 0, 0, 0]), None);
    }

    #[test]
    fn samples_are_rates_over_the_interval() {
        let metrics = Metrics::new();
        let start = Utc::now();
        metrics.history.sample(&metrics, start);
        assert!(metrics.history.samples().is_empty());
        metrics.ticks_produced.inc_by(500);
        metrics.ticks_delivered.inc_by(300);
        metrics.store_ticks.inc_by(100);
        for _ in 0..99 {
            metrics.delivery_latency.observe(0.002);
        }
        metrics.delivery_latency.observe(0.4);
        metrics
            .history
            .sample(&metrics, start + chrono::Duration::milliseconds(500));
        let samples = metrics.history.samples();
        let s = &samples[0];
        assert_eq!(s.ticks_in_per_second, 1000.0);
        assert_eq!(s.ticks_out_per_second, 600.0);
        assert_eq!(s.store_writes_per_second, 200.0);
        // The median falls in the (1.5 ms, 2 ms] bucket, the 99th at its top.
        let p50 = s.latency_p50_ms.unwrap();
        assert!((1.5..=2.0).contains(&p50), "{p50}");
        assert_eq!(s.latency_p99_ms, Some(2.0));
        assert_eq!(s.consumer_lag, None);
        // A quiet second has no latency.
        metrics
            .history
            .sample(&metrics, start + chrono::Duration::milliseconds(1500));
        assert_eq!(metrics.history.samples()[1].latency_p50_ms, None);
        assert_eq!(metrics.history.samples()[1].ticks_in_per_second, 0.0);
    }
}
