//! Every lab of one server, by id: a lab per viewer.
//!
//! Each page load opens its own [`Lab`] ([`Labs::open`]): its own cluster of
//! real branch servers, history, pacing, faults and browser customer, with
//! the server's starting scenario loaded. The lab is named by two random
//! [`LabKey`]s: the *lab id*, which lets whoever holds it do everything
//! (the page keeps it in its URL, `?lab=`, to come back after a reload),
//! and the *follow id*, which only lets its holder watch (`?follow=`: an
//! instructor drives, a class follows). Every call after `Open` names its
//! lab with one of them in the `x-lab-id` metadata header
//! ([`Labs::access`]); a follower's [`Access`] refuses the calls that change
//! the lab ([`Access::owner`]).
//!
//! Bounded: at most [`LabsConfig::max_labs`] labs at once (`Open` answers
//! `RESOURCE_EXHAUSTED` beyond, in words), each with [`Limits`]; a lab that
//! has had no watcher and no call for [`LabsConfig::idle`] is stopped (its
//! cluster shut down, its ports and memory freed) by a sweeper task. Each
//! start and stop is logged with the lab id's first 8 digits and why.
//!
//! With `--instance NAME` every id the server issues starts with `NAME-`
//! ([`WireIds`]), so that a reverse proxy in front of several servers can
//! send each call to the one that holds its lab; the page names its lab in
//! the header of `Open` too, for the same reason.
//!
//! On branch processes (`bank serve --cluster`) there is one cluster, so
//! there is one lab, shared by everyone ([`Labs::shared`]): `Open` without
//! an id attaches to it as owner, a call without the header goes to it, and
//! it never expires.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bank_proto as pb;
use tonic::metadata::MetadataMap;
use tonic::Status;

use crate::lab::examples::{self, Example};
use crate::lab::instance::{BadId, Instance, WireIds};
use crate::lab::key::LabKey;
use crate::lab::limits::{too_many_labs, CompareBudget, Limits};
use crate::lab::Lab;

/// The metadata header that names the lab of a call (its lab id or its
/// follow id, 32 hex digits).
pub const LAB_HEADER: &str = "x-lab-id";

/// How a server's labs are made and bounded.
#[derive(Clone, Debug)]
pub struct LabsConfig {
    /// Labs running at once (`--max-labs`).
    pub max_labs: usize,
    /// A lab with no watcher and no call for this long is stopped (`--lab-idle`).
    pub idle: Duration,
    /// Per-lab caps.
    pub limits: Limits,
    /// The scenario every new lab starts with: its name and text.
    pub scenario: (String, String),
    /// This server's name among several behind a proxy (`--instance`): the
    /// prefix of every id it issues.
    pub instance: Option<Instance>,
    /// What one `Lab.Compare` may spend.
    pub compare_budget: CompareBudget,
}

impl LabsConfig {
    /// The defaults of `bank serve`, starting every lab with `name`'s text.
    pub fn new(name: &str, text: &str) -> LabsConfig {
        LabsConfig {
            max_labs: 128,
            idle: Duration::from_secs(10 * 60),
            limits: Limits::default(),
            scenario: (name.to_owned(), text.to_owned()),
            instance: None,
            compare_budget: CompareBudget::default(),
        }
    }
}

/// What a caller may do with a lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything: load, play, inject faults, send customer requests.
    Owner,
    /// Watch only.
    Follower,
}

impl From<Role> for pb::Role {
    fn from(role: Role) -> pb::Role {
        match role {
            Role::Owner => pb::Role::Owner,
            Role::Follower => pb::Role::Follower,
        }
    }
}

/// The registry, cheap to clone (the gRPC services each hold one).
#[derive(Clone, Debug)]
pub struct Labs {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: LabsConfig,
    ids: WireIds,
    examples: Vec<Example>,
    table: Mutex<Table>,
    /// The one lab of `bank serve --cluster`.
    shared: Option<LabKey>,
    /// Set by [`Labs::stop_all`]: no new labs, the sweeper ends.
    closed: AtomicBool,
    /// Turns for `Lab.Compare`'s simulations: one per core, so that a class
    /// comparing at once shares the CPU instead of each call taking a thread.
    comparisons: Arc<tokio::sync::Semaphore>,
    comparison_turns: usize,
}

#[derive(Debug, Default)]
struct Table {
    labs: HashMap<LabKey, Entry>,
    /// Follow id -> lab id.
    follows: HashMap<LabKey, LabKey>,
}

