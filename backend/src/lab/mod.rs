//! The lab: one scenario on one live cluster, paced for humans and recorded.
//!
//! The browser visualizer talks to a [`Lab`]. Loading a scenario starts a
//! fresh [`Cluster`] of real branch servers and a customer runner that waits
//! for a permit before each scripted event (the *pacer*): play hands out
//! permits at a steady rate, step hands out one, pause hands out none.
//! Nothing else is slowed down: propagation between branches runs at full
//! speed over real gRPC, and the browser animates the recorded history at
//! its own pace.
//!
//! Everything that happens is appended to a *history* of [`pb::LabEvent`]s
//! (numbered from 0 since the last load or reset) and broadcast live;
//! [`Lab::watch`] replays the history, then follows the live events.
//!
//! Faults and consistency: a scenario may be an *experiment* (see
//! [`bank_core::experiment`]) with session guarantees, a propagation mode, a
//! network plan and a seed. The cluster starts with that network; the plan's
//! timed faults start playing (in real time, from that moment) when the run
//! is first played, not at load, so a paused lab stays as loaded. The browser
//! can inject faults at any time ([`Lab::inject`]); every fault, planned or
//! injected, is recorded as a `NetworkChanged` event. An in-process run always
//! tolerates faults (the runner records an unreachable branch as a failed
//! event and repairs the cluster at the end). When the run finishes, the
//! history checker looks at it and every violation becomes a `ViolationFound`
//! event, just before `Finished`. [`compare`] runs the same scenario twice in
//! the deterministic simulator with two guarantee settings.

pub mod examples;
pub mod gateway;
pub mod service;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bank_core::check::{self, Evidence};
use bank_core::experiment::{self, Settings};
use bank_core::formats::{self, OutputFormat, OutputOptions};
use bank_core::network::{Delay, Fault, TimedFault};
use bank_core::{BranchId, Guarantees, History, Scenario};
use bank_proto as pb;
use tokio::sync::{broadcast, mpsc, watch, Mutex};
use tokio::task::JoinHandle;

use crate::net::transport::channel_to;
use crate::branch::server::periodic_pull;
use crate::cluster::local::{Cluster, ClusterConfig, Control};
use crate::error::RunError;
use crate::lab::examples::Example;
use crate::cluster::remote::ExternalCluster;
use crate::observe::{Activity, ActivitySink};
use crate::customers::pacer::Pacer;
use crate::customers::runner::{run_scenario_on, Repair, RunHooks};
use crate::net::transport::{self, BankChannel};
use crate::wire;

/// Scripted customer events per second when the browser does not say.
pub const DEFAULT_SPEED: f64 = 1.0;
const MIN_SPEED: f64 = 0.05;
const MAX_SPEED: f64 = 50.0;

/// A handle to the lab, cheap to clone (the gRPC services each hold one).
#[derive(Clone, Debug)]
pub struct Lab {
    inner: Arc<Mutex<LabState>>,
    live: broadcast::Sender<pb::LabEvent>,
    examples: Arc<Vec<Example>>,
    /// True once the lab stopped for good: watch streams end then, so a
    /// server's graceful shutdown is not held up by open browser tabs.
    closed: Arc<watch::Sender<bool>>,
    /// Branch processes to run on (`bank serve --cluster`) instead of a
    /// fresh in-process cluster per run.
    external: Option<Arc<ExternalCluster>>,
}

/// A scenario that was loaded, with what is needed to restart and render it.
#[derive(Debug, Clone)]
struct Loaded {
    scenario: Scenario,
    /// How it runs: the browser's choices, else the file's, else the course's.
    plan: experiment::RunPlan,
    summary: pb::ScenarioSummary,
    settings: Settings,
}

#[derive(Debug)]
struct LabState {
    loaded: Option<Loaded>,
    history: Vec<pb::LabEvent>,
    started: Instant,
    /// Bumped by every load and reset, so tasks of an older run stop recording.
    generation: u64,
    run: Option<LiveRun>,
    play: pb::PlayState,
    speed: f64,
}

