//! Reading a course input file into a [`Scenario`].
//!
//! Every project of the course uses the same envelope: one JSON array mixing
//! customer entries and branch entries. Only the customers' event lists
//! differ between projects and years:
//!
//! ```text
//! {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 10}]}            project 1, 2 (gen. A)
//! {"id": 1, "type": "customer", "customer-requests": [{"customer-request-id": 1, ...}]}                project 2 (gen. B)
//! {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query", "dest": 2}]}                 project 3 (gen. A)
//! {"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query", "branch": 2}]}               project 3 (gen. B)
//! {"id": 1, "type": "branch", "balance": 400}
//! ```
//!
//! The file is read in two passes:
//!
//! 1. **Structure.** The text is parsed into *borrowed* raw JSON values
//!    (`&RawValue`): each is a slice of the original text, so we know where it
//!    starts and can point errors at a line and column. Each entry and each
//!    event is checked on its own (types, ids, amounts, interfaces).
//! 2. **Cross-references.** With every branch known, each event's branch is
//!    resolved and checked, the file's [`InputShape`] is decided (and mixing
//!    shapes is refused), and warnings are collected (duplicate event ids,
//!    branches starting with different balances).
//!
//! Before pass 1 the text is scanned for keys written twice in one object
//! (refused: serde_json would keep the last one silently), and pass 1 stops
//! at the first branch, customer or event beyond the documented maxima
//! ([`MAX_BRANCHES`], [`MAX_CUSTOMERS`], [`MAX_EVENTS`]).
//!
//! Nothing here panics, whatever the text: every failure is an
//! [`InputError`].

use std::collections::HashMap;

use serde_json::value::RawValue;

use super::duplicate_keys::find_duplicate_key;
use super::error::{InputError, InputErrorKind};
use super::limits::{MAX_BRANCHES, MAX_CUSTOMERS, MAX_EVENTS};
use super::position::LineIndex;
use crate::ids::{BranchId, CustomerId, EventId};
use crate::money::Cents;
use crate::op::Op;
use crate::scenario::{BranchSpec, CustomerScript, InputShape, Scenario, ScriptEvent};

/// Parses the text of an input file. `file` names it in error messages.
pub(crate) fn parse(text: &str, file: &str) -> Result<Scenario, InputError> {
    let reader = Reader { file, index: LineIndex::new(text) };
    let entries = reader.entries(text)?;
    reader.no_duplicate_keys(text)?;
    let mut raw = RawFile::default();
    for (n, entry) in entries.iter().enumerate() {
        reader.entry(n + 1, entry, &mut raw)?;
    }
    reader.resolve(raw, text)
}

/// Which list a customer entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListKind {
    Events,
    CustomerRequests,
}

impl ListKind {
    fn key(self) -> &'static str {
        match self {
            ListKind::Events => "events",
            ListKind::CustomerRequests => "customer-requests",
        }
    }
}

/// Which key an event used to name its branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BranchKey {
    Dest,
    Branch,
}

impl BranchKey {
    fn key(self) -> &'static str {
        match self {
            BranchKey::Dest => "dest",
            BranchKey::Branch => "branch",
        }
    }
}

/// What pass 1 learned about the file.
#[derive(Debug, Default)]
struct RawFile<'a> {
    branches: Vec<BranchSpec>,
    /// Branch id -> line of its entry, to catch duplicates.
    /// The `id` value of each branch's entry (its first, if repeated).
    branch_ids: HashMap<u64, &'a RawValue>,
    customers: Vec<RawCustomer<'a>>,
    /// Events seen so far, for the position-based ids.
    event_count: u64,
}

#[derive(Debug)]
struct RawCustomer<'a> {
    id: u64,
    line: usize,
    list: ListKind,
    /// Line of the list's value, for shape errors.
    list_line: usize,
    events: Vec<RawEvent<'a>>,
}

#[derive(Debug)]
struct RawEvent<'a> {
    /// The id written in the file, if any.
    id: Option<u64>,
    /// 1-based position among all events of the file.
    position: u64,
    op: Op,
    /// The named branch, its key and the raw value (to point errors at it).
    target: Option<(BranchKey, u64, &'a RawValue)>,
    line: usize,
    /// Where to point at the event: its id's value, else the whole event.
    place: &'a RawValue,
}

/// The largest id (of a customer, branch or event) an input may use:
/// [`crate::clock::MAX_CLOCK`], 2^53 − 1.
pub const MAX_ID: u64 = crate::clock::MAX_CLOCK;

