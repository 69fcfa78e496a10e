//! Scenarios applied to the market: accepting one (checked against the
//! universe and the symbols' states), starting it when its delay has passed
//! (what each kind does to prices, volumes and trading), ending it, and the
//! `market_events` that announce each step.

use std::time::Duration;

use super::*;

impl Simulator {
    /// Accepts a scenario: it starts now (its events are the next outputs)
    /// or after its delay.
    ///
    /// # Errors
    /// Returns a [`ScenarioError`] naming the field at fault: an unknown
    /// symbol or sector, a halt of a halted symbol, a resume of a trading one.
    pub fn inject(&mut self, request: ScenarioRequest) -> Result<ScenarioStatus, ScenarioError> {
        self.check(&request.scenario)?;
        self.check_bounds(&request.scenario)?;
        let id = self.scenarios.last().map_or(1, |s| s.id + 1);
        let start = self.now + request.after.as_secs_f64();
        if request.after.is_zero() {
            self.check_state(&request.scenario)?;
        }
        self.scenarios.push(ScenarioStatus {
            id,
            scenario: request.scenario,
            state: ScenarioState::Scheduled,
            starts_at: self.at(start),
            ends_at: None,
        });
        self.scenarios_changed = true;
        if request.after.is_zero() {
            self.start(id);
        } else {
            self.schedule(start, Timer::Start(id));
        }
        Ok(self.status(id).clone())
    }

    pub(super) fn at(&self, t: f64) -> DateTime<Utc> {
        self.origin + chrono::Duration::microseconds((t * 1e6) as i64)
    }

    pub(super) fn index_of(&self, symbol: &Symbol) -> Result<usize, ScenarioError> {
        self.listed
            .iter()
            .position(|l| &l.symbol == symbol)
            .ok_or_else(|| ScenarioError::UnknownSymbol(symbol.clone()))
    }

    pub(super) fn sector_of(
        &self,
        field: &'static str,
        name: &str,
    ) -> Result<usize, ScenarioError> {
        self.sectors
            .iter()
            .position(|s| s == name)
            .ok_or_else(|| ScenarioError::UnknownSector {
                field,
                sector: name.to_owned(),
            })
    }

    /// Checks the names a scenario uses.
    pub(super) fn check(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        match scenario {
            Scenario::FlashCrash {
                symbol: Some(symbol),
                ..
            }
            | Scenario::Halt { symbol, .. }
            | Scenario::Resume { symbol }
            | Scenario::NewsShock { symbol, .. } => self.index_of(symbol).map(drop),
            Scenario::SectorRotation { from, to, .. } => {
                self.sector_of("from", from)?;
                self.sector_of("to", to).map(drop)
            }
            _ => Ok(()),
        }
    }

    /// Checks that accepting a scenario keeps the market within bounds: at
    /// most [`MAX_PENDING_SCENARIOS`] scheduled or active, and news moving a
    /// symbol at most [`MAX_NEWS_MOVE`] times up or down in total (counting
    /// the shocks still scheduled), so prices stay finite and positive.
    fn check_bounds(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let pending = self
            .scenarios
            .iter()
            .filter(|s| s.state != ScenarioState::Finished)
            .count();
        if pending >= MAX_PENDING_SCENARIOS {
            return Err(ScenarioError::Limit {
                field: "kind",
                message: format!(
                    "{pending} scenarios are scheduled or active, the most there may be; wait for some to finish"
                ),
            });
        }
        let Scenario::NewsShock { symbol, jump, .. } = scenario else {
            return Ok(());
        };
        let scheduled: f64 = self
            .scenarios
            .iter()
            .filter(|s| s.state == ScenarioState::Scheduled)
            .filter_map(|s| match &s.scenario {
                Scenario::NewsShock {
                    symbol: other,
                    jump,
                    ..
                } if other == symbol => Some((1.0 + jump).ln()),
                _ => None,
            })
            .sum();
        let shift = self.listed[self.index_of(symbol)?].shift;
        if (shift + scheduled + (1.0 + jump).ln()).abs() > MAX_NEWS_MOVE.ln() {
            return Err(ScenarioError::Limit {
                field: "jump",
                message: format!(
                    "news would move {symbol} more than ×{MAX_NEWS_MOVE} up or down in total (its news so far: {:+.0}%)",
                    ((shift + scheduled).exp() - 1.0) * 100.0
                ),
            });
        }
        Ok(())
    }

