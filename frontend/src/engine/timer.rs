//! The browser's clock and timers, for both engines and the page.

/// The browser's wall clock, in milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Resolves after `duration` (a browser timer).
pub async fn sleep(duration: std::time::Duration) {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    leptos::prelude::set_timeout(
        move || {
            let _ = tx.send(());
        },
        duration,
    );
    let _ = rx.await;
}
