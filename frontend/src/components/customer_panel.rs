//! The browser as a customer: send a deposit, withdraw or query to any branch
//! of the live cluster (customer id 1000, event ids from 1000).

use leptos::{html, prelude::*};

use crate::lab::Lab;
use crate::model::{format, session::BROWSER_CUSTOMER_ID};

#[component]
pub fn CustomerPanel() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let branch_ref = NodeRef::<html::Select>::new();
    let op_ref = NodeRef::<html::Select>::new();
    let amount_ref = NodeRef::<html::Input>::new();
    let query = RwSignal::new(false);

    let branch_ids = Memo::new(move |_| {
        lab.trace.with(|t| {
            let mut ids: Vec<u64> =
                t.scenario().map(|s| s.branches.iter().map(|b| b.id).collect()).unwrap_or_default();
            ids.sort_unstable();
            ids
        })
    });

    let send = move |_| {
        let (Some(branch), Some(op), Some(amount)) = (branch_ref.get(), op_ref.get(), amount_ref.get()) else {
            return;
        };
        let Ok(branch_id) = branch.value().parse::<u64>() else {
            lab.customer_result.set(Some("load a scenario first: there is no branch to talk to".into()));
            return;
        };
        let operation = format::parse_operation(&op.value());
        let amount_cents = if operation == bank_proto::Operation::Query {
            0
        } else {
            match format::parse_money(&amount.value()) {
                Ok(cents) => cents,
                Err(error) => {
                    lab.customer_result.set(Some(format!("error: {error}")));
                    return;
                }
            }
        };
        lab.send_customer_request(branch_id, operation, amount_cents);
    };

    let write_set = move || {
        lab.session.with(|s| {
            let ids: Vec<String> = s.write_set().iter().map(|w| format!("{}.{}", w.origin_branch, w.seq)).collect();
            if ids.is_empty() { "empty".to_owned() } else { ids.join(", ") }
        })
    };

    view! {
        <section class="panel customer-panel">
            <h2>"Be a customer"</h2>
            <div class="row">
                <label>
                    "Branch "
                    <select data-testid="customer-branch" node_ref=branch_ref>
                        {move || {
                            branch_ids
                                .get()
                                .into_iter()
                                .map(|id| view! { <option value=id.to_string()>{id}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label>
                    "Operation "
                    <select
                        data-testid="customer-op"
                        node_ref=op_ref
                        on:change=move |ev| query.set(event_target_value(&ev) == "query")
                    >
                        <option value="deposit">"deposit"</option>
                        <option value="withdraw">"withdraw"</option>
                        <option value="query">"query"</option>
                    </select>
                </label>
                <label>
                    "Amount "
                    <input
                        data-testid="customer-amount"
                        node_ref=amount_ref
                        type="text"
                        inputmode="decimal"
                        size="8"
                        value="25"
                        disabled=move || query.get()
                    />
                </label>
                <button data-testid="customer-send" class="primary" on:click=send>"Send"</button>
            </div>
            <p class="customer-result" data-testid="customer-result" aria-live="polite">
                {move || lab.customer_result.get().unwrap_or_default()}
            </p>
            <p class="hint">
                {format!("You are customer {BROWSER_CUSTOMER_ID}. Write set: ")} {write_set}
            </p>
        </section>
    }
}
