//! `Desk`: paper orders matched against the simulated market. An order
//! takes liquidity from the book's levels at once (walking them, partly
//! when the book or the account runs short); a limit order's remainder
//! rests with the shares ahead of it at its price, which the market's
//! trades at that price must take before it fills; a stop waits for a
//! trade at its price. Paper orders never move the simulated market.
//!
//! The desk only decides: each call returns what changed (orders and
//! fills), which its owner stores and publishes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    TradingError,
    ledger::{Ledger, Money, to_f64},
};
use crate::model::{
    Account, BookLevel, Fill, Liquidity, NewOrder, Order, OrderBook, OrderChange, OrderKind,
    OrderStatus, Side, Symbol, TimeInForce, TradingEvent, price_to_units, range, units_to_price,
};

/// Most shares one order may ask for.
pub const MAX_ORDER_SHARES: u64 = 1_000_000_000;
/// Longest client order ID.
const MAX_CLIENT_ID: usize = 64;
/// Longest account name.
const MAX_ACCOUNT_NAME: usize = 64;
/// Most accounts an engine keeps.
const MAX_ACCOUNTS: usize = 1_000;
/// Most working orders, over every account.
const MAX_WORKING_ORDERS: usize = 10_000;

/// What a trade costs: per share, and a fraction of the notional.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Fees {
    /// Per share, in currency.
    pub per_share: f64,
    /// Fraction of the notional, e.g. 0.0001 for one basis point.
    pub rate: f64,
}

impl Fees {
    /// The fee on `quantity` shares at `price` (units), rounded to the unit.
    fn on(&self, price: i64, quantity: u64) -> Money {
        let notional = Money::from(price) * Money::from(quantity);
        let per_share = Money::from(price_to_units(self.per_share)) * Money::from(quantity);
        per_share + (notional as f64 * self.rate).round() as Money
    }

    /// What buying `quantity` shares at `price` (units) costs, fee included.
    fn cost(&self, price: i64, quantity: u64) -> Money {
        Money::from(price) * Money::from(quantity) + self.on(price, quantity)
    }
}

/// The levels of `book` on `side`: bids for buyers, asks for sellers.
fn side_of(book: Option<&OrderBook>, side: Side) -> &[BookLevel] {
    match (book, side) {
        (Some(book), Side::Buy) => &book.bids,
        (Some(book), Side::Sell) => &book.asks,
        (None, _) => &[],
    }
}

/// The other side of the market.
fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

/// A working order and what the desk keeps beside it.
#[derive(Debug, Clone)]
struct Working {
    order: Order,
    /// Limit and stop prices in units.
    limit: Option<i64>,
    stop: Option<i64>,
    /// Whether a stop has triggered.
    triggered: bool,
    /// Shares ahead of it at its price while it rests.
    queue_ahead: u64,
    /// What its fills came to, for the average price.
    notional: Money,
}

impl Working {
    fn remaining(&self) -> u64 {
        self.order.quantity - self.order.filled
    }

    /// Whether it rests in the book (a limit, or a triggered stop-limit).
    fn rests(&self) -> bool {
        match self.order.kind {
            OrderKind::Limit => true,
            OrderKind::StopLimit => self.triggered,
            OrderKind::Market | OrderKind::Stop => false,
        }
    }

    /// The price a working buy sets cash aside at: its limit, else its stop.
    fn reserve_price(&self) -> i64 {
        self.limit.or(self.stop).unwrap_or(0)
    }
}

/// Every account and working order.
#[derive(Debug)]
pub struct Desk {
    accounts: BTreeMap<String, Ledger>,
    working: BTreeMap<u64, Working>,
    fees: Fees,
    next_order: u64,
    next_fill: u64,
}

/// What a call changed, in order: orders as they now stand, and fills.
pub type Changes = Vec<TradingEvent>;

impl Desk {
    /// A desk with no account yet, charging `fees`; order and fill IDs
    /// continue after `last_order` and `last_fill`.
    pub fn new(fees: Fees, last_order: u64, last_fill: u64) -> Self {
        Self {
            accounts: BTreeMap::new(),
            working: BTreeMap::new(),
            fees,
            next_order: last_order + 1,
            next_fill: last_fill + 1,
        }
    }

