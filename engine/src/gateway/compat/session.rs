//! `CompatSession`: one compatible endpoint's client, whatever its
//! dialect. It waits for credentials (at most [`AUTH_TIMEOUT`]), keeps the
//! client's subscriptions by channel, reads trades, quotes and market
//! events of the subscribed symbols from the log, builds bars, and ends the
//! conversation when the key is refused, revoked or expires.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

use tokio::time::{Instant, sleep, sleep_until};

use super::{
    AUTH_TIMEOUT, Channel, CompatFrame, Dialect, Reply, Request, Unreadable,
    bars::{Bar, Bars},
};
use crate::{
    auth::Caller,
    gateway::{
        GatewayState,
        driver::{Inbound, Protocol},
    },
    log::{Interest, Keys, Reader, Start},
    model::{EncodedTick, ErrorCode, EventKind, Interval, MarketEvent, Scope, Symbol, TopOfBook},
};

/// Most records read per partition per poll; bounds a frame's size.
const MAX_PER_PARTITION: usize = 512;
/// How often open bars look at the clock while nothing trades.
const BAR_CHECK: Duration = Duration::from_millis(250);

/// Who the client is, for the audit log.
pub struct Client {
    /// Its address.
    pub address: String,
    /// `GET` and the endpoint's path.
    pub action: &'static str,
}

/// Where the client is in authenticating.
enum Login {
    /// Credentials are due by then.
    Waiting(Instant),
    /// In, with the key it gave (none: the gateway needs none).
    In(Option<Caller>),
}

/// The symbols of one channel.
#[derive(Debug, Default)]
struct Selection {
    all: bool,
    symbols: BTreeSet<Symbol>,
}

impl Selection {
    fn wants(&self, symbol: &Symbol) -> bool {
        self.all || self.symbols.contains(symbol)
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.all.then(|| "*".to_owned()).into_iter().collect();
        names.extend(self.symbols.iter().map(ToString::to_string));
        names
    }
}

/// A topic read for the subscribed symbols: woken only by their records.
struct Follow<T> {
    reader: Reader<T>,
    interest: Interest,
}

/// One client of a compatible endpoint.
pub struct CompatSession<D> {
    state: Arc<GatewayState>,
    dialect: D,
    client: Client,
    key_required: bool,
    login: Login,
    channels: BTreeMap<Channel, Selection>,
    trades: Option<Follow<Arc<EncodedTick>>>,
    quotes: Option<Follow<Arc<TopOfBook>>>,
    events: Option<Reader<Arc<MarketEvent>>>,
    bars: Bars,
    finished: bool,
}

impl<D: Dialect> CompatSession<D> {
    /// A client that just connected (greeted on its first poll), checking
    /// its key against the gateway's when `key_required`.
    pub fn new(state: Arc<GatewayState>, dialect: D, key_required: bool, client: Client) -> Self {
        Self {
            state,
            dialect,
            client,
            key_required,
            login: Login::Waiting(Instant::now() + AUTH_TIMEOUT),
            channels: BTreeMap::new(),
            trades: None,
            quotes: None,
            events: None,
            bars: Bars::default(),
            finished: false,
        }
    }

    fn frame(&self, replies: Vec<Reply>) -> Option<CompatFrame> {
        let message = self.dialect.write(&replies)?;
        Some(CompatFrame {
            message,
            refusals: replies.iter().filter_map(Reply::refusal).collect(),
        })
    }

    /// Answers one request.
    fn request(&mut self, request: Request, replies: &mut Vec<Reply>) {
        match (request, &self.login) {
            (Request::Auth(_), Login::In(_)) => replies.push(Reply::Refused(
                ErrorCode::Conflict,
                "already authenticated".into(),
            )),
            (Request::Auth(credentials), Login::Waiting(_)) => {
                self.authenticate(&credentials, replies)
            }
            (_, Login::Waiting(_)) => replies.push(Reply::Refused(
                ErrorCode::Unauthorized,
                "not authenticated: authenticate first".into(),
            )),
            (Request::Subscribe(wanted), Login::In(_)) => self.subscribe(wanted, replies),
            (Request::Unsubscribe(unwanted), Login::In(_)) => self.unsubscribe(unwanted, replies),
        }
    }

