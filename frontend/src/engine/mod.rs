//! The one boundary between the page and whatever runs the bank.
//!
//! Everything above it (graph, controls, timeline, diagram, panels, the
//! `Watch` loop) talks to an [`Engine`] and reads the same `LabEvent`
//! history, whichever engine it is:
//!
//! - [`Engine::Live`]: the lab of a `bank serve` over grpc-web ([`crate::api`]),
//!   a cluster of real branch servers talking real gRPC;
//! - [`Engine::Sim`]: the lab in this page ([`sim`]), bank-core's
//!   deterministic simulator compiled into the wasm, for a `dist/` copied to
//!   any static host.
//!
//! Both build their events with bank-proto's `lab_trace`, so a rule (what a
//! violation is, what the course output says) is never written twice.
//! [`choose`] picks the engine for the page (`?engine=`, else a short probe
//! of the server).

pub mod choose;
pub mod sim;
pub mod timer;

use bank_core::branch::PropagationMode;
use bank_core::Guarantees;
use bank_proto::{
    compare_reply, Command, CompareRequest, CompareResult, ControlReply, CustomerReply,
    CustomerRequest, Example, FaultReply, FaultRequest, LabEvent, ScenarioError,
};
use futures::StreamExt;

pub use crate::api::Resume;
use crate::api::{self, Api, ApiError, Loaded};

/// What runs the bank for this page (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum Engine {
    Live(Api),
    Sim(sim::SimLab),
}

impl Engine {
    /// The calls follow someone else's lab: they may only watch (live only).
    pub fn read_only(&self) -> bool {
        matches!(self, Engine::Live(api) if api.read_only())
    }

    /// Which engine this is, in words for the page.
    pub fn kind(&self) -> EngineKind {
        match self {
            Engine::Live(api) => EngineKind::Live { host: api.host() },
            Engine::Sim(_) => EngineKind::Sim,
        }
    }

    /// The shipped example scenarios.
    pub async fn examples(&self) -> Result<Vec<Example>, ApiError> {
        match self {
            Engine::Live(api) => api.examples().await,
            Engine::Sim(lab) => Ok(lab.examples()),
        }
    }

    /// Loads a scenario text, paused at the start (`None`: the scenario's
    /// own guarantees / propagation).
    pub async fn load(
        &self,
        text: String,
        name: String,
        guarantees: Option<Guarantees>,
        propagation: Option<PropagationMode>,
    ) -> Result<Loaded, ApiError> {
        match self {
            Engine::Live(api) => api.load(text, name, guarantees, propagation).await,
            Engine::Sim(lab) => Ok(lab.load(&text, &name, guarantees, propagation)),
        }
    }

    /// Play, pause, step, reset or change the speed (scripted events per second; 0 = unchanged).
    pub async fn control(&self, command: Command, speed: f64) -> Result<ControlReply, ApiError> {
        match self {
            Engine::Live(api) => api.control(command, speed).await,
            Engine::Sim(lab) => Ok(lab.control(command, speed)),
        }
    }

    /// Injects a fault into the running bank.
    pub async fn inject(&self, request: FaultRequest) -> Result<FaultReply, ApiError> {
        match self {
            Engine::Live(api) => api.inject(request).await,
            Engine::Sim(lab) => lab.inject(&request),
        }
    }

    /// The same scenario in the simulator with two guarantee settings.
    pub async fn compare(
        &self,
        request: CompareRequest,
    ) -> Result<Result<CompareResult, ScenarioError>, ApiError> {
        match self {
            Engine::Live(api) => api.compare(request).await,
            Engine::Sim(lab) => match lab.compare(&request).result {
                Some(compare_reply::Result::Comparison(c)) => Ok(Ok(c)),
                Some(compare_reply::Result::Error(e)) => Ok(Err(e)),
                None => Err(ApiError::Protocol("no comparison".into())),
            },
        }
    }

    /// The history from where the page is (`resume`), then every new
    /// event. A live stream ends within [`api::WATCH_LIFETIME`] (call again
    /// with the new `resume`); the simulator's lasts as long as the page,
    /// and starts from the history's first event.
    pub async fn watch(&self, resume: Resume) -> Result<Events, ApiError> {
        match self {
            Engine::Live(api) => Ok(Events::Live(api.watch(resume).await?)),
            Engine::Sim(lab) => Ok(Events::Sim(lab.watch())),
        }
    }

    /// The browser as a customer: its request to branch `request.branch_id`.
    pub async fn customer_request(
        &self,
        request: CustomerRequest,
    ) -> Result<CustomerReply, ApiError> {
        match self {
            Engine::Live(api) => api.customer_request(request).await,
            Engine::Sim(lab) => lab.customer_request(&request).await,
        }
    }
}

/// A `Watch` stream of either engine.
#[derive(Debug)]
pub enum Events {
    Live(api::Events),
    Sim(futures::channel::mpsc::UnboundedReceiver<LabEvent>),
}

/// The next event of a `Watch` stream; `Ok(None)` when it ended. Cancel
/// safe: a poll that finds nothing ready loses nothing.
pub async fn next_event(stream: &mut Events) -> Result<Option<LabEvent>, ApiError> {
    match stream {
        Events::Live(live) => api::next_event(live).await,
        Events::Sim(rx) => Ok(rx.next().await),
    }
}

/// Which engine runs the page's bank, as the page tells its viewer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// A `bank serve` at `host` (`127.0.0.1:8080`).
    Live {
        host: String,
    },
    Sim,
}

impl EngineKind {
    /// The page's one-line answer to "what am I looking at?".
    pub fn label(&self) -> String {
        match self {
            EngineKind::Live { host } => format!("live cluster on {host} (real gRPC)"),
            EngineKind::Sim => "simulated in your browser (no server)".into(),
        }
    }

    /// What that means for what the viewer sees.
    pub fn explanation(&self) -> &'static str {
        match self {
            EngineKind::Live { .. } => {
                "Real branch servers exchange real gRPC messages: timings are the network's own."
            }
            EngineKind::Sim => {
                "The same branch code runs in this page on a simulated network: its delays are \
                 seeded, so every run of a scenario is the same."
            }
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, EngineKind::Live { .. })
    }
}
