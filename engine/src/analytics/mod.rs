//! Analytics over the tick stream: candles (OHLCV + VWAP) and per-symbol
//! quotes (last price, session change, range, volume).

mod candles;
mod quotes;

pub use candles::{CandleBook, CandleBuilder, CandleUpdate};
pub use quotes::Quotes;