/// The cluster and tasks of the current run.
#[derive(Debug)]
struct LiveRun {
    /// `None` on an external cluster (it outlives the run).
    cluster: Option<Cluster>,
    channels: std::collections::BTreeMap<bank_core::BranchId, BankChannel>,
    pacer: Arc<Pacer>,
    activity: ActivitySink,
    tasks: Vec<JoinHandle<()>>,
    ticker: Option<JoinHandle<()>>,
    /// Crash / restart / link faults (in-process clusters only).
    control: Option<Arc<Control>>,
    /// The experiment's planned faults, until the run is first played.
    planned: Vec<TimedFault>,
}

/// Where the browser's own customer requests go: the current run's branch
/// addresses and its activity sink.
#[derive(Debug, Clone)]
pub struct CustomerRoute {
    pub channels: std::collections::BTreeMap<bank_core::BranchId, BankChannel>,
    pub activity: ActivitySink,
}

impl Lab {
    pub fn new(examples: Vec<Example>) -> Lab {
        let (live, _) = broadcast::channel(1 << 16);
        let state = LabState {
            loaded: None,
            history: Vec::new(),
            started: Instant::now(),
            generation: 0,
            run: None,
            play: pb::PlayState::Empty,
            speed: DEFAULT_SPEED,
        };
        let (closed, _) = watch::channel(false);
        Lab { inner: Arc::new(Mutex::new(state)), live, examples: Arc::new(examples), closed: Arc::new(closed), external: None }
    }

    /// A lab that runs every scenario on `cluster`'s branch processes.
    pub fn with_external(examples: Vec<Example>, cluster: ExternalCluster) -> Lab {
        Lab { external: Some(Arc::new(cluster)), ..Lab::new(examples) }
    }

    pub fn examples(&self) -> &[Example] {
        &self.examples
    }

    /// Parses `text` and, if it is a valid scenario, replaces the current one
    /// with it on a fresh cluster, paused at the start.
    pub async fn load(&self, text: &str, name: &str, format: &str) -> Result<pb::ScenarioSummary, pb::ScenarioError> {
        self.load_with(text, name, format, "", "").await
    }

    /// [`Lab::load`] with the browser's choice of session guarantees and
    /// propagation mode (empty: the experiment's own, else the course's).
    pub async fn load_with(
        &self,
        text: &str,
        name: &str,
        format: &str,
        guarantees: &str,
        propagation: &str,
    ) -> Result<pb::ScenarioSummary, pb::ScenarioError> {
        let display_name = if name.is_empty() { "scenario" } else { name };
        let plain = |message: String| pb::ScenarioError { message, line: 0, column: 0 };
        let experiment = experiment::parse_experiment(text, display_name).map_err(|e| pb::ScenarioError {
            message: e.message(),
            line: e.line() as u32,
            column: e.column().unwrap_or(0) as u32,
        })?;
        let (scenario, settings) = (experiment.scenario, experiment.settings);
        let format = if format.is_empty() {
            None
        } else {
            Some(format.parse::<OutputFormat>().map_err(|e| plain(e.to_string()))?)
        };
        let guarantees = match guarantees.trim() {
            "" => None,
            g => Some(g.parse::<Guarantees>().map_err(plain)?),
        };
        let propagation = match propagation.trim() {
            "" => None,
            p => Some(experiment::parse_propagation(p).map_err(plain)?),
        };
        // The browser's menu offers the file's own guarantees among its choices.
        let chose = experiment::Overrides { format, propagation, ..Default::default() }
            .picked_guarantees(guarantees, &settings);
        let plan = experiment::RunPlan::resolve(&scenario, &settings, chose);
        let mut summary = wire::scenario_summary(display_name, &scenario, plan.format, plan.schedule);
        summary.guarantees = plan.guarantees.to_string();
        summary.propagation = experiment::propagation_name(plan.propagation).to_owned();
        summary.seed = plan.seed;
        summary.description = settings.description.clone().unwrap_or_default();
        let loaded = Loaded { scenario, plan, summary: summary.clone(), settings };
        let mut state = self.inner.lock().await;
        state.loaded = Some(loaded);
        self.restart(&mut state).await.map_err(|e| plain(e.to_string()))?;
        Ok(summary)
    }

