//! A run's plan: every setting of one run on a cluster, resolved once.
//!
//! Three sources say how a scenario is run, and each setting is taken from
//! the first that gives it:
//!
//! 1. what the user chose for this run ([`Overrides`]: the flags of
//!    `bank run`, the lab's pickers);
//! 2. what the experiment file asks for ([`Settings`], see [`super::file`]);
//! 3. the course's defaults, some of which follow the output format.
//!
//! | setting | chosen | else the file's | else |
//! |---|---|---|---|
//! | output format | `format` | — | the input shape's ([`OutputFormat::default_for`]) |
//! | schedule | `schedule` | `schedule` | the format's ([`OutputFormat::default_schedule`]) |
//! | guarantees | `guarantees` | `guarantees` | the course's ([`Guarantees::COURSE`]) |
//! | per customer | none | `customer_guarantees` | none |
//! | propagation | `propagation` | `propagation` | sequential, the course's |
//! | seed | `seed` | `seed` | 0 |
//! | network plan | — | `network` | a perfect network |
//!
//! Guarantees chosen by the user are for *everyone*: they discard the file's
//! per-customer guarantees too. A picker that offers the file's own
//! guarantees among its choices says "no choice" when those are picked
//! ([`Overrides::picked_guarantees`]), so the file's per-customer
//! guarantees stay.
//!
//! [`RunPlan::resolve`] applies the table; `bank run` and the lab run what
//! it resolves. (The simulator's `bank sim` and the lab's comparison start
//! from a [`SimConfig`](crate::sim::SimConfig) instead: see
//! [`super::demo::sim_config`].)

use std::collections::BTreeMap;

use crate::branch::PropagationMode;
use crate::formats::OutputFormat;
use crate::guarantees::{self, Guarantees};
use crate::ids::CustomerId;
use crate::network::NetworkPlan;
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::sim::SimConfig;

use super::file::Settings;

/// What the user chose for one run; `None` leaves the setting to the file,
/// then to the course's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub format: Option<OutputFormat>,
    pub schedule: Option<Schedule>,
    /// For every customer (the file's per-customer guarantees are dropped).
    pub guarantees: Option<Guarantees>,
    pub propagation: Option<PropagationMode>,
    pub seed: Option<u64>,
}

impl Overrides {
    /// Sets the guarantees from a picker that offers the file's own among its
    /// choices (the lab's): picking what the file asks for anyway (the
    /// course's, when it names none) is no choice, and keeps the file's
    /// per-customer guarantees; picking anything else is a choice for
    /// everyone.
    pub fn picked_guarantees(self, picked: Option<Guarantees>, settings: &Settings) -> Overrides {
        let guarantees = picked.filter(|g| *g != file_guarantees(settings));
        Overrides { guarantees, ..self }
    }
}

/// Every setting of one run, resolved (see the module docs for the rules).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPlan {
    /// The output written at the end; its clock scheme is the branches'.
    pub format: OutputFormat,
    pub schedule: Schedule,
    /// What every customer asks for, except those in `per_customer`.
    pub guarantees: Guarantees,
    /// Customers whose sessions ask for other guarantees.
    pub per_customer: BTreeMap<CustomerId, Guarantees>,
    /// What each session asks for, in input entry order (what the history
    /// and its checker are told).
    pub per_session: Vec<Guarantees>,
    pub propagation: PropagationMode,
    pub seed: u64,
    /// The file's network plan, timed faults included.
    pub network: NetworkPlan,
}

impl RunPlan {
    /// The plan for running `scenario` with the experiment's `settings` and
    /// what the user `chose`.
    pub fn resolve(scenario: &Scenario, settings: &Settings, chose: Overrides) -> RunPlan {
        let format = chose.format.unwrap_or_else(|| OutputFormat::default_for(scenario.shape));
        let schedule =
            chose.schedule.or(settings.schedule).unwrap_or_else(|| format.default_schedule());
        let guarantees = chose.guarantees.unwrap_or_else(|| file_guarantees(settings));
        let per_customer = match chose.guarantees {
            Some(_) => BTreeMap::new(),
            None => settings.per_customer.clone(),
        };
        RunPlan {
            format,
            schedule,
            guarantees,
            per_session: guarantees::per_session(scenario, guarantees, &per_customer),
            per_customer,
            propagation: chose.propagation.or(settings.propagation).unwrap_or_default(),
            seed: chose.seed.or(settings.seed).unwrap_or(0),
            network: settings.network.clone(),
        }
    }
}

