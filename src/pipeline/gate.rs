//! The ingest gate: ingest pauses when the store cannot write (disk full, I/O errors) or free
//! disk falls below `store.min_free_bytes`, says so once, and resumes by itself.
//!
//! Owns: the paused/running state and its cause, the one error line that announces a pause,
//! the rate limit for repeated store errors, and the store's close/reopen cycle. Must not:
//! dispatch polls (the scheduler asks [`Gate::is_paused`] before each dispatch) or decide
//! anything about articles.
//!
//! sled poisons a database after its first I/O error: every later call fails with the same
//! error until the database is opened again, and its flusher reports the failure every half
//! second. So the first failed write closes the store (silencing the flusher) and the
//! supervisor ([`Gate::recover`], called with backoff by the daemon) reopens it and proves a
//! write before ingest resumes. What sled had not flushed before the failure is lost on
//! reopen, and with it the feed cursors that pointed past it: those feeds are polled again
//! in full and their items re-fetched, so nothing is lost — only done twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::{error, warn};

use crate::events;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// A repeated identical error is logged at most once per this window (with a count).
pub const LOG_WINDOW: Duration = Duration::from_secs(60);
/// Distinct errors remembered by the rate limit before it starts afresh (bounded memory).
const MAX_KEYS: usize = 256;

/// Why ingest is paused.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// A store write failed; the store is closed until a reopen proves it can write.
    StoreFailed(String),
    /// Free disk under the store is below `store.min_free_bytes`.
    LowDisk { free: u64, min: u64 },
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::StoreFailed(e) => write!(f, "store writes failing: {e}"),
            Cause::LowDisk { free, min } => write!(
                f,
                "free disk {} MiB is below store.min_free_bytes ({} MiB)",
                free >> 20,
                min >> 20
            ),
        }
    }
}

pub struct Gate {
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    /// `store.min_free_bytes`; 0 turns the watermark off.
    min_free_bytes: u64,
    /// Read on every dispatch, so kept apart from the cause's lock.
    paused: AtomicBool,
    /// Woken when ingest pauses, so the supervisor starts recovering at once.
    on_pause: tokio::sync::Notify,
    state: Mutex<State>,
    log: ErrorLog,
}

#[derive(Default)]
struct State {
    cause: Option<Cause>,
    since: Option<Instant>,
    /// The store turned out damaged while reopening: retrying cannot help; the daemon stops.
    fatal: Option<String>,
}