    /// Injects a fault into the live cluster and records it. Answers with
    /// what is broken now, or why the fault could not be applied.
    pub async fn inject(&self, fault: Fault) -> pb::FaultReply {
        let control = {
            let state = self.inner.lock().await;
            let Some(loaded) = &state.loaded else { return fault_error("no scenario is loaded") };
            let ids = loaded.scenario.branch_ids();
            let known = |b: u64| ids.contains(&BranchId(b));
            let named: Vec<u64> = match &fault {
                Fault::Cut([a, b]) | Fault::Heal([a, b]) | Fault::SetDelay { between: [a, b], .. } => vec![*a, *b],
                Fault::Crash(b) | Fault::Restart(b) | Fault::Isolate(b) | Fault::Rejoin(b) => vec![*b],
            };
            if let Some(b) = named.iter().find(|b| !known(**b)) {
                return fault_error(&format!("there is no branch {b}"));
            }
            if let Fault::Cut([a, b]) | Fault::Heal([a, b]) | Fault::SetDelay { between: [a, b], .. } = &fault {
                if a == b {
                    return fault_error(&format!("a link joins two different branches, not {a} and {b}"));
                }
            }
            if let Fault::SetDelay { delay_ms: d, .. } = &fault {
                if d.max_ms() > MAX_INJECTED_DELAY_MS {
                    return fault_error(&format!("a link's delay can be at most {MAX_INJECTED_DELAY_MS} ms"));
                }
            }
            match state.run.as_ref().and_then(|r| r.control.clone()) {
                Some(c) => c,
                None => return fault_error("faults can only be injected into the lab's own cluster, not branch processes"),
            }
        };
        let down = control.down().await;
        match &fault {
            Fault::Crash(b) if down.contains(&BranchId(*b)) => {
                return fault_error_with(&format!("branch {b} is down already"), network_state(&control).await)
            }
            Fault::Restart(b) if !down.contains(&BranchId(*b)) => {
                return fault_error_with(&format!("branch {b} is up: crash it first"), network_state(&control).await)
            }
            _ => {}
        }
        if let Err(e) = control.apply(&fault).await {
            return fault_error_with(&format!("{fault}: {e}"), network_state(&control).await);
        }
        let network = network_state(&control).await;
        let mut state = self.inner.lock().await;
        // Still the same run? (A load or reset in between makes it moot.)
        if state.run.as_ref().and_then(|r| r.control.as_ref()).is_some_and(|c| Arc::ptr_eq(c, &control)) {
            let changed = pb::NetworkChanged { description: fault.to_string(), state: Some(network.clone()) };
            self.push(&mut state, pb::lab_event::Event::Network(changed));
        }
        pb::FaultReply { error: String::new(), state: Some(network) }
    }

    /// Carries out a control command and returns the resulting state.
    pub async fn control(&self, command: pb::Command, speed: f64) -> Result<pb::ControlReply, RunError> {
        let mut state = self.inner.lock().await;
        let speed_given = speed > 0.0 && speed.is_finite();
        if speed_given && matches!(command, pb::Command::Play | pb::Command::SetSpeed) {
            state.speed = speed.clamp(MIN_SPEED, MAX_SPEED);
        }
        if state.loaded.is_none() {
            // Nothing to control yet.
            return Ok(pb::ControlReply { state: state.play as i32, speed: state.speed });
        }
        let playing = state.play == pb::PlayState::Playing;
        match command {
            pb::Command::Reset => self.restart(&mut state).await?,
            pb::Command::Play if state.play == pb::PlayState::Paused => {
                self.set_play(&mut state, pb::PlayState::Playing);
                // The first event goes at once (pressing play should do
                // something), the next ones one period apart.
                if let Some(run) = &state.run {
                    run.pacer.grant();
                }
                let period = Duration::from_secs_f64(1.0 / state.speed);
                self.start_ticker(&mut state, period);
                self.start_planned_faults(&mut state);
            }
            pb::Command::Play | pb::Command::SetSpeed if playing => {
                // A new rate from now on; no extra event for changing it.
                let period = Duration::from_secs_f64(1.0 / state.speed);
                self.start_ticker(&mut state, period);
                let reply = pb::ControlReply { state: state.play as i32, speed: state.speed };
                self.push(&mut state, pb::lab_event::Event::State(reply));
            }
            pb::Command::Pause if playing => {
                stop_ticker(&mut state);
                take_back_permits(&state);
                self.set_play(&mut state, pb::PlayState::Paused);
            }
            pb::Command::Step if matches!(state.play, pb::PlayState::Paused | pb::PlayState::Playing) => {
                stop_ticker(&mut state);
                take_back_permits(&state);
                self.set_play(&mut state, pb::PlayState::Paused);
                if let Some(run) = &state.run {
                    run.pacer.grant();
                }
                self.start_planned_faults(&mut state);
            }
            _ => {}
        }
        Ok(pb::ControlReply { state: state.play as i32, speed: state.speed })
    }

