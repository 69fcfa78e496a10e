//! Replay: a stored range of ticks played back at a chosen speed as a
//! stream of its own, which clients subscribe to as they do to the live
//! one, steered while it plays (play, pause, seek, step, speed).
//!
//! `Replays` holds the open replays (at most [`MAX_REPLAYS`]). Each
//! `Replay` has a runner thread (`runner.rs`) that reads the range from
//! the store in log order (`StoreCursor`), paces it (`Pace`) and appends
//! it to the replay's own [`Log`] at the stored partitions and offsets, so
//! a replayed tick reads exactly as the stored one. A seek starts a new
//! [`Generation`]: a fresh log, which the replay's streams move to. At
//! `max` the runner waits for the slowest of the replay's streams instead
//! of letting it fall behind the log's retention.

mod cursor;
mod pace;
mod runner;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

pub use cursor::{StoreCursor, StoredTick};

use crate::{
    log::{Log, LogSettings, Retention},
    metrics::Metrics,
    model::{NewReplay, ReplayAction, ReplayCommand, ReplayState, ReplayStatus, Symbol, timestamp},
    sim::Speed,
    store::StoreError,
};

/// Most replays open at once.
pub const MAX_REPLAYS: usize = 8;
/// Most symbols one replay may be limited to.
pub const MAX_SYMBOLS: usize = 64;
/// Most ticks one `step` plays.
pub const MAX_STEP: u32 = 10_000;
/// What a replay's log keeps per partition.
const RETENTION: Retention = Retention {
    max_records: 16_384,
    max_bytes: 4 << 20,
};
/// A replay nobody streams, steers or reads for this long is deleted (when
/// the next replay is opened or the list is read).
pub const IDLE_LIMIT: Duration = Duration::from_secs(30 * 60);
/// How long a command waits for the runner's answer.
const ANSWER: Duration = Duration::from_secs(10);

/// Why a replay, or a command to one, was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A field holds a value it cannot take.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// No replay has this id.
    #[error("no replay {0} (GET /api/v1/replays lists them)")]
    NotFound(u64),
    /// The command does not fit the replay's state, or there are too many.
    #[error("{0}")]
    Conflict(String),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The replay stopped while the command waited.
    #[error("replay {0} stopped")]
    Stopped(u64),
}

fn invalid(field: &'static str, message: impl Into<String>) -> ReplayError {
    ReplayError::Invalid {
        field,
        message: message.into(),
    }
}

/// One stretch of a replay's stream: from its start or a seek to the next
/// seek.
pub struct Generation {
    /// 0 at the start, one more at each seek.
    pub number: u64,
    /// What the replay appends to and its streams read.
    pub log: Arc<Log>,
}

/// Where one of a replay's streams has read to, so that at `max` the
/// replay waits for it.
#[derive(Default)]
pub struct StreamPosition {
    /// The generation read, and the next offset of each tick partition
    /// read (`None`: partitions it does not read).
    read: Mutex<Option<(u64, Vec<Option<u64>>)>>,
}

impl StreamPosition {
    /// Records that the stream reads `generation` and is at `positions`
    /// (`None`: it reads no ticks).
    pub fn set(&self, generation: u64, positions: Option<Vec<Option<u64>>>) {
        *self.read.lock() = positions.map(|p| (generation, p));
    }
}

/// What a replay is doing, shared by its runner and the API.
struct Shared {
    state: ReplayState,
    speed: Speed,
    clock: i64,
    ticks: u64,
    /// Time spent playing, but for the current stretch (since
    /// `playing_since`).
    played: Duration,
    playing_since: Option<std::time::Instant>,
    error: Option<String>,
}

/// One replay: its range, its state, its current generation and its
/// runner.
pub struct Replay {
    id: u64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    symbols: Vec<Symbol>,
    /// Every symbol it can play (for the streams' subscriptions).
    universe: Vec<Symbol>,
    shared: Mutex<Shared>,
    generation: watch::Sender<Arc<Generation>>,
    /// Counts the batches played: every stream polls after each, so the
    /// positions it reports move past what it does not subscribe to.
    published: watch::Sender<u64>,
    commands: std::sync::mpsc::Sender<(Command, oneshot::Sender<Result<(), ReplayError>>)>,
    streams: Mutex<Vec<Weak<StreamPosition>>>,
    /// When it was last steered, read or streamed from.
    touched: Mutex<Instant>,
    /// Cancelled when the replay is deleted or the gateway stops.
    stopped: CancellationToken,
}

impl Replay {
    /// Its id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The symbols it can play.
    pub fn universe(&self) -> &[Symbol] {
        &self.universe
    }

