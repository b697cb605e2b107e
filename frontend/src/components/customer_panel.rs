//! The browser as a customer: send a deposit, withdraw or query to any branch
//! of the live cluster (customer id 1000, event ids from 1000).

use bank_core::{BranchId, Cents, Op, OpKind};
use leptos::{html, prelude::*};

use crate::model::customer::{typed_amount, BROWSER_CUSTOMER};
use crate::state::{context, customer::Customer, playback::Playback, server::Server};

/// The operations offered: the options' values are their core names.
const OPERATIONS: [OpKind; 3] = [OpKind::Deposit, OpKind::Withdraw, OpKind::Query];

#[component]
pub fn CustomerPanel() -> impl IntoView {
    let customer = context::<Customer>();
    let playback = context::<Playback>();
    let server = context::<Server>();
    let branch_ref = NodeRef::<html::Select>::new();
    let op_ref = NodeRef::<html::Select>::new();
    let amount_ref = NodeRef::<html::Input>::new();
    let query = RwSignal::new(false);

    let branch_ids = Memo::new(move |_| {
        playback.trace.with(|t| {
            let mut ids: Vec<u64> =
                t.scenario().map(|s| s.branches.iter().map(|b| b.id).collect()).unwrap_or_default();
            ids.sort_unstable();
            ids
        })
    });

    let send = move |_| {
        let fields = (branch_ref.get(), op_ref.get(), amount_ref.get());
        let (Some(branch), Some(op), Some(amount)) = fields else { return };
        let Ok(branch_id) = branch.value().parse::<u64>() else {
            let text = "load a scenario first: there is no branch to talk to";
            customer.result.set(Some(text.into()));
            return;
        };
        let name = op.value();
        let Some(kind) = OPERATIONS.into_iter().find(|k| k.as_str() == name) else { return };
        let amount = if kind == OpKind::Query {
            Cents::ZERO
        } else {
            match typed_amount(&amount.value()) {
                Ok(cents) => cents,
                Err(error) => {
                    customer.result.set(Some(format!("error: {error}")));
                    return;
                }
            }
        };
        customer.send(playback, BranchId(branch_id), Op::from_kind(kind, amount));
    };

    // The session's acknowledged writes, in issue order.
    let write_set = move || {
        customer.browser.with(|b| {
            let writes = b.session().writes();
            let ids: Vec<String> =
                writes.iter().map(|w| format!("{}.{}", w.origin.0, w.seq)).collect();
            if ids.is_empty() {
                "empty".to_owned()
            } else {
                ids.join(", ")
            }
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
                        on:change=move |ev| {
                            query.set(event_target_value(&ev) == OpKind::Query.as_str())
                        }
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
                <button
                    data-testid="customer-send"
                    class="primary"
                    on:click=send
                    disabled=server.read_only
                    title=server.title("Send this request to the branch, as a real gRPC call")
                >
                    "Send"
                </button>
            </div>
            <p class="customer-result" data-testid="customer-result" aria-live="polite">
                {move || customer.result.get().unwrap_or_default()}
            </p>
            <p class="hint">
                {format!("You are customer {}. Write set: ", BROWSER_CUSTOMER.0)} {write_set}
            </p>
        </section>
    }
}