    /// The history so far, then every live event, for one browser; plus a
    /// receiver that turns true when the lab closes (end the stream then).
    pub async fn watch(&self) -> (Vec<pb::LabEvent>, broadcast::Receiver<pb::LabEvent>, watch::Receiver<bool>) {
        let state = self.inner.lock().await;
        // Subscribing while holding the lock: nothing can be appended between
        // the snapshot and the subscription, so nothing is missed or doubled.
        (state.history.clone(), self.live.subscribe(), self.closed.subscribe())
    }

    /// Where a browser customer's request should go, if a scenario is loaded.
    pub async fn customer_route(&self) -> Option<CustomerRoute> {
        let state = self.inner.lock().await;
        state.run.as_ref().map(|run| CustomerRoute { channels: run.channels.clone(), activity: run.activity.clone() })
    }

    /// The current run's pacer, to observe how many scripted events started
    /// and whether the customers are waiting for permission.
    pub async fn pacer(&self) -> Option<Arc<Pacer>> {
        self.inner.lock().await.run.as_ref().map(|run| run.pacer.clone())
    }

    /// Stops the current run and ends every watch stream: the lab is done.
    pub async fn stop(&self) {
        self.closed.send_replace(true);
        let mut state = self.inner.lock().await;
        stop_run(&mut state).await;
    }

    /// Starts the loaded scenario from the beginning on a fresh cluster.
    async fn restart(&self, state: &mut LabState) -> Result<(), RunError> {
        stop_run(state).await;
        let loaded = state.loaded.clone().expect("restart needs a loaded scenario");
        state.generation += 1;
        state.history.clear();
        state.started = Instant::now();
        let generation = state.generation;

        // Branches, customers and the end of the run all report through one
        // channel, so the history keeps cause before effect.
        let (sink, activity_rx) = mpsc::unbounded_channel::<Activity>();
        let mut extra_tasks = Vec::new();
        let (cluster, channels, sink) = match &self.external {
            None => {
                let mut config = ClusterConfig::for_scenario(&loaded.scenario);
                config.clock_scheme = loaded.plan.format.clock_scheme();
                config.activity = Some(sink.clone());
                config.propagation = loaded.plan.propagation;
                // The lab plays the timed faults itself (and records them).
                config.network = bank_core::NetworkPlan { faults: Vec::new(), ..loaded.settings.network.clone() };
                config.seed = loaded.plan.seed;
                // Propagations are retried until acknowledged, and restarts,
                // heals and the final repair pull at once, so periodic pulls
                // are only needed where a write can go missing unresent, and
                // then rarely: well above the slowest link, including the
                // delays a click may set (see `periodic_pull`).
                let clicked = Duration::from_millis(3 * MAX_INJECTED_DELAY_MS);
                config.anti_entropy = periodic_pull(loaded.plan.propagation, &loaded.settings.network, clicked.max(Duration::from_secs(5)));
                let cluster = Cluster::start(config).await?;
                let channels = cluster
                    .addrs()
                    .iter()
                    .map(|(id, addr)| (*id, transport::plain(channel_to(*addr))))
                    .collect();
                (Some(cluster), channels, sink)
            }
            Some(external) => {
                // Branch processes are heard over separate streams: put
                // what arrives back in causal order first.
                let (ordered, reorder) = crate::cluster::causal::reorder(sink);
                extra_tasks.push(reorder);
                extra_tasks.extend(external.watch(ordered.clone()).await?);
                external.reset(&loaded.scenario, loaded.plan.format.clock_scheme(), loaded.plan.propagation).await?;
                (None, external.channels().clone(), ordered)
            }
        };
        let pacer = Arc::new(Pacer::default());
        let control = cluster.as_ref().map(Cluster::control);

        self.push(state, pb::lab_event::Event::Loaded(loaded.summary.clone()));
        state.play = pb::PlayState::Paused;
        let reply = pb::ControlReply { state: state.play as i32, speed: state.speed };
        self.push(state, pb::lab_event::Event::State(reply));

        let runner = {
            // Faults can be injected into an in-process cluster at any time:
            // its runs always tolerate them (and repair at the end).
            let repair = control.as_ref().map(|control| Repair::of(control.clone()));
            let hooks = RunHooks {
                pacer: Some(pacer.clone()),
                activity: Some(sink.clone()),
                guarantees: Some(loaded.plan.guarantees),
                per_customer: loaded.plan.per_customer.clone(),
                repair,
            };
            let scenario = loaded.scenario.clone();
            let channels = channels.clone();
            let schedule = loaded.plan.schedule;
            let end = sink.clone();
            tokio::spawn(async move {
                let result = run_scenario_on(&scenario, &channels, schedule, hooks).await.map(Box::new);
                let _ = end.send(Activity::RunEnded(result));
            })
        };
        let planned = loaded.settings.network.faults.clone();
        let recorder = tokio::spawn(self.clone().record(generation, loaded, activity_rx));
        let mut tasks = vec![runner, recorder];
        tasks.extend(extra_tasks);
        state.run = Some(LiveRun { cluster, channels, pacer, activity: sink, tasks, ticker: None, control, planned });
        Ok(())
    }

