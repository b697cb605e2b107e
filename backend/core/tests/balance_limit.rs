//! A balance never saturates: a deposit that would take it above
//! [`Cents::MAX`] fails with [`FailReason::BalanceLimit`] and changes
//! nothing, on every replica (issue 17, defect 7: two deposits of
//! 92233720368547758.07 both "succeeded" and the balance stopped at
//! `i64::MAX`).

use bank_core::experiment::demo;
use bank_core::formats::{parse_input, OutputFormat};
use bank_core::{sim, Cents, FailReason, History, Outcome};

#[test]
fn a_deposit_past_the_maximum_fails_and_changes_nothing() {
    let text = r#"[
  {"id": 1, "type": "customer", "events": [
    {"id": 1, "interface": "deposit", "money": 0.05, "dest": 1},
    {"id": 2, "interface": "deposit", "money": 9999999999999.99, "dest": 2},
    {"id": 3, "interface": "query", "dest": 2}]},
  {"id": 1, "type": "branch", "balance": 9999999999999.94},
  {"id": 2, "type": "branch", "balance": 9999999999999.94}
]"#;
    let scenario = parse_input(text, "limit.json").unwrap();
    let config = demo::base_for(OutputFormat::default_for(scenario.shape));
    let run = sim::run(&scenario, &config).unwrap();
    let results = &run.record.customers[0].results;
    assert_eq!(results[0].outcome, Outcome::Success { balance: Cents::MAX });
    assert_eq!(
        results[1].outcome,
        Outcome::Failed {
            reason: FailReason::BalanceLimit { requested: Cents::MAX, balance: Cents::MAX },
            balance: Cents::MAX,
        }
    );
    assert_eq!(results[2].outcome, Outcome::Success { balance: Cents::MAX });
    for branch in &run.record.branches {
        assert_eq!(branch.balance, Cents::MAX, "branch {}", branch.id);
    }
    let history = History::from_record(&scenario, &run.record, &config.per_session(&scenario));
    let text = history.to_json();
    assert!(text.contains("\"balance\": 9999999999999.99"), "{text}");
    assert!(text.contains("above the maximum 9999999999999.99"), "{text}");
    assert_eq!(History::from_json(&text).unwrap(), history);
}
