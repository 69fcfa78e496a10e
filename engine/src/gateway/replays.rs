//! Replays over REST (`/api/v1/replays`: open, list, read, steer, delete)
//! and over the stream (`/ws?replay={id}`: the native protocol on the
//! replay's log, [`ReplayStream`]). Opening, steering and deleting need
//! the `write` scope; each refusal names the field.

use std::{collections::HashSet, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use parking_lot::RwLock;
use tokio::sync::watch;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    GatewayState, Market,
    driver::{Inbound, Protocol},
    rest::ApiError,
    session::{Outgoing, Session},
};
use crate::{
    analytics::Quotes,
    metrics::Metrics,
    model::{ErrorBody, ErrorCode, NewReplay, ReplayCommand, ReplayStatus},
    replay::{Generation, Replay, ReplayError, StreamPosition},
};

/// The routes, with their operations.
pub fn routes() -> OpenApiRouter<Arc<GatewayState>> {
    OpenApiRouter::new()
        .routes(routes!(list, open))
        .routes(routes!(read, delete))
        .routes(routes!(control))
}

impl From<ReplayError> for ApiError {
    fn from(error: ReplayError) -> Self {
        let (status, code) = match &error {
            ReplayError::Invalid { .. } => (StatusCode::BAD_REQUEST, ErrorCode::InvalidReplay),
            ReplayError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ReplayError::Conflict(_) | ReplayError::Stopped(_) => {
                (StatusCode::CONFLICT, ErrorCode::Conflict)
            }
            ReplayError::Store(_) => return ApiError::internal(error),
        };
        ApiError::new(status, code, error.to_string())
    }
}

/// The replay an `id` path segment names.
pub(super) fn replay_of(state: &GatewayState, id: &str) -> Result<Arc<Replay>, ApiError> {
    let id = id.parse().map_err(|_| {
        ApiError::bad(
            ErrorCode::InvalidParameter,
            format!("replay: {id:?} is not a replay id"),
        )
    })?;
    Ok(state.replays.get(id)?)
}

#[utoipa::path(get, path = "/api/v1/replays", summary = "Every open replay", tag = "replay",
    responses((status = 200, description = "Every open replay's status, by id", body = Vec<ReplayStatus>)))]
async fn list(State(state): State<Arc<GatewayState>>) -> Json<Vec<ReplayStatus>> {
    Json(state.replays.list())
}

#[utoipa::path(post, path = "/api/v1/replays", summary = "Opens a replay of stored ticks", tag = "replay",
    description = "Plays the stored ticks of `[from, to)` at `speed` as a stream of its own: subscribe at `/ws?replay={id}` as to the live stream. Create it `paused`, subscribe, then `play` to miss nothing.",
    request_body(content = NewReplay, description = "The range, speed and symbols"),
    responses(
        (status = 201, description = "The replay, playing or paused", body = ReplayStatus),
        (status = 400, description = "The request is invalid; the message names the field", body = ErrorBody),
        (status = 409, description = "As many replays as allowed are open", body = ErrorBody),
    ))]
async fn open(State(state): State<Arc<GatewayState>>, body: Bytes) -> Result<Response, ApiError> {
    let status = open_replay(&state, &body).await?;
    Ok((StatusCode::CREATED, Json(status)).into_response())
}

/// Opens the replay a JSON `body` asks for: what `POST /api/v1/replays`
/// does.
pub(super) async fn open_replay(
    state: &GatewayState,
    body: &[u8],
) -> Result<ReplayStatus, ApiError> {
    let request: NewReplay = ApiError::parse_body(body, ErrorCode::InvalidReplay, "replay")?;
    let unknown: Vec<String> = request
        .symbols
        .iter()
        .filter(|s| !state.market.is_known(s))
        .map(ToString::to_string)
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::not_found(
            ErrorCode::UnknownSymbol,
            format!("symbols: unknown {}", unknown.join(", ")),
        ));
    }
    let replay = state.replays.create(request, chrono::Utc::now()).await?;
    Ok(replay.status())
}

#[utoipa::path(get, path = "/api/v1/replays/{id}", summary = "A replay", tag = "replay",
    params(("id" = u64, Path, description = "The replay's id")),
    responses(
        (status = 200, description = "The replay's status", body = ReplayStatus),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such replay", body = ErrorBody),
    ))]
async fn read(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<Json<ReplayStatus>, ApiError> {
    Ok(Json(replay_of(&state, &id)?.status()))
}

#[utoipa::path(post, path = "/api/v1/replays/{id}/control", summary = "Steers a replay", tag = "replay",
    description = "`play`, `pause`, `seek` (`to`), `step` (`ticks`) or `speed` (`speed`); answers the status after it. A seek starts the replay's stream afresh: its streams get a new `subscribed` frame and a `replay_seeked` event.",
    params(("id" = u64, Path, description = "The replay's id")),
    request_body(content = ReplayCommand, description = "What to do"),
    responses(
        (status = 200, description = "The replay's status after the command", body = ReplayStatus),
        (status = 400, description = "The command is invalid; the message names the field", body = ErrorBody),
        (status = 404, description = "No such replay", body = ErrorBody),
        (status = 409, description = "`play` or `step` on a completed replay (seek first)", body = ErrorBody),
    ))]