    /// Appends what the run reports to the history, until the run ends.
    async fn record(self, generation: u64, loaded: Loaded, mut rx: mpsc::UnboundedReceiver<Activity>) {
        while let Some(item) = rx.recv().await {
            let mut state = self.inner.lock().await;
            if state.generation != generation {
                return;
            }
            match item {
                Activity::RunEnded(Ok(record)) => {
                    for violation in violations(&loaded, &record) {
                        self.push(&mut state, pb::lab_event::Event::Violation(violation));
                    }
                    let output = formats::render(loaded.plan.format, &loaded.scenario, &record, &OutputOptions::default());
                    let finished = pb::Finished { output_json: output, format: loaded.plan.format.as_str().to_owned() };
                    self.push(&mut state, pb::lab_event::Event::Finished(finished));
                    stop_ticker(&mut state);
                    self.set_play(&mut state, pb::PlayState::Finished);
                }
                Activity::RunEnded(Err(RunError::Cancelled)) => return,
                Activity::RunEnded(Err(e)) => {
                    tracing::error!("lab run failed: {e}");
                    stop_ticker(&mut state);
                    self.set_play(&mut state, pb::PlayState::Paused);
                }
                activity => {
                    if let Some(event) = wire::activity_to_lab_event(&activity) {
                        self.push(&mut state, event);
                    }
                }
            }
        }
    }

    /// Starts playing the experiment's timed faults (once per run), each
    /// recorded as a `NetworkChanged` event when applied.
    fn start_planned_faults(&self, state: &mut LabState) {
        let generation = state.generation;
        let Some(run) = state.run.as_mut() else { return };
        let Some(control) = run.control.clone() else { return };
        let mut faults = std::mem::take(&mut run.planned);
        if faults.is_empty() {
            return;
        }
        faults.sort_by_key(|f| f.at_ms);
        let lab = self.clone();
        run.tasks.push(tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            for f in faults {
                tokio::time::sleep_until(start + Duration::from_millis(f.at_ms)).await;
                if let Err(e) = control.apply(&f.fault).await {
                    tracing::error!("{}: {e}", f.fault);
                    continue;
                }
                let network = network_state(&control).await;
                let mut state = lab.inner.lock().await;
                if state.generation != generation {
                    return;
                }
                let changed = pb::NetworkChanged { description: format!("{} (planned, at {} ms)", f.fault, f.at_ms), state: Some(network) };
                lab.push(&mut state, pb::lab_event::Event::Network(changed));
            }
        }));
    }

    fn set_play(&self, state: &mut LabState, play: pb::PlayState) {
        if state.play != play {
            state.play = play;
            let reply = pb::ControlReply { state: play as i32, speed: state.speed };
            self.push(state, pb::lab_event::Event::State(reply));
        }
    }

    /// (Re)starts the task that hands the runner one permit per 1/speed s,
    /// the first one after `first`.
    fn start_ticker(&self, state: &mut LabState, first: Duration) {
        stop_ticker(state);
        let period = Duration::from_secs_f64(1.0 / state.speed);
        if let Some(run) = &mut state.run {
            let pacer = run.pacer.clone();
            run.ticker = Some(tokio::spawn(async move {
                let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + first, period);
                loop {
                    interval.tick().await;
                    pacer.grant_unless_waiting();
                }
            }));
        }
    }

    fn push(&self, state: &mut LabState, event: pb::lab_event::Event) {
        let lab_event = pb::LabEvent {
            seq: state.history.len() as u64,
            at_micros: state.started.elapsed().as_micros() as u64,
            event: Some(event),
        };
        state.history.push(lab_event.clone());
        // No watcher is fine.
        let _ = self.live.send(lab_event);
    }
}