    /// Checks that a halt or resume makes sense now.
    pub(super) fn check_state(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        match scenario {
            Scenario::Halt { symbol, .. }
                if self.listed[self.index_of(symbol)?].halted.is_some() =>
            {
                Err(ScenarioError::AlreadyHalted(symbol.clone()))
            }
            Scenario::Resume { symbol } if self.listed[self.index_of(symbol)?].halted.is_none() => {
                Err(ScenarioError::NotHalted(symbol.clone()))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn status(&mut self, id: u64) -> &mut ScenarioStatus {
        // Ids are consecutive from 1.
        &mut self.scenarios[id as usize - 1]
    }

    pub(super) fn schedule(&mut self, t: f64, timer: Timer) {
        self.timers += 1;
        self.agenda
            .insert(((t * 1e6).round() as i64, self.timers), timer);
    }

    pub(super) fn event(
        &mut self,
        kind: EventKind,
        level: EventLevel,
        symbol: Option<Symbol>,
        message: String,
        scenario: Option<u64>,
    ) {
        let at = self.at(self.now);
        self.queue.push_back(Output::Event(MarketEvent {
            scenario,
            ..MarketEvent::new(kind, level, symbol, message, at)
        }));
    }

    /// Starts scenario `id`: applies it and announces it.
    pub(super) fn start(&mut self, id: u64) {
        let scenario = self.status(id).scenario.clone();
        if let Err(error) = self.check_state(&scenario) {
            // A delayed halt or resume that no longer makes sense.
            self.finish(id);
            let kind = match scenario {
                Scenario::Resume { .. } => EventKind::Resume,
                _ => EventKind::Halt,
            };
            self.event(
                kind,
                EventLevel::Warning,
                None,
                format!("scenario {id} skipped: {error}"),
                Some(id),
            );
            return;
        }
        let now = self.now;
        self.status(id).state = ScenarioState::Active;
        self.status(id).starts_at = self.at(now);
        self.scenarios_changed = true;
        match scenario {
            Scenario::FlashCrash {
                symbol,
                depth,
                fall,
                recovery,
            } => self.start_flash_crash(id, symbol, depth, fall, recovery),
            Scenario::Halt { symbol, duration } => self.start_halt(id, symbol, duration),
            Scenario::Resume { symbol } => {
                let index = self.index_of(&symbol).expect("checked");
                self.resume(index, id);
                self.finish(id);
            }
            Scenario::NewsShock {
                symbol,
                jump,
                volatility,
                decay,
            } => self.start_news_shock(id, symbol, jump, volatility, decay),
            Scenario::RegimeChange { volatility } => self.start_regime_change(id, volatility),
            Scenario::SectorRotation {
                from,
                to,
                size,
                duration,
            } => self.start_sector_rotation(id, from, to, size, duration),
        }
    }

    fn start_flash_crash(
        &mut self,
        id: u64,
        symbol: Option<Symbol>,
        depth: f64,
        fall: Duration,
        recovery: Duration,
    ) {
        let now = self.now;
        let target = symbol.as_ref().map(|s| self.index_of(s).expect("checked"));
        self.crashes.push(Crash {
            id,
            target,
            start: now,
            fall: fall.as_secs_f64(),
            recovery: recovery.as_secs_f64(),
            log_depth: (1.0 - depth).ln(),
        });
        self.end_at(id, now + fall.as_secs_f64() + recovery.as_secs_f64());
        let what = symbol
            .as_ref()
            .map_or("market-wide".to_owned(), |s| s.to_string());
        self.event(
            EventKind::FlashCrash,
            EventLevel::Critical,
            symbol,
            format!(
                "{what} flash crash: {} over {}, recovery over {}",
                signed_percent(-depth),
                span(fall),
                span(recovery)
            ),
            Some(id),
        );
    }

    fn start_halt(&mut self, id: u64, symbol: Symbol, duration: Option<Duration>) {
        let index = self.index_of(&symbol).expect("checked");
        self.listed[index].halted = Some(Halted::Scenario(id));
        let how_long = match duration {
            Some(d) => {
                self.end_at(id, self.now + d.as_secs_f64());
                format!(" for {}", span(d))
            }
            None => " until resumed".into(),
        };
        self.status_event(
            EventKind::Halt,
            EventLevel::Warning,
            index,
            format!("{symbol} trading halted{how_long}"),
            Some(id),
            HaltReason::NewsPending,
        );
    }

    fn start_news_shock(
        &mut self,
        id: u64,
        symbol: Symbol,
        jump: f64,
        volatility: f64,
        decay: Duration,
    ) {
        let now = self.now;
        let index = self.index_of(&symbol).expect("checked");
        self.listed[index].shift += (1.0 + jump).ln();
        let decay_s = decay.as_secs_f64();
        self.news.push(News {
            id,
            index,
            start: now,
            boost: volatility - 1.0,
            decay: decay_s,
        });
        self.end_at(id, now + NEWS_DECAYS * decay_s);
        let level = if jump.abs() >= 0.05 {
            EventLevel::Critical
        } else {
            EventLevel::Warning
        };
        self.event(
            EventKind::News,
            level,
            Some(symbol.clone()),
            format!(
                "{symbol} news shock: {}, volatility ×{volatility} fading over {}",
                signed_percent(jump),
                span(decay)
            ),
            Some(id),
        );
    }

    fn start_regime_change(&mut self, id: u64, volatility: f64) {
        if let Some(previous) = self.regime.1 {
            self.finish(previous);
        }
        self.regime = (volatility, Some(id));
        self.event(
            EventKind::RegimeChange,
            EventLevel::Warning,
            None,
            format!("volatility regime: ×{volatility} the normal level"),
            Some(id),
        );
    }

    fn start_sector_rotation(
        &mut self,
        id: u64,
        from: String,
        to: String,
        size: f64,
        duration: Duration,
    ) {
        let d = duration.as_secs_f64();
        self.rotations.push(Rotation {
            id,
            from: self.sector_of("from", &from).expect("checked"),
            to: self.sector_of("to", &to).expect("checked"),
            down: (1.0 - size).ln() / d,
            up: (1.0 + size).ln() / d,
        });
        self.end_at(id, self.now + d);
        self.event(
            EventKind::SectorRotation,
            EventLevel::Info,
            None,
            format!(
                "sector rotation from {from} ({}) to {to} ({}) over {}",
                signed_percent(-size),
                signed_percent(size),
                span(duration)
            ),
            Some(id),
        );
    }

    pub(super) fn end_at(&mut self, id: u64, t: f64) {
        let at = self.at(t);
        self.status(id).ends_at = Some(at);
        self.schedule(t, Timer::End(id));
    }

    pub(super) fn finish(&mut self, id: u64) {
        let now = self.at(self.now);
        let status = self.status(id);
        status.state = ScenarioState::Finished;
        status.ends_at = Some(now);
        self.scenarios_changed = true;
    }

    /// Ends scenario `id` at its scheduled time.
    pub(super) fn end(&mut self, id: u64) {
        if self.status(id).state != ScenarioState::Active {
            return;
        }
        let scenario = self.status(id).scenario.clone();
        self.finish(id);
        match scenario {
            Scenario::FlashCrash { symbol, .. } => {
                self.crashes.retain(|c| c.id != id);
                let what = symbol
                    .as_ref()
                    .map_or("the market".to_owned(), |s| s.to_string());
                self.event(
                    EventKind::FlashCrash,
                    EventLevel::Info,
                    symbol,
                    format!("{what} recovered from the flash crash"),
                    Some(id),
                );
            }
            Scenario::Halt { symbol, .. } => {
                let index = self.index_of(&symbol).expect("checked");
                if self.listed[index].halted == Some(Halted::Scenario(id)) {
                    self.resume(index, id);
                }
            }
            Scenario::NewsShock { symbol, .. } => {
                self.news.retain(|n| n.id != id);
                self.event(
                    EventKind::News,
                    EventLevel::Info,
                    Some(symbol.clone()),
                    format!("{symbol} volatility back to normal after the news"),
                    Some(id),
                );
            }
            Scenario::SectorRotation { from, to, .. } => {
                self.rotations.retain(|r| r.id != id);
                self.event(
                    EventKind::SectorRotation,
                    EventLevel::Info,
                    None,
                    format!("sector rotation from {from} to {to} complete"),
                    Some(id),
                );
            }
            Scenario::Resume { .. } | Scenario::RegimeChange { .. } => {}
        }
    }

    /// Lifts a halt: announces it and prints a reopening auction.
    pub(super) fn resume(&mut self, index: usize, id: u64) {
        let reason = match self.listed[index].halted.take() {
            Some(Halted::Scenario(halt)) if halt != id => {
                self.finish(halt);
                HaltReason::NewsPending
            }
            Some(Halted::Luld) => HaltReason::LuldPause,
            _ => HaltReason::NewsPending,
        };
        self.reopen(index, reason, Some(id));
    }

    /// Announces that `index` trades again and prints its reopening auction.
    pub(super) fn reopen(&mut self, index: usize, reason: HaltReason, scenario: Option<u64>) {
        let symbol = self.listed[index].symbol.clone();
        self.status_event(
            EventKind::Resume,
            EventLevel::Info,
            index,
            format!("{symbol} trading resumed: reopening auction"),
            scenario,
            reason,
        );
        if matches!(
            self.phase,
            Phase::Regular | Phase::PreMarket | Phase::AfterHours
        ) {
            let tick = self.auction(
                index,
                TradeCondition::ReopeningAuction,
                REOPENING_AUCTION_SHARE,
            );
            self.after_auction(index, &tick);
            self.queue.push_back(Output::Tick(tick));
        }
    }
}

/// A fraction as a signed percentage, `+1.5%`.
fn signed_percent(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// A duration as people say it, at least a second: `5m 30s`.
fn span(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs().max(1))).to_string()
}
