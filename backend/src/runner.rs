//! Runs a scenario's customers against branch servers over gRPC.
//!
//! Every customer session is its own task with its own [`Session`] (write
//! set and Lamport counter) and sends its events one at a time, awaiting
//! each answer: completion is always an acknowledgement, never a timer. The
//! [`Schedule`]'s phases decide which sessions run together (the same plan
//! the simulator follows). When all customers are done, every branch is
//! asked for its state with the `Inspect` RPC.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bank_core::{BranchId, EventResult, RunRecord, Scenario, Schedule, Session};
use bank_proto::branch_client::BranchClient;
use bank_proto as pb;
use futures::future::try_join_all;

use crate::cluster::channel_to;
use crate::error::RunError;
use crate::observe::{report, Activity, ActivitySink};
use crate::pacer::Pacer;
use crate::transport::{self, BankChannel};
use crate::wire;

/// Optional hooks into a run, for the visualizer.
#[derive(Clone, Debug, Default)]
pub struct RunHooks {
    /// When set, every scripted event first takes (and consumes) one permit:
    /// the lab's play / step controls hand out permits.
    pub pacer: Option<Arc<Pacer>>,
    /// Receives `Sent` / `Answered` for every customer event.
    pub activity: Option<ActivitySink>,
}

/// Each branch's state, taken once it is quiet. One pass is enough: a branch
/// is quiet only once all its own writes are acknowledged by every peer, and
/// with no customer sending nobody creates new writes, so once each branch
/// has been quiet, no message is in flight anywhere.
/// `full: false` asks for balances and clocks only (no logs, no write sets).
/// All branches are asked at once; each answers when it is quiet.
async fn inspect_when_quiet(
    channels: &BTreeMap<BranchId, BankChannel>,
    full: bool,
) -> Result<Vec<bank_core::BranchRecord>, RunError> {
    let calls = channels.iter().map(|(id, channel)| async move {
        let state = BranchClient::new(channel.clone())
            .inspect(pb::InspectRequest { wait_until_quiet: true, brief: !full })
            .await
            .map_err(|status| RunError::Rpc { branch: id.to_string(), status })?
            .into_inner();
        Ok::<_, RunError>(wire::branch_state_from_proto(state)?)
    });
    futures::future::try_join_all(calls).await
}

/// Runs every customer of `scenario` against the branches at `addrs` and
/// collects the answers and the branches' final states.
pub async fn run_scenario(
    scenario: &Scenario,
    addrs: &BTreeMap<BranchId, SocketAddr>,
    schedule: Schedule,
) -> Result<RunRecord, RunError> {
    run_scenario_with(scenario, addrs, schedule, RunHooks::default()).await
}

/// [`run_scenario`] with a pacer and an activity sink.
pub async fn run_scenario_with(
    scenario: &Scenario,
    addrs: &BTreeMap<BranchId, SocketAddr>,
    schedule: Schedule,
    hooks: RunHooks,
) -> Result<RunRecord, RunError> {
    let channels: BTreeMap<BranchId, BankChannel> = addrs
        .iter()
        .map(|(id, addr)| Ok((*id, transport::plain(channel_to(*addr)?))))
        .collect::<Result<_, RunError>>()?;
    run_scenario_on(scenario, &channels, schedule, hooks).await
}

/// [`run_scenario_with`] over channels already made (an external cluster,
/// reached with its token and TLS settings: see [`crate::external`]).
pub async fn run_scenario_on(
    scenario: &Scenario,
    channels: &BTreeMap<BranchId, BankChannel>,
    schedule: Schedule,
    hooks: RunHooks,
) -> Result<RunRecord, RunError> {
    let completion = Arc::new(AtomicU64::new(0));
    let mut results: Vec<Vec<Option<EventResult>>> =
        scenario.customers.iter().map(|c| vec![None; c.events.len()]).collect();
    let mut sessions: Vec<Option<Session>> = scenario.customers.iter().map(|c| Some(Session::new(c.id))).collect();

    for phase in schedule.phases(scenario) {
        let tasks = phase.iter().map(|run| {
            let mut session = sessions[run.session].take().expect("a session runs once per phase");
            let script = scenario.customers[run.session].clone();
            let events = run.events.clone();
            let channels = channels.clone();
            let completion = completion.clone();
            let index = run.session;
            let hooks = hooks.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                let session_index = index as u32;
                for e in events {
                    if let Some(pacer) = &hooks.pacer {
                        // A closed pacer means the lab was reset: stop quietly.
                        pacer.wait_turn().await.map_err(|_| RunError::Cancelled)?;
                    }
                    let event = &script.events[e];
                    let request = session.request(event.id, event.branch, event.op);
                    report(&hooks.activity, || Activity::Sent { session: session_index, from_browser: false, request: request.clone() });
                    let channel = channels.get(&event.branch).cloned().ok_or_else(|| RunError::Rpc {
                        branch: event.branch.to_string(),
                        status: tonic::Status::not_found("no such branch"),
                    })?;
                    let reply = BranchClient::new(channel)
                        .request(wire::request_to_proto(&request))
                        .await
                        .map_err(|status| RunError::Rpc { branch: event.branch.to_string(), status })?
                        .into_inner();
                    let reply = wire::reply_from_proto(reply, script.id)?;
                    session.observe(&reply);
                    report(&hooks.activity, || Activity::Answered { session: session_index, from_browser: false, reply: reply.clone() });
                    answers.push((
                        e,
                        EventResult {
                            event: event.id,
                            op: reply.op,
                            branch: reply.branch,
                            outcome: reply.outcome,
                            customer_clock: request.clock,
                            completion: completion.fetch_add(1, Ordering::SeqCst),
                        },
                    ));
                }
                Ok::<_, RunError>((index, session, answers))
            })
        });
        let finished = try_join_all(tasks).await.map_err(|join| RunError::Rpc {
            branch: "customer task".into(),
            status: tonic::Status::internal(join.to_string()),
        })?;
        for outcome in finished {
            let (index, session, answers) = outcome?;
            sessions[index] = Some(session);
            for (e, result) in answers {
                results[index][e] = Some(result);
            }
        }
        // A phase ends when every write of it has reached every branch, as in
        // the simulator (and as the writes-first convention requires).
        inspect_when_quiet(channels, false).await?;
    }

    // The final state once nothing is in flight (with background
    // propagation, customers are answered before their writes arrive).
    let branches = inspect_when_quiet(channels, true).await?;
    Ok(RunRecord::from_answers(scenario, results, branches))
}