const UP_TO_MAX_ID: &str =
    "a whole number up to 9007199254740991 (2^53 - 1, the largest every JSON reader holds exactly)";

/// The uses of one event id: where first and second, and how many.
#[derive(Debug)]
struct SeenId<'a> {
    first: &'a RawValue,
    again: Option<&'a RawValue>,
    uses: usize,
}

/// How many reused event ids are named one by one; the rest are counted.
const REUSED_IDS_SHOWN: usize = 5;

impl RawEvent<'_> {
    fn id(&self) -> u64 {
        self.id.unwrap_or(self.position)
    }
}

/// The text being read, for turning positions into lines.
#[derive(Debug)]
struct Reader<'a> {
    file: &'a str,
    index: LineIndex<'a>,
}

/// The fields of one JSON object, each still raw. A JSON `null` counts as an
/// absent key.
#[derive(Debug)]
struct Fields<'a> {
    map: HashMap<String, &'a RawValue>,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.map.get(key).copied().filter(|raw| raw.get() != "null")
    }

    /// The first of several alternative keys that is present.
    fn get_any(&self, keys: &[&'static str]) -> Option<(&'static str, &'a RawValue)> {
        keys.iter().find_map(|&k| self.get(k).map(|raw| (k, raw)))
    }
}

impl<'a> Reader<'a> {
    /// An error pointing at a value (line and column).
    fn at(&self, raw: &RawValue, kind: InputErrorKind) -> InputError {
        let (line, column) = self.index.locate(raw.get());
        InputError::new(self.file, line, kind).with_column(column)
    }

    /// An error on a whole line (no column).
    fn on_line(&self, line: usize, kind: InputErrorKind) -> InputError {
        InputError::new(self.file, line, kind)
    }

