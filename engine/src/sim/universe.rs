//! The default simulated universe: well-known US equities with plausible
//! prices, tick sizes and volatilities.

use serde::{Deserialize, Serialize};

use crate::model::Symbol;

/// One simulated symbol's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Sensitivity to the market factor: 1 gives the configured
    /// correlations; a pair's market part scales with both betas. Total
    /// volatility stays `volatility`.
    #[serde(default = "default_beta")]
    pub beta: f64,
    /// Typical bid/ask spread in basis points of the price (at least a tick
    /// each side of the mid); it widens with volatility.
    #[serde(default = "default_spread_bps")]
    pub spread_bps: f64,
    /// Average daily volume in shares: trade sizes are set so a session
    /// trades about this much whatever the tick rate, and busier symbols
    /// trade more often.
    #[serde(default = "default_adv")]
    pub adv: f64,
}

const fn default_tick_size() -> f64 {
    0.01
}

const fn default_volatility() -> f64 {
    0.30
}

const fn default_beta() -> f64 {
    1.0
}

const fn default_spread_bps() -> f64 {
    2.0
}

const fn default_adv() -> f64 {
    5_000_000.0
}

/// About twenty large, liquid US equities, with plausible prices,
/// volatilities, betas, spreads and daily volumes.
pub fn default_universe() -> Vec<SymbolSpec> {
    // symbol, price, volatility, sector, beta, spread (bp), ADV (millions of shares)
    const UNIVERSE: [(&str, f64, f64, &str, f64, f64, f64); 20] = [
        ("AAPL", 189.37, 0.24, "Technology", 1.2, 1.0, 55.0),
        ("MSFT", 415.10, 0.22, "Technology", 1.1, 1.0, 20.0),
        ("NVDA", 131.40, 0.50, "Technology", 1.5, 1.5, 250.0),
        ("AMZN", 186.20, 0.30, "Consumer", 1.2, 1.2, 40.0),
        ("GOOGL", 172.60, 0.28, "Communication", 1.05, 1.2, 25.0),
        ("META", 562.30, 0.35, "Communication", 1.25, 1.0, 12.0),
        ("TSLA", 248.50, 0.60, "Consumer", 1.5, 1.0, 90.0),
        ("BRK.B", 452.80, 0.15, "Financials", 0.85, 1.5, 4.0),
        ("JPM", 214.90, 0.22, "Financials", 1.1, 1.2, 9.0),
        ("V", 281.40, 0.18, "Financials", 0.95, 1.2, 6.0),
        ("UNH", 589.70, 0.22, "Health Care", 0.6, 1.5, 4.0),
        ("XOM", 118.30, 0.24, "Energy", 0.85, 1.5, 15.0),
        ("JNJ", 161.20, 0.15, "Health Care", 0.55, 1.5, 7.0),
        ("WMT", 80.15, 0.18, "Consumer Staples", 0.5, 2.5, 18.0),
        ("MA", 492.60, 0.19, "Financials", 1.05, 1.5, 3.0),
        ("PG", 168.40, 0.14, "Consumer Staples", 0.45, 1.5, 7.0),
        ("HD", 395.70, 0.22, "Consumer", 1.0, 1.5, 3.5),
        ("COST", 889.10, 0.20, "Consumer Staples", 0.8, 2.0, 2.0),
        ("NFLX", 689.30, 0.40, "Communication", 1.3, 2.0, 3.5),
        ("AMD", 152.80, 0.52, "Technology", 1.5, 1.5, 45.0),
    ];
    UNIVERSE
        .iter()
        .map(
            |&(symbol, price, volatility, sector, beta, spread_bps, adv)| SymbolSpec {
                symbol: Symbol::new(symbol).expect("valid built-in symbol"),
                price,
                tick_size: default_tick_size(),
                volatility,
                drift: 0.05,
                sector: Some(sector.to_owned()),
                beta,
                spread_bps,
                adv: adv * 1e6,
            },
        )
        .collect()
}