#[derive(Debug)]
struct Entry {
    lab: Lab,
    follow: LabKey,
    presence: Arc<Presence>,
}

/// Whether anyone is there: open watch streams, and the last call.
#[derive(Debug)]
struct Presence {
    watchers: AtomicUsize,
    last_seen: Mutex<Instant>,
}

impl Presence {
    fn new() -> Arc<Presence> {
        Arc::new(Presence { watchers: AtomicUsize::new(0), last_seen: Mutex::new(Instant::now()) })
    }

    fn touch(&self) {
        *self.last_seen.lock().expect("presence lock") = Instant::now();
    }

    /// No watcher, and no call for `idle`.
    fn idle_for(&self, idle: Duration) -> bool {
        self.watchers.load(Ordering::SeqCst) == 0
            && self.last_seen.lock().expect("presence lock").elapsed() >= idle
    }
}

/// A lab as one call may use it.
#[derive(Debug)]
pub struct Access {
    lab: Lab,
    role: Role,
    presence: Arc<Presence>,
}

impl Access {
    /// The lab, for reading (any role).
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The lab, for changing it: refused to a follower. `what` names the
    /// action in the refusal ("load a scenario").
    pub fn owner(&self, what: &str) -> Result<&Lab, Status> {
        match self.role {
            Role::Owner => Ok(&self.lab),
            Role::Follower => Err(Status::permission_denied(format!(
                "you follow this lab, read-only: only its owner can {what}; open the page \
                 without ?follow= for a lab of your own"
            ))),
        }
    }

    /// Counts the caller as a watcher while the returned guard lives (the
    /// lab does not expire meanwhile).
    pub fn watcher(&self) -> Watcher {
        self.presence.watchers.fetch_add(1, Ordering::SeqCst);
        Watcher { presence: self.presence.clone() }
    }
}

/// One open watch stream of a lab; dropped when the stream ends.
#[derive(Debug)]
pub struct Watcher {
    presence: Arc<Presence>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // The idle time counts from when the last watcher left.
        self.presence.touch();
        self.presence.watchers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What `Open` answers: the lab's ids as the caller may know them, as
/// they go on the wire (with this server's instance prefix, if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The lab id: for its owner only.
    pub lab_id: Option<String>,
    pub follow_id: String,
    pub role: Role,
}

impl From<Opened> for pb::OpenReply {
    fn from(o: Opened) -> pb::OpenReply {
        pb::OpenReply {
            lab_id: o.lab_id.unwrap_or_default(),
            follow_id: o.follow_id,
            role: pb::Role::from(o.role).into(),
        }
    }
}

