//! Tickstream's engine: everything between a source of market data and the
//! people and programs that watch it.
//!
//! # Layout
//!
//! The modules read as the data flow, sources to sinks:
//!
//! - [`model`]: the wire types (ticks, events, metrics, candles, the WebSocket
//!   protocol). The only types that cross a process boundary.
//! - [`sim`]: the market simulator, a source of ticks.
//! - [`kafka`]: the Kafka producer and source (the distributed log).
//! - [`log`]: the in-process partitioned log (the local broker): topics,
//!   partitions, offsets, retention, replay.
//! - [`analytics`]: candles, indicators and last prices, computed from the log.
//! - [`alerts`]: alert rules evaluated on the tick stream.
//! - [`workspace`]: watchlists and portfolios users keep, valued at the
//!   latest quotes.
//! - [`trading`]: paper trading: accounts, orders matched against the
//!   simulated book, fills, positions and profit.
//! - [`auth`]: API keys and their scopes.
//! - [`audit`]: the audit log of changes, refusals and key changes.
//! - [`store`]: SQLite persistence of ticks and closed candles.
//! - [`backfill`]: simulated history written to the store at start.
//! - [`gateway`]: HTTP: WebSocket streaming, REST, metrics, health, the UI.
//! - [`tls`]: the TLS provider and what clients trust.
//! - [`metrics`]: the Prometheus registry every component reports into.
//! - [`component`]: the component model: the context every running part
//!   is built from, and the one place its tasks are supervised.
//! - [`breaker`]: circuit breakers around the store and Kafka.
//! - [`config`]: one typed, validated configuration.
//! - [`engine`]: wires the components for a deployment mode and shuts them
//!   down in order.
//! - [`client`]: what `tickstreamd`'s client subcommands do: `tail`,
//!   `simulate`, `scenario`.

#![warn(missing_docs)]

/// This engine's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod alerts;
pub mod analytics;
pub mod audit;
pub mod auth;
pub mod backfill;
pub mod breaker;
pub mod client;
pub mod component;
pub mod config;
pub mod engine;
pub mod gateway;
pub mod kafka;
pub mod log;
pub mod metrics;
pub mod model;
pub mod replay;
pub mod sim;
pub mod store;
pub mod tls;
pub mod trading;
pub mod workspace;
