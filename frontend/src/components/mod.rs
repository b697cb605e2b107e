//! One leptos component per file. Each asks only for the [`crate::state`]
//! contexts it reads; none talks to the server directly.

pub mod clock_why;
pub mod compare_panel;
pub mod controls;
pub mod customer_panel;
pub mod details;
pub mod diagram;
pub mod dots;
pub mod engine_badge;
pub mod event_log;
pub mod fault_bar;
pub mod grade_panel;
pub mod graph;
pub mod invariants_strip;
pub mod keys;
pub mod output_panel;
pub mod present;
pub mod scenario_about;
pub mod scenario_panel;
pub mod session_panel;
pub mod share;
pub mod share_run;
pub mod state_table;
pub mod timeline;
pub mod violations_panel;
