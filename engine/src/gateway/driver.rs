//! The one protocol driver: runs a [`Protocol`] between a client's frames
//! and a [`Deliver`]y, paced by a [`Pacing`]. The `/ws` endpoint (frames
//! over a socket), the desktop's IPC stream (frames over a channel, one
//! delivery per animation frame, pausable) and the compatible endpoints
//! (another protocol over a socket) are uses of [`drive`].

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use futures_util::{Stream, StreamExt};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

/// How often a paused stream looks whether it was resumed.
const PAUSE_CHECK: Duration = Duration::from_millis(16);

/// A frame from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A text frame (the native protocol: a JSON `ClientMsg`).
    Text(String),
    /// A binary frame (which the native protocol refuses).
    Binary(Vec<u8>),
    /// A frame past the client's frame rate: refused with an error frame,
    /// unread.
    TooFast,
    /// A sign of life with nothing to answer (a WebSocket pong).
    Alive,
}

/// Pings a client that says nothing, and gives up on one that stays silent.
#[derive(Debug, Clone, Copy)]
pub struct Keepalive {
    /// A ping after this long without a frame from the client.
    pub every: Duration,
    /// Pings unanswered before the client counts as gone.
    pub misses: u32,
}

/// How deliveries are paced.
#[derive(Debug, Clone, Default)]
pub struct Pacing {
    /// Least time between two deliveries (zero: as soon as the client's
    /// `batch_ms` allows; the desktop: one animation frame).
    pub frame: Duration,
    /// While set, nothing is read from the log or delivered (the desktop's
    /// "Pause stream"); the client's own frames are still answered.
    pub paused: Option<Arc<AtomicBool>>,
    /// Pings for a client across a network.
    pub keepalive: Option<Keepalive>,
}

impl Pacing {
    fn is_paused(&self) -> bool {
        self.paused
            .as_ref()
            .is_some_and(|p| p.load(Ordering::Relaxed))
    }
}

/// One client's side of a streaming protocol: it answers the client's
/// frames, and turns what the log brings into frames for it.
pub trait Protocol: Send {
    /// A frame for the client.
    type Frame: Send;

    /// The frames a client gets on connecting, before it says anything.
    fn open(&mut self, out: &mut Vec<Self::Frame>) {
        let _ = out;
    }

    /// Answers one frame from the client (never [`Inbound::Alive`]);
    /// replies go to `out`.
    fn answer(&mut self, frame: Inbound, out: &mut Vec<Self::Frame>);

    /// Waits until the log may hold something new for the client.
    fn wait(&mut self) -> impl Future<Output = ()> + Send;

    /// Reads what is new and turns it into frames.
    fn poll(&mut self, out: &mut Vec<Self::Frame>);

    /// Whether more waits than one poll reads: the next poll comes at once.
    fn has_backlog(&self) -> bool;

    /// How long to gather records between polls.
    fn batch(&self) -> Duration;

    /// Whether the protocol has ended the conversation (its last frames
    /// are delivered first).
    fn finished(&self) -> bool {
        false
    }
}

/// Where a driven protocol's frames go, a batch at a time.
pub trait Deliver<F> {
    /// Delivers (and drains) `frames`; false when the client is gone.
    fn deliver(&mut self, frames: &mut Vec<F>) -> impl Future<Output = bool> + Send;

    /// Pings the client (with [`Pacing::keepalive`]); false when it is gone.
    fn ping(&mut self) -> impl Future<Output = bool> + Send {
        std::future::ready(true)
    }
}

/// Why [`drive`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `token` was cancelled (shutdown).
    Cancelled,
    /// The client's frames ended (it left).
    ClientLeft,
    /// A delivery failed (the client is gone, or stopped reading).
    Undeliverable,
    /// The client answered none of its [`Keepalive`]'s pings.
    Unresponsive,
    /// The protocol ended the conversation ([`Protocol::finished`]).
    Finished,
}