    /// Lets the client in with the first credential that is a key in force
    /// allowing reads (any, when no key is required); else refuses it,
    /// audited, and ends the conversation.
    fn authenticate(&mut self, credentials: &[String], replies: &mut Vec<Reply>) {
        if !self.key_required {
            self.login = Login::In(None);
            replies.push(Reply::Authenticated);
            return;
        }
        let keys = &self.state.stored.access.keys;
        let now = chrono::Utc::now();
        let mut reason = "authentication failed: no valid API key".to_owned();
        for credential in credentials {
            match keys.verify(credential, now) {
                Ok(caller) if caller.scope.allows(Scope::Read) => {
                    self.login = Login::In(Some(caller));
                    replies.push(Reply::Authenticated);
                    return;
                }
                Ok(caller) => {
                    reason = format!(
                        "authentication failed: the key {:?} has scope {}; streaming needs {}",
                        caller.name,
                        caller.scope,
                        Scope::Read
                    );
                }
                Err(error) => reason = format!("authentication failed: {error}"),
            }
        }
        self.state.stored.access.audit.record(
            None,
            self.client.address.clone(),
            self.client.action.to_owned(),
            401,
            &ErrorCode::Unauthorized.name(),
        );
        replies.push(Reply::AuthFailed(reason));
        self.finished = true;
    }

    fn subscribe(&mut self, wanted: Vec<(Channel, String)>, replies: &mut Vec<Reply>) {
        let mut accepted = Vec::new();
        let (mut invalid, mut unknown) = (Vec::new(), Vec::new());
        for (channel, name) in wanted {
            match symbol_or_all(&name) {
                Err(error) => invalid.push(error),
                Ok(Some(symbol)) if !self.state.market.is_known(&symbol) => unknown.push(name),
                Ok(symbol) => accepted.push((channel, symbol, name)),
            }
        }
        if !invalid.is_empty() {
            replies.push(Reply::Refused(ErrorCode::InvalidSymbol, invalid.join("; ")));
        }
        if !unknown.is_empty() {
            unknown.dedup();
            replies.push(Reply::Refused(
                ErrorCode::UnknownSymbol,
                format!(
                    "unknown symbols {} (GET /api/v1/symbols lists the known ones)",
                    unknown.join(", ")
                ),
            ));
        }
        let mut symbols: BTreeSet<&Symbol> = self
            .channels
            .values()
            .flat_map(|s| s.symbols.iter())
            .collect();
        symbols.extend(accepted.iter().filter_map(|(_, s, _)| s.as_ref()));
        let max = self.state.market.limits().max_symbols_per_client;
        if symbols.len() > max {
            replies.push(Reply::Refused(
                ErrorCode::TooManySymbols,
                format!(
                    "subscriptions unchanged: they would name {} symbols, more than the {max} a client may (use \"*\" for all)",
                    symbols.len()
                ),
            ));
            return;
        }
        let mut changed = Vec::new();
        for (channel, symbol, name) in accepted {
            let selection = self.channels.entry(channel).or_default();
            match symbol {
                Some(symbol) => {
                    selection.symbols.insert(symbol);
                }
                None => selection.all = true,
            }
            changed.push((channel, name));
        }
        self.follow();
        replies.push(self.subscribed(changed, true));
    }

