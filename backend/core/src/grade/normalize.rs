//! From a submission's JSON to typed answers, forgiving what the course
//! never fixed.
//!
//! The course's outputs differ between years and students in ways no
//! handout decides, and the grader must not count those against anyone:
//!
//! * key order and key spelling (`eventId`, `customer_request_id`): keys are
//!   looked up by [`get`], which ignores case, `_` and `-`;
//! * `400` vs `400.0` vs `"400"`: amounts become [`Cents`];
//! * `propagate` / `propogate` / `broadcast` in interface and event names;
//! * upper or lower case of interface, result and comment words
//!   (`"QUERY"`, `"SUCCESS"`, `"Customer"`);
//! * ids written as strings (`"1"`).
//!
//!
//! [`get`]: super::detect::get
//!
//! What remains is a typed [`Normal`] submission per format. A value that
//! cannot be read (a key missing, a misspelt name) is a [`Problem`]
//! (`malformed`, `unknown_name`, with a guess at the intended name) and its
//! item is left out, so the other checks still run.

use serde_json::{Map, Value};

use super::detect::{get, Item, Part, PartKind};
use super::problem::{Place, Problem, ProblemKind};
use super::shown::{quoted, shown};
use crate::money::Cents;
use crate::op::OpKind;

/// Whether a request went through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Success,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Success => "success",
            Verdict::Fail => "fail",
        }
    }
}

/// One answer to a customer event (projects 1 and 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub op: OpKind,
    /// The branch the answer names (project 3 per-event outputs).
    pub branch: Option<u64>,
    pub result: Option<Verdict>,
    pub balance: Option<Cents>,
    /// The key the balance was under (`balance` or `money`).
    pub balance_key: &'static str,
    /// The answer's object.
    pub place: Place,
}

impl Answer {
    /// Where one key of the answer is (the object itself if it is absent).
    pub fn place_of(&self, key: &str) -> Place {
        self.place.key(key)
    }

    /// The same answer, its place aside (for exact comparisons).
    fn content(&self) -> (OpKind, Option<u64>, Option<Verdict>, Option<Cents>) {
        (self.op, self.branch, self.result, self.balance)
    }

    /// True when two answers say the same, wherever they are.
    pub fn same(&self, other: &Answer) -> bool {
        self.content() == other.content()
    }
}

/// A customer's answers, in the order printed (project 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerList {
    pub customer: u64,
    pub answers: Vec<Answer>,
    pub place: Place,
}

/// A customer's last balance (project 3, generation A).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalBalance {
    pub customer: u64,
    pub balance: Cents,
    pub place: Place,
}

/// The steps of a write in project 2 generation A names (`deposit_execute`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Request,
    Execute,
    PropagateRequest,
    PropagateExecute,
    PropagateResponse,
    Response,
}

impl Step {
    /// The name as bank-sim writes it (with the `propagate` spelling).
    pub fn name(self, op: OpKind) -> String {
        let step = match self {
            Step::Request => "request",
            Step::Execute => "execute",
            Step::PropagateRequest => "propagate_request",
            Step::PropagateExecute => "propagate_execute",
            Step::PropagateResponse => "propagate_response",
            Step::Response => "response",
        };
        format!("{op}_{step}")
    }
}

/// One entry of a generation A list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepEntry {
    pub event: u64,
    pub op: OpKind,
    pub step: Step,
    pub clock: u64,
    pub place: Place,
}

/// A `{"pid", "data"}` or `{"eventid", "data"}` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepList {
    /// The branch (pid) or the write event (eventid).
    pub id: u64,
    pub entries: Vec<StepEntry>,
    pub place: Place,
}

/// What a generation B comment says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Comment {
    SentFromCustomer(u64),
    RecvFromCustomer(u64),
    SentToBranch(u64),
    RecvFromBranch(u64),
}