    /// One warning per event id used more than once (the first
    /// [`REUSED_IDS_SHOWN`], in file order, with where), and one counting
    /// the rest: a file of 2,000 reused ids says so in six lines.
    fn reused_ids(&self, seen: HashMap<u64, SeenId<'_>>) -> Vec<String> {
        let offset = |raw: &RawValue| self.index.offset_of(raw.get()).unwrap_or(0);
        let mut reused: Vec<(u64, SeenId<'_>)> =
            seen.into_iter().filter(|(_, s)| s.uses > 1).collect();
        reused.sort_by_key(|(_, s)| offset(s.first));
        let place = |raw: &RawValue| {
            let (line, column) = self.index.locate(raw.get());
            format!("line {line}, column {column}")
        };
        let mut warnings: Vec<String> = reused
            .iter()
            .take(REUSED_IDS_SHOWN)
            .map(|(id, s)| {
                let times =
                    if s.uses == 2 { "twice".to_owned() } else { format!("{} times", s.uses) };
                let again = s.again.map(|a| format!("; again at {}", place(a))).unwrap_or_default();
                format!(
                    "event id {id} is used {times} (first at {}{again}); events are told apart \
                     by position",
                    place(s.first)
                )
            })
            .collect();
        if reused.len() > REUSED_IDS_SHOWN {
            warnings.push(format!(
                "{} more event ids are used more than once; events are told apart by position",
                reused.len() - REUSED_IDS_SHOWN
            ));
        }
        warnings
    }

    fn line_of(&self, raw: &RawValue) -> usize {
        self.index.line_of(raw.get())
    }

    /// Turns a serde_json error in `part` (a slice of the text) into an error
    /// at the right place of the whole file.
    fn syntax(&self, part: &str, error: &serde_json::Error) -> InputError {
        let (base_line, base_column) = self.index.locate(part);
        let (rel_line, rel_column) = (error.line().max(1), error.column().max(1));
        let (line, column) = if rel_line == 1 {
            (base_line, base_column + rel_column - 1)
        } else {
            (base_line + rel_line - 1, rel_column)
        };
        InputError::new(self.file, line, InputErrorKind::Syntax(strip_position(error)))
            .with_column(column)
    }

    /// Pass 1, top level: the text must be a JSON array.
    fn entries(&self, text: &'a str) -> Result<Vec<&'a RawValue>, InputError> {
        // A UTF-8 byte order mark is invisible in editors: skip it.
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let trimmed = body.trim_start();
        let Some(first) = trimmed.chars().next() else {
            return Err(self.on_line(1, InputErrorKind::Empty));
        };
        if first != '[' {
            let (line, column) = self.index.locate(trimmed);
            return Err(self
                .on_line(line, InputErrorKind::NotAnArray { found: describe_start(trimmed) })
                .with_column(column));
        }
        serde_json::from_str::<Vec<&'a RawValue>>(body).map_err(|e| self.syntax(body, &e))
    }

    /// Refuses a key written twice in one object, pointing at the second.
    fn no_duplicate_keys(&self, text: &str) -> Result<(), InputError> {
        let Some(duplicate) = find_duplicate_key(text) else { return Ok(()) };
        let (first_line, first_column) = self.index.line_col(duplicate.first);
        let (line, column) = self.index.line_col(duplicate.second);
        let kind = InputErrorKind::DuplicateKey { key: duplicate.key, first_line, first_column };
        Err(self.on_line(line, kind).with_column(column))
    }

    /// Refuses the `count`-th item of a kind (1-based) beyond its maximum.
    fn within(
        &self,
        raw: &RawValue,
        count: usize,
        what: &'static str,
        max: usize,
    ) -> Result<(), InputError> {
        if count > max {
            return Err(self.at(raw, InputErrorKind::TooMany { what, max }));
        }
        Ok(())
    }

    /// The fields of an object, or an error saying what the value is instead.
    fn object(
        &self,
        raw: &'a RawValue,
        expected: &'static str,
        context: &str,
    ) -> Result<Fields<'a>, InputError> {
        if !raw.get().starts_with('{') {
            return Err(self
                .at(raw, InputErrorKind::NotAnObject { expected, found: describe_start(raw.get()) })
                .with_context(context));
        }
        serde_json::from_str::<HashMap<String, &'a RawValue>>(raw.get())
            .map(|map| Fields { map })
            .map_err(|e| self.syntax(raw.get(), &e).with_context(context))
    }

    /// Pass 1 for one entry of the top-level array.
    fn entry(&self, n: usize, raw: &'a RawValue, file: &mut RawFile<'a>) -> Result<(), InputError> {
        let context = format!("entry {n}");
        let fields = self.object(raw, "an entry", &context)?;
        let line = self.line_of(raw);
        let kind = match fields.get("type") {
            None => {
                return Err(self.on_line(line, InputErrorKind::MissingType).with_context(context))
            }
            Some(value) => {
                let name = string(value).ok_or_else(|| {
                    self.at(
                        value,
                        InputErrorKind::BadValue {
                            key: "type",
                            expected: "\"customer\" or \"branch\"",
                            found: describe(value),
                        },
                    )
                    .with_context(&context)
                })?;
                match name.trim().to_ascii_lowercase().as_str() {
                    "customer" => EntryKind::Customer,
                    "branch" | "bank" => EntryKind::Branch,
                    _ => {
                        return Err(self
                            .at(value, InputErrorKind::UnknownType(name))
                            .with_context(context))
                    }
                }
            }
        };
        let (id, id_value) = match fields.get("id") {
            None => {
                let kind = InputErrorKind::MissingKey {
                    key: "id",
                    hint: " (every entry needs a numeric id)",
                };
                return Err(self.on_line(line, kind).with_context(context));
            }
            Some(value) => (self.id(value, "id").map_err(|e| e.with_context(&context))?, value),
        };
        match kind {
            EntryKind::Branch => {
                self.within(raw, file.branches.len() + 1, "branches", MAX_BRANCHES)?;
                self.branch((id, id_value), line, &fields, file)
            }
            EntryKind::Customer => {
                self.within(raw, file.customers.len() + 1, "customers", MAX_CUSTOMERS)?;
                self.customer(id, line, &fields, file)
            }
        }
    }

    fn branch(
        &self,
        (id, id_value): (u64, &'a RawValue),
        line: usize,
        fields: &Fields<'a>,
        file: &mut RawFile<'a>,
    ) -> Result<(), InputError> {
        let context = format!("branch {id}");
        let balance = match fields.get("balance") {
            None => {
                let kind = InputErrorKind::MissingKey {
                    key: "balance",
                    hint: " (the branch's starting balance, e.g. 400)",
                };
                return Err(self.on_line(line, kind).with_context(context));
            }
            Some(value) => self.money(value, "balance").map_err(|e| e.with_context(&context))?,
        };
        if let Some(first) = file.branch_ids.get(&id) {
            let (first_line, first_column) = self.index.locate(first.get());
            let kind = InputErrorKind::DuplicateBranch { id, first_line, first_column };
            return Err(self.at(id_value, kind).with_context(context));
        }
        file.branch_ids.insert(id, id_value);
        file.branches.push(BranchSpec { id: BranchId(id), balance, line });
        Ok(())
    }

    fn customer(
        &self,
        id: u64,
        line: usize,
        fields: &Fields<'a>,
        file: &mut RawFile<'a>,
    ) -> Result<(), InputError> {
        let context = format!("customer {id}");
        let (list, raw_list) = match (fields.get("events"), fields.get("customer-requests")) {
            (Some(events), None) => (ListKind::Events, events),
            (None, Some(requests)) => (ListKind::CustomerRequests, requests),
            (None, None) => {
                return Err(self.on_line(line, InputErrorKind::MissingEvents).with_context(context))
            }
            (Some(_), Some(second)) => {
                return Err(self.at(second, InputErrorKind::BothEventLists).with_context(context))
            }
        };
        if !raw_list.get().starts_with('[') {
            let kind = InputErrorKind::BadValue {
                key: list.key(),
                expected: "a list of events",
                found: describe(raw_list),
            };
            return Err(self.at(raw_list, kind).with_context(context));
        }
        let items = serde_json::from_str::<Vec<&'a RawValue>>(raw_list.get())
            .map_err(|e| self.syntax(raw_list.get(), &e).with_context(&context))?;
        let mut events = Vec::with_capacity(items.len());
        for item in items {
            let count = usize::try_from(file.event_count).unwrap_or(usize::MAX);
            self.within(item, count.saturating_add(1), "events", MAX_EVENTS)
                .map_err(|e| e.with_context(&context))?;
            file.event_count += 1;
            events.push(self.event(id, file.event_count, item)?);
        }
        file.customers.push(RawCustomer {
            id,
            line,
            list,
            list_line: self.line_of(raw_list),
            events,
        });
        Ok(())
    }

    /// Pass 1 for one event of a customer's list.
    fn event(
        &self,
        customer: u64,
        position: u64,
        raw: &'a RawValue,
    ) -> Result<RawEvent<'a>, InputError> {
        let line = self.line_of(raw);
        let fields = self.object(
            raw,
            "an event",
            &format!("customer {customer}, event at position {position}"),
        )?;
        let id_field = fields.get_any(&["id", "customer-request-id", "customer_request_id"]);
        let place = id_field.map_or(raw, |(_, value)| value);
        let id = match id_field {
            None => None,
            Some((key, value)) => Some(self.id(value, key).map_err(|e| {
                e.with_context(format!("customer {customer}, event at position {position}"))
            })?),
        };
        let context = format!("customer {customer}, event {}", id.unwrap_or(position));
        let op = self.op(line, &fields).map_err(|e| e.with_context(&context))?;
        let target = match (fields.get("dest"), fields.get("branch")) {
            (None, None) => None,
            (Some(dest), None) => Some((
                BranchKey::Dest,
                self.id(dest, "dest").map_err(|e| e.with_context(&context))?,
                dest,
            )),
            (None, Some(branch)) => Some((
                BranchKey::Branch,
                self.id(branch, "branch").map_err(|e| e.with_context(&context))?,
                branch,
            )),
            (Some(_), Some(branch)) => {
                return Err(self.at(branch, InputErrorKind::BothBranchKeys).with_context(context));
            }
        };
        Ok(RawEvent { id, position, op, target, line, place })
    }

    /// The operation of an event: its interface and, for writes, its amount.
    fn op(&self, line: usize, fields: &Fields<'a>) -> Result<Op, InputError> {
        let Some(value) = fields.get("interface") else {
            return Err(self.on_line(line, InputErrorKind::MissingInterface));
        };
        let Some(name) = string(value) else {
            let kind = InputErrorKind::BadValue {
                key: "interface",
                expected: "\"deposit\", \"withdraw\" or \"query\"",
                found: describe(value),
            };
            return Err(self.at(value, kind));
        };
        let write = match name.trim().to_ascii_lowercase().as_str() {
            // Queries carry a meaningless "money" in some years: ignored.
            "query" => return Ok(Op::Query),
            "deposit" => Op::Deposit,
            "withdraw" => Op::Withdraw,
            _ => return Err(self.at(value, InputErrorKind::UnknownInterface(name))),
        };
        match (fields.get("money"), fields.map.get("money")) {
            (Some(money), _) => Ok(write(self.money(money, "money")?)),
            // `"money": null`: pointed at, as any other bad amount.
            (None, Some(null)) => Err(self.at(
                null,
                InputErrorKind::BadValue {
                    key: "money",
                    expected: "an amount like 400 or 400.5 (a deposit or withdraw needs one)",
                    found: "null".to_owned(),
                },
            )),
            (None, None) => Err(self.on_line(
                line,
                InputErrorKind::MissingKey {
                    key: "money",
                    hint: " (a deposit or withdraw needs an amount)",
                },
            )),
        }
    }

    /// A non-negative integer id: `3` or `"3"`.
    fn id(&self, raw: &RawValue, key: &'static str) -> Result<u64, InputError> {
        let text = raw.get();
        let parsed = if text.starts_with('"') {
            string(raw).and_then(|s| {
                let s = s.trim();
                (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<u64>().ok())
                    .flatten()
            })
        } else if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<u64>().ok()
        } else {
            None
        };
        // Printed back in the output: within what every JSON reader (the
        // page's JavaScript, Python graders) holds exactly, as clocks are.
        let digits = text.trim_matches('"').trim();
        let expected = match parsed {
            Some(id) if id <= MAX_ID => return Ok(id),
            Some(_) => UP_TO_MAX_ID,
            None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                UP_TO_MAX_ID
            }
            None => "a non-negative integer",
        };
        Err(self.at(raw, InputErrorKind::BadValue { key, expected, found: describe(raw) }))
    }

    /// An exact amount: `400`, `400.5` or `"400.50"`. The number's own text is
    /// parsed, so no float ever touches the amount.
    fn money(&self, raw: &RawValue, key: &'static str) -> Result<Cents, InputError> {
        let text = raw.get();
        let amount = if text.starts_with('"') {
            string(raw).unwrap_or_default()
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            if text.contains(['e', 'E']) {
                let kind = InputErrorKind::BadValue {
                    key,
                    expected: "a plain decimal amount like 400 or 400.50",
                    found: text.to_owned(),
                };
                return Err(self.at(raw, kind));
            }
            text.to_owned()
        } else {
            let kind = InputErrorKind::BadValue {
                key,
                expected: "an amount like 400 or \"400.50\"",
                found: describe(raw),
            };
            return Err(self.at(raw, kind));
        };
        Cents::parse(&amount)
            .map_err(|reason| self.at(raw, InputErrorKind::BadMoney { key, reason }))
    }

    /// Pass 2: resolve branches, decide the shape, collect warnings.
    fn resolve(&self, file: RawFile<'a>, text: &str) -> Result<Scenario, InputError> {
        if file.branches.is_empty() {
            let line = self.index.line_of(text.trim_start());
            return Err(self.on_line(line, InputErrorKind::NoBranches));
        }
        let mut existing: Vec<u64> = file.branches.iter().map(|b| b.id.0).collect();
        existing.sort_unstable();

        let mut warnings = Vec::new();
        // The first customer and the first event fix the file's form.
        let mut first_list: Option<(ListKind, u64, usize)> = None;
        let mut first_target: Option<(Option<BranchKey>, u64, usize)> = None;
        let mut seen_ids: HashMap<u64, SeenId<'a>> = HashMap::new();
        let mut customers = Vec::with_capacity(file.customers.len());

        for customer in file.customers {
            let context = format!("customer {}", customer.id);
            match first_list {
                None => first_list = Some((customer.list, customer.id, customer.list_line)),
                Some((list, other, other_line)) if list != customer.list => {
                    let kind = InputErrorKind::MixedShapes {
                        this: format!("customer lists its events under {:?}", customer.list.key()),
                        other: format!("customer {other} uses {:?}", list.key()),
                        other_line,
                    };
                    return Err(self.on_line(customer.list_line, kind).with_context(context));
                }
                Some(_) => {}
            }
            let mut events = Vec::with_capacity(customer.events.len());
            for event in customer.events {
                let id = event.id();
                let context = format!("{context}, event {id}");
                let key = event.target.map(|(key, _, _)| key);
                match first_target {
                    None => first_target = Some((key, id, event.line)),
                    Some((first_key, other, other_line)) if first_key != key => {
                        let names = |key: Option<BranchKey>| match key {
                            Some(key) => format!("names its branch with {:?}", key.key()),
                            None => "names no branch".to_owned(),
                        };
                        let kind = InputErrorKind::MixedShapes {
                            this: format!("event {}", names(key)),
                            other: format!("event {other} {}", names(first_key)),
                            other_line,
                        };
                        return Err(self.on_line(event.line, kind).with_context(context));
                    }
                    Some(_) => {}
                }
                let branch = match event.target {
                    Some((_, branch, raw)) => {
                        if existing.binary_search(&branch).is_err() {
                            let kind = InputErrorKind::UnknownBranch {
                                branch,
                                existing: existing.clone(),
                            };
                            return Err(self.at(raw, kind).with_context(context));
                        }
                        branch
                    }
                    None => {
                        if existing.binary_search(&customer.id).is_err() {
                            let kind = InputErrorKind::OwnBranchMissing {
                                customer: customer.id,
                                existing: existing.clone(),
                            };
                            return Err(self
                                .on_line(customer.line, kind)
                                .with_context(format!("customer {}", customer.id)));
                        }
                        customer.id
                    }
                };
                let seen = seen_ids.entry(id).or_insert(SeenId {
                    first: event.place,
                    again: None,
                    uses: 0,
                });
                seen.uses += 1;
                if seen.uses == 2 {
                    seen.again = Some(event.place);
                }
                events.push(ScriptEvent {
                    id: EventId(id),
                    op: event.op,
                    branch: BranchId(branch),
                    line: event.line,
                });
            }
            customers.push(CustomerScript {
                id: CustomerId(customer.id),
                line: customer.line,
                events,
            });
        }

        warnings.extend(self.reused_ids(seen_ids));
        let shape =
            match (first_list.map(|(list, _, _)| list), first_target.and_then(|(key, _, _)| key)) {
                (Some(ListKind::CustomerRequests), _) => InputShape::CustomerRequests,
                (_, Some(BranchKey::Dest)) => InputShape::EventsWithDest,
                (_, Some(BranchKey::Branch)) => InputShape::EventsWithBranch,
                _ => InputShape::Events,
            };

        let first_balance = file.branches[0].balance;
        if file.branches.iter().any(|b| b.balance != first_balance) {
            let mut sorted: Vec<&BranchSpec> = file.branches.iter().collect();
            sorted.sort_by_key(|b| b.id);
            let listed: Vec<String> = sorted
                .iter()
                .map(|b| format!("branch {}: {}", b.id.0, b.balance.decimal_text()))
                .collect();
            warnings.push(format!(
                "branches start with different balances ({}); the course assumes every replica starts equal",
                listed.join(", ")
            ));
        }

        Ok(Scenario { shape, branches: file.branches, customers, warnings })
    }
}

