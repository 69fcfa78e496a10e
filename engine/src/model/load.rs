//! What `tickstreamd load` reports: the load it put on a gateway and what
//! the gateway delivered (printed as JSON, read by the benchmarks).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One run of the load generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LoadReport {
    /// Clients asked for.
    pub clients: u64,
    /// Clients connected and subscribed.
    pub connected: u64,
    /// Clients that could not connect or subscribe.
    pub connect_failures: u64,
    /// Why the first of them could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub first_connect_failure: Option<String>,
    /// Seconds it took to connect them all.
    pub connect_seconds: f64,
    /// Clients the gateway closed during the run.
    pub closed_by_server: u64,
    /// Seconds measured.
    pub seconds: f64,
    /// Ticks stamped within the measured seconds that the full-speed
    /// clients received (during them or up to two seconds after).
    pub ticks: u64,
    /// Ticks per second received, over all clients.
    pub ticks_per_second: f64,
    /// Frames per second received, over all clients.
    pub frames_per_second: f64,
    /// Received over expected: the ticks of each connected full-speed
    /// client's symbols that an observer subscribed to everything saw in
    /// the same time.
    pub delivered_fraction: f64,
    /// `gap` frames received.
    pub gaps: u64,
    /// Ticks the gateway passed over for conflating clients (`conflated`).
    pub conflated: u64,
    /// Age of each measured tick when a client read it (its timestamp to
    /// then); meaningful when the simulator runs in real time (speed 1).
    pub latency_ms: Latency,
    /// The gateway process, from its `/metrics` (absent when unreadable).
    pub daemon: Option<DaemonUsage>,
}

/// A latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

/// What the gateway's process used, from its `process_*` metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DaemonUsage {
    /// CPU cores used while measured (user + system seconds per second;
    /// `process_cpu_seconds_total` counts whole seconds, so measure for
    /// tens of seconds).
    pub cpu_cores: f64,
    /// The gateway's own latency while measured (`tickstream_delivery_latency_seconds`:
    /// a frame's oldest tick when it is written): the bound of the bucket
    /// holding the median, in ms, without the clients' share.
    pub write_latency_ms_p50_at_most: Option<f64>,
    /// The same for the 99th percentile.
    pub write_latency_ms_p99_at_most: Option<f64>,
    /// Resident memory before the clients connected, MiB.
    pub rss_mib_before: f64,
    /// Resident memory once they all connected and subscribed, MiB.
    pub rss_mib_connected: f64,
    /// Resident memory at the end, MiB.
    pub rss_mib_end: f64,
    /// Resident memory the connected clients added, per client, KiB.
    pub rss_kib_per_client: f64,
}
