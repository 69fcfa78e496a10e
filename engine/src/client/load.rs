//! `load`: a load generator for a gateway. Opens thousands of WebSocket
//! clients on a few threads, each subscribed to every symbol, one symbol or
//! a watchlist, some of them reading slowly or not at all, and reports what
//! they received (ticks/s, latency percentiles, gaps, closes), what an
//! observer says they should have received, and what the gateway's process
//! used (from its `/metrics`).

use std::{
    collections::HashMap,
    path::PathBuf,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use reqwest::Method;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::{
    ClientError, Daemon, error_chain,
    socket::{Socket, SocketError, connect},
};
use crate::model::{
    DaemonUsage, Latency, LoadReport,
    protocol::{ClientMsg, Delivery, ServerMsg, Subscribe},
    timestamp,
};

/// Most symbols in a `watchlist:N` mix.
const MAX_WATCHLIST: usize = 1_000;
/// Longest one client may take to connect and be subscribed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Histograms the clients share, so few contend for one.
const SHARDS: usize = 16;
/// How long ticks of the measured window may still arrive after it.
const DRAIN: Duration = Duration::from_secs(2);
/// Largest latency recorded: ten minutes, in microseconds.
const MAX_LATENCY_MICROS: u64 = 600_000_000;

/// What each client subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Every symbol (`"*"`).
    All,
    /// One symbol each, in turn through the gateway's symbols.
    One,
    /// `N` consecutive symbols each, starting at a different one.
    Watchlist(usize),
}

impl FromStr for Mix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(Mix::All),
            "one" => Ok(Mix::One),
            _ => match s.strip_prefix("watchlist:").map(str::parse::<usize>) {
                Some(Ok(n)) if (1..=MAX_WATCHLIST).contains(&n) => Ok(Mix::Watchlist(n)),
                _ => Err(format!(
                    "invalid mix {s:?}: expected all, one or watchlist:N with N from 1 to {MAX_WATCHLIST}"
                )),
            },
        }
    }
}

impl Mix {
    /// The symbols client `i` subscribes to (`*` for all).
    fn symbols_for(self, i: usize, universe: &[String]) -> Vec<String> {
        match self {
            Mix::All => vec!["*".to_owned()],
            Mix::One => vec![universe[i % universe.len()].clone()],
            Mix::Watchlist(n) => (0..n.min(universe.len()))
                .map(|k| universe[(i + k) % universe.len()].clone())
                .collect(),
        }
    }
}

/// The load to put on a gateway.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// WebSocket URL, e.g. `ws://127.0.0.1:8080/ws`.
    pub url: String,
    /// Sent as `Authorization: Bearer KEY` by every client.
    pub api_key: Option<String>,
    /// A PEM file of certificates to trust besides the system's (`wss://`).
    pub ca: Option<PathBuf>,
    /// Clients that read as fast as they can.
    pub clients: usize,
    /// What they subscribe to.
    pub mix: Mix,
    /// Their delivery mode.
    pub mode: Delivery,
    /// Their `batch_ms`.
    pub batch_ms: Option<u32>,
    /// More clients, subscribed like the others, that pause `slow_pause`
    /// after every frame.
    pub slow: usize,
    /// How long a slow client pauses.
    pub slow_pause: Duration,
    /// More clients that subscribe, then never read.
    pub stalled: usize,
    /// Connections opened at once.
    pub connect_concurrency: usize,
    /// Time between the last connection and the measurement.
    pub warmup: Duration,
    /// Time measured.
    pub duration: Duration,
}

