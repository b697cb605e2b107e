//! What the cluster runs next and how: the shipped examples, the guarantee
//! and propagation choices sent with the next load, the load in progress
//! (or why it failed), and the side-by-side comparison of the scenario
//! shown.

use bank_core::branch::PropagationMode;
use bank_core::Guarantees;
use bank_proto::{CompareRequest, CompareResult, Example, ScenarioError};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;
use crate::engine::Engine;

/// The `Settings` context: signals (all `Copy`), plus the actions below.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    api: StoredValue<Engine, LocalStorage>,
    pub examples: RwSignal<Vec<Example>>,
    /// The guarantees chosen with the toggles (`None`: the scenario's own),
    /// sent with the next load.
    pub guarantee_choice: RwSignal<Option<Guarantees>>,
    /// The propagation mode chosen (`None`: the scenario's own), sent with
    /// the next load.
    pub propagation_choice: RwSignal<Option<PropagationMode>>,
    /// The last load failed: why.
    pub load_error: RwSignal<Option<ScenarioError>>,
    /// A load is in progress (the `Load` call has not answered yet).
    pub loading: RwSignal<bool>,
    /// A load was asked for and its history has not started yet: the graph
    /// hides the previous scenario meanwhile.
    pub awaiting_history: RwSignal<bool>,
    /// The last side-by-side comparison, or why it failed.
    pub comparison: RwSignal<Option<Result<CompareResult, String>>>,
    pub comparing: RwSignal<bool>,
}

impl Settings {
    pub fn new(api: Engine) -> Self {
        Settings {
            api: StoredValue::new_local(api),
            examples: RwSignal::new(Vec::new()),
            guarantee_choice: RwSignal::new(None),
            propagation_choice: RwSignal::new(None),
            load_error: RwSignal::new(None),
            loading: RwSignal::new(false),
            awaiting_history: RwSignal::new(false),
            comparison: RwSignal::new(None),
            comparing: RwSignal::new(false),
        }
    }

    fn api(&self) -> Engine {
        self.api.get_value()
    }

    /// Loads scenario text on the server (a fresh cluster, paused at the start).
    pub fn load(self, text: String, name: String) {
        self.loading.set(true);
        self.awaiting_history.set(true);
        let guarantees = self.guarantee_choice.get_untracked();
        let propagation = self.propagation_choice.get_untracked();
        spawn_local(async move {
            let error = match self.api().load(text, name, guarantees, propagation).await {
                // The new history itself arrives through Watch (a `loaded`
                // event, which also stops the playback of the old one); it
                // may come before or after this answer.
                Ok(Ok(_summary)) => None,
                Ok(Err(error)) => Some(error),
                Err(error) => {
                    Some(ScenarioError { message: error.to_string(), line: 0, column: 0 })
                }
            };
            if error.is_some() {
                // The server kept the previous scenario: show it again.
                self.awaiting_history.set(false);
            }
            self.load_error.set(error);
            self.loading.set(false);
        });
    }

    /// Loads a shipped example by name.
    pub fn load_example(self, name: &str) {
        let text = self.examples.with_untracked(|examples| {
            examples.iter().find(|e| e.name == name).map(|e| e.text.clone())
        });
        match text {
            Some(text) => self.load(text, name.to_owned()),
            None => self.load_error.set(Some(ScenarioError {
                message: format!("no shipped example named \"{name}\""),
                line: 0,
                column: 0,
            })),
        }
    }

    /// Fetches the shipped examples for the picker.
    pub async fn fetch_examples(self) -> Result<(), ApiError> {
        let examples = self.api().examples().await?;
        self.examples.set(examples);
        Ok(())
    }

    /// Runs `text` (the scenario shown) in the simulator with `left` and
    /// `right` guarantees.
    pub fn compare(self, text: String, left: Guarantees, right: Guarantees) {
        if text.is_empty() {
            self.comparison.set(Some(Err("load a scenario first".into())));
            return;
        }
        self.comparing.set(true);
        spawn_local(async move {
            let request = CompareRequest {
                text,
                left_guarantees: Some(left.into()),
                right_guarantees: Some(right.into()),
                seed: 0,
            };
            let result = match self.api().compare(request).await {
                Ok(Ok(c)) => Ok(c),
                Ok(Err(e)) => Err(e.message),
                Err(e) => Err(e.to_string()),
            };
            self.comparison.set(Some(result));
            self.comparing.set(false);
        });
    }
}
