//! The `Lab` gRPC service (what the browser calls over grpc-web).
//!
//! Finds the call's lab in the registry by its `x-lab-id` header
//! ([`Labs::access`]; `Open` makes or finds one first), refuses a
//! follower's calls that would change it, reads each request into typed
//! values at the edge (with bank-proto's conversions: a malformed one is
//! answered `INVALID_ARGUMENT`) and hands them to the [`Lab`](crate::lab::Lab).

use std::pin::Pin;
use std::time::Duration;

use bank_core::branch::PropagationMode;
use bank_core::formats::OutputFormat;
use bank_core::network::Fault;
use bank_core::Guarantees;
use bank_proto as pb;
use bank_proto::convert::enum_field;
use bank_proto::lab_server::Lab as LabRpc;
use futures::Stream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};

use crate::lab::registry::Labs;
use crate::lab::LoadError;
use crate::lab::{compare, history};

/// Serves a server's [`Labs`] over gRPC.
#[derive(Clone, Debug)]
pub struct LabService {
    labs: Labs,
}

impl LabService {
    pub fn new(labs: Labs) -> Self {
        LabService { labs }
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::LabEvent, Status>> + Send>>;

#[tonic::async_trait]
impl LabRpc for LabService {
    async fn open(
        &self,
        request: Request<pb::OpenRequest>,
    ) -> Result<Response<pb::OpenReply>, Status> {
        let r = request.into_inner();
        let given = |id: &str| Some(id.to_owned()).filter(|id| !id.is_empty());
        let (lab_id, follow_id) = (given(&r.lab_id), given(&r.follow_id));
        let opened = self.labs.open(lab_id.as_deref(), follow_id.as_deref()).await?;
        Ok(Response::new(opened.into()))
    }

    async fn examples(
        &self,
        _: Request<pb::ExamplesRequest>,
    ) -> Result<Response<pb::ExamplesReply>, Status> {
        let examples = self
            .labs
            .examples()
            .iter()
            .map(|e| pb::Example {
                name: e.name.to_owned(),
                title: e.title.to_owned(),
                text: e.text.to_owned(),
            })
            .collect();
        Ok(Response::new(pb::ExamplesReply { examples }))
    }

    async fn load(
        &self,
        request: Request<pb::LoadRequest>,
    ) -> Result<Response<pb::LoadReply>, Status> {
        let access = self.labs.access(request.metadata())?;
        let lab = access.owner("load a scenario")?;
        let r = request.into_inner();
        let format: Option<OutputFormat> =
            enum_field::<pb::OutputFormat, _>(r.format, "LoadRequest.format")?;
        let propagation: Option<PropagationMode> =
            enum_field::<pb::PropagationMode, _>(r.propagation, "LoadRequest.propagation")?;
        let guarantees = r.guarantees.map(Guarantees::from);
        let loaded = lab.load_checked(&r.text, &r.name, format, guarantees, propagation);
        let result = match loaded.await {
            Ok(summary) => pb::load_reply::Result::Scenario(summary),
            Err(LoadError::Invalid(error)) => pb::load_reply::Result::Error(error),
            Err(LoadError::TooLarge(limit)) => return Err(limit.into()),
        };
        Ok(Response::new(pb::LoadReply { result: Some(result) }))
    }

    async fn control(
        &self,
        request: Request<pb::ControlRequest>,
    ) -> Result<Response<pb::ControlReply>, Status> {
        let access = self.labs.access(request.metadata())?;
        let lab = access.owner("play, pause, step or restart it")?;
        let r = request.into_inner();
        let command = pb::Command::try_from(r.command)
            .map_err(|_| Status::invalid_argument(format!("unknown command {}", r.command)))?;
        let reply =
            lab.control(command, r.speed).await.map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(reply))
    }

    type WatchStream = EventStream;

    async fn inject(
        &self,
        request: Request<pb::FaultRequest>,
    ) -> Result<Response<pb::FaultReply>, Status> {
        let access = self.labs.access(request.metadata())?;
        let lab = access.owner("inject faults")?;
        let fault = Fault::try_from(request.get_ref())?;
        Ok(Response::new(lab.inject(fault).await))
    }

    async fn compare(
        &self,
        request: Request<pb::CompareRequest>,
    ) -> Result<Response<pb::CompareReply>, Status> {
        // Only a viewer with a lab (counted by --max-labs) may spend the
        // server's CPU, within that lab's limits; a follower may compare too.
        let access = self.labs.access(request.metadata())?;
        let reply = compare::compare_for(&self.labs, access.lab(), request.into_inner()).await?;
        Ok(Response::new(reply))
    }

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let access = self.labs.access(request.metadata())?;
        let pb::WatchRequest { history, from, end_after_ms } = *request.get_ref();
        // The lab does not expire while this stream is open.
        let watcher = access.watcher();
        // In batches read from the one shared history: a slow watcher lags,
        // nothing is copied for it.
        let (follower, closed) = access.lab().follow(history, from);
        let batches = futures::stream::unfold(follower, |mut follower| async move {
            let batch = follower.next_batch(history::BATCH).await;
            Some((batch, follower))
        });
        let stream = futures::StreamExt::flat_map(batches, |batch| {
            let events = batch.into_iter().map(|bytes| Ok(history::decode(&bytes)));
            futures::stream::iter(events)
        });
        // Ends when the lab closes, or when the page asked for a stream
        // that frees its connection in time.
        let lifetime = end_after(end_after_ms);
        let stream = futures::StreamExt::take_until(stream, async move {
            match lifetime {
                Some(lifetime) => {
                    tokio::select! {
                        () = closed.wait() => {}
                        () = tokio::time::sleep(lifetime) => {}
                    }
                }
                None => closed.wait().await,
            }
        })
        .map(move |event| {
            let _watching = &watcher;
            event
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// How long a watch stream that asked to end lasts (`WatchRequest.end_after_ms`
/// within its documented range); `None`: as long as the lab.
fn end_after(end_after_ms: u32) -> Option<Duration> {
    const RANGE: std::ops::RangeInclusive<u32> = 100..=60_000;
    (end_after_ms != 0)
        .then(|| Duration::from_millis(end_after_ms.clamp(*RANGE.start(), *RANGE.end()).into()))
}