/// Why a load could not be run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The URL is not a `ws://` or `wss://` URL.
    #[error("--url: {0:?} is not a ws:// or wss:// URL")]
    Url(String),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] crate::tls::ClientTlsError),
    /// The gateway's symbols could not be read.
    #[error("cannot list the gateway's symbols")]
    Symbols(#[source] ClientError),
    /// The gateway lists no symbols to subscribe to.
    #[error("the gateway lists no symbols")]
    NoSymbols,
    /// The observer (subscribed to everything) could not connect.
    #[error("the observer could not subscribe")]
    Observer(#[source] ClientFailure),
    /// Every client failed to connect.
    #[error("no client could connect; the first failure")]
    NoneConnected(#[source] ClientFailure),
}

/// Why one client could not connect and subscribe.
#[derive(Debug, thiserror::Error)]
pub enum ClientFailure {
    /// The connection failed.
    #[error(transparent)]
    Socket(#[from] SocketError),
    /// The gateway refused the subscription or closed the connection.
    #[error("subscription refused: {0}")]
    Refused(String),
    /// Connecting and subscribing took longer than a minute.
    #[error("no subscription within {}s", CONNECT_TIMEOUT.as_secs())]
    TimedOut,
}

/// How a client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// As fast as it can; measured.
    Full,
    /// A pause after every frame.
    Slow(Duration),
    /// Never.
    Stalled,
}

/// What the clients count together.
struct Shared {
    /// The measured window, Unix microseconds: ticks stamped in it count,
    /// wherever they are when the window closes (so none in flight is
    /// missed or counted twice).
    from: AtomicI64,
    until: AtomicI64,
    ticks: AtomicU64,
    frames: AtomicU64,
    gaps: AtomicU64,
    conflated: AtomicU64,
    closed: AtomicU64,
    latency: Vec<Mutex<Histogram<u64>>>,
}

impl Shared {
    fn new() -> Self {
        Self {
            from: AtomicI64::new(i64::MAX),
            until: AtomicI64::new(i64::MAX),
            ticks: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
            conflated: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            latency: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
        }
    }

    /// Counts one frame a full-speed client read.
    fn frame(&self, shard: usize, text: &str) {
        if text.starts_with(r#"{"type":"gap""#) {
            self.gaps.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if !text.starts_with(r#"{"type":"ticks""#) {
            return;
        }
        let now = chrono::Utc::now().timestamp_micros();
        let mut ticks = 0;
        {
            let mut latency = self.latency[shard % SHARDS].lock();
            for at in timestamp::scan_micros(text.as_bytes()) {
                if self.measures(at) {
                    latency.saturating_record((now - at).max(1) as u64);
                    ticks += 1;
                }
            }
        }
        if ticks == 0 {
            return;
        }
        self.ticks.fetch_add(ticks, Ordering::Relaxed);
        self.frames.fetch_add(1, Ordering::Relaxed);
        if let Some(count) = conflated(text) {
            self.conflated.fetch_add(count, Ordering::Relaxed);
        }
    }

    /// Whether a tick stamped `at` (Unix microseconds) is measured.
    fn measures(&self, at: i64) -> bool {
        (self.from.load(Ordering::Relaxed)..self.until.load(Ordering::Relaxed)).contains(&at)
    }

    fn latency(&self) -> Latency {
        let mut all = histogram();
        for shard in &self.latency {
            all.add(&*shard.lock()).expect("same bounds");
        }
        let ms = |micros: u64| micros as f64 / 1_000.0;
        Latency {
            p50: ms(all.value_at_quantile(0.50)),
            p99: ms(all.value_at_quantile(0.99)),
            p999: ms(all.value_at_quantile(0.999)),
            max: ms(all.max()),
        }
    }
}

/// An empty latency histogram: microseconds up to ten minutes, three
/// significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3).expect("valid bounds")
}

/// Sleeps for `time`, or until `token` is cancelled.
async fn pause(token: &CancellationToken, time: Duration) {
    tokio::select! {
        () = token.cancelled() => {}
        () = tokio::time::sleep(time) => {}
    }
}

/// The `conflated` count at the end of a `ticks` frame.
fn conflated(text: &str) -> Option<u64> {
    let (_, rest) = text.rsplit_once(r#""conflated":"#)?;
    rest.trim_end_matches('}').parse().ok()
}

/// Puts `options`' load on the gateway until its duration has been
/// measured (or `token` is cancelled), then reports.
///
/// # Errors
/// A [`LoadError`] when the gateway cannot be used at all; clients that
/// fail alone are counted in [`LoadReport::connect_failures`].
pub async fn run(
    options: &LoadOptions,
    token: &CancellationToken,
) -> Result<LoadReport, LoadError> {
    let tls = crate::tls::client_config(options.ca.as_deref())?;
    let base = http_base(&options.url)?;
    let daemon = Daemon {
        base_url: &base,
        api_key: options.api_key.as_deref(),
        ca: options.ca.as_deref(),
    };
    let universe = match options.mix {
        Mix::All => Vec::new(),
        Mix::One | Mix::Watchlist(_) => symbols(&daemon).await?,
    };
    let before = usage(&daemon).await;
    let shared = Arc::new(Shared::new());
    let stop = token.child_token();

    // The observer: everything, counted per symbol while measuring.
    let observed = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
    let mut observer = subscribe(options, &tls, vec!["*".to_owned()])
        .await
        .map_err(LoadError::Observer)?;
    let observing = tokio::spawn({
        let (observed, shared, stop) = (observed.clone(), shared.clone(), stop.clone());
        async move {
            loop {
                let text = tokio::select! {
                    () = stop.cancelled() => return,
                    frame = observer.next() => match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(_)) => continue,
                        _ => return,
                    },
                };
                if let Ok(ServerMsg::Ticks { data, .. }) = serde_json::from_str(text.as_str()) {
                    let mut observed = observed.lock();
                    for tick in data {
                        if shared.measures(tick.timestamp.timestamp_micros()) {
                            *observed.entry(tick.symbol.to_string()).or_default() += 1;
                        }
                    }
                }
            }
        }
    });

    // The clients: full-speed readers, then slow ones, then stalled ones.
    let started = Instant::now();
    let total = options.clients + options.slow + options.stalled;
    let permits = Arc::new(Semaphore::new(options.connect_concurrency.max(1)));
    let (connected_tx, mut connected_rx) = mpsc::unbounded_channel();
    // What each connected full-speed client subscribed to.
    let subscriptions = Arc::new(Mutex::new(Vec::with_capacity(options.clients)));
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let symbols = options.mix.symbols_for(i, &universe);
        let reading = if i < options.clients {
            Reading::Full
        } else if i < options.clients + options.slow {
            Reading::Slow(options.slow_pause)
        } else {
            Reading::Stalled
        };
        let (options, tls, shared, stop, permits, connected, subscriptions) = (
            options.clone(),
            tls.clone(),
            shared.clone(),
            stop.clone(),
            permits.clone(),
            connected_tx.clone(),
            subscriptions.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let socket = {
                let _permit = permits.acquire().await.expect("never closed");
                subscribe(&options, &tls, symbols.clone()).await
            };
            let socket = match socket {
                Ok(socket) => {
                    if reading == Reading::Full {
                        subscriptions.lock().push(symbols);
                    }
                    let _ = connected.send(Ok(()));
                    socket
                }
                Err(failure) => {
                    let _ = connected.send(Err(failure));
                    return;
                }
            };
            read(socket, reading, i, &shared, &stop).await;
        }));
    }
    drop(connected_tx);
    let (mut connected, mut failures, mut first_failure) = (0u64, 0u64, None);
    while connected + failures < total as u64 {
        let outcome = tokio::select! {
            () = token.cancelled() => break,
            outcome = connected_rx.recv() => outcome,
        };
        match outcome {
            Some(Ok(())) => connected += 1,
            Some(Err(failure)) => {
                failures += 1;
                first_failure.get_or_insert(failure);
            }
            None => break,
        }
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    if connected == 0
        && let Some(failure) = first_failure.take()
    {
        stop.cancel();
        return Err(LoadError::NoneConnected(failure));
    }
    let with_clients = usage(&daemon).await;
    pause(token, options.warmup).await;

    let measured = Instant::now();
    shared
        .from
        .store(chrono::Utc::now().timestamp_micros(), Ordering::Relaxed);
    let first = usage(&daemon).await;
    pause(token, options.duration).await;
    shared
        .until
        .store(chrono::Utc::now().timestamp_micros(), Ordering::Relaxed);
    let seconds = measured.elapsed().as_secs_f64();
    let last = usage(&daemon).await;
    // Ticks of the window still on their way arrive meanwhile.
    pause(token, DRAIN).await;
    stop.cancel();
    for task in tasks {
        let _ = task.await;
    }
    let _ = observing.await;

    let observed = observed.lock();
    let all: u64 = observed.values().sum();
    let expected: u64 = subscriptions
        .lock()
        .iter()
        .map(|symbols| match symbols.as_slice() {
            [all_symbols] if all_symbols == "*" => all,
            symbols => symbols
                .iter()
                .map(|s| observed.get(s).copied().unwrap_or(0))
                .sum(),
        })
        .sum();
    let ticks = shared.ticks.load(Ordering::Relaxed);
    let mib = |bytes: f64| bytes / (1024.0 * 1024.0);
    let daemon = match (before, with_clients, first, last) {
        (Some(before), Some(with_clients), Some(first), Some(last)) => Some(DaemonUsage {
            cpu_cores: (last.cpu_seconds - first.cpu_seconds) / seconds,
            write_latency_ms_p50_at_most: bucket_quantile(&first.buckets, &last.buckets, 0.50),
            write_latency_ms_p99_at_most: bucket_quantile(&first.buckets, &last.buckets, 0.99),
            rss_mib_before: mib(before.rss_bytes),
            rss_mib_connected: mib(with_clients.rss_bytes),
            rss_mib_end: mib(last.rss_bytes),
            rss_kib_per_client: (with_clients.rss_bytes - before.rss_bytes)
                / 1024.0
                / connected.max(1) as f64,
        }),
        _ => None,
    };
    Ok(LoadReport {
        clients: total as u64,
        connected,
        connect_failures: failures,
        first_connect_failure: first_failure.map(|f| error_chain(&f)),
        connect_seconds,
        closed_by_server: shared.closed.load(Ordering::Relaxed),
        seconds,
        ticks,
        ticks_per_second: ticks as f64 / seconds,
        frames_per_second: shared.frames.load(Ordering::Relaxed) as f64 / seconds,
        delivered_fraction: if expected == 0 {
            0.0
        } else {
            ticks as f64 / expected as f64
        },
        gaps: shared.gaps.load(Ordering::Relaxed),
        conflated: shared.conflated.load(Ordering::Relaxed),
        latency_ms: shared.latency(),
        daemon,
    })
}

