//! One leptos component per file. Each reads the shared [`crate::lab::Lab`]
//! context; none talks to the server directly.

pub mod controls;
pub mod customer_panel;
pub mod details;
pub mod dots;
pub mod event_log;
pub mod faults;
pub mod graph;
pub mod output_panel;
pub mod scenario_panel;
pub mod state_table;
pub mod timeline;
