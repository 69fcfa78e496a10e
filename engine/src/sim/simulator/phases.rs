//! The calendar's phases in the market: the next boundary (a phase change
//! or a scenario's timer), crossing it, and the opening, closing and
//! reopening auctions printed at phase changes.

use super::*;

impl Simulator {
    /// The earliest time something other than a trade happens.
    pub(super) fn next_boundary(&self) -> f64 {
        let timer = self
            .agenda
            .keys()
            .next()
            .map_or(f64::INFINITY, |(micros, _)| *micros as f64 / 1e6);
        let transition = self.transition.map_or(f64::INFINITY, |(t, _)| t);
        let minute = if self.phase == Phase::Regular && self.transition.is_some() {
            self.intraday.1
        } else {
            f64::INFINITY
        };
        let imbalances = self.imbalances_due().unwrap_or(f64::INFINITY);
        timer.min(transition).min(minute).min(imbalances)
    }

    /// Handles what is due at `t`: scenario timers, a change of phase, a new minute.
    pub(super) fn cross(&mut self, t: f64) {
        let due = (t * 1e6).round() as i64;
        while let Some(entry) = self.agenda.first_entry() {
            if entry.key().0 > due {
                break;
            }
            match entry.remove() {
                Timer::Start(id) => self.start(id),
                Timer::End(id) => self.end(id),
                Timer::Reopen(index) => self.end_pause(index),
            }
        }
        if self.imbalances_due().is_some_and(|due| due <= t) {
            self.publish_imbalances();
        }
        if let Some((at, phase)) = self.transition
            && at <= t
        {
            self.change_phase(phase);
            self.transition = self.transition_after(self.at(self.now));
        }
        if t >= self.intraday.1 {
            self.refresh_intraday();
        }
    }

    pub(super) fn transition_after(&self, after: DateTime<Utc>) -> Option<(f64, Phase)> {
        self.calendar.next_transition(after).map(|tr| {
            (
                (tr.at - self.origin).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6,
                tr.phase,
            )
        })
    }

    pub(super) fn change_phase(&mut self, phase: Phase) {
        let before = std::mem::replace(&mut self.phase, phase);
        let session = |this: &mut Self, kind, message: &str| {
            this.event(kind, EventLevel::Info, None, message.to_owned(), None)
        };
        match (before, phase) {
            (_, Phase::PreMarket) => {
                session(self, EventKind::SessionOpen, "pre-market trading open")
            }
            (_, Phase::Regular) => {
                session(
                    self,
                    EventKind::SessionOpen,
                    "regular session open: opening auction",
                );
                self.auctions(TradeCondition::OpeningAuction, OPENING_AUCTION_SHARE);
            }
            (Phase::Regular, next) => {
                self.auctions(TradeCondition::ClosingAuction, CLOSING_AUCTION_SHARE);
                let message = if next == Phase::AfterHours {
                    "regular session close: closing auction; after-hours trading open"
                } else {
                    "regular session close: closing auction"
                };
                session(self, EventKind::SessionClose, message);
            }
            (_, Phase::AfterHours) => {
                session(self, EventKind::SessionOpen, "after-hours trading open")
            }
            (_, Phase::Closed) => {
                session(self, EventKind::SessionClose, "after-hours trading closed")
            }
        }
    }

    pub(super) fn auctions(&mut self, condition: TradeCondition, share: f64) {
        for index in 0..self.listed.len() {
            if self.listed[index].halted.is_none() {
                let tick = self.auction(index, condition, share);
                self.after_auction(index, &tick);
                self.queue.push_back(Output::Tick(tick));
            }
        }
    }

    /// An auction print: the mid, no quote, a share of a day's volume.
    pub(super) fn auction(&mut self, index: usize, condition: TradeCondition, share: f64) -> Tick {
        let (price, volume) = self.auction_cross(index, share);
        self.seq += 1;
        Tick {
            symbol: self.listed[index].symbol.clone(),
            price,
            volume,
            timestamp: self.at(self.now),
            bid: None,
            ask: None,
            seq: Some(self.seq),
            condition: Some(condition),
            partition: None,
            offset: None,
        }
    }

    /// Where an auction of `index` would cross now and how many shares (in
    /// round lots, about `share` of a day's volume): the mid on the grid.
    pub(super) fn auction_cross(&mut self, index: usize, share: f64) -> (f64, u64) {
        let (shock, _) = self.conditions(index);
        let (log_mid, _) = self.model.advance(index, self.trading_time, shock);
        let offset = self.offset(index);
        let noise = self.rng.random_range(0.7..1.3);
        let listed = &self.listed[index];
        let steps = listed.steps_per_unit;
        let lots = (listed.adv * share * noise / 100.0).round().max(1.0) as u64;
        (
            ((log_mid + offset).exp() * steps).round().max(1.0) / steps,
            lots * 100,
        )
    }

    pub(super) fn refresh_intraday(&mut self) {
        let activity = self
            .calendar
            .regular_minutes(self.at(self.now))
            .map_or(1.0, |(since, until)| intraday_activity(since, until));
        self.intraday = (activity, (self.now / 60.0).floor() * 60.0 + 60.0);
    }
}
