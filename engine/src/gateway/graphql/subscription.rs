//! GraphQL's subscriptions, over `graphql-transport-ws`: ticks of some
//! symbols (or all), candles as they close, market events and alerts, read
//! from the log the WebSocket protocol streams from, with its bounds on
//! symbols per client.

use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_graphql::{Context, Result, Subscription as SubscriptionRoot};
use futures_util::{Stream, StreamExt, stream};

use super::{refusal, state};
use crate::{
    analytics::{CandleBook, CandleUpdate},
    gateway::{ApiError, GatewayState},
    log::{Interest, Keys, Reader, Start},
    model::{Candle, ErrorCode, EventKind, Interval, MarketEvent, Symbol, Tick},
};

/// Most records read from one partition per wake-up.
const MAX_PER_PARTITION: usize = 1_024;
/// Most subscriptions one connection may run at once.
const MAX_SUBSCRIPTIONS: usize = 16;

/// How many subscriptions a connection runs (in its data).
#[derive(Clone, Default)]
pub(super) struct Running(Arc<AtomicUsize>);

/// A subscription's place among its connection's, given back when its
/// stream ends.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes a place for a subscription, refused past [`MAX_SUBSCRIPTIONS`].
fn place(cx: &Context<'_>) -> Result<Option<Place>> {
    let Some(Running(count)) = cx.data_opt::<Running>() else {
        return Ok(None);
    };
    count
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < MAX_SUBSCRIPTIONS).then_some(n + 1)
        })
        .map_err(|_| {
            refusal(ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyConnections,
                format!("a connection may run at most {MAX_SUBSCRIPTIONS} subscriptions at once"),
            ))
        })?;
    Ok(Some(Place(count.clone())))
}

/// `stream`, holding `place` for as long as it lives.
fn holding<T>(place: Option<Place>, stream: impl Stream<Item = T>) -> impl Stream<Item = T> {
    stream.map(move |item| {
        let _held = &place;
        item
    })
}

/// The subscription root.
pub struct Subscription;

/// The symbols a subscription asked for: every one (`"*"`), or these.
enum Wanted {
    All,
    These(Vec<Symbol>),
}