/// Opens a client and subscribes it to `symbols`; returns once the gateway
/// confirmed the subscription.
async fn subscribe(
    options: &LoadOptions,
    tls: &Arc<rustls::ClientConfig>,
    symbols: Vec<String>,
) -> Result<Socket, ClientFailure> {
    let opened = async {
        let mut socket = connect(&options.url, options.api_key.as_deref(), tls).await?;
        let subscribe = ClientMsg::Subscribe(Subscribe {
            symbols,
            topics: None,
            resume: None,
            batch_ms: options.batch_ms,
            mode: Some(options.mode),
        });
        let text = serde_json::to_string(&subscribe).expect("serializes");
        if socket.send(Message::text(text)).await.is_err() {
            return Err(ClientFailure::Refused("the connection closed".into()));
        }
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(Message::Text(text)) if text.starts_with(r#"{"type":"subscribed""#) => {
                    return Ok(socket);
                }
                Ok(Message::Text(text)) if text.starts_with(r#"{"type":"error""#) => {
                    return Err(ClientFailure::Refused(text.to_string()));
                }
                Ok(_) => {}
                Err(e) => return Err(ClientFailure::Refused(e.to_string())),
            }
        }
        Err(ClientFailure::Refused("the connection closed".into()))
    };
    tokio::time::timeout(CONNECT_TIMEOUT, opened)
        .await
        .unwrap_or(Err(ClientFailure::TimedOut))
}

