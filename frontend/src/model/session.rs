//! The browser as a customer: its id, event ids, Lamport clock and write set.

use bank_proto::{customer_reply, CustomerReply, CustomerRequest, Operation, Session, WriteId};

use super::format;

/// The customer id the browser uses (scenario customers have small ids).
pub const BROWSER_CUSTOMER_ID: u64 = 1000;
/// The browser's first event id; later ones count up.
pub const FIRST_EVENT_ID: u64 = 1000;

/// The browser's customer session. A new history (load or reset) starts a
/// fresh cluster whose branches never saw the old writes, so it resets too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserSession {
    next_event: u64,
    clock: u64,
    write_set: Vec<WriteId>,
}

impl Default for BrowserSession {
    fn default() -> Self {
        BrowserSession { next_event: FIRST_EVENT_ID, clock: 0, write_set: Vec::new() }
    }
}

impl BrowserSession {
    /// The next request: a fresh event id, the clock ticked, the write set attached.
    pub fn request(&mut self, branch_id: u64, operation: Operation, amount_cents: i64) -> CustomerRequest {
        self.clock += 1;
        let event_id = self.next_event;
        self.next_event += 1;
        CustomerRequest {
            customer_id: BROWSER_CUSTOMER_ID,
            event_id,
            branch_id,
            operation: operation as i32,
            amount_cents: if operation == Operation::Query { 0 } else { amount_cents },
            clock: self.clock,
            session: Some(Session { write_set: self.write_set.clone() }),
        }
    }

    /// Takes in a reply: the clock catches up, an acknowledged write joins the
    /// write set. Returns the text shown to the person.
    pub fn answered(&mut self, reply: &CustomerReply) -> String {
        self.clock = self.clock.max(reply.clock) + 1;
        match &reply.result {
            Some(customer_reply::Result::Success(s)) => {
                if let Some(write) = &s.write {
                    self.write_set.push(*write);
                }
                format!("success: balance {}", format::cents(s.balance_cents))
            }
            Some(customer_reply::Result::Failure(f)) => {
                let message = if f.message.is_empty() { format::failure_reason(f.reason).to_owned() } else { f.message.clone() };
                format!("failure: {message} (balance {})", format::cents(f.balance_cents))
            }
            None => "no result".to_owned(),
        }
    }

    pub fn write_set(&self) -> &[WriteId] {
        &self.write_set
    }
}
