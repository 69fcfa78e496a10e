//! `/compat/polygon/stocks`: Polygon's (Massive's) stocks WebSocket. JSON
//! text frames, each an array of events; channels `T` (trades), `Q`
//! (quotes), `A` and `AM` (second and minute aggregates), `LULD` and `NOI`.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Extension,
    extract::{
        ConnectInfo, State,
        ws::{Message, WebSocketUpgrade},
    },
    response::Response,
};

use super::{Channel, Dialect, KeyRequired, Reply, Request, Unreadable, serve};
use crate::{
    gateway::{GatewayState, StreamSlot, driver::Inbound, ws::bounded},
    model::{
        ErrorCode, EventKind, Interval, MarketEvent,
        polygon::{
            PolygonAction, PolygonAggregate, PolygonEvent, PolygonImbalance, PolygonLuld,
            PolygonQuote, PolygonStatus, PolygonTrade,
        },
    },
};

/// Upgrades to Polygon's stocks WebSocket.
#[utoipa::path(get, path = "/compat/polygon/stocks", summary = "Polygon-compatible stocks WebSocket", tag = "stream",
    description = "Upgrades to a WebSocket speaking Polygon's (Massive's) stocks stream: `{\"action\":\"auth\",\"params\":KEY}`, then `{\"action\":\"subscribe\",\"params\":\"T.AAPL,Q.*,A.*,AM.*,LULD.*,NOI.*\"}`. What is and is not supported is in the README.",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", content_type = "text/plain"),
    ))]
pub(super) async fn upgrade(
    State(state): State<Arc<GatewayState>>,
    key_required: Option<Extension<KeyRequired>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    slot: Option<Extension<Arc<StreamSlot>>>,
    ws: WebSocketUpgrade,
) -> Response {
    bounded(ws).on_upgrade(move |socket| async move {
        let action = "GET /compat/polygon/stocks";
        serve(socket, state, Polygon, key_required, peer, action).await;
        drop(slot);
    })
}

/// Polygon's frames.
pub(super) struct Polygon;

impl Polygon {
    fn channel(name: &str) -> Option<Channel> {
        Some(match name {
            "T" => Channel::Trades,
            "Q" => Channel::Quotes,
            "A" => Channel::SecondBars,
            "AM" => Channel::MinuteBars,
            "LULD" => Channel::Lulds,
            "NOI" => Channel::Imbalances,
            _ => return None,
        })
    }

