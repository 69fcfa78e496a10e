//! Paper trading: accounts with cash, orders matched against the simulated
//! order book ([`Desk`]), their record in the store ([`TradingStore`]),
//! and the `orders` stream of order changes and fills. In Kafka mode the
//! orders stay with the engine that takes them: they are never published.
//!
//! [`Broker`] is the one way in: every change is decided by the desk,
//! written to the store, then appended to the log's `orders` topic, under
//! one lock, so the stream, the store and the desk always agree.

mod desk;
mod ledger;

pub use desk::{Desk, Fees, MAX_ORDER_SHARES};

use std::{collections::HashSet, path::Path, sync::Arc};

use parking_lot::{Mutex, RwLock};
use tokio_util::sync::CancellationToken;

use crate::{
    analytics::Quotes,
    log::{Log, Reader, Start},
    model::{
        Account, EncodedTick, EventKind, Fill, MarketEvent, NewAccount, NewOrder, Order,
        OrderChange, Symbol, TradingEvent, price_to_units,
    },
    store::{StoreError, TradingStore},
};

/// The account every engine has.
pub const DEFAULT_ACCOUNT: &str = "paper";

/// Why an order, change or account was refused. Each message names the
/// field at fault.
#[derive(Debug, thiserror::Error)]
pub enum TradingError {
    /// A field is out of its bounds.
    #[error("{0}")]
    Invalid(String),
    /// No such account.
    #[error("{0}")]
    NotFound(String),
    /// It clashes with what exists (an account's name, a client order
    /// ID, an order no longer working).
    #[error("{0}")]
    Conflict(String),
    /// A buy costs more than the account's buying power.
    #[error("{0}")]
    InsufficientFunds(String),
    /// A sale of more shares than the account holds and has not offered.
    #[error("{0}")]
    InsufficientShares(String),
    /// The store failed; nothing changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TradingError {
    fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::Invalid(format!("{field}: {message}"))
    }
}

/// What paper trading starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradingSettings {
    /// Cash of a new account unless it says otherwise.
    pub starting_cash: f64,
    /// What each fill costs.
    pub fees: Fees,
}

/// Paper trading in one engine: the desk, its record and its stream.
pub struct Broker {
    desk: Mutex<Desk>,
    store: Mutex<TradingStore>,
    settings: TradingSettings,
    log: Arc<Log>,
    quotes: Arc<RwLock<Quotes>>,
}

impl Broker {
    /// Paper trading on the database at `path`: its accounts (and
    /// [`DEFAULT_ACCOUNT`], opened with the starting cash if missing) and
    /// working orders restored, reporting to `log` and valuing holdings at
    /// `quotes`.
    ///
    /// # Errors
    /// The store's error.
    pub fn open(
        path: &Path,
        settings: TradingSettings,
        log: Arc<Log>,
        quotes: Arc<RwLock<Quotes>>,
    ) -> Result<Self, StoreError> {
        let store = TradingStore::open(path)?;
        if !store.accounts()?.iter().any(|a| a.name == DEFAULT_ACCOUNT) {
            store.create_account(
                DEFAULT_ACCOUNT,
                price_to_units(settings.starting_cash).into(),
            )?;
        }
        let desk = restore(&store, settings.fees)?;
        Ok(Self {
            desk: Mutex::new(desk),
            store: Mutex::new(store),
            settings,
            log,
            quotes,
        })
    }

    /// Places an order for `symbol` (a known one): what changed.
    ///
    /// # Errors
    /// [`TradingError`] naming the field; the store's error.
    pub fn submit(&self, new: NewOrder, symbol: Symbol) -> Result<Vec<TradingEvent>, TradingError> {
        let book = self.log.book.snapshot(&symbol, usize::MAX);
        let now = market_time(book.as_ref());
        self.change(|desk| desk.submit(new, symbol, book.as_ref(), now))
    }

    /// Cancels working order `id`.
    ///
    /// # Errors
    /// [`TradingError::Conflict`] when it is not working; the store's error.
    pub fn cancel(&self, id: u64) -> Result<Vec<TradingEvent>, TradingError> {
        let now = chrono::Utc::now();
        self.change(|desk| desk.cancel(id, now))
    }

    /// Changes working order `id`.
    ///
    /// # Errors
    /// As [`Broker::submit`] and [`Broker::cancel`].
    pub fn replace(&self, id: u64, change: OrderChange) -> Result<Vec<TradingEvent>, TradingError> {
        let symbol = self
            .desk
            .lock()
            .working()
            .find(|o| o.id == id)
            .map(|o| o.symbol.clone());
        let book = symbol.and_then(|s| self.log.book.snapshot(&s, usize::MAX));
        let now = market_time(book.as_ref());
        self.change(|desk| desk.replace(id, change, book.as_ref(), now))
    }

    /// Opens an account.
    ///
    /// # Errors
    /// [`TradingError`] naming the field; the store's error.
    pub fn open_account(&self, new: NewAccount) -> Result<Account, TradingError> {
        let cash = new.cash.unwrap_or(self.settings.starting_cash);
        let mut desk = self.desk.lock();
        desk.open_account(&new.name, cash)?;
        if let Err(error) = self
            .store
            .lock()
            .create_account(&new.name, price_to_units(cash).into())
        {
            *desk = restore(&self.store.lock(), self.settings.fees)?;
            return Err(error.into());
        }
        Ok(self
            .value(&desk, &new.name)
            .expect("the account was opened"))
    }

