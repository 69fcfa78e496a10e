//! `[gateway]`: where the gateway listens, who may reach it from where,
//! what it serves over TLS, and what one client, and all of them, may take.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

use super::validate::Problems;

/// `[gateway]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest client frame accepted, in bytes; larger ones get an error frame.
    pub max_frame_bytes: usize,
    /// Most symbols one WebSocket client may subscribe to.
    pub max_symbols_per_client: usize,
    /// Directory of the built dashboard; found automatically when unset.
    pub ui_dir: Option<PathBuf>,
    /// Origins (`https://dash.example.com`) whose browser pages may call
    /// the API and open `/ws`, besides the gateway's own; also the CORS
    /// allow-list. A list, or comma-separated.
    #[serde(deserialize_with = "deserialize_list")]
    pub allowed_origins: Vec<String>,
    /// Host names clients reach the gateway by (the `Host` header), besides
    /// the loopback names; others are refused (DNS rebinding). Unset on a
    /// non-loopback listen: any host. A list, or comma-separated.
    #[serde(deserialize_with = "deserialize_list")]
    pub public_hosts: Vec<String>,
    /// Serve a non-loopback address without API keys. Insecure: anyone
    /// who reaches the port can read and change everything.
    pub insecure_no_auth: bool,
    /// PEM certificate chain: serve HTTPS and WSS (with `tls_key`). Reloaded
    /// when the file changes or on SIGHUP.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Most WebSocket streams open at once.
    pub max_connections: usize,
    /// Most WebSocket streams open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// Requests per second one client (an API key, else an IP address) may
    /// make, on average.
    pub rate_limit: u32,
    /// Requests one client may make at once above `rate_limit`.
    pub rate_burst: u32,
    /// Frames per second one WebSocket client may send (twice that at once).
    pub ws_frame_rate: u32,
    /// Longest a REST request may take before it is answered 408.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// A WebSocket client silent this long is pinged.
    #[serde(with = "humantime_serde")]
    pub ping_interval: Duration,
    /// Pings a silent client may leave unanswered before it is closed.
    pub ping_misses: u32,
    /// Longest a delivery to a WebSocket client may take; one that stops
    /// reading is closed.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_frame_bytes: 16 * 1024,
            max_symbols_per_client: 1_000,
            ui_dir: None,
            allowed_origins: Vec::new(),
            public_hosts: Vec::new(),
            insecure_no_auth: false,
            tls_cert: None,
            tls_key: None,
            max_connections: 10_000,
            max_connections_per_ip: 1_000,
            rate_limit: 100,
            rate_burst: 200,
            ws_frame_rate: 50,
            request_timeout: Duration::from_secs(30),
            ping_interval: Duration::from_secs(20),
            ping_misses: 3,
            write_timeout: Duration::from_secs(10),
        }
    }
}

impl GatewayConfig {
    pub(super) fn validate(&self, p: &mut Problems) {
        p.check(
            (256..=1 << 20).contains(&self.max_frame_bytes),
            "gateway.max_frame_bytes",
            || {
                format!(
                    "must be between 256 and 1048576, got {}",
                    self.max_frame_bytes
                )
            },
        );
        p.check(
            self.max_symbols_per_client >= 1,
            "gateway.max_symbols_per_client",
            || "must be at least 1".into(),
        );
        for origin in &self.allowed_origins {
            p.check(is_origin(origin), "gateway.allowed_origins", || {
                format!("{origin:?} is not an origin like https://dash.example.com or http://localhost:5173")
            });
        }
        for host in &self.public_hosts {
            p.check(is_host_name(host), "gateway.public_hosts", || {
                format!("{host:?} is not a host name like ticks.example.com (no scheme, no port)")
            });
        }
        p.check(self.max_connections >= 1, "gateway.max_connections", || {
            "must be at least 1".into()
        });
        p.check(
            (1..=self.max_connections).contains(&self.max_connections_per_ip),
            "gateway.max_connections_per_ip",
            || "must be between 1 and gateway.max_connections".into(),
        );
        p.check(self.rate_limit >= 1, "gateway.rate_limit", || {
            "must be at least 1 request per second".into()
        });
        p.check(self.rate_burst >= 1, "gateway.rate_burst", || {
            "must be at least 1".into()
        });
        p.check(self.ws_frame_rate >= 1, "gateway.ws_frame_rate", || {
            "must be at least 1 frame per second".into()
        });
        for (key, value) in [
            ("gateway.request_timeout", self.request_timeout),
            ("gateway.ping_interval", self.ping_interval),
            ("gateway.write_timeout", self.write_timeout),
        ] {
            p.check(
                (Duration::from_millis(100)..=Duration::from_secs(3_600)).contains(&value),
                key,
                || format!("must be between 100ms and 1h, got {value:?}"),
            );
        }
        p.check(self.ping_misses >= 1, "gateway.ping_misses", || {
            "must be at least 1".into()
        });
        p.check(
            self.tls_cert.is_some() == self.tls_key.is_some(),
            "gateway.tls_key",
            || "gateway.tls_cert and gateway.tls_key go together".into(),
        );
        for (key, file) in [
            ("gateway.tls_cert", &self.tls_cert),
            ("gateway.tls_key", &self.tls_key),
        ] {
            if let Some(file) = file {
                p.check(file.is_file(), key, || {
                    format!("{} is not a file", file.display())
                });
            }
        }
        if let Some(dir) = &self.ui_dir {
            p.check(dir.join("index.html").is_file(), "gateway.ui_dir", || {
                format!("{} has no index.html", dir.display())
            });
        }
    }
}

/// A list of strings, from a TOML array or one comma-separated string
/// (as an environment variable gives it).
fn deserialize_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::List(list) => list,
        Raw::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// `scheme://host[:port]`, http or https, nothing after.
fn is_origin(text: &str) -> bool {
    let Some((scheme, authority)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@', ' '])
}

/// A DNS name or IP literal, without scheme or port.
fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && (text.parse::<std::net::IpAddr>().is_ok()
            || text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
}
