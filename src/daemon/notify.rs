//! systemd `Type=notify` integration: READY, STATUS, WATCHDOG and STOPPING. Every call is a
//! no-op when the process was not started by systemd (no `NOTIFY_SOCKET`).
//!
//! Sending never blocks the scheduler. systemd reads its socket continuously, but a datagram
//! socket whose reader stalls (PID 1 busy, or a test harness's socket nobody drains) holds
//! only `net.unix.max_dgram_qlen` (10 by default) messages; a blocking send then waits until
//! the reader wakes, and the scheduler loop that sends STATUS and WATCHDOG with it. So STATUS
//! and WATCHDOG are sent without waiting (a full queue drops the message: the next one
//! follows within seconds), READY and STOPPING wait at most [`ONE_OFF_WAIT`]. Each function
//! says whether the message was delivered; the caller counts what was not.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use sd_notify::NotifyState;

/// How long READY and STOPPING, sent once each, may wait for room in systemd's queue.
const ONE_OFF_WAIT: Duration = Duration::from_secs(1);

/// Sends `states` as one datagram; true when delivered or when there is no systemd to tell.
fn send(states: &[NotifyState<'_>], wait: Option<Duration>) -> bool {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return true;
    };
    let mut msg = String::new();
    for s in states {
        let _ = writeln!(msg, "{s}");
    }
    // Failing to reach systemd is not a reason to stop ingesting; systemd itself will act
    // (timeout, watchdog) if it really is not hearing from us.
    send_to(&path, msg.as_bytes(), wait).is_ok()
}

/// One datagram to `path` (`@name` is an abstract socket, as systemd may pass), waiting at
/// most `wait` for room (None: not at all).
fn send_to(path: &OsStr, msg: &[u8], wait: Option<Duration>) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let sock = UnixDatagram::unbound()?;
    match wait {
        Some(t) => sock.set_write_timeout(Some(t))?,
        None => sock.set_nonblocking(true)?,
    }
    match path.as_bytes().strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            sock.connect_addr(&std::os::unix::net::SocketAddr::from_abstract_name(name)?)?
        }
        None => sock.connect(path)?,
    }
    let n = sock.send(msg)?;
    if n == msg.len() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "notification cut short",
        ))
    }
}

pub fn ready(feeds: usize) -> bool {
    let status = format!("polling {feeds} feeds");
    send(
        &[NotifyState::Ready, NotifyState::Status(&status)],
        Some(ONE_OFF_WAIT),
    )
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

pub fn status(status: &Status) -> bool {
    let line = status.to_string();
    send(&[NotifyState::Status(&line)], None)
}

pub fn stopping() -> bool {
    send(&[NotifyState::Stopping], Some(ONE_OFF_WAIT))
}

/// Ping the watchdog; called from the scheduler loop only while the health check passes, so
/// a wedged loop, a stuck writer or a poll that escaped its timeout stops the pings.
pub fn watchdog() -> bool {
    send(&[NotifyState::Watchdog], None)
}

/// Half the watchdog timeout, if systemd set one: the scheduler wakes at least this often.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|d| (d / 2).max(Duration::from_millis(100)))
}
