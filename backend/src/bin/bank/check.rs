//! `bank check`: a run's history (from `bank run --history` or `bank sim
//! --history`) through the history checker, each violation explained.
//!
//! The checking is [`bank_core::check`]; this file reads the history and
//! prints the report: each violation as a short proof ("Let R = …, W = ….
//! Then: …; so Read Your Writes is broken."), or (`--json`) one object per
//! violation, its `sentence` beside the machine fields. Violations end with
//! status 1.

use bank_core::check;
use bank_core::History;

use crate::args::CheckArgs;
use crate::exit::Failure;
use crate::input::read_input;
use crate::stdout::{out, outln};

/// The largest history file `bank check` reads.
const MAX_HISTORY_BYTES: u64 = 256 * 1024 * 1024;

/// `bank check`; see the module docs.
pub fn check(args: CheckArgs) -> Result<(), Failure> {
    let text = read_input(&args.history, MAX_HISTORY_BYTES)?;
    let history = History::from_json(&text)
        .map_err(|e| Failure::BadInput(e.in_file(&args.history.display().to_string())))?;
    unlisted_branches(&history);
    let report = check::check(&history);
    if args.json {
        // A program reads them all, unless it asked for fewer.
        let max = args.max.unwrap_or(usize::MAX);
        let mut shown = std::collections::BTreeMap::<check::Anomaly, usize>::new();
        let kept = report.violations.iter().filter(|v| {
            let n = shown.entry(v.anomaly).or_default();
            *n += 1;
            *n <= max
        });
        let items: Vec<serde_json::Value> = kept
            .map(|v| {
                serde_json::json!({
                    "anomaly": v.anomaly.short(),
                    "guarantee": v.anomaly.to_string(),
                    "guarantee_was_on": v.guarantee_was_on,
                    "session": v.session,
                    "explanation": v.explanation,
                    "sentence": v.sentence,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&items).expect("json"))?;
        let left_out = report.violations.len() - items.len();
        if left_out > 0 {
            eprintln!(
                "{left_out} more violation(s) left out (--max {max} per guarantee, of {})",
                report.violations.len()
            );
        }
    } else {
        out!("{}", report.render(args.max.unwrap_or(10)))?;
        let broken = report.broken_promises().count();
        if broken > 0 {
            outln!(
                "{broken} violation(s) of guarantees the sessions had asked for: \
                 that is a bug in the branches."
            )?;
        }
    }
    if report.is_clean() {
        Ok(())
    } else {
        Err(Failure::Violations)
    }
}

/// A note on stderr when operations were served by branches the history
/// does not list (a run leaves out a branch whose final state it could not
/// read): what those branches applied, and in what order, is not checked,
/// so an "ok" says less than it seems.
fn unlisted_branches(history: &History) {
    let listed: std::collections::HashSet<_> = history.branches.iter().map(|b| b.id).collect();
    let mut unlisted = std::collections::BTreeMap::<u64, usize>::new();
    for op in history.sessions.iter().flat_map(|s| &s.ops) {
        if !listed.contains(&op.branch) {
            *unlisted.entry(op.branch.0).or_default() += 1;
        }
    }
    if unlisted.is_empty() {
        return;
    }
    let ops: usize = unlisted.values().sum();
    let mut ids: Vec<String> = unlisted.keys().take(10).map(u64::to_string).collect();
    if unlisted.len() > 10 {
        ids.push(format!("and {} more", unlisted.len() - 10));
    }
    eprintln!(
        "note: {ops} operation(s) were served by branch(es) {} that the history does not list \
         under \"branches\": what those branches applied, and in what order, is not checked",
        ids.join(", ")
    );
}
