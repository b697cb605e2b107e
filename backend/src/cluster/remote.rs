//! Driving a cluster of branch processes (`bank run --cluster`,
//! `bank serve --cluster`).
//!
//! The in-process [`crate::cluster::local::Cluster`] is started fresh for every run,
//! with the run's balances and modes. An external cluster is already running,
//! maybe on other machines, so a run starts by asking every branch to start
//! over: [`ExternalCluster::reset`] sends `Admin.Reset` with the input's
//! balance for that branch, the format's clock scheme, the propagation mode
//! and a fresh epoch, and checks that the branches are the ones the input
//! names. Customers then talk to the branches' addresses exactly as they do
//! in-process ([`crate::customers::runner::run_scenario_on`]), so the output is the same.
//!
//! For the visualizer, [`ExternalCluster::watch`] opens an `Admin.Trace`
//! stream per branch and turns what arrives into the activity an in-process
//! node would have reported.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use bank_core::branch::PropagationMode;
use bank_core::{BranchId, ClockScheme, Scenario};
use bank_proto as pb;
use bank_proto::admin_client::AdminClient;
use tokio::task::JoinHandle;

use crate::cluster::file::ClusterFile;
use crate::error::{RunError, SetupError};
use crate::net::transport::{self, BankChannel, ClientSecurity};
use crate::observe::{Activity, ActivitySink};

/// Channels to every branch of a running external cluster.
#[derive(Clone, Debug)]
pub struct ExternalCluster {
    addrs: BTreeMap<BranchId, String>,
    channels: BTreeMap<BranchId, BankChannel>,
}

impl ExternalCluster {
    /// Lazily-connected channels to every branch of `file` (nothing is
    /// dialled until the first call).
    pub fn connect(
        file: &ClusterFile,
        security: &ClientSecurity,
    ) -> Result<ExternalCluster, SetupError> {
        let addrs = file.addrs();
        let channels = addrs
            .iter()
            .map(|(id, addr)| Ok((*id, transport::connect_lazy(addr, security)?)))
            .collect::<Result<_, SetupError>>()?;
        Ok(ExternalCluster { addrs, channels })
    }

    pub fn addrs(&self) -> &BTreeMap<BranchId, String> {
        &self.addrs
    }

    pub fn channels(&self) -> &BTreeMap<BranchId, BankChannel> {
        &self.channels
    }

    fn name(&self, id: BranchId) -> String {
        format!("{id} ({})", self.addrs.get(&id).map_or("?", String::as_str))
    }

    /// Starts every branch over for `scenario` and returns the run's epoch.
    /// Fails if the scenario's branches are not exactly the cluster's, or if
    /// a branch answers with another id or other peers than the file says.
    pub async fn reset(
        &self,
        scenario: &Scenario,
        clock_scheme: ClockScheme,
        propagation: PropagationMode,
    ) -> Result<u64, RunError> {
        let ours: BTreeSet<BranchId> = self.channels.keys().copied().collect();
        let theirs: BTreeSet<BranchId> = scenario.branches.iter().map(|b| b.id).collect();
        if ours != theirs {
            return Err(RunError::Cluster(format!(
                "the input has branches {} but the cluster file lists {}: they must be the same",
                list(&theirs),
                list(&ours)
            )));
        }
        let epoch = new_epoch();
        let calls = scenario.branches.iter().map(|b| {
            let reset = bank_core::RunSettings { balance: b.balance, clock_scheme, propagation, epoch };
            let channel = self.channels[&b.id].clone();
            let ours = &ours;
            async move {
                let reply = AdminClient::new(channel)
                    .reset(pb::ResetRequest::from(&reset))
                    .await
                    .map_err(|status| RunError::Rpc { branch: self.name(b.id), status })?
                    .into_inner();
                if reply.branch_id != b.id.0 {
                    return Err(RunError::Cluster(format!(
                        "{} answered as branch {}: the cluster file has the wrong address for it",
                        self.name(b.id),
                        reply.branch_id
                    )));
                }
                let peers: BTreeSet<BranchId> = reply.peers.iter().map(|p| BranchId(*p)).collect();
                let expected: BTreeSet<BranchId> = ours.iter().copied().filter(|p| *p != b.id).collect();
                if peers != expected {
                    return Err(RunError::Cluster(format!(
                        "{} propagates to {}, but the cluster file has {}: start every branch with the same cluster",
                        self.name(b.id),
                        list(&peers),
                        list(&expected)
                    )));
                }
                Ok(())
            }
        });
        futures::future::try_join_all(calls).await?;
        Ok(epoch)
    }

    /// Follows every branch's log: once this returns, every entry logged
    /// from now on reaches `sink` as [`Activity::Logged`].
    /// The tasks end when a branch closes its stream or the sink is dropped.
    pub async fn watch(&self, sink: ActivitySink) -> Result<Vec<JoinHandle<()>>, RunError> {
        let mut streams = Vec::new();
        for (id, channel) in &self.channels {
            let stream = AdminClient::new(channel.clone())
                .trace(pb::TraceRequest {})
                .await
                .map_err(|status| RunError::Rpc { branch: self.name(*id), status })?
                .into_inner();
            streams.push((*id, stream));
        }
        Ok(streams
            .into_iter()
            .map(|(id, mut stream)| {
                let sink = sink.clone();
                tokio::spawn(async move {
                    loop {
                        match stream.message().await {
                            Ok(Some(logged)) => match Activity::try_from(&logged) {
                                Ok(activity) => {
                                    if sink.send(activity).is_err() {
                                        return;
                                    }
                                }
                                Err(e) => {
                                    tracing::warn!(branch = id.0, "malformed trace entry: {e}")
                                }
                            },
                            Ok(None) => return,
                            Err(status) => {
                                tracing::warn!(branch = id.0, "trace stream ended: {status}");
                                return;
                            }
                        }
                    }
                })
            })
            .collect())
    }
}

/// A fresh, non-zero epoch: the time in nanoseconds, so two runs started one
/// after another never share one.
fn new_epoch() -> u64 {
    let nanos =
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    nanos.max(1)
}

fn list(ids: &BTreeSet<BranchId>) -> String {
    let ids: Vec<String> = ids.iter().map(|b| b.0.to_string()).collect();
    format!("[{}]", ids.join(", "))
}
