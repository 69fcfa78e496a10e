//! The `/ws` endpoint: a socket's frames driven through the protocol
//! driver ([`drive`]), each delivery fed to the socket and flushed once.

use std::{future::ready, sync::Arc};

use axum::{
    Extension,
    extract::{
        State,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    response::Response,
};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use tokio_util::sync::CancellationToken;

use super::{
    GatewayState,
    driver::{Deliver, Ended, Inbound, Pacing, drive},
    session::{Outgoing, Session},
};
use crate::{auth::Caller, metrics::Metrics};

/// Frames above this size are refused by the WebSocket layer itself (the
/// connection closes); frames above the configured `max_frame_bytes` but
/// below this get an error frame and the connection stays open.
const HARD_FRAME_LIMIT: usize = 1 << 20;

/// Close code of a stream whose API key was revoked or expired.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;

/// Upgrades the request and runs the client's session; `caller` is the API
/// key it came with, when the gateway requires one.
pub async fn upgrade(
    State(state): State<Arc<GatewayState>>,
    caller: Option<Extension<Caller>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(HARD_FRAME_LIMIT)
        .max_frame_size(HARD_FRAME_LIMIT)
        .on_upgrade(move |socket| serve(socket, state, caller.map(|c| c.0)))
}

/// Runs one client until it leaves, the socket fails, the gateway shuts
/// down or its key is revoked or expires.
async fn serve(socket: WebSocket, state: Arc<GatewayState>, caller: Option<Caller>) {
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
    let inbound = stream
        .scan((), move |(), message| {
            let frame = match message {
                Ok(Message::Text(text)) => Some(Some(Inbound::Text(text.as_str().to_owned()))),
                Ok(Message::Binary(_)) => Some(Some(Inbound::Binary)),
                Ok(Message::Ping(_) | Message::Pong(_)) => Some(None),
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
    };
    let session = Session::new(state);
    let ended = drive(
        session,
        Box::pin(inbound),
        &mut socket,
        &Pacing::default(),
        &token,
    )
    .await;
    // Ends the key's watch, if the client left first.
    token.cancel();
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

/// The socket's sending half, counting what it sends.
struct Socket {
    sink: SplitSink<WebSocket, Message>,
    metrics: Arc<Metrics>,
}

impl Deliver for Socket {
    async fn deliver(&mut self, frames: &mut Vec<Outgoing>) -> bool {
        let n = frames.len();
        for (i, frame) in frames.drain(..).enumerate() {
            if let Some(oldest) = frame.oldest_tick {
                let age = (chrono::Utc::now() - oldest).to_std().unwrap_or_default();
                self.metrics.delivery_latency.observe(age.as_secs_f64());
            }
            self.metrics.ws_frames_sent.inc();
            // Flush once, after the last frame.
            let sent = if i + 1 == n {
                self.sink.send(Message::Text(frame.text.into())).await
            } else {
                self.sink.feed(Message::Text(frame.text.into())).await
            };
            if sent.is_err() {
                return false;
            }
        }
        true
    }
}