    /// The stream as it is now, and a receiver told of each seek.
    pub fn generation(&self) -> watch::Receiver<Arc<Generation>> {
        self.generation.subscribe()
    }

    /// A receiver told of each batch played.
    pub fn published(&self) -> watch::Receiver<u64> {
        self.published.subscribe()
    }

    /// Cancelled once the replay is deleted: its streams end.
    pub fn stopped(&self) -> &CancellationToken {
        &self.stopped
    }

    /// A new stream of this replay, whose position the replay waits for
    /// at `max`.
    pub fn attach(&self) -> Arc<StreamPosition> {
        self.touch();
        let position = Arc::new(StreamPosition::default());
        let mut streams = self.streams.lock();
        streams.retain(|s| s.strong_count() > 0);
        streams.push(Arc::downgrade(&position));
        position
    }

    /// The clock (Unix microseconds) and the next offset of each tick
    /// partition of the current generation, read together: the stream
    /// holds exactly the ticks stamped up to the clock.
    pub fn clock_and_positions(&self) -> (i64, Vec<u64>) {
        let shared = self.shared.lock();
        let log = self.generation.borrow().log.clone();
        let positions = (0..log.ticks.partition_count())
            .map(|p| log.ticks.latest(p))
            .collect();
        (shared.clock, positions)
    }

    fn touch(&self) {
        *self.touched.lock() = Instant::now();
    }

    /// Whether, at `now`, nobody has streamed, steered or read it for
    /// [`IDLE_LIMIT`].
    fn idle(&self, now: Instant) -> bool {
        let mut streams = self.streams.lock();
        streams.retain(|s| s.strong_count() > 0);
        streams.is_empty() && now.saturating_duration_since(*self.touched.lock()) >= IDLE_LIMIT
    }

    /// Its status.
    pub fn status(&self) -> ReplayStatus {
        self.touch();
        let shared = self.shared.lock();
        ReplayStatus {
            id: self.id,
            from: self.from,
            to: self.to,
            speed: speed_text(shared.speed),
            symbols: self.symbols.clone(),
            state: shared.state,
            clock: DateTime::from_timestamp_micros(shared.clock).unwrap_or(self.from),
            ticks: shared.ticks,
            played_ms: (shared.played
                + shared.playing_since.map_or(Duration::ZERO, |s| s.elapsed()))
            .as_millis() as u64,
            generation: self.generation.borrow().number,
            error: shared.error.clone(),
        }
    }

    /// Checks `command` and has the runner carry it out; returns the
    /// status after it.
    ///
    /// # Errors
    /// [`ReplayError::Invalid`] naming the field, [`ReplayError::Conflict`]
    /// for a command the state does not allow.
    pub async fn command(&self, command: ReplayCommand) -> Result<ReplayStatus, ReplayError> {
        self.touch();
        let command = self.check(command)?;
        let (answer, answered) = oneshot::channel();
        self.commands
            .send((command, answer))
            .map_err(|_| ReplayError::Stopped(self.id))?;
        match tokio::time::timeout(ANSWER, answered).await {
            Ok(Ok(result)) => result.map(|()| self.status()),
            _ => Err(ReplayError::Stopped(self.id)),
        }
    }