/// Runs `session`: answers each inbound frame, and delivers what the log
/// brings for its subscriptions, at most once per `pacing.frame` and per
/// its [`Protocol::batch`], until the client leaves, a delivery fails, the
/// protocol finishes or `token` is cancelled.
pub async fn drive<P: Protocol>(
    mut session: P,
    mut inbound: impl Stream<Item = Inbound> + Unpin,
    delivery: &mut impl Deliver<P::Frame>,
    pacing: &Pacing,
    token: &CancellationToken,
) -> Ended {
    let mut out: Vec<P::Frame> = Vec::new();
    session.open(&mut out);
    if !out.is_empty() && !delivery.deliver(&mut out).await {
        return Ended::Undeliverable;
    }
    // The earliest next poll: the client's `batch_ms` (and the pacing's
    // frame) after the last.
    let mut next_poll = Instant::now();
    // When the client was last heard from, and last pinged.
    let (mut heard, mut pinged) = (Instant::now(), Instant::now());
    let keepalive = pacing.keepalive;
    loop {
        let paused = pacing.is_paused();
        let backlog = session.has_backlog();
        let mut poll = false;
        let next_ping = keepalive.map(|k| heard.max(pinged) + k.every);
        tokio::select! {
            biased;
            () = token.cancelled() => return Ended::Cancelled,
            frame = inbound.next() => {
                heard = Instant::now();
                match frame {
                    Some(Inbound::Alive) => {}
                    Some(frame) => session.answer(frame, &mut out),
                    None => return Ended::ClientLeft,
                }
            }
            () = sleep_until(next_ping.unwrap_or(heard)), if next_ping.is_some() => {
                let k = keepalive.expect("a keepalive");
                if heard.elapsed() >= k.every * k.misses {
                    return Ended::Unresponsive;
                }
                if !delivery.ping().await {
                    return Ended::Undeliverable;
                }
                pinged = Instant::now();
            },
            () = async {
                session.wait().await;
                wait_until(next_poll).await;
            }, if !paused && !backlog => poll = true,
            () = wait_until(next_poll), if !paused && backlog => poll = true,
            () = sleep(PAUSE_CHECK), if paused => {}
        }
        // A pause that began while waiting holds back this poll too.
        if poll && !pacing.is_paused() {
            session.poll(&mut out);
            let now = Instant::now();
            // A backlog drains at once unless deliveries are paced.
            next_poll = if session.has_backlog() && pacing.frame.is_zero() {
                now
            } else {
                now + session.batch().max(pacing.frame)
            };
        }
        if !out.is_empty() && !delivery.deliver(&mut out).await {
            return Ended::Undeliverable;
        }
        if session.finished() {
            return Ended::Finished;
        }
    }
}

