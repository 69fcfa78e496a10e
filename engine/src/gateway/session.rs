//! `Session`: one WebSocket client's subscription and stream positions, and
//! the protocol logic that turns client frames and log records into server
//! frames. Knows nothing of sockets, so it is tested with plain strings.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};

use super::{
    GatewayState, Market,
    driver::{Inbound, Protocol},
};
use crate::{
    log::{Interest, Keys, Reader, Start},
    metrics::Metrics,
    model::{
        EncodedTick, ErrorCode, MarketEvent, OrderBook, Symbol, SystemMetric, TopOfBook,
        TradingEvent,
        protocol::{
            ClientMsg, Delivery, Offsets, Ping, ServerMsg, StreamTopic, Subscribe, Unsubscribe,
        },
    },
};

/// Most ticks read per partition per poll; bounds a frame's size.
const MAX_PER_PARTITION: usize = 512;
/// The wildcard symbol.
const ALL: &str = "*";
/// Longest a client may ask ticks to be gathered into one frame.
const MAX_BATCH_MS: u32 = 1000;
/// Most ticks one poll passes over for a conflating client; it bounds the
/// work of one poll, and a longer backlog takes another.
const MAX_CONFLATED: usize = 64 * 1024;

/// A frame for the client, with the time of its oldest tick (for the latency metric).
#[derive(Debug)]
pub struct Outgoing {
    /// The JSON text.
    pub text: String,
    /// Timestamp of the oldest tick in a `ticks` frame.
    pub oldest_tick: Option<DateTime<Utc>>,
    /// The code of an `error` frame (counted in `tickstream_ws_errors_total`).
    pub refusal: Option<ErrorCode>,
}

impl Outgoing {
    fn msg(msg: &ServerMsg) -> Self {
        Self {
            text: serde_json::to_string(msg).expect("server messages always serialize"),
            oldest_tick: None,
            refusal: None,
        }
    }

    /// An `error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            refusal: Some(code),
            ..Self::msg(&ServerMsg::Error {
                code,
                message: message.into(),
            })
        }
    }
}

/// A `ticks` frame being written: the ticks' JSON as they are read.
struct TicksFrame {
    text: String,
    count: usize,
    oldest: Option<DateTime<Utc>>,
    conflated: u64,
}

impl Default for TicksFrame {
    fn default() -> Self {
        Self {
            text: String::from(r#"{"type":"ticks","data":["#),
            count: 0,
            oldest: None,
            conflated: 0,
        }
    }
}

impl TicksFrame {
    fn push(&mut self, partition: u32, offset: u64, record: &EncodedTick) {
        if self.count > 0 {
            self.text.push(',');
        }
        record.write_logged(partition, offset, &mut self.text);
        self.count += 1;
        let at = record.tick().timestamp;
        self.oldest = Some(self.oldest.map_or(at, |o| o.min(at)));
    }

    fn finish(mut self) -> Outgoing {
        self.text.push(']');
        if self.conflated > 0 {
            self.text.push_str(r#","conflated":"#);
            self.text
                .push_str(itoa::Buffer::new().format(self.conflated));
        }
        self.text.push('}');
        Outgoing {
            text: self.text,
            oldest_tick: self.oldest,
            refusal: None,
        }
    }
}

/// One client's state.
pub struct Session {
    /// The market streamed: the live one, or a replay's.
    market: Arc<Market>,
    counters: Arc<Metrics>,
    all_symbols: bool,
    symbols: HashSet<Symbol>,
    topics: BTreeSet<StreamTopic>,
    ticks: Option<Reader<Arc<EncodedTick>>>,
    /// Wakes the session for ticks of its symbols only.
    interest: Option<Interest>,
    /// The tick partitions holding a subscribed symbol, by partition.
    partitions: Vec<bool>,
    events: Option<Reader<Arc<MarketEvent>>>,
    metrics: Option<Reader<Arc<SystemMetric>>>,
    orders: Option<Reader<Arc<TradingEvent>>>,
    quotes: Option<Reader<Arc<TopOfBook>>>,
    /// The order-book reader, and the last `seq` sent of each symbol's
    /// book (a symbol without one gets a snapshot first).
    book: Option<Reader<Arc<OrderBook>>>,
    book_seqs: HashMap<Symbol, u64>,
    /// Wakes the session for quotes and book records of its symbols only.
    depth_interest: Option<(Interest, Interest)>,
    /// The quote and book partitions holding a subscribed symbol (the
    /// topics are partitioned as the ticks are).
    depth_partitions: Vec<bool>,
    batch_ms: u32,
    mode: Delivery,
}

impl Session {
    /// A client of the live market with no subscription.
    pub fn new(state: &GatewayState) -> Self {
        Self::of(state.market.clone(), state.ops.metrics.clone())
    }