    /// The command as the runner takes it, its fields checked.
    fn check(&self, command: ReplayCommand) -> Result<Command, ReplayError> {
        let ReplayCommand {
            action,
            to,
            ticks,
            speed,
        } = command;
        let takes = |field: &'static str, given: bool, wanted: ReplayAction| {
            if given && action != wanted {
                Err(invalid(
                    field,
                    format!("only {} takes {field}", action_name(wanted)),
                ))
            } else {
                Ok(())
            }
        };
        takes("to", to.is_some(), ReplayAction::Seek)?;
        takes("ticks", ticks.is_some(), ReplayAction::Step)?;
        takes("speed", speed.is_some(), ReplayAction::Speed)?;
        Ok(match action {
            ReplayAction::Play => {
                if self.shared.lock().state == ReplayState::Completed {
                    return Err(ReplayError::Conflict(format!(
                        "replay {} has completed: seek to play it again",
                        self.id
                    )));
                }
                Command::Play
            }
            ReplayAction::Pause => Command::Pause,
            ReplayAction::Seek => {
                let to = to.ok_or_else(|| invalid("to", "seek needs the time to go to"))?;
                if to < self.from || to > self.to {
                    return Err(invalid(
                        "to",
                        format!(
                            "seek within the replay's range, {} to {}",
                            timestamp::to_string(&self.from),
                            timestamp::to_string(&self.to)
                        ),
                    ));
                }
                Command::Seek(to.timestamp_micros())
            }
            ReplayAction::Step => {
                let n = ticks.unwrap_or(1);
                if !(1..=MAX_STEP).contains(&n) {
                    return Err(invalid(
                        "ticks",
                        format!("step 1 to {MAX_STEP} ticks, not {n}"),
                    ));
                }
                Command::Step(n)
            }
            ReplayAction::Speed => {
                Command::Speed(parse_speed(speed.as_deref().ok_or_else(|| {
                    invalid("speed", "speed needs the speed, e.g. \"10\" or \"max\"")
                })?)?)
            }
        })
    }

    /// Whether a stream of the current generation has fallen this far
    /// behind its end (a stream still on an older generation is at its
    /// start).
    fn streams_behind(&self, generation: &Generation, most: u64) -> bool {
        let ticks = &generation.log.ticks;
        self.streams
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .any(|stream| match &*stream.read.lock() {
                None => false,
                Some((number, _)) if *number != generation.number => {
                    let held: u64 = (0..ticks.partition_count())
                        .map(|p| ticks.latest(p) - ticks.earliest(p))
                        .sum();
                    held > most
                }
                Some((_, positions)) => positions.iter().enumerate().any(|(p, at)| {
                    at.is_some_and(|at| ticks.latest(p as u32).saturating_sub(at) > most)
                }),
            })
    }
}

/// A checked command, as the runner carries it out.
enum Command {
    Play,
    Pause,
    /// To this time, Unix microseconds.
    Seek(i64),
    /// This many ticks.
    Step(u32),
    Speed(Speed),
}

fn action_name(action: ReplayAction) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A speed as the API writes it: `"10"`, `"0.5"` or `"max"`.
fn speed_text(speed: Speed) -> String {
    match speed {
        Speed::Times(x) => x.to_string(),
        Speed::Max => "max".to_owned(),
    }
}

fn parse_speed(text: &str) -> Result<Speed, ReplayError> {
    text.parse()
        .map_err(|e: crate::sim::SpeedError| invalid("speed", e.to_string()))
}

/// The open replays of one store.
pub struct Replays {
    database: PathBuf,
    /// Partitions of the live tick topic (a replay's log has at least as
    /// many).
    partitions: u32,
    next_id: AtomicU64,
    open: Mutex<BTreeMap<u64, Arc<Replay>>>,
    metrics: Arc<Metrics>,
    token: CancellationToken,
}

impl Replays {
    /// Replays of the store at `database`, whose ticks were logged in
    /// `partitions` partitions; every runner stops with `token`.
    pub fn new(
        database: PathBuf,
        partitions: u32,
        metrics: Arc<Metrics>,
        token: CancellationToken,
    ) -> Self {
        Self {
            database,
            partitions,
            next_id: AtomicU64::new(1),
            open: Mutex::new(BTreeMap::new()),
            metrics,
            token,
        }
    }

    /// Opens a replay of `request` and starts its runner; `now` bounds its
    /// range.
    ///
    /// # Errors
    /// [`ReplayError::Invalid`] naming the field, [`ReplayError::Conflict`]
    /// when [`MAX_REPLAYS`] are open, or the store's error.
    pub async fn create(
        self: &Arc<Self>,
        request: NewReplay,
        now: DateTime<Utc>,
    ) -> Result<Arc<Replay>, ReplayError> {
        let to = request.to.map_or(now, |to| to.min(now));
        if request.from >= to {
            return Err(invalid(
                "from",
                format!(
                    "must be earlier than to ({}) and than now",
                    timestamp::to_string(&to)
                ),
            ));
        }
        let speed = parse_speed(request.speed.as_deref().unwrap_or("1"))?;
        if request.symbols.len() > MAX_SYMBOLS {
            return Err(invalid(
                "symbols",
                format!(
                    "at most {MAX_SYMBOLS} symbols, not {}",
                    request.symbols.len()
                ),
            ));
        }
        self.sweep(Instant::now());
        if self.open.lock().len() >= MAX_REPLAYS {
            return Err(self.too_many());
        }
        let (database, symbols) = (self.database.clone(), request.symbols.clone());
        let (from, until) = (request.from.timestamp_micros(), to.timestamp_micros());
        let cursor = tokio::task::spawn_blocking(move || {
            StoreCursor::open(&database, &symbols, from, until)
        })
        .await
        .map_err(|e| ReplayError::Conflict(format!("the replay could not start: {e}")))??;
        let partitions = cursor.partitions()?.max(self.partitions);
        let mut universe: Vec<Symbol> = cursor.symbols().cloned().collect();
        universe.sort();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (commands, received) = std::sync::mpsc::channel();
        let replay = Arc::new(Replay {
            id,
            from: request.from,
            to,
            symbols: request.symbols,
            universe,
            shared: Mutex::new(Shared {
                state: if request.paused {
                    ReplayState::Paused
                } else {
                    ReplayState::Playing
                },
                speed,
                clock: from - 1,
                ticks: 0,
                played: Duration::ZERO,
                playing_since: None,
                error: None,
            }),
            generation: watch::Sender::new(Arc::new(Generation {
                number: 0,
                log: new_log(partitions),
            })),
            published: watch::Sender::new(0),
            commands,
            streams: Mutex::new(Vec::new()),
            touched: Mutex::new(Instant::now()),
            stopped: self.token.child_token(),
        });
        {
            let mut open = self.open.lock();
            if open.len() >= MAX_REPLAYS {
                return Err(self.too_many());
            }
            open.insert(id, replay.clone());
            self.metrics.replays.set(open.len() as i64);
        }
        runner::start(replay.clone(), cursor, received, self.metrics.clone());
        tracing::info!(id, from = %replay.from, to = %replay.to, speed = %speed, "replay opened");
        Ok(replay)
    }