impl Labs {
    /// A registry of in-process labs, each started with `config.scenario`.
    /// Starts the idle sweeper, so it must be called inside a tokio runtime.
    pub fn new(config: LabsConfig) -> Labs {
        let labs = Labs::with(config, None);
        let period =
            (labs.inner.config.idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        tokio::spawn(sweep(Arc::downgrade(&labs.inner), period));
        labs
    }

    /// A registry with the one lab `lab` (on branch processes, `bank serve
    /// --cluster`), shared by every viewer; it never expires.
    pub fn shared(config: LabsConfig, lab: Lab) -> Labs {
        let key = LabKey::random();
        let labs = Labs::with(config, Some(key));
        let entry = Entry { lab, follow: LabKey::random(), presence: Presence::new() };
        let mut table = labs.inner.table.lock().expect("labs lock");
        table.follows.insert(entry.follow, key);
        table.labs.insert(key, entry);
        drop(table);
        let short = labs.inner.ids.short(key);
        tracing::info!("lab {short} started (shared: the cluster file's branches)");
        labs
    }

    fn with(config: LabsConfig, shared: Option<LabKey>) -> Labs {
        let turns = std::thread::available_parallelism().map_or(1, usize::from);
        Labs {
            inner: Arc::new(Inner {
                ids: WireIds::new(config.instance.clone()),
                config,
                examples: examples::all(),
                table: Mutex::new(Table::default()),
                shared,
                closed: AtomicBool::new(false),
                comparisons: Arc::new(tokio::sync::Semaphore::new(turns)),
                comparison_turns: turns,
            }),
        }
    }

    pub fn config(&self) -> &LabsConfig {
        &self.inner.config
    }

    pub fn examples(&self) -> &[Example] {
        &self.inner.examples
    }

    /// Whether the server is stopping ([`Labs::stop_all`]): work on its
    /// behalf should end.
    pub fn is_stopping(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// A turn to run a comparison's simulations, waited for while others
    /// run (a client that leaves stops waiting); hold it until the work ends.
    pub async fn comparison_turn(&self) -> tokio::sync::OwnedSemaphorePermit {
        let turns = self.inner.comparisons.clone();
        turns.acquire_owned().await.expect("the comparison turns are never closed")
    }

    /// Comparisons computing now (at most one per core).
    pub fn comparisons_running(&self) -> usize {
        self.inner.comparison_turns - self.inner.comparisons.available_permits()
    }

    /// Labs running now.
    pub fn len(&self) -> usize {
        self.table().labs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How this server writes and reads lab ids.
    pub fn ids(&self) -> &WireIds {
        &self.inner.ids
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner.table.lock().expect("labs lock")
    }

    /// `Open`: re-attach to `lab_id` as owner, follow `follow_id`, or
    /// (neither given) start a new lab with the server's scenario loaded.
    pub async fn open(
        &self,
        lab_id: Option<&str>,
        follow_id: Option<&str>,
    ) -> Result<Opened, Status> {
        let ids = &self.inner.ids;
        // Said for the person whose link it was, and for a program.
        let parse = |text: &str, field: &str| {
            let param = if field == "lab_id" { "lab" } else { "follow" };
            let what = format!("the {param} id in this link (?{param}=, OpenRequest.{field})");
            ids.read(text).map_err(|e| refused(e, &what))
        };
        match (lab_id, follow_id) {
            (Some(_), Some(_)) => Err(Status::invalid_argument(
                "OpenRequest: give lab_id (to re-attach) or follow_id (to follow), not both",
            )),
            (Some(id), None) => {
                let key = parse(id, "lab_id")?;
                let table = self.table();
                if table.follows.contains_key(&key) {
                    // A follow link's id pasted as `?lab=`: that lab runs.
                    return Err(Status::not_found(format!(
                        "{}… is the follow id of a running lab, not a lab id: open it with \
                         ?follow= to watch it (read-only)",
                        self.inner.ids.short(key)
                    )));
                }
                let entry = table.labs.get(&key).ok_or_else(|| self.gone(key))?;
                entry.presence.touch();
                Ok(self.opened(Some(key), entry.follow, Role::Owner))
            }
            (None, Some(id)) => {
                let follow = parse(id, "follow_id")?;
                let table = self.table();
                let entry = table
                    .follows
                    .get(&follow)
                    .and_then(|key| table.labs.get(key))
                    .ok_or_else(|| self.gone(follow))?;
                entry.presence.touch();
                Ok(self.opened(None, follow, Role::Follower))
            }
            (None, None) => match self.inner.shared {
                Some(key) => {
                    let table = self.table();
                    let entry = table.labs.get(&key).ok_or_else(|| self.gone(key))?;
                    Ok(self.opened(Some(key), entry.follow, Role::Owner))
                }
                None => self.start().await,
            },
        }
    }

    fn opened(&self, lab_id: Option<LabKey>, follow: LabKey, role: Role) -> Opened {
        let ids = &self.inner.ids;
        Opened { lab_id: lab_id.map(|k| ids.show(k)), follow_id: ids.show(follow), role }
    }

    /// No lab has this id (any more).
    fn gone(&self, key: LabKey) -> Status {
        Status::not_found(format!(
            "no lab {}… runs on this server: it was stopped (no viewer for a while, or the \
             server restarted); open a new one",
            self.inner.ids.short(key)
        ))
    }

    /// A new lab, with the server's scenario loaded.
    async fn start(&self) -> Result<Opened, Status> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(Status::unavailable("the server is stopping"));
        }
        let config = &self.inner.config;
        let (key, follow) = (LabKey::random(), LabKey::random());
        let lab = Lab::new(self.inner.examples.clone()).with_limits(config.limits);
        let running = {
            // The place is taken under the lock, so two opens at once
            // cannot both take the last one.
            let mut table = self.table();
            if self.inner.closed.load(Ordering::SeqCst) {
                return Err(Status::unavailable("the server is stopping"));
            }
            if table.labs.len() >= config.max_labs {
                tracing::info!("lab refused: {} labs run, the maximum", table.labs.len());
                return Err(too_many_labs(config.max_labs).into());
            }
            let entry = Entry { lab: lab.clone(), follow, presence: Presence::new() };
            table.follows.insert(follow, key);
            table.labs.insert(key, entry);
            table.labs.len()
        };
        let (name, text) = &config.scenario;
        if let Err(e) = lab.load(text, name, None).await {
            self.remove(key);
            lab.stop().await;
            let why = format!("the lab could not start {name}: {}", e.message);
            tracing::warn!("lab {} not started: {why}", self.inner.ids.short(key));
            return Err(Status::unavailable(why));
        }
        tracing::info!(
            "lab {} started ({running} of {} labs; scenario {name})",
            self.inner.ids.short(key),
            config.max_labs
        );
        Ok(self.opened(Some(key), follow, Role::Owner))
    }

    fn remove(&self, key: LabKey) -> Option<Entry> {
        let mut table = self.table();
        let entry = table.labs.remove(&key)?;
        table.follows.remove(&entry.follow);
        Some(entry)
    }

    /// The lab a call names in its `x-lab-id` header, and what the caller
    /// may do with it. Counts as activity (the lab's idle time restarts).
    pub fn access(&self, metadata: &MetadataMap) -> Result<Access, Status> {
        let given = match metadata.get(LAB_HEADER) {
            Some(value) => value.to_str().map_err(|_| {
                Status::invalid_argument(format!("the {LAB_HEADER} header is not text"))
            })?,
            None => match self.inner.shared {
                Some(key) => return self.access_by(key),
                None => {
                    return Err(Status::failed_precondition(format!(
                        "no lab named: call Lab.Open first and send the lab_id (or follow_id) \
                         it answers in the {LAB_HEADER} header"
                    )))
                }
            },
        };
        let key = self
            .inner
            .ids
            .read(given)
            .map_err(|e| refused(e, &format!("the {LAB_HEADER} header")))?;
        self.access_by(key)
    }

    fn access_by(&self, key: LabKey) -> Result<Access, Status> {
        let table = self.table();
        let (entry, role) = match table.labs.get(&key) {
            Some(entry) => (entry, Role::Owner),
            None => {
                let lab = table.follows.get(&key).and_then(|k| table.labs.get(k));
                (lab.ok_or_else(|| self.gone(key))?, Role::Follower)
            }
        };
        entry.presence.touch();
        Ok(Access { lab: entry.lab.clone(), role, presence: entry.presence.clone() })
    }

    /// Stops every lab and refuses new ones (the server is stopping): their
    /// watch streams end and their clusters shut down.
    pub async fn stop_all(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let entries: Vec<(LabKey, Entry)> = {
            let mut table = self.table();
            table.follows.clear();
            table.labs.drain().collect()
        };
        for (key, entry) in entries {
            entry.lab.stop().await;
            tracing::info!("lab {} stopped: the server is stopping", self.inner.ids.short(key));
        }
    }

    /// Stops the labs idle for the configured time; returns how many.
    async fn stop_idle(&self) -> usize {
        let idle = self.inner.config.idle;
        let expired: Vec<(LabKey, Entry)> = {
            let mut table = self.table();
            let keys: Vec<LabKey> = table
                .labs
                .iter()
                .filter(|(key, e)| Some(**key) != self.inner.shared && e.presence.idle_for(idle))
                .map(|(key, _)| *key)
                .collect();
            keys.into_iter()
                .filter_map(|key| {
                    let entry = table.labs.remove(&key)?;
                    table.follows.remove(&entry.follow);
                    Some((key, entry))
                })
                .collect()
        };
        let count = expired.len();
        for (key, entry) in expired {
            entry.lab.stop().await;
            tracing::info!(
                "lab {} stopped: no viewer for {} (--lab-idle)",
                self.inner.ids.short(key),
                in_words(idle)
            );
        }
        count
    }
}

/// Every `period`, stops the idle labs, until the registry is dropped or
/// stopped.
async fn sweep(labs: Weak<Inner>, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = labs.upgrade() else { return };
        if inner.closed.load(Ordering::SeqCst) {
            return;
        }
        Labs { inner }.stop_idle().await;
    }
}

/// Why an id in `field` names no lab here: malformed (`INVALID_ARGUMENT`),
/// or another server's (`NOT_FOUND`, as for a stopped lab: the page opens a
/// new one).
fn refused(e: BadId, field: &str) -> Status {
    match e {
        BadId::Malformed(e) => Status::invalid_argument(format!("{field}: {e}")),
        elsewhere @ BadId::ElsewhereIssued { .. } => {
            Status::not_found(format!("{elsewhere}; open a new one"))
        }
    }
}

/// "10 min", "90 s", "250 ms".
fn in_words(d: Duration) -> String {
    if d.as_secs() >= 60 && d.as_secs().is_multiple_of(60) {
        format!("{} min", d.as_secs() / 60)
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
