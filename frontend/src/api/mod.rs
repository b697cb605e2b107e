//! The only code that talks to the server: grpc-web calls to the `Lab` and
//! `Customer` services of `proto/bank/v1`, on the page's own origin.
//!
//! The server holds a lab per viewer: the page first calls [`Api::open`],
//! then names its lab in every call ([`Api::for_lab`]: the lab id of an
//! owner, the follow id of a follower, in the `x-lab-id` header).
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
    FaultReply, FaultRequest, LabEvent, LoadReply, LoadRequest, OpenReply, OpenRequest,
    ScenarioError, ScenarioSummary, WatchRequest,
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

impl ApiError {
    /// A server limit said no (`RESOURCE_EXHAUSTED`): its message says
    /// which limit and what to do.
    pub fn is_limit(&self) -> bool {
        matches!(self, ApiError::Refused { code, .. } if code == "ResourceExhausted")
    }

    /// The lab named is not there (any more).
    pub fn is_gone(&self) -> bool {
        matches!(self, ApiError::Refused { code, .. } if code == "NotFound")
    }

    /// The server's own words, without the status code.
    pub fn message(&self) -> String {
        match self {
            ApiError::Refused { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
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

/// The lab server at an origin (`http://127.0.0.1:8080`), and the lab the
/// calls are for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Api {
    origin: String,
    /// The lab id (owner) or follow id (follower) sent with every call.
    lab: Option<String>,
    /// `lab` is a follow id: only watching is allowed.
    read_only: bool,
}

impl Api {
    /// The server at `origin`, naming no lab yet (for [`Api::open`]).
    pub fn new(origin: impl Into<String>) -> Self {
        Api { origin: origin.into(), lab: None, read_only: false }
    }

    /// The same server, for the lab `opened` answered.
    pub fn for_lab(&self, opened: &OpenReply) -> Self {
        let follower = opened.role() == bank_proto::Role::Follower;
        let id = if follower { &opened.follow_id } else { &opened.lab_id };
        Api { origin: self.origin.clone(), lab: Some(id.clone()), read_only: follower }
    }

    /// The calls follow someone else's lab: they may only watch.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The server's host and port (`127.0.0.1:8080`), for the page to name.
    pub fn host(&self) -> String {
        let origin = self.origin.split_once("://").map_or(self.origin.as_str(), |(_, h)| h);
        origin.trim_end_matches('/').to_owned()
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
        let lab = self.lab.as_deref();
        let reply = grpc::unary(&self.origin, lab, path, request.encode_to_vec()).await?;
        decode(&reply)
    }

    /// Opens a lab: re-attaches to `lab_id` as its owner, follows
    /// `follow_id`, or (both empty) starts a new one. The id given is also
    /// sent in the `x-lab-id` header, as in every later call: a reverse
    /// proxy in front of several servers routes on it (`deploy/nginx.conf`).
    pub async fn open(&self, lab_id: String, follow_id: String) -> Result<OpenReply, ApiError> {
        let named = [&lab_id, &follow_id].into_iter().find(|id| !id.is_empty()).cloned();
        let api = Api { lab: named, ..self.clone() };
        api.call(path::OPEN, OpenRequest { lab_id, follow_id }).await
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

    /// The history from `resume` on, then live events, for at most
    /// [`WATCH_LIFETIME`]: the server then ends the stream, so that the
    /// six connections a browser keeps to a server (shared by all the
    /// frames of a course page) are never all held by watch streams.
    pub async fn watch(&self, resume: Resume) -> Result<Events, ApiError> {
        let request = WatchRequest {
            history: resume.history,
            from: resume.from,
            end_after_ms: WATCH_LIFETIME.as_millis() as u32,
        }
        .encode_to_vec();
        let lab = self.lab.as_deref();
        Ok(Events(grpc::server_streaming(&self.origin, lab, path::WATCH, request).await?))
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

/// Where a `Watch` picks up: the history the page has (the number in its
/// `loaded` event, `LabEvent.history`) and how many of its events it has.
/// The default, nothing yet, is the history's first event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    pub history: u64,
    pub from: u64,
}

impl Resume {
    /// Where a page that has `events` (the current history's, from its
    /// first) picks up.
    pub fn after(events: &[LabEvent]) -> Resume {
        let history = events.first().map_or(0, |first| first.history);
        Resume { history, from: events.len() as u64 }
    }
}

/// How long one `Watch` stream lasts before the page resumes it with
/// another (see `WatchRequest` in lab.proto). A second: a call that waits
/// for a connection held by watch streams waits at most that long.
pub const WATCH_LIFETIME: std::time::Duration = std::time::Duration::from_secs(1);

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