    /// Opens an account holding `cash`.
    ///
    /// # Errors
    /// [`TradingError::Invalid`] for a bad name or amount,
    /// [`TradingError::Conflict`] when it exists.
    pub fn open_account(&mut self, name: &str, cash: f64) -> Result<(), TradingError> {
        check_account_name(name)?;
        if !(0.0..=range::MAX_PRICE).contains(&cash) {
            return Err(TradingError::invalid(
                "cash",
                format!("expected 0 to {}, got {cash}", range::MAX_PRICE),
            ));
        }
        if self.accounts.contains_key(name) {
            return Err(TradingError::Conflict(format!(
                "name: account {name:?} exists"
            )));
        }
        if self.accounts.len() >= MAX_ACCOUNTS {
            return Err(TradingError::Conflict(format!(
                "name: the engine keeps at most {MAX_ACCOUNTS} accounts"
            )));
        }
        self.accounts
            .insert(name.to_owned(), Ledger::new(price_to_units(cash).into()));
        Ok(())
    }

    /// Restores an account and replays its fills (in ID order).
    pub fn restore_account(&mut self, name: String, starting_cash: Money, fills: &[Fill]) {
        let mut ledger = Ledger::new(starting_cash);
        for fill in fills {
            ledger.apply(fill);
        }
        self.accounts.insert(name, ledger);
    }

    /// Restores a working order.
    pub fn restore_order(&mut self, order: Order) {
        let working = Working {
            limit: order.limit_price.map(price_to_units),
            stop: order.stop_price.map(price_to_units),
            triggered: order.kind == OrderKind::StopLimit && order.status != OrderStatus::Pending,
            queue_ahead: order.queue_ahead.unwrap_or(0),
            notional: Money::from(price_to_units(order.average_price.unwrap_or(0.0)))
                * Money::from(order.filled),
            order,
        };
        self.working.insert(working.order.id, working);
    }

    /// The account `name`, its holdings valued at `last` prices.
    pub fn account(&self, name: &str, last: impl Fn(&Symbol) -> Option<f64>) -> Option<Account> {
        let ledger = self.accounts.get(name)?;
        let positions = ledger.holdings(&last);
        let value: f64 = positions.iter().map(|h| h.market_value).sum();
        let unrealized: f64 = positions.iter().map(|h| h.unrealized_pnl).sum();
        Some(Account {
            name: name.to_owned(),
            starting_cash: to_f64(ledger.starting_cash),
            cash: to_f64(ledger.cash),
            buying_power: to_f64(self.buying_power(name, None)),
            equity: to_f64(ledger.cash) + value,
            realized_pnl: to_f64(ledger.realized()),
            unrealized_pnl: unrealized,
            fees: to_f64(ledger.fees),
            positions,
        })
    }

    /// The names of every account.
    pub fn account_names(&self) -> Vec<String> {
        self.accounts.keys().cloned().collect()
    }

    /// The working orders, oldest first.
    pub fn working(&self) -> impl Iterator<Item = &Order> {
        self.working.values().map(|w| &w.order)
    }

    /// Cash not set aside for the account's working buys other than
    /// `except` (their remaining shares at their limit or stop price, with
    /// fees).
    fn buying_power(&self, account: &str, except: Option<u64>) -> Money {
        let reserved: Money = self
            .working
            .values()
            .filter(|w| {
                w.order.account == account
                    && w.order.side == Side::Buy
                    && Some(w.order.id) != except
            })
            .map(|w| self.fees.cost(w.reserve_price(), w.remaining()))
            .sum();
        self.accounts.get(account).map_or(0, |l| l.cash) - reserved
    }

    /// Shares of `symbol` the account may still sell: held, less what its
    /// working sells (other than `except`) already offer.
    fn sellable(&self, account: &str, symbol: &Symbol, except: Option<u64>) -> u64 {
        let held = self.accounts.get(account).map_or(0, |l| l.held(symbol));
        let offered: u64 = self
            .working
            .values()
            .filter(|w| {
                w.order.account == account
                    && w.order.side == Side::Sell
                    && &w.order.symbol == symbol
                    && Some(w.order.id) != except
            })
            .map(Working::remaining)
            .sum();
        held.saturating_sub(offered)
    }

