//! Watchlists and portfolios: the named lists of symbols and the positions
//! a user keeps (REST JSON, validated with the field at fault named), and a
//! portfolio's value at the latest quotes.

use chrono::Utc;

use crate::{
    analytics::Quotes,
    model::{Portfolio, PositionValue, Symbol, Valuation, Watchlist},
};

/// Most symbols in a watchlist, and positions in a portfolio.
pub const MAX_ITEMS: usize = 1_000;

/// A watchlist or portfolio that cannot be: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ItemError {
    /// The field, e.g. `positions[2].quantity`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> Result<(), ItemError> {
    Err(ItemError {
        field: field.into(),
        message: message.into(),
    })
}

fn check_name(name: &str) -> Result<(), ItemError> {
    let length = name.trim().chars().count();
    if length == 0 {
        bad("name", "must not be empty")
    } else if length > 60 || name.trim() != name {
        bad(
            "name",
            "must be at most 60 characters, without leading or trailing spaces",
        )
    } else {
        Ok(())
    }
}

impl Watchlist {
    /// Checks the name and the symbols (`known` says which exist); the first
    /// problem, naming its field.
    ///
    /// # Errors
    /// The [`ItemError`].
    pub fn validate(&self, known: impl Fn(&Symbol) -> bool) -> Result<(), ItemError> {
        check_name(&self.name)?;
        if self.symbols.len() > MAX_ITEMS {
            return bad("symbols", format!("at most {MAX_ITEMS} symbols"));
        }
        for (i, symbol) in self.symbols.iter().enumerate() {
            if !known(symbol) {
                return bad(
                    format!("symbols[{i}]"),
                    format!("{symbol} is not a known symbol"),
                );
            }
            if self.symbols[..i].contains(symbol) {
                return bad(format!("symbols[{i}]"), format!("{symbol} is listed twice"));
            }
        }
        Ok(())
    }
}

impl Portfolio {
    /// Checks the name and every position; the first problem, naming its field.
    ///
    /// # Errors
    /// The [`ItemError`].
    pub fn validate(&self, known: impl Fn(&Symbol) -> bool) -> Result<(), ItemError> {
        check_name(&self.name)?;
        if self.positions.len() > MAX_ITEMS {
            return bad("positions", format!("at most {MAX_ITEMS} positions"));
        }
        for (i, p) in self.positions.iter().enumerate() {
            if !known(&p.symbol) {
                return bad(
                    format!("positions[{i}].symbol"),
                    format!("{} is not a known symbol", p.symbol),
                );
            }
            if self.positions[..i].iter().any(|q| q.symbol == p.symbol) {
                return bad(
                    format!("positions[{i}].symbol"),
                    format!("{} already has a position", p.symbol),
                );
            }
            if !(p.quantity.is_finite() && p.quantity != 0.0 && p.quantity.abs() <= 1e12) {
                return bad(
                    format!("positions[{i}].quantity"),
                    "must be a non-zero number of shares (negative for short)",
                );
            }
            if !(p.cost.is_finite() && p.cost >= 0.0 && p.cost <= 1e9) {
                return bad(
                    format!("positions[{i}].cost"),
                    "must be a price of 0 or more",
                );
            }
        }
        Ok(())
    }

    /// The portfolio at the latest quotes.
    pub fn value(&self, quotes: &Quotes) -> Valuation {
        let positions: Vec<PositionValue> = self
            .positions
            .iter()
            .map(|p| {
                let price = quotes.get(p.symbol.as_str()).map(|q| q.price);
                let pnl_percent = |price: f64| {
                    (p.cost > 0.0).then(|| (price - p.cost) / p.cost * 100.0 * p.quantity.signum())
                };
                PositionValue {
                    symbol: p.symbol.clone(),
                    quantity: p.quantity,
                    cost: p.cost,
                    price,
                    market_value: price.map(|price| p.quantity * price),
                    pnl: price.map(|price| p.quantity * (price - p.cost)),
                    pnl_percent: price.and_then(pnl_percent),
                }
            })
            .collect();
        let cost_basis = self.positions.iter().map(|p| p.quantity * p.cost).sum();
        let priced = || positions.iter().filter(|v| v.price.is_some());
        let market_value = priced().filter_map(|v| v.market_value).sum();
        let priced_cost: f64 = priced().map(|v| v.quantity * v.cost).sum();
        let pnl = market_value - priced_cost;
        Valuation {
            portfolio: self.clone(),
            positions,
            cost_basis,
            market_value,
            pnl,
            pnl_percent: if priced_cost.abs() > 0.0 {
                pnl / priced_cost.abs() * 100.0
            } else {
                0.0
            },
            timestamp: Utc::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Position, Tick};

    fn symbol(s: &str) -> Symbol {
        s.parse().unwrap()
    }

    fn position(s: &str, quantity: f64, cost: f64) -> Position {
        Position {
            symbol: symbol(s),
            quantity,
            cost,
        }
    }

    #[test]
    fn validation_names_the_field() {
        let known = |s: &Symbol| s.as_str() != "NOPE";
        let list = Watchlist {
            id: 0,
            name: "Tech".into(),
            symbols: vec![symbol("AAPL"), symbol("NOPE")],
        };
        assert_eq!(list.validate(known).unwrap_err().field, "symbols[1]");
        let twice = Watchlist {
            symbols: vec![symbol("AAPL"), symbol("AAPL")],
            ..list.clone()
        };
        assert_eq!(
            twice.validate(known).unwrap_err().to_string(),
            "symbols[1]: AAPL is listed twice"
        );
        let unnamed = Watchlist {
            name: " ".into(),
            symbols: vec![],
            ..list
        };
        assert_eq!(unnamed.validate(known).unwrap_err().field, "name");

        let portfolio = Portfolio {
            id: 0,
            name: "Main".into(),
            positions: vec![position("AAPL", 10.0, 150.0), position("MSFT", 0.0, 300.0)],
        };
        assert_eq!(
            portfolio.validate(known).unwrap_err().field,
            "positions[1].quantity"
        );
        let negative_cost = Portfolio {
            positions: vec![position("AAPL", 10.0, -1.0)],
            ..portfolio.clone()
        };
        assert_eq!(
            negative_cost.validate(known).unwrap_err().field,
            "positions[0].cost"
        );
        let short = Portfolio {
            positions: vec![position("AAPL", -10.0, 150.0)],
            ..portfolio
        };
        assert!(short.validate(known).is_ok());
    }

    #[test]
    fn valuation_uses_the_last_price() {
        let mut quotes = Quotes::new();
        for (s, price) in [("AAPL", 160.0), ("MSFT", 270.0)] {
            quotes.apply(&Tick::trade(symbol(s), price, 100, Utc::now()));
        }
        let portfolio = Portfolio {
            id: 1,
            name: "Main".into(),
            positions: vec![
                position("AAPL", 10.0, 150.0),
                position("MSFT", -5.0, 300.0),
                position("NVDA", 2.0, 100.0),
            ],
        };
        let v = portfolio.value(&quotes);
        assert_eq!(v.positions[0].pnl, Some(100.0));
        assert_eq!(v.positions[0].pnl_percent, Some(10.0 / 1.5));
        // Short 5 at 300, now 270: +150, +10 %.
        assert_eq!(v.positions[1].pnl, Some(150.0));
        assert_eq!(v.positions[1].pnl_percent, Some(10.0));
        assert_eq!(v.positions[2].price, None);
        assert_eq!(v.cost_basis, 1500.0 - 1500.0 + 200.0);
        assert_eq!(v.market_value, 1600.0 - 1350.0);
        assert_eq!(v.pnl, 250.0);
    }
}
