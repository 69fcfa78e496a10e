//! `tail`: a terminal consumer of a gateway's WebSocket stream, or of a
//! Kafka cluster's tick topic, printing ticks as a table or as JSON lines.

use std::io::Write;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::model::{
    Tick,
    protocol::{ClientMsg, ServerMsg, Subscribe},
    timestamp,
};

/// What to read and how to print it.
#[derive(Clone)]
pub struct TailOptions {
    /// WebSocket URL, e.g. `ws://127.0.0.1:8080/ws`.
    pub url: String,
    /// Sent as `Authorization: Bearer KEY`.
    pub api_key: Option<String>,
    /// A PEM file of certificates to trust besides the system's (`wss://`).
    pub ca: Option<std::path::PathBuf>,
    /// Symbols to subscribe to (`*` for all).
    pub symbols: Vec<String>,
    /// One JSON object per line instead of a table.
    pub json: bool,
}

/// Why tailing stopped.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The connection could not be opened or failed.
    #[error("WebSocket connection to {url} failed")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        source: tokio_tungstenite::tungstenite::Error,
    },
    /// None of the requested symbols could be subscribed.
    #[error("nothing to follow: none of the symbols was accepted")]
    NothingSubscribed,
    /// The server sent something that is not part of the protocol.
    #[error("unexpected frame from the server: {0}")]
    Protocol(String),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The connection could not be opened.
    #[error(transparent)]
    Socket(#[from] super::socket::SocketError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] crate::tls::ClientTlsError),
    /// The Kafka cluster could not be read.
    #[error("Kafka")]
    Kafka(#[source] rdkafka::error::KafkaError),
    /// Writing to the output failed.
    #[error("output: {0}")]
    Output(#[from] std::io::Error),
}

/// Where `tail` reads.
#[derive(Debug, Clone)]
pub enum Source {
    /// The gateway at [`TailOptions::url`].
    Gateway,
    /// A Kafka cluster's tick topic, read directly (as kcat does).
    Kafka {
        /// The cluster.
        config: crate::config::KafkaConfig,
        /// The tick topic.
        topic: String,
    },
}

/// Prints `source`'s ticks on stdout until `token` is cancelled or the
/// stream ends; a closed stdout (`| head`) ends it quietly.
///
/// # Errors
/// A [`TailError`] when the source cannot be read or stdout fails.
pub async fn to_stdout(
    options: TailOptions,
    source: Source,
    token: CancellationToken,
) -> Result<(), TailError> {
    let result = match source {
        Source::Gateway => run(&options, std::io::stdout().lock(), token).await,
        Source::Kafka { config, topic } => {
            crate::component::blocking(move || {
                run_kafka(&options, &config, &topic, std::io::stdout().lock(), &token)
            })
            .await
        }
    };
    match result {
        Err(TailError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Streams ticks to `out` until `token` is cancelled or the connection ends.
/// Error frames from the server are printed to stderr; the stream goes on.
///
/// # Errors
/// Returns a [`TailError`] when the connection fails or output cannot be written.
pub async fn run(
    options: &TailOptions,
    mut out: impl Write,
    token: CancellationToken,
) -> Result<(), TailError> {
    let connect_error = |source| TailError::Connect {
        url: options.url.clone(),
        source,
    };
    let tls = crate::tls::client_config(options.ca.as_deref())?;
    let mut socket = super::socket::connect(&options.url, options.api_key.as_deref(), &tls).await?;
    let subscribe = ClientMsg::Subscribe(Subscribe {
        symbols: options.symbols.clone(),
        topics: None,
        resume: None,
        batch_ms: None,
        mode: None,
    });
    socket
        .send(Message::text(
            serde_json::to_string(&subscribe).expect("serializes"),
        ))
        .await
        .map_err(connect_error)?;
    if !options.json {
        writeln!(out, "{}", table_header())?;
    }
    loop {
        let frame = tokio::select! {
            () = token.cancelled() => return Ok(()),
            frame = socket.next() => frame,
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => return Err(TailError::Closed),
            Some(Ok(_)) => continue,
            Some(Err(source)) => return Err(connect_error(source)),
        };
        let msg: ServerMsg = serde_json::from_str(text.as_str())
            .map_err(|e| TailError::Protocol(format!("{e}: {}", text.as_str())))?;
        match msg {
            ServerMsg::Ticks { data, .. } => {
                for tick in &data {
                    if options.json {
                        serde_json::to_writer(&mut out, tick).map_err(std::io::Error::from)?;
                        writeln!(out)?;
                    } else {
                        writeln!(out, "{}", table_row(tick))?;
                    }
                }
                out.flush()?;
            }
            ServerMsg::Error { code, message } => {
                eprintln!(
                    "server error ({}): {message}",
                    serde_json::to_string(&code).unwrap_or_default()
                );
            }
            ServerMsg::Gap {
                partition,
                requested,
                resumed_at,
            } => eprintln!(
                "gap in partition {partition}: offsets {requested}..{resumed_at} are no longer retained"
            ),
            ServerMsg::Event { data } => eprintln!(
                "event: {} {}",
                data.message,
                timestamp::to_string(&data.timestamp)
            ),
            ServerMsg::Subscribed { symbols, .. } => {
                eprintln!("subscribed to {}", symbols.join(","))
            }
            // `tail` subscribes to ticks and events only.
            ServerMsg::Unsubscribed { .. }
            | ServerMsg::Pong { .. }
            | ServerMsg::Metric { .. }
            | ServerMsg::Quotes { .. }
            | ServerMsg::Book { .. }
            | ServerMsg::Order { .. }
            | ServerMsg::Fill { .. } => {}
        }
    }
}

/// Reads ticks straight from a Kafka cluster, as kcat does: every
/// partition of the tick topic from `start`, printed like [`run`] prints.
/// Waits for the topic when it does not exist yet (a producer started at
/// the same moment creates it). Blocking: call it from a thread of its own.
///
/// # Errors
/// Returns [`TailError::Kafka`] when the cluster cannot be read, or
/// [`TailError::Output`] when output cannot be written.
pub fn run_kafka(
    options: &TailOptions,
    config: &crate::config::KafkaConfig,
    topic: &str,
    mut out: impl Write,
    token: &CancellationToken,
) -> Result<(), TailError> {
    use rdkafka::{
        Message, Offset, TopicPartitionList,
        consumer::{BaseConsumer, Consumer},
    };
    let mut client = rdkafka::ClientConfig::new();
    for (key, value) in config.client_properties(crate::kafka::CONSUMER_DEFAULTS) {
        client.set(key, value);
    }
    let consumer: BaseConsumer = client.create().map_err(TailError::Kafka)?;
    let mut told = false;
    let partitions = loop {
        let metadata = consumer
            .fetch_metadata(Some(topic), std::time::Duration::from_secs(10))
            .map_err(TailError::Kafka)?;
        let partitions = metadata
            .topics()
            .first()
            .map_or(0, |t| t.partitions().len());
        if partitions > 0 {
            break partitions;
        }
        if !told {
            eprintln!("topic {topic} does not exist yet; waiting for a producer to create it");
            told = true;
        }
        if token.is_cancelled() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let start = match config.start {
        crate::config::StartPosition::Earliest => Offset::Beginning,
        _ => Offset::End,
    };
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions as i32 {
        assignment
            .add_partition_offset(topic, partition, start)
            .map_err(TailError::Kafka)?;
    }
    consumer.assign(&assignment).map_err(TailError::Kafka)?;
    let all = options.symbols.iter().any(|s| s == "*");
    if !options.json {
        writeln!(out, "{}", table_header())?;
    }
    while !token.is_cancelled() {
        let Some(message) = consumer.poll(std::time::Duration::from_millis(100)) else {
            continue;
        };
        let message = message.map_err(TailError::Kafka)?;
        let payload = message.payload().unwrap_or_default();
        let mut tick = match crate::model::EncodedTick::decode(payload) {
            Ok(encoded) => encoded.tick().clone(),
            Err(error) => {
                eprintln!(
                    "skipped partition {} offset {}: {error}",
                    message.partition(),
                    message.offset()
                );
                continue;
            }
        };
        if !all && !options.symbols.iter().any(|s| s == tick.symbol.as_str()) {
            continue;
        }
        tick.partition = Some(message.partition() as u32);
        tick.offset = Some(message.offset() as u64);
        if options.json {
            serde_json::to_writer(&mut out, &tick).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            writeln!(out, "{}", table_row(&tick))?;
        }
        out.flush()?;
    }
    Ok(())
}

pub(super) fn table_header() -> String {
    format!(
        "{:<27} {:<8} {:>12} {:>8} {:>12} {:>12} {:>4} {:>10}",
        "TIME", "SYMBOL", "PRICE", "VOLUME", "BID", "ASK", "PART", "OFFSET"
    )
}

pub(super) fn table_row(t: &Tick) -> String {
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    format!(
        "{:<27} {:<8} {:>12} {:>8} {:>12} {:>12} {:>4} {:>10}",
        timestamp::to_string(&t.timestamp),
        t.symbol,
        t.price,
        t.volume,
        opt(t.bid),
        opt(t.ask),
        t.partition.map_or_else(|| "-".into(), |p| p.to_string()),
        t.offset.map_or_else(|| "-".into(), |o| o.to_string()),
    )
}