    /// Places an order: checks it, takes what the book offers at once, and
    /// rests or cancels the rest as its kind and time in force say.
    ///
    /// # Errors
    /// [`TradingError`] naming the field: an unknown account, a bad
    /// quantity or price, a duplicate client ID, too little buying power
    /// or too few shares to sell.
    pub fn submit(
        &mut self,
        new: NewOrder,
        symbol: Symbol,
        book: Option<&OrderBook>,
        now: DateTime<Utc>,
    ) -> Result<Changes, TradingError> {
        let account = new
            .account
            .unwrap_or_else(|| super::DEFAULT_ACCOUNT.to_owned());
        if !self.accounts.contains_key(&account) {
            return Err(TradingError::NotFound(format!(
                "account: no account {account:?}"
            )));
        }
        if new.quantity == 0 || new.quantity > MAX_ORDER_SHARES {
            return Err(TradingError::invalid(
                "quantity",
                format!(
                    "expected 1 to {MAX_ORDER_SHARES} shares, got {}",
                    new.quantity
                ),
            ));
        }
        let (limit, stop) = check_prices(new.kind, new.limit_price, new.stop_price)?;
        if let Some(id) = &new.client_order_id {
            if id.is_empty() || id.len() > MAX_CLIENT_ID {
                return Err(TradingError::invalid(
                    "client_order_id",
                    format!("expected 1 to {MAX_CLIENT_ID} characters"),
                ));
            }
            if self
                .working
                .values()
                .any(|w| w.order.account == account && w.order.client_order_id.as_ref() == Some(id))
            {
                return Err(TradingError::Conflict(format!(
                    "client_order_id: a working order of {account:?} has the ID {id:?}"
                )));
            }
        }
        if self.working.len() >= MAX_WORKING_ORDERS {
            return Err(TradingError::Conflict(format!(
                "quantity: {MAX_WORKING_ORDERS} orders are working, the most the engine keeps; cancel some first"
            )));
        }
        let time_in_force = new.time_in_force.unwrap_or_default();
        let mut working = Working {
            order: Order {
                id: self.next_order,
                client_order_id: new.client_order_id,
                account,
                symbol,
                side: new.side,
                kind: new.kind,
                quantity: new.quantity,
                filled: 0,
                limit_price: new.limit_price,
                stop_price: new.stop_price,
                time_in_force,
                status: OrderStatus::Open,
                average_price: None,
                queue_ahead: None,
                reason: None,
                created_at: now,
                updated_at: now,
            },
            limit: limit.map(price_to_units),
            stop: stop.map(price_to_units),
            triggered: false,
            queue_ahead: 0,
            notional: 0,
        };
        self.check_funds(&working, book)?;
        self.next_order += 1;
        let mut changes = Vec::new();
        if working.stop.is_some() {
            working.order.status = OrderStatus::Pending;
            changes.push(TradingEvent::Order(working.order.clone()));
            self.working.insert(working.order.id, working);
            return Ok(changes);
        }
        self.execute(working, book, now, &mut changes);
        Ok(changes)
    }

