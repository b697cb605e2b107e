//! The pacer: permits for scripted customer events.
//!
//! In the lab, each scripted customer event first waits for a permit: play
//! hands them out on a timer, step hands out one, pause takes back any not
//! yet used. Besides the permits, the pacer counts how many it has handed
//! over and how many customer sessions are blocked waiting, so that "no
//! further event starts while paused" is observable as a condition (a
//! blocked runner and a fixed count), never guessed from a clock.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{watch, Semaphore};

/// Permits for scripted events; see the module docs.
#[derive(Debug)]
pub struct Pacer {
    permits: Semaphore,
    taken: AtomicU64,
    blocked: watch::Sender<usize>,
}

/// The pacer was closed (the lab's run was stopped or reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl Default for Pacer {
    fn default() -> Self {
        Pacer { permits: Semaphore::new(0), taken: AtomicU64::new(0), blocked: watch::channel(0).0 }
    }
}

/// Counts a session as blocked for as long as it lives (also if the waiting
/// task is cancelled).
struct BlockedGuard<'a>(&'a watch::Sender<usize>);

impl Drop for BlockedGuard<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl Pacer {
    /// One more permit.
    pub fn grant(&self) {
        self.permits.add_permits(1);
    }

    /// One more permit, unless one is still waiting to be used (a slow event
    /// must not let a burst through afterwards).
    pub fn grant_unless_waiting(&self) {
        if self.permits.available_permits() == 0 {
            self.permits.add_permits(1);
        }
    }

    /// Takes back every permit handed out and not used yet.
    pub fn take_back(&self) {
        while let Ok(permit) = self.permits.try_acquire() {
            permit.forget();
        }
    }

    /// Wakes every waiting session with [`Closed`].
    pub fn close(&self) {
        self.permits.close();
    }

    /// Waits for a permit and uses it up.
    pub async fn wait_turn(&self) -> Result<(), Closed> {
        let permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                self.blocked.send_modify(|n| *n += 1);
                let _blocked = BlockedGuard(&self.blocked);
                self.permits.acquire().await.map_err(|_| Closed)?
            }
        };
        permit.forget();
        self.taken.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Permits used so far: the scripted events started.
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::SeqCst)
    }

    /// How many sessions are blocked waiting for a permit, as it changes.
    pub fn blocked(&self) -> watch::Receiver<usize> {
        self.blocked.subscribe()
    }
}