#[derive(Clone, Copy, Debug)]
enum EntryKind {
    Customer,
    Branch,
}

/// The value of a JSON string, or `None` if `raw` is not a string.
fn string(raw: &RawValue) -> Option<String> {
    if raw.get().starts_with('"') {
        serde_json::from_str::<String>(raw.get()).ok()
    } else {
        None
    }
}

/// What kind of JSON value a text starts with, for messages.
fn describe_start(text: &str) -> &'static str {
    match text.trim_start().chars().next() {
        Some('{') => "an object",
        Some('[') => "an array",
        Some('"') => "a string",
        Some('t' | 'f') => "a boolean",
        Some('n') => "null",
        Some(c) if c == '-' || c.is_ascii_digit() => "a number",
        Some(_) => "not JSON",
        None => "nothing",
    }
}

/// A short description of a value for messages: numbers, booleans and short
/// strings as written, containers by kind.
fn describe(raw: &RawValue) -> String {
    let text = raw.get();
    match describe_start(text) {
        "a number" | "a boolean" | "null" => text.to_owned(),
        "a string" if text.chars().count() <= 40 => text.to_owned(),
        kind => kind.to_owned(),
    }
}

/// serde_json's message without its trailing " at line L column C".
pub(crate) fn strip_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = message.strip_suffix(&suffix).map(str::to_owned).unwrap_or(message);
    if message == "trailing characters" {
        // Several JSON values in one file, or prose after the array.
        return "trailing characters after the array (an input file holds exactly one JSON array)"
            .to_owned();
    }
    in_plain_words(message)
}

