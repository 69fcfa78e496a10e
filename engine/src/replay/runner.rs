//! A replay's runner: its own thread, which plays what falls due, carries
//! out the API's commands between batches, and sends `replay_completed`
//! after the range's last tick.

use std::{
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};

use chrono::DateTime;
use tokio::sync::oneshot;

use super::{
    Command, Generation, Replay, ReplayError, StoreCursor, StoredTick, new_log, pace::Pace,
};
use crate::{
    metrics::Metrics,
    model::{EventKind, EventLevel, MarketEvent, ReplayState, timestamp},
    sim::Speed,
    store::StoreError,
};

/// Most ticks appended at once (a batch ends at a whole timestamp, so it
/// may hold a few more).
const BATCH: usize = 4096;
/// Longest the runner sleeps without looking whether it was stopped.
const IDLE: Duration = Duration::from_millis(250);
/// How often a replay at `max` looks whether its streams caught up.
const CATCH_UP: Duration = Duration::from_millis(1);
/// Longest `replay_completed` waits for the streams to read the last ticks
/// (a stream that stops reading is closed by the gateway sooner).
const FINISH: Duration = Duration::from_secs(30);

type Commanded = (Command, oneshot::Sender<Result<(), ReplayError>>);

struct Runner {
    replay: Arc<Replay>,
    cursor: StoreCursor,
    /// Set while playing.
    pace: Option<Pace>,
    /// When the last tick was played and the streams were waited for.
    finishing_since: Option<Instant>,
    metrics: Arc<Metrics>,
}

/// Starts `replay`'s runner on a thread of its own, reading `cursor` and
/// taking `commands`.
pub(super) fn start(
    replay: Arc<Replay>,
    cursor: StoreCursor,
    commands: mpsc::Receiver<Commanded>,
    metrics: Arc<Metrics>,
) {
    let name = format!("replay-{}", replay.id);
    let mut runner = Runner {
        replay,
        cursor,
        pace: None,
        finishing_since: None,
        metrics,
    };
    if runner.replay.shared.lock().state == ReplayState::Playing {
        runner.play_from_clock();
    }
    let spawned = std::thread::Builder::new()
        .name(name)
        .spawn(move || runner.run(&commands));
    if let Err(error) = spawned {
        tracing::error!(%error, "the replay's thread could not start");
    }
}

