//! Runs a scenario's customers against branch servers over gRPC.
//!
//! Every customer session is its own task with its own [`Session`] (write
//! set and Lamport counter) and sends its events one at a time, awaiting
//! each answer: completion is always an acknowledgement, never a timer. The
//! [`Schedule`]'s phases decide which sessions run together (the same plan
//! the simulator follows). When all customers are done, every branch is
//! asked for its state with the `Inspect` RPC.
//!
//! Every run ends, the same way whatever the timing: a request has a
//! deadline ([`RunHooks::request_timeout`], [`DEFAULT_REQUEST_TIMEOUT`] by
//! default). A branch that refuses the connection, is shut down, or does
//! not answer in time is an answer too: the customer records an
//! *unavailable* failure naming the branch and what happened, and goes on.
//! Waiting for quiet branches is bounded by the same deadline: a branch
//! that stays busy (its writes waiting for a peer that is gone) is taken as
//! it is, and a branch that cannot be reached at the end is left out of the
//! final states (with a warning).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bank_core::branch::Reply;
use bank_core::{
    BranchId, EventResult, Guarantees, RunRecord, Scenario, Schedule, Session, WriteSet,
};
use bank_proto as pb;
use bank_proto::admin_client::AdminClient;
use bank_proto::customer_client::CustomerClient;
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt};

use crate::cluster::local::Control;
use crate::customers::pacer::Pacer;
use crate::error::RunError;
use crate::net::transport::{self, channel_to, BankChannel};
use crate::observe::{report, Activity, ActivitySink};

/// Optional hooks into a run, for the visualizer.
#[derive(Clone, Debug, Default)]
pub struct RunHooks {
    /// When set, every scripted event first takes (and consumes) one permit:
    /// the lab's play / step controls hand out permits.
    pub pacer: Option<Arc<Pacer>>,
    /// Receives `Sent` / `Answered` for every customer event.
    pub activity: Option<ActivitySink>,
    /// The session guarantees every customer asks for (`None`: the course's)...
    pub guarantees: Option<Guarantees>,
    /// ...except these customers'.
    pub per_customer: BTreeMap<bank_core::CustomerId, Guarantees>,
    /// Set when faults are planned or may be injected. A branch that cannot
    /// be reached then answers for itself: the customer records a failed
    /// (not ready) event and goes on. Phase boundaries do not wait for
    /// quiet branches (a cut link would hold them forever), and the final
    /// state is taken after `repair` ran and every branch has every write.
    pub repair: Option<Repair>,
    /// How long a customer waits for an answer before it records the
    /// request as failed (unavailable); `None`: [`DEFAULT_REQUEST_TIMEOUT`].
    /// Also bounds each wait for quiet branches.
    pub request_timeout: Option<Duration>,
}

/// How long a customer waits for a branch's answer unless told otherwise.
/// Longer than a branch's own bounded waits (its park timeout, 5 s, and its
/// propagation deadline, [`crate::branch::link::PEER_DEADLINE`]), so a
/// branch that is up answers with its own reason before the customer gives
/// up on it.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest branch state a run takes from `Inspect` (gRPC's default
/// limit, 4 MiB, is one branch's log after some 100,000 events on three
/// branches). A state beyond it fails that branch's inspection, which the
/// run reports like an unreachable branch.
pub const MAX_STATE_BYTES: usize = 256 * 1024 * 1024;

/// Heals every link, restarts every crashed branch and starts an
/// anti-entropy round on every branch.
#[derive(Clone)]
pub struct Repair(pub Arc<dyn Fn() -> futures::future::BoxFuture<'static, ()> + Send + Sync>);

impl Repair {
    /// [`Control::repair`] as the end-of-run hook (errors are logged).
    pub fn of(control: Arc<Control>) -> Repair {
        Repair(Arc::new(move || {
            let control = control.clone();
            Box::pin(async move {
                if let Err(e) = control.repair().await {
                    tracing::error!("repairing the cluster: {e}");
                }
            })
        }))
    }
}

impl std::fmt::Debug for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Repair")
    }
}

