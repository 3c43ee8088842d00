//! Per-host politeness: a concurrency limit, a minimum gap between requests, and a pause
//! when a host answers 429/503 with `Retry-After`. Feeds and article pages share it, so a
//! site is never hit harder than configured, whatever mix of work is queued for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Longest pause one `Retry-After` may impose on a host (a bogus header cannot stall it for
/// a year).
const MAX_PAUSE: Duration = Duration::from_secs(6 * 3600);

#[derive(Clone)]
pub struct HostLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    per_host: usize,
    delay: Duration,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
}

struct HostState {
    slots: Arc<Semaphore>,
    /// Earliest start of the next request (the delay ledger and any Retry-After pause).
    next_start: Mutex<Instant>,
}

/// Held while a request runs; dropping it frees the host and global slots.
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl HostLimiter {
    pub fn new(per_host: usize, delay: Duration, global: usize) -> HostLimiter {
        HostLimiter {
            inner: Arc::new(Inner {
                per_host: per_host.max(1),
                delay,
                global: Arc::new(Semaphore::new(global.max(1))),
                hosts: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn state(&self, host: &str) -> Arc<HostState> {
        let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                Arc::new(HostState {
                    slots: Arc::new(Semaphore::new(self.inner.per_host)),
                    next_start: Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    /// Waits for a slot on `host` (FIFO), then for the host's next allowed start time.
    pub async fn acquire(&self, host: &str) -> Permit {
        let state = self.state(host);
        let host_permit = state
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphore is never closed");
        loop {
            let wait_until = {
                let mut next = state.next_start.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                if *next <= now {
                    *next = now + self.inner.delay;
                    None
                } else {
                    Some(*next)
                }
            };
            match wait_until {
                None => break,
                Some(t) => tokio::time::sleep_until(t).await,
            }
        }
        let global = self
            .inner
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("global semaphore is never closed");
        Permit {
            _host: host_permit,
            _global: global,
        }
    }

    /// Pauses every request to `host` for `wait` (capped), e.g. after 429 + Retry-After.
    pub fn pause(&self, host: &str, wait: Duration) {
        let state = self.state(host);
        let mut next = state.next_start.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + wait.min(MAX_PAUSE);
        if until > *next {
            *next = until;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_by_the_delay() {
        let limiter = HostLimiter::new(1, Duration::from_millis(500), 8);
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _p = limiter.acquire("a.example").await;
            starts.push(start.elapsed());
        }
        assert_eq!(
            starts,
            [
                Duration::ZERO,
                Duration::from_millis(500),
                Duration::from_millis(1000)
            ]
        );
        // Another host is not slowed by the first one's ledger.
        let t = Instant::now();
        let _p = limiter.acquire("b.example").await;
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_the_whole_host() {
        let limiter = HostLimiter::new(2, Duration::ZERO, 8);
        limiter.pause("a.example", Duration::from_secs(120));
        let t = Instant::now();
        let _p = limiter.acquire("a.example").await;
        assert_eq!(t.elapsed(), Duration::from_secs(120));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_per_host_is_capped() {
        let limiter = HostLimiter::new(2, Duration::ZERO, 8);
        let a = limiter.acquire("h").await;
        let _b = limiter.acquire("h").await;
        let l2 = limiter.clone();
        let third = tokio::spawn(async move {
            let _c = l2.acquire("h").await;
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!third.is_finished(), "a third request must wait for a slot");
        drop(a);
        third.await.unwrap();
    }
}