    fn unsubscribe(&mut self, unwanted: Vec<(Channel, String)>, replies: &mut Vec<Reply>) {
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        for (channel, name) in unwanted {
            let Some(selection) = self.channels.get_mut(&channel) else {
                continue;
            };
            match symbol_or_all(&name) {
                Ok(Some(symbol)) => {
                    selection.symbols.remove(&symbol);
                    removed.push(symbol);
                }
                Ok(None) => *selection = Selection::default(),
                Err(_) => continue,
            }
            changed.push((channel, name));
        }
        self.channels.retain(|_, s| s.all || !s.symbols.is_empty());
        // A symbol's bars go only with the last channel built from them.
        let mut wanted = Vec::new();
        for symbol in removed {
            self.bar_intervals(&symbol, &mut wanted);
            for interval in [Interval::S1, Interval::M1] {
                if !wanted.contains(&interval) {
                    self.bars.drop_symbol(&symbol, interval);
                }
            }
        }
        self.follow();
        replies.push(self.subscribed(changed, false));
    }

    fn subscribed(&self, changed: Vec<(Channel, String)>, added: bool) -> Reply {
        Reply::Subscribed {
            changed,
            now: self
                .channels
                .iter()
                .map(|(channel, selection)| (*channel, selection.names()))
                .collect(),
            added,
        }
    }

    /// The keys of the symbols the channels matching `reads` want.
    fn keys(&self, reads: impl Fn(Channel) -> bool) -> Option<Keys> {
        let wanted: Vec<&Selection> = self
            .channels
            .iter()
            .filter(|(channel, _)| reads(**channel))
            .map(|(_, selection)| selection)
            .collect();
        if wanted.is_empty() {
            None
        } else if wanted.iter().any(|s| s.all) {
            Some(Keys::All)
        } else {
            let symbols: BTreeSet<&Symbol> = wanted.iter().flat_map(|s| &s.symbols).collect();
            Some(Keys::Some(
                symbols
                    .into_iter()
                    .map(|s| s.as_str().as_bytes().into())
                    .collect(),
            ))
        }
    }

    /// Reads the topics the subscriptions need, from their end when newly
    /// needed, and follows the subscribed symbols.
    fn follow(&mut self) {
        let log = self.state.market.log.clone();
        match self.keys(Channel::reads_trades) {
            Some(keys) => {
                self.trades
                    .get_or_insert_with(|| Follow {
                        reader: Reader::new(log.ticks.clone(), Start::Latest),
                        interest: log.ticks.interest(),
                    })
                    .interest
                    .follow(keys);
            }
            None => self.trades = None,
        }
        match self.keys(|c| c == Channel::Quotes) {
            Some(keys) => {
                self.quotes
                    .get_or_insert_with(|| Follow {
                        reader: Reader::new(log.quotes.clone(), Start::Latest),
                        interest: log.quotes.interest(),
                    })
                    .interest
                    .follow(keys);
            }
            None => self.quotes = None,
        }
        if self.channels.keys().any(|c| c.reads_events()) {
            self.events
                .get_or_insert_with(|| Reader::new(log.events.clone(), Start::Latest));
        } else {
            self.events = None;
        }
    }

    fn wants(&self, channel: Channel, symbol: &Symbol) -> bool {
        self.channels.get(&channel).is_some_and(|s| s.wants(symbol))
    }

    /// The bar widths the subscriptions build for `symbol`, into `out`:
    /// seconds for `SecondBars`, minutes for `MinuteBars` and `DailyBars`.
    fn bar_intervals(&self, symbol: &Symbol, out: &mut Vec<Interval>) {
        out.clear();
        if self.wants(Channel::SecondBars, symbol) {
            out.push(Interval::S1);
        }
        if self.wants(Channel::MinuteBars, symbol) || self.wants(Channel::DailyBars, symbol) {
            out.push(Interval::M1);
        }
    }

