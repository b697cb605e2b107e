//! The only code that talks to the server: grpc-web calls to the `Lab` and
//! `Customer` services of `proto/bank/v1`, on the page's own origin.
//!
//! - [`Api`] (here): one method per RPC, typed messages in and out.
//! - [`grpc`]: the one call path they share, for encoded messages.
//! - [`path`]: the RPCs by their gRPC paths.

pub mod grpc;
pub mod path;

use bank_core::branch::PropagationMode;
use bank_core::formats::OutputFormat;
use bank_core::Guarantees;
use bank_proto::{
    compare_reply, load_reply, Command, CompareReply, CompareRequest, CompareResult, ControlReply,
    ControlRequest, CustomerReply, CustomerRequest, Example, ExamplesReply, ExamplesRequest,
    FaultReply, FaultRequest, LabEvent, LoadReply, LoadRequest, ScenarioError, ScenarioSummary,
    WatchRequest,
};
use prost::Message;
use thiserror::Error;
use tonic::{Code, Status, Streaming};

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
            code => ApiError::Refused {
                code: format!("{code:?}"),
                message: status.message().to_owned(),
            },
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

    /// The RPC at `path` with `request`; its reply decoded.
    async fn call<Reply: Message + Default>(
        &self,
        path: &'static str,
        request: impl Message,
    ) -> Result<Reply, ApiError> {
        let reply = grpc::unary(&self.origin, path, request.encode_to_vec()).await?;
        decode(&reply)
    }

    /// The shipped example scenarios.
    pub async fn examples(&self) -> Result<Vec<Example>, ApiError> {
        let reply: ExamplesReply = self.call(path::EXAMPLES, ExamplesRequest {}).await?;
        Ok(reply.examples)
    }

    /// Loads a scenario text (any course format, its output format the one
    /// that goes with it) on a fresh cluster. `guarantees` / `propagation`:
    /// `None` = the scenario's own setting.
    pub async fn load(
        &self,
        text: String,
        name: String,
        guarantees: Option<Guarantees>,
        propagation: Option<PropagationMode>,
    ) -> Result<Loaded, ApiError> {
        let request = LoadRequest {
            text,
            name,
            format: bank_proto::OutputFormat::from(None::<OutputFormat>).into(),
            guarantees: guarantees.map(Into::into),
            propagation: bank_proto::PropagationMode::from(propagation).into(),
        };
        let reply: LoadReply = self.call(path::LOAD, request).await?;
        match reply.result {
            Some(load_reply::Result::Scenario(summary)) => Ok(Ok(summary)),
            Some(load_reply::Result::Error(error)) => Ok(Err(error)),
            None => Err(ApiError::Protocol("Load answered neither a scenario nor an error".into())),
        }
    }

    /// Injects a fault into the live cluster.
    pub async fn inject(&self, request: FaultRequest) -> Result<FaultReply, ApiError> {
        self.call(path::INJECT, request).await
    }

    /// The same scenario in the simulator with two guarantee settings.
    pub async fn compare(
        &self,
        request: CompareRequest,
    ) -> Result<Result<CompareResult, ScenarioError>, ApiError> {
        let reply: CompareReply = self.call(path::COMPARE, request).await?;
        match reply.result {
            Some(compare_reply::Result::Comparison(c)) => Ok(Ok(c)),
            Some(compare_reply::Result::Error(e)) => Ok(Err(e)),
            None => {
                Err(ApiError::Protocol("Compare answered neither a comparison nor an error".into()))
            }
        }
    }

    /// Play, pause, step, reset or change the speed (scripted events per second; 0 = unchanged).
    pub async fn control(&self, command: Command, speed: f64) -> Result<ControlReply, ApiError> {
        self.call(path::CONTROL, ControlRequest { command: command as i32, speed }).await
    }

    /// The history since the last load, then live events.
    pub async fn watch(&self) -> Result<Events, ApiError> {
        let request = WatchRequest {}.encode_to_vec();
        Ok(Events(grpc::server_streaming(&self.origin, path::WATCH, request).await?))
    }

    /// The browser as a customer: the lab forwards this to branch `request.branch_id`.
    pub async fn customer_request(
        &self,
        request: CustomerRequest,
    ) -> Result<CustomerReply, ApiError> {
        self.call(path::CUSTOMER_REQUEST, request).await
    }
}

/// A message of type `M` from its bytes. A malformed one is the server's
/// failure, `INTERNAL`, as tonic's own decoder reports it.
fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, ApiError> {
    M::decode(bytes).map_err(|e| ApiError::from(Status::internal(e.to_string())))
}

/// The stream of a `Watch` call: encoded `LabEvent`s.
#[derive(Debug)]
pub struct Events(Streaming<Vec<u8>>);

/// The next event of a `Watch` stream; `Ok(None)` when the server ended it.
pub async fn next_event(stream: &mut Events) -> Result<Option<LabEvent>, ApiError> {
    match stream.0.message().await? {
        Some(bytes) => decode(&bytes).map(Some),
        None => Ok(None),
    }
}