/// Reads one client's frames until `stop`, as `reading` says.
async fn read(
    mut socket: Socket,
    reading: Reading,
    i: usize,
    shared: &Shared,
    stop: &CancellationToken,
) {
    if reading == Reading::Stalled {
        stop.cancelled().await;
        return;
    }
    loop {
        let frame = tokio::select! {
            () = stop.cancelled() => return,
            frame = socket.next() => frame,
        };
        match frame {
            Some(Ok(Message::Text(text))) => {
                if reading == Reading::Full {
                    shared.frame(i, text.as_str());
                }
            }
            Some(Ok(Message::Close(_)) | Err(_)) | None => {
                shared.closed.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Some(Ok(_)) => {}
        }
        if let Reading::Slow(time) = reading {
            // A cancelled `stop` ends the loop at its next read.
            pause(stop, time).await;
        }
    }
}

/// `http(s)://host:port` of a `ws(s)://host:port/…` URL.
fn http_base(url: &str) -> Result<String, LoadError> {
    let invalid = || LoadError::Url(url.to_owned());
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid())?;
    let scheme = match parsed.scheme() {
        "ws" => "http",
        "wss" => "https",
        _ => return Err(invalid()),
    };
    let host = parsed.host_str().ok_or_else(invalid)?;
    Ok(match parsed.port() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// The symbols the gateway lists.
async fn symbols(daemon: &Daemon<'_>) -> Result<Vec<String>, LoadError> {
    let (_, body) = daemon
        .call(Method::GET, "/api/v1/symbols", None)
        .await
        .map_err(LoadError::Symbols)?;
    let symbols: Vec<String> = body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|quote| quote["symbol"].as_str().map(str::to_owned))
        .collect();
    if symbols.is_empty() {
        return Err(LoadError::NoSymbols);
    }
    Ok(symbols)
}

/// The gateway process's CPU, memory and write-latency histogram at one
/// moment.
#[derive(Debug, Clone)]
struct Usage {
    cpu_seconds: f64,
    rss_bytes: f64,
    buckets: Vec<(f64, f64)>,
}

/// Reads [`Usage`] from the gateway's `/metrics`; `None` when it cannot
/// (another role, or a key without the scope).
async fn usage(daemon: &Daemon<'_>) -> Option<Usage> {
    let text = daemon.text("/metrics").await.ok()?;
    let value = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(' ')?;
            rest.trim().parse::<f64>().ok()
        })
    };
    Some(Usage {
        cpu_seconds: value("process_cpu_seconds_total")?,
        rss_bytes: value("process_resident_memory_bytes")?,
        buckets: delivery_buckets(&text),
    })
}