    /// Refuses an order the account cannot pay for or deliver.
    fn check_funds(&self, working: &Working, book: Option<&OrderBook>) -> Result<(), TradingError> {
        let order = &working.order;
        match order.side {
            Side::Sell => {
                let sellable = self.sellable(&order.account, &order.symbol, Some(order.id));
                if order.quantity - order.filled > sellable {
                    return Err(TradingError::InsufficientShares(format!(
                        "quantity: selling {} {} needs {} shares; the account has {sellable} not already offered (no short sales)",
                        order.quantity - order.filled,
                        order.symbol,
                        order.quantity - order.filled
                    )));
                }
            }
            Side::Buy => {
                // What the order itself set aside (when changed) is its own.
                let power = self.buying_power(&order.account, Some(order.id));
                let remaining = order.quantity - order.filled;
                let cost = match working.limit.or(working.stop) {
                    Some(price) => self.fees.cost(price, remaining),
                    // A market order costs what walking the asks costs.
                    None => {
                        let asks = book.map_or(&[][..], |b| &b.asks[..]);
                        let mut cost = 0;
                        let mut left = remaining;
                        for level in asks {
                            let take = left.min(level.size);
                            cost += self.fees.cost(price_to_units(level.price), take);
                            left -= take;
                            if left == 0 {
                                break;
                            }
                        }
                        cost
                    }
                };
                if cost > power {
                    return Err(TradingError::InsufficientFunds(format!(
                        "quantity: buying {remaining} {} costs about {:.2} with fees; the buying power is {:.2}",
                        order.symbol,
                        to_f64(cost),
                        to_f64(power)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Takes what `book` offers the order now, then rests it (a limit with
    /// time left) or ends it; records every change.
    fn execute(
        &mut self,
        mut working: Working,
        book: Option<&OrderBook>,
        now: DateTime<Utc>,
        changes: &mut Changes,
    ) {
        // A buy takes from the sellers' side, a sale from the buyers'.
        let levels = side_of(book, opposite(working.order.side));
        let limit = if working.order.kind == OrderKind::Stop {
            None
        } else {
            working.limit
        };
        let side = working.order.side;
        let within = |price: i64| match (limit, side) {
            (None, _) => true,
            (Some(limit), Side::Buy) => price <= limit,
            (Some(limit), Side::Sell) => price >= limit,
        };
        let available: u64 = levels
            .iter()
            .take_while(|l| within(price_to_units(l.price)))
            .map(|l| l.size)
            .sum();
        let tif = working.order.time_in_force;
        if tif == TimeInForce::Fok && available < working.remaining() {
            let reason = format!(
                "fill or kill: {available} of {} shares were offered within the limit",
                working.remaining()
            );
            self.finish(&mut working, OrderStatus::Canceled, reason, now, changes);
            return;
        }
        let mut fills = Vec::new();
        let mut ran_short = false;
        for level in levels {
            let price = price_to_units(level.price);
            if working.remaining() == 0 || !within(price) {
                break;
            }
            let wanted = working.remaining().min(level.size);
            let take = wanted.min(self.affordable(&working, price));
            if take > 0 {
                fills.push(self.fill(&mut working, price, take, Liquidity::Taker, now));
            }
            if take < wanted {
                ran_short = true;
                break;
            }
        }
        changes.extend(fills.into_iter().map(TradingEvent::Fill));
        if working.remaining() == 0 {
            self.finish(
                &mut working,
                OrderStatus::Filled,
                String::new(),
                now,
                changes,
            );
        } else if ran_short {
            self.finish(
                &mut working,
                OrderStatus::Canceled,
                "the account's cash ran out".to_owned(),
                now,
                changes,
            );
        } else if working.limit.is_some()
            && working.order.kind != OrderKind::Stop
            && !matches!(tif, TimeInForce::Ioc | TimeInForce::Fok)
        {
            let limit = working.limit.unwrap_or_default();
            working.queue_ahead = side_of(book, working.order.side)
                .iter()
                .find(|l| price_to_units(l.price) == limit)
                .map_or(0, |l| l.size);
            working.triggered = true;
            working.order.queue_ahead = Some(working.queue_ahead);
            working.order.status = if working.order.filled > 0 {
                OrderStatus::PartiallyFilled
            } else {
                OrderStatus::Open
            };
            working.order.updated_at = now;
            changes.push(TradingEvent::Order(working.order.clone()));
            self.working.insert(working.order.id, working);
        } else {
            let reason = match (working.order.kind, tif) {
                (_, TimeInForce::Ioc) => "immediate or cancel: the rest was cancelled",
                _ if levels.is_empty() => "no liquidity: the book is empty",
                _ => "the book held no more within the order's price",
            };
            self.finish(
                &mut working,
                OrderStatus::Canceled,
                reason.to_owned(),
                now,
                changes,
            );
        }
    }

    /// Shares of a buy the account can pay for at `price` (any for a sale).
    fn affordable(&self, working: &Working, price: i64) -> u64 {
        if working.order.side == Side::Sell {
            return u64::MAX;
        }
        // Cash less what the account's other working buys set aside.
        let cash = self.buying_power(&working.order.account, Some(working.order.id));
        let per_share = Money::from(price) + self.fees.on(price, 1).max(0) + 1;
        if cash <= 0 {
            return 0;
        }
        let mut shares = (cash / per_share).min(Money::from(u64::MAX)) as u64;
        // The per-share bound is conservative; fees on many shares round.
        while shares > 0 && self.fees.cost(price, shares) > cash {
            shares -= 1;
        }
        shares
    }

    /// Executes `quantity` of a working order at `price`: the fill, applied
    /// to its account.
    fn fill(
        &mut self,
        working: &mut Working,
        price: i64,
        quantity: u64,
        liquidity: Liquidity,
        now: DateTime<Utc>,
    ) -> Fill {
        working.notional += Money::from(price) * Money::from(quantity);
        let order = &mut working.order;
        order.filled += quantity;
        let average = working.notional / Money::from(order.filled);
        order.average_price = Some(units_to_price(average as i64));
        order.updated_at = now;
        let fill = Fill {
            id: self.next_fill,
            order_id: order.id,
            account: order.account.clone(),
            symbol: order.symbol.clone(),
            side: order.side,
            price: units_to_price(price),
            quantity,
            fee: to_f64(self.fees.on(price, quantity)),
            liquidity,
            timestamp: now,
        };
        self.next_fill += 1;
        if let Some(ledger) = self.accounts.get_mut(&order.account) {
            ledger.apply(&fill);
        }
        fill
    }

    /// Ends an order (taking it out of the working ones) and records it.
    fn finish(
        &mut self,
        working: &mut Working,
        status: OrderStatus,
        reason: String,
        now: DateTime<Utc>,
        changes: &mut Changes,
    ) {
        self.working.remove(&working.order.id);
        let order = &mut working.order;
        order.status = status;
        order.queue_ahead = None;
        order.reason = (!reason.is_empty()).then_some(reason);
        order.updated_at = now;
        changes.push(TradingEvent::Order(order.clone()));
    }

    /// A working order, to change; refused when it is not working.
    fn working_order(&self, id: u64) -> Result<Working, TradingError> {
        self.working.get(&id).cloned().ok_or_else(|| {
            TradingError::Conflict(format!(
                "id: order {id} is not working (filled, cancelled, expired or unknown)"
            ))
        })
    }

    /// Cancels a working order.
    ///
    /// # Errors
    /// [`TradingError::NotFound`] for no such order,
    /// [`TradingError::Conflict`] for one already done.
    pub fn cancel(&mut self, id: u64, now: DateTime<Utc>) -> Result<Changes, TradingError> {
        let mut working = self.working_order(id)?;
        let mut changes = Vec::new();
        self.finish(
            &mut working,
            OrderStatus::Canceled,
            "cancelled by the client".to_owned(),
            now,
            &mut changes,
        );
        Ok(changes)
    }

    /// Changes a working order: a new quantity (not below what filled),
    /// limit or stop price. It keeps its place in the queue only when its
    /// quantity alone goes down; otherwise it is placed again as changed
    /// (and may fill at once against `book`).
    ///
    /// # Errors
    /// [`TradingError`] naming the field, or as [`Desk::cancel`].
    pub fn replace(
        &mut self,
        id: u64,
        change: OrderChange,
        book: Option<&OrderBook>,
        now: DateTime<Utc>,
    ) -> Result<Changes, TradingError> {
        let working = self.working_order(id)?;
        let order = &working.order;
        let quantity = change.quantity.unwrap_or(order.quantity);
        if quantity <= order.filled || quantity > MAX_ORDER_SHARES {
            return Err(TradingError::invalid(
                "quantity",
                format!(
                    "expected more than the {} shares filled and at most {MAX_ORDER_SHARES}, got {quantity}",
                    order.filled
                ),
            ));
        }
        let limit_price = change.limit_price.or(order.limit_price);
        let stop_price = change.stop_price.or(order.stop_price);
        let (limit, stop) = check_prices(order.kind, limit_price, stop_price)?;
        let mut changed = working.clone();
        changed.order.quantity = quantity;
        changed.order.limit_price = limit;
        changed.order.stop_price = stop;
        changed.limit = limit.map(price_to_units);
        changed.stop = stop.map(price_to_units);
        changed.order.updated_at = now;
        self.check_funds(&changed, book)?;
        let keeps_place = changed.limit == working.limit
            && changed.stop == working.stop
            && quantity <= working.order.quantity;
        let mut changes = Vec::new();
        if keeps_place || (changed.stop.is_some() && !changed.triggered) {
            changes.push(TradingEvent::Order(changed.order.clone()));
            self.working.insert(id, changed);
        } else {
            self.working.remove(&id);
            self.execute(changed, book, now, &mut changes);
        }
        Ok(changes)
    }

    /// A trade in the market: stops it reaches trigger (and execute against
    /// `book`), resting limits it reaches fill (a trade through the limit
    /// fills the rest; one at it first takes the shares ahead).
    pub fn on_trade(
        &mut self,
        symbol: &Symbol,
        price: f64,
        volume: u64,
        book: Option<&OrderBook>,
        now: DateTime<Utc>,
    ) -> Changes {
        let price = price_to_units(price);
        let ids: Vec<u64> = self
            .working
            .values()
            .filter(|w| &w.order.symbol == symbol)
            .map(|w| w.order.id)
            .collect();
        let mut changes = Vec::new();
        let mut volume = volume;
        for id in ids {
            let Some(working) = self.working.get(&id).cloned() else {
                continue;
            };
            if let (Some(stop), false) = (working.stop, working.triggered) {
                let reached = match working.order.side {
                    Side::Buy => price >= stop,
                    Side::Sell => price <= stop,
                };
                if reached {
                    let mut triggered = working;
                    triggered.triggered = true;
                    self.working.remove(&id);
                    self.execute(triggered, book, now, &mut changes);
                }
                continue;
            }
            if !working.rests() {
                continue;
            }
            let limit = working.limit.unwrap_or_default();
            let (through, at) = match working.order.side {
                Side::Buy => (price < limit, price == limit),
                Side::Sell => (price > limit, price == limit),
            };
            let mut working = working;
            let quantity = if through {
                working.remaining()
            } else if at {
                let past = volume.saturating_sub(working.queue_ahead);
                working.queue_ahead = working.queue_ahead.saturating_sub(volume);
                // What this order takes is not there for the orders behind it.
                let take = past.min(working.remaining());
                volume -= take;
                take
            } else {
                continue;
            };
            let quantity = quantity.min(self.affordable(&working, limit));
            if quantity > 0 {
                let fill = self.fill(&mut working, limit, quantity, Liquidity::Maker, now);
                changes.push(TradingEvent::Fill(fill));
            }
            if working.remaining() == 0 {
                self.finish(
                    &mut working,
                    OrderStatus::Filled,
                    String::new(),
                    now,
                    &mut changes,
                );
                continue;
            }
            let moved = quantity > 0 || working.order.queue_ahead != Some(working.queue_ahead);
            working.order.queue_ahead = Some(working.queue_ahead);
            if quantity > 0 {
                working.order.status = OrderStatus::PartiallyFilled;
            }
            if moved {
                working.order.updated_at = now;
                changes.push(TradingEvent::Order(working.order.clone()));
            }
            self.working.insert(id, working);
        }
        changes
    }

    /// The session closed: day orders expire.
    pub fn close_session(&mut self, now: DateTime<Utc>) -> Changes {
        let day: Vec<u64> = self
            .working
            .values()
            .filter(|w| w.order.time_in_force == TimeInForce::Day)
            .map(|w| w.order.id)
            .collect();
        let mut changes = Vec::new();
        for id in day {
            if let Some(mut working) = self.working.get(&id).cloned() {
                self.finish(
                    &mut working,
                    OrderStatus::Expired,
                    "a day order, at the session's close".to_owned(),
                    now,
                    &mut changes,
                );
            }
        }
        changes
    }
}

/// The limit and stop prices an order of `kind` needs, checked.
fn check_prices(
    kind: OrderKind,
    limit: Option<f64>,
    stop: Option<f64>,
) -> Result<(Option<f64>, Option<f64>), TradingError> {
    let (needs_limit, needs_stop) = match kind {
        OrderKind::Market => (false, false),
        OrderKind::Limit => (true, false),
        OrderKind::Stop => (false, true),
        OrderKind::StopLimit => (true, true),
    };
    let kind_name = serde_json::to_value(kind).unwrap_or_default();
    let kind_name = kind_name.as_str().unwrap_or_default();
    for (field, needed, value) in [
        ("limit_price", needs_limit, limit),
        ("stop_price", needs_stop, stop),
    ] {
        match (needed, value) {
            (true, None) => {
                return Err(TradingError::invalid(
                    field,
                    format!("a {kind_name} order needs one"),
                ));
            }
            (false, Some(_)) => {
                return Err(TradingError::invalid(
                    field,
                    format!("a {kind_name} order has none"),
                ));
            }
            (true, Some(price)) => {
                range::price(field, price)
                    .map_err(|e| TradingError::invalid(e.field, e.message))?;
            }
            (false, None) => {}
        }
    }
    Ok((limit, stop))
}

/// Checks an account's name.
fn check_account_name(name: &str) -> Result<(), TradingError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_ACCOUNT_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(TradingError::invalid(
            "name",
            format!("expected 1 to {MAX_ACCOUNT_NAME} letters, digits, - or _, got {name:?}"),
        ))
    }
}

#[cfg(test)]
mod tests;
