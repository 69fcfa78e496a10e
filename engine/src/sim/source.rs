//! The simulator as a source component: paces a [`Simulator`] on its own
//! thread (see [`produce`]), announces the session, and writes its ticks,
//! market events and a periodic health sample to a [`Sink`], never knowing
//! whether that is the local log or Kafka.

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use chrono::Utc;

use super::{CalendarKind, Control, Pacing, SimHandle, Simulator, control, produce};
use crate::{
    component::Context,
    log::Sink,
    model::{EventKind, EventLevel, MarketEvent, SystemMetric},
};

/// How often the source publishes its own health to `system_metrics`.
const HEALTH_SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// How the simulator is paced, and what its opening announcement says.
#[derive(Debug, Clone, Copy)]
pub struct SourceSettings {
    /// Its rate and speed at start.
    pub pacing: Pacing,
    /// The calendar it trades on.
    pub calendar: CalendarKind,
    /// The seed of its randomness.
    pub seed: u64,
    /// Whether to simulate each symbol's order book (`sim.order_book`),
    /// when the sink carries it.
    pub order_book: bool,
    /// Whether to apply limit-up/limit-down and the short-sale restriction
    /// (`sim.market_rules`).
    pub market_rules: bool,
}

/// A simulator, its controls and where its output goes.
pub struct SimulatorSource {
    simulator: Simulator,
    control: Control,
    sink: Box<dyn Sink>,
    settings: SourceSettings,
}

impl SimulatorSource {
    /// A source writing `simulator`'s output to `sink`; the handle injects
    /// scenarios into it while it runs.
    pub fn new(
        simulator: Simulator,
        sink: Box<dyn Sink>,
        settings: SourceSettings,
    ) -> (Self, SimHandle) {
        let (handle, control) = control();
        let source = Self {
            simulator,
            control,
            sink,
            settings,
        };
        (source, handle)
    }

    /// Publishes the session's opening, then ticks and events until `cx`
    /// stops; then lets the sink finish (Kafka: wait for acknowledgements).
    /// Blocking: run it on its own thread.
    pub fn run(mut self, cx: &Context) {
        let open = self.announcement();
        self.sink.write_event(open);
        if self.settings.order_book {
            self.simulator.enable_book();
        }
        if self.settings.market_rules {
            self.simulator.enable_market_rules();
        }
        let source = format!("tickstreamd@{}", hostname());
        let (mut sampled_at, mut sampled) = (Instant::now(), 0u64);
        let (sink, metrics) = (&self.sink, &cx.metrics);
        produce(
            &mut self.simulator,
            self.settings.pacing,
            &self.control,
            &cx.token,
            |batch| {
                for event in batch.events.drain(..) {
                    sink.write_event(event);
                }
                sink.write_book(&mut batch.book, &mut batch.quotes);
                let n = batch.ticks.len() as u64;
                if !sink.write_ticks(&mut batch.ticks) {
                    return false;
                }
                metrics.ticks_produced.inc_by(n);
                if sampled_at.elapsed() >= HEALTH_SAMPLE_EVERY {
                    let produced = metrics.ticks_produced.get();
                    sink.write_metric(SystemMetric {
                        source: source.clone(),
                        name: "ticks_per_second".into(),
                        value: (produced - sampled) as f64 / sampled_at.elapsed().as_secs_f64(),
                        timestamp: Utc::now(),
                    });
                    (sampled_at, sampled) = (Instant::now(), produced);
                }
                true
            },
        );
        cx.health.source.store(false, Ordering::Relaxed);
        self.sink.finish();
    }

    /// The `session_open` event that starts the stream.
    fn announcement(&self) -> MarketEvent {
        let s = &self.settings;
        MarketEvent::new(
            EventKind::SessionOpen,
            EventLevel::Info,
            None,
            format!(
                "simulated market open: {} symbols at {} ticks/s, speed {}, {} calendar (seed {})",
                self.simulator.symbols().len(),
                s.pacing.rate,
                s.pacing.speed(),
                match s.calendar {
                    CalendarKind::AlwaysOpen => "24/7",
                    CalendarKind::Nyse => "NYSE",
                },
                s.seed
            ),
            self.simulator.now(),
        )
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        log::{Log, LogSettings, LogSink, Reader, Retention, Start},
        metrics::Metrics,
        sim::{Calendar, Correlations, Model, SimSettings, default_universe},
    };

    #[tokio::test]
    async fn announces_the_session_streams_into_its_sink_and_stops_with_its_stage() {
        let settings = LogSettings {
            topic_prefix: String::new(),
            partitions: 4,
            retention: Retention {
                max_records: 100_000,
                max_bytes: 64 << 20,
            },
        };
        let log = Arc::new(Log::new(&settings, &[]));
        let cx = Context::new(Arc::new(Metrics::new()), Arc::default());
        let simulator = Simulator::new(
            &default_universe(),
            &SimSettings {
                seed: 7,
                rate: 1_000.0,
                model: Model::default(),
                correlations: Correlations::default(),
                calendar: Calendar {
                    kind: CalendarKind::AlwaysOpen,
                    extended_hours: false,
                    holidays: Vec::new(),
                },
                start: Utc::now(),
            },
        );
        let sink = LogSink::new(log.clone(), cx.health.clone());
        let settings = SourceSettings {
            pacing: Pacing {
                rate: crate::sim::Rate::PerSecond(1_000),
                speed: crate::sim::Speed::Times(1.0),
            },
            calendar: CalendarKind::AlwaysOpen,
            seed: 7,
            order_book: true,
            market_rules: true,
        };
        let (source, _handle) = SimulatorSource::new(simulator, Box::new(sink), settings);
        let running = cx.clone();
        cx.spawn(
            "simulator",
            crate::component::blocking(move || source.run(&running)),
        );
        let ticks = Reader::new(log.ticks.clone(), Start::Earliest);
        let deadline = Instant::now() + Duration::from_secs(10);
        while ticks.lag() < 50 {
            assert!(Instant::now() < deadline, "no ticks within 10 s");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            cx.health.source.load(Ordering::Relaxed),
            "ready while producing"
        );
        let mut events = Reader::new(log.events.clone(), Start::Earliest);
        let mut first = None;
        events.read_with(
            1,
            |_, _| {},
            |_, _, e| first = first.take().or(Some(e.clone())),
        );
        let first = first.expect("an event");
        assert_eq!(first.kind, EventKind::SessionOpen);
        assert!(
            first.message.contains("20 symbols at 1000 ticks/s"),
            "{}",
            first.message
        );
        cx.stop().await;
        assert!(
            !cx.health.source.load(Ordering::Relaxed),
            "not ready once stopped"
        );
        assert!(cx.supervisor().exits().is_empty());
        assert!(cx.metrics.ticks_produced.get() >= 50);
    }
}
