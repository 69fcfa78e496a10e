//! The compatible endpoints: WebSocket streams speaking the public message
//! formats of two real-time stock feeds, so client code written for them
//! runs against Tickstream unchanged. `/compat/polygon/stocks` speaks
//! Polygon's (Massive's) stocks WebSocket, `/compat/alpaca/v2/{feed}`
//! Alpaca's market-data stream.
//!
//! One [`CompatSession`] holds the protocol (in-band authentication, the
//! subscriptions, reading the log, bars); a [`Dialect`] translates between
//! it and one vendor's frames. The socket handling is `/ws`'s.

mod alpaca;
mod bars;
mod polygon;
mod session;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Extension,
    extract::{ConnectInfo, ws::Message},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{GatewayState, driver::Inbound, ws::SocketFrame};
use crate::{
    metrics::Metrics,
    model::{ErrorCode, MarketEvent, Tick, TopOfBook},
};
use bars::Bar;
pub(super) use session::CompatSession;

/// Longest a client may take to authenticate after connecting.
const AUTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Put on a compatible endpoint's request by the guard when the gateway
/// requires API keys: the key the client sends in-band must then be valid
/// and allow reading. Without it (a keyless loopback gateway) any
/// credentials are accepted.
#[derive(Debug, Clone, Copy)]
pub struct KeyRequired;

/// The compatible endpoints' routes.
pub(super) fn routes() -> OpenApiRouter<Arc<GatewayState>> {
    OpenApiRouter::new()
        .routes(routes!(polygon::upgrade))
        .routes(routes!(alpaca::upgrade))
}

/// A data channel a client can subscribe to, in either dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Channel {
    /// Every trade.
    Trades,
    /// Best bid and offer changes.
    Quotes,
    /// One-second bars.
    SecondBars,
    /// One-minute bars.
    MinuteBars,
    /// The day's bar so far, after each minute.
    DailyBars,
    /// Corrected minute bars (the simulator never corrects one).
    UpdatedBars,
    /// Halts and resumptions.
    Statuses,
    /// Limit-up/limit-down bands.
    Lulds,
    /// Auction imbalances.
    Imbalances,
    /// Trade corrections (the simulator never corrects one).
    Corrections,
    /// Trade cancels (the simulator never cancels one).
    CancelErrors,
}

impl Channel {
    /// Whether the channel is made from trades.
    fn reads_trades(self) -> bool {
        matches!(
            self,
            Self::Trades | Self::SecondBars | Self::MinuteBars | Self::DailyBars
        )
    }

    /// Whether the channel is made from market events.
    fn reads_events(self) -> bool {
        matches!(self, Self::Statuses | Self::Lulds | Self::Imbalances)
    }
}

/// A client's request, in either dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Request {
    /// Authenticate with these credentials (the API key is one of them).
    Auth(Vec<String>),
    /// Add subscriptions: symbols (`"*"`: all) by channel.
    Subscribe(Vec<(Channel, String)>),
    /// Remove subscriptions.
    Unsubscribe(Vec<(Channel, String)>),
}

/// A client frame a dialect could not read: what to tell the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unreadable {
    pub code: ErrorCode,
    pub message: String,
}

/// What the session tells a client, in either dialect.
#[derive(Debug, Clone)]
pub(super) enum Reply {
    /// The connection is open: authenticate next.
    Connected,
    /// The credentials were accepted.
    Authenticated,
    /// A refusal: its code (counted), and the reason.
    Refused(ErrorCode, String),
    /// The credentials were refused (the connection closes).
    AuthFailed(String),
    /// No credentials came in time (the connection closes).
    AuthTimeout,
    /// The API key was revoked or expired (the connection closes).
    KeyEnded,
    /// The subscriptions now in force, after the request that changed them.
    Subscribed {
        /// What the request asked.
        changed: Vec<(Channel, String)>,
        /// Every subscription now.
        now: Vec<(Channel, Vec<String>)>,
        /// Whether they were added (or removed).
        added: bool,
    },
    /// A trade, with its place in the log.
    Trade {
        /// The trade.
        tick: Tick,
        /// Its ID: unique in the stream, increasing in its partition.
        id: u64,
    },
    /// A quote change.
    Quote(TopOfBook),
    /// A closed bar.
    Bar(Bar),
    /// The day so far of a symbol, after a minute closed.
    DailyBar(crate::model::Quote),
    /// A halt, a resumption, a band or an imbalance.
    Event(MarketEvent),
}

impl Reply {
    /// The error code of a refusal, for `tickstream_ws_errors_total`.
    fn refusal(&self) -> Option<ErrorCode> {
        match self {
            Self::Refused(code, _) => Some(*code),
            Self::AuthFailed(_) | Self::KeyEnded | Self::AuthTimeout => {
                Some(ErrorCode::Unauthorized)
            }
            _ => None,
        }
    }
}

/// One vendor's frames.
pub(super) trait Dialect: Send + 'static {
    /// Reads a client frame (text or binary).
    fn read(&self, frame: &Inbound) -> Result<Request, Unreadable>;

    /// Writes replies as one frame; `None` when none of them is in the
    /// vendor's format (nothing to send).
    fn write(&self, replies: &[Reply]) -> Option<Message>;
}

/// A frame for a compatible endpoint's client: its message, and what it
/// counts.
pub struct CompatFrame {
    message: Message,
    refusals: Vec<ErrorCode>,
}

impl SocketFrame for CompatFrame {
    fn into_message(self, metrics: &Metrics) -> Message {
        for code in self.refusals {
            metrics.ws_errors.with_label_values(&[&code.name()]).inc();
        }
        self.message
    }
}

/// Serves one compatible endpoint's client: `dialect` over the socket, the
/// key checked in-band when the guard says one is required.
async fn serve(
    socket: axum::extract::ws::WebSocket,
    state: Arc<GatewayState>,
    dialect: impl Dialect,
    key_required: Option<Extension<KeyRequired>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    action: &'static str,
) {
    let session = CompatSession::new(
        state.clone(),
        dialect,
        key_required.is_some(),
        session::Client {
            address: peer.map_or_else(|| "unknown".to_owned(), |c| c.0.0.to_string()),
            action,
        },
    );
    super::ws::serve(socket, &state, None, session).await;
}
