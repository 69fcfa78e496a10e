//! `tickstreamd replay`: opens a replay on a daemon (paused), streams it at
//! `/ws?replay={id}`, plays it and prints its ticks (a table or JSON
//! lines, as `tail` does) until `replay_completed`; then deletes it.

use std::io::Write;

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::{
    ClientError, Daemon,
    socket::{self, Socket},
    tail::{table_header, table_row},
};
use crate::model::{
    EventKind, NewReplay, ReplayAction, ReplayCommand, ReplayStatus, Symbol,
    protocol::{ClientMsg, ServerMsg, StreamTopic, Subscribe},
};

/// The replay to play and how to print it.
pub struct ReplayOptions {
    /// The range's start (inclusive).
    pub from: DateTime<Utc>,
    /// The range's end (exclusive); `None`: now.
    pub to: Option<DateTime<Utc>>,
    /// `1`, `10`, `max`, …
    pub speed: String,
    /// Only these symbols; empty: all.
    pub symbols: Vec<Symbol>,
    /// One JSON tick per line instead of a table.
    pub json: bool,
}

/// What a replay played, reported on stderr at the end.
#[derive(Debug, Clone, Copy)]
pub struct Played {
    /// Ticks printed.
    pub ticks: u64,
    /// Whether `replay_completed` came (not an interruption).
    pub completed: bool,
}

/// Plays `options`' range on `daemon` and prints its ticks to `out` until
/// the replay completes or `token` is cancelled; the replay is deleted
/// either way.
///
/// # Errors
/// [`ClientError::Refused`] with the daemon's message (a range with no
/// stored ticks is not an error: it completes at once), or the
/// connection's error.
pub async fn replay(
    daemon: &Daemon<'_>,
    ca: Option<&std::path::Path>,
    options: &ReplayOptions,
    mut out: impl Write,
    token: CancellationToken,
) -> Result<Played, ClientError> {
    let request = NewReplay {
        from: options.from,
        to: options.to,
        speed: Some(options.speed.clone()),
        symbols: options.symbols.clone(),
        paused: true,
    };
    let body = serde_json::to_value(&request).expect("serializes");
    let (_, status) = daemon
        .call(Method::POST, "/api/v1/replays", Some(&body))
        .await?;
    let status: ReplayStatus = serde_json::from_value(status)
        .map_err(|e| ClientError::Stream(format!("the daemon answered no replay: {e}")))?;
    let played = play(daemon, ca, options, status.id, &mut out, token).await;
    let deleted = daemon
        .call(
            Method::DELETE,
            &format!("/api/v1/replays/{}", status.id),
            None,
        )
        .await;
    let played = played?;
    deleted?;
    Ok(played)
}

async fn play(
    daemon: &Daemon<'_>,
    ca: Option<&std::path::Path>,
    options: &ReplayOptions,
    id: u64,
    out: &mut impl Write,
    token: CancellationToken,
) -> Result<Played, ClientError> {
    let base = daemon.base_url.trim_end_matches('/');
    let url = match base.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}/ws?replay={id}"),
        Some((_, rest)) => format!("ws://{rest}/ws?replay={id}"),
        None => format!("ws://{base}/ws?replay={id}"),
    };
    let tls = crate::tls::client_config(ca)?;
    let mut socket = socket::connect(&url, daemon.api_key, &tls)
        .await
        .map_err(|e| ClientError::Stream(super::error_chain(&e)))?;
    let symbols = if options.symbols.is_empty() {
        vec!["*".to_owned()]
    } else {
        options.symbols.iter().map(ToString::to_string).collect()
    };
    let subscribe = ClientMsg::Subscribe(Subscribe {
        symbols,
        topics: Some(vec![StreamTopic::StockTicks, StreamTopic::MarketEvents]),
        resume: None,
        batch_ms: None,
        mode: None,
    });
    send(&mut socket, &subscribe).await?;
    let mut played = Played {
        ticks: 0,
        completed: false,
    };
    let mut playing = false;
    if !options.json {
        writeln!(out, "{}", table_header()).map_err(output)?;
    }
    loop {
        let frame = tokio::select! {
            () = token.cancelled() => return Ok(played),
            frame = socket.next() => frame,
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => return Ok(played),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(ClientError::Stream(format!("{url}: {e}"))),
        };
        let msg: ServerMsg = serde_json::from_str(text.as_str())
            .map_err(|e| ClientError::Stream(format!("unexpected frame: {e}")))?;
        match msg {
            ServerMsg::Subscribed { .. } if !playing => {
                // Subscribed before the first tick: nothing is missed.
                playing = true;
                let play = serde_json::to_value(ReplayCommand::new(ReplayAction::Play))
                    .expect("serializes");
                daemon
                    .call(
                        Method::POST,
                        &format!("/api/v1/replays/{id}/control"),
                        Some(&play),
                    )
                    .await?;
            }
            ServerMsg::Ticks { data, .. } => {
                for tick in &data {
                    if options.json {
                        serde_json::to_writer(&mut *out, tick).map_err(|e| output(e.into()))?;
                        writeln!(out).map_err(output)?;
                    } else {
                        writeln!(out, "{}", table_row(tick)).map_err(output)?;
                    }
                }
                played.ticks += data.len() as u64;
                out.flush().map_err(output)?;
            }
            ServerMsg::Event { data } if data.kind == EventKind::ReplayCompleted => {
                played.completed = true;
                return Ok(played);
            }
            ServerMsg::Gap {
                partition,
                requested,
                resumed_at,
            } => eprintln!(
                "gap in partition {partition}: offsets {requested}..{resumed_at} were not received"
            ),
            ServerMsg::Error { message, .. } => eprintln!("server error: {message}"),
            _ => {}
        }
    }
}

async fn send(socket: &mut Socket, msg: &ClientMsg) -> Result<(), ClientError> {
    socket
        .send(Message::text(
            serde_json::to_string(msg).expect("serializes"),
        ))
        .await
        .map_err(|e| ClientError::Stream(e.to_string()))
}

fn output(error: std::io::Error) -> ClientError {
    ClientError::Output(error)
}
