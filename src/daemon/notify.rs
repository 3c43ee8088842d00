//! systemd `Type=notify` integration: READY, STATUS, WATCHDOG and STOPPING. Every call is a
//! no-op when the process was not started by systemd (no `NOTIFY_SOCKET`).

use std::time::Duration;

use sd_notify::NotifyState;

use crate::pipeline::Report;

fn send(states: &[NotifyState<'_>]) {
    // Failing to reach systemd is not a reason to stop ingesting; systemd itself will act
    // (timeout, watchdog) if it really is not hearing from us.
    let _ = sd_notify::notify(states);
}

pub fn ready(feeds: usize) {
    let status = format!("polling {feeds} feeds");
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

pub fn status(total: &Report) {
    let status = format!(
        "{} polls, {} stored, {} duplicates, {} feed errors",
        total.feeds_polled, total.stored, total.duplicates, total.feed_errors
    );
    send(&[NotifyState::Status(&status)]);
}

pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// Ping the watchdog; called from the scheduler loop, so a wedged loop stops the pings.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// Half the watchdog timeout, if systemd set one: the scheduler wakes at least this often.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|d| (d / 2).max(Duration::from_millis(100)))
}
