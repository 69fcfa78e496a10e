//! `tickstreamd simulate`: whole trading days of the simulated market
//! written as JSON lines or CSV, without any server; the same options give
//! the same bytes.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use chrono::NaiveDate;

use super::ClientError;
use crate::{
    config::Config,
    sim::{
        Calendar, CalendarKind, Format, ScenarioRequest, SessionError, SessionPlan, write_sessions,
    },
};

/// What to simulate and where to write it.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    /// A config file whose `[sim.symbols]` replace the default universe.
    pub config: Option<PathBuf>,
    /// Random seed.
    pub seed: u64,
    /// Symbols of the universe to simulate (empty: all).
    pub symbols: Vec<String>,
    /// Trading days.
    pub days: u32,
    /// The first day (default: today, UTC).
    pub start: Option<NaiveDate>,
    /// Ticks per second of market time at midday, over all symbols.
    pub rate: u32,
    /// The market calendar.
    pub calendar: CalendarKind,
    /// Pre-market and after-hours trading.
    pub extended_hours: bool,
    /// Scenarios, each `after` a time from the start.
    pub scenarios: Vec<ScenarioRequest>,
    /// Where the market events go as JSON lines, if anywhere.
    pub events: Option<PathBuf>,
    /// The ticks' format.
    pub format: Format,
    /// The ticks' file (default: stdout).
    pub output: Option<PathBuf>,
}

/// Writes the simulation; returns how many ticks were written. A closed
/// stdout (`| head`) ends it quietly.
///
/// # Errors
/// A [`ClientError`] naming the config, an unknown symbol, a file that
/// cannot be created or the write that failed.
pub fn simulate(options: &SimulateOptions) -> Result<u64, ClientError> {
    let config = Config::load(options.config.as_deref(), &[])?;
    let mut universe = config.universe();
    if !options.symbols.is_empty() {
        let unknown: Vec<&str> = options
            .symbols
            .iter()
            .map(String::as_str)
            .filter(|s| !universe.iter().any(|spec| spec.symbol.as_str() == *s))
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = universe.iter().map(|s| s.symbol.as_str()).collect();
            return Err(ClientError::UnknownSymbols {
                unknown: unknown.join(", "),
                known: known.join(", "),
            });
        }
        universe.retain(|spec| options.symbols.iter().any(|s| s == spec.symbol.as_str()));
    }
    let plan = SessionPlan {
        universe,
        seed: options.seed,
        start: options
            .start
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
        days: options.days,
        rate: f64::from(options.rate),
        model: config.sim.model,
        correlations: config.sim.correlation,
        calendar: Calendar {
            kind: options.calendar,
            extended_hours: options.extended_hours,
            holidays: config.sim.holidays.clone(),
        },
        scenarios: options.scenarios.clone(),
    };
    let mut events = options.events.as_deref().map(create).transpose()?;
    let events = events.as_mut().map(|w| w as &mut dyn Write);
    match &options.output {
        Some(path) => Ok(write_sessions(
            &plan,
            options.format,
            create(path)?,
            events,
        )?),
        None => {
            let stdout = BufWriter::new(std::io::stdout().lock());
            match write_sessions(&plan, options.format, stdout, events) {
                Err(SessionError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
                other => Ok(other?),
            }
        }
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, ClientError> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|source| ClientError::Create {
            path: path.to_owned(),
            source,
        })
}