/// Each branch's state, taken once it is quiet. One pass is enough: a branch
/// is quiet only once all its own writes are acknowledged by every peer, and
/// with no customer sending nobody creates new writes, so once each branch
/// has been quiet, no message is in flight anywhere.
/// `full: false` asks for balances and clocks only (no logs, no write sets).
/// All branches are asked at once, briefly; each answers when it is quiet,
/// or after `patience` as it is then. With `full`, the whole states are
/// then fetched [`FULL_STATES_AT_ONCE`] branches at a time: a state grows
/// with the run (a bank of n branches logs n·(n-1) propagations), and n of
/// them in flight at once, each as a message and a copy, would make the
/// run's peak memory several times its result. A branch that cannot be
/// reached is left out (and logged): the run still ends, with the states
/// it could get.
async fn inspect_when_quiet(
    channels: &BTreeMap<BranchId, BankChannel>,
    full: bool,
    patience: Duration,
) -> Result<Vec<bank_core::BranchRecord>, RunError> {
    let calls = channels.iter().map(|(id, channel)| async move {
        let state = inspect(*id, channel.clone(), true, true, patience).await?;
        Ok::<_, RunError>(state.map(|s| (*id, channel.clone(), s)))
    });
    let quiet = futures::future::try_join_all(calls).await?.into_iter().flatten();
    if !full {
        return Ok(quiet.map(|(_, _, state)| state).collect());
    }
    let answered: Vec<_> = quiet.map(|(id, channel, _)| (id, channel)).collect();
    let states: Vec<_> = futures::stream::iter(answered)
        .map(|(id, channel)| inspect(id, channel, false, false, patience))
        .buffered(FULL_STATES_AT_ONCE)
        .try_collect()
        .await?;
    Ok(states.into_iter().flatten().collect())
}

/// How many branches' full states a run fetches at once (see
/// [`inspect_when_quiet`]).
const FULL_STATES_AT_ONCE: usize = 4;

/// One branch's state (`brief`: balance and clock only); with `quiet`, once
/// it is quiet or, after `patience`, as it is then. `None` (and a warning)
/// if it cannot be reached.
async fn inspect(
    id: BranchId,
    channel: BankChannel,
    quiet: bool,
    brief: bool,
    patience: Duration,
) -> Result<Option<bank_core::BranchRecord>, RunError> {
    let mut admin = AdminClient::new(channel).max_decoding_message_size(MAX_STATE_BYTES);
    let now = pb::InspectRequest { wait_until_quiet: false, brief };
    let in_time = |answer: Result<_, tokio::time::error::Elapsed>| {
        answer.unwrap_or_else(|_| Err(tonic::Status::deadline_exceeded("no answer")))
    };
    let state = if quiet {
        let when_quiet = pb::InspectRequest { wait_until_quiet: true, brief };
        match tokio::time::timeout(patience, admin.inspect(when_quiet)).await {
            Ok(answer) => answer,
            Err(_) => {
                tracing::warn!(
                    branch = id.0,
                    "{id} is still busy after {patience:?} (writes waiting for a peer \
                     that is down?): taking its state as it is"
                );
                in_time(tokio::time::timeout(patience, admin.inspect(now)).await)
            }
        }
    } else {
        in_time(tokio::time::timeout(patience, admin.inspect(now)).await)
    };
    match state {
        Ok(state) => Ok(Some(bank_core::BranchRecord::try_from(state.get_ref())?)),
        Err(status) => {
            tracing::warn!(
                branch = id.0,
                "{id} cannot be inspected ({}): its final state is left out",
                status.message()
            );
            Ok(None)
        }
    }
}

/// What the customer records when `branch` gave no answer to `request`.
fn unavailable(request: &bank_core::Request, why: String) -> Reply {
    Reply::unanswered(request, format!("branch {} did not answer: {why}", request.branch.0))
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
    let channels: BTreeMap<BranchId, BankChannel> =
        addrs.iter().map(|(id, addr)| (*id, transport::plain(channel_to(*addr)))).collect();
    run_scenario_on(scenario, &channels, schedule, hooks).await
}

