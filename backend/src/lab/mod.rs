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
//! (numbered from 0 since the last load or reset), kept compact and shared
//! by every watcher ([`history`]); [`Lab::follow`] reads it from the start
//! and then as it grows.
//!
//! A server holds many labs, one per page load ([`registry`]); each is
//! independent (its own cluster, history, pacing and faults) and bounded by
//! [`Limits`]: a scenario with too many branches or scripted events is
//! refused at load, and a run whose history reaches the cap is stopped with
//! a `halted` event.
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
//!
//! Settings are typed from the wire on: the browser's choices of output
//! format, guarantees and propagation mode arrive as `Option`s (`None`: no
//! choice), and [`RunPlan::resolve`] decides every setting of the run once,
//! from those choices, the experiment file's settings and the course's
//! defaults.
//!
//! | module | what it holds |
//! |---|---|
//! | this one | [`Lab`]: the loaded scenario, its live run and history; load, play, inject |
//! | [`events`] | the proto messages the lab records and answers, built from its state |
//! | [`history`] | the recorded events, compact, and the cursors that follow them |
//! | [`compare`] | the side-by-side comparison in the simulator |
//! | [`registry`] | [`registry::Labs`]: every lab of a server by id, owners and followers, limits, idle expiry |
//! | [`key`] | the random ids that name a lab and its follow link |
//! | [`instance`] | `--instance`: which server process issued an id, for a proxy to route on |
//! | [`limits`] | per-lab caps and the words of a refusal |
//! | [`service`] | the `Lab` gRPC service over the registry |
//! | [`gateway`] | the `Customer` service on the web origin, into a lab's cluster |
//! | [`examples`] | the shipped example scenarios |

pub mod compare;
pub mod events;
pub mod examples;
pub mod gateway;
pub mod history;
pub mod instance;
pub mod key;
pub mod limits;
pub mod registry;
pub mod service;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bank_core::branch::PropagationMode;
use bank_core::experiment::RunPlan;
use bank_core::formats::OutputFormat;
use bank_core::network::{Fault, TimedFault};
use bank_core::{Guarantees, Scenario};
use bank_proto as pb;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

use crate::branch::server::periodic_pull;
use crate::cluster::local::{Cluster, ClusterConfig, Control};
use crate::cluster::remote::ExternalCluster;
use crate::customers::pacer::Pacer;
use crate::customers::runner::{run_scenario_on, Repair, RunHooks};
use crate::error::RunError;
use crate::lab::examples::Example;
use crate::net::transport::BankChannel;
use crate::observe::{Activity, ActivitySink};
use crate::shutdown::Shutdown;
use bank_proto::lab_trace::Prepared;
use events::{fault_refused, network_state};
use history::{Follower, History};
use limits::{LimitReached, Limits};

/// Scripted customer events per second when the browser does not say.
pub const DEFAULT_SPEED: f64 = 1.0;
const MIN_SPEED: f64 = 0.05;
const MAX_SPEED: f64 = 50.0;
/// The most reported items [`Lab::record`] takes under one lock.
const RECORD_BATCH: usize = 256;

/// A handle to the lab, cheap to clone (the gRPC services each hold one).
#[derive(Clone, Debug)]
pub struct Lab {
    inner: Arc<Mutex<LabState>>,
    /// What was recorded since the last load or reset; appended to under
    /// the state's lock, read by watchers without it.
    history: History,
    examples: Arc<Vec<Example>>,
    /// True once the lab stopped for good: watch streams end then, so a
    /// server's graceful shutdown is not held up by open browser tabs.
    closed: Shutdown,
    /// Branch processes to run on (`bank serve --cluster`) instead of a
    /// fresh in-process cluster per run.
    external: Option<Arc<ExternalCluster>>,
    /// What a scenario and a run may use.
    limits: Limits,
    /// Set while a `Lab.Compare` of this lab waits or computes: one at a
    /// time per lab, so one viewer cannot queue up the server's CPU.
    comparing: Arc<std::sync::atomic::AtomicBool>,
}