fn fault_error(message: &str) -> pb::FaultReply {
    pb::FaultReply { error: message.to_owned(), state: None }
}

fn fault_error_with(message: &str, state: pb::NetworkState) -> pb::FaultReply {
    pb::FaultReply { error: message.to_owned(), state: Some(state) }
}

/// What is broken in `control`'s cluster right now.
pub async fn network_state(control: &Control) -> pb::NetworkState {
    let down = control.down().await.into_iter().map(|b| b.0).collect();
    let network = control.network();
    let cut = network.cut_links().into_iter().map(|(a, b)| pb::Link { a: a.0, b: b.0 }).collect();
    let delays = network
        .delays()
        .into_iter()
        .map(|(a, b, d)| pb::LinkDelay { link: Some(pb::Link { a: a.0, b: b.0 }), delay_ms: d.max_ms() })
        .collect();
    pb::NetworkState { down, cut, delays }
}

/// The longest delay a link may be given by clicking.
pub const MAX_INJECTED_DELAY_MS: u64 = 2_000;

/// A fault the browser asked for, in core terms.
pub fn fault_from_proto(request: pb::FaultRequest) -> Result<Fault, String> {
    use pb::fault_request::Fault as F;
    let link = |l: Option<pb::Link>| l.map(|l| [l.a, l.b]).ok_or_else(|| "the fault names no link".to_owned());
    Ok(match request.fault.ok_or("the request names no fault")? {
        F::Crash(b) => Fault::Crash(b),
        F::Restart(b) => Fault::Restart(b),
        F::Cut(l) => Fault::Cut([l.a, l.b]),
        F::Heal(l) => Fault::Heal([l.a, l.b]),
        F::SetDelay(d) => Fault::SetDelay { between: link(d.link)?, delay_ms: Delay::Fixed(d.delay_ms) },
        F::Isolate(b) => Fault::Isolate(b),
        F::Rejoin(b) => Fault::Rejoin(b),
    })
}

/// The checker's findings on a finished run, as lab events.
fn violations(loaded: &Loaded, record: &bank_core::RunRecord) -> Vec<pb::ViolationFound> {
    let history = History::from_record(&loaded.scenario, record, &loaded.plan.per_session);
    check::check(&history).violations.iter().map(|v| violation_to_proto(&history, v)).collect()
}

/// One checker violation on the wire: the events, branches and writes it involves.
pub fn violation_to_proto(history: &History, v: &check::Violation) -> pb::ViolationFound {
    let mut event_ids: Vec<u64> = Vec::new();
    let mut branch_ids: Vec<u64> = Vec::new();
    let mut writes: Vec<String> = Vec::new();
    fn add<T: PartialEq>(list: &mut Vec<T>, x: T) {
        if !list.contains(&x) {
            list.push(x);
        }
    }
    for e in &v.evidence {
        match e {
            Evidence::Op { session, index } => {
                if let Some(op) = history.sessions.get(*session).and_then(|s| s.ops.get(*index)) {
                    add(&mut event_ids, op.event.0);
                    add(&mut branch_ids, op.branch.0);
                    if let Some(w) = op.write {
                        add(&mut writes, w.to_string());
                    }
                }
            }
            Evidence::Apply { branch, write } => {
                add(&mut branch_ids, branch.0);
                add(&mut writes, write.to_string());
                let applied = history.branches.iter().flat_map(|b| &b.applied).find(|a| a.write == *write);
                if let Some(a) = applied {
                    add(&mut event_ids, a.event.0);
                }
            }
        }
    }
    pb::ViolationFound {
        anomaly: v.anomaly.short().to_owned(),
        name: v.anomaly.to_string(),
        explanation: v.explanation.clone(),
        guarantee_was_on: v.guarantee_was_on,
        session: v.session.map(|s| s as u32),
        event_ids,
        branch_ids,
        writes,
    }
}

