//! `Session`: one WebSocket client's subscription and stream positions, and
//! the protocol logic that turns client frames and log records into server
//! frames. Knows nothing of sockets, so it is tested with plain strings.

use std::{
    collections::{BTreeSet, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};

use super::GatewayState;
use crate::{
    log::{Reader, Start},
    model::{
        EncodedTick, ErrorCode, MarketEvent, Symbol, SystemMetric,
        protocol::{ClientMsg, Offsets, Ping, ServerMsg, StreamTopic, Subscribe, Unsubscribe},
    },
};

/// Most ticks read per partition per poll; bounds a frame's size.
const MAX_PER_PARTITION: usize = 512;
/// The wildcard symbol.
const ALL: &str = "*";
/// Longest a client may ask ticks to be gathered into one frame.
const MAX_BATCH_MS: u32 = 1000;

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

/// One client's state.
pub struct Session {
    state: Arc<GatewayState>,
    all_symbols: bool,
    symbols: HashSet<Symbol>,
    topics: BTreeSet<StreamTopic>,
    ticks: Option<Reader<Arc<EncodedTick>>>,
    events: Option<Reader<Arc<MarketEvent>>>,
    metrics: Option<Reader<Arc<SystemMetric>>>,
    batch_ms: u32,
}

impl Session {
    /// A client with no subscription.
    pub fn new(state: Arc<GatewayState>) -> Self {
        Self {
            state,
            all_symbols: false,
            symbols: HashSet::new(),
            topics: BTreeSet::new(),
            ticks: None,
            events: None,
            metrics: None,
            batch_ms: 0,
        }
    }

    /// How long to gather ticks before sending them (the client's `batch_ms`).
    pub fn batch(&self) -> Duration {
        Duration::from_millis(self.batch_ms.into())
    }

    /// Handles one text frame from the client; replies go to `out`.
    pub fn handle_text(&mut self, text: &str, out: &mut Vec<Outgoing>) {
        let limit = self.state.market.limits.max_frame_bytes;
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
        let topic = self.state.market.log.ticks.clone();
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
        let max = self.state.market.limits.max_symbols_per_client;
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
        self.open_readers();
        if !was_streaming && self.streaming_ticks() {
            // Nothing was delivered while no symbol was subscribed: start now.
            self.ticks = Some(Reader::new(
                self.state.market.log.ticks.clone(),
                Start::Latest,
            ));
        }
        if let (Some(reader), Some(resume)) = (&mut self.ticks, resume) {
            for (p, offset) in resume.0 {
                reader.seek(p, offset);
            }
        }
        self.batch_ms = batch_ms.unwrap_or(self.batch_ms);
        out.push(Outgoing::msg(&ServerMsg::Subscribed {
            symbols: self.symbol_list(),
            topics: self.topics.iter().copied().collect(),
            positions: self.positions(),
            batch_ms: self.batch_ms,
        }));
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
        self.close_readers();
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
                Ok(s) if self.state.market.is_known(&s) => valid.push(s),
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

    fn open_readers(&mut self) {
        let log = &self.state.market.log;
        if self.topics.contains(&StreamTopic::StockTicks) && self.ticks.is_none() {
            self.ticks = Some(Reader::new(log.ticks.clone(), Start::Latest));
        }
        if self.topics.contains(&StreamTopic::MarketEvents) && self.events.is_none() {
            self.events = Some(Reader::new(log.events.clone(), Start::Latest));
        }
        if self.topics.contains(&StreamTopic::SystemMetrics) && self.metrics.is_none() {
            self.metrics = Some(Reader::new(log.metrics.clone(), Start::Latest));
        }
    }

    fn close_readers(&mut self) {
        // The tick reader stays: its positions are reported and resumable.
        if !self.topics.contains(&StreamTopic::MarketEvents) {
            self.events = None;
        }
        if !self.topics.contains(&StreamTopic::SystemMetrics) {
            self.metrics = None;
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
                .is_some_and(|r| r.lag() >= MAX_PER_PARTITION as u64)
    }

    /// Waits until a subscribed topic may have new records.
    pub async fn wait(&mut self) {
        let streaming = self.streaming_ticks();
        let ticks = async {
            match (&mut self.ticks, streaming) {
                (Some(r), true) => r.wait().await,
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
        tokio::select! {
            () = ticks => {}
            () = events => {}
            () = metrics => {}
        }
    }

    /// Reads new records and turns them into frames.
    pub fn poll(&mut self, out: &mut Vec<Outgoing>) {
        self.poll_events(out);
        self.poll_ticks(out);
    }

    fn poll_ticks(&mut self, out: &mut Vec<Outgoing>) {
        if !self.streaming_ticks() {
            return;
        }
        // Taken out so the visitor below can borrow `self`.
        let Some(mut reader) = self.ticks.take() else {
            return;
        };
        let mut text = String::from(r#"{"type":"ticks","data":["#);
        let mut count = 0usize;
        let mut oldest: Option<DateTime<Utc>> = None;
        let mut gaps = Vec::new();
        reader.read_with(
            MAX_PER_PARTITION,
            |partition, gap| gaps.push((partition, gap)),
            |partition, offset, record| {
                let tick = record.tick();
                if !self.wants(&tick.symbol) {
                    return;
                }
                if count > 0 {
                    text.push(',');
                }
                record.write_logged(partition, offset, &mut text);
                count += 1;
                oldest = Some(oldest.map_or(tick.timestamp, |o| o.min(tick.timestamp)));
            },
        );
        self.ticks = Some(reader);
        for (partition, gap) in gaps {
            self.state.ops.metrics.ws_gaps.inc();
            out.push(Outgoing::msg(&ServerMsg::Gap {
                partition,
                requested: gap.requested,
                resumed_at: gap.earliest,
            }));
        }
        if count > 0 {
            text.push_str("]}");
            self.state.ops.metrics.ticks_delivered.inc_by(count as u64);
            out.push(Outgoing {
                text,
                oldest_tick: oldest,
                refusal: None,
            });
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
    }
}
