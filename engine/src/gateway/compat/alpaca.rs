//! `/compat/alpaca/v2/{feed}`: Alpaca's market-data stream (v2, stocks).
//! MessagePack when the upgrade says `Content-Type: application/msgpack`
//! (what Alpaca's SDKs send), JSON otherwise; each frame an array of
//! messages; channels `trades`, `quotes`, `bars`, `dailyBars`, `statuses`,
//! `lulds` (and `updatedBars`, `corrections`, `cancelErrors`, which the
//! simulator never has anything for).

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Extension,
    extract::{
        ConnectInfo, Path, State,
        ws::{Message, WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{Channel, Dialect, KeyRequired, Reply, Request, Unreadable, serve};
use crate::{
    gateway::{ApiError, GatewayState, StreamSlot, driver::Inbound, ws::bounded},
    model::{
        ErrorCode, EventKind, HaltReason, MarketEvent,
        alpaca::{
            AlpacaAction, AlpacaBar, AlpacaChannels, AlpacaLuld, AlpacaMessage, AlpacaQuote,
            AlpacaStatus, AlpacaTime, AlpacaTrade,
        },
    },
};

/// The feeds Alpaca names in the path; every one is the simulated market.
const FEEDS: [&str; 3] = ["iex", "sip", "delayed_sip"];

/// Upgrades to Alpaca's market-data stream.
#[utoipa::path(get, path = "/compat/alpaca/v2/{feed}", summary = "Alpaca-compatible market-data WebSocket", tag = "stream",
    description = "Upgrades to a WebSocket speaking Alpaca's market-data stream (v2): `{\"action\":\"auth\",\"key\":ID,\"secret\":KEY}`, then `{\"action\":\"subscribe\",\"trades\":[\"AAPL\"],\"quotes\":[\"*\"],\"bars\":[\"*\"]}`; MessagePack with `Content-Type: application/msgpack` on the upgrade, JSON otherwise. What is and is not supported is in the README.",
    params(("feed" = String, Path, description = "`iex`, `sip` or `delayed_sip`: each streams the simulated market")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", content_type = "text/plain"),
        (status = 404, description = "No such feed", body = crate::model::ErrorBody),
    ))]
pub(super) async fn upgrade(
    State(state): State<Arc<GatewayState>>,
    Path(feed): Path<String>,
    headers: HeaderMap,
    key_required: Option<Extension<KeyRequired>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    slot: Option<Extension<Arc<StreamSlot>>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !FEEDS.contains(&feed.as_str()) {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("feed: no feed {feed:?}; one of {}", FEEDS.join(", ")),
        )
        .into_response();
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let msgpack = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/msgpack"));
    bounded(ws).on_upgrade(move |socket| async move {
        let action = "GET /compat/alpaca/v2";
        serve(
            socket,
            state,
            Alpaca { msgpack },
            key_required,
            peer,
            action,
        )
        .await;
        drop(slot);
    })
}

/// Alpaca's frames, in MessagePack or JSON.
pub(super) struct Alpaca {
    msgpack: bool,
}

impl Alpaca {
    /// Channels and symbols of a subscribe or unsubscribe.
    fn subscriptions(channels: AlpacaChannels) -> Vec<(Channel, String)> {
        let AlpacaChannels {
            trades,
            quotes,
            bars,
            updated_bars,
            daily_bars,
            statuses,
            lulds,
            corrections,
            cancel_errors,
        } = channels;
        [
            (Channel::Trades, trades),
            (Channel::Quotes, quotes),
            (Channel::MinuteBars, bars),
            (Channel::UpdatedBars, updated_bars),
            (Channel::DailyBars, daily_bars),
            (Channel::Statuses, statuses),
            (Channel::Lulds, lulds),
            (Channel::Corrections, corrections),
            (Channel::CancelErrors, cancel_errors),
        ]
        .into_iter()
        .flat_map(|(channel, symbols)| symbols.into_iter().map(move |s| (channel, s)))
        .collect()
    }

    /// The channel list Alpaca reports a channel's symbols under.
    fn list(channels: &mut AlpacaChannels, channel: Channel) -> Option<&mut Vec<String>> {
        Some(match channel {
            Channel::Trades => &mut channels.trades,
            Channel::Quotes => &mut channels.quotes,
            Channel::MinuteBars => &mut channels.bars,
            Channel::UpdatedBars => &mut channels.updated_bars,
            Channel::DailyBars => &mut channels.daily_bars,
            Channel::Statuses => &mut channels.statuses,
            Channel::Lulds => &mut channels.lulds,
            Channel::Corrections => &mut channels.corrections,
            Channel::CancelErrors => &mut channels.cancel_errors,
            Channel::SecondBars | Channel::Imbalances => return None,
        })
    }

    /// Alpaca's code for a refusal.
    fn code(code: ErrorCode) -> u16 {
        match code {
            ErrorCode::Unauthorized => 401,
            ErrorCode::Conflict => 403,
            ErrorCode::TooManySymbols => 405,
            _ => 400,
        }
    }

    fn error(code: u16, msg: impl Into<String>) -> AlpacaMessage {
        AlpacaMessage::Error {
            code,
            msg: msg.into(),
        }
    }

