//! The daemon's clients and offline tools, behind `tickstreamd`'s
//! subcommands: `tail` (a gateway's or a cluster's live ticks in the
//! terminal), `simulate` (whole trading days written to a file),
//! `scenario` (a market scenario posted to a running simulator), `keys`
//! (API keys, offline or through a daemon), `replay` (a stored range
//! played back and printed) and `load` (thousands of WebSocket clients
//! against a gateway, measured).

mod http;
mod keys;
pub mod load;
mod replay;
mod scenario;
mod simulate;
mod socket;
pub mod tail;

pub use http::Daemon;
pub use keys::{KeysAction, KeysAnswer, KeysAt, keys};
pub use replay::{Played, ReplayOptions, replay};
pub use scenario::scenario;
pub use simulate::{SimulateOptions, simulate};

use std::path::PathBuf;

use crate::{config::ConfigError, sim::SessionError};

/// Why a client command failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The configuration file was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `--symbols` named symbols the universe does not have.
    #[error("--symbols: unknown {unknown} (known: {known})")]
    UnknownSymbols {
        /// The unknown ones, comma-separated.
        unknown: String,
        /// The universe's, comma-separated.
        known: String,
    },
    /// An output file could not be created.
    #[error("cannot create {path}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The simulation could not be written.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The scenario's words do not make a scenario.
    #[error(transparent)]
    Scenario(#[from] crate::sim::ScenarioError),
    /// The daemon could not be reached, or answered without JSON.
    #[error("{what}")]
    Http {
        /// What was tried.
        what: String,
        /// Why it failed.
        source: reqwest::Error,
    },
    /// The daemon answered something other than JSON.
    #[error("{url} answered {status} without JSON")]
    NotJson {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: reqwest::StatusCode,
    },
    /// The daemon refused the request.
    #[error("{url} refused the request ({status}): {message}")]
    Refused {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: reqwest::StatusCode,
        /// The daemon's message.
        message: String,
    },
    /// TLS could not be set up, or a key would go in the clear.
    #[error(transparent)]
    Tls(#[from] crate::tls::ClientTlsError),
    /// The keys could not be changed or read.
    #[error("keys: {0}")]
    Keys(String),
    /// A stream could not be opened or read.
    #[error("stream: {0}")]
    Stream(String),
    /// Writing the output failed.
    #[error("output")]
    Output(#[source] std::io::Error),
}

/// An error and its causes, as `what: why: because` (an HTTP client's own
/// message often leaves out why: refused, unknown host, untrusted
/// certificate).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
