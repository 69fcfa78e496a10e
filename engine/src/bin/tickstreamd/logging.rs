//! What the daemon logs: text or JSON on stderr, filtered per module by
//! `TICKSTREAM_LOG`, else `RUST_LOG`, else `logging.filter`, else `info`
//! (`info,tickstream::kafka=debug`); the filter is replaced live when the
//! configuration is reloaded.

use std::io::IsTerminal;

use tracing_subscriber::{
    EnvFilter, Registry, fmt, layer::SubscriberExt, reload, util::SubscriberInitExt,
};

use crate::args::LogFormat;

/// The filter in force, replaceable while the process runs.
pub struct LogFilter {
    handle: reload::Handle<EnvFilter, Registry>,
    directives: String,
}

/// The directives in force: the environment's, or `configured`.
fn directives(configured: &str) -> String {
    let set = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    set("TICKSTREAM_LOG")
        .or_else(|| set("RUST_LOG"))
        .unwrap_or_else(|| match configured.trim() {
            "" => "info".to_owned(),
            configured => configured.to_owned(),
        })
}

/// Sets up logging in `format` (text on a terminal, else JSON) with the
/// filter `configured` (`logging.filter`) unless the environment sets one.
pub fn init(format: Option<LogFormat>, configured: &str) -> LogFilter {
    let wanted = directives(configured);
    let parsed = EnvFilter::try_new(&wanted);
    let valid = parsed.is_ok();
    let (filter, directives) = match parsed {
        Ok(filter) => (filter, wanted.clone()),
        Err(_) => (EnvFilter::new("info"), "info".to_owned()),
    };
    let (filter, handle) = reload::Layer::new(filter);
    let json = match format {
        Some(LogFormat::Json) => true,
        Some(LogFormat::Text) => false,
        None => !std::io::stderr().is_terminal(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .init();
    } else {
        registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .init();
    }
    if !valid {
        tracing::warn!(filter = %wanted, "not a log filter; logging at info");
    }
    LogFilter { handle, directives }
}

impl LogFilter {
    /// Applies `configured` (`logging.filter`) unless the environment sets
    /// the filter; says what changed.
    pub fn apply(&mut self, configured: &str) {
        let wanted = directives(configured);
        if wanted == self.directives {
            return;
        }
        let applied = EnvFilter::try_new(&wanted)
            .map_err(|e| e.to_string())
            .and_then(|filter| self.handle.reload(filter).map_err(|e| e.to_string()));
        match applied {
            Ok(()) => {
                tracing::info!(filter = %wanted, previous = %self.directives, "log filter changed");
                self.directives = wanted;
            }
            Err(error) => {
                tracing::warn!(filter = %wanted, %error, "keeping the log filter");
            }
        }
    }
}