impl Comment {
    pub fn text(self) -> String {
        match self {
            Comment::SentFromCustomer(c) => format!("event_sent from customer {c}"),
            Comment::RecvFromCustomer(c) => format!("event_recv from customer {c}"),
            Comment::SentToBranch(b) => format!("event_sent to branch {b}"),
            Comment::RecvFromBranch(b) => format!("event_recv from branch {b}"),
        }
    }
}

/// Whose event a generation B entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Customer,
    Branch,
}

/// One generation B event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockEvent {
    pub side: Side,
    /// The customer or branch that recorded it.
    pub owner: u64,
    pub request: u64,
    pub clock: u64,
    pub op: OpKind,
    /// `propagate_deposit` rather than `deposit`.
    pub propagate: bool,
    pub comment: Comment,
    pub place: Place,
}

impl ClockEvent {
    /// Everything but the place, to compare parts and runs.
    pub fn key(&self) -> (Side, u64, u64, u64, OpKind, bool, Comment) {
        (self.side, self.owner, self.request, self.clock, self.op, self.propagate, self.comment)
    }
}

/// A `{"id", "type", "events"}` object of a generation B list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockList {
    pub id: u64,
    pub events: Vec<ClockEvent>,
    pub place: Place,
}

/// A submission, typed, per format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Normal {
    /// Project 1 (and p1-money): per customer entry.
    pub p1: Vec<AnswerList>,
    /// Project 2 generation A: per branch, and per write event.
    pub p2a_branches: Vec<StepList>,
    pub p2a_events: Vec<StepList>,
    /// Project 2 generation B: each list, if handed in.
    pub p2b_customers: Option<Vec<ClockList>>,
    pub p2b_branches: Option<Vec<ClockList>>,
    pub p2b_all: Option<Vec<ClockEvent>>,
    /// Project 3 generation A.
    pub p3_balances: Vec<FinalBalance>,
    /// Project 3 generation B: (customer, answer) in the order printed.
    pub p3_events: Vec<(u64, Answer)>,
}

