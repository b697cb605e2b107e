//! The browser as a customer: a core [`Session`] (write set, read set,
//! guarantees, Lamport counter) plus the event ids the browser numbers its
//! requests with, and the amount the person typed.
//!
//! The session rules are the core's, as for every scripted customer; this
//! file only numbers the browser's events and turns replies into the text
//! the customer panel shows. The messages are converted by `bank_proto`'s
//! `From` / `TryFrom` impls, as in the backend.

use bank_core::branch::Reply;
use bank_core::money::MoneyError;
use bank_core::{BranchId, Cents, CustomerId, EventId, Guarantees, Op, Session};
use bank_proto::{customer_reply, CustomerReply, CustomerRequest};
use thiserror::Error;

use super::format;

/// The customer id the browser uses (scenario customers have small ids).
pub const BROWSER_CUSTOMER: CustomerId = CustomerId(1000);
/// The browser's first event id; later ones count up.
pub const FIRST_EVENT: EventId = EventId(1000);

/// The browser's customer. A new history (load or reset) starts a fresh
/// cluster whose branches never saw the old writes, so it starts afresh too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserCustomer {
    session: Session,
    next_event: EventId,
}

impl Default for BrowserCustomer {
    /// Asks for the course's guarantees (Read Your Writes, Monotonic Writes).
    fn default() -> Self {
        BrowserCustomer::new(Guarantees::COURSE)
    }
}

impl BrowserCustomer {
    /// A customer whose session asks for `guarantees`.
    pub fn new(guarantees: Guarantees) -> Self {
        let session = Session::with_guarantees(BROWSER_CUSTOMER, guarantees);
        BrowserCustomer { session, next_event: FIRST_EVENT }
    }

    /// The session: its write set, read set and guarantees.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The next request: a fresh event id, the clock ticked, the session attached.
    pub fn request(&mut self, branch: BranchId, op: Op) -> CustomerRequest {
        let event = self.next_event;
        self.next_event = EventId(event.0 + 1);
        CustomerRequest::from(&self.session.request(event, branch, op))
    }

    /// Takes in a reply: the clock catches up with the branch's, an
    /// acknowledged write joins the write set, what a query saw joins the
    /// read set. Returns the text shown to the person.
    pub fn answered(&mut self, reply: &CustomerReply) -> String {
        self.session.merge_clock(reply.clock);
        if let Ok(reply) = Reply::try_from(reply) {
            self.session.observe(&reply);
        }
        match &reply.result {
            Some(customer_reply::Result::Success(s)) => {
                format!("success: balance {}", format::cents(s.balance_cents))
            }
            Some(customer_reply::Result::Failure(f)) => {
                let message = if f.message.is_empty() {
                    format::failure_reason(f.reason).to_owned()
                } else {
                    f.message.clone()
                };
                format!("failure: {message} (balance {})", format::cents(f.balance_cents))
            }
            None => "no result".to_owned(),
        }
    }
}

/// Why the amount field does not hold an amount.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    /// Nothing typed yet.
    #[error("enter an amount, like 25 or 25.50")]
    Empty,
    /// Not money as the core reads it ([`Cents::parse`]).
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// What the person typed in the amount field: `25`, `25.5`, ` 0.05 `. The
/// rule is the core's, the one that reads amounts in scenario files.
pub fn typed_amount(text: &str) -> Result<Cents, AmountError> {
    if text.trim().is_empty() {
        return Err(AmountError::Empty);
    }
    Ok(Cents::parse(text)?)
}
