//! The `/ws` endpoint: a socket's frames driven through the protocol
//! driver ([`drive`]), each delivery fed to the socket and flushed once.
//! The compatible endpoints serve their protocols over the same socket
//! handling ([`serve`]).

use std::{collections::HashMap, future::ready, num::NonZeroU32, sync::Arc};

use governor::{Quota, RateLimiter};

use axum::{
    Extension,
    extract::{
        Query, State,
        rejection::QueryRejection,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    response::Response,
};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use tokio_util::sync::CancellationToken;

use super::{
    GatewayState,
    driver::{Deliver, Ended, Inbound, Pacing, Protocol, drive},
    replays::{ReplayStream, replay_of},
    rest::ApiError,
    session::{Outgoing, Session},
};
use crate::{auth::Caller, metrics::Metrics, model::ErrorBody};

use super::limits::StreamSlot;

/// Frames above this size are refused by the WebSocket layer itself (the
/// connection closes); frames above the configured `max_frame_bytes` but
/// below this get an error frame and the connection stays open.
pub(super) const HARD_FRAME_LIMIT: usize = 1 << 20;

/// How much a connection reads from the client at once. The client's frames
/// are small (subscriptions, pings) and a larger one takes more reads; the
/// WebSocket layer zeroes this much before every read attempt, and its
/// default, 128 KiB, would also make each idle client cost that much memory.
const READ_BUFFER: usize = 512;

/// Close code of a stream whose API key was revoked or expired.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;

/// Upgrades the request and runs the client's session; `caller` is the API
/// key it came with, when the gateway requires one.
#[utoipa::path(get, path = "/ws", summary = "The WebSocket stream", tag = "stream",
    description = "Upgrades to the WebSocket stream; its frames are described by the AsyncAPI document at `/api/v1/asyncapi.json`.",
    params(("replay" = Option<u64>, Query, description = "Stream this replay (see `/api/v1/replays`) instead of the live market")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request (plain text), or `replay` is not a number", content_type = "text/plain"),
        (status = 404, description = "No such replay", body = ErrorBody),
    ))]
pub async fn upgrade(
    State(state): State<Arc<GatewayState>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    caller: Option<Extension<Caller>>,
    slot: Option<Extension<Arc<StreamSlot>>>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let replay = match query?.0.get("replay") {
        Some(id) => Some(replay_of(&state, id)?),
        None => None,
    };
    Ok(bounded(ws).on_upgrade(move |socket| async move {
        let caller = caller.map(|c| c.0);
        match replay {
            None => serve(socket, &state, caller, Session::new(&state)).await,
            Some(replay) => {
                let stream = ReplayStream::new(replay, &state.market, state.ops.metrics.clone());
                serve(socket, &state, caller, stream).await;
            }
        }
        // The stream's place is given back when it ends.
        drop(slot);
    }))
}

/// An upgrade holding the client to [`HARD_FRAME_LIMIT`] and reading
/// [`READ_BUFFER`] at a time.
pub(super) fn bounded(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(HARD_FRAME_LIMIT)
        .max_frame_size(HARD_FRAME_LIMIT)
        .read_buffer_size(READ_BUFFER)
}

/// A frame a socket sends: its message, counted in `metrics`.
pub(super) trait SocketFrame: Send {
    /// The message, once what it says is counted.
    fn into_message(self, metrics: &Metrics) -> Message;
}

impl SocketFrame for Outgoing {
    fn into_message(self, metrics: &Metrics) -> Message {
        if let Some(code) = self.refusal {
            metrics.ws_errors.with_label_values(&[&code.name()]).inc();
        }
        if let Some(oldest) = self.oldest_tick {
            let age = (chrono::Utc::now() - oldest).to_std().unwrap_or_default();
            metrics.delivery_latency.observe(age.as_secs_f64());
        }
        Message::Text(self.text.into())
    }
}