impl Wanted {
    /// Reads `symbols` as the WebSocket's `subscribe` does: known symbols,
    /// or `"*"`, at most the client limit; an error names the entry.
    fn parse(state: &GatewayState, symbols: &[String]) -> Result<Self, ApiError> {
        let bad = |code, message: String| {
            ApiError::new(axum::http::StatusCode::BAD_REQUEST, code, message)
        };
        if symbols.iter().any(|s| s == "*") {
            return Ok(Self::All);
        }
        let most = state.market.limits().max_symbols_per_client;
        if symbols.len() > most {
            return Err(bad(
                ErrorCode::TooManySymbols,
                format!(
                    "symbols: {} symbols, more than the {most} a client may follow",
                    symbols.len()
                ),
            ));
        }
        symbols
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let symbol = Symbol::new(text)
                    .map_err(|e| bad(ErrorCode::InvalidSymbol, format!("symbols[{i}]: {e}")))?;
                if state.market.is_known(&symbol) {
                    Ok(symbol)
                } else {
                    Err(bad(
                        ErrorCode::UnknownSymbol,
                        format!("symbols[{i}]: {symbol} is not a known symbol"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::These)
    }

    fn contains(&self, symbol: &Symbol) -> bool {
        match self {
            Self::All => true,
            Self::These(symbols) => symbols.contains(symbol),
        }
    }
}

/// A subscription's place in the tick topic.
struct Following {
    reader: Reader<Arc<crate::model::EncodedTick>>,
    interest: Interest,
    /// The partitions holding a wanted symbol.
    partitions: Vec<bool>,
    wanted: Wanted,
    /// Read, not yet handed on.
    ready: VecDeque<Tick>,
}

impl Following {
    /// The next tick wanted, waiting for one.
    async fn next(&mut self) -> Tick {
        self.fill().await;
        self.ready.pop_front().expect("filled")
    }

    /// Every tick wanted that is there (at least one, waiting for it).
    async fn batch(&mut self) -> Vec<Tick> {
        self.fill().await;
        self.ready.drain(..).collect()
    }

    /// Reads until a wanted tick is ready.
    async fn fill(&mut self) {
        loop {
            if !self.ready.is_empty() {
                return;
            }
            let (partitions, wanted, ready) = (&self.partitions, &self.wanted, &mut self.ready);
            self.reader.read_where(
                |p| partitions[p as usize],
                MAX_PER_PARTITION,
                |_, _| {},
                |partition, offset, record| {
                    let tick = record.tick();
                    if wanted.contains(&tick.symbol) {
                        let mut tick = tick.clone();
                        (tick.partition, tick.offset) = (Some(partition), Some(offset));
                        ready.push_back(tick);
                    }
                },
            );
            if self.ready.is_empty() {
                self.interest.appended().await;
            }
        }
    }
}

/// The live ticks of `wanted` from now on, each with its partition and
/// offset, woken only by appends of those symbols.
fn live_ticks(state: &GatewayState, wanted: Wanted) -> impl Stream<Item = Tick> + use<> {
    stream::unfold(following(state, wanted), |mut following| async move {
        let tick = following.next().await;
        Some((tick, following))
    })
}

/// A place at the end of the tick topic, following `wanted`.
fn following(state: &GatewayState, wanted: Wanted) -> Following {
    let topic = state.market.log.ticks.clone();
    let partitions: Vec<bool> = (0..topic.partition_count())
        .map(|p| match &wanted {
            Wanted::All => true,
            Wanted::These(symbols) => symbols
                .iter()
                .any(|s| topic.partition_for(s.as_str().as_bytes()) == p),
        })
        .collect();
    let mut interest = topic.interest();
    interest.follow(match &wanted {
        Wanted::All => Keys::All,
        Wanted::These(symbols) => Keys::Some(
            symbols
                .iter()
                .map(|s| s.as_str().as_bytes().into())
                .collect(),
        ),
    });
    Following {
        reader: Reader::new(topic, Start::Latest),
        interest,
        partitions,
        wanted,
        ready: VecDeque::new(),
    }
}

/// The market events from now on.
fn live_events(state: &GatewayState) -> impl Stream<Item = Arc<MarketEvent>> + use<> {
    let reader = Reader::new(state.market.log.events.clone(), Start::Latest);
    stream::unfold(
        (reader, VecDeque::new()),
        |(mut reader, mut ready)| async move {
            loop {
                if let Some(event) = ready.pop_front() {
                    return Some((event, (reader, ready)));
                }
                reader.read_with(
                    MAX_PER_PARTITION,
                    |_, _| {},
                    |_, _, event: &Arc<MarketEvent>| ready.push_back(event.clone()),
                );
                if ready.is_empty() {
                    reader.wait().await;
                }
            }
        },
    )
}

#[SubscriptionRoot]
impl Subscription {
    /// Every tick of `symbols` (`["*"]`: every symbol) from now on, with
    /// its `partition` and `offset`.
    async fn ticks(
        &self,
        cx: &Context<'_>,
        symbols: Vec<String>,
    ) -> Result<impl Stream<Item = Tick> + use<>> {
        let state = state(cx);
        let wanted = Wanted::parse(state, &symbols).map_err(refusal)?;
        Ok(holding(place(cx)?, live_ticks(state, wanted)))
    }

    /// The same ticks as `ticks`, in batches: whatever arrived since the
    /// last one (as the WebSocket protocol's `ticks` frames carry them), for
    /// clients of many symbols at high rates.
    async fn tick_batches(
        &self,
        cx: &Context<'_>,
        symbols: Vec<String>,
    ) -> Result<impl Stream<Item = Vec<Tick>> + use<>> {
        let state = state(cx);
        let wanted = Wanted::parse(state, &symbols).map_err(refusal)?;
        let batches = stream::unfold(following(state, wanted), |mut following| async move {
            let batch = following.batch().await;
            Some((batch, following))
        });
        Ok(holding(place(cx)?, batches))
    }

    /// The symbol's candles at `interval` as they close (the first after a
    /// whole bucket has been seen: the one under way when the subscription
    /// began is not sent half-built).
    async fn candles(
        &self,
        cx: &Context<'_>,
        symbol: Symbol,
        #[graphql(default_with = "Interval::M1")] interval: Interval,
    ) -> Result<impl Stream<Item = Candle> + use<>> {
        let state = state(cx);
        let wanted = Wanted::parse(state, &[symbol.to_string()]).map_err(refusal)?;
        let ticks = live_ticks(state, wanted);
        let folded = (CandleBook::new(), false);
        let candles = stream::unfold(
            (Box::pin(ticks), folded),
            move |(mut ticks, (mut book, mut whole))| {
                let symbol = symbol.clone();
                async move {
                    loop {
                        let tick = ticks.next().await?;
                        let mut closed = None;
                        book.apply(&tick, |at, update, _| {
                            if let (true, CandleUpdate::Rolled(candle)) = (at == interval, update) {
                                closed = Some(candle);
                            }
                        });
                        let Some(candle) = closed else { continue };
                        // The first candle closed began before the subscription.
                        if std::mem::replace(&mut whole, true) {
                            let candle = candle.to_candle(&symbol, interval, true);
                            return Some((candle, (ticks, (book, whole))));
                        }
                    }
                }
            },
        );
        Ok(holding(place(cx)?, candles))
    }

    /// Market events from now on: sessions, halts, scenarios, alerts; with
    /// `symbols`, those of these symbols and those of the whole market.
    async fn events(
        &self,
        cx: &Context<'_>,
        symbols: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = MarketEvent> + use<>> {
        let state = state(cx);
        let wanted = match symbols {
            Some(symbols) => Wanted::parse(state, &symbols).map_err(refusal)?,
            None => Wanted::All,
        };
        let events = live_events(state).filter_map(move |event| {
            let keep = event.symbol.as_ref().is_none_or(|s| wanted.contains(s));
            std::future::ready(keep.then(|| MarketEvent::clone(&event)))
        });
        Ok(holding(place(cx)?, events))
    }

    /// Alerts as they fire (the `alert` market events), of every rule.
    async fn alerts(&self, cx: &Context<'_>) -> Result<impl Stream<Item = MarketEvent> + use<>> {
        let alerts = live_events(state(cx)).filter_map(|event| {
            let alert = event.kind == EventKind::Alert;
            std::future::ready(alert.then(|| MarketEvent::clone(&event)))
        });
        Ok(holding(place(cx)?, alerts))
    }
}
