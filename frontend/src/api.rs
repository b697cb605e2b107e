//! The only code that talks to the server: grpc-web calls to the `Lab` and
//! `Branch` services of `bank.proto`, on the page's own origin.
//!
//! Each call builds its client afresh: a `tonic_web_wasm_client::Client` is
//! just the base URL, and the generated clients need `&mut self`.

use bank_proto::{
    branch_client::BranchClient, lab_client::LabClient, load_reply, Command, ControlReply, ControlRequest,
    compare_reply, CompareRequest, CompareResult, CustomerReply, CustomerRequest, Example, ExamplesRequest, FaultReply,
    FaultRequest, LabEvent, LoadRequest, ScenarioError, ScenarioSummary, WatchRequest,
};
use thiserror::Error;
use tonic::{Code, Status, Streaming};
use tonic_web_wasm_client::Client;

/// A failed call, as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ApiError {
    /// No answer at all: the server is down or the page is not served by `bank serve`.
    #[error("cannot reach the lab server: {0}")]
    Unreachable(String),
    /// The server refused or failed the call.
    #[error("{message} ({code})")]
    Refused { code: String, message: String },
    /// The server closed the stream or sent something unexpected.
    #[error("unexpected answer from the lab server: {0}")]
    Protocol(String),
}

impl From<Status> for ApiError {
    fn from(status: Status) -> Self {
        match status.code() {
            // tonic-web-wasm-client reports fetch failures as Unknown / Unavailable.
            Code::Unavailable | Code::Unknown if status.message().is_empty() => {
                ApiError::Unreachable(format!("{:?}", status.code()))
            }
            Code::Unavailable | Code::Unknown => ApiError::Unreachable(status.message().to_owned()),
            code => ApiError::Refused { code: format!("{code:?}"), message: status.message().to_owned() },
        }
    }
}

/// The outcome of `Lab.Load`: a scenario, or why the text is not one.
pub type Loaded = Result<ScenarioSummary, ScenarioError>;

/// The lab server at an origin (`http://127.0.0.1:8080`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Api {
    origin: String,
}

impl Api {
    pub fn new(origin: impl Into<String>) -> Self {
        Api { origin: origin.into() }
    }

    /// The server that served this page.
    pub fn same_origin() -> Self {
        let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
        Api::new(origin)
    }

    fn lab(&self) -> LabClient<Client> {
        LabClient::new(Client::new(self.origin.clone()))
    }

    fn branch(&self) -> BranchClient<Client> {
        BranchClient::new(Client::new(self.origin.clone()))
    }

    /// The shipped example scenarios.
    pub async fn examples(&self) -> Result<Vec<Example>, ApiError> {
        Ok(self.lab().examples(ExamplesRequest {}).await?.into_inner().examples)
    }

    /// Loads a scenario text (any course format) on a fresh cluster.
    /// `guarantees` / `propagation`: empty = the scenario's own setting.
    pub async fn load(&self, text: String, name: String, guarantees: String, propagation: String) -> Result<Loaded, ApiError> {
        let request = LoadRequest { text, name, format: String::new(), guarantees, propagation };
        let reply = self.lab().load(request).await?.into_inner();
        match reply.result {
            Some(load_reply::Result::Scenario(summary)) => Ok(Ok(summary)),
            Some(load_reply::Result::Error(error)) => Ok(Err(error)),
            None => Err(ApiError::Protocol("Load answered neither a scenario nor an error".into())),
        }
    }

    /// Injects a fault into the live cluster.
    pub async fn inject(&self, request: FaultRequest) -> Result<FaultReply, ApiError> {
        Ok(self.lab().inject(request).await?.into_inner())
    }

    /// The same scenario in the simulator with two guarantee settings.
    pub async fn compare(&self, request: CompareRequest) -> Result<Result<CompareResult, ScenarioError>, ApiError> {
        match self.lab().compare(request).await?.into_inner().result {
            Some(compare_reply::Result::Comparison(c)) => Ok(Ok(c)),
            Some(compare_reply::Result::Error(e)) => Ok(Err(e)),
            None => Err(ApiError::Protocol("Compare answered neither a comparison nor an error".into())),
        }
    }

    /// Play, pause, step, reset or change the speed (scripted events per second; 0 = unchanged).
    pub async fn control(&self, command: Command, speed: f64) -> Result<ControlReply, ApiError> {
        let request = ControlRequest { command: command as i32, speed };
        Ok(self.lab().control(request).await?.into_inner())
    }

    /// The history since the last load, then live events.
    pub async fn watch(&self) -> Result<Streaming<LabEvent>, ApiError> {
        Ok(self.lab().watch(WatchRequest {}).await?.into_inner())
    }

    /// The browser as a customer: the lab forwards this to branch `request.branch_id`.
    pub async fn customer_request(&self, request: CustomerRequest) -> Result<CustomerReply, ApiError> {
        Ok(self.branch().request(request).await?.into_inner())
    }
}

/// The next event of a `Watch` stream; `Ok(None)` when the server ended it.
pub async fn next_event(stream: &mut Streaming<LabEvent>) -> Result<Option<LabEvent>, ApiError> {
    Ok(stream.message().await?)
}