impl Runner {
    fn run(&mut self, commands: &mpsc::Receiver<Commanded>) {
        while !self.replay.stopped.is_cancelled() {
            let wait = match self.play_due() {
                Ok(wait) => wait,
                Err(error) => {
                    self.fail(&error);
                    IDLE
                }
            };
            match commands.recv_timeout(wait) {
                Ok((command, answer)) => {
                    let result = self.apply(command);
                    if let Err(ReplayError::Store(error)) = &result {
                        self.fail(error);
                    }
                    let _ = answer.send(result);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn state(&self) -> ReplayState {
        self.replay.shared.lock().state
    }

    /// Plays every tick due by now, a batch at a time; returns how long
    /// until the next falls due.
    fn play_due(&mut self) -> Result<Duration, StoreError> {
        let Some(pace) = self.pace.filter(|_| self.state() == ReplayState::Playing) else {
            return Ok(IDLE);
        };
        let generation = self.replay.generation.borrow().clone();
        if pace.speed() == Speed::Max
            && self
                .replay
                .streams_behind(&generation, super::RETENTION.max_records as u64 / 2)
        {
            return Ok(CATCH_UP);
        }
        let now = Instant::now();
        let due = pace.market_at(now);
        let batch = self.take(BATCH, Some(due))?;
        let full = batch.len() >= BATCH;
        if !batch.is_empty() {
            // At max, or with a batch cut short, the clock is the last tick's.
            let clock = match batch.last() {
                Some(last) if full || pace.speed() == Speed::Max => last.micros,
                _ => due,
            };
            self.publish(&generation, batch, clock);
            return Ok(Duration::ZERO);
        }
        match self.cursor.peek()? {
            None if self.streams_reading(&generation) => Ok(CATCH_UP),
            None => {
                self.complete(&generation);
                Ok(IDLE)
            }
            Some(next) => {
                self.advance_clock(due);
                Ok(pace.until(next, now).min(IDLE))
            }
        }
    }

    /// Whether a stream still reads the last ticks, so `replay_completed`
    /// would reach it before them (waited for up to [`FINISH`]).
    fn streams_reading(&mut self, generation: &Generation) -> bool {
        let since = *self.finishing_since.get_or_insert_with(Instant::now);
        since.elapsed() < FINISH && self.replay.streams_behind(generation, 0)
    }

    /// The next `most` ticks (those stamped up to `due`), and after them
    /// any stamped at the same time as the last.
    fn take(&mut self, most: usize, due: Option<i64>) -> Result<Vec<StoredTick>, StoreError> {
        let mut batch = Vec::new();
        let due = due.unwrap_or(i64::MAX);
        while batch.len() < most {
            match self.cursor.next_if(|at| at <= due)? {
                Some(tick) => batch.push(tick),
                None => break,
            }
        }
        if let Some(last) = batch.last().map(|t| t.micros) {
            while let Some(tick) = self.cursor.next_if(|at| at == last)? {
                batch.push(tick);
            }
        }
        Ok(batch)
    }

    /// Appends `batch` to the generation's log and moves the clock to
    /// `clock`, together (see [`Replay::clock_and_positions`]).
    fn publish(&self, generation: &Generation, batch: Vec<StoredTick>, clock: i64) {
        let count = batch.len() as u64;
        let mut shared = self.replay.shared.lock();
        let stale = generation
            .log
            .ticks
            .append_at_batch(batch.into_iter().map(StoredTick::into_record));
        if !stale.is_empty() {
            // Offsets that go back within a partition: ticks stored out of
            // order by more than one producer. They are not played.
            tracing::warn!(
                replay = self.replay.id,
                skipped = stale.len(),
                "ticks stored out of offset order were skipped"
            );
        }
        shared.clock = shared.clock.max(clock);
        shared.ticks += count - stale.len() as u64;
        self.metrics.replay_ticks.inc_by(count - stale.len() as u64);
        self.replay.published.send_modify(|n| *n += 1);
    }

    fn advance_clock(&self, due: i64) {
        let mut shared = self.replay.shared.lock();
        shared.clock = shared
            .clock
            .max(due.min(self.replay.to.timestamp_micros() - 1));
    }

    /// Sends `replay_completed`; the replay waits, completed.
    fn complete(&mut self, generation: &Generation) {
        self.stop_playing();
        self.finishing_since = None;
        let end = self.replay.to.timestamp_micros() - 1;
        let mut shared = self.replay.shared.lock();
        shared.state = ReplayState::Completed;
        shared.clock = end;
        let message = format!(
            "replay {} completed: {} ticks from {} to {}",
            self.replay.id,
            shared.ticks,
            timestamp::to_string(&self.replay.from),
            timestamp::to_string(&self.replay.to)
        );
        tracing::info!(
            replay = self.replay.id,
            ticks = shared.ticks,
            played_ms = shared.played.as_millis() as u64,
            "replay completed"
        );
        generation.log.events.append(Arc::new(MarketEvent::new(
            EventKind::ReplayCompleted,
            EventLevel::Info,
            None,
            message,
            DateTime::from_timestamp_micros(end).unwrap_or(self.replay.to),
        )));
    }

    fn fail(&mut self, error: &StoreError) {
        tracing::error!(replay = self.replay.id, %error, "the replay could not read the store");
        self.stop_playing();
        let mut shared = self.replay.shared.lock();
        shared.state = ReplayState::Completed;
        shared.error = Some(error.to_string());
    }

    fn play_from_clock(&mut self) {
        let mut shared = self.replay.shared.lock();
        shared.state = ReplayState::Playing;
        self.pace = Some(Pace::starting(shared.speed, shared.clock));
        shared.playing_since = Some(Instant::now());
    }

    /// Ends a stretch of playing, adding its time to the replay's.
    fn stop_playing(&mut self) {
        self.pace = None;
        let mut shared = self.replay.shared.lock();
        if let Some(since) = shared.playing_since.take() {
            shared.played += since.elapsed();
        }
    }

    fn apply(&mut self, command: Command) -> Result<(), ReplayError> {
        match command {
            Command::Play => {
                if self.state() == ReplayState::Paused {
                    self.play_from_clock();
                }
            }
            Command::Pause => {
                if self.state() == ReplayState::Playing {
                    self.stop_playing();
                    self.replay.shared.lock().state = ReplayState::Paused;
                }
            }
            Command::Speed(speed) => {
                let clock = {
                    let mut shared = self.replay.shared.lock();
                    shared.speed = speed;
                    shared.clock
                };
                if self.pace.is_some() {
                    self.pace = Some(Pace::starting(speed, clock));
                }
            }
            Command::Seek(at) => self.seek(at)?,
            Command::Step(ticks) => {
                let playing = self.state() == ReplayState::Playing;
                if playing {
                    self.stop_playing();
                }
                if self.state() == ReplayState::Completed {
                    return Err(ReplayError::Conflict(format!(
                        "replay {} has completed: seek to step through it again",
                        self.replay.id
                    )));
                }
                let generation = self.replay.generation.borrow().clone();
                let batch = self.take(ticks as usize, None)?;
                match batch.last().map(|t| t.micros) {
                    Some(clock) => {
                        self.publish(&generation, batch, clock);
                        self.replay.shared.lock().state = ReplayState::Paused;
                    }
                    None => self.complete(&generation),
                }
            }
        }
        Ok(())
    }

    /// Moves the clock to just before `at` and starts a new generation
    /// there; a playing replay plays on, a completed one waits paused.
    fn seek(&mut self, at: i64) -> Result<(), ReplayError> {
        self.cursor.seek(at)?;
        self.finishing_since = None;
        let playing = self.state() == ReplayState::Playing;
        self.stop_playing();
        let previous = self.replay.generation.borrow().clone();
        let log = new_log(previous.log.ticks.partition_count());
        let clock = at - 1;
        log.events.append(Arc::new(MarketEvent::new(
            EventKind::ReplaySeeked,
            EventLevel::Info,
            None,
            format!(
                "replay {} sought to {}",
                self.replay.id,
                DateTime::from_timestamp_micros(at)
                    .map_or_else(String::new, |t| timestamp::to_string(&t))
            ),
            DateTime::from_timestamp_micros(clock).unwrap_or(self.replay.from),
        )));
        {
            let mut shared = self.replay.shared.lock();
            shared.clock = clock;
            shared.ticks = 0;
            shared.played = Duration::ZERO;
            shared.error = None;
            shared.state = ReplayState::Paused;
            self.replay.generation.send_replace(Arc::new(Generation {
                number: previous.number + 1,
                log,
            }));
        }
        if playing {
            self.play_from_clock();
        }
        Ok(())
    }
}
