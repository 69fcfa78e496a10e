//! `Ledger`: one account's cash, holdings, fees and realised profit, in
//! exact fixed-point money (10⁻⁶ of a currency unit, 128 bits), changed
//! only by fills. Replaying an account's fills in order rebuilds it to the
//! unit, which is how it is restored after a restart.

use std::collections::BTreeMap;

use crate::model::{Fill, Holding, Side, Symbol, price_to_units, units_to_price};

/// Money in units of 10⁻⁶.
pub type Money = i128;

/// Money as a price-like number.
pub fn to_f64(money: Money) -> f64 {
    units_to_price(money.clamp(i64::MIN.into(), i64::MAX.into()) as i64)
}

/// Shares of one symbol and what they cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lot {
    /// Shares held.
    pub quantity: u64,
    /// What the shares held cost, fees included.
    pub cost: Money,
    /// Realised by sales of the symbol, after fees.
    pub realized: Money,
}

/// An account's money and holdings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    /// The cash it started with.
    pub starting_cash: Money,
    /// Cash now.
    pub cash: Money,
    /// Fees paid.
    pub fees: Money,
    /// Holdings by symbol (a lot sold out stays, with its realised profit).
    pub lots: BTreeMap<Symbol, Lot>,
}

impl Ledger {
    /// An account holding `cash` and nothing else.
    pub fn new(cash: Money) -> Self {
        Self {
            starting_cash: cash,
            cash,
            fees: 0,
            lots: BTreeMap::new(),
        }
    }

    /// Shares of `symbol` held.
    pub fn held(&self, symbol: &Symbol) -> u64 {
        self.lots.get(symbol).map_or(0, |lot| lot.quantity)
    }

    /// Applies a fill: a buy spends its notional and fee and adds to the
    /// lot's cost; a sale takes out the sold shares' share of the cost
    /// (exactly: what the division leaves stays with the shares still
    /// held) and realises the proceeds less that cost and the fee.
    pub fn apply(&mut self, fill: &Fill) {
        let notional = Money::from(price_to_units(fill.price)) * Money::from(fill.quantity);
        let fee = Money::from(price_to_units(fill.fee));
        self.fees += fee;
        let lot = self.lots.entry(fill.symbol.clone()).or_default();
        match fill.side {
            Side::Buy => {
                self.cash -= notional + fee;
                lot.quantity += fill.quantity;
                lot.cost += notional + fee;
            }
            Side::Sell => {
                self.cash += notional - fee;
                let sold = fill.quantity.min(lot.quantity);
                let cost = if lot.quantity == 0 {
                    0
                } else {
                    lot.cost * Money::from(sold) / Money::from(lot.quantity)
                };
                lot.quantity -= sold;
                lot.cost -= cost;
                lot.realized += notional - fee - cost;
            }
        }
    }

    /// Realised profit over every symbol.
    pub fn realized(&self) -> Money {
        self.lots.values().map(|lot| lot.realized).sum()
    }

    /// The holdings, valued at `last` prices (a symbol without one at its
    /// average cost).
    pub fn holdings(&self, last: impl Fn(&Symbol) -> Option<f64>) -> Vec<Holding> {
        self.lots
            .iter()
            .filter(|(_, lot)| lot.quantity > 0)
            .map(|(symbol, lot)| {
                let quantity = Money::from(lot.quantity);
                let average = lot.cost / quantity;
                let last_units = last(symbol).map_or(average, |p| price_to_units(p).into());
                let value = last_units * quantity;
                Holding {
                    symbol: symbol.clone(),
                    quantity: lot.quantity,
                    average_price: to_f64(average),
                    last_price: to_f64(last_units),
                    market_value: to_f64(value),
                    unrealized_pnl: to_f64(value - lot.cost),
                    realized_pnl: to_f64(lot.realized),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::Liquidity;

    fn fill(side: Side, price: f64, quantity: u64, fee: f64) -> Fill {
        Fill {
            id: 1,
            order_id: 1,
            account: "paper".into(),
            symbol: Symbol::new("AAPL").unwrap(),
            side,
            price,
            quantity,
            fee,
            liquidity: Liquidity::Taker,
            timestamp: Utc::now(),
        }
    }

    #[test]
    fn profit_is_exact_through_buys_and_partial_sales() {
        let mut ledger = Ledger::new(price_to_units(10_000.0).into());
        ledger.apply(&fill(Side::Buy, 10.01, 3, 0.01));
        ledger.apply(&fill(Side::Buy, 10.02, 4, 0.0));
        // Seven shares cost 70.12 with the fee.
        assert_eq!(ledger.lots.values().next().unwrap().cost, 70_120_000);
        ledger.apply(&fill(Side::Sell, 11.0, 2, 0.01));
        ledger.apply(&fill(Side::Sell, 9.5, 5, 0.0));
        let lot = ledger.lots.values().next().unwrap();
        assert_eq!((lot.quantity, lot.cost), (0, 0));
        // Proceeds 21.99 + 47.50, cost 70.12: realised −0.63, every unit accounted.
        assert_eq!(lot.realized, -630_000);
        assert_eq!(ledger.cash, price_to_units(10_000.0 - 0.63).into());
        assert_eq!(ledger.fees, 20_000);
    }
}
