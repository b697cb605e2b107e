//! The simulated engine: the lab runs in this page, on bank-core's
//! deterministic simulator compiled into the wasm, with no server at all.
//!
//! [`SimLab`] answers the same calls as the live lab's grpc-web API, with
//! the same messages: [`lab::LabCore`] holds the lab (pure, driven with the
//! wall clock as an argument), this module gives it the browser's clock, a
//! timer that runs the bank while something is under way, `Watch` streams
//! (the history first, then each new event, as `bank serve` streams them)
//! and the answers to the browser customer's requests.

pub mod lab;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use bank_core::branch::{PropagationMode, Reply, ReplyToken, Request};
use bank_core::network::Fault;
use bank_core::Guarantees;
use bank_proto::{
    Command, CompareReply, CompareRequest, ControlReply, CustomerReply, CustomerRequest, Example,
    FaultReply, FaultRequest, LabEvent, ScenarioError, ScenarioSummary,
};
use futures::channel::{mpsc, oneshot};
use leptos::prelude::{set_interval_with_handle, IntervalHandle};

use crate::api::ApiError;
use crate::engine::timer::now_ms;
use lab::LabCore;

/// How often the running bank is brought up to the wall clock.
const TICK: Duration = Duration::from_millis(16);

/// The simulated lab of this page (cheap to clone: one lab behind it).
#[derive(Clone, Debug, Default)]
pub struct SimLab(Rc<Inner>);

/// How far [`SimLab::to_the_end`] moves the run's clock at a time (ms).
pub const TO_THE_END_STEP_MS: f64 = 2_000.0;
/// At most this many steps: two simulated hours.
pub const TO_THE_END_MAX_STEPS: usize = 3_600;

#[derive(Debug, Default)]
struct Inner {
    core: RefCell<LabCore>,
    watchers: RefCell<Vec<mpsc::UnboundedSender<LabEvent>>>,
    pending: RefCell<BTreeMap<ReplyToken, oneshot::Sender<Reply>>>,
    ticker: RefCell<Option<IntervalHandle>>,
}