    /// The message a reply becomes, if Alpaca has one for it.
    fn message(reply: &Reply) -> Option<AlpacaMessage> {
        let time = AlpacaTime;
        Some(match reply {
            Reply::Connected => AlpacaMessage::Success {
                msg: "connected".into(),
            },
            Reply::Authenticated => AlpacaMessage::Success {
                msg: "authenticated".into(),
            },
            Reply::AuthFailed(reason) => Self::error(402, format!("auth failed: {reason}")),
            Reply::AuthTimeout => Self::error(404, "auth timeout"),
            Reply::KeyEnded => Self::error(402, "auth failed: API key revoked or expired"),
            Reply::Refused(code, message) => Self::error(Self::code(*code), message.clone()),
            Reply::Subscribed { now, .. } => {
                let mut channels = AlpacaChannels::default();
                for (channel, symbols) in now {
                    if let Some(list) = Self::list(&mut channels, *channel) {
                        list.clone_from(symbols);
                    }
                }
                AlpacaMessage::Subscription(channels)
            }
            Reply::Trade { tick, id } => AlpacaMessage::Trade(AlpacaTrade {
                symbol: tick.symbol.to_string(),
                i: *id,
                p: tick.price,
                s: tick.volume,
                t: time(tick.timestamp),
            }),
            Reply::Quote(quote) => AlpacaMessage::Quote(AlpacaQuote {
                symbol: quote.symbol.to_string(),
                bp: quote.bid,
                bs: quote.bid_size,
                ap: quote.ask,
                as_: quote.ask_size,
                t: time(quote.timestamp),
            }),
            Reply::Bar(bar) => {
                let candle = &bar.candle;
                AlpacaMessage::Bar(AlpacaBar {
                    symbol: candle.symbol.to_string(),
                    o: candle.open,
                    h: candle.high,
                    l: candle.low,
                    c: candle.close,
                    v: candle.volume,
                    t: time(candle.start),
                    n: candle.trades,
                    vw: candle.vwap,
                })
            }
            Reply::DailyBar(day) => {
                let midnight = day.timestamp.date_naive().and_hms_opt(0, 0, 0)?.and_utc();
                AlpacaMessage::DailyBar(AlpacaBar {
                    symbol: day.symbol.to_string(),
                    o: day.open,
                    h: day.high,
                    l: day.low,
                    c: day.price,
                    v: day.volume,
                    t: time(midnight),
                    n: day.trades,
                    vw: day.vwap,
                })
            }
            Reply::Event(event) => return Self::market_event(event),
        })
    }

    fn market_event(event: &MarketEvent) -> Option<AlpacaMessage> {
        let symbol = event.symbol.as_ref()?.to_string();
        let t = AlpacaTime(event.timestamp);
        let tape = || "C".to_owned();
        match event.kind {
            EventKind::Halt | EventKind::Resume => {
                let (rc, rm) = match event.reason {
                    Some(HaltReason::LuldPause) => ("LUDP", "Volatility Trading Pause"),
                    Some(HaltReason::NewsPending) => ("T1", "Halt News Pending"),
                    None => ("", ""),
                };
                let (sc, sm) = if event.kind == EventKind::Halt {
                    ("H", "Trading Halt")
                } else {
                    ("T", "Trading Resumption")
                };
                Some(AlpacaMessage::Status(AlpacaStatus {
                    symbol,
                    sc: sc.into(),
                    sm: sm.into(),
                    rc: rc.into(),
                    rm: rm.into(),
                    t,
                    z: tape(),
                }))
            }
            EventKind::LimitState => Some(AlpacaMessage::Luld(AlpacaLuld {
                symbol,
                u: event.upper_band?,
                d: event.lower_band?,
                t,
                z: tape(),
            })),
            _ => None,
        }
    }

    fn unreadable(error: impl std::fmt::Display) -> Unreadable {
        Unreadable {
            code: ErrorCode::InvalidMessage,
            message: format!(
                "invalid syntax ({error}): send {{\"action\":\"auth\",\"key\":...,\"secret\":...}} or {{\"action\":\"subscribe\",\"trades\":[...],...}}"
            ),
        }
    }
}

impl Dialect for Alpaca {
    fn read(&self, frame: &Inbound) -> Result<Request, Unreadable> {
        let action: AlpacaAction = match frame {
            Inbound::Binary(bytes) => rmp_serde::from_slice(bytes).map_err(Self::unreadable)?,
            Inbound::Text(text) => serde_json::from_str(text).map_err(Self::unreadable)?,
            Inbound::TooFast | Inbound::Alive => return Err(Self::unreadable("empty frame")),
        };
        Ok(match action {
            AlpacaAction::Auth { key, secret } => Request::Auth(vec![secret, key]),
            AlpacaAction::Subscribe(channels) => Request::Subscribe(Self::subscriptions(channels)),
            AlpacaAction::Unsubscribe(channels) => {
                Request::Unsubscribe(Self::subscriptions(channels))
            }
        })
    }

    fn write(&self, replies: &[Reply]) -> Option<Message> {
        let messages: Vec<AlpacaMessage> = replies.iter().filter_map(Self::message).collect();
        if messages.is_empty() {
            return None;
        }
        Some(if self.msgpack {
            let bytes =
                rmp_serde::to_vec_named(&messages).expect("Alpaca messages always serialize");
            Message::Binary(bytes.into())
        } else {
            let text = serde_json::to_string(&messages).expect("Alpaca messages always serialize");
            Message::Text(text.into())
        })
    }
}
