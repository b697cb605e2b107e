//! Strategies shared by the property tests.

use bank_core::*;
use proptest::prelude::*;

pub fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0i64..300).prop_map(|u| Op::Deposit(Cents::units(u))),
        (0i64..300).prop_map(|u| Op::Withdraw(Cents::units(u))),
        Just(Op::Query),
    ]
}

/// A small bank: 1-4 branches, 1-4 customers with 1-5 events each at any branch.
#[allow(dead_code)] // each test file uses what it needs
pub fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    scenario_strategy_sized(4, 4, 6)
}

pub fn scenario_strategy_sized(
    max_branches: u64,
    max_customers: usize,
    max_events: usize,
) -> impl Strategy<Value = Scenario> {
    (1u64..=max_branches, 1usize..=max_customers, 0i64..500).prop_flat_map(
        move |(branches, customers, start)| {
            let events = prop::collection::vec(
                prop::collection::vec((op_strategy(), 1..=branches), 1..max_events),
                customers,
            );
            events.prop_map(move |per_customer| {
                let mut next_event = 0;
                Scenario {
                    shape: InputShape::EventsWithBranch,
                    branches: (1..=branches)
                        .map(|id| BranchSpec {
                            id: BranchId(id),
                            balance: Cents::units(start),
                            line: 0,
                        })
                        .collect(),
                    customers: per_customer
                        .into_iter()
                        .enumerate()
                        .map(|(c, evs)| CustomerScript {
                            id: CustomerId(c as u64 + 1),
                            line: 0,
                            events: evs
                                .into_iter()
                                .map(|(op, branch)| {
                                    next_event += 1;
                                    ScriptEvent {
                                        id: EventId(next_event),
                                        op,
                                        branch: BranchId(branch),
                                        line: 0,
                                    }
                                })
                                .collect(),
                        })
                        .collect(),
                    warnings: vec![],
                }
            })
        },
    )
}