/// Runs `protocol` for one client until it leaves, the socket fails, the
/// protocol finishes, the gateway shuts down or the key it came with
/// (`caller`) is revoked or expires.
pub(super) async fn serve<P: Protocol>(
    socket: WebSocket,
    state: &GatewayState,
    caller: Option<Caller>,
    protocol: P,
) where
    P::Frame: SocketFrame,
{
    let token = state.shutdown.child_token();
    let key_ended = caller.map(|caller| {
        let (token, ended) = (token.clone(), CancellationToken::new());
        let watch = ended.clone();
        tokio::spawn(async move {
            let expired = async {
                match caller.lasts(chrono::Utc::now()) {
                    Some(lasts) => tokio::time::sleep(lasts).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = caller.revoked.cancelled() => {}
                () = expired => {}
                () = token.cancelled() => return,
            }
            watch.cancel();
            token.cancel();
        });
        ended
    });
    let metrics = state.ops.metrics.clone();
    metrics.ws_clients.inc();
    let (sink, stream) = socket.split();
    let received = metrics.clone();
    let limits = state.market.limits();
    let rate = NonZeroU32::new(limits.frame_rate).unwrap_or(NonZeroU32::MIN);
    let burst = rate.saturating_mul(NonZeroU32::new(2).expect("two"));
    let frames = RateLimiter::direct(Quota::per_second(rate).allow_burst(burst));
    let inbound = stream
        .scan((), move |(), message| {
            let frame = match message {
                Ok(Message::Text(_) | Message::Binary(_)) if frames.check().is_err() => {
                    Some(Some(Inbound::TooFast))
                }
                Ok(Message::Text(text)) => Some(Some(Inbound::Text(text.as_str().to_owned()))),
                Ok(Message::Binary(bytes)) => Some(Some(Inbound::Binary(bytes.into()))),
                Ok(Message::Ping(_) | Message::Pong(_)) => Some(Some(Inbound::Alive)),
                Ok(Message::Close(_)) => None,
                Err(error) => {
                    tracing::debug!(%error, "WebSocket client failed");
                    None
                }
            };
            if let Some(Some(_)) = frame {
                received.ws_frames_received.inc();
            }
            ready(frame)
        })
        .filter_map(ready);
    let mut socket = Socket {
        sink,
        metrics: metrics.clone(),
        write_timeout: limits.write_timeout,
        timed_out: false,
    };
    let pacing = Pacing {
        keepalive: Some(limits.keepalive),
        ..Pacing::default()
    };
    let ended = drive(protocol, Box::pin(inbound), &mut socket, &pacing, &token).await;
    match ended {
        Ended::Undeliverable if socket.timed_out => {
            metrics.ws_closed.with_label_values(&["slow"]).inc();
        }
        Ended::Unresponsive => metrics.ws_closed.with_label_values(&["unresponsive"]).inc(),
        _ => {}
    }
    // Ends the key's watch, if the client left first.
    token.cancel();
    if matches!(ended, Ended::Unresponsive) || (ended == Ended::Undeliverable && socket.timed_out) {
        // Best effort: a client that stopped reading may not take it.
        let close = CloseFrame {
            code: CLOSE_POLICY,
            reason: "the client stopped reading or answering pings".into(),
        };
        let _ = tokio::time::timeout(
            limits.write_timeout,
            socket.sink.send(Message::Close(Some(close))),
        )
        .await;
    }
    if matches!(ended, Ended::Finished | Ended::ClientLeft) {
        // Answers the client's close, or closes: either way the client
        // gets its closing handshake.
        let _ = tokio::time::timeout(limits.write_timeout, socket.sink.close()).await;
    }
    if ended == Ended::Cancelled {
        // The key's end is marked before the session is cancelled, so a
        // shutdown is never mistaken for it.
        let frame = key_ended.filter(|k| k.is_cancelled()).map(|_| CloseFrame {
            code: CLOSE_UNAUTHORIZED,
            reason: "API key revoked or expired".into(),
        });
        let _ = socket.sink.send(Message::Close(frame)).await;
    }
    metrics.ws_clients.dec();
}

/// Close code of a client closed for not reading or not answering pings
/// (RFC 6455: policy violation).
const CLOSE_POLICY: u16 = 1008;

/// The socket's sending half, counting what it sends; a delivery that takes
/// longer than `write_timeout` gives up on the client.
struct Socket {
    sink: SplitSink<WebSocket, Message>,
    metrics: Arc<Metrics>,
    write_timeout: std::time::Duration,
    /// A delivery or ping took too long.
    timed_out: bool,
}

impl<F: SocketFrame> Deliver<F> for Socket {
    async fn deliver(&mut self, frames: &mut Vec<F>) -> bool {
        let limit = self.write_timeout;
        match tokio::time::timeout(limit, self.send_all(frames)).await {
            Ok(sent) => sent,
            Err(_) => {
                self.timed_out = true;
                false
            }
        }
    }

    async fn ping(&mut self) -> bool {
        let limit = self.write_timeout;
        match tokio::time::timeout(limit, self.sink.send(Message::Ping(Default::default()))).await {
            Ok(sent) => sent.is_ok(),
            Err(_) => {
                self.timed_out = true;
                false
            }
        }
    }
}

impl Socket {
    async fn send_all<F: SocketFrame>(&mut self, frames: &mut Vec<F>) -> bool {
        let n = frames.len();
        for (i, frame) in frames.drain(..).enumerate() {
            let message = frame.into_message(&self.metrics);
            self.metrics.ws_frames_sent.inc();
            // Flush once, after the last frame.
            let sent = if i + 1 == n {
                self.sink.send(message).await
            } else {
                self.sink.feed(message).await
            };
            if sent.is_err() {
                return false;
            }
        }
        true
    }
}
