//! Control of a running simulator from other threads: a [`SimHandle`]
//! (held by the gateway) sends scenarios to the [`Control`] end, which the
//! simulator's thread applies between batches, and reads back their states.

use std::sync::{Arc, mpsc};

use parking_lot::Mutex;

use super::{ScenarioError, ScenarioRequest, Simulator};
use crate::model::ScenarioStatus;

struct Request {
    scenario: ScenarioRequest,
    reply: tokio::sync::oneshot::Sender<Result<ScenarioStatus, ScenarioError>>,
}

/// The gateway's side: inject scenarios, list them. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    requests: mpsc::Sender<Request>,
    scenarios: Arc<Mutex<Vec<ScenarioStatus>>>,
}

/// The simulator thread's side.
pub struct Control {
    requests: mpsc::Receiver<Request>,
    scenarios: Arc<Mutex<Vec<ScenarioStatus>>>,
}

/// A connected handle and control.
pub fn control() -> (SimHandle, Control) {
    let (tx, rx) = mpsc::channel();
    let scenarios = Arc::new(Mutex::new(Vec::new()));
    (
        SimHandle {
            requests: tx,
            scenarios: scenarios.clone(),
        },
        Control {
            requests: rx,
            scenarios,
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
}

impl Control {
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
