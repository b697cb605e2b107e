//! The session panel's sentences, from [`super::sessions`]' values: what a
//! session asks for, its sets in both notations, and what happened to each
//! request, parked ones in full ("parked at branch 2: it lacked write 1 from
//! branch 1 (w1.1), which Read Your Writes requires; released at event 14").

use bank_core::{Guarantees, Outcome, WriteSet};

use super::format;
use super::sessions::{Missing, Parked, RequestView, SessionView, WaitEnd};
use super::trace::Node;

/// `Customer 1 (session 1)` / `You (customer 1000)`.
pub fn session_title(session: &SessionView) -> String {
    let customer = session.session.customer().0;
    match session.node {
        Node::Customer(index) => format!("Customer {customer} (session {})", index + 1),
        Node::Browser => format!("You, the browser (customer {customer})"),
        Node::Branch(id) => format!("Branch {id}"),
    }
}

/// `Read Your Writes, Monotonic Writes` / `no guarantee`.
pub fn guarantee_names(g: Guarantees) -> String {
    let names: Vec<&str> = g.enabled().map(|g| g.name()).collect();
    if names.is_empty() {
        "no guarantee".to_owned()
    } else {
        names.join(", ")
    }
}

/// `RYW+MW` / `none`: the short form for a request line.
pub fn guarantee_shorts(g: Guarantees) -> String {
    let names: Vec<String> = g.enabled().map(|g| g.short().to_uppercase()).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join("+")
    }
}

/// A set in both notations: (`w2.1-7`, `writes 1 to 7 from branch 2`).
pub fn set_forms(set: &WriteSet) -> (String, String) {
    (set.compact(), set.in_words())
}

/// `deposit 100.00 at branch 1`.
pub fn request_title(request: &RequestView) -> String {
    let op = request.op.kind().as_str();
    let branch = request.branch.0;
    if request.op.is_write() {
        format!("{op} {} at branch {branch}", format::cents(request.op.amount().0))
    } else {
        format!("{op} at branch {branch}")
    }
}

/// What the guarantees required of the branch.
pub fn required_sentence(request: &RequestView) -> String {
    if request.required.is_empty() {
        "required nothing of the branch".to_owned()
    } else {
        let (compact, words) = set_forms(&request.required);
        format!("required {compact} ({words})")
    }
}

/// How the request ended, or that it is on its way.
pub fn answer_sentence(request: &RequestView) -> String {
    let Some(answer) = &request.answer else {
        return match (&request.received_at, request.is_waiting()) {
            (_, true) => "waiting at the branch".to_owned(),
            (Some(_), false) => "received by the branch, not answered yet".to_owned(),
            (None, _) => "on its way to the branch".to_owned(),
        };
    };
    match &answer.outcome {
        Outcome::Success { balance } => {
            let mut text = format!("answered ok, balance {balance}");
            if let Some(write) = answer.write {
                text.push_str(&format!(", its write is {write}"));
            }
            if let Some(seen) = &answer.observed {
                text.push_str(&format!(", saw {}", seen.compact()));
            }
            text
        }
        Outcome::Failed { reason, .. } => format!("refused: {reason}"),
    }
}

/// One origin's missing writes: `write 1 from branch 1 (w1.1), which Read
/// Your Writes requires`.
pub fn missing_sentence(missing: &Missing) -> String {
    let why =
        missing.guarantee.map(|g| format!(", which {} requires", g.name())).unwrap_or_default();
    format!("{} ({}){why}", missing.writes.in_words(), missing.writes.compact())
}

/// The whole story of a parked request at the cursor.
pub fn parked_sentence(request: &RequestView, parked: &Parked) -> String {
    let lacked: Vec<String> = parked.missing.iter().map(missing_sentence).collect();
    let mut text = format!(
        "parked at branch {} (event #{}): it lacked {}",
        request.branch.0,
        parked.at,
        lacked.join("; and ")
    );
    match parked.ended {
        Some(WaitEnd::Released(at)) => {
            text.push_str(&format!("; released at event #{at}, once they had arrived"))
        }
        Some(WaitEnd::Refused(at)) => {
            text.push_str(&format!("; refused at event #{at}: the branch gave up waiting"))
        }
        None => {
            let all = parked.all_missing();
            text.push_str(&format!(
                "; still waiting ({} of {} arrived)",
                parked.arrived.len(),
                all.len()
            ));
        }
    }
    text
}
