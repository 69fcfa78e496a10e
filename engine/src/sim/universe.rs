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
    /// Sector, e.g. "Technology": symbols of one sector move together more
    /// than with the market (the realistic model). None: market only.
    #[serde(default)]
    pub sector: Option<String>,
}

const fn default_tick_size() -> f64 {
    0.01
}

const fn default_volatility() -> f64 {
    0.30
}

/// About twenty large, liquid US equities.
pub fn default_universe() -> Vec<SymbolSpec> {
    const UNIVERSE: [(&str, f64, f64, &str); 20] = [
        ("AAPL", 189.37, 0.24, "Technology"),
        ("MSFT", 415.10, 0.22, "Technology"),
        ("NVDA", 131.40, 0.50, "Technology"),
        ("AMZN", 186.20, 0.30, "Consumer"),
        ("GOOGL", 172.60, 0.28, "Communication"),
        ("META", 562.30, 0.35, "Communication"),
        ("TSLA", 248.50, 0.60, "Consumer"),
        ("BRK.B", 452.80, 0.15, "Financials"),
        ("JPM", 214.90, 0.22, "Financials"),
        ("V", 281.40, 0.18, "Financials"),
        ("UNH", 589.70, 0.22, "Health Care"),
        ("XOM", 118.30, 0.24, "Energy"),
        ("JNJ", 161.20, 0.15, "Health Care"),
        ("WMT", 80.15, 0.18, "Consumer Staples"),
        ("MA", 492.60, 0.19, "Financials"),
        ("PG", 168.40, 0.14, "Consumer Staples"),
        ("HD", 395.70, 0.22, "Consumer"),
        ("COST", 889.10, 0.20, "Consumer Staples"),
        ("NFLX", 689.30, 0.40, "Communication"),
        ("AMD", 152.80, 0.52, "Technology"),
    ];
    UNIVERSE
        .iter()
        .map(|&(symbol, price, volatility, sector)| SymbolSpec {
            symbol: Symbol::new(symbol).expect("valid built-in symbol"),
            price,
            tick_size: default_tick_size(),
            volatility,
            drift: 0.05,
            sector: Some(sector.to_owned()),
        })
        .collect()
}