/// Runs `text`'s scenario twice in the simulator, with the same seed (the
/// request's, else the experiment's), once per guarantee setting. CPU only:
/// call it from a blocking task.
pub fn compare(request: &pb::CompareRequest) -> pb::CompareReply {
    let error = |message: String, line: u32, column: u32| pb::CompareReply {
        result: Some(pb::compare_reply::Result::Error(pb::ScenarioError { message, line, column })),
    };
    let experiment = match experiment::parse_experiment(&request.text, "scenario") {
        Ok(e) => e,
        Err(e) => return error(e.message(), e.line() as u32, e.column().unwrap_or(0) as u32),
    };
    let parse = |g: &str| -> Result<Guarantees, String> {
        match g.trim() {
            "" => Ok(experiment.settings.guarantees.unwrap_or(Guarantees::COURSE)),
            g => g.parse::<Guarantees>(),
        }
    };
    let (left, right) = match (parse(&request.left_guarantees), parse(&request.right_guarantees)) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => return error(e, 0, 0),
    };
    let scenario = &experiment.scenario;
    let base = bank_core::experiment::demo::base_for(OutputFormat::default_for(scenario.shape));
    let mut config = bank_core::experiment::demo::sim_config(&experiment.settings, base);
    if request.seed != 0 {
        config.seed = request.seed;
    }
    let seed = config.seed;
    let side = |g: Guarantees| {
        let config = bank_core::sim::SimConfig { guarantees: g, ..config.clone() };
        simulate(scenario, &config)
    };
    let comparison = pb::CompareResult { left: Some(side(left)), right: Some(side(right)), seed };
    pb::CompareReply { result: Some(pb::compare_reply::Result::Comparison(comparison)) }
}

fn simulate(scenario: &Scenario, config: &bank_core::sim::SimConfig) -> pb::SimulatedRun {
    let checked = bank_core::experiment::demo::run_checked(scenario, config);
    let record = &checked.run.record;
    let mut ops: Vec<(u64, pb::SimulatedOp)> = Vec::new();
    for (s, customer) in record.customers.iter().enumerate() {
        for (i, r) in customer.results.iter().enumerate() {
            let amount = scenario.customers.get(s).and_then(|c| c.events.get(i)).map_or(0, |e| e.op.amount().0);
            let error = match &r.outcome {
                bank_core::Outcome::Failed { reason, .. } => reason.to_string(),
                bank_core::Outcome::Success { .. } => String::new(),
            };
            ops.push((
                r.completion,
                pb::SimulatedOp {
                    session: s as u32,
                    customer_id: customer.customer.0,
                    event_id: r.event.0,
                    branch_id: r.branch.0,
                    operation: wire::op_kind_to_proto(r.op) as i32,
                    amount_cents: amount,
                    ok: r.outcome.is_success(),
                    balance_cents: r.outcome.balance().0,
                    error,
                },
            ));
        }
    }
    ops.sort_by_key(|(c, _)| *c);
    pb::SimulatedRun {
        guarantees: config.guarantees.to_string(),
        ops: ops.into_iter().map(|(_, op)| op).collect(),
        violations: checked.report.violations.iter().map(|v| violation_to_proto(&checked.history, v)).collect(),
        final_balances: record.branches.iter().map(|b| pb::BranchInfo { id: b.id.0, balance_cents: b.balance.0 }).collect(),
        duration_ms: checked.run.end_us / 1000,
    }
}

/// Takes back permits handed out but not used yet, so that after a pause no
/// further scripted event starts.
fn take_back_permits(state: &LabState) {
    if let Some(run) = &state.run {
        run.pacer.take_back();
    }
}

fn stop_ticker(state: &mut LabState) {
    if let Some(ticker) = state.run.as_mut().and_then(|r| r.ticker.take()) {
        ticker.abort();
    }
}

async fn stop_run(state: &mut LabState) {
    if let Some(run) = state.run.take() {
        if let Some(t) = run.ticker {
            t.abort();
        }
        // Waking the runner's waiting sessions with an error ends them.
        run.pacer.close();
        for t in run.tasks {
            t.abort();
        }
        if let Some(cluster) = run.cluster {
            cluster.shutdown().await;
        }
    }
    state.play = if state.loaded.is_some() { pb::PlayState::Paused } else { pb::PlayState::Empty };
}