    /// Reads trades: each wanted one, and the bars it closes.
    fn read_trades(&mut self, replies: &mut Vec<Reply>) {
        let Some(mut trades) = self.trades.take() else {
            return;
        };
        let partitions = u64::from(trades.reader.topic().partition_count());
        let mut closed = Vec::new();
        let mut intervals = Vec::with_capacity(2);
        trades.reader.read_with(
            MAX_PER_PARTITION,
            |_, _| {},
            |partition, offset, record| {
                let tick = record.tick();
                if self.wants(Channel::Trades, &tick.symbol) {
                    replies.push(Reply::Trade {
                        tick: tick.clone(),
                        id: offset * partitions + u64::from(partition),
                    });
                }
                self.bar_intervals(&tick.symbol, &mut intervals);
                self.bars.add(tick, &intervals, &mut closed);
            },
        );
        self.trades = Some(trades);
        self.bars.close_due(&mut closed);
        let quotes = self.state.market.quotes.read();
        for candle in closed {
            let day = quotes.get(candle.symbol.as_str()).cloned();
            let (symbol, interval) = (&candle.symbol, candle.interval);
            if interval == Interval::M1
                && self.wants(Channel::DailyBars, symbol)
                && let Some(day) = &day
            {
                replies.push(Reply::DailyBar(day.clone()));
            }
            let channel = match interval {
                Interval::S1 => Channel::SecondBars,
                _ => Channel::MinuteBars,
            };
            if self.wants(channel, symbol) {
                replies.push(Reply::Bar(Bar { candle, day }));
            }
        }
    }

    fn read_quotes(&mut self, replies: &mut Vec<Reply>) {
        let Some(mut quotes) = self.quotes.take() else {
            return;
        };
        quotes.reader.read_with(
            MAX_PER_PARTITION,
            |_, _| {},
            |_, _, quote| {
                if self.wants(Channel::Quotes, &quote.symbol) {
                    replies.push(Reply::Quote(TopOfBook::clone(quote)));
                }
            },
        );
        self.quotes = Some(quotes);
    }

    fn read_events(&mut self, replies: &mut Vec<Reply>) {
        let Some(mut events) = self.events.take() else {
            return;
        };
        events.read_with(
            MAX_PER_PARTITION,
            |_, _| {},
            |_, _, event| {
                let channel = match event.kind {
                    EventKind::Halt | EventKind::Resume => Channel::Statuses,
                    EventKind::LimitState => Channel::Lulds,
                    EventKind::AuctionImbalance => Channel::Imbalances,
                    _ => return,
                };
                if event
                    .symbol
                    .as_ref()
                    .is_some_and(|s| self.wants(channel, s))
                {
                    replies.push(Reply::Event(MarketEvent::clone(event)));
                }
            },
        );
        self.events = Some(events);
    }

    /// Whether the key the client came in with was revoked or expired.
    fn key_ended(&self) -> bool {
        match &self.login {
            Login::In(Some(caller)) => {
                caller.revoked.is_cancelled()
                    || caller.expires_at.is_some_and(|at| at <= chrono::Utc::now())
            }
            _ => false,
        }
    }
}

impl<D: Dialect> Protocol for CompatSession<D> {
    type Frame = CompatFrame;

    fn open(&mut self, out: &mut Vec<CompatFrame>) {
        out.extend(self.frame(vec![Reply::Connected]));
    }

    fn answer(&mut self, frame: Inbound, out: &mut Vec<CompatFrame>) {
        let mut replies = Vec::new();
        let limit = self.state.market.limits().max_frame_bytes;
        let size = match &frame {
            Inbound::Text(text) => text.len(),
            Inbound::Binary(bytes) => bytes.len(),
            Inbound::TooFast | Inbound::Alive => 0,
        };
        if matches!(frame, Inbound::TooFast) {
            replies.push(Reply::Refused(
                ErrorCode::RateLimited,
                "too many frames: this one was not read; send fewer per second".into(),
            ));
        } else if size > limit {
            replies.push(Reply::Refused(
                ErrorCode::FrameTooLarge,
                format!("frame of {size} bytes exceeds the limit of {limit} bytes"),
            ));
        } else {
            match self.dialect.read(&frame) {
                Ok(request) => self.request(request, &mut replies),
                Err(Unreadable { code, message }) => replies.push(Reply::Refused(code, message)),
            }
        }
        out.extend(self.frame(replies));
    }

