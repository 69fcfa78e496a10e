//! The default simulated universe: well-known US equities with plausible
//! prices, tick sizes and volatilities.

use serde::Deserialize;

use crate::model::Symbol;

/// One simulated symbol's parameters.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolSpec {
    /// Ticker symbol.
    pub symbol: Symbol,
    /// Starting price.
    pub price: f64,
    /// Minimum price increment, e.g. 0.01.
    #[serde(default = "default_tick_size")]
    pub tick_size: f64,
    /// Annualised volatility, e.g. 0.30 for 30 %.
    #[serde(default = "default_volatility")]
    pub volatility: f64,
    /// Annualised drift, e.g. 0.05 for 5 %.
    #[serde(default)]
    pub drift: f64,
}

const fn default_tick_size() -> f64 {
    0.01
}

const fn default_volatility() -> f64 {
    0.30
}

/// About twenty large, liquid US equities.
pub fn default_universe() -> Vec<SymbolSpec> {
    const UNIVERSE: [(&str, f64, f64); 20] = [
        ("AAPL", 189.37, 0.24),
        ("MSFT", 415.10, 0.22),
        ("NVDA", 131.40, 0.50),
        ("AMZN", 186.20, 0.30),
        ("GOOGL", 172.60, 0.28),
        ("META", 562.30, 0.35),
        ("TSLA", 248.50, 0.60),
        ("BRK.B", 452.80, 0.15),
        ("JPM", 214.90, 0.22),
        ("V", 281.40, 0.18),
        ("UNH", 589.70, 0.22),
        ("XOM", 118.30, 0.24),
        ("JNJ", 161.20, 0.15),
        ("WMT", 80.15, 0.18),
        ("MA", 492.60, 0.19),
        ("PG", 168.40, 0.14),
        ("HD", 395.70, 0.22),
        ("COST", 889.10, 0.20),
        ("NFLX", 689.30, 0.40),
        ("AMD", 152.80, 0.52),
    ];
    UNIVERSE
        .iter()
        .map(|&(symbol, price, volatility)| SymbolSpec {
            symbol: Symbol::new(symbol).expect("valid built-in symbol"),
            price,
            tick_size: default_tick_size(),
            volatility,
            drift: 0.05,
        })
        .collect()
}
