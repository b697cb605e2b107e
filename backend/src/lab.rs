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

use std::sync::Arc;
use std::time::{Duration, Instant};

use bank_core::formats::{self, OutputFormat, OutputOptions};
use bank_core::{Scenario, Schedule};
use bank_proto as pb;
use tokio::sync::{broadcast, mpsc, watch, Mutex};
use tokio::task::JoinHandle;

use crate::cluster::{channel_to, Cluster, ClusterConfig};
use crate::error::RunError;
use crate::examples::Example;
use crate::external::ExternalCluster;
use crate::observe::{Activity, ActivitySink};
use crate::pacer::Pacer;
use crate::runner::{run_scenario_on, RunHooks};
use crate::transport::{self, BankChannel};
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
    format: OutputFormat,
    schedule: Schedule,
    summary: pb::ScenarioSummary,
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
        let display_name = if name.is_empty() { "scenario" } else { name };
        let scenario = formats::parse_input(text, display_name).map_err(|e| pb::ScenarioError {
            message: e.message(),
            line: e.line() as u32,
            column: e.column().unwrap_or(0) as u32,
        })?;
        let format = if format.is_empty() {
            OutputFormat::default_for(scenario.shape)
        } else {
            format.parse::<OutputFormat>().map_err(|e| pb::ScenarioError { message: e.to_string(), line: 0, column: 0 })?
        };
        let schedule = format.default_schedule();
        let summary = wire::scenario_summary(display_name, &scenario, format, schedule);
        let loaded = Loaded { scenario, format, schedule, summary: summary.clone() };
        let mut state = self.inner.lock().await;
        state.loaded = Some(loaded);
        self.restart(&mut state).await.map_err(|e| pb::ScenarioError { message: e.to_string(), line: 0, column: 0 })?;
        Ok(summary)
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
                config.clock_scheme = loaded.format.clock_scheme();
                config.activity = Some(sink.clone());
                let cluster = Cluster::start(config).await?;
                let channels = cluster
                    .addrs()
                    .iter()
                    .map(|(id, addr)| Ok((*id, transport::plain(channel_to(*addr)?))))
                    .collect::<Result<_, RunError>>()?;
                (Some(cluster), channels, sink)
            }
            Some(external) => {
                // Branch processes are heard over separate streams: put
                // what arrives back in causal order first.
                let (ordered, reorder) = crate::causal::reorder(sink);
                extra_tasks.push(reorder);
                extra_tasks.extend(external.watch(ordered.clone()).await?);
                external.reset(&loaded.scenario, loaded.format.clock_scheme(), Default::default()).await?;
                (None, external.channels().clone(), ordered)
            }
        };
        let pacer = Arc::new(Pacer::default());

        self.push(state, pb::lab_event::Event::Loaded(loaded.summary.clone()));
        state.play = pb::PlayState::Paused;
        let reply = pb::ControlReply { state: state.play as i32, speed: state.speed };
        self.push(state, pb::lab_event::Event::State(reply));

        let runner = {
            let hooks = RunHooks { pacer: Some(pacer.clone()), activity: Some(sink.clone()), ..RunHooks::default() };
            let scenario = loaded.scenario.clone();
            let channels = channels.clone();
            let schedule = loaded.schedule;
            let end = sink.clone();
            tokio::spawn(async move {
                let result = run_scenario_on(&scenario, &channels, schedule, hooks).await.map(Box::new);
                let _ = end.send(Activity::RunEnded(result));
            })
        };
        let recorder = tokio::spawn(self.clone().record(generation, loaded, activity_rx));
        let mut tasks = vec![runner, recorder];
        tasks.extend(extra_tasks);
        state.run = Some(LiveRun { cluster, channels, pacer, activity: sink, tasks, ticker: None });
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
                    let output = formats::render(loaded.format, &loaded.scenario, &record, &OutputOptions::default());
                    let finished = pb::Finished { output_json: output, format: loaded.format.as_str().to_owned() };
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