async fn control(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ReplayStatus>, ApiError> {
    Ok(Json(control_replay(&state, &id, &body).await?))
}

/// Carries out the command in a JSON `body` on replay `id`: what `POST
/// /api/v1/replays/{id}/control` and GraphQL's `controlReplay` do.
pub(super) async fn control_replay(
    state: &GatewayState,
    id: &str,
    body: &[u8],
) -> Result<ReplayStatus, ApiError> {
    let replay = replay_of(state, id)?;
    let command: ReplayCommand =
        ApiError::parse_body(body, ErrorCode::InvalidReplay, "replay command")?;
    Ok(replay.command(command).await?)
}

#[utoipa::path(delete, path = "/api/v1/replays/{id}", summary = "Deletes a replay", tag = "replay",
    description = "Stops the replay; its streams end.",
    params(("id" = u64, Path, description = "The replay's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such replay", body = ErrorBody),
    ))]
async fn delete(
    State(state): State<Arc<GatewayState>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete_replay(&state, &id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops and forgets replay `id`: what `DELETE /api/v1/replays/{id}` and
/// GraphQL's `deleteReplay` do.
pub(super) fn delete_replay(state: &GatewayState, id: &str) -> Result<(), ApiError> {
    let replay = replay_of(state, id)?;
    Ok(state.replays.remove(replay.id())?)
}

/// The native protocol on a replay's stream: a [`Session`] on the
/// replay's current generation, moved to the next at each seek; its
/// position reported so that a replay at `max` waits for it; ended when
/// the replay is deleted.
pub struct ReplayStream {
    replay: Arc<Replay>,
    generation: watch::Receiver<Arc<Generation>>,
    /// Told of each batch the replay plays (the session's own wake-up is
    /// for its symbols only).
    published: watch::Receiver<u64>,
    number: u64,
    session: Session,
    position: Arc<StreamPosition>,
    template: Arc<Market>,
}

impl ReplayStream {
    /// A client of `replay` with no subscription, bounded like a client of
    /// `live`'s market and counted in `counters`.
    pub fn new(replay: Arc<Replay>, live: &Market, counters: Arc<Metrics>) -> Self {
        let mut generation = replay.generation();
        let current = generation.borrow_and_update().clone();
        let template = Arc::new(market_of(&replay, &current, live));
        Self {
            published: replay.published(),
            position: replay.attach(),
            number: current.number,
            session: Session::of(template.clone(), counters),
            generation,
            replay,
            template,
        }
    }
}

/// The market a replay's generation streams: its log, the replay's
/// symbols, the live market's bounds.
fn market_of(replay: &Replay, generation: &Generation, live: &Market) -> Market {
    Market::new(
        generation.log.clone(),
        Arc::new(RwLock::new(Quotes::new())),
        replay.universe().iter().cloned().collect::<HashSet<_>>(),
        live.limits(),
    )
}

impl Protocol for ReplayStream {
    type Frame = Outgoing;

    fn answer(&mut self, frame: Inbound, out: &mut Vec<Outgoing>) {
        self.session.answer(frame, out);
        self.report_position();
    }

    async fn wait(&mut self) {
        tokio::select! {
            () = self.session.wait() => {}
            changed = self.generation.changed() => {
                if changed.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            changed = self.published.changed() => {
                if changed.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            () = self.replay.stopped().cancelled() => {}
        }
    }

    fn poll(&mut self, out: &mut Vec<Outgoing>) {
        self.published.borrow_and_update();
        let current = self.generation.borrow_and_update().clone();
        if current.number != self.number {
            self.number = current.number;
            let market = Arc::new(market_of(&self.replay, &current, &self.template));
            self.session.rebind(market, out);
        }
        let from = out.len();
        Protocol::poll(&mut self.session, out);
        for frame in &mut out[from..] {
            // A replayed tick is old by design: not a delivery's latency.
            frame.oldest_tick = None;
        }
        self.report_position();
    }

    /// Anything unread: a replay's log may get nothing more (its end), and
    /// the replay waits for its streams to read it all.
    fn has_backlog(&self) -> bool {
        self.session.has_unread()
    }

    fn batch(&self) -> std::time::Duration {
        self.session.batch()
    }

    fn finished(&self) -> bool {
        self.replay.stopped().is_cancelled()
    }
}

impl ReplayStream {
    fn report_position(&self) {
        self.position
            .set(self.number, self.session.tick_positions());
    }
}