    async fn wait(&mut self) {
        let deadline = match &self.login {
            Login::Waiting(deadline) => Some(*deadline),
            _ => None,
        };
        let caller = match &self.login {
            Login::In(Some(caller)) => Some(caller),
            _ => None,
        };
        let key = async {
            match caller {
                Some(caller) => {
                    let expiry = caller.lasts(chrono::Utc::now());
                    tokio::select! {
                        () = caller.revoked.cancelled() => {}
                        () = sleep(expiry.unwrap_or(Duration::MAX)), if expiry.is_some() => {}
                    }
                }
                None => std::future::pending().await,
            }
        };
        let trades = async {
            match &self.trades {
                Some(trades) => trades.interest.appended().await,
                None => std::future::pending().await,
            }
        };
        let quotes = async {
            match &self.quotes {
                Some(quotes) => quotes.interest.appended().await,
                None => std::future::pending().await,
            }
        };
        let events = async {
            match &self.events {
                Some(events) => events.wait().await,
                None => std::future::pending().await,
            }
        };
        let bars_open = self.bars.any_open();
        tokio::select! {
            () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {}
            () = key => {}
            () = trades => {}
            () = quotes => {}
            () = events => {}
            () = sleep(BAR_CHECK), if bars_open => {}
        }
    }

    fn poll(&mut self, out: &mut Vec<CompatFrame>) {
        let mut replies = Vec::new();
        match &self.login {
            Login::Waiting(deadline) if Instant::now() >= *deadline => {
                replies.push(Reply::AuthTimeout);
                self.finished = true;
            }
            Login::In(_) if self.key_ended() => {
                replies.push(Reply::KeyEnded);
                self.finished = true;
            }
            Login::In(_) => {
                self.read_events(&mut replies);
                self.read_quotes(&mut replies);
                self.read_trades(&mut replies);
            }
            Login::Waiting(_) => {}
        }
        if !replies.is_empty() {
            out.extend(self.frame(replies));
        }
    }

    fn has_backlog(&self) -> bool {
        self.trades
            .as_ref()
            .is_some_and(|t| t.reader.lag() >= MAX_PER_PARTITION as u64)
    }

    fn batch(&self) -> Duration {
        Duration::ZERO
    }

    fn finished(&self) -> bool {
        self.finished
    }
}

/// Parses a symbol the client named (`"*"` stays a wildcard: `None`).
fn symbol_or_all(text: &str) -> Result<Option<Symbol>, String> {
    if text == "*" {
        Ok(None)
    } else {
        Symbol::new(text).map(Some).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        gateway::compat::polygon::Polygon,
        model::{EncodedTick, Tick},
    };

    fn ask(session: &mut CompatSession<Polygon>, action: &str) {
        let mut out = Vec::new();
        session.answer(Inbound::Text(action.to_owned()), &mut out);
    }

    #[tokio::test]
    async fn unsubscribing_trades_keeps_the_bars_another_channel_builds() {
        let dir = tempfile::tempdir().unwrap();
        let state = GatewayState::scratch(dir.path()).unwrap();
        let client = Client {
            address: "test".into(),
            action: "GET /compat/polygon/stocks",
        };
        let mut session = CompatSession::new(state.clone(), Polygon, false, client);
        ask(&mut session, r#"{"action":"auth","params":"any"}"#);
        ask(
            &mut session,
            r#"{"action":"subscribe","params":"T.AAPL,A.AAPL"}"#,
        );
        let tick = Tick::trade(Symbol::new("AAPL").unwrap(), 10.0, 5, chrono::Utc::now());
        state
            .market
            .log
            .ticks
            .append(Arc::new(EncodedTick::new(tick)));
        session.poll(&mut Vec::new());
        assert!(session.bars.any_open());
        ask(
            &mut session,
            r#"{"action":"unsubscribe","params":"T.AAPL"}"#,
        );
        assert!(session.bars.any_open(), "A.AAPL still wants its bar");
        ask(
            &mut session,
            r#"{"action":"unsubscribe","params":"A.AAPL"}"#,
        );
        assert!(!session.bars.any_open());
    }
}