impl Gate {
    pub fn new(store: Arc<Store>, metrics: Arc<Metrics>, min_free_bytes: u64) -> Gate {
        Gate {
            store,
            metrics,
            min_free_bytes,
            paused: AtomicBool::new(false),
            on_pause: tokio::sync::Notify::new(),
            state: Mutex::new(State::default()),
            log: ErrorLog::new(LOG_WINDOW),
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Set when a reopen found the store damaged: the daemon must stop (drain, flush what
    /// can be flushed, exit non-zero) instead of retrying forever.
    pub fn fatal(&self) -> Option<String> {
        self.lock().fatal.clone()
    }

    /// Why ingest is paused, if it is.
    pub fn cause(&self) -> Option<Cause> {
        self.lock().cause.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A store operation (`what`) failed. An I/O failure pauses ingest and closes the store:
    /// the first one is logged as ONE error saying what to do; the rest (every in-flight
    /// item hits the closed store) are counted and logged at most once a minute per distinct
    /// error. Other errors (a record that does not decode) concern one item only: counted and
    /// rate-limited the same way, ingest goes on.
    pub fn store_failed(&self, err: &StoreError, what: &'static str) {
        let error = err.to_string();
        let is_io = matches!(
            err,
            StoreError::Sled(_) | StoreError::Closed { .. } | StoreError::File { .. }
        );
        if is_io && self.pause(Cause::StoreFailed(error.clone())) {
            self.store.close();
            events::store_error(&self.metrics, &error, what, None);
            events::ingest_paused(
                &self.metrics,
                &error,
                &self.store.path().display().to_string(),
                "store writes are failing: ingest is paused (no new polls). newsd retries the store with backoff and resumes by itself once writes succeed; free disk space under the data directory or fix the I/O error. Nothing stored is lost.",
            );
            return;
        }
        events::store_error(&self.metrics, &error, what, self.log.admit(&error));
    }

    /// Pauses for `cause`; true when this call paused a running ingest.
    fn pause(&self, cause: Cause) -> bool {
        let mut st = self.lock();
        if st.cause.is_some() {
            return false;
        }
        st.cause = Some(cause);
        st.since = Some(Instant::now());
        self.paused.store(true, Ordering::Release);
        self.on_pause.notify_one();
        true
    }

    /// Resolves when ingest pauses (or has paused since the last call returned).
    pub async fn paused(&self) {
        self.on_pause.notified().await;
    }

    fn resume(&self) {
        let mut st = self.lock();
        let Some(cause) = st.cause.take() else { return };
        let paused_secs = st.since.take().map_or(0, |t| t.elapsed().as_secs());
        self.paused.store(false, Ordering::Release);
        events::ingest_resumed(&self.metrics, paused_secs, &cause.to_string());
    }

    /// One supervision step (blocking: it may reopen sled): checks free disk against the
    /// watermark and, after a store failure, tries to reopen the store. Returns whether
    /// ingest runs after the step. The daemon calls it periodically, with backoff while it
    /// returns false.
    pub fn recover(&self) -> bool {
        let free = match self.store.free_bytes() {
            Ok(f) => Some(f),
            Err(e) => {
                if let Some(suppressed) = self.log.admit(&format!("statvfs: {e}")) {
                    warn!(event = "disk_check_failed", error = %e, suppressed, "cannot read free disk space under the data directory");
                }
                None
            }
        };
        let cause = self.cause();
        if let Some(free) = free
            && self.min_free_bytes > 0
        {
            // Hysteresis: resume only with a tenth of the watermark to spare, so a disk
            // hovering at the mark does not flap.
            let resume_at = self.min_free_bytes.saturating_add(self.min_free_bytes / 10);
            let low = match cause {
                Some(Cause::LowDisk { .. }) => free < resume_at,
                _ => free < self.min_free_bytes,
            };
            if low {
                let cause = Cause::LowDisk {
                    free,
                    min: self.min_free_bytes,
                };
                if self.pause(cause.clone()) {
                    events::ingest_paused(
                        &self.metrics,
                        &cause.to_string(),
                        &self.store.path().display().to_string(),
                        "free disk is low: ingest is paused (no new polls) before the disk fills; it resumes by itself when space is freed. Free disk space or lower store.min_free_bytes.",
                    );
                }
                return false;
            }
        }
        match cause {
            None => true,
            Some(Cause::LowDisk { .. }) => {
                self.resume();
                true
            }
            Some(Cause::StoreFailed(_)) => match self.store.reopen() {
                Ok(()) => {
                    self.resume();
                    true
                }
                Err(e) if e.is_damage() => {
                    events::store_error(&self.metrics, &e.to_string(), "reopen", None);
                    error!(
                        event = "store_damaged",
                        error = %e,
                        data_dir = %self.store.path().display(),
                        "the store cannot be reopened: its files are damaged. newsd stops; restore from an export (`newsd import`) or move the directory away"
                    );
                    self.lock().fatal = Some(e.to_string());
                    false
                }
                Err(e) => {
                    let error = format!("reopen: {e}");
                    events::store_error(&self.metrics, &error, "reopen", self.log.admit(&error));
                    false
                }
            },
        }
    }
}

/// Rate limit for repeated errors: each distinct message is admitted at most once per window.
pub struct ErrorLog {
    window: Duration,
    seen: Mutex<HashMap<String, (Instant, u64)>>,
}

impl ErrorLog {
    pub fn new(window: Duration) -> ErrorLog {
        ErrorLog {
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)` when `message` may be logged now, `n` being how many times it was
    /// suppressed since it was last logged; `None` when it is to be counted only.
    pub fn admit(&self, message: &str) -> Option<u64> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((last, suppressed)) = seen.get_mut(message) {
            if now.duration_since(*last) < self.window {
                *suppressed += 1;
                return None;
            }
            let n = *suppressed;
            *last = now;
            *suppressed = 0;
            return Some(n);
        }
        if seen.len() >= MAX_KEYS {
            seen.clear();
        }
        seen.insert(message.to_string(), (now, 0));
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;

    fn store(dir: &std::path::Path) -> Arc<Store> {
        Arc::new(
            Store::open(&StoreConfig {
                data_dir: dir.join("db"),
                cache_capacity_bytes: 1 << 20,
                ..StoreConfig::default()
            })
            .unwrap(),
        )
    }

    #[test]
    fn a_repeated_error_is_admitted_once_per_window_with_its_count() {
        let log = ErrorLog::new(Duration::from_secs(3600));
        assert_eq!(log.admit("disk full"), Some(0));
        for _ in 0..1000 {
            assert_eq!(log.admit("disk full"), None);
        }
        assert_eq!(
            log.admit("other error"),
            Some(0),
            "distinct errors are not merged"
        );
        let log = ErrorLog::new(Duration::ZERO);
        assert_eq!(log.admit("x"), Some(0));
        assert_eq!(
            log.admit("x"),
            Some(0),
            "after the window it is logged again"
        );
    }

    #[test]
    fn an_io_failure_pauses_closes_the_store_and_a_reopen_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let metrics = Arc::new(Metrics::new());
        let gate = Gate::new(store.clone(), metrics.clone(), 0);
        assert!(gate.recover() && !gate.is_paused());
        let err = StoreError::Sled(sled::Error::Io(std::io::Error::other("No space left")));
        gate.store_failed(&err, "insert");
        assert!(gate.is_paused());
        assert!(!store.is_open(), "the poisoned database is closed at once");
        assert!(matches!(gate.cause(), Some(Cause::StoreFailed(_))));
        let render = || metrics.render(&Default::default());
        assert!(render().contains("newsd_ingest_paused 1"));
        // Later failures while paused do not re-announce or change the cause.
        gate.store_failed(
            &StoreError::Closed {
                path: dir.path().into(),
            },
            "insert",
        );
        assert!(matches!(gate.cause(), Some(Cause::StoreFailed(e)) if e.contains("No space")));
        assert!(gate.recover(), "the store reopens and proves a write");
        assert!(!gate.is_paused() && store.is_open());
        assert!(render().contains("newsd_ingest_paused 0"));
        assert!(render().contains("newsd_store_errors_total 2"));
    }

    #[test]
    fn a_store_damaged_while_paused_is_fatal_not_retried_forever() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let gate = Gate::new(store.clone(), Arc::new(Metrics::new()), 0);
        gate.store_failed(
            &StoreError::Sled(sled::Error::Io(std::io::Error::other("EIO"))),
            "insert",
        );
        // While closed, its files are overwritten with garbage.
        for entry in std::fs::read_dir(dir.path().join("db")).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::write(&path, b"\x00garbage\xffnot sled at all").unwrap();
            }
        }
        assert!(!gate.recover());
        let why = gate
            .fatal()
            .unwrap_or_else(|| panic!("damage is fatal: {:?}", store.reopen().err()));
        assert!(!why.is_empty());
        assert!(!store.is_open());
    }

    #[test]
    fn a_record_error_does_not_pause() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(store(dir.path()), Arc::new(Metrics::new()), 0);
        let err = StoreError::Record {
            key: "k".into(),
            reason: "bad json".into(),
        };
        gate.store_failed(&err, "read");
        assert!(!gate.is_paused());
    }

    #[test]
    fn the_watermark_pauses_and_resumes_with_hysteresis() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let free = store.free_bytes().unwrap();
        // A watermark above the free space pauses …
        let gate = Gate::new(store.clone(), Arc::new(Metrics::new()), free * 2);
        assert!(!gate.recover());
        assert!(matches!(gate.cause(), Some(Cause::LowDisk { .. })));
        // … and one far below it does not.
        let gate = Gate::new(store, Arc::new(Metrics::new()), 1);
        assert!(gate.recover() && !gate.is_paused());
    }
}
