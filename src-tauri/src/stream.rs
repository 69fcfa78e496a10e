//! The live stream over IPC: the WebSocket protocol's frames (the same
//! `ClientMsg` in, `ServerMsg` out) carried by a `tauri::ipc::Channel`, at
//! most one delivery per animation frame. Locally the gateway's protocol
//! driver runs a `Session` on the engine's log (or a `ReplayStream` on a
//! replay's); remotely a WebSocket to the daemon is relayed, and
//! reconnected when it drops.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use tauri::ipc::{Channel, InvokeResponseBody};
use tickstream::{
    gateway::{Deliver, GatewayState, Inbound, Outgoing, Pacing, ReplayStream, Session, drive},
    model::{
        MarketEvent,
        desktop::{StreamDelivery, StreamState},
        protocol::ServerMsg,
    },
    replay::Replay,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// One delivery per animation frame at most.
const FRAME: Duration = Duration::from_millis(16);
/// Longest pause between reconnection attempts to a remote daemon.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where a stream's deliveries go, and what it reports besides frames.
#[derive(Clone)]
pub struct Sink {
    /// The webview's channel.
    pub channel: Channel<InvokeResponseBody>,
    /// While set, nothing is delivered (the tray's "Pause stream").
    pub paused: Arc<AtomicBool>,
    /// Called with each market event that deserves a notification.
    pub notify: Arc<dyn Fn(&MarketEvent) + Send + Sync>,
}

impl Sink {
    /// Sends the frames as one message, a `StreamDelivery::Frames`:
    /// `{"frames":[…]}`, joined without parsing them again.
    fn deliver<'a>(&self, frames: impl Iterator<Item = &'a str> + Clone) -> bool {
        if frames.clone().next().is_none() {
            return true;
        }
        for frame in frames.clone() {
            // Events are rare: only their frames are parsed.
            if frame.starts_with(r#"{"type":"event""#)
                && let Ok(ServerMsg::Event { data }) = serde_json::from_str(frame)
            {
                (self.notify)(&data);
            }
        }
        let mut json =
            String::with_capacity(frames.clone().map(|f| f.len() + 1).sum::<usize>() + 12);
        json.push_str(r#"{"frames":["#);
        for (i, frame) in frames.enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(frame);
        }
        json.push_str("]}");
        self.channel.send(InvokeResponseBody::Json(json)).is_ok()
    }

    /// Reports the stream's state (a `StreamDelivery::State`).
    fn state(&self, state: StreamState, detail: &str) -> bool {
        let delivery = StreamDelivery::State {
            state,
            detail: detail.to_owned(),
        };
        let json = serde_json::to_string(&delivery).expect("serializes");
        self.channel.send(InvokeResponseBody::Json(json)).is_ok()
    }
}

impl Deliver<Outgoing> for Sink {
    async fn deliver(&mut self, frames: &mut Vec<Outgoing>) -> bool {
        let sent = Sink::deliver(self, frames.iter().map(|o| o.text.as_str()));
        frames.clear();
        sent
    }
}

/// What a local stream streams: the engine's live market, or one of its
/// replays.
pub struct Source {
    /// The engine's gateway.
    pub gateway: Arc<GatewayState>,
    /// The replay streamed, if any.
    pub replay: Option<Arc<Replay>>,
}

/// Serves one stream from the local engine until `incoming` closes or the
/// webview goes away: the protocol driver, one delivery per frame at most,
/// nothing while paused.
pub async fn local(
    Source {
        gateway: state,
        replay,
    }: Source,
    label: String,
    incoming: mpsc::Receiver<String>,
    mut sink: Sink,
) {
    if !sink.state(StreamState::Live, &label) {
        return;
    }
    let pacing = Pacing {
        frame: FRAME,
        paused: Some(sink.paused.clone()),
        keepalive: None,
    };
    let inbound = futures_util::stream::unfold(incoming, |mut incoming| async move {
        let text = incoming.recv().await?;
        Some((Inbound::Text(text), incoming))
    });
    let token = state.shutdown.child_token();
    let inbound = Box::pin(inbound);
    match replay {
        None => drive(Session::new(&state), inbound, &mut sink, &pacing, &token).await,
        Some(replay) => {
            let stream = ReplayStream::new(replay, &state.market, state.ops.metrics.clone());
            drive(stream, inbound, &mut sink, &pacing, &token).await
        }
    };
}

/// Relays one stream from a remote daemon until `incoming` closes or the
/// webview goes away; reconnects (reporting it) when the daemon drops.
pub async fn remote(
    url: String,
    api_key: Option<String>,
    tls: Arc<rustls::ClientConfig>,
    mut incoming: mpsc::Receiver<String>,
    sink: Sink,
) {
    let mut backoff = Duration::from_millis(250);
    loop {
        let socket = match connect(&url, api_key.as_deref(), &tls).await {
            Ok(socket) => socket,
            Err(reason) => {
                if !sink.state(
                    StreamState::Reconnecting,
                    &format!("cannot reach {url}: {reason}"),
                ) {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(250);
        if !sink.state(StreamState::Live, &url) {
            return;
        }
        let (mut write, mut read) = socket.split();
        let mut frames: Vec<String> = Vec::new();
        let mut tick = tokio::time::interval(FRAME);
        let reason = loop {
            tokio::select! {
                message = incoming.recv() => match message {
                    Some(text) => {
                        if let Err(e) = write.send(tungstenite::Message::Text(text.into())).await {
                            break e.to_string();
                        }
                    }
                    None => return,
                },
                frame = read.next() => match frame {
                    Some(Ok(tungstenite::Message::Text(text))) => frames.push(text.to_string()),
                    Some(Ok(tungstenite::Message::Close(_))) | None => break "the daemon closed the connection".into(),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break e.to_string(),
                },
                _ = tick.tick() => {
                    if !sink.paused.load(Ordering::Relaxed) {
                        let sent = sink.deliver(frames.iter().map(String::as_str));
                        frames.clear();
                        if !sent {
                            return;
                        }
                    }
                }
            }
        };
        if !sink.state(StreamState::Reconnecting, &format!("lost {url}: {reason}")) {
            return;
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    url: &str,
    api_key: Option<&str>,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<Socket, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    if let Some(key) = api_key {
        let value = format!("Bearer {key}")
            .parse()
            .map_err(|_| "the API key is not valid in a header".to_owned())?;
        request.headers_mut().insert("authorization", value);
    }
    let (socket, _) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async_tls_with_config(
            request,
            None,
            true,
            Some(tokio_tungstenite::Connector::Rustls(tls.clone())),
        ),
    )
    .await
    .map_err(|_| "no answer within 5 s".to_owned())?
    .map_err(|e| e.to_string())?;
    Ok(socket)
}