/// Reads parts (all of one format) into a [`Normal`], with a problem for
/// every value that cannot be read.
pub fn normalize(parts: &[Part<'_>]) -> (Normal, Vec<Problem>) {
    let mut r = Reader { problems: Vec::new() };
    let mut out = Normal::default();
    for part in parts {
        for (index, item) in part.items.iter().enumerate() {
            let place = Place::item(part.file, item.offset, index);
            r.item(part.kind, item, place, &mut out);
        }
    }
    (out, r.problems)
}

struct Reader {
    problems: Vec<Problem>,
}

impl Reader {
    fn problem(&mut self, kind: ProblemKind, place: &Place, message: String) {
        self.problems.push(Problem::new(kind, Some(place.clone()), "", message));
    }

    fn object<'v>(&mut self, value: &'v Value, place: &Place) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.problem(
                ProblemKind::Malformed,
                place,
                format!("expected an object, found {}", kind(value)),
            );
        }
        object
    }

    /// A required key.
    fn key<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        place: &Place,
    ) -> Option<(&'v str, &'v Value)> {
        let found = get(object, key);
        if found.is_none() {
            self.problem(ProblemKind::Malformed, place, format!("missing {key:?}"));
        }
        found
    }

    fn number(&mut self, object: &Map<String, Value>, key: &str, place: &Place) -> Option<u64> {
        let (written, value) = self.key(object, key, place)?;
        let n = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if n.is_none() {
            let at = place.key(written);
            self.problem(
                ProblemKind::Malformed,
                &at,
                format!("{} must be a whole number, found {}", quoted(written), shown(value)),
            );
        }
        n
    }

    fn money(&mut self, value: &Value, written: &str, place: &Place) -> Option<Cents> {
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        let parsed = parse_money(&text);
        if parsed.is_none() {
            let at = place.key(written);
            self.problem(
                ProblemKind::Malformed,
                &at,
                format!("{} must be an amount, found {}", quoted(written), shown(value)),
            );
        }
        parsed
    }

    fn name<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        key: &str,
        place: &Place,
    ) -> Option<(String, Place, &'v str)> {
        let (written, value) = self.key(object, key, place)?;
        let at = place.key(written);
        match value.as_str() {
            Some(s) => Some((s.trim().to_ascii_lowercase(), at, written)),
            None => {
                self.problem(
                    ProblemKind::Malformed,
                    &at,
                    format!("{} must be a string, found {}", quoted(written), shown(value)),
                );
                None
            }
        }
    }

    /// Reports a name that is none of `known`; gives the known name it is
    /// a typo of, if it is near one, so the checks can go on with it.
    fn unknown(
        &mut self,
        at: &Place,
        what: &str,
        written: &str,
        known: &[String],
    ) -> Option<String> {
        let guess = closest(written, known);
        let hint = guess.as_ref().map(|g| format!(" (did you mean {g:?}?)")).unwrap_or_default();
        let list = if known.len() <= 6 {
            let names: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
            format!("; expected {}", names.join(", "))
        } else {
            String::new()
        };
        self.problem(
            ProblemKind::UnknownName,
            at,
            format!("unknown {what} {}{hint}{list}", quoted(written)),
        );
        guess
    }

    fn interface(&mut self, object: &Map<String, Value>, place: &Place) -> Option<OpKind> {
        let (name, at, _) = self.name(object, "interface", place)?;
        match op_named(&name) {
            Some(op) => Some(op),
            None => {
                let known = ["deposit", "withdraw", "query"].map(String::from);
                self.unknown(&at, "interface", &name, &known).and_then(|g| op_named(&g))
            }
        }
    }

    fn item(&mut self, kind: PartKind, item: &Item<'_>, place: Place, out: &mut Normal) {
        let Some(object) = self.object(&item.value, &place) else { return };
        match kind {
            PartKind::P1 { .. } => {
                if let Some(list) = self.answer_list(object, &place) {
                    out.p1.push(list);
                }
            }
            PartKind::P3PerEvent => self.p3_event(object, &place, out),
            PartKind::P3Balances => {
                let customer = self.number(object, "id", &place);
                let balance =
                    self.key(object, "balance", &place).and_then(|(w, v)| self.money(v, w, &place));
                if let (Some(customer), Some(balance)) = (customer, balance) {
                    out.p3_balances.push(FinalBalance { customer, balance, place });
                }
            }
            PartKind::P2a => self.step_list(object, place, out),
            PartKind::P2bCustomer | PartKind::P2bBranch => {
                let side =
                    if kind == PartKind::P2bCustomer { Side::Customer } else { Side::Branch };
                let list = self.clock_list(object, side, place);
                let lists = if side == Side::Customer {
                    &mut out.p2b_customers
                } else {
                    &mut out.p2b_branches
                };
                if let Some(list) = list {
                    lists.get_or_insert_with(Vec::new).push(list);
                }
            }
            PartKind::P2bAll => {
                let all = out.p2b_all.get_or_insert_with(Vec::new);
                let side = match get(object, "type").and_then(|(_, t)| t.as_str()) {
                    Some(t) if t.eq_ignore_ascii_case("customer") => Some(Side::Customer),
                    Some(t) if t.eq_ignore_ascii_case("branch") => Some(Side::Branch),
                    // Some students leave "type" out: the comment tells.
                    _ => None,
                };
                let owner = get(object, "id").and_then(|(_, v)| as_u64(v));
                if let Some(event) = self.clock_event(object, side, owner, &place) {
                    all.push(event);
                }
            }
        }
    }

    fn answer_list(&mut self, object: &Map<String, Value>, place: &Place) -> Option<AnswerList> {
        let customer = self.number(object, "id", place)?;
        let (written, recv) = self.key(object, "recv", place)?;
        let recv_place = place.key(written);
        let Some(items) = recv.as_array() else {
            self.problem(
                ProblemKind::Malformed,
                &recv_place,
                format!("\"recv\" must be a list, found {}", kind(recv)),
            );
            return None;
        };
        let answers = items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let at = recv_place.at(i);
                let o = self.object(v, &at)?;
                self.answer(o, at)
            })
            .collect();
        Some(AnswerList { customer, answers, place: place.clone() })
    }

    fn answer(&mut self, object: &Map<String, Value>, place: Place) -> Option<Answer> {
        let op = self.interface(object, &place)?;
        let branch = match get(object, "branch") {
            Some(_) => Some(self.number(object, "branch", &place)?),
            None => None,
        };
        let result = match get(object, "result") {
            None => None,
            Some((written, value)) => {
                let at = place.key(written);
                match value.as_str().map(|s| s.trim().to_ascii_lowercase()) {
                    Some(s) if s == "success" => Some(Verdict::Success),
                    Some(s) if ["fail", "failure", "failed"].contains(&s.as_str()) => {
                        Some(Verdict::Fail)
                    }
                    Some(s) => {
                        let known = ["success", "fail"].map(String::from);
                        match self.unknown(&at, "result", &s, &known).as_deref() {
                            Some("success") => Some(Verdict::Success),
                            Some(_) => Some(Verdict::Fail),
                            None => None,
                        }
                    }
                    None => {
                        self.problem(
                            ProblemKind::Malformed,
                            &at,
                            format!("\"result\" must be a string, found {value}"),
                        );
                        None
                    }
                }
            }
        };
        let (balance_key, balance) = match (get(object, "balance"), get(object, "money")) {
            (Some((w, v)), _) => ("balance", self.money(v, w, &place)),
            // "money" on a write is the new balance (one student): ignored.
            (None, Some((w, v))) if op == OpKind::Query => ("money", self.money(v, w, &place)),
            _ => ("balance", None),
        };
        let balance = if op == OpKind::Query { balance } else { None };
        Some(Answer { op, branch, result, balance, balance_key, place })
    }

    fn p3_event(&mut self, object: &Map<String, Value>, place: &Place, out: &mut Normal) {
        let Some(customer) = self.number(object, "id", place) else { return };
        // The usual {"id", "recv": [item]}, or one student's
        // {"id", "balance": [item, ...]}.
        let (written, list) = match (get(object, "recv"), get(object, "balance")) {
            (Some(r), _) => r,
            (None, Some(b)) if b.1.is_array() => b,
            _ => {
                self.problem(ProblemKind::Malformed, place, "missing \"recv\"".to_owned());
                return;
            }
        };
        let list_place = place.key(written);
        let Some(items) = list.as_array() else { return };
        for (i, v) in items.iter().enumerate() {
            let at = list_place.at(i);
            if let Some(answer) = self.object(v, &at).and_then(|o| self.answer(o, at.clone())) {
                out.p3_events.push((customer, answer));
            }
        }
    }

    fn step_list(&mut self, object: &Map<String, Value>, place: Place, out: &mut Normal) {
        let is_event = get(object, "eventid").is_some();
        let id_key = if is_event {
            "eventid"
        } else if get(object, "pid").is_some() {
            "pid"
        } else {
            "id"
        };
        let Some(id) = self.number(object, id_key, &place) else { return };
        let Some((written, data)) = self.key(object, "data", &place) else { return };
        let data_place = place.key(written);
        let Some(items) = data.as_array() else {
            self.problem(ProblemKind::Malformed, &data_place, "\"data\" must be a list".to_owned());
            return;
        };
        let mut entries = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let at = data_place.at(i);
            let Some(o) = self.object(v, &at) else { continue };
            let event = if is_event { Some(id) } else { self.number(o, "id", &at) };
            let clock = self.number(o, "clock", &at);
            let Some((name, name_at, _)) = self.name(o, "name", &at) else { continue };
            let parsed = step_named(&name).or_else(|| {
                let guess = self.unknown(&name_at, "event name", &name, &all_step_names());
                guess.and_then(|g| step_named(&g))
            });
            if let (Some(event), Some(clock), Some((op, step))) = (event, clock, parsed) {
                entries.push(StepEntry { event, op, step, clock, place: at });
            }
        }
        let list = StepList { id, entries, place };
        if is_event {
            out.p2a_events.push(list);
        } else {
            out.p2a_branches.push(list);
        }
    }

    fn clock_list(
        &mut self,
        object: &Map<String, Value>,
        side: Side,
        place: Place,
    ) -> Option<ClockList> {
        let id = self.number(object, "id", &place)?;
        let (written, events) = self.key(object, "events", &place)?;
        let list_place = place.key(written);
        let items = events.as_array()?;
        let events = items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let at = list_place.at(i);
                let o = self.object(v, &at)?;
                self.clock_event(o, Some(side), Some(id), &at)
            })
            .collect();
        Some(ClockList { id, events, place })
    }

    fn clock_event(
        &mut self,
        object: &Map<String, Value>,
        side: Option<Side>,
        owner: Option<u64>,
        place: &Place,
    ) -> Option<ClockEvent> {
        let request = self.number(object, "customer-request-id", place);
        let clock = self.number(object, "logical_clock", place);
        let interface = self.name(object, "interface", place);
        let comment = self.name(object, "comment", place);
        let (interface, interface_at, _) = interface?;
        let (comment_text, comment_at, _) = comment?;
        let parsed = clock_interface(&interface).or_else(|| {
            let known = ["deposit", "withdraw", "propagate_deposit", "propagate_withdraw"]
                .map(String::from);
            let guess = self.unknown(&interface_at, "interface", &interface, &known);
            guess.and_then(|g| clock_interface(&g))
        });
        let comment = parse_comment(&comment_text);
        if comment.is_none() {
            self.problem(
                ProblemKind::UnknownName,
                &comment_at,
                format!(
                    "unknown comment {}; expected \"event_sent from customer C\", \
                     \"event_recv from customer C\", \"event_sent to branch B\" or \
                     \"event_recv from branch B\"",
                    quoted(&comment_text)
                ),
            );
        }
        let (op, propagate) = parsed?;
        let comment = comment?;
        let side = side.unwrap_or(match comment {
            Comment::SentFromCustomer(_) => Side::Customer,
            _ => Side::Branch,
        });
        let owner = match (owner, comment) {
            (Some(o), _) => o,
            (None, Comment::SentFromCustomer(c)) => c,
            (None, _) => {
                self.problem(
                    ProblemKind::Malformed,
                    place,
                    "missing \"id\" (which branch recorded it)".to_owned(),
                );
                return None;
            }
        };
        Some(ClockEvent {
            side,
            owner,
            request: request?,
            clock: clock?,
            op,
            propagate,
            comment,
            place: place.clone(),
        })
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An amount as printed in an output: `400`, `400.0`, `-30`, `"400"`.
pub fn parse_money(text: &str) -> Option<Cents> {
    let t = text.trim();
    match t.strip_prefix('-') {
        Some(rest) => Cents::parse(rest).ok().map(|c| Cents(-c.0)),
        None => Cents::parse(t).ok(),
    }
}

fn op_named(name: &str) -> Option<OpKind> {
    match name {
        "deposit" => Some(OpKind::Deposit),
        "withdraw" => Some(OpKind::Withdraw),
        "query" => Some(OpKind::Query),
        _ => None,
    }
}

/// The three spellings of "propagate" the course uses.
const SPELLINGS: [&str; 3] = ["propagate", "propogate", "broadcast"];

/// `deposit_propagate_request` and its spellings.
fn step_named(name: &str) -> Option<(OpKind, Step)> {
    let (op, rest) = name.split_once('_')?;
    let op = op_named(op).filter(|o| *o != OpKind::Query)?;
    let step = match rest {
        "request" => Step::Request,
        "execute" => Step::Execute,
        "response" => Step::Response,
        _ => {
            let (spelling, what) = rest.split_once('_')?;
            if !SPELLINGS.contains(&spelling) {
                return None;
            }
            match what {
                "request" => Step::PropagateRequest,
                "execute" => Step::PropagateExecute,
                "response" => Step::PropagateResponse,
                _ => return None,
            }
        }
    };
    Some((op, step))
}

fn all_step_names() -> Vec<String> {
    let steps = [
        Step::Request,
        Step::Execute,
        Step::PropagateRequest,
        Step::PropagateExecute,
        Step::PropagateResponse,
        Step::Response,
    ];
    [OpKind::Deposit, OpKind::Withdraw]
        .into_iter()
        .flat_map(|op| steps.map(|s| s.name(op)))
        .collect()
}

/// `deposit`, or `propagate_deposit` in any spelling.
fn clock_interface(name: &str) -> Option<(OpKind, bool)> {
    if let Some(op) = op_named(name).filter(|o| *o != OpKind::Query) {
        return Some((op, false));
    }
    let (spelling, op) = name.split_once('_')?;
    if !SPELLINGS.contains(&spelling) {
        return None;
    }
    op_named(op).filter(|o| *o != OpKind::Query).map(|op| (op, true))
}

fn parse_comment(text: &str) -> Option<Comment> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = words.last()?.parse::<u64>().ok()?;
    match words.as_slice() {
        ["event_sent", "from", "customer", _] => Some(Comment::SentFromCustomer(number)),
        ["event_recv", "from", "customer", _] => Some(Comment::RecvFromCustomer(number)),
        ["event_sent", "to", "branch", _] => Some(Comment::SentToBranch(number)),
        ["event_recv", "from", "branch", _] => Some(Comment::RecvFromBranch(number)),
        _ => None,
    }
}