impl RunPlan {
    /// The plan as the simulator runs it (the browser's lab without a
    /// server): the same settings, the branches' clock scheme from the
    /// output format, and the simulator's own timings
    /// ([`SimConfig::default`]).
    pub fn sim_config(&self) -> SimConfig {
        SimConfig {
            schedule: self.schedule,
            clock_scheme: self.format.clock_scheme(),
            propagation: self.propagation,
            guarantees: self.guarantees,
            per_customer: self.per_customer.clone(),
            network: self.network.clone(),
            seed: self.seed,
            ..SimConfig::default()
        }
    }
}

/// What the file asks every customer for: its `guarantees`, else the course's.
fn file_guarantees(settings: &Settings) -> Guarantees {
    settings.guarantees.unwrap_or(Guarantees::COURSE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::parse_experiment;
    use crate::guarantees::Guarantee;
    use crate::network::Delay;
    use crate::scenario::InputShape;

    /// Two customers (1 and 2) on two branches, with `dest` (project 3 shape).
    const BANK: &str = r#"[
  {"id": 1, "type": "branch", "balance": 0},
  {"id": 2, "type": "branch", "balance": 0},
  {"id": 1, "type": "customer",
   "events": [{"interface": "deposit", "money": 10, "id": 1, "dest": 1}]},
  {"id": 2, "type": "customer", "events": [{"interface": "query", "id": 2, "dest": 2}]}
]"#;

    fn bank() -> Scenario {
        parse_experiment(BANK, "in.json").unwrap().scenario
    }

    fn ryw() -> Guarantees {
        Guarantees::only(Guarantee::ReadYourWrites)
    }

    /// A file that sets everything: guarantees `none`, customer 2 `ryw`,
    /// background propagation, concurrent schedule, seed 7, a fixed delay.
    fn full_file() -> Settings {
        Settings {
            description: None,
            guarantees: Some(Guarantees::NONE),
            propagation: Some(PropagationMode::Background),
            schedule: Some(Schedule::Concurrent),
            seed: Some(7),
            network: NetworkPlan { delay_ms: Delay::Fixed(3), ..NetworkPlan::default() },
            per_customer: [(CustomerId(2), ryw())].into_iter().collect(),
        }
    }

    #[test]
    fn nothing_chosen_and_nothing_in_the_file_gives_the_course_defaults() {
        let scenario = bank();
        assert_eq!(scenario.shape, InputShape::EventsWithDest);
        let plan = RunPlan::resolve(&scenario, &Settings::default(), Overrides::default());
        assert_eq!(plan.format, OutputFormat::P3, "the input shape's format");
        assert_eq!(plan.schedule, Schedule::Sequential, "the format's schedule");
        assert_eq!(plan.guarantees, Guarantees::COURSE);
        assert!(plan.per_customer.is_empty());
        assert_eq!(plan.per_session, vec![Guarantees::COURSE; 2]);
        assert_eq!(plan.propagation, PropagationMode::Sequential);
        assert_eq!(plan.seed, 0);
        assert!(plan.network.is_perfect());
    }

    #[test]
    fn the_default_schedule_follows_the_chosen_format() {
        let chose = Overrides { format: Some(OutputFormat::P1Money), ..Overrides::default() };
        let plan = RunPlan::resolve(&bank(), &Settings::default(), chose);
        assert_eq!(plan.format, OutputFormat::P1Money);
        assert_eq!(plan.schedule, Schedule::WritesFirst);
        // The file's schedule beats the format's, a chosen one beats both.
        let file = Settings { schedule: Some(Schedule::Concurrent), ..Settings::default() };
        assert_eq!(RunPlan::resolve(&bank(), &file, chose).schedule, Schedule::Concurrent);
        let chose = Overrides { schedule: Some(Schedule::Sequential), ..chose };
        assert_eq!(RunPlan::resolve(&bank(), &file, chose).schedule, Schedule::Sequential);
    }

    #[test]
    fn the_file_beats_the_defaults() {
        let plan = RunPlan::resolve(&bank(), &full_file(), Overrides::default());
        assert_eq!(plan.format, OutputFormat::P3, "a file cannot choose the format");
        assert_eq!(plan.schedule, Schedule::Concurrent);
        assert_eq!(plan.guarantees, Guarantees::NONE);
        assert_eq!(plan.per_customer, full_file().per_customer);
        assert_eq!(plan.per_session, vec![Guarantees::NONE, ryw()], "customer 2 is set apart");
        assert_eq!(plan.propagation, PropagationMode::Background);
        assert_eq!(plan.seed, 7);
        assert_eq!(plan.network, full_file().network);
    }

    #[test]
    fn choices_beat_the_file() {
        let chose = Overrides {
            format: Some(OutputFormat::P1),
            schedule: Some(Schedule::WritesFirst),
            guarantees: Some(Guarantees::ALL),
            propagation: Some(PropagationMode::Parallel),
            seed: Some(9),
        };
        let plan = RunPlan::resolve(&bank(), &full_file(), chose);
        assert_eq!(plan.format, OutputFormat::P1);
        assert_eq!(plan.schedule, Schedule::WritesFirst);
        assert_eq!(plan.guarantees, Guarantees::ALL);
        assert_eq!(plan.propagation, PropagationMode::Parallel);
        assert_eq!(plan.seed, 9);
        assert_eq!(plan.network, full_file().network, "the network is the file's");
    }

    #[test]
    fn chosen_guarantees_are_for_everyone() {
        // Even a choice equal to the file's own drops its per-customer ones.
        for chosen in [Guarantees::ALL, Guarantees::NONE] {
            let chose = Overrides { guarantees: Some(chosen), ..Overrides::default() };
            let plan = RunPlan::resolve(&bank(), &full_file(), chose);
            assert!(plan.per_customer.is_empty(), "{chosen}");
            assert_eq!(plan.per_session, vec![chosen; 2], "{chosen}");
        }
    }

    #[test]
    fn picking_the_files_own_guarantees_is_no_choice() {
        let file = full_file();
        let picked = |g| Overrides::default().picked_guarantees(g, &file);
        assert_eq!(picked(None).guarantees, None);
        assert_eq!(picked(Some(Guarantees::NONE)).guarantees, None, "the file's own");
        assert_eq!(picked(Some(Guarantees::COURSE)).guarantees, Some(Guarantees::COURSE));
        let plan = RunPlan::resolve(&bank(), &file, picked(Some(Guarantees::NONE)));
        assert_eq!(plan.per_session, vec![Guarantees::NONE, ryw()], "per-customer kept");
        let plan = RunPlan::resolve(&bank(), &file, picked(Some(ryw())));
        assert_eq!(plan.per_session, vec![ryw(); 2], "per-customer dropped");
        // A file that names no guarantees asks for the course's.
        let file = Settings { guarantees: None, ..full_file() };
        let over = Overrides::default().picked_guarantees(Some(Guarantees::COURSE), &file);
        assert_eq!(over.guarantees, None);
        let plan = RunPlan::resolve(&bank(), &file, over);
        assert_eq!(plan.per_session, vec![Guarantees::COURSE, ryw()]);
        let over = Overrides::default().picked_guarantees(Some(Guarantees::NONE), &file);
        assert_eq!(over.guarantees, Some(Guarantees::NONE));
    }

    #[test]
    fn picking_guarantees_keeps_the_other_choices() {
        let chose =
            Overrides { seed: Some(4), format: Some(OutputFormat::P2b), ..Overrides::default() };
        let over = chose.picked_guarantees(Some(Guarantees::ALL), &full_file());
        assert_eq!(over, Overrides { guarantees: Some(Guarantees::ALL), ..chose });
    }
}