impl PartialEq for SimLab {
    fn eq(&self, other: &SimLab) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl SimLab {
    /// The shipped examples, compiled into the page.
    pub fn examples(&self) -> Vec<Example> {
        bank_core::examples::all()
            .into_iter()
            .map(|e| Example { name: e.name.into(), title: e.title.into(), text: e.text.into() })
            .collect()
    }

    pub fn load(
        &self,
        text: &str,
        name: &str,
        guarantees: Option<Guarantees>,
        propagation: Option<PropagationMode>,
    ) -> Result<ScenarioSummary, ScenarioError> {
        let loaded = self.0.core.borrow_mut().load(text, name, None, guarantees, propagation);
        // The old run's requests are moot: their callers hear nothing more.
        self.0.pending.borrow_mut().clear();
        self.after(Vec::new());
        loaded
    }

    pub fn control(&self, command: Command, speed: f64) -> ControlReply {
        let reply = self.0.core.borrow_mut().control(command, speed, now_ms());
        self.after(Vec::new());
        reply
    }

    /// Plays the rest of the run at the fastest speed with its clock
    /// jumping ahead [`TO_THE_END_STEP_MS`] at a time, and the page drawing
    /// between the jumps: the run a play would give (the same permits at
    /// the same simulated times), without its minutes of waiting (`busy-bank`
    /// is 3,000 customer events). Stops at the run's end, or after
    /// [`TO_THE_END_MAX_STEPS`] jumps; whether it reached the end.
    pub async fn to_the_end(&self) -> bool {
        self.control(Command::Play, lab::MAX_SPEED);
        for _ in 0..TO_THE_END_MAX_STEPS {
            let answers = self.0.core.borrow_mut().fast_forward(now_ms(), TO_THE_END_STEP_MS);
            self.after(answers);
            if self.0.core.borrow().is_over() {
                return true;
            }
            // The page takes the new events and draws them first.
            crate::engine::timer::sleep(TICK).await;
        }
        false
    }

    pub fn inject(&self, request: &FaultRequest) -> Result<FaultReply, ApiError> {
        let fault = Fault::try_from(request).map_err(invalid)?;
        let reply = self.0.core.borrow_mut().inject(fault, now_ms());
        self.after(Vec::new());
        Ok(reply)
    }

    /// Two simulated runs side by side: the very function `bank serve`
    /// answers `Compare` with.
    pub fn compare(&self, request: &CompareRequest) -> CompareReply {
        bank_proto::compare::compare(request)
    }

    /// The history so far, then every new event.
    pub fn watch(&self) -> mpsc::UnboundedReceiver<LabEvent> {
        let (tx, rx) = mpsc::unbounded();
        for event in self.0.core.borrow().history() {
            let _ = tx.unbounded_send(event.clone());
        }
        self.0.watchers.borrow_mut().push(tx);
        rx
    }

    /// The browser as a customer of the simulated bank.
    pub async fn customer_request(
        &self,
        request: &CustomerRequest,
    ) -> Result<CustomerReply, ApiError> {
        let request = Request::try_from(request).map_err(invalid)?;
        let (tx, rx) = oneshot::channel();
        let token =
            self.0.core.borrow_mut().customer(request, now_ms()).map_err(|why| {
                ApiError::Refused { code: "FailedPrecondition".into(), message: why }
            })?;
        self.0.pending.borrow_mut().insert(token, tx);
        self.after(Vec::new());
        let reply = rx.await.map_err(|_| {
            ApiError::Protocol("the scenario was reloaded before the branch answered".into())
        })?;
        Ok(CustomerReply::from(&reply))
    }

    /// After every call and tick: new events to the watchers, answers to
    /// the browser's customer, and the timer on while there is work.
    fn after(&self, answers: Vec<(ReplyToken, Reply)>) {
        for (token, reply) in answers {
            if let Some(tx) = self.0.pending.borrow_mut().remove(&token) {
                let _ = tx.send(reply);
            }
        }
        let new = self.0.core.borrow_mut().take_new();
        if !new.is_empty() {
            self.0
                .watchers
                .borrow_mut()
                .retain(|tx| new.iter().all(|event| tx.unbounded_send(event.clone()).is_ok()));
        }
        let busy = self.0.core.borrow().needs_ticks() || !self.0.pending.borrow().is_empty();
        let mut ticker = self.0.ticker.borrow_mut();
        match (busy, ticker.is_some()) {
            (true, false) => {
                // The timer holds the lab only weakly: a lab nobody holds stops.
                let lab = Rc::downgrade(&self.0);
                let tick = move || {
                    if let Some(inner) = lab.upgrade() {
                        let lab = SimLab(inner);
                        let answers = lab.0.core.borrow_mut().tick(now_ms());
                        lab.after(answers);
                    }
                };
                *ticker = set_interval_with_handle(tick, TICK).ok();
            }
            (false, true) => {
                if let Some(handle) = ticker.take() {
                    handle.clear();
                }
            }
            _ => {}
        }
    }
}

/// A message the simulated lab cannot take, as the server would refuse it.
fn invalid(error: bank_proto::ConvertError) -> ApiError {
    ApiError::Refused { code: "InvalidArgument".into(), message: error.to_string() }
}

/// Simulates `text` (a course input or an experiment) to its end as this
/// page's simulated lab does, and answers its course output. Exported for
/// the browser benchmark (`frontend/e2e/bench/browser.mjs` times it through
/// trunk's `window.wasmBindings`), which measures what a viewer waits for.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn simulate_to_end(text: &str) -> Result<String, String> {
    let mut core = LabCore::default();
    core.load(text, "input.json", None, None, None).map_err(|e| e.message)?;
    core.run_to_end(0.0);
    use bank_proto::lab_event::Event;
    let end = core.history().iter().rev().find_map(|e| match &e.event {
        Some(Event::Finished(f)) => Some(Ok(f.output_json.clone())),
        Some(Event::Halted(h)) => Some(Err(h.reason.clone())),
        _ => None,
    });
    end.unwrap_or_else(|| Err("the run did not finish".to_owned()))
}