/// [`run_scenario_with`] over channels already made (an external cluster,
/// reached with its token and TLS settings: see [`crate::cluster::remote`]).
pub async fn run_scenario_on(
    scenario: &Scenario,
    channels: &BTreeMap<BranchId, BankChannel>,
    schedule: Schedule,
    hooks: RunHooks,
) -> Result<RunRecord, RunError> {
    let completion = Arc::new(AtomicU64::new(0));
    let deadline = hooks.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
    let mut results: Vec<Vec<Option<EventResult>>> =
        scenario.customers.iter().map(|c| vec![None; c.events.len()]).collect();
    let guarantees = hooks.guarantees.unwrap_or_default();
    let mut sessions: Vec<Option<Session>> = scenario
        .customers
        .iter()
        .zip(bank_core::guarantees::per_session(scenario, guarantees, &hooks.per_customer))
        .map(|(c, g)| Some(Session::with_guarantees(c.id, g)))
        .collect();

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
                    report(&hooks.activity, || Activity::Sent {
                        session: session_index,
                        from_browser: false,
                        request: request.clone(),
                    });
                    let channel =
                        channels.get(&event.branch).cloned().ok_or_else(|| RunError::Rpc {
                            branch: event.branch.to_string(),
                            status: tonic::Status::not_found("no such branch"),
                        })?;
                    let mut client = CustomerClient::new(channel);
                    let call = client.request(pb::CustomerRequest::from(&request));
                    // An unreachable, crashed or silent branch is an answer.
                    let reply = match tokio::time::timeout(deadline, call).await {
                        Ok(Ok(reply)) => Reply::try_from(reply.get_ref())?,
                        Ok(Err(status)) => unavailable(&request, status.message().to_owned()),
                        Err(_) => unavailable(&request, format!("no answer within {deadline:?}")),
                    };
                    session.observe(&reply);
                    report(&hooks.activity, || Activity::Answered {
                        session: session_index,
                        from_browser: false,
                        reply: reply.clone(),
                    });
                    answers.push((
                        e,
                        EventResult {
                            event: event.id,
                            op: reply.op,
                            branch: reply.branch,
                            outcome: reply.outcome,
                            customer_clock: request.clock,
                            completion: completion.fetch_add(1, Ordering::SeqCst),
                            write: reply.write,
                            observed: reply.observed.clone(),
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
        if hooks.repair.is_none() {
            inspect_when_quiet(channels, false, deadline).await?;
        }
    }

    // The final state once nothing is in flight (with background
    // propagation, customers are answered before their writes arrive).
    let branches = match &hooks.repair {
        None => inspect_when_quiet(channels, true, deadline).await?,
        Some(repair) => converge(channels, repair, deadline).await?,
    };
    Ok(RunRecord::from_answers(scenario, results, branches))
}

/// After faults: repair everything, then wait until every branch is quiet
/// and has applied the same writes. Each round is event-driven (an inspect
/// answers when its branch is quiet); a round that finds the branches still
/// apart starts another anti-entropy round.
async fn converge(
    channels: &BTreeMap<BranchId, BankChannel>,
    repair: &Repair,
    patience: Duration,
) -> Result<Vec<bank_core::BranchRecord>, RunError> {
    const ROUNDS: usize = 20;
    for _ in 0..ROUNDS {
        (repair.0)().await;
        let states = inspect_when_quiet(channels, true, patience).await?;
        let applied: Vec<WriteSet> =
            states.iter().map(|b| b.applied.iter().map(|a| a.write.write).collect()).collect();
        if applied.windows(2).all(|w| w[0] == w[1]) {
            return Ok(states);
        }
    }
    Err(RunError::Rpc {
        branch: "cluster".into(),
        status: tonic::Status::internal(format!(
            "the branches did not converge after {ROUNDS} anti-entropy rounds"
        )),
    })
}