/// Waits until `deadline`; at once if it has passed. (A timer set for a
/// time already past still waits for the timer wheel's next tick, up to a
/// millisecond: on every delivery, that would be most of its latency.)
async fn wait_until(deadline: Instant) {
    if deadline > Instant::now() {
        sleep_until(deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use parking_lot::Mutex;
    use tokio::sync::mpsc;

    use super::*;
    use crate::{
        gateway::{GatewayState, Outgoing, Session},
        model::{EncodedTick, Symbol, Tick},
    };

    /// A gateway over a fresh log and store, with AAPL known.
    fn state(dir: &std::path::Path) -> Arc<GatewayState> {
        GatewayState::scratch(dir).unwrap()
    }

    /// Collects every delivered frame as text.
    #[derive(Clone, Default)]
    struct Collected(Arc<Mutex<Vec<String>>>);

    impl Deliver<Outgoing> for Collected {
        async fn deliver(&mut self, frames: &mut Vec<Outgoing>) -> bool {
            self.0.lock().extend(frames.drain(..).map(|f| f.text));
            true
        }
    }

    impl Collected {
        /// Waits (up to 5 s) until a delivered frame contains `needle`.
        async fn until(&self, needle: &str) -> String {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if let Some(frame) = self.0.lock().iter().find(|f| f.contains(needle)) {
                    return frame.clone();
                }
                assert!(
                    Instant::now() < deadline,
                    "no frame with {needle}: {:?}",
                    self.0.lock()
                );
                sleep(Duration::from_millis(5)).await;
            }
        }
    }

    /// Drives a session of `state` on its own task; returns the client's
    /// sender, what was delivered, and the driver's outcome.
    fn start(
        state: &Arc<GatewayState>,
        pacing: Pacing,
        token: &CancellationToken,
    ) -> (
        mpsc::Sender<Inbound>,
        Collected,
        tokio::task::JoinHandle<Ended>,
    ) {
        let (tx, rx) = mpsc::channel(8);
        let inbound = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|frame| (frame, rx))
        });
        let collected = Collected::default();
        let (session, mut delivery, token) =
            (Session::new(state), collected.clone(), token.clone());
        let task = tokio::spawn(async move {
            drive(session, Box::pin(inbound), &mut delivery, &pacing, &token).await
        });
        (tx, collected, task)
    }

    fn append_tick(state: &GatewayState, price: f64) {
        let tick = Tick::trade(Symbol::new("AAPL").unwrap(), price, 10, chrono::Utc::now());
        state
            .market
            .log
            .ticks
            .append(Arc::new(EncodedTick::new(tick)));
    }

    #[tokio::test]
    async fn answers_text_and_binary_frames_and_ends_when_the_client_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path());
        let token = CancellationToken::new();
        let (tx, collected, task) = start(&state, Pacing::default(), &token);
        tx.send(Inbound::Text(r#"{"op":"ping"}"#.into()))
            .await
            .unwrap();
        collected.until(r#""type":"pong""#).await;
        tx.send(Inbound::Binary(vec![1])).await.unwrap();
        collected.until("binary_not_supported").await;
        tx.send(Inbound::Text("not json".into())).await.unwrap();
        collected.until(r#""type":"error""#).await;
        drop(tx);
        assert_eq!(task.await.unwrap(), Ended::ClientLeft);
    }

    #[tokio::test]
    async fn delivers_subscribed_ticks_until_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path());
        let token = CancellationToken::new();
        let (tx, collected, task) = start(&state, Pacing::default(), &token);
        tx.send(Inbound::Text(
            r#"{"op":"subscribe","symbols":["AAPL"]}"#.into(),
        ))
        .await
        .unwrap();
        collected.until(r#""type":"subscribed""#).await;
        append_tick(&state, 187.25);
        collected.until("187.25").await;
        token.cancel();
        assert_eq!(task.await.unwrap(), Ended::Cancelled);
    }

    #[tokio::test]
    async fn a_paused_stream_delivers_nothing_until_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path());
        let token = CancellationToken::new();
        let paused = Arc::new(AtomicBool::new(false));
        let pacing = Pacing {
            frame: Duration::from_millis(16),
            paused: Some(paused.clone()),
            keepalive: None,
        };
        let (tx, collected, task) = start(&state, pacing, &token);
        tx.send(Inbound::Text(
            r#"{"op":"subscribe","symbols":["AAPL"]}"#.into(),
        ))
        .await
        .unwrap();
        collected.until(r#""type":"subscribed""#).await;
        paused.store(true, Ordering::Relaxed);
        append_tick(&state, 190.5);
        // The client's own frames are still answered while paused.
        tx.send(Inbound::Text(r#"{"op":"ping"}"#.into()))
            .await
            .unwrap();
        collected.until(r#""type":"pong""#).await;
        assert!(!collected.0.lock().iter().any(|f| f.contains("190.5")));
        paused.store(false, Ordering::Relaxed);
        collected.until("190.5").await;
        token.cancel();
        assert_eq!(task.await.unwrap(), Ended::Cancelled);
    }
}
