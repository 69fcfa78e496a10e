//! Control of a running simulator from other threads: a [`SimHandle`]
//! (held by the gateway and the engine) sends scenarios and pacing changes
//! to the [`Control`] end, which the simulator's thread applies between
//! batches, and reads back the scenarios' states.

use std::sync::{Arc, mpsc};

use parking_lot::Mutex;

use super::{Pacing, ScenarioError, ScenarioRequest, Simulator};
use crate::model::ScenarioStatus;

struct Request {
    scenario: ScenarioRequest,
    reply: tokio::sync::oneshot::Sender<Result<ScenarioStatus, ScenarioError>>,
}

/// The other threads' side: inject scenarios, list them, change the
/// pacing. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    requests: mpsc::Sender<Request>,
    scenarios: Arc<Mutex<Vec<ScenarioStatus>>>,
    pacing: Arc<Mutex<Option<Pacing>>>,
}

/// The simulator thread's side.
pub struct Control {
    requests: mpsc::Receiver<Request>,
    scenarios: Arc<Mutex<Vec<ScenarioStatus>>>,
    /// A pacing not yet taken up; the latest wins.
    pacing: Arc<Mutex<Option<Pacing>>>,
}

/// A connected handle and control.
pub fn control() -> (SimHandle, Control) {
    let (tx, rx) = mpsc::channel();
    let scenarios = Arc::new(Mutex::new(Vec::new()));
    let pacing = Arc::new(Mutex::new(None));
    (
        SimHandle {
            requests: tx,
            scenarios: scenarios.clone(),
            pacing: pacing.clone(),
        },
        Control {
            requests: rx,
            scenarios,
            pacing,
        },
    )
}

impl SimHandle {
    /// Hands `scenario` to the simulator and waits for its verdict.
    ///
    /// # Errors
    /// The simulator's refusal, or [`ScenarioError::NoSimulator`] when it
    /// is not running.
    pub async fn inject(&self, scenario: ScenarioRequest) -> Result<ScenarioStatus, ScenarioError> {
        let (reply, verdict) = tokio::sync::oneshot::channel();
        self.requests
            .send(Request { scenario, reply })
            .map_err(|_| ScenarioError::NoSimulator)?;
        verdict.await.map_err(|_| ScenarioError::NoSimulator)?
    }

    /// Every scenario the simulator accepted, oldest first.
    pub fn scenarios(&self) -> Vec<ScenarioStatus> {
        self.scenarios.lock().clone()
    }

    /// Runs the simulator as `pacing` says from its next batch on.
    pub fn pace(&self, pacing: Pacing) {
        *self.pacing.lock() = Some(pacing);
    }
}

impl Control {
    /// The pacing asked for since the last call, if any.
    pub fn take_pacing(&self) -> Option<Pacing> {
        self.pacing.lock().take()
    }

    /// Applies waiting requests to `simulator` and publishes scenario states.
    pub fn apply(&self, simulator: &mut Simulator) {
        while let Ok(request) = self.requests.try_recv() {
            let verdict = simulator.inject(request.scenario);
            // The requester may have given up waiting; the scenario stands.
            let _ = request.reply.send(verdict);
        }
        if simulator.take_scenarios_changed() {
            *self.scenarios.lock() = simulator.scenarios().to_vec();
        }
    }
}
