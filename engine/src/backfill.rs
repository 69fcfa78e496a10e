//! Backfill: history simulated at start, from some days ago up to now,
//! folded into candles and committed to the store before live trading
//! begins, so charts have depth the moment the dashboard opens. The live
//! simulator then continues from where the history ended.

use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::{
    analytics::{CandleBook, CandleUpdate, Quotes},
    model::{Interval, Tick},
    sim::{Output, Simulator},
    store::{Batch, Store, StoreError},
};

/// Candles per transaction.
const CANDLES_PER_BATCH: usize = 50_000;
/// One-second candles are kept for the end of the history only: enough
/// for a chart's worth at that interval (the dashboard holds 1 000 bars),
/// not a day's 86 400 per symbol.
const RECENT_SECONDS: i64 = 20 * 60;

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
    simulator.set_rate(backfill_rate);
    let mut book = CandleBook::new();
    for (symbol, interval, builder) in store.open_candles()? {
        book.restore(symbol, interval, builder);
    }
    let (mut ticks, mut candles) = (0u64, 0u64);
    let mut batch = Batch::default();
    let recent = Utc::now() - chrono::Duration::seconds(RECENT_SECONDS);
    let mut fold = |tick: &Tick, batch: &mut Batch| {
        book.apply(tick, |interval, update, _| {
            if let CandleUpdate::Rolled(closed) = update
                && (interval != Interval::S1 || tick.timestamp >= recent)
            {
                batch
                    .candles
                    .push((tick.symbol.clone(), interval, closed, true));
            }
        });
    };
    // The wall clock moves while history is made: chase it until caught up.
    loop {
        let target = Utc::now();
        while let Some(output) = simulator.next_until(target) {
            if let Output::Tick(tick) = output {
                fold(&tick, &mut batch);
                quotes.apply(&tick);
                ticks += 1;
                if batch.candles.len() >= CANDLES_PER_BATCH {
                    candles += batch.candles.len() as u64;
                    store.write(&batch, false)?;
                    batch.candles.clear();
                }
            }
        }
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
