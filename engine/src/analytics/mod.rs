//! Analytics over the tick stream: candles (OHLCV + VWAP), indicators over
//! candles, and per-symbol quotes (last price, session change, range, volume).

mod candles;
mod indicators;
mod quotes;
mod volume;

pub use candles::{CandleBook, CandleBuilder, CandleUpdate};
pub use indicators::{Lines, bollinger, ema, rsi, session_vwap, sma};
pub use quotes::{Quotes, follow_quotes};
pub use volume::{by_symbol, by_time_of_day};