/// [`strip_position`], with a number shown as `text` writes it: serde
/// shows the float it read instead (`1e3` as 1000.0, 18446744073709551616
/// as 1.8446744073709552e19), which is not what the reader looks for.
pub(crate) fn strip_position_in(error: &serde_json::Error, text: &str) -> String {
    let message = strip_position(error);
    if !error.to_string().starts_with("invalid type: floating point") {
        return message;
    }
    let (Some(literal), Some((head, _))) =
        (number_ending_at(text, error.line(), error.column()), message.rsplit_once(", found "))
    else {
        return message;
    };
    let too_large = literal.bytes().all(|b| b.is_ascii_digit());
    let hint = if too_large { " (more than 18446744073709551615)" } else { "" };
    format!("{head}, found {literal}{hint}")
}

/// The number that ends at 1-based `line` and `column` (its last byte),
/// as serde_json reports a number of the wrong kind.
fn number_ending_at(text: &str, line: usize, column: usize) -> Option<&str> {
    let start = text.split_inclusive('\n').take(line.checked_sub(1)?).map(str::len).sum::<usize>();
    let end = start.checked_add(column)?;
    let before = text.get(..end)?;
    let number = |b: u8| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E');
    let first = before.bytes().rposition(|b| !number(b)).map_or(0, |i| i + 1);
    let literal = &before[first..];
    literal.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'-').then_some(literal)
}

