//! Backfill: history simulated at start, from some days (or years) ago up
//! to now, folded into candles and committed to the store before live
//! trading begins, so charts have depth the moment the dashboard opens. The
//! live simulator then continues from where the history ended.
//!
//! The further back, the sparser. History older than a year is made with
//! each symbol trading in turn every fifteen minutes (the simulator's
//! sparse mode: no bar without trades) and keeps hourly and daily candles;
//! older than a month, every five minutes, with candles of 15 minutes and
//! longer (what the volume analysis reads); the month before yesterday
//! every minute, with candles of 5 minutes and longer; the last day at the
//! backfill rate with Hawkes arrivals and every interval. One simulator
//! makes all of it, so the tiers join seamlessly (one price process, one
//! path): a year takes seconds.

use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::{
    analytics::{CandleBook, CandleUpdate, Quotes},
    model::Interval,
    sim::{Output, Simulator},
    store::{Batch, Store, StoreError},
};

/// Candles per transaction.
const CANDLES_PER_BATCH: usize = 50_000;
/// One-second candles are kept for the end of the history only: enough
/// for a chart's worth at that interval (the dashboard holds 1 000 bars),
/// not a day's 86 400 per symbol.
const RECENT_SECONDS: i64 = 20 * 60;
/// The sparse tiers of deep history, oldest first: (older than this many
/// days, seconds between a symbol's trades at midday activity, shortest
/// candle kept).
const TIERS: [(i64, f64, Interval); 3] = [
    (366, 900.0, Interval::H1),
    (30, 300.0, Interval::M15),
    (1, 60.0, Interval::M5),
];

/// What a backfill did.
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillReport {
    /// Ticks simulated.
    pub ticks: u64,
    /// Candles written (open and closed).
    pub candles: u64,
    /// The span covered.
    pub from: DateTime<Utc>,
    /// Where it ended: the moment live trading took over.
    pub until: DateTime<Utc>,
}

/// Runs `simulator` (started in the past) until the wall clock, at
/// `backfill_rate` ticks/s (the symbols still trade their daily volumes), writing its
/// candles to `store` (1-second ones for the last minutes only) and its
/// trades to `quotes`; then restores the simulator's live rate.
///
/// # Errors
/// Returns the store's error; what was committed before stays.
pub fn backfill(
    simulator: &mut Simulator,
    store: &mut Store,
    quotes: &mut Quotes,
    backfill_rate: f64,
    live_rate: f64,
) -> Result<BackfillReport, StoreError> {
    let started = Instant::now();
    let from = simulator.now();
    let mut book = CandleBook::new();
    for (symbol, interval, builder) in store.open_candles()? {
        book.restore(symbol, interval, builder);
    }
    let (mut ticks, mut candles) = (0u64, 0u64);
    let mut batch = Batch::default();
    let recent = Utc::now() - chrono::Duration::seconds(RECENT_SECONDS);
    let mut run_until = |simulator: &mut Simulator,
                         target: DateTime<Utc>,
                         shortest: Interval,
                         batch: &mut Batch|
     -> Result<(), StoreError> {
        while let Some(output) = simulator.next_until(target) {
            let Output::Tick(tick) = output else { continue };
            book.apply(&tick, |interval, update, _| {
                if let CandleUpdate::Rolled(closed) = update
                    && interval >= shortest
                    && (interval != Interval::S1 || tick.timestamp >= recent)
                {
                    batch
                        .candles
                        .push((tick.symbol.clone(), interval, closed, true));
                }
            });
            quotes.apply(&tick);
            ticks += 1;
            if batch.candles.len() >= CANDLES_PER_BATCH {
                candles += batch.candles.len() as u64;
                store.write(batch, false)?;
                batch.candles.clear();
            }
        }
        Ok(())
    };
    for (days, every, shortest) in TIERS {
        let until = Utc::now() - chrono::Duration::days(days);
        if simulator.now() < until {
            simulator.set_sparse(Some(every), backfill_rate);
            run_until(simulator, until, shortest, &mut batch)?;
        }
    }
    simulator.set_sparse(None, backfill_rate);
    // The wall clock moves while history is made: chase it until caught up.
    loop {
        let target = Utc::now();
        run_until(simulator, target, Interval::S1, &mut batch)?;
        if Utc::now() - target < chrono::Duration::milliseconds(20) {
            break;
        }
    }
    for symbol in simulator.symbols() {
        for interval in Interval::ALL {
            if let Some(open) = book.open_candle(&symbol, interval) {
                batch
                    .candles
                    .push((symbol.clone(), interval, open.clone(), false));
            }
        }
    }
    candles += batch.candles.len() as u64;
    store.write(&batch, false)?;
    simulator.set_rate(live_rate);
    let report = BackfillReport {
        ticks,
        candles,
        from,
        until: simulator.now(),
    };
    tracing::info!(
        ticks,
        candles,
        from = %report.from,
        seconds = started.elapsed().as_secs_f64(),
        "backfilled history"
    );
    Ok(report)
}