/// The buckets of `tickstream_delivery_latency_seconds` in a `/metrics`
/// text: (upper bound in ms, cumulative count).
pub fn delivery_buckets(metrics: &str) -> Vec<(f64, f64)> {
    const PREFIX: &str = "tickstream_delivery_latency_seconds_bucket{le=\"";
    metrics
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(PREFIX)?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse::<f64>().ok()? * 1_000.0
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect()
}

/// The smallest bucket bound (ms) holding quantile `q` of what was observed
/// between two readings of [`delivery_buckets`]: an upper bound on the
/// quantile. `None` when nothing was observed or it lies past the last
/// finite bound.
pub fn bucket_quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> Option<f64> {
    let deltas: Vec<(f64, f64)> = after
        .iter()
        .zip(before)
        .map(|(&(le, a), &(_, b))| (le, a - b))
        .collect();
    let total = deltas.last()?.1;
    if total <= 0.0 {
        return None;
    }
    deltas
        .iter()
        .find(|&&(_, cumulative)| cumulative >= q * total)
        .map(|&(le, _)| le)
        .filter(|le| le.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_parse_and_spread_clients_over_the_symbols() {
        let universe: Vec<String> = ["A", "B", "C"].map(String::from).to_vec();
        assert_eq!("all".parse(), Ok(Mix::All));
        assert_eq!("watchlist:2".parse(), Ok(Mix::Watchlist(2)));
        assert!("watchlist:0".parse::<Mix>().is_err() && "some".parse::<Mix>().is_err());
        assert_eq!(Mix::One.symbols_for(4, &universe), ["B"]);
        assert_eq!(Mix::Watchlist(2).symbols_for(2, &universe), ["C", "A"]);
        assert_eq!(Mix::Watchlist(9).symbols_for(0, &universe).len(), 3);
        assert_eq!(Mix::All.symbols_for(0, &universe), ["*"]);
    }

    #[test]
    fn reads_the_daemons_latency_buckets_and_their_quantiles() {
        let text = |counts: [u32; 3]| {
            format!(
                "tickstream_delivery_latency_seconds_bucket{{le=\"0.001\"}} {}\n\
                 tickstream_delivery_latency_seconds_bucket{{le=\"0.01\"}} {}\n\
                 tickstream_delivery_latency_seconds_bucket{{le=\"+Inf\"}} {}\n",
                counts[0], counts[1], counts[2]
            )
        };
        let before = delivery_buckets(&text([10, 10, 10]));
        assert_eq!(before.len(), 3);
        let after = delivery_buckets(&text([60, 109, 110]));
        assert_eq!(bucket_quantile(&before, &after, 0.5), Some(1.0));
        assert_eq!(bucket_quantile(&before, &after, 0.99), Some(10.0));
        assert_eq!(
            bucket_quantile(&before, &after, 1.0),
            None,
            "past the last bound"
        );
        assert_eq!(
            bucket_quantile(&before, &before, 0.5),
            None,
            "nothing observed"
        );
    }

    #[test]
    fn reads_the_conflated_count_and_the_http_base() {
        assert_eq!(
            conflated(r#"{"type":"ticks","data":[],"conflated":42}"#),
            Some(42)
        );
        assert_eq!(conflated(r#"{"type":"ticks","data":[]}"#), None);
        assert_eq!(
            http_base("ws://127.0.0.1:8080/ws").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            http_base("wss://ticks.example.com/ws").unwrap(),
            "https://ticks.example.com"
        );
        assert!(http_base("http://x/ws").is_err());
    }
}