    /// The account `name`, valued at the last prices.
    pub fn account(&self, name: &str) -> Option<Account> {
        self.value(&self.desk.lock(), name)
    }

    /// Every account, valued at the last prices.
    pub fn accounts(&self) -> Vec<Account> {
        let desk = self.desk.lock();
        desk.account_names()
            .iter()
            .filter_map(|name| self.value(&desk, name))
            .collect()
    }

    fn value(&self, desk: &Desk, name: &str) -> Option<Account> {
        let quotes = self.quotes.read();
        desk.account(name, |symbol| quotes.get(symbol.as_str()).map(|q| q.price))
    }

    /// Orders of `account` (all when `None`), newest first.
    ///
    /// # Errors
    /// The store's error.
    pub fn orders(&self, account: Option<&str>, limit: u32) -> Result<Vec<Order>, StoreError> {
        self.store.lock().orders(account, limit)
    }

    /// The order `id`.
    ///
    /// # Errors
    /// The store's error.
    pub fn order(&self, id: u64) -> Result<Option<Order>, StoreError> {
        self.store.lock().order(id)
    }

    /// Fills of `account` (all when `None`) after fill `after`, oldest first.
    ///
    /// # Errors
    /// The store's error.
    pub fn fills(
        &self,
        account: Option<&str>,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Fill>, StoreError> {
        self.store.lock().fills(account, after, limit)
    }

    /// Runs `decide` on the desk and records what it changed: stored, then
    /// appended to the `orders` topic. If the store fails, the desk is
    /// restored from it, so nothing unrecorded stands.
    fn change(
        &self,
        decide: impl FnOnce(&mut Desk) -> Result<Vec<TradingEvent>, TradingError>,
    ) -> Result<Vec<TradingEvent>, TradingError> {
        let mut desk = self.desk.lock();
        let changes = decide(&mut desk)?;
        self.record(&mut desk, &changes)?;
        Ok(changes)
    }

    fn record(&self, desk: &mut Desk, changes: &[TradingEvent]) -> Result<(), TradingError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut store = self.store.lock();
        if let Err(error) = store.record(changes) {
            tracing::error!(%error, "paper trading could not record a change; restoring the desk from the store");
            *desk = restore(&store, self.settings.fees)?;
            return Err(error.into());
        }
        for change in changes {
            self.log.orders.append(Arc::new(change.clone()));
        }
        Ok(())
    }

    /// The market traded or changed session: working orders react.
    fn on_market(&self, decide: impl FnOnce(&mut Desk) -> Vec<TradingEvent>) {
        let mut desk = self.desk.lock();
        let changes = decide(&mut desk);
        if let Err(error) = self.record(&mut desk, &changes) {
            tracing::error!(%error, "paper trading could not record fills of working orders");
        }
    }
}

/// The market's time: the book's, else the clock's.
fn market_time(book: Option<&crate::model::OrderBook>) -> chrono::DateTime<chrono::Utc> {
    book.map_or_else(chrono::Utc::now, |b| b.timestamp)
}

/// A desk rebuilt from the store: accounts from their fills, and the
/// working orders.
fn restore(store: &TradingStore, fees: Fees) -> Result<Desk, StoreError> {
    let (last_order, last_fill) = store.last_ids()?;
    let mut desk = Desk::new(fees, last_order, last_fill);
    for account in store.accounts()? {
        let fills = store.all_fills(&account.name)?;
        desk.restore_account(account.name, account.starting_cash, &fills);
    }
    for order in store.working_orders()? {
        desk.restore_order(order);
    }
    Ok(desk)
}

/// The market follower: each new trade reaches the working orders of its
/// symbol; a session's close expires the day orders, and so does a new
/// (UTC) day of a market that never closes; until `token` is cancelled.
pub async fn follow_market(broker: Arc<Broker>, token: CancellationToken) {
    let log = broker.log.clone();
    let mut ticks = Reader::new(log.ticks.clone(), Start::Latest);
    let mut events = Reader::new(log.events.clone(), Start::Latest);
    // The market's day, from its trades.
    let mut day = None;
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            () = ticks.wait() => {}
            () = events.wait() => {}
        }
        let working: HashSet<Symbol> = broker
            .desk
            .lock()
            .working()
            .map(|o| o.symbol.clone())
            .collect();
        let mut trades: Vec<Arc<EncodedTick>> = Vec::new();
        let mut newest = None;
        ticks.read_with(
            4_096,
            |_, _| {},
            |_, _, tick| {
                newest = newest.max(Some(tick.tick().timestamp));
                if working.contains(&tick.tick().symbol) {
                    trades.push(tick.clone());
                }
            },
        );
        let mut closes: Vec<Arc<MarketEvent>> = Vec::new();
        events.read_with(
            1_024,
            |_, _| {},
            |_, _, event| {
                if event.kind == EventKind::SessionClose {
                    closes.push(event.clone());
                }
            },
        );
        for record in trades {
            let tick = record.tick();
            let book = log.book.snapshot(&tick.symbol, usize::MAX);
            broker.on_market(|desk| {
                desk.on_trade(
                    &tick.symbol,
                    tick.price,
                    tick.volume,
                    book.as_ref(),
                    tick.timestamp,
                )
            });
        }
        for close in closes {
            broker.on_market(|desk| desk.close_session(close.timestamp));
        }
        if let Some(newest) = newest {
            let today = newest.date_naive();
            if day.is_some_and(|day| day < today) {
                broker.on_market(|desk| desk.close_session(newest));
            }
            day = day.max(Some(today));
        }
    }
}