/// The known name nearest to `written`, if it is near (a typo).
fn closest(written: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (edit_distance(written, k), k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

/// Levenshtein distance, over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::detect::read_parts;

    fn normal(text: &str) -> (Normal, Vec<Problem>) {
        normalize(&read_parts(0, text).unwrap())
    }

    #[test]
    fn what_the_course_never_fixed_is_forgiven() {
        let (n, problems) = normal(
            r#"[{"recv": [{"result": "SUCCESS", "interface": "QUERY", "balance": 400.0}], "id": "1"}]"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(n.p1[0].customer, 1);
        assert_eq!(n.p1[0].answers[0].balance, Some(Cents(40000)));
        assert_eq!(n.p1[0].answers[0].result, Some(Verdict::Success));
        assert_eq!(
            step_named("deposit_broadcast_response"),
            Some((OpKind::Deposit, Step::PropagateResponse))
        );
        assert_eq!(clock_interface("propogate_withdraw"), Some((OpKind::Withdraw, true)));
        assert_eq!(
            parse_comment("event_recv from Customer 3".to_ascii_lowercase().as_str()),
            Some(Comment::RecvFromCustomer(3))
        );
    }

    #[test]
    fn misspelt_names_are_reported_with_a_guess() {
        let (n, problems) = normal(
            r#"[{"id": 1, "recv": [{"interface": "deopsit", "result": "success"}, {"interface": "xyzzy"}]}]"#,
        );
        // The typo is read as its guess; a name far from all is left out.
        assert_eq!(n.p1[0].answers.len(), 1);
        assert_eq!(n.p1[0].answers[0].op, OpKind::Deposit);
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].kind, ProblemKind::UnknownName);
        assert!(
            problems[0].message.contains("did you mean \"deposit\""),
            "{}",
            problems[0].message
        );
        assert_eq!(problems[0].place.as_ref().unwrap().path.to_string(), "$[0].recv[0].interface");
        let (_, problems) = normal(
            r#"[{"pid": 1, "data": [{"id": 2, "name": "deposit_propagte_request", "clock": 4}]}]"#,
        );
        assert!(
            problems[0].message.contains("\"deposit_propagate_request\""),
            "{}",
            problems[0].message
        );
    }
}
