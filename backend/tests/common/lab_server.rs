//! A `bank serve` web origin in the test process (the router over a
//! [`Labs`] registry on a loopback port), and gRPC clients that name their
//! lab in the `x-lab-id` header the way the page does.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bank_backend::lab::registry::{Labs, LabsConfig, LAB_HEADER};
use bank_backend::lab::{examples, Lab};
use bank_backend::web;
use bank_proto as pb;
use bank_proto::customer_client::CustomerClient;
use bank_proto::lab_client::LabClient;
use tokio::sync::oneshot;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Adds `x-lab-id: <id>` to every call.
#[derive(Clone, Debug)]
pub struct WithLab(pub AsciiMetadataValue);

impl tonic::service::Interceptor for WithLab {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert(LAB_HEADER, self.0.clone());
        Ok(request)
    }
}

/// A `Lab` client for one lab (by its lab id or follow id).
pub type LabFor = LabClient<InterceptedService<Channel, WithLab>>;
/// A `Customer` client of the web origin's gateway, for one lab.
pub type CustomerFor = CustomerClient<InterceptedService<Channel, WithLab>>;

/// The web origin, serving `labs` until [`WebOrigin::shutdown`].
#[derive(Debug)]
pub struct WebOrigin {
    pub addr: SocketAddr,
    pub labs: Labs,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebOrigin {
    /// Serves a fresh registry made with `config`, static files from `dist`.
    pub async fn start(config: LabsConfig, dist: &Path) -> WebOrigin {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let labs = Labs::new(config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let app = web::router(labs.clone(), dist, &[]);
        let task = tokio::spawn(async move {
            web::serve(listener, app, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        WebOrigin { addr, labs, stop: Some(stop), task }
    }

    /// The default limits, every lab starting with seed-test-1.
    pub fn config() -> LabsConfig {
        let example = examples::find("seed-test-1").unwrap();
        LabsConfig::new(example.name, example.text)
    }

    pub fn channel(&self) -> Channel {
        bank_backend::net::transport::channel_to(self.addr)
    }

    /// A `Lab` client that names no lab (for `Open`, `Examples`, `Compare`).
    pub fn anonymous(&self) -> LabClient<Channel> {
        LabClient::new(self.channel())
    }

    /// `Open` over gRPC: `(lab_id, follow_id)` as the request fields.
    pub async fn open(
        &self,
        lab_id: &str,
        follow_id: &str,
    ) -> Result<pb::OpenReply, tonic::Status> {
        let request = pb::OpenRequest { lab_id: lab_id.into(), follow_id: follow_id.into() };
        self.anonymous().open(request).await.map(|r| r.into_inner())
    }

    /// A new lab, as a page without `?lab=` opens one.
    pub async fn open_new(&self) -> pb::OpenReply {
        self.open("", "").await.expect("a new lab opens")
    }

    /// A `Lab` client whose calls name `id`.
    pub fn lab_client(&self, id: &str) -> LabFor {
        LabClient::with_interceptor(self.channel(), WithLab(id.parse().unwrap()))
    }

    /// A gateway `Customer` client whose calls name `id`.
    pub fn customer_client(&self, id: &str) -> CustomerFor {
        CustomerClient::with_interceptor(self.channel(), WithLab(id.parse().unwrap()))
    }

    /// The [`Lab`] behind `id` (to look at its pacer or its ports).
    pub fn lab(&self, id: &str) -> Lab {
        let mut metadata = MetadataMap::new();
        metadata.insert(LAB_HEADER, id.parse().unwrap());
        self.labs.access(&metadata).expect("the lab runs").lab().clone()
    }

    /// As `bank serve` does on Ctrl-C: stop every lab (ending watch
    /// streams), then let the server drain. Hangs here would be hangs for
    /// users.
    pub async fn shutdown(mut self) {
        self.labs.stop_all().await;
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("server shuts down with clients connected")
            .unwrap();
    }
}