    /// A client of `market` with no subscription, counted in `counters`.
    pub fn of(market: Arc<Market>, counters: Arc<Metrics>) -> Self {
        Self {
            market,
            counters,
            all_symbols: false,
            symbols: HashSet::new(),
            topics: BTreeSet::new(),
            ticks: None,
            interest: None,
            partitions: Vec::new(),
            events: None,
            metrics: None,
            orders: None,
            quotes: None,
            book: None,
            book_seqs: HashMap::new(),
            depth_interest: None,
            depth_partitions: Vec::new(),
            batch_ms: 0,
            mode: Delivery::Stream,
        }
    }

    /// How long to gather ticks before sending them (the client's `batch_ms`).
    pub fn batch(&self) -> Duration {
        Duration::from_millis(self.batch_ms.into())
    }

    /// Handles one text frame from the client; replies go to `out`.
    pub fn handle_text(&mut self, text: &str, out: &mut Vec<Outgoing>) {
        let limit = self.market.limits().max_frame_bytes;
        if text.len() > limit {
            out.push(Outgoing::error(
                ErrorCode::FrameTooLarge,
                format!(
                    "frame of {} bytes exceeds the limit of {limit} bytes",
                    text.len()
                ),
            ));
            return;
        }
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                out.push(Outgoing::error(
                    ErrorCode::MalformedJson,
                    format!("frame is not valid JSON: {e}"),
                ));
                return;
            }
        };
        if !value.is_object() {
            out.push(Outgoing::error(
                ErrorCode::InvalidMessage,
                "frame must be a JSON object with an \"op\"",
            ));
            return;
        }
        match serde_json::from_value::<ClientMsg>(value) {
            Ok(ClientMsg::Subscribe(subscribe)) => self.subscribe(subscribe, out),
            Ok(ClientMsg::Unsubscribe(Unsubscribe { symbols, topics })) => {
                self.unsubscribe(symbols, topics, out)
            }
            Ok(ClientMsg::Ping(Ping { id })) => out.push(Outgoing::msg(&ServerMsg::Pong { id })),
            Err(e) => out.push(Outgoing::error(ErrorCode::InvalidMessage, e.to_string())),
        }
    }

    fn subscribe(
        &mut self,
        Subscribe {
            symbols,
            topics,
            resume,
            batch_ms,
            mode,
        }: Subscribe,
        out: &mut Vec<Outgoing>,
    ) {
        if let Some(ms) = batch_ms.filter(|&ms| ms > MAX_BATCH_MS) {
            out.push(Outgoing::error(
                ErrorCode::InvalidMessage,
                format!(
                    "subscription unchanged: batch_ms must be 0 to {MAX_BATCH_MS} milliseconds, not {ms}"
                ),
            ));
            return;
        }
        let topic = self.market.log.ticks.clone();
        if let Some(resume) = &resume {
            let count = topic.partition_count();
            let bad: Vec<String> = resume
                .0
                .iter()
                .filter_map(|(&p, &offset)| {
                    if p >= count {
                        Some(format!(
                            "partition {p} does not exist (the topic has {count})"
                        ))
                    } else if offset > topic.latest(p) {
                        Some(format!(
                            "partition {p}: offset {offset} is past the end ({})",
                            topic.latest(p)
                        ))
                    } else {
                        None
                    }
                })
                .collect();
            if !bad.is_empty() {
                out.push(Outgoing::error(
                    ErrorCode::InvalidResume,
                    format!("subscription unchanged: {}", bad.join("; ")),
                ));
                return;
            }
        }

        let was_streaming = self.streaming_ticks();
        let (add, all) = self.parse_symbols(&symbols, out);
        let new: Vec<Symbol> = add
            .into_iter()
            .filter(|s| !self.symbols.contains(s))
            .collect();
        let max = self.market.limits().max_symbols_per_client;
        if self.symbols.len() + new.len() > max {
            out.push(Outgoing::error(
                ErrorCode::TooManySymbols,
                format!(
                    "subscribing to {} more symbols would exceed the limit of {max} per client (use \"*\" for all)",
                    new.len()
                ),
            ));
        } else {
            self.symbols.extend(new);
        }
        self.all_symbols |= all;
        self.topics.extend(
            topics.unwrap_or_else(|| vec![StreamTopic::StockTicks, StreamTopic::MarketEvents]),
        );
        self.open_readers(Start::Latest);
        if !was_streaming && self.streaming_ticks() {
            // Nothing was delivered while no symbol was subscribed: start now.
            self.ticks = Some(Reader::new(self.market.log.ticks.clone(), Start::Latest));
        }
        self.follow_symbols();
        if let (Some(reader), Some(resume)) = (&mut self.ticks, resume) {
            for (p, offset) in resume.0 {
                reader.seek(p, offset);
            }
        }
        self.batch_ms = batch_ms.unwrap_or(self.batch_ms);
        self.mode = mode.unwrap_or(self.mode);
        out.push(self.subscribed());
        self.send_snapshots(out);
    }