    fn name(channel: Channel) -> Option<&'static str> {
        Some(match channel {
            Channel::Trades => "T",
            Channel::Quotes => "Q",
            Channel::SecondBars => "A",
            Channel::MinuteBars => "AM",
            Channel::Lulds => "LULD",
            Channel::Imbalances => "NOI",
            _ => return None,
        })
    }

    /// `T.AAPL,Q.*` as channels and symbols.
    fn subscriptions(params: &str) -> Result<Vec<(Channel, String)>, Unreadable> {
        let mut list = Vec::new();
        let mut bad = Vec::new();
        for item in params.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item
                .split_once('.')
                .and_then(|(channel, symbol)| Some((Self::channel(channel)?, symbol)))
            {
                Some((channel, symbol)) => list.push((channel, symbol.to_owned())),
                None => bad.push(item),
            }
        }
        if bad.is_empty() {
            Ok(list)
        } else {
            Err(Unreadable {
                code: ErrorCode::InvalidMessage,
                message: format!(
                    "params: {} not CHANNEL.SYMBOL with CHANNEL one of T, Q, A, AM, LULD, NOI",
                    bad.join(", ")
                ),
            })
        }
    }

    fn status(status: &str, message: impl Into<String>) -> PolygonEvent {
        PolygonEvent::Status(PolygonStatus {
            status: status.to_owned(),
            message: message.into(),
        })
    }

    /// The events a reply becomes.
    fn events(reply: &Reply, out: &mut Vec<PolygonEvent>) {
        let event = match reply {
            Reply::Connected => Self::status("connected", "Connected Successfully"),
            Reply::Authenticated => Self::status("auth_success", "authenticated"),
            Reply::AuthFailed(reason) => Self::status("auth_failed", reason.clone()),
            Reply::AuthTimeout => Self::status("error", "authentication timed out"),
            Reply::KeyEnded => Self::status("error", "API key revoked or expired"),
            Reply::Refused(_, message) => Self::status("error", message.clone()),
            Reply::Subscribed { changed, added, .. } => {
                let verb = if *added {
                    "subscribed to"
                } else {
                    "unsubscribed to"
                };
                out.extend(changed.iter().filter_map(|(channel, symbol)| {
                    let name = Self::name(*channel)?;
                    Some(Self::status("success", format!("{verb}: {name}.{symbol}")))
                }));
                return;
            }
            Reply::Trade { tick, id } => PolygonEvent::Trade(PolygonTrade {
                sym: tick.symbol.to_string(),
                i: id.to_string(),
                p: tick.price,
                s: tick.volume,
                t: tick.timestamp.timestamp_millis(),
                q: *id,
            }),
            Reply::Quote(quote) => PolygonEvent::Quote(PolygonQuote {
                sym: quote.symbol.to_string(),
                bp: quote.bid,
                bs: quote.bid_size,
                ap: quote.ask,
                as_: quote.ask_size,
                t: quote.timestamp.timestamp_millis(),
                q: quote.seq,
            }),
            Reply::Bar(bar) => {
                let candle = &bar.candle;
                let start = candle.start.timestamp_millis();
                let aggregate = PolygonAggregate {
                    sym: candle.symbol.to_string(),
                    v: candle.volume,
                    av: bar.day.as_ref().map_or(candle.volume, |d| d.volume),
                    op: bar.day.as_ref().map_or(candle.open, |d| d.open),
                    vw: candle.vwap,
                    o: candle.open,
                    c: candle.close,
                    h: candle.high,
                    l: candle.low,
                    a: bar.day.as_ref().map_or(candle.vwap, |d| d.vwap),
                    z: candle.volume / candle.trades.max(1),
                    s: start,
                    e: start + candle.interval.seconds() * 1_000,
                };
                match candle.interval {
                    Interval::S1 => PolygonEvent::Second(aggregate),
                    _ => PolygonEvent::Minute(aggregate),
                }
            }
            Reply::Event(event) => match Self::market_event(event) {
                Some(event) => event,
                None => return,
            },
            Reply::DailyBar(_) => return,
        };
        out.push(event);
    }

    fn market_event(event: &MarketEvent) -> Option<PolygonEvent> {
        let symbol = event.symbol.as_ref()?.to_string();
        let t = event.timestamp.timestamp_millis();
        match event.kind {
            EventKind::LimitState => Some(PolygonEvent::Luld(PolygonLuld {
                symbol,
                h: event.upper_band?,
                l: event.lower_band?,
                t,
            })),
            EventKind::AuctionImbalance => Some(PolygonEvent::Imbalance(PolygonImbalance {
                symbol,
                t,
                o: event.imbalance_shares?,
                p: event.paired_shares?,
                b: event.indicative_price?,
            })),
            _ => None,
        }
    }
}

impl Dialect for Polygon {
    fn read(&self, frame: &Inbound) -> Result<Request, Unreadable> {
        let Inbound::Text(text) = frame else {
            return Err(Unreadable {
                code: ErrorCode::BinaryNotSupported,
                message: "binary frames are not part of the protocol; send JSON text frames".into(),
            });
        };
        let action: PolygonAction = serde_json::from_str(text).map_err(|e| Unreadable {
            code: ErrorCode::InvalidMessage,
            message: format!(
                "not an action ({e}): send {{\"action\":\"auth\"|\"subscribe\"|\"unsubscribe\",\"params\":\"...\"}}"
            ),
        })?;
        Ok(match action {
            PolygonAction::Auth { params } => Request::Auth(vec![params]),
            PolygonAction::Subscribe { params } => {
                Request::Subscribe(Self::subscriptions(&params)?)
            }
            PolygonAction::Unsubscribe { params } => {
                Request::Unsubscribe(Self::subscriptions(&params)?)
            }
        })
    }

    fn write(&self, replies: &[Reply]) -> Option<Message> {
        let mut events = Vec::with_capacity(replies.len());
        for reply in replies {
            Self::events(reply, &mut events);
        }
        if events.is_empty() {
            return None;
        }
        let text = serde_json::to_string(&events).expect("Polygon events always serialize");
        Some(Message::Text(text.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_name_a_channel_and_a_symbol() {
        assert_eq!(
            Polygon::subscriptions("T.AAPL, Q.*,AM.MSFT").unwrap(),
            vec![
                (Channel::Trades, "AAPL".to_owned()),
                (Channel::Quotes, "*".to_owned()),
                (Channel::MinuteBars, "MSFT".to_owned()),
            ]
        );
        let bad = Polygon::subscriptions("T.AAPL,XX.MSFT,AAPL").unwrap_err();
        assert!(bad.message.contains("XX.MSFT, AAPL"), "{}", bad.message);
    }
}
