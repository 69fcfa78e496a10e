//! What one client, and all of them, may take: a token bucket of requests
//! per client (governor's GCRA, keyed by API key or else IP address), and
//! slots for open WebSocket streams, per IP address and in all. A reload
//! changes the bounds in place: open streams keep their slots.

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use parking_lot::{Mutex, RwLock};

/// Checks between two sweeps of clients not seen lately.
const SWEEP_EVERY: u64 = 4_096;

/// What the gateway allows one client, and all of them.
#[derive(Debug, Clone, Copy)]
pub struct ClientLimits {
    /// Most WebSocket streams open at once.
    pub max_connections: usize,
    /// Most WebSocket streams open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// Requests per second per client, on average.
    pub rate_limit: u32,
    /// Requests per client at once above the rate.
    pub rate_burst: u32,
    /// Longest a REST request may take.
    pub request_timeout: Duration,
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crowded {
    /// This address has its most streams open.
    Address(usize),
    /// The gateway has its most streams open.
    Everyone(usize),
}

/// The limits in force, and what they count.
pub struct Limits {
    config: RwLock<ClientLimits>,
    requests: RwLock<DefaultKeyedRateLimiter<String>>,
    checks: AtomicU64,
    /// Open streams: in all, and per address.
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// An open stream's place, given back when dropped.
pub struct StreamSlot {
    limits: Arc<Limits>,
    ip: IpAddr,
}

impl Limits {
    /// Limits as `config` says.
    pub fn new(config: ClientLimits) -> Self {
        Self {
            requests: RwLock::new(request_limiter(&config)),
            config: RwLock::new(config),
            checks: AtomicU64::new(0),
            open: Mutex::new((0, HashMap::new())),
        }
    }

    /// The bounds in force.
    pub fn config(&self) -> ClientLimits {
        *self.config.read()
    }

    /// Holds clients to `config` from now on. A changed request rate
    /// starts every client's bucket afresh; open streams keep their slots
    /// (a lower bound only refuses new ones).
    pub fn update(&self, config: ClientLimits) {
        let mut current = self.config.write();
        if (current.rate_limit, current.rate_burst) != (config.rate_limit, config.rate_burst) {
            *self.requests.write() = request_limiter(&config);
        }
        *current = config;
    }

    /// Takes a request from `client`'s bucket; how long to wait when empty.
    ///
    /// # Errors
    /// The time until the client may ask again.
    pub fn admit_request(&self, client: &str) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.requests.read().retain_recent();
        }
        self.requests
            .read()
            .check_key(&client.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// A slot for a stream from `ip`, while there is one.
    ///
    /// # Errors
    /// [`Crowded`] with the bound reached.
    pub fn open_stream(self: &Arc<Self>, ip: IpAddr) -> Result<StreamSlot, Crowded> {
        let config = self.config();
        let mut open = self.open.lock();
        if open.0 >= config.max_connections {
            return Err(Crowded::Everyone(config.max_connections));
        }
        let from_ip = open.1.entry(ip).or_insert(0);
        if *from_ip >= config.max_connections_per_ip {
            return Err(Crowded::Address(config.max_connections_per_ip));
        }
        *from_ip += 1;
        open.0 += 1;
        Ok(StreamSlot {
            limits: self.clone(),
            ip,
        })
    }
}

/// Requests per client as `config` says.
fn request_limiter(config: &ClientLimits) -> DefaultKeyedRateLimiter<String> {
    let rate = NonZeroU32::new(config.rate_limit).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(config.rate_burst).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock();
        open.0 -= 1;
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_ip: usize, rate: u32, burst: u32) -> Arc<Limits> {
        Arc::new(Limits::new(ClientLimits {
            max_connections: total,
            max_connections_per_ip: per_ip,
            rate_limit: rate,
            rate_burst: burst,
            request_timeout: Duration::from_secs(1),
        }))
    }

    #[test]
    fn streams_are_bounded_per_address_and_in_all_and_given_back() {
        let limits = limits(3, 2, 1, 1);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = limits.open_stream(a).unwrap();
        let _second = limits.open_stream(a).unwrap();
        assert_eq!(limits.open_stream(a).err(), Some(Crowded::Address(2)));
        let _third = limits.open_stream(b).unwrap();
        assert_eq!(limits.open_stream(b).err(), Some(Crowded::Everyone(3)));
        drop(first);
        assert!(limits.open_stream(a).is_ok());
    }

    #[test]
    fn a_client_past_its_burst_waits_and_others_do_not() {
        let limits = limits(1, 1, 1, 3);
        for _ in 0..3 {
            limits.admit_request("key:a").unwrap();
        }
        let wait = limits.admit_request("key:a").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limits.admit_request("key:b").is_ok());
    }

    #[test]
    fn an_update_applies_to_new_requests_and_streams_and_keeps_open_ones() {
        let limits = limits(2, 2, 1, 1);
        let ip = "10.0.0.1".parse().unwrap();
        let (_a, _b) = (
            limits.open_stream(ip).unwrap(),
            limits.open_stream(ip).unwrap(),
        );
        limits.admit_request("key:a").unwrap();
        assert!(limits.admit_request("key:a").is_err());
        limits.update(ClientLimits {
            max_connections: 1,
            rate_burst: 5,
            ..limits.config()
        });
        for _ in 0..5 {
            limits.admit_request("key:a").unwrap();
        }
        assert!(limits.admit_request("key:a").is_err());
        assert_eq!(limits.open_stream(ip).err(), Some(Crowded::Everyone(1)));
        limits.update(ClientLimits {
            max_connections: 3,
            ..limits.config()
        });
        assert!(limits.open_stream(ip).is_err(), "per address: still 2");
        limits.update(ClientLimits {
            max_connections_per_ip: 3,
            ..limits.config()
        });
        assert!(limits.open_stream(ip).is_ok());
    }
}