    /// The `subscribed` frame of the subscription as it stands.
    fn subscribed(&self) -> Outgoing {
        Outgoing::msg(&ServerMsg::Subscribed {
            symbols: self.symbol_list(),
            topics: self.topics.iter().copied().collect(),
            positions: self.positions(),
            batch_ms: self.batch_ms,
            mode: self.mode,
        })
    }

    /// Moves the session to `market` (a replay's stream begun afresh),
    /// keeping its subscription: every reader starts at the beginning of
    /// the new log, and the client gets a new `subscribed` frame with the
    /// new positions.
    pub fn rebind(&mut self, market: Arc<Market>, out: &mut Vec<Outgoing>) {
        self.market = market;
        self.ticks = None;
        self.events = None;
        self.metrics = None;
        self.orders = None;
        self.quotes = None;
        self.book = None;
        self.interest = None;
        self.depth_interest = None;
        self.partitions.clear();
        self.depth_partitions.clear();
        self.book_seqs.clear();
        if self.topics.is_empty() {
            return;
        }
        self.open_readers(Start::Earliest);
        self.follow_symbols();
        out.push(self.subscribed());
        self.send_snapshots(out);
    }

    /// The next offset of each tick partition the session reads (`None`
    /// for those it passes over), when it streams ticks.
    pub fn tick_positions(&self) -> Option<Vec<Option<u64>>> {
        let reader = self.ticks.as_ref().filter(|_| self.streaming_ticks())?;
        Some(
            reader
                .positions()
                .iter()
                .enumerate()
                .map(|(p, &at)| {
                    self.partitions
                        .get(p)
                        .copied()
                        .unwrap_or(false)
                        .then_some(at)
                })
                .collect(),
        )
    }

    /// Sends a snapshot of each subscribed symbol's book not sent one yet
    /// (that has a book), as of the `order_book` topic's end, where the
    /// session's book reader then continues.
    fn send_snapshots(&mut self, out: &mut Vec<Outgoing>) {
        if !self.topics.contains(&StreamTopic::OrderBook) {
            return;
        }
        let book = &self.market.log.book;
        let snapshots = if self.all_symbols {
            book.snapshots(None, &mut self.book)
                .into_iter()
                .filter(|s| !self.book_seqs.contains_key(&s.symbol))
                .collect()
        } else {
            let new: Vec<Symbol> = self
                .symbols
                .iter()
                .filter(|s| !self.book_seqs.contains_key(*s))
                .cloned()
                .collect();
            book.snapshots(Some(&new), &mut self.book)
        };
        for snapshot in &snapshots {
            self.book_seqs.insert(snapshot.symbol.clone(), snapshot.seq);
        }
        if !snapshots.is_empty() {
            out.push(Outgoing::msg(&ServerMsg::Book { data: snapshots }));
        }
    }

    fn unsubscribe(
        &mut self,
        symbols: Vec<String>,
        topics: Option<Vec<StreamTopic>>,
        out: &mut Vec<Outgoing>,
    ) {
        let (remove, all) = self.parse_symbols_lenient(&symbols, out);
        if all {
            self.all_symbols = false;
            self.symbols.clear();
        }
        for s in remove {
            self.symbols.remove(&s);
        }
        for t in topics.unwrap_or_default() {
            self.topics.remove(&t);
        }
        // A symbol subscribed again gets a fresh snapshot.
        let (all_symbols, symbols) = (self.all_symbols, &self.symbols);
        self.book_seqs
            .retain(|s, _| all_symbols || symbols.contains(s));
        self.close_readers();
        self.follow_symbols();
        out.push(Outgoing::msg(&ServerMsg::Unsubscribed {
            symbols: self.symbol_list(),
            topics: self.topics.iter().copied().collect(),
        }));
    }

    /// Valid, known symbols and whether `*` was given; errors for the rest.
    fn parse_symbols(&self, symbols: &[String], out: &mut Vec<Outgoing>) -> (Vec<Symbol>, bool) {
        let (mut valid, mut unknown, mut invalid, mut all) =
            (Vec::new(), Vec::new(), Vec::new(), false);
        for text in symbols {
            if text == ALL {
                all = true;
                continue;
            }
            match Symbol::new(text) {
                Ok(s) if self.market.is_known(&s) => valid.push(s),
                Ok(s) => unknown.push(s.to_string()),
                Err(e) => invalid.push(e.to_string()),
            }
        }
        if !invalid.is_empty() {
            out.push(Outgoing::error(
                ErrorCode::InvalidSymbol,
                invalid.join("; "),
            ));
        }
        if !unknown.is_empty() {
            out.push(Outgoing::error(
                ErrorCode::UnknownSymbol,
                format!(
                    "unknown symbol{} {} (GET /api/v1/symbols lists the known ones)",
                    if unknown.len() > 1 { "s" } else { "" },
                    unknown.join(", ")
                ),
            ));
        }
        (valid, all)
    }

