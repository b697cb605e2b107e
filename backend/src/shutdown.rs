//! [`Shutdown`]: one signal to stop, and every task that watches it.
//!
//! A branch server, its node task, its links and every write crossing the
//! simulated network must all stop when their branch does (a crash in the
//! lab, the end of a run, Ctrl-C or SIGTERM). They share one [`Shutdown`]:
//! [`Shutdown::trigger`] is called once, by whoever owns the branch, and
//! every clone sees it, whether it is waiting already or only starts to
//! wait later ([`Shutdown::wait`]).
//!
//! It is a `tokio::sync::watch` of a `bool` underneath, with names: a
//! watch channel remembers its last value, so a task that starts watching
//! after the signal still sees it, which a broadcast would not give.

use std::sync::Arc;

use tokio::sync::watch;

/// A clonable stop signal; see the module docs.
#[derive(Clone, Debug)]
pub struct Shutdown {
    sender: Arc<watch::Sender<bool>>,
    receiver: watch::Receiver<bool>,
}

impl Shutdown {
    /// A signal not triggered yet.
    pub fn new() -> Self {
        let (sender, receiver) = watch::channel(false);
        Shutdown { sender: Arc::new(sender), receiver }
    }

    /// Stops everything that watches this signal (idempotent).
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the signal was triggered.
    pub fn is_triggered(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Completes once the signal is triggered (at once if it already was).
    /// Cancel safe: dropping the future loses nothing.
    pub async fn wait(&self) {
        let mut receiver = self.receiver.clone();
        // The sender lives as long as any clone of `self`, so this only
        // returns once the value is true.
        let _ = receiver.wait_for(|stop| *stop).await;
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

/// A future that completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM: how
/// `bank serve` and `bank branch` are told to stop by a terminal, by
/// `docker stop` or compose (which send SIGTERM), or by a service manager.
///
/// The signal handlers are installed when this is called, not when the
/// future is first polled: a server polls its shutdown future only once it
/// runs, and a signal in between (a script that sends SIGTERM as soon as the
/// "listening" line is printed) would otherwise find no handler and kill the
/// process. Call it inside the tokio runtime, before telling anyone the
/// command is ready.
pub fn interrupted() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        // A handler that cannot be installed never fires.
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut terminate = signal(SignalKind::terminate()).ok();
        async move {
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending().await,
                }
            };
            let terminate = async {
                match terminate.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = interrupt => {}
                () = terminate => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_the_signal_also_after_it_was_given() {
        let shutdown = Shutdown::new();
        let early = shutdown.clone();
        let waiting = tokio::spawn(async move { early.wait().await });
        shutdown.trigger();
        waiting.await.expect("the waiting task ends");
        // A clone made after the trigger sees it at once.
        let late = shutdown.clone();
        late.wait().await;
    }
}