/// This lab's one comparison, waiting or computing; dropped when it ends.
#[derive(Debug)]
pub struct Comparing(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Comparing {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Why [`Lab::load_checked`] did not load a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadError {
    /// The text is not a scenario, or its cluster would not start.
    Invalid(pb::ScenarioError),
    /// The scenario is larger than this lab's [`Limits`].
    TooLarge(LimitReached),
}

impl From<LoadError> for pb::ScenarioError {
    fn from(error: LoadError) -> pb::ScenarioError {
        match error {
            LoadError::Invalid(e) => e,
            LoadError::TooLarge(limit) => events::refused(limit.0),
        }
    }
}

/// A scenario that was loaded, with what is needed to restart and render it.
#[derive(Debug, Clone)]
struct Loaded {
    scenario: Scenario,
    /// How it runs: the browser's choices, else the file's, else the course's.
    plan: RunPlan,
    summary: pb::ScenarioSummary,
}

#[derive(Debug)]
struct LabState {
    loaded: Option<Loaded>,
    started: Instant,
    /// Bumped by every load and reset, so tasks of an older run stop recording.
    generation: u64,
    run: Option<LiveRun>,
    play: pb::PlayState,
    speed: f64,
    /// The history reached [`Limits::max_history`]: the run was stopped and
    /// only a load or reset starts anew.
    halted: bool,
    /// The network as this history last recorded it (`None`: unchanged
    /// since the load).
    network: Option<pb::NetworkState>,
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
        let state = LabState {
            loaded: None,
            started: Instant::now(),
            generation: 0,
            run: None,
            play: pb::PlayState::Empty,
            speed: DEFAULT_SPEED,
            halted: false,
            network: None,
        };
        Lab {
            inner: Arc::new(Mutex::new(state)),
            history: History::new(),
            examples: Arc::new(examples),
            closed: Shutdown::new(),
            external: None,
            limits: Limits::default(),
            comparing: Arc::default(),
        }
    }

    /// This lab with other [`Limits`] than the defaults.
    pub fn with_limits(self, limits: Limits) -> Lab {
        Lab { limits, ..self }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The lab's turn to compare, unless a comparison of it is still
    /// waiting or computing.
    pub fn begin_comparison(&self) -> Option<Comparing> {
        use std::sync::atomic::Ordering;
        let free = self.comparing.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst);
        free.is_ok().then(|| Comparing(self.comparing.clone()))
    }

    /// A lab that runs every scenario on `cluster`'s branch processes.
    pub fn with_external(examples: Vec<Example>, cluster: ExternalCluster) -> Lab {
        Lab { external: Some(Arc::new(cluster)), ..Lab::new(examples) }
    }

    pub fn examples(&self) -> &[Example] {
        &self.examples
    }

    /// Parses `text` and, if it is a valid scenario, replaces the current one
    /// with it on a fresh cluster, paused at the start. `format` `None`: the
    /// one that goes with the input.
    pub async fn load(
        &self,
        text: &str,
        name: &str,
        format: Option<OutputFormat>,
    ) -> Result<pb::ScenarioSummary, pb::ScenarioError> {
        self.load_with(text, name, format, None, None).await
    }

    /// [`Lab::load`] with the browser's choice of session guarantees and
    /// propagation mode (`None`: the experiment's own, else the course's).
    pub async fn load_with(
        &self,
        text: &str,
        name: &str,
        format: Option<OutputFormat>,
        guarantees: Option<Guarantees>,
        propagation: Option<PropagationMode>,
    ) -> Result<pb::ScenarioSummary, pb::ScenarioError> {
        self.load_checked(text, name, format, guarantees, propagation).await.map_err(Into::into)
    }

    /// [`Lab::load_with`], telling a scenario over this lab's [`Limits`]
    /// apart from one that is not valid.
    pub async fn load_checked(
        &self,
        text: &str,
        name: &str,
        format: Option<OutputFormat>,
        guarantees: Option<Guarantees>,
        propagation: Option<PropagationMode>,
    ) -> Result<pb::ScenarioSummary, LoadError> {
        let prepared = Prepared::read(text, name, format, guarantees, propagation)
            .map_err(LoadError::Invalid)?;
        let branches = prepared.scenario.branches.len();
        self.limits.admit(branches, prepared.scripted()).map_err(LoadError::TooLarge)?;
        let Prepared { scenario, plan, summary } = prepared;
        let loaded = Loaded { scenario, plan, summary: summary.clone() };
        let mut state = self.inner.lock().await;
        state.loaded = Some(loaded);
        self.restart(&mut state)
            .await
            .map_err(|e| LoadError::Invalid(events::refused(e.to_string())))?;
        Ok(summary)
    }

    /// Injects a fault into the live cluster and records it. Answers with
    /// what is broken now, or why the fault could not be applied.
    pub async fn inject(&self, fault: Fault) -> pb::FaultReply {
        let control = {
            let state = self.inner.lock().await;
            let Some(loaded) = &state.loaded else {
                return fault_refused("no scenario is loaded", None);
            };
            if let Some(why) = fault.refusal(&loaded.scenario.branch_ids()) {
                return fault_refused(&why, None);
            }
            match state.run.as_ref().and_then(|r| r.control.clone()) {
                Some(c) => c,
                None => {
                    let why = "faults can only be injected into the lab's own cluster, \
                               not branch processes";
                    return fault_refused(why, None);
                }
            }
        };
        if let Some(why) = fault.refusal_now(&control.down().await) {
            return fault_refused(&why, Some(network_state(&control).await));
        }
        if let Err(e) = control.apply(&fault).await {
            let why = format!("{fault}: {e}");
            return fault_refused(&why, Some(network_state(&control).await));
        }
        let network = network_state(&control).await;
        let mut state = self.inner.lock().await;
        // Still the same run? (A load or reset in between makes it moot.)
        if state
            .run
            .as_ref()
            .and_then(|r| r.control.as_ref())
            .is_some_and(|c| Arc::ptr_eq(c, &control))
        {
            self.push(&mut state, events::network_changed(&fault, None, network.clone()));
        }
        pb::FaultReply { error: String::new(), state: Some(network) }
    }

    /// Carries out a control command and returns the resulting state.
    pub async fn control(
        &self,
        command: pb::Command,
        speed: f64,
    ) -> Result<pb::ControlReply, RunError> {
        let mut state = self.inner.lock().await;
        let speed_given = speed > 0.0 && speed.is_finite();
        if speed_given && matches!(command, pb::Command::Play | pb::Command::SetSpeed) {
            state.speed = speed.clamp(MIN_SPEED, MAX_SPEED);
        }
        if state.loaded.is_none() || (state.halted && command != pb::Command::Reset) {
            // Nothing to control (yet, or any more until a reset).
            return Ok(events::control_reply(state.play, state.speed));
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
                let reply = events::control_reply(state.play, state.speed);
                self.push(&mut state, pb::lab_event::Event::State(reply));
            }
            pb::Command::Pause if playing => {
                stop_ticker(&mut state);
                take_back_permits(&state);
                self.set_play(&mut state, pb::PlayState::Paused);
            }
            pb::Command::Step
                if matches!(state.play, pb::PlayState::Paused | pb::PlayState::Playing) =>
            {
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
        Ok(events::control_reply(state.play, state.speed))
    }

    /// The history so far, and a follower of what comes after it; plus the
    /// signal given when the lab closes (end a stream then).
    pub async fn watch(&self) -> (Vec<pb::LabEvent>, Follower, Shutdown) {
        let (history, follower) = self.history.follow_after_now();
        (history, follower, self.closed.clone())
    }

    /// A follower of the history (what a watch stream sends): from event
    /// `from` of history `history` when that is still the lab's, from the
    /// first event of the lab's history otherwise (see
    /// [`History::follow_from`]); and the signal given when the lab closes.
    pub fn follow(&self, history: u64, from: u64) -> (Follower, Shutdown) {
        (self.history.follow_from(history, from), self.closed.clone())
    }

    /// The bytes the recorded history holds now.
    pub fn history_footprint(&self) -> usize {
        self.history.footprint()
    }

    /// Where a browser customer's request should go, if a scenario is loaded.
    pub async fn customer_route(&self) -> Option<CustomerRoute> {
        let state = self.inner.lock().await;
        state.run.as_ref().map(|run| CustomerRoute {
            channels: run.channels.clone(),
            activity: run.activity.clone(),
        })
    }

    /// Where the current run's branch servers listen (in-process clusters
    /// only; empty when nothing runs).
    pub async fn branch_addrs(&self) -> Vec<std::net::SocketAddr> {
        let state = self.inner.lock().await;
        let cluster = state.run.as_ref().and_then(|run| run.cluster.as_ref());
        cluster.map(|c| c.addrs().values().copied().collect()).unwrap_or_default()
    }

    /// The current run's pacer, to observe how many scripted events started
    /// and whether the customers are waiting for permission.
    pub async fn pacer(&self) -> Option<Arc<Pacer>> {
        self.inner.lock().await.run.as_ref().map(|run| run.pacer.clone())
    }

    /// Stops the current run and ends every watch stream: the lab is done.
    pub async fn stop(&self) {
        self.closed.trigger();
        let mut state = self.inner.lock().await;
        stop_run(&mut state).await;
    }

    /// Starts the loaded scenario from the beginning on a fresh cluster.
    async fn restart(&self, state: &mut LabState) -> Result<(), RunError> {
        stop_run(state).await;
        let loaded = state.loaded.clone().expect("restart needs a loaded scenario");
        state.generation += 1;
        self.history.clear();
        state.halted = false;
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
                config.network =
                    bank_core::NetworkPlan { faults: Vec::new(), ..loaded.plan.network.clone() };
                config.seed = loaded.plan.seed;
                // Propagations are retried until acknowledged, and restarts,
                // heals and the final repair pull at once, so periodic pulls
                // are only needed where a write can go missing unresent, and
                // then rarely: well above the slowest link, including the
                // delays a click may set (see `periodic_pull`).
                let clicked = Duration::from_millis(3 * MAX_INJECTED_DELAY_MS);
                config.anti_entropy = periodic_pull(
                    loaded.plan.propagation,
                    &loaded.plan.network,
                    clicked.max(Duration::from_secs(5)),
                );
                let cluster = Cluster::start(config).await?;
                let channels = cluster.channels();
                (Some(cluster), channels, sink)
            }
            Some(external) => {
                // Branch processes are heard over separate streams: put
                // what arrives back in causal order first.
                let (ordered, reorder) = crate::cluster::causal::reorder(sink);
                extra_tasks.push(reorder);
                extra_tasks.extend(external.watch(ordered.clone()).await?);
                external
                    .reset(
                        &loaded.scenario,
                        loaded.plan.format.clock_scheme(),
                        loaded.plan.propagation,
                    )
                    .await?;
                (None, external.channels().clone(), ordered)
            }
        };
        let pacer = Arc::new(Pacer::default());
        let control = cluster.as_ref().map(Cluster::control);

        self.push(state, pb::lab_event::Event::Loaded(loaded.summary.clone()));
        state.play = pb::PlayState::Paused;
        let reply = events::control_reply(state.play, state.speed);
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
                request_timeout: None,
            };
            let scenario = loaded.scenario.clone();
            let channels = channels.clone();
            let schedule = loaded.plan.schedule;
            let end = sink.clone();
            tokio::spawn(async move {
                let result =
                    run_scenario_on(&scenario, &channels, schedule, hooks).await.map(Box::new);
                let _ = end.send(Activity::RunEnded(result));
            })
        };
        let planned = loaded.plan.network.faults.clone();
        let recorder = tokio::spawn(self.clone().record(generation, loaded, activity_rx));
        let mut tasks = vec![runner, recorder];
        tasks.extend(extra_tasks);
        state.run = Some(LiveRun {
            cluster,
            channels,
            pacer,
            activity: sink,
            tasks,
            ticker: None,
            control,
            planned,
        });
        Ok(())
    }

    /// Appends what the run reports to the history, until the run ends.
    ///
    /// Takes what waits in the channel in batches, under one lock each: on
    /// 20 branches a write reports some 80 entries, and a recorder that
    /// took the lock for each fell behind the branches under load, so the
    /// waiting entries piled up in the channel (tens of MiB, see
    /// BENCHMARKS.md section 5).
    async fn record(
        self,
        generation: u64,
        loaded: Loaded,
        mut rx: mpsc::UnboundedReceiver<Activity>,
    ) {
        let mut batch = Vec::with_capacity(RECORD_BATCH);
        while rx.recv_many(&mut batch, RECORD_BATCH).await > 0 {
            let mut state = self.inner.lock().await;
            for item in batch.drain(..) {
                if state.generation != generation {
                    return;
                }
                if self.record_one(&mut state, &loaded, item).is_break() {
                    return;
                }
            }
        }
    }

    /// [`Lab::record`] for one item; `Break` once the run was cancelled
    /// (nothing more of it is recorded).
    fn record_one(
        &self,
        state: &mut LabState,
        loaded: &Loaded,
        item: Activity,
    ) -> std::ops::ControlFlow<()> {
        match item {
            Activity::RunEnded(Ok(record)) => {
                let (scenario, plan) = (&loaded.scenario, &loaded.plan);
                let network = state.network.clone();
                let end = bank_proto::lab_trace::run_end(scenario, plan, &record, network.as_ref());
                for event in end {
                    self.push(state, event);
                }
                stop_ticker(state);
                self.set_play(state, pb::PlayState::Finished);
            }
            Activity::RunEnded(Err(RunError::Cancelled)) => return std::ops::ControlFlow::Break(()),
            Activity::RunEnded(Err(e)) => {
                tracing::error!("lab run failed: {e}");
                stop_ticker(state);
                self.set_play(state, pb::PlayState::Paused);
            }
            activity => {
                if let Some(event) = Option::from(&activity) {
                    self.push(state, event);
                }
            }
        }
        std::ops::ControlFlow::Continue(())
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
                lab.push(&mut state, events::network_changed(&f.fault, Some(f.at_ms), network));
            }
        }));
    }

    fn set_play(&self, state: &mut LabState, play: pb::PlayState) {
        if state.play != play {
            state.play = play;
            let reply = events::control_reply(play, state.speed);
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
                let mut interval =
                    tokio::time::interval_at(tokio::time::Instant::now() + first, period);
                loop {
                    interval.tick().await;
                    pacer.grant_unless_waiting();
                }
            }));
        }
    }

    /// Appends `event` to the history and tells the watchers; at the
    /// history cap, stops the run instead (see [`Lab::halt`]).
    fn push(&self, state: &mut LabState, event: pb::lab_event::Event) {
        if state.halted {
            return;
        }
        // One place is kept for the `halted` event itself.
        if self.history.len() + 1 >= self.limits.max_history {
            let reason = self.limits.history_full();
            self.halt(state, reason);
            return;
        }
        if self.history.encoded_bytes() >= self.limits.max_history_bytes() {
            let reason = self.limits.history_too_large(self.history.len());
            self.halt(state, reason);
            return;
        }
        self.append(state, event);
    }

    /// The history is full: records why as its last event and stops the
    /// run (its tasks stop recording, its cluster shuts down and frees its
    /// ports). The recorded history stays for the watchers to scrub.
    fn halt(&self, state: &mut LabState, reason: String) {
        state.halted = true;
        tracing::info!("a lab's run stopped: {reason}");
        self.append(state, pb::lab_event::Event::Halted(pb::Halted { reason }));
        state.generation += 1;
        if let Some(run) = state.run.take() {
            // Not awaited here: the caller holds the lab's lock, and may be
            // one of the run's own tasks.
            tokio::spawn(stop_live_run(run));
        }
        state.play = pb::PlayState::Paused;
    }

    fn append(&self, state: &mut LabState, event: pb::lab_event::Event) {
        // A history's first event says which history it is (a watch
        // stream resumes by it).
        let history = match &event {
            pb::lab_event::Event::Loaded(_) => {
                state.network = None;
                self.history.epoch()
            }
            pb::lab_event::Event::Network(changed) => {
                state.network = changed.state.clone();
                0
            }
            _ => 0,
        };
        let lab_event = pb::LabEvent {
            seq: self.history.len() as u64,
            at_micros: state.started.elapsed().as_micros() as u64,
            event: Some(event),
            history,
        };
        self.history.push(&lab_event);
    }
}

/// The longest delay a link may be given by clicking.
pub use bank_core::network::MAX_INJECTED_DELAY_MS;

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
        stop_live_run(run).await;
    }
    state.play = if state.loaded.is_some() { pb::PlayState::Paused } else { pb::PlayState::Empty };
}

/// Stops a run's tasks and shuts its cluster down.
async fn stop_live_run(run: LiveRun) {
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