    /// Like `parse_symbols`, but any valid symbol may be removed.
    fn parse_symbols_lenient(
        &self,
        symbols: &[String],
        out: &mut Vec<Outgoing>,
    ) -> (Vec<Symbol>, bool) {
        let (mut valid, mut invalid, mut all) = (Vec::new(), Vec::new(), false);
        for text in symbols {
            if text == ALL {
                all = true;
            } else {
                match Symbol::new(text) {
                    Ok(s) => valid.push(s),
                    Err(e) => invalid.push(e.to_string()),
                }
            }
        }
        if !invalid.is_empty() {
            out.push(Outgoing::error(
                ErrorCode::InvalidSymbol,
                invalid.join("; "),
            ));
        }
        (valid, all)
    }

    fn symbol_list(&self) -> Vec<String> {
        let mut list: Vec<String> = self.symbols.iter().map(|s| s.to_string()).collect();
        list.sort();
        if self.all_symbols {
            list.insert(0, ALL.to_owned());
        }
        list
    }

    fn positions(&self) -> Offsets {
        Offsets(
            self.ticks
                .as_ref()
                .map(|r| {
                    r.positions()
                        .iter()
                        .enumerate()
                        .map(|(p, &o)| (p as u32, o))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// Opens a reader, at `start`, for each subscribed topic without one.
    fn open_readers(&mut self, start: Start) {
        let log = &self.market.log;
        if self.topics.contains(&StreamTopic::StockTicks) && self.ticks.is_none() {
            self.ticks = Some(Reader::new(log.ticks.clone(), start));
        }
        if self.topics.contains(&StreamTopic::MarketEvents) && self.events.is_none() {
            self.events = Some(Reader::new(log.events.clone(), start));
        }
        if self.topics.contains(&StreamTopic::SystemMetrics) && self.metrics.is_none() {
            self.metrics = Some(Reader::new(log.metrics.clone(), start));
        }
        if self.topics.contains(&StreamTopic::Orders) && self.orders.is_none() {
            self.orders = Some(Reader::new(log.orders.clone(), start));
        }
        if self.topics.contains(&StreamTopic::StockQuotes) && self.quotes.is_none() {
            self.quotes = Some(Reader::new(log.quotes.clone(), start));
        }
    }

    /// Points the tick interest and the partitions read at the current
    /// subscription. A partition that held no subscribed symbol until now
    /// is read from its end: nothing in it was wanted before.
    fn follow_symbols(&mut self) {
        let streaming = self.streaming_ticks();
        let partitions = self.symbol_partitions(streaming);
        if let Some(reader) = &mut self.ticks {
            for (p, (&now, &before)) in partitions.iter().zip(&self.partitions).enumerate() {
                if now && !before {
                    reader.skip_to_end(p as u32);
                }
            }
        }
        self.partitions = partitions;
        let depth_partitions = self.symbol_partitions(true);
        for (p, (&now, &before)) in depth_partitions
            .iter()
            .zip(&self.depth_partitions)
            .enumerate()
        {
            if now && !before {
                // Nothing in it was wanted before.
                if let Some(reader) = &mut self.quotes {
                    reader.skip_to_end(p as u32);
                }
                if let Some(reader) = &mut self.book {
                    reader.skip_to_end(p as u32);
                }
            }
        }
        self.depth_partitions = depth_partitions;
        let keys = self.symbol_keys(streaming);
        let quote_keys = self.symbol_keys(self.topics.contains(&StreamTopic::StockQuotes));
        let book_keys = self.symbol_keys(self.topics.contains(&StreamTopic::OrderBook));
        let log = &self.market.log;
        let (quotes, book) = self
            .depth_interest
            .get_or_insert_with(|| (log.quotes.interest(), log.book.topic().interest()));
        quotes.follow(quote_keys);
        book.follow(book_keys);
        let ticks = &log.ticks;
        self.interest
            .get_or_insert_with(|| ticks.interest())
            .follow(keys);
    }

    /// The partitions holding a subscribed symbol (every one with `"*"`);
    /// none unless `wanted`. Every topic keyed by symbol is partitioned as
    /// the ticks are.
    fn symbol_partitions(&self, wanted: bool) -> Vec<bool> {
        let topic = &self.market.log.ticks;
        let mut partitions = vec![wanted && self.all_symbols; topic.partition_count() as usize];
        if wanted {
            for symbol in &self.symbols {
                partitions[topic.partition_for(symbol.as_str().as_bytes()) as usize] = true;
            }
        }
        partitions
    }

    /// The keys an interest follows for the subscribed symbols (all with
    /// `"*"`); none unless `wanted`.
    fn symbol_keys(&self, wanted: bool) -> Keys {
        if !wanted {
            Keys::Some(Vec::new())
        } else if self.all_symbols {
            Keys::All
        } else {
            Keys::Some(
                self.symbols
                    .iter()
                    .map(|s| s.as_str().as_bytes().into())
                    .collect(),
            )
        }
    }

    /// Whether the session reads tick partition `p`.
    fn reads(&self, p: u32) -> bool {
        self.partitions.get(p as usize).copied().unwrap_or(false)
    }

    fn close_readers(&mut self) {
        // The tick reader stays: its positions are reported and resumable.
        if !self.topics.contains(&StreamTopic::MarketEvents) {
            self.events = None;
        }
        if !self.topics.contains(&StreamTopic::SystemMetrics) {
            self.metrics = None;
        }
        if !self.topics.contains(&StreamTopic::StockQuotes) {
            self.quotes = None;
        }
        if !self.topics.contains(&StreamTopic::Orders) {
            self.orders = None;
        }
        if !self.topics.contains(&StreamTopic::OrderBook) {
            self.book = None;
            self.book_seqs.clear();
        }
    }

    fn wants(&self, symbol: &Symbol) -> bool {
        self.all_symbols || self.symbols.contains(symbol)
    }

    fn streaming_ticks(&self) -> bool {
        self.topics.contains(&StreamTopic::StockTicks)
            && (self.all_symbols || !self.symbols.is_empty())
    }

    /// Whether more ticks wait than a frame carries from one partition: the
    /// client is behind, and they are sent without waiting for new ones or
    /// for the client's `batch_ms`.
    pub fn has_backlog(&self) -> bool {
        self.streaming_ticks()
            && self
                .ticks
                .as_ref()
                .is_some_and(|r| r.lag_where(|p| self.reads(p)) >= MAX_PER_PARTITION as u64)
    }

    /// Whether the tick partitions it reads hold any record it has not
    /// read (the next poll reads them; `has_backlog` waits for more).
    pub fn has_unread(&self) -> bool {
        self.streaming_ticks()
            && self
                .ticks
                .as_ref()
                .is_some_and(|r| r.lag_where(|p| self.reads(p)) > 0)
    }

    /// Waits until a subscribed topic may have new records.
    pub async fn wait(&mut self) {
        let streaming = self.streaming_ticks();
        let ticks = async {
            match (&self.interest, streaming) {
                (Some(interest), true) => interest.appended().await,
                _ => std::future::pending().await,
            }
        };
        let events = async {
            match &mut self.events {
                Some(r) => r.wait().await,
                None => std::future::pending().await,
            }
        };
        let metrics = async {
            match &mut self.metrics {
                Some(r) => r.wait().await,
                None => std::future::pending().await,
            }
        };
        let orders = async {
            match &self.orders {
                Some(r) => r.wait().await,
                None => std::future::pending().await,
            }
        };
        let depth = async {
            match &self.depth_interest {
                Some((quotes, book)) => tokio::select! {
                    () = quotes.appended() => {}
                    () = book.appended() => {}
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = ticks => {}
            () = events => {}
            () = metrics => {}
            () = orders => {}
            () = depth => {}
        }
    }

    /// Reads new records and turns them into frames.
    pub fn poll(&mut self, out: &mut Vec<Outgoing>) {
        self.poll_events(out);
        self.poll_depth(out);
        self.poll_ticks(out);
    }

    /// Quotes and book records of the subscribed symbols. A book record
    /// that does not follow the last one sent (the session fell behind
    /// retention, or the symbol's book began after the subscription) is
    /// replaced by a snapshot, so the client's `seq` never skips.
    fn poll_depth(&mut self, out: &mut Vec<Outgoing>) {
        if let Some(mut reader) = self.quotes.take() {
            let mut data = Vec::new();
            let partitions = &self.depth_partitions;
            reader.read_where(
                |p| partitions.get(p as usize).copied().unwrap_or(false),
                MAX_PER_PARTITION,
                |_, _| {},
                |_, _, quote| {
                    if self.wants(&quote.symbol) {
                        data.push(TopOfBook::clone(quote));
                    }
                },
            );
            self.quotes = Some(reader);
            if !data.is_empty() {
                out.push(Outgoing::msg(&ServerMsg::Quotes { data }));
            }
        }
        if let Some(mut reader) = self.book.take() {
            let market = self.market.clone();
            let book = &market.log.book;
            let mut data = Vec::new();
            let partitions = std::mem::take(&mut self.depth_partitions);
            reader.read_where(
                |p| partitions.get(p as usize).copied().unwrap_or(false),
                MAX_PER_PARTITION,
                |_, _| {},
                |_, _, record| {
                    if !self.wants(&record.symbol) {
                        return;
                    }
                    let last = self.book_seqs.get(&record.symbol).copied();
                    let next = match last {
                        Some(last) if record.seq <= last => None,
                        Some(last) if record.seq == last + 1 => Some(OrderBook::clone(record)),
                        _ if record.snapshot => Some(OrderBook::clone(record)),
                        _ => book
                            .snapshot(&record.symbol, usize::MAX)
                            .filter(|s| s.seq >= record.seq),
                    };
                    if let Some(next) = next {
                        self.book_seqs.insert(next.symbol.clone(), next.seq);
                        data.push(next);
                    }
                },
            );
            self.book = Some(reader);
            self.depth_partitions = partitions;
            if !data.is_empty() {
                out.push(Outgoing::msg(&ServerMsg::Book { data }));
            }
        }
    }

    fn poll_ticks(&mut self, out: &mut Vec<Outgoing>) {
        if !self.streaming_ticks() {
            return;
        }
        // Taken out so the visitors below can borrow `self`.
        let Some(mut reader) = self.ticks.take() else {
            return;
        };
        let mut gaps = Vec::new();
        let mut on_gap = |partition, gap| gaps.push((partition, gap));
        let mut frame = TicksFrame::default();
        match self.mode {
            Delivery::Stream => {
                reader.read_where(
                    |p| self.reads(p),
                    MAX_PER_PARTITION,
                    &mut on_gap,
                    |partition, offset, record| {
                        if self.wants(&record.tick().symbol) {
                            frame.push(partition, offset, record);
                        }
                    },
                );
            }
            Delivery::Conflate => {
                // The latest tick of each symbol: bounded by the symbols.
                let mut latest: HashMap<Symbol, (u32, u64, Arc<EncodedTick>)> = HashMap::new();
                let (mut read, mut passed) = (0, 0u64);
                while read < MAX_CONFLATED {
                    let n = reader.read_where(
                        |p| self.reads(p),
                        MAX_PER_PARTITION,
                        &mut on_gap,
                        |partition, offset, record| {
                            if self.wants(&record.tick().symbol) {
                                let entry = (partition, offset, record.clone());
                                let symbol = record.tick().symbol.clone();
                                if latest.insert(symbol, entry).is_some() {
                                    passed += 1;
                                }
                            }
                        },
                    );
                    if n == 0 {
                        break;
                    }
                    read += n;
                }
                let mut kept: Vec<_> = latest.into_values().collect();
                kept.sort_unstable_by_key(|&(partition, offset, _)| (partition, offset));
                for (partition, offset, record) in &kept {
                    frame.push(*partition, *offset, record);
                }
                frame.conflated = passed;
            }
        }
        self.ticks = Some(reader);
        for (partition, gap) in gaps {
            self.counters.ws_gaps.inc();
            out.push(Outgoing::msg(&ServerMsg::Gap {
                partition,
                requested: gap.requested,
                resumed_at: gap.earliest,
            }));
        }
        if frame.count > 0 {
            self.counters.ticks_delivered.inc_by(frame.count as u64);
            self.counters.ticks_conflated.inc_by(frame.conflated);
            out.push(frame.finish());
        }
    }

    fn poll_events(&mut self, out: &mut Vec<Outgoing>) {
        if let Some(mut reader) = self.events.take() {
            reader.read_with(
                MAX_PER_PARTITION,
                |_, _| {},
                |_, _, event| {
                    if event.symbol.as_ref().is_none_or(|s| self.wants(s)) {
                        out.push(Outgoing::msg(&ServerMsg::Event {
                            data: MarketEvent::clone(event),
                        }));
                    }
                },
            );
            self.events = Some(reader);
        }
        if let Some(reader) = &mut self.metrics {
            reader.read_with(
                MAX_PER_PARTITION,
                |_, _| {},
                |_, _, metric| {
                    out.push(Outgoing::msg(&ServerMsg::Metric {
                        data: SystemMetric::clone(metric),
                    }))
                },
            );
        }
        if let Some(reader) = &mut self.orders {
            reader.read_with(
                MAX_PER_PARTITION,
                |_, _| {},
                |_, _, change| {
                    out.push(Outgoing::msg(&match TradingEvent::clone(change) {
                        TradingEvent::Order(data) => ServerMsg::Order { data },
                        TradingEvent::Fill(data) => ServerMsg::Fill { data },
                    }))
                },
            );
        }
    }
}

impl Protocol for Session {
    type Frame = Outgoing;

    fn answer(&mut self, frame: Inbound, out: &mut Vec<Outgoing>) {
        match frame {
            Inbound::Text(text) => self.handle_text(&text, out),
            Inbound::Binary(_) => out.push(Outgoing::error(
                ErrorCode::BinaryNotSupported,
                "binary frames are not part of the protocol; send JSON text frames",
            )),
            Inbound::TooFast => out.push(Outgoing::error(
                ErrorCode::RateLimited,
                "too many frames: this one was not read; send fewer per second",
            )),
            Inbound::Alive => {}
        }
    }

    async fn wait(&mut self) {
        Session::wait(self).await;
    }

    fn poll(&mut self, out: &mut Vec<Outgoing>) {
        Session::poll(self, out);
    }

    fn has_backlog(&self) -> bool {
        Session::has_backlog(self)
    }

    fn batch(&self) -> Duration {
        Session::batch(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tick;

    /// A session over a fresh two-partition log knowing AAPL and a symbol
    /// of the other partition; returns the session, the state and that symbol.
    fn session(dir: &std::path::Path) -> (Session, Arc<GatewayState>, Symbol) {
        let state = GatewayState::scratch(dir).unwrap();
        let ticks = &state.market.log.ticks;
        let aapl = ticks.partition_for(b"AAPL");
        let other = (0..100)
            .map(|i| Symbol::new(&format!("S{i}")).unwrap())
            .find(|s| ticks.partition_for(s.as_str().as_bytes()) != aapl)
            .expect("a symbol of the other partition");
        state
            .market
            .quotes
            .write()
            .seed(other.clone(), 10.0, chrono::Utc::now());
        (Session::new(&state), state, other)
    }

    fn append(state: &GatewayState, symbol: &str) {
        append_at(state, symbol, 10.0);
    }

    fn append_at(state: &GatewayState, symbol: &str, price: f64) {
        let tick = Tick::trade(Symbol::new(symbol).unwrap(), price, 1, chrono::Utc::now());
        state
            .market
            .log
            .ticks
            .append(Arc::new(EncodedTick::new(tick)));
    }

    fn send(session: &mut Session, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        session.handle_text(text, &mut out);
        session.poll(&mut out);
        out.into_iter().map(|o| o.text).collect()
    }

    #[tokio::test]
    async fn a_partition_without_a_subscribed_symbol_is_passed_and_read_from_its_end_once_it_has_one()
     {
        let dir = tempfile::tempdir().unwrap();
        let (mut session, state, other) = session(dir.path());
        send(&mut session, r#"{"op":"subscribe","symbols":["AAPL"]}"#);
        append(&state, "AAPL");
        append(&state, other.as_str());
        let frames = send(&mut session, r#"{"op":"ping"}"#);
        assert!(frames.iter().any(|f| f.contains("AAPL")), "{frames:?}");
        assert!(!frames.iter().any(|f| f.contains(other.as_str())));
        let ticks = &state.market.log.ticks;
        let theirs = ticks.partition_for(other.as_str().as_bytes());
        assert_eq!(
            session.positions().0[&theirs],
            ticks.latest(theirs),
            "the other partition is passed without reading it"
        );
        // Its ticks from before the subscription are not delivered.
        append(&state, other.as_str());
        let subscribe = format!(r#"{{"op":"subscribe","symbols":["{other}"]}}"#);
        let frames = send(&mut session, &subscribe);
        assert!(
            !frames.iter().any(|f| f.contains("\"ticks\"")),
            "{frames:?}"
        );
        append(&state, other.as_str());
        let frames = send(&mut session, r#"{"op":"ping"}"#);
        assert_eq!(
            frames.iter().filter(|f| f.contains(other.as_str())).count(),
            1,
            "{frames:?}"
        );
    }

    #[tokio::test]
    async fn a_conflating_client_gets_the_latest_tick_of_each_symbol_and_how_many_were_passed() {
        let dir = tempfile::tempdir().unwrap();
        let (mut session, state, other) = session(dir.path());
        let subscribe =
            format!(r#"{{"op":"subscribe","symbols":["AAPL","{other}"],"mode":"conflate"}}"#);
        let frames = send(&mut session, &subscribe);
        assert!(frames[0].contains(r#""mode":"conflate""#), "{frames:?}");
        for price in [1.0, 2.0, 3.0, 4.0, 5.0] {
            append_at(&state, "AAPL", price);
        }
        append_at(&state, other.as_str(), 7.0);
        let frames = send(&mut session, r#"{"op":"ping"}"#);
        let ticks: serde_json::Value = serde_json::from_str(
            frames
                .iter()
                .find(|f| f.contains(r#""type":"ticks""#))
                .unwrap(),
        )
        .unwrap();
        let prices: Vec<f64> = ticks["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["price"].as_f64().unwrap())
            .collect();
        assert_eq!(prices.len(), 2, "{ticks}");
        assert!(prices.contains(&5.0) && prices.contains(&7.0), "{ticks}");
        assert_eq!(ticks["conflated"], 4);
        assert_eq!(state.ops.metrics.ticks_conflated.get(), 4);
        // Back to every tick, and no `conflated` when none was passed.
        send(
            &mut session,
            r#"{"op":"subscribe","symbols":[],"mode":"stream"}"#,
        );
        append_at(&state, "AAPL", 8.0);
        append_at(&state, "AAPL", 9.0);
        let frames = send(&mut session, r#"{"op":"ping"}"#);
        let ticks = frames
            .iter()
            .find(|f| f.contains(r#""type":"ticks""#))
            .unwrap();
        assert!(ticks.contains("8.0") && ticks.contains("9.0") && !ticks.contains("conflated"));
    }

    fn book_record(symbol: &str, seq: u64, snapshot: bool, bid: (f64, u64)) -> Arc<OrderBook> {
        Arc::new(OrderBook {
            symbol: Symbol::new(symbol).unwrap(),
            seq,
            snapshot,
            bids: vec![crate::model::BookLevel {
                price: bid.0,
                size: bid.1,
            }],
            asks: vec![crate::model::BookLevel {
                price: 10.5,
                size: 100,
            }],
            timestamp: chrono::Utc::now(),
        })
    }

    /// The `(seq, snapshot)` of each book record in `frames`, in order.
    fn book_seqs(frames: &[String]) -> Vec<(u64, bool)> {
        frames
            .iter()
            .filter_map(|f| serde_json::from_str::<ServerMsg>(f).ok())
            .filter_map(|m| match m {
                ServerMsg::Book { data } => Some(data),
                _ => None,
            })
            .flatten()
            .map(|b| (b.seq, b.snapshot))
            .collect()
    }

    #[tokio::test]
    async fn a_book_subscriber_gets_a_snapshot_then_contiguous_updates_and_a_new_snapshot_after_a_gap()
     {
        let dir = tempfile::tempdir().unwrap();
        let (mut session, state, _) = session(dir.path());
        let book = &state.market.log.book;
        book.append_batch([
            book_record("AAPL", 1, true, (10.0, 100)),
            book_record("AAPL", 2, false, (10.0, 200)),
        ]);
        let frames = send(
            &mut session,
            r#"{"op":"subscribe","symbols":["AAPL"],"topics":["book","quotes"]}"#,
        );
        assert!(
            frames[0].contains(r#""topics":["stock_quotes","order_book"]"#),
            "{frames:?}"
        );
        // The book as of seq 2, whole.
        assert_eq!(book_seqs(&frames), [(2, true)], "{frames:?}");
        assert!(frames[1].contains(r#""size":200"#), "{frames:?}");
        book.append_batch([
            book_record("AAPL", 3, false, (10.0, 300)),
            book_record("AAPL", 4, false, (10.0, 400)),
        ]);
        assert_eq!(
            book_seqs(&send(&mut session, r#"{"op":"ping"}"#)),
            [(3, false), (4, false)]
        );
        // Seq 5 was lost upstream: the session waits for the next snapshot
        // rather than hand on a book with a hole.
        book.append_batch([book_record("AAPL", 6, false, (10.0, 600))]);
        assert_eq!(book_seqs(&send(&mut session, r#"{"op":"ping"}"#)), []);
        book.append_batch([
            book_record("AAPL", 7, true, (10.0, 700)),
            book_record("AAPL", 8, false, (10.0, 800)),
        ]);
        assert_eq!(
            book_seqs(&send(&mut session, r#"{"op":"ping"}"#)),
            [(7, true), (8, false)]
        );
        // Quotes of the symbol come as they are appended.
        state.market.log.quotes.append(Arc::new(TopOfBook {
            symbol: Symbol::new("AAPL").unwrap(),
            bid: 10.0,
            bid_size: 800,
            ask: 10.5,
            ask_size: 100,
            seq: 8,
            timestamp: chrono::Utc::now(),
        }));
        let frames = send(&mut session, r#"{"op":"ping"}"#);
        assert!(
            frames
                .iter()
                .any(|f| f.starts_with(r#"{"type":"quotes""#) && f.contains(r#""bid_size":800"#)),
            "{frames:?}"
        );
        // Subscribing again to the same symbol sends no second snapshot;
        // after an unsubscribe it does.
        let again = r#"{"op":"subscribe","symbols":["AAPL"],"topics":["order_book"]}"#;
        assert_eq!(book_seqs(&send(&mut session, again)), []);
        send(&mut session, r#"{"op":"unsubscribe","symbols":["AAPL"]}"#);
        assert_eq!(book_seqs(&send(&mut session, again)), [(8, true)]);
    }
}
