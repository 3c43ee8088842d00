//! systemd `Type=notify` integration: READY, STATUS, WATCHDOG and STOPPING. Every call is a
//! no-op when the process was not started by systemd (no `NOTIFY_SOCKET`).

use std::time::Duration;

use sd_notify::NotifyState;

fn send(states: &[NotifyState<'_>]) {
    // Failing to reach systemd is not a reason to stop ingesting; systemd itself will act
    // (timeout, watchdog) if it really is not hearing from us.
    let _ = sd_notify::notify(states);
}

pub fn ready(feeds: usize) {
    let status = format!("polling {feeds} feeds");
    send(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

/// What `STATUS=` shows (`systemctl status newsd`).
pub struct Status {
    pub feeds: usize,
    /// Due and waiting for a poll slot (or for ingest to resume).
    pub due: usize,
    pub in_flight: usize,
    /// Hosts whose feeds' last poll failed.
    pub failing_hosts: usize,
    pub stored_today: usize,
    /// Why ingest is paused, if it is.
    pub paused: Option<String>,
    /// Why the daemon is unhealthy (the watchdog is not fed), if it is.
    pub unhealthy: Option<String>,
    /// Cluster mode: this worker's share ("worker w1: 21 of 64 partitions, committer").
    pub cluster: Option<String>,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(why) = &self.unhealthy {
            write!(f, "UNHEALTHY: {why}; ")?;
        }
        if let Some(why) = &self.paused {
            write!(f, "PAUSED: {why}; ")?;
        }
        write!(
            f,
            "{} feeds: {} due, {} in flight, {} failing hosts; {} stored today",
            self.feeds, self.due, self.in_flight, self.failing_hosts, self.stored_today
        )?;
        if let Some(c) = &self.cluster {
            write!(f, "; {c}")?;
        }
        Ok(())
    }
}

pub fn status(status: &Status) {
    let line = status.to_string();
    send(&[NotifyState::Status(&line)]);
}

pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// Ping the watchdog; called from the scheduler loop only while the health check passes, so
/// a wedged loop, a stuck writer or a poll that escaped its timeout stops the pings.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// Half the watchdog timeout, if systemd set one: the scheduler wakes at least this often.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|d| (d / 2).max(Duration::from_millis(100)))
}
