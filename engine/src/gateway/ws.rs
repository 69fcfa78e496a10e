//! The `/ws` endpoint: moves frames between a socket and a [`Session`].

use std::sync::Arc;

use axum::{
    extract::{
        State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    response::Response,
};
use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::{
    GatewayState,
    session::{Outgoing, Session},
};
use crate::model::protocol::{ErrorCode, ServerMsg};

/// Frames above this size are refused by the WebSocket layer itself (the
/// connection closes); frames above the configured `max_frame_bytes` but
/// below this get an error frame and the connection stays open.
const HARD_FRAME_LIMIT: usize = 1 << 20;

/// Upgrades the request and runs the client's session.
pub async fn upgrade(State(state): State<Arc<GatewayState>>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(HARD_FRAME_LIMIT)
        .max_frame_size(HARD_FRAME_LIMIT)
        .on_upgrade(move |socket| {
            let token = state.shutdown.child_token();
            serve(socket, state, token)
        })
}

/// Runs one client until it leaves, the socket fails or `token` is cancelled.
async fn serve(socket: WebSocket, state: Arc<GatewayState>, token: CancellationToken) {
    let metrics = state.ops.metrics.clone();
    metrics.ws_clients.inc();
    let (mut sink, mut stream) = socket.split();
    let mut session = Session::new(state);
    let mut out: Vec<Outgoing> = Vec::new();
    // The earliest time of the next poll: the client's `batch_ms` after the last.
    let mut next_poll = Instant::now();
    loop {
        tokio::select! {
            biased;
            () = token.cancelled() => {
                let _ = sink.send(Message::Close(None)).await;
                break;
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    metrics.ws_frames_received.inc();
                    session.handle_text(text.as_str(), &mut out);
                }
                Some(Ok(Message::Binary(_))) => {
                    metrics.ws_frames_received.inc();
                    out.push(binary_refused());
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(error)) => {
                    tracing::debug!(%error, "WebSocket client failed");
                    break;
                }
            },
            () = async {
                session.wait().await;
                sleep_until(next_poll).await;
            }, if !session.has_backlog() => {
                session.poll(&mut out);
                next_poll = Instant::now() + session.batch();
            }
            () = std::future::ready(()), if session.has_backlog() => session.poll(&mut out),
        }
        if send_all(&mut sink, &mut out, &metrics).await.is_err() {
            break;
        }
    }
    metrics.ws_clients.dec();
}

fn binary_refused() -> Outgoing {
    Outgoing {
        text: serde_json::to_string(&ServerMsg::Error {
            code: ErrorCode::BinaryNotSupported,
            message: "binary frames are not part of the protocol; send JSON text frames".into(),
        })
        .expect("serializes"),
        oldest_tick: None,
    }
}

async fn send_all(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    out: &mut Vec<Outgoing>,
    metrics: &crate::metrics::Metrics,
) -> Result<(), axum::Error> {
    let n = out.len();
    for (i, frame) in out.drain(..).enumerate() {
        if let Some(oldest) = frame.oldest_tick {
            let age = (chrono::Utc::now() - oldest).to_std().unwrap_or_default();
            metrics.delivery_latency.observe(age.as_secs_f64());
        }
        metrics.ws_frames_sent.inc();
        // Flush once, after the last frame.
        if i + 1 == n {
            sink.send(Message::Text(frame.text.into())).await?;
        } else {
            sink.feed(Message::Text(frame.text.into())).await?;
        }
    }
    Ok(())
}