    fn too_many(&self) -> ReplayError {
        ReplayError::Conflict(format!(
            "at most {MAX_REPLAYS} replays at once: delete one (DELETE /api/v1/replays/{{id}})"
        ))
    }

    /// The replay `id`.
    ///
    /// # Errors
    /// [`ReplayError::NotFound`].
    pub fn get(&self, id: u64) -> Result<Arc<Replay>, ReplayError> {
        self.open
            .lock()
            .get(&id)
            .cloned()
            .ok_or(ReplayError::NotFound(id))
    }

    /// Every open replay's status, by id.
    pub fn list(&self) -> Vec<ReplayStatus> {
        self.sweep(Instant::now());
        let open: Vec<Arc<Replay>> = self.open.lock().values().cloned().collect();
        open.iter().map(|r| r.status()).collect()
    }

    /// Deletes the replays idle at `now` (see [`IDLE_LIMIT`]).
    fn sweep(&self, now: Instant) {
        let idle: Vec<u64> = self
            .open
            .lock()
            .values()
            .filter(|r| r.idle(now))
            .map(|r| r.id)
            .collect();
        for id in idle {
            tracing::info!(id, "an idle replay is deleted");
            let _ = self.remove(id);
        }
    }

    /// Stops and forgets the replay `id`; its streams end.
    ///
    /// # Errors
    /// [`ReplayError::NotFound`].
    pub fn remove(&self, id: u64) -> Result<(), ReplayError> {
        let replay = {
            let mut open = self.open.lock();
            let replay = open.remove(&id).ok_or(ReplayError::NotFound(id))?;
            self.metrics.replays.set(open.len() as i64);
            replay
        };
        replay.stopped.cancel();
        tracing::info!(id, "replay deleted");
        Ok(())
    }
}

/// A replay's log: the tick partitions of the store, one event partition.
fn new_log(partitions: u32) -> Arc<Log> {
    Arc::new(Log::new(
        &LogSettings {
            topic_prefix: String::new(),
            partitions,
            retention: RETENTION,
        },
        &[],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_replay_nobody_uses_for_half_an_hour_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("t.db");
        Store::open(&database).unwrap();
        let replays = Arc::new(Replays::new(
            database,
            2,
            Arc::new(Metrics::new()),
            CancellationToken::new(),
        ));
        let now = Utc::now();
        let request = NewReplay {
            from: now - chrono::Duration::hours(1),
            to: None,
            speed: None,
            symbols: Vec::new(),
            paused: true,
        };
        let idle = replays.create(request.clone(), now).await.unwrap();
        let streamed = replays.create(request, now).await.unwrap();
        let stream = streamed.attach();
        let later = Instant::now() + IDLE_LIMIT;
        replays.sweep(later - Duration::from_secs(60));
        assert_eq!(replays.open.lock().len(), 2, "not idle for long enough yet");
        replays.sweep(later);
        assert!(idle.stopped().is_cancelled(), "deleted: its streams end");
        assert!(replays.get(idle.id()).is_err());
        assert!(
            replays.get(streamed.id()).is_ok(),
            "a replay with a stream stays"
        );
        drop(stream);
        replays.sweep(later);
        assert!(
            replays.open.lock().is_empty(),
            "idle once its stream is gone"
        );
    }
}