/// serde's words for a value of the wrong kind, in a reader's:
/// "invalid type: floating point `1.5`, expected u64" becomes "expected a
/// whole number of 0 or more, found 1.5". Other messages stay as they are.
fn in_plain_words(message: String) -> String {
    if message.starts_with("no variant of enum Fault") {
        return "a fault names one of crash, restart, isolate, rejoin (a branch), cut, heal (two \
                branches) or set_delay (between and delay_ms), beside its at_ms"
            .to_owned();
    }
    if message.contains("expected key to be a number in quotes") {
        // A map keyed by customer id, with a key that is not one.
        return "expected a customer id as the key, a number in quotes like \"1\"".to_owned();
    }
    // Only a fault flattens its kind into its object: a second kind there
    // is "unknown" to serde, though the reader wrote a known one.
    if let Some(field) = message.strip_prefix("unknown field `").and_then(|r| r.strip_suffix('`')) {
        const KINDS: [&str; 7] =
            ["crash", "restart", "isolate", "rejoin", "cut", "heal", "set_delay"];
        if KINDS.contains(&field) {
            return format!(
                "a fault is one kind: this one also says `{field}`; write each fault as its own \
                 {{\"at_ms\": ..., \"{field}\": ...}}"
            );
        }
    }
    if message.starts_with("data did not match any variant of untagged enum Delay") {
        return "a delay is a whole number of milliseconds (20) or a range [min, max] ([5, 50])"
            .to_owned();
    }
    let Some(rest) =
        message.strip_prefix("invalid type: ").or_else(|| message.strip_prefix("invalid value: "))
    else {
        return message;
    };
    let Some((found, expected)) = rest.rsplit_once(", expected ") else { return message };
    let expected = match expected {
        "u8" => "a whole number from 0 to 255",
        "u16" | "u32" | "u64" | "usize" => "a whole number of 0 or more",
        "i32" | "i64" => "a whole number",
        "a sequence" | "an array of length 2" | "a tuple of size 2" => "a list like [1, 2]",
        e if e.starts_with("struct ") || e == "a map" => "an object {...}",
        other => other,
    };
    // "floating point `1.5`", "integer `-1`", "string \"x\"": the value itself.
    let found = match found.split_once(' ') {
        Some(("floating" | "integer" | "boolean", value)) => {
            value.trim_start_matches("point ").trim_matches('`').to_owned()
        }
        Some(("string", value)) => value.to_owned(),
        _ => found.to_owned(),
    };
    format!("expected {expected}, found {found}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Scenario {
        match parse(text, "t.json") {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    fn parse_err(text: &str) -> InputError {
        match parse(text, "t.json") {
            Ok(s) => panic!("expected an error, got {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn reads_the_standard_sample() {
        let s = parse_ok(
            r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "query", "money": 400}]},
                {"id": 2, "type": "customer", "events": [{"id": 2, "interface": "deposit", "money": 170}]},
                {"id": 1, "type": "branch", "balance": 400}, {"id": 2, "type": "Bank", "balance": 400}]"#,
        );
        assert_eq!(s.shape, InputShape::Events);
        assert_eq!(s.branches.len(), 2);
        assert_eq!(s.customers[1].events[0].op, Op::Deposit(Cents(17000)));
        assert_eq!(s.customers[1].events[0].branch, BranchId(2));
        assert_eq!(s.customers[1].line, 2);
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn ids_may_be_strings_and_money_may_be_decimal() {
        let s = parse_ok(
            r#"[{"id": "4", "type": "customer", "events": [{"interface": "DEPOSIT", "money": "400.5"}, {"interface": "withdraw", "money": 0.25}]},
                {"id": 4, "type": "branch", "balance": 10.10}]"#,
        );
        let events = &s.customers[0].events;
        assert_eq!(events[0].op, Op::Deposit(Cents(40050)));
        assert_eq!(events[1].op, Op::Withdraw(Cents(25)));
        assert_eq!((events[0].id, events[1].id), (EventId(1), EventId(2)));
        assert_eq!(s.branches[0].balance, Cents(1010));
    }

    #[test]
    fn exponent_money_is_refused_clearly() {
        let e = parse_err(
            r#"[{"id": 1, "type": "customer", "events": [{"id": 3, "interface": "deposit", "money": 4e2}]},
                {"id": 1, "type": "branch", "balance": 0}]"#,
        );
        assert!(e.to_string().contains("plain decimal"), "{e}");
        assert_eq!(e.context(), "customer 1, event 3");
    }

    #[test]
    fn null_counts_as_absent() {
        let s = parse_ok(
            r#"[{"id": 1, "type": "customer", "events": [{"id": null, "interface": "query", "money": null, "dest": null}]},
                {"id": 1, "type": "branch", "balance": 0}]"#,
        );
        assert_eq!(s.shape, InputShape::Events);
        assert_eq!(s.customers[0].events[0].id, EventId(1));
    }

    #[test]
    fn syntax_errors_inside_entries_keep_their_place() {
        // A BOM and an entry that is not an object.
        let e =
            parse_err("\u{feff}[\n  {\"id\": 1, \"type\": \"branch\", \"balance\": 1},\n  7\n]");
        assert_eq!((e.line(), e.column()), (3, Some(3)));
        assert!(matches!(e.kind(), InputErrorKind::NotAnObject { found: "a number", .. }), "{e}");
    }

    #[test]
    fn a_key_written_twice_is_refused_with_both_places() {
        let e = parse_err(
            "[{\"id\": 1, \"type\": \"branch\", \"balance\": 0},\n {\"id\": 1, \"type\": \"customer\", \"events\": [\n  {\"interface\": \"deposit\", \"money\": 10, \"money\": 1000}]}]",
        );
        assert_eq!(e.to_string(), "t.json:3:41: \"money\" appears twice in one object (first at line 3, column 28); keep one");
    }

    #[test]
    fn inputs_beyond_the_maxima_are_refused_where_they_go_over() {
        let branches: Vec<String> = (1..=MAX_BRANCHES as u64 + 1)
            .map(|id| format!("{{\"id\": {id}, \"type\": \"branch\", \"balance\": 0}}"))
            .collect();
        let e = parse_err(&format!("[{}]", branches.join(",\n")));
        assert_eq!((e.line(), e.column()), (MAX_BRANCHES + 1, Some(1)), "{e}");
        assert!(e.message().contains("more than 1000 branches"), "{e}");

        let events = vec![r#"{"interface": "query"}"#; MAX_EVENTS + 1].join(",\n");
        let text = format!(
            "[{{\"id\": 1, \"type\": \"branch\", \"balance\": 0}},\n{{\"id\": 1, \"type\": \"customer\", \"events\": [\n{events}]}}]"
        );
        let e = parse_err(&text);
        assert_eq!((e.line(), e.column()), (MAX_EVENTS + 3, Some(1)), "{e}");
        assert!(e.message().contains("more than 100000 events"), "{e}");
        // Exactly the maximum is fine.
        let events = vec![r#"{"interface": "query"}"#; MAX_EVENTS].join(",");
        let text = format!(
            "[{{\"id\": 1, \"type\": \"branch\", \"balance\": 0}}, {{\"id\": 1, \"type\": \"customer\", \"events\": [{events}]}}]"
        );
        assert_eq!(parse_ok(&text).event_count(), MAX_EVENTS);
    }

    #[test]
    fn amounts_above_the_maximum_are_refused_at_their_place() {
        let e = parse_err(
            r#"[{"id": 1, "type": "customer", "events": [{"id": 1, "interface": "deposit", "money": 92233720368547758.07}]},
                {"id": 1, "type": "branch", "balance": 0}]"#,
        );
        assert_eq!((e.line(), e.column()), (1, Some(86)), "{e}");
        assert!(e.message().contains("above the maximum amount 9999999999999.99"), "{e}");
        let ok = parse_ok(
            r#"[{"id": 1, "type": "customer", "events": [{"interface": "deposit", "money": 9999999999999.99}]},
                {"id": 1, "type": "branch", "balance": 0}]"#,
        );
        assert_eq!(ok.customers[0].events[0].op, Op::Deposit(Cents::MAX));
    }

    #[test]
    fn describes_values() {
        let raw: Box<RawValue> = serde_json::from_str("[1, 2]").unwrap();
        assert_eq!(describe(&raw), "an array");
        let raw: Box<RawValue> = serde_json::from_str("-3").unwrap();
        assert_eq!(describe(&raw), "-3");
    }
}
